//! A readable listing of a compiled program, for `nucleus-launch seccomp explain`.

use alloc::format;
use alloc::string::String;

use super::bpf::*;
use super::policy::Action;

fn offset_name(k: u32) -> String {
    match k {
        OFF_NR => "nr".into(),
        OFF_ARCH => "arch".into(),
        8 => "ip".into(),
        12 => "ip_hi".into(),
        k if (OFF_ARGS..OFF_ARGS + 48).contains(&k) => {
            let i = (k - OFF_ARGS) / 8;
            let (lo, _) = arg_halves(i as u8);
            format!("args[{i}].{}", if k == lo { "lo" } else { "hi" })
        }
        k => format!("[{k}]"),
    }
}

/// The action a return value stands for, as `seccomp explain` prints it.
pub fn ret_name(k: u32) -> String {
    match Action::from_ret(k) {
        Some(Action::Allow) => "ALLOW".into(),
        Some(Action::Errno(e)) => format!("ERRNO({e})"),
        Some(Action::KillProcess) => "KILL_PROCESS".into(),
        Some(Action::KillThread) => "KILL_THREAD".into(),
        Some(Action::Trap) => "TRAP".into(),
        Some(Action::Log) => "LOG".into(),
        Some(Action::UserNotif) => "USER_NOTIF".into(),
        Some(Action::Trace(v)) => format!("TRACE({v})"),
        None => format!("{k:#x}"),
    }
}

/// One line for instruction `pc`: its index, mnemonic, operand and jump targets.
pub fn line(pc: usize, i: &Insn) -> String {
    let target = |off: u8| pc + 1 + usize::from(off);
    let cond = |name: &str| {
        format!(
            "{pc:04}: {name} #{:#x}\tjt {:04}  jf {:04}",
            i.k,
            target(i.jt),
            target(i.jf)
        )
    };
    match i.code {
        c if c == LD | W | ABS => format!("{pc:04}: ld  {}", offset_name(i.k)),
        c if c == ALU | AND | K => format!("{pc:04}: and #{:#x}", i.k),
        c if c == RET | K => format!("{pc:04}: ret {}", ret_name(i.k)),
        c if c == JMP | JA => format!("{pc:04}: ja  {:04}", pc + 1 + i.k as usize),
        c if c == JMP | JEQ | K => cond("jeq"),
        c if c == JMP | JGT | K => cond("jgt"),
        c if c == JMP | JGE | K => cond("jge"),
        c if c == JMP | JSET | K => cond("jset"),
        c => format!(
            "{pc:04}: .code {c:#06x} jt {} jf {} k {:#x}",
            i.jt, i.jf, i.k
        ),
    }
}
