//! Classic BPF as seccomp uses it: the instruction format, the opcodes we emit, the layout of
//! `struct seccomp_data` and the return values.

/// One `struct sock_filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// The kernel refuses longer programs (BPF_MAXINSNS).
pub const MAX_INSNS: usize = 4096;
/// Bytes per instruction in a serialised program.
pub const INSN_BYTES: usize = 8;

// Instruction classes, sizes, modes, operations and sources (linux/bpf_common.h).
pub const LD: u16 = 0x00;
pub const ALU: u16 = 0x04;
pub const JMP: u16 = 0x05;
pub const RET: u16 = 0x06;
pub const W: u16 = 0x00;
pub const ABS: u16 = 0x20;
pub const AND: u16 = 0x50;
pub const JA: u16 = 0x00;
pub const JEQ: u16 = 0x10;
pub const JGT: u16 = 0x20;
pub const JGE: u16 = 0x30;
pub const JSET: u16 = 0x40;
pub const K: u16 = 0x00;

// `struct seccomp_data` offsets.
pub const OFF_NR: u32 = 0;
pub const OFF_ARCH: u32 = 4;
pub const OFF_ARGS: u32 = 16;

/// Offsets of the low and high 32-bit halves of argument `i` (the words of a 64-bit value).
pub const fn arg_halves(i: u8) -> (u32, u32) {
    let base = OFF_ARGS + 8 * i as u32;
    if cfg!(target_endian = "little") {
        (base, base + 4)
    } else {
        (base + 4, base)
    }
}

// SECCOMP_RET_* (linux/seccomp.h).
pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
pub const RET_KILL_THREAD: u32 = 0x0000_0000;
pub const RET_TRAP: u32 = 0x0003_0000;
pub const RET_ERRNO: u32 = 0x0005_0000;
pub const RET_USER_NOTIF: u32 = 0x7fc0_0000;
pub const RET_TRACE: u32 = 0x7ff0_0000;
pub const RET_LOG: u32 = 0x7ffc_0000;
pub const RET_ALLOW: u32 = 0x7fff_0000;
pub const RET_ACTION_FULL: u32 = 0xffff_0000;
pub const RET_DATA: u32 = 0x0000_ffff;

impl Insn {
    pub const fn stmt(code: u16, k: u32) -> Self {
        Insn {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }

    pub const fn jump(op: u16, k: u32, jt: u8, jf: u8) -> Self {
        Insn {
            code: JMP | op | K,
            jt,
            jf,
            k,
        }
    }

    pub const fn load(offset: u32) -> Self {
        Insn::stmt(LD | W | ABS, offset)
    }

    pub const fn ret(value: u32) -> Self {
        Insn::stmt(RET | K, value)
    }

    /// The kernel's in-memory layout (native endianness), as `sock_fprog` points to it.
    pub fn to_bytes(self) -> [u8; INSN_BYTES] {
        let mut b = [0u8; INSN_BYTES];
        b[..2].copy_from_slice(&self.code.to_ne_bytes());
        b[2] = self.jt;
        b[3] = self.jf;
        b[4..].copy_from_slice(&self.k.to_ne_bytes());
        b
    }

    pub fn from_bytes(b: &[u8; INSN_BYTES]) -> Self {
        Insn {
            code: u16::from_ne_bytes([b[0], b[1]]),
            jt: b[2],
            jf: b[3],
            k: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
        }
    }
}

/// Iterates the instructions of a serialised program; `None` if its length is not a multiple
/// of the instruction size.
pub fn decode(bytes: &[u8]) -> Option<impl Iterator<Item = Insn> + '_> {
    if !bytes.len().is_multiple_of(INSN_BYTES) {
        return None;
    }
    Some(bytes.chunks_exact(INSN_BYTES).map(|c| {
        let mut b = [0u8; INSN_BYTES];
        b.copy_from_slice(c);
        Insn::from_bytes(&b)
    }))
}
