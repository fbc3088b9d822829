//! The fd numbers init's contract fixes: the launcher's child puts these in place before it
//! executes init, and init closes every other fd above stderr.

/// The launch plan, read to its end.
pub const PLAN_FD: u32 = 3;
/// The status pipe: failure records, and the `Created` record of a plan that awaits `start`.
pub const STATUS_FD: u32 = 4;
/// Only with `Op::AwaitStart`: a FIFO opened read-write; one byte written into it is `start`.
pub const START_FD: u32 = 5;
/// Only for a `terminal` workload: a connected unix socket the pty master is sent on.
pub const CONSOLE_FD: u32 = 6;
/// The first fd init closes (and that the launcher's child may use for its own sources).
pub const FIRST_FREE: u32 = 7;
