//! Entry point: the app without a subcommand, the CLI with one.

use clap::Parser;

fn main() {
    let args = banana_studio::cli::Args::parse();
    // The CLI prints a failure once, itself; the engine's own lines about it go to the
    // log file, and only what is meant for the user (notices) or an error reaches stderr.
    let filter = if args.command.is_some() {
        "error,banana_studio::notice=warn"
    } else {
        "info"
    };
    let env_filter = tracing_subscriber::EnvFilter::try_from_env("BANANA_STUDIO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    // The log file rotates daily and keeps a week; it is written off the calling thread.
    let _log_guard = banana_studio::logs::init(&args.data_dir(), env_filter);
    if args.command.is_none() {
        // The window runs for hours through hundreds of full-size images.
        banana_studio::allocator::pin_mmap_threshold();
    }
    let code = if args.command.is_some() {
        banana_studio::cli::run(args)
    } else {
        match args.engine_config() {
            Ok(config) => banana_studio::gui::run(config),
            Err(message) => {
                tracing::error!("cannot start: {message}");
                eprintln!("error: {message}");
                2
            }
        }
    };
    std::process::exit(code);
}
