//! nucleus-launch: the host-side launcher of nucleus sandboxes.
#![deny(unsafe_code)]

mod audit;
mod backend;
mod cgroup;
mod cli;
mod config;
mod doctor;
mod enforcement;
mod error;
mod kmsg;
mod landlock;
mod lifecycle;
mod oci;
mod plan;
mod report;
mod seccomp;
mod state;
mod sys;
mod tty;
mod userns;

use std::process::ExitCode;

use error::{Error, exit};

fn main() -> ExitCode {
    let matches = match cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return ExitCode::from(exit::RUNTIME as u8);
        }
        Err(e) => {
            report_error(&Error::usage(one_line(&e.render().to_string())));
            return ExitCode::from(exit::RUNTIME as u8);
        }
    };
    init_logging(matches.get_one::<String>("log-level").map(String::as_str));
    let global = lifecycle::cli::Global::from(&matches);
    let result = match cli::invocation(&matches) {
        cli::Invocation::Run(args) => {
            let (detach, auto_remove) = (args.detach, args.auto_remove);
            let policy = args.policy.clone();
            config::Config::from_args(*args, |k| std::env::var(k).ok()).and_then(|cfg| {
                if detach {
                    lifecycle::run_detached(
                        &cfg,
                        auto_remove,
                        global.root.as_deref(),
                        std::env::args().skip(1).collect(),
                        policy.as_deref(),
                    )
                } else {
                    backend::run(&cfg)
                }
            })
        }
        cli::Invocation::Lifecycle(cmd) => lifecycle::dispatch(cmd, &global),
        cli::Invocation::SeccompExplain {
            profile,
            call,
            allow,
        } => seccomp_explain(&profile, call.as_deref(), &allow),
        cli::Invocation::SeccompGenerate { traces, output } => seccomp_generate(&traces, &output),
        cli::Invocation::Stats(args) => lifecycle::stats(&args, &global),
        cli::Invocation::Doctor { json } => {
            let checks = doctor::checks();
            print!(
                "{}",
                if json {
                    doctor::render_json(&checks) + "\n"
                } else {
                    doctor::render_table(&checks)
                }
            );
            Ok(0)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            report_error(&e);
            global.log_error(&e.to_string());
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// clap's message as one line: its first paragraph, without the "error: " prefix and the usage.
fn one_line(rendered: &str) -> String {
    let first: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let text = first.join(" ");
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    format!("{text} (see nucleus-launch --help)")
}

fn seccomp_explain(profile: &str, call: Option<&str>, allow: &[String]) -> Result<i32, Error> {
    let ctx = seccomp::Context {
        arch: seccomp::native_arch()?,
        caps: Vec::new(),
        kernel: seccomp::kernel_version(),
    };
    let text = seccomp::explain::explain(&seccomp::Choice::parse(profile)?, allow, &ctx, call)?;
    print!("{text}");
    Ok(0)
}

fn seccomp_generate(traces: &[String], output: &str) -> Result<i32, Error> {
    let arch = seccomp::native_arch()?;
    let traces = traces
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::io(format!("reading the trace {path}"), e))?;
            seccomp::trace::Trace::from_ndjson(&text)
                .map_err(|e| Error::usage(format!("trace {path}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let lost: u64 = traces.iter().map(|t| t.lost()).sum();
    if lost > 0 {
        eprintln!(
            "nucleus-launch: the traces lost {lost} records; the profile may miss calls they made"
        );
    }
    let profile = seccomp::generate::generate(&traces, arch);
    let text = serde_json::to_string_pretty(&profile)
        .map_err(|e| Error::runtime(format!("encoding the profile: {e}")))?;
    std::fs::write(output, text + "\n").map_err(|e| Error::io(format!("writing {output}"), e))?;
    Ok(0)
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
