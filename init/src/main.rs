//! nucleus-init: PID 1 of a nucleus sandbox.
//!
//! The launcher starts this binary from a sealed memfd as the first process of fresh pid,
//! mount, uts, ipc, net and cgroup namespaces, with the launch plan on fd 3 and the status pipe
//! on fd 4. It executes the plan, forks the workload, then stays as a minimal PID 1: it reaps
//! every zombie, forwards signals and exits with the workload's status.
//!
//! No libc, no allocator: raw syscalls through rustix (and `sys/` for the few it lacks), fixed
//! buffers, and `unsafe` only under `sys/`.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

mod caps;
mod reaper;
mod report;
mod setup;
mod sys;
mod workload;

use nucleus_shared::plan::{Op, Plan};
use nucleus_shared::status::{StatusRecord, Step, decode_error_code};
use rustix::fd::BorrowedFd;

/// The launch plan arrives on this fd; init closes it once read.
use nucleus_shared::fds::PLAN_FD;
/// The status pipe; init keeps it only until the workload is started.
use nucleus_shared::fds::STATUS_FD;

/// The whole life of init, in order. Each failing step is reported, then init exits 125.
fn main() -> ! {
    sys::signals::take_over_all_signals()
        .unwrap_or_else(|e| report::fail(Step::InitSetup, StatusRecord::NO_OP, e));
    let _ = rustix::thread::set_name(c"nucleus-init");
    // Nothing inside may ptrace PID 1 or read its memory without CAP_SYS_PTRACE, which the
    // workload does not get unless asked for.
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .unwrap_or_else(|e| report::fail(Step::InitSetup, StatusRecord::NO_OP, e));
    // Only stdio, the plan, the status pipe and (when the plan uses them) the start FIFO and
    // the console socket may come in from the launcher's side.
    sys::fds::close_from(nucleus_shared::fds::FIRST_FREE);
    // The launcher's dup2 cleared close-on-exec; the workload must not inherit the pipe, and
    // its closing on a successful execve is what tells the launcher the workload started.
    rustix::io::fcntl_setfd(sys::fds::borrow(STATUS_FD), rustix::io::FdFlags::CLOEXEC)
        .unwrap_or_else(|e| report::fail(Step::InitSetup, StatusRecord::NO_OP, e));
    rustix::process::umask(rustix::fs::Mode::empty());

    let buf = sys::plan_buffer();
    let plan_fd = sys::fds::borrow(PLAN_FD);
    let len = read_all(plan_fd, buf)
        .unwrap_or_else(|e| report::fail(Step::ReadPlan, StatusRecord::NO_OP, e));
    sys::fds::close(PLAN_FD);
    let plan = Plan::decode(&buf[..len]).unwrap_or_else(|e| {
        report::fail_code(Step::DecodePlan, StatusRecord::NO_OP, decode_error_code(e))
    });

    let mut state = setup::State::default();
    // The pty's slave, once its master is passed on: before `AwaitStart` if the plan has one,
    // since an OCI `create` hands the master over (to the console socket) before `start`.
    let mut terminal = None;
    for (index, op) in plan.ops() {
        if let Op::Exec(process) = op {
            let terminal = terminal.or_else(|| {
                process
                    .terminal
                    .then(|| workload::terminal(&process, index))
            });
            // A plan that is only the process: an `exec` into a running sandbox.
            if index == 0 {
                caps::narrow_for_exec(process.caps)
                    .unwrap_or_else(|e| report::fail(Step::Caps, index, e));
            }
            let (pid, gate) = workload::spawn(&process, index, terminal);
            // PID 1 now only waits, reaps and forwards: it keeps just the capability to signal,
            // and its own filter allows just those calls.
            let confined =
                caps::confine_init().and_then(|()| sys::seccomp::install(&process.init_seccomp));
            if let Err(e) = confined {
                report::send(Step::InitSeccomp, index, e.raw_os_error() as u32);
                let _ = sys::signals::send(pid, 9);
            }
            // Lets the workload child go on (close_range: the one way to close that init's
            // own filter allows).
            sys::fds::close(rustix::fd::IntoRawFd::into_raw_fd(gate) as u32);
            sys::fds::close(STATUS_FD);
            reaper::run(pid)
        }
        if op == Op::AwaitStart {
            if let Some((_, Op::Exec(p))) = plan.ops().last()
                && p.terminal
            {
                terminal = Some(workload::terminal(&p, index));
            }
            await_start(index);
            continue;
        }
        if let Err((step, errno)) = setup::apply(&mut state, &op) {
            report::fail(step, index, errno)
        }
    }
    // `Plan::decode` proved that the plan ends with `Exec`.
    report::fail_code(
        Step::DecodePlan,
        StatusRecord::NO_OP,
        decode_error_code(nucleus_shared::wire::DecodeError::BadOrder),
    )
}

/// Says the sandbox is ready, then blocks until `start` writes its byte into the FIFO.
/// init holds the FIFO read-write, so there is always a writer and the read cannot see an
/// end of file; a sandbox deleted before `start` is killed while it waits here.
fn await_start(index: u16) {
    use nucleus_shared::fds::START_FD;
    use sys::signals::Woken;
    report::send(Step::Created, index, 0);
    loop {
        match sys::signals::wait_readable_or_signal(START_FD) {
            Ok(Woken::Readable) => {
                let mut byte = [0u8; 1];
                match rustix::io::read(sys::fds::borrow(START_FD), &mut byte) {
                    Ok(1..) => break,
                    Ok(0) | Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => {}
                    Err(e) => report::fail(Step::Op, index, e),
                }
            }
            // What would not end a workload (SIGCHLD, SIGWINCH, SIGURG, SIGCONT, job
            // control) does not end the wait either; anything else ends the sandbox as the
            // signal would have ended its workload.
            Ok(Woken::Signal(17 | 28 | 23 | 18 | 19..=22)) => {}
            Ok(Woken::Signal(signo)) => sys::exit_group(128 + signo as i32),
            Err(e) => report::fail(Step::Op, index, e),
        }
    }
    sys::fds::close(START_FD);
}

/// Reads until end of file; a plan that does not fit the buffer is refused.
fn read_all(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, rustix::io::Errno> {
    let mut len = 0;
    loop {
        if len == buf.len() {
            return Err(rustix::io::Errno::TOOBIG);
        }
        match rustix::io::read(fd, &mut buf[len..]) {
            Ok(0) => return Ok(len),
            Ok(n) => len += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
}
