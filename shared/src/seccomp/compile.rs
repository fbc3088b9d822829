//! Policy → classic BPF.
//!
//! Layout: check the architecture (and, on x86_64, the x32 bit), load the syscall number, then
//! a balanced binary search over ranges of numbers that share an outcome (adjacent numbers
//! with the same action collapse into one range), so a 300-entry allow-list costs about ten
//! comparisons instead of three hundred. A leaf either returns, or checks argument conditions
//! rule by rule, comparing 64-bit arguments as two 32-bit halves.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::arch::{Arch, X32_SYSCALL_BIT};
use super::bpf::*;
use super::policy::{Action, ArgCond, Cmp, Policy, Rule};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompileError {
    /// The program would have this many instructions, over the kernel's 4096.
    TooLong(usize),
    /// An argument index above 5.
    BadArg(u8),
    /// An errno above 4095 (the kernel's MAX_ERRNO).
    BadErrno(u16),
    /// The rules of this system call have too many conditions to reach with 8-bit jumps.
    TooComplex(u32),
}

const MAX_ERRNO: u16 = 4095;

/// What a range of system call numbers leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome<'a> {
    Ret(u32),
    /// The rules of one system call, up to its first unconditional one.
    Args(Vec<&'a Rule>),
}

/// `[lo, next segment's lo)` → outcome.
#[derive(Debug)]
struct Segment<'a> {
    lo: u32,
    outcome: Outcome<'a>,
}

pub fn compile(p: &Policy) -> Result<Vec<Insn>, CompileError> {
    validate(p)?;
    let mut prog = Vec::new();
    let foreign = p.foreign.ret();
    prog.push(Insn::load(OFF_ARCH));
    prog.push(Insn::jump(JEQ, p.arch.audit(), 1, 0));
    prog.push(Insn::ret(foreign));
    prog.push(Insn::load(OFF_NR));
    if p.arch == Arch::X86_64 {
        // x32 calls carry the x32 bit; -1 (all bits, what tracers use to skip a call) is not one.
        prog.push(Insn::jump(JGE, X32_SYSCALL_BIT, 0, 2));
        prog.push(Insn::jump(JEQ, u32::MAX, 1, 0));
        prog.push(Insn::ret(foreign));
    }
    let segments = segments(p);
    prog.extend(tree(&segments, p.default.ret())?);
    if prog.len() > MAX_INSNS {
        return Err(CompileError::TooLong(prog.len()));
    }
    Ok(prog)
}

/// The program as the kernel reads it (`sock_fprog.filter`).
pub fn to_bytes(prog: &[Insn]) -> Vec<u8> {
    prog.iter().flat_map(|i| i.to_bytes()).collect()
}

fn validate(p: &Policy) -> Result<(), CompileError> {
    let actions = p
        .rules
        .iter()
        .map(|r| r.action)
        .chain([p.default, p.foreign]);
    for a in actions {
        if let Action::Errno(e) = a
            && e > MAX_ERRNO
        {
            return Err(CompileError::BadErrno(e));
        }
    }
    match p.rules.iter().flat_map(|r| &r.conds).find(|c| c.arg > 5) {
        Some(c) => Err(CompileError::BadArg(c.arg)),
        None => Ok(()),
    }
}

fn segments<'a>(p: &'a Policy) -> Vec<Segment<'a>> {
    let mut by_nr: BTreeMap<u32, Vec<&'a Rule>> = BTreeMap::new();
    for r in &p.rules {
        by_nr.entry(r.nr).or_default().push(r);
    }
    let default = p.default.ret();
    let mut out: Vec<Segment<'a>> = Vec::new();
    let mut push = |lo: u32, outcome: Outcome<'a>| {
        // Neighbours that simply return the same value are one range.
        if let (Some(last), Outcome::Ret(v)) = (out.last(), &outcome)
            && last.outcome == Outcome::Ret(*v)
        {
            return;
        }
        out.push(Segment { lo, outcome });
    };
    let mut next = Some(0u32);
    for (nr, mut rules) in by_nr {
        if next.is_some_and(|n| n < nr) {
            push(next.unwrap_or(0), Outcome::Ret(default));
        }
        // Rules after an unconditional one can never decide.
        if let Some(i) = rules.iter().position(|r| r.conds.is_empty()) {
            rules.truncate(i + 1);
        }
        let outcome = if rules[0].conds.is_empty() {
            Outcome::Ret(rules[0].action.ret())
        } else {
            Outcome::Args(rules)
        };
        push(nr, outcome);
        next = nr.checked_add(1);
    }
    if let Some(n) = next {
        push(n, Outcome::Ret(default));
    }
    out
}

