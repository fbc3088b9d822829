//! `ps` / `list` and `state`.

use serde_json::Value;

use crate::error::Error;
use crate::state::{Record, Root, Status};

/// `state ID`: the OCI state document.
pub fn state(root: &Root, id: &str) -> Result<i32, Error> {
    let record = root.load(id)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&record.oci_state()).expect("a JSON value always encodes")
    );
    Ok(0)
}

/// `ps [--format json] [-q]`.
pub fn list(root: &Root, json: bool, quiet: bool) -> Result<i32, Error> {
    let all = root.list();
    if quiet {
        for r in &all {
            println!("{}", r.id);
        }
    } else if json {
        let docs: Vec<Value> = all.iter().map(row_json).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&docs).expect("a JSON value always encodes")
        );
    } else {
        print!("{}", table(&all));
    }
    Ok(0)
}

fn row_json(r: &Record) -> Value {
    let mut doc = r.oci_state();
    doc["command"] = r.command.clone().into();
    doc["exitCode"] = r.exit_code.into();
    if let Some(cg) = &r.cgroup {
        doc["processes"] = crate::cgroup::pids(cg).unwrap_or_default().into();
    }
    doc
}

/// `status` of the state document, with the exit code once it is known.
fn status_text(state: &Value, exit_code: Option<i32>) -> String {
    let status = state["status"].as_str().unwrap_or_default();
    match exit_code {
        Some(code) if status == Status::Stopped.name() => format!("exited ({code})"),
        _ => status.to_owned(),
    }
}

fn table(all: &[Record]) -> String {
    let rows: Vec<[String; 5]> = all
        .iter()
        .map(|r| {
            let state = r.oci_state();
            [
                r.id.clone(),
                state["pid"].to_string(),
                status_text(&state, r.exit_code),
                state["created"]
                    .as_str()
                    .unwrap_or("")
                    .chars()
                    .take(19)
                    .collect(),
                shorten(&r.command.join(" "), 40),
            ]
        })
        .collect();
    let head = ["ID", "PID", "STATUS", "CREATED", "COMMAND"].map(str::to_owned);
    let mut width = [0usize; 5];
    for row in std::iter::once(&head).chain(&rows) {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&head).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(width)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        s.chars().take(max - 3).collect::<String>() + "..."
    }
}
