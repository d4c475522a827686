//! `banana-studio keys set PROVIDER | remove PROVIDER | status [--json]`: the key is read
//! from stdin (without echo on a terminal) and never printed.

use super::out;
use std::io::{BufRead, IsTerminal};

use clap::Subcommand;
use serde_json::json;

use super::{Args, JsonFlag};
use crate::keys::Secret;
use crate::recipe::ProviderId;

/// What to do with keys.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Store a provider's key in the OS keychain; the key is read from stdin.
    Set {
        /// gemini, fal, eachlabs, oxen or vydra.
        provider: ProviderId,
    },
    /// Remove a provider's key from the keychain.
    Remove {
        /// gemini, fal, eachlabs, oxen or vydra.
        provider: ProviderId,
    },
    /// Where each provider's key comes from (never the key itself).
    Status {
        #[command(flatten)]
        output: JsonFlag,
    },
}

fn read_key() -> Result<String, String> {
    if std::io::stdin().is_terminal() {
        eprint!("Paste the key and press Enter (it is not shown): ");
        rpassword::read_password().map_err(|e| format!("could not read the key: {e}"))
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("could not read the key from stdin: {e}"))?;
        Ok(line)
    }
}

/// Runs `keys`; returns the exit code (2 for an empty key).
pub fn run(args: &Args, command: &KeysCommand) -> i32 {
    let keys = args.key_source();
    if let Some(notice) = keys.notice() {
        eprintln!("warning: {notice}");
    }
    match command {
        KeysCommand::Set { provider } => {
            let key = match read_key() {
                Ok(k) => Secret::new(k),
                Err(e) => {
                    eprintln!("error: {e}");
                    return 6;
                }
            };
            if key.expose().is_empty() {
                eprintln!("error: no key on stdin: paste the key, or pipe it in");
                return 2;
            }
            match keys.save(*provider, &key) {
                Ok(origin) => {
                    out!("{} key saved: {origin}", provider.label());
                    if let (_, crate::keys::KeyOrigin::Env(name)) = keys.key(*provider) {
                        eprintln!(
                            "note: the environment variable {name} is set and is used before the keychain"
                        );
                    }
                    0
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    6
                }
            }
        }
        KeysCommand::Remove { provider } => match keys.remove(*provider) {
            Ok(()) => {
                out!("{} key removed from the keychain", provider.label());
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                6
            }
        },
        KeysCommand::Status { output } => {
            for provider in ProviderId::ALL {
                let (_, origin) = keys.key(provider);
                if output.json {
                    out!(
                        "{}",
                        json!({"provider": provider, "source": origin.kind(), "detail": origin.to_string()})
                    );
                } else {
                    out!("{:<11} {origin}", provider.label());
                }
            }
            0
        }
    }
}
