//! `nucleus-launch seccomp explain`: the compiled program, and what it decides for a call.

use std::fmt::Write as _;

use nucleus_shared::seccomp::compile::compile;
use nucleus_shared::seccomp::disasm;
use nucleus_shared::seccomp::interp::{SeccompData, run};
use nucleus_shared::seccomp::tables;

use super::{Choice, Context, compile_error, policy};
use crate::error::Error;

/// `NAME` or `NAME:ARG0,ARG1,...` (decimal or 0x hex).
fn parse_call(ctx: &Context, raw: &str) -> Result<(String, u32, [u64; 6]), Error> {
    let (name, args) = raw.split_once(':').unwrap_or((raw, ""));
    let nr = tables::number(ctx.arch, name).ok_or_else(|| {
        Error::usage(format!(
            "seccomp explain: unknown system call {name:?} on {}",
            ctx.arch.name()
        ))
    })?;
    let mut values = [0u64; 6];
    for (i, a) in args.split(',').filter(|a| !a.is_empty()).enumerate() {
        let bad = || {
            Error::usage(format!(
                "seccomp explain: argument {i} of {raw:?} is not a number"
            ))
        };
        let slot = values.get_mut(i).ok_or_else(|| {
            Error::usage(format!(
                "seccomp explain: {raw:?} has more than 6 arguments"
            ))
        })?;
        *slot = match a.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).map_err(|_| bad())?,
            None => a.parse().map_err(|_| bad())?,
        };
    }
    Ok((name.to_owned(), nr, values))
}

/// The report as text: the listing, or (with `call`) the decision for that call.
pub fn explain(
    choice: &Choice,
    allow: &[String],
    ctx: &Context,
    call: Option<&str>,
) -> Result<String, Error> {
    let Some(p) = policy(choice, allow, ctx)? else {
        return Ok("unconfined: no seccomp program is installed\n".into());
    };
    let prog = compile(&p).map_err(compile_error)?;
    let mut out = String::new();
    match call {
        Some(raw) => {
            let (name, nr, args) = parse_call(ctx, raw)?;
            let d = SeccompData {
                nr,
                arch: ctx.arch.audit(),
                ip: 0,
                args,
            };
            let ret = run(&prog, &d).map_err(|e| {
                Error::runtime(format!("seccomp explain: the program is invalid: {e:?}"))
            })?;
            let conditional = p.rules.iter().any(|r| r.nr == nr && !r.conds.is_empty());
            let _ = writeln!(
                out,
                "{name} (nr {nr}, {}): {}",
                ctx.arch.name(),
                disasm::ret_name(ret)
            );
            if conditional {
                let _ = writeln!(
                    out,
                    "  (decided by argument filters; arguments used: {args:?})"
                );
            }
        }
        None => {
            let _ = writeln!(out, "# {} instructions for {}", prog.len(), ctx.arch.name());
            for (pc, insn) in prog.iter().enumerate() {
                let _ = writeln!(out, "{}", disasm::line(pc, insn));
            }
        }
    }
    Ok(out)
}
