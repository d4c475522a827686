//! The headless command line, over the same engine and library as the app.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod batch;
mod batch_deferred;
mod export;
mod generate;
mod history;
mod keys;
mod models;
mod prompts;
mod refine;

use std::path::PathBuf;
use std::sync::Arc;

/// `println!` for the CLI's results: a closed stdout (`| head`) ends the process
/// quietly instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_line(format_args!($($arg)*))
    };
}
pub(crate) use out;

/// Writes one line to stdout; a reader that went away ends the process with 0, as
/// other Unix tools do, and any other write failure with 6 and a word on stderr.
pub(crate) fn write_line(args: std::fmt::Arguments) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let written = writeln!(stdout, "{args}").and_then(|()| stdout.flush());
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("error: could not write the output: {e}");
            std::process::exit(6);
        }
    }
}

use clap::{Args as ClapArgs, Parser, Subcommand};

use crate::engine::{Engine, EngineConfig};
use crate::keys::{KeySource, Keyring};
use crate::library::default_data_dir;

/// Command-line arguments (the contract in ARCHITECTURE.md).
#[derive(Debug, Parser)]
#[command(
    name = "banana-studio",
    version,
    about = "A desktop studio for Google's Nano Banana image models"
)]
pub struct Args {
    /// The library folder (images and history).
    #[arg(
        long,
        global = true,
        env = "BANANA_STUDIO_DATA_DIR",
        value_name = "DIR"
    )]
    pub data_dir: Option<PathBuf>,
    /// Use the offline sandbox even where a key is set.
    #[arg(long, global = true)]
    pub sandbox: bool,
    /// What to do; without one, the app opens.
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Args {
    /// The library folder: the flag, the variable, or the OS default.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(default_data_dir)
    }

    /// Where keys come from: environment variables, then the OS keychain. With
    /// `BANANA_STUDIO_KEYSTORE=memory` no keychain is touched (tests, CI, shared machines):
    /// keys then live for this run only.
    pub fn key_source(&self) -> Arc<dyn KeySource> {
        if std::env::var("BANANA_STUDIO_KEYSTORE").is_ok_and(|v| v == "memory") {
            let env: crate::keys::EnvLookup = Arc::new(|name| std::env::var(name).ok());
            return Arc::new(Keyring::new(
                None,
                Some("BANANA_STUDIO_KEYSTORE=memory asks for no keychain".to_owned()),
                env,
            ));
        }
        Arc::new(Keyring::platform())
    }

    /// The engine configuration these arguments ask for, with keys from `key_source`;
    /// the base URLs and jobs at once of Settings, an environment override winning.
    /// The message names the variable or Settings field that is wrong.
    pub fn engine_config(&self) -> Result<EngineConfig, crate::providers::origin::BaseUrlError> {
        let mut config = EngineConfig::new(self.data_dir(), self.key_source());
        config.force_sandbox = self.sandbox;
        // Only a provider without a key (or every one, with --sandbox) starts its stand-in.
        config.sandbox = Some(crate::sandbox::host());
        let (settings, problem) = crate::settings::Settings::load(&config.data_dir);
        if let Some(problem) = problem {
            eprintln!("warning: {problem}");
        }
        let env = |name: &str| std::env::var(name).ok();
        config.configured(&settings, &env)
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make images from a prompt.
    Generate(generate::GenerateArgs),
    /// Continue from a stored image: the next step of its conversation.
    Refine(refine::RefineArgs),
    /// List earlier generations, newest first.
    History(history::HistoryArgs),
    /// Write stored images to a folder, with their recipe embedded.
    Export(export::ExportArgs),
    /// List the models of a provider (catalog merged with the live list).
    Models(models::ModelsArgs),
    /// Keep API keys in the OS keychain: set, remove, status.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// List the prompt templates (bundled and yours) and their [SLOTS].
    Templates(prompts::ListArgs),
    /// List the styles (bundled and yours).
    Styles(prompts::ListArgs),
    /// List the brand kits, or add one.
    Brands(prompts::BrandsArgs),
    /// Make many jobs from a .txt, .csv or .jsonl file, checked first, then run.
    Batch(batch::BatchArgs),
}

/// Output options shared by commands.
#[derive(Debug, Clone, ClapArgs)]
pub struct JsonFlag {
    /// Print one JSON object per line.
    #[arg(long)]
    pub json: bool,
}

/// Runs a subcommand and returns the process exit code.
pub fn run(args: Args) -> i32 {
    let Some(command) = &args.command else {
        return 0;
    };
    match command {
        Command::Generate(g) => generate::run(&args, g),
        Command::Refine(r) => refine::run(&args, r),
        Command::History(h) => history::run(&args, h),
        Command::Models(m) => models::run(&args, m),
        Command::Export(e) => export::run(&args, e),
        Command::Keys(k) => keys::run(&args, k),
        Command::Templates(l) => prompts::run_templates(&args, l),
        Command::Styles(l) => prompts::run_styles(&args, l),
        Command::Brands(b) => prompts::run_brands(&args, b),
        Command::Batch(b) => batch::run(&args, b),
    }
}

/// Opens the library for a read-only command (without the engine, so a running app's
/// jobs are not marked interrupted), saying so when a damaged history was replaced.
fn open_library(args: &Args) -> Result<crate::library::Library, i32> {
    match crate::library::Library::open_checked(&args.data_dir()) {
        Ok((library, notice)) => {
            if let Some(notice) = notice {
                eprintln!("warning: {notice}");
            }
            Ok(library)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(6)
        }
    }
}

/// Starts the engine or explains why not (exit code 6).
fn start_engine(args: &Args) -> Result<Engine, i32> {
    let mut config = args.engine_config().map_err(|message| {
        eprintln!("error: {message}");
        2
    })?;
    // Nobody watches thoughts here: nothing streams.
    config.show_thinking = false;
    let engine = Engine::start(config).map_err(|e| {
        eprintln!("error: {e}");
        6
    })?;
    // Say at once if the history had to be recovered at start-up.
    while let Some(event) = engine.next_event(std::time::Duration::ZERO) {
        if let crate::engine::Event::LibraryFailed { message } = event {
            eprintln!("warning: {message}");
        }
    }
    Ok(engine)
}
