//! A classic-BPF interpreter over `seccomp_data`, for tests and `seccomp explain`: what would
//! the kernel decide for this system call?

use super::bpf::*;

/// `struct seccomp_data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeccompData {
    pub nr: u32,
    pub arch: u32,
    pub ip: u64,
    pub args: [u64; 6],
}

impl SeccompData {
    /// The 32-bit word at `offset`, as `BPF_LD|BPF_W|BPF_ABS` reads it.
    fn word(&self, offset: u32) -> Option<u32> {
        let mut bytes = [0u8; 64];
        bytes[0..4].copy_from_slice(&self.nr.to_ne_bytes());
        bytes[4..8].copy_from_slice(&self.arch.to_ne_bytes());
        bytes[8..16].copy_from_slice(&self.ip.to_ne_bytes());
        for (i, a) in self.args.iter().enumerate() {
            bytes[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_ne_bytes());
        }
        let o = offset as usize;
        if !o.is_multiple_of(4) || o + 4 > bytes.len() {
            return None;
        }
        Some(u32::from_ne_bytes([
            bytes[o],
            bytes[o + 1],
            bytes[o + 2],
            bytes[o + 3],
        ]))
    }
}

/// Why a program could not be run to a return value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterpError {
    /// Jumped or fell past the end.
    OutOfBounds(usize),
    /// An opcode the seccomp verifier would refuse, or one we do not model.
    BadInstruction(usize),
    /// A load outside `seccomp_data`, or misaligned.
    BadLoad(usize),
}

/// Runs `prog` on `data` and returns the `SECCOMP_RET_*` value.
pub fn run(prog: &[Insn], data: &SeccompData) -> Result<u32, InterpError> {
    let mut acc: u32 = 0;
    let mut pc = 0usize;
    // Jumps only go forward, so every step moves pc up and this terminates.
    loop {
        let insn = *prog.get(pc).ok_or(InterpError::OutOfBounds(pc))?;
        let next = pc + 1;
        pc = match insn.code {
            c if c == LD | W | ABS => {
                acc = data.word(insn.k).ok_or(InterpError::BadLoad(pc))?;
                next
            }
            c if c == ALU | AND | K => {
                acc &= insn.k;
                next
            }
            c if c == RET | K => return Ok(insn.k),
            c if c == JMP | JA => next + insn.k as usize,
            c if c & 0x07 == JMP && c & 0x08 == K => {
                let taken = match c & 0xf0 {
                    JEQ => acc == insn.k,
                    JGT => acc > insn.k,
                    JGE => acc >= insn.k,
                    JSET => acc & insn.k != 0,
                    _ => return Err(InterpError::BadInstruction(pc)),
                };
                next + usize::from(if taken { insn.jt } else { insn.jf })
            }
            _ => return Err(InterpError::BadInstruction(pc)),
        };
    }
}
