//! Logging: to stderr, and to a daily-rotating file under the data folder's `logs/`
//! (a week kept). Nothing logged carries a key: keys are `Secret`s that print `***`,
//! request logs name the URL with credential parameters redacted and never headers.

use std::path::Path;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Log files kept.
pub const KEEP_FILES: usize = 7;

/// The folder of the log files for a data folder.
pub fn dir(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("logs")
}

/// What the log file keeps: everything at info, and debug from every crate of ours (the
/// workspace's crates log under their own names).
const FILE_FILTER: &str = "info,banana_studio=debug,banana_core=debug,banana_imaging=debug,\
     banana_library=debug,banana_providers=debug,banana_keys=debug,banana_sandbox=debug,\
     banana_engine=debug";

/// Starts logging; keep the guard alive until exit so the file is flushed.
pub fn init(
    data_dir: &Path,
    stderr_filter: EnvFilter,
) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    // Colour only for a person at a terminal who did not ask for none.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let stderr = tracing_subscriber::fmt::layer()
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .with_filter(stderr_filter);
    // The appender prunes old files at start and complains if the folder is missing.
    let _ = std::fs::create_dir_all(dir(data_dir));
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("banana-studio")
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(dir(data_dir));
    match appender {
        Ok(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let file = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(EnvFilter::new(FILE_FILTER));
            tracing_subscriber::registry()
                .with(stderr)
                .with(file)
                .with(notices())
                .init();
            Some(guard)
        }
        Err(e) => {
            tracing_subscriber::registry()
                .with(stderr)
                .with(notices())
                .init();
            tracing::warn!("no log file: {e}");
            None
        }
    }
}

/// Log lines meant for the user also reach the window's notices.
fn notices() -> crate::notify::NoticeLayer {
    crate::notify::NoticeLayer::new(crate::notify::Notices::global())
}

#[cfg(test)]
mod tests {
    /// A crate added to the workspace logs to the file too.
    #[test]
    fn the_file_keeps_the_debug_lines_of_every_crate_of_ours() {
        let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates");
        let mut seen = 0;
        for entry in std::fs::read_dir(crates).unwrap_or_else(|e| panic!("crates/: {e}")) {
            let manifest = entry.map(|e| e.path().join("Cargo.toml")).ok();
            let Some(text) = manifest.and_then(|m| std::fs::read_to_string(m).ok()) else {
                continue;
            };
            let name = text
                .lines()
                .find_map(|l| l.strip_prefix("name = \""))
                .and_then(|l| l.strip_suffix('"'))
                .unwrap_or_else(|| panic!("no name in {text}"));
            let target = format!("{}=debug", name.replace('-', "_"));
            assert!(super::FILE_FILTER.contains(&target), "{target} is missing");
            seen += 1;
        }
        assert!(seen >= 7, "found {seen} crates");
    }
}