/// The binary search over `segs`, with the syscall number in the accumulator.
fn tree(segs: &[Segment<'_>], default: u32) -> Result<Vec<Insn>, CompileError> {
    if let [only] = segs {
        return match &only.outcome {
            Outcome::Ret(v) => Ok(alloc::vec![Insn::ret(*v)]),
            Outcome::Args(rules) => arg_checks(rules, default),
        };
    }
    let mid = segs.len() / 2;
    let (left, right) = (tree(&segs[..mid], default)?, tree(&segs[mid..], default)?);
    let split = segs[mid].lo;
    let mut out = Vec::with_capacity(left.len() + right.len() + 2);
    match u8::try_from(left.len()) {
        Ok(skip) => out.push(Insn::jump(JGE, split, skip, 0)),
        Err(_) => {
            // Too far for an 8-bit jump: hop over an unconditional long jump instead.
            out.push(Insn::jump(JGE, split, 0, 1));
            out.push(Insn::stmt(JMP | JA, left.len() as u32));
        }
    }
    out.extend(left);
    out.extend(right);
    Ok(out)
}

/// Where a conditional jump goes, resolved once a rule's block is laid out.
#[derive(Debug, Clone, Copy)]
enum To {
    Next,
    /// Past the last instruction of the current condition: it holds.
    CondEnd,
    /// To the next rule: this one does not apply.
    Fail,
}

enum Item {
    Stmt(Insn),
    Jump {
        op: u16,
        k: u32,
        jt: To,
        jf: To,
        cond_end: usize,
    },
}

fn arg_checks(rules: &[&Rule], default: u32) -> Result<Vec<Insn>, CompileError> {
    let mut out = Vec::new();
    for rule in rules {
        let mut items = Vec::new();
        for c in &rule.conds {
            cond(&mut items, c);
        }
        let fail = items.len() + 1;
        for (i, item) in items.iter().enumerate() {
            out.push(match *item {
                Item::Stmt(insn) => insn,
                Item::Jump {
                    op,
                    k,
                    jt,
                    jf,
                    cond_end,
                } => {
                    let off = |to| match to {
                        To::Next => Some(0u8),
                        To::CondEnd => u8::try_from(cond_end - (i + 1)).ok(),
                        To::Fail => u8::try_from(fail - (i + 1)).ok(),
                    };
                    let (Some(jt), Some(jf)) = (off(jt), off(jf)) else {
                        return Err(CompileError::TooComplex(rule.nr));
                    };
                    Insn::jump(op, k, jt, jf)
                }
            });
        }
        out.push(Insn::ret(rule.action.ret()));
    }
    if rules.last().is_some_and(|r| !r.conds.is_empty()) {
        out.push(Insn::ret(default));
    }
    Ok(out)
}

/// Appends the check of one 64-bit condition: high half first, low half only when the high
/// halves are equal.
fn cond(items: &mut Vec<Item>, c: &ArgCond) {
    let (lo, hi) = arg_halves(c.arg);
    let (v_hi, v_lo) = ((c.value >> 32) as u32, c.value as u32);
    let start = items.len();
    let mut seq: Vec<Item> = Vec::with_capacity(6);
    let j = |op, k, jt, jf| Item::Jump {
        op,
        k,
        jt,
        jf,
        cond_end: 0,
    };
    use To::*;
    match c.cmp {
        Cmp::Eq => seq.extend([
            Item::Stmt(Insn::load(hi)),
            j(JEQ, v_hi, Next, Fail),
            Item::Stmt(Insn::load(lo)),
            j(JEQ, v_lo, Next, Fail),
        ]),
        Cmp::MaskedEq(m) => {
            let (m_hi, m_lo) = ((m >> 32) as u32, m as u32);
            // A half the mask ignores, that must be zero, always matches: skip it. A mask of
            // all ones needs no `and`. (The common case: int-sized arguments.)
            for (off, mask, value) in [(hi, m_hi, v_hi), (lo, m_lo, v_lo)] {
                if mask == 0 && value == 0 {
                    continue;
                }
                seq.push(Item::Stmt(Insn::load(off)));
                if mask != u32::MAX {
                    seq.push(Item::Stmt(Insn::stmt(ALU | AND | K, mask)));
                }
                seq.push(j(JEQ, value, Next, Fail));
            }
        }
        Cmp::Ne => seq.extend([
            Item::Stmt(Insn::load(hi)),
            j(JEQ, v_hi, Next, CondEnd),
            Item::Stmt(Insn::load(lo)),
            j(JEQ, v_lo, Fail, Next),
        ]),
        Cmp::Gt | Cmp::Ge => seq.extend([
            Item::Stmt(Insn::load(hi)),
            j(JGT, v_hi, CondEnd, Next),
            j(JEQ, v_hi, Next, Fail),
            Item::Stmt(Insn::load(lo)),
            j(if c.cmp == Cmp::Gt { JGT } else { JGE }, v_lo, Next, Fail),
        ]),
        Cmp::Lt | Cmp::Le => seq.extend([
            Item::Stmt(Insn::load(hi)),
            j(JGT, v_hi, Fail, Next),
            j(JEQ, v_hi, Next, CondEnd),
            Item::Stmt(Insn::load(lo)),
            j(if c.cmp == Cmp::Lt { JGE } else { JGT }, v_lo, Fail, Next),
        ]),
    }
    let end = start + seq.len();
    items.extend(seq.into_iter().map(|it| match it {
        Item::Jump { op, k, jt, jf, .. } => Item::Jump {
            op,
            k,
            jt,
            jf,
            cond_end: end,
        },
        stmt => stmt,
    }));
}
