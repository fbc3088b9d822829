//! nucleus-launch: the host-side launcher of nucleus sandboxes.
#![deny(unsafe_code)]

mod backend;
mod cli;
mod config;
mod error;
mod plan;
mod report;
mod sys;

use std::process::ExitCode;

use error::{Error, exit};

fn main() -> ExitCode {
    let matches = match cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            // --help and --version are successes; every other clap error is bad usage.
            let code = if e.use_stderr() { exit::RUNTIME } else { 0 };
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    init_logging(matches.get_one::<String>("log-level").map(String::as_str));
    let result = match cli::invocation(&matches) {
        cli::Invocation::Run(args) => config::Config::from_args(args, |k| std::env::var(k).ok())
            .and_then(|cfg| backend::native::run(&cfg)),
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            report_error(&e);
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn report_error(e: &Error) {
    eprintln!("nucleus-launch: {e}");
}

fn init_logging(level: Option<&str>) {
    let level = level
        .map(str::to_owned)
        .or_else(|| std::env::var("NUCLEUS_LOG").ok());
    let filter = match level.as_deref() {
        Some("error") => tracing::Level::ERROR,
        Some("info") => tracing::Level::INFO,
        Some("debug") => tracing::Level::DEBUG,
        Some("trace") => tracing::Level::TRACE,
        _ => tracing::Level::WARN,
    };
    tracing_subscriber::fmt()
        .with_max_level(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
