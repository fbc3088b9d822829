//! Status records: how init (or the launcher's own child before it becomes init) reports a
//! failed step on the close-on-exec status pipe. A successful `execve` of the workload closes
//! the pipe without a record.

/// The step that failed. The launcher adds the path from the plan operation it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Step {
    /// Executing init itself from its sealed memfd (reported by the launcher's child).
    ExecInit = 1,
    /// Reading the plan from its fd.
    ReadPlan = 2,
    /// The plan is malformed or from another build; `errno` holds a [`crate::wire::DecodeError`] code.
    DecodePlan = 3,
    /// Executing the plan operation `op`.
    Op = 4,
    /// Resolving the mount target or path of operation `op` beneath the new root.
    Resolve = 5,
    /// Forking the workload.
    Fork = 6,
    /// Entering the working directory.
    Chdir = 7,
    /// Switching to the requested user and group.
    SetUser = 8,
    /// `execve` of the workload.
    Exec = 9,
    /// Preparing init itself: signals, fds.
    InitSetup = 10,
    /// Setting no_new_privs and installing the workload's seccomp program.
    Seccomp = 11,
    /// Installing init's own seccomp program.
    InitSeccomp = 12,
    /// Dropping capabilities (bounding, permitted, effective, inheritable, ambient) and
    /// locking the securebits.
    Caps = 13,
    /// Setting resource limit number `op` of the plan's list.
    Rlimit = 14,
    /// Applying Landlock; `op` is the index of the rule at fault, or `NO_OP`.
    Landlock = 15,
    /// Creating a missing mount point (a directory) for operation `op`.
    MountPoint = 16,
    /// Not a failure: the sandbox is set up and waits for `start` (errno 0).
    Created = 17,
    /// Opening the pty of a `terminal` workload, or passing its master on `CONSOLE_FD`.
    Terminal = 18,
}

impl Step {
    pub fn from_u16(v: u16) -> Option<Self> {
        Some(match v {
            1 => Step::ExecInit,
            2 => Step::ReadPlan,
            3 => Step::DecodePlan,
            4 => Step::Op,
            5 => Step::Resolve,
            6 => Step::Fork,
            7 => Step::Chdir,
            8 => Step::SetUser,
            9 => Step::Exec,
            10 => Step::InitSetup,
            11 => Step::Seccomp,
            12 => Step::InitSeccomp,
            13 => Step::Caps,
            14 => Step::Rlimit,
            15 => Step::Landlock,
            16 => Step::MountPoint,
            17 => Step::Created,
            18 => Step::Terminal,
            _ => return None,
        })
    }
}

/// One failure: the step, the plan operation it concerns (or `NO_OP`), and the errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusRecord {
    pub step: Step,
    pub op: u16,
    pub errno: u32,
}

impl StatusRecord {
    pub const LEN: usize = 8;
    /// `op` for records that do not concern a plan operation.
    pub const NO_OP: u16 = u16::MAX;

    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut b = [0u8; Self::LEN];
        b[..2].copy_from_slice(&(self.step as u16).to_le_bytes());
        b[2..4].copy_from_slice(&self.op.to_le_bytes());
        b[4..].copy_from_slice(&self.errno.to_le_bytes());
        b
    }

    pub fn decode(b: &[u8; Self::LEN]) -> Option<Self> {
        Some(StatusRecord {
            step: Step::from_u16(u16::from_le_bytes([b[0], b[1]]))?,
            op: u16::from_le_bytes([b[2], b[3]]),
            errno: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        })
    }
}

/// The code a [`crate::wire::DecodeError`] travels as, in `errno` of a `DecodePlan` record.
pub fn decode_error_code(e: crate::wire::DecodeError) -> u32 {
    use crate::wire::DecodeError::*;
    match e {
        Truncated => 1,
        BadMagic => 2,
        BadVersion(_) => 3,
        BadLength => 4,
        UnknownOp(_) => 5,
        BadString => 6,
        BadValue => 7,
        BadOrder => 8,
    }
}

/// The sentence for a code made by [`decode_error_code`].
pub fn decode_error_text(code: u32) -> &'static str {
    match code {
        1 => "plan is truncated",
        2 => "not a nucleus plan (bad magic)",
        3 => "plan comes from another nucleus version",
        4 => "plan length is out of bounds",
        5 => "plan has an operation this init does not know",
        6 => "plan has a malformed string",
        7 => "plan has a value out of range",
        8 => "plan operations are out of order",
        _ => "plan is malformed",
    }
}
