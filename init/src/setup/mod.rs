//! Executing the setup operations of the plan, one match arm per operation.

mod files;
mod masks;
mod mounts;
pub mod path;

use nucleus_shared::plan::Op;
use nucleus_shared::status::Step;
use rustix::fd::OwnedFd;
use rustix::io::Errno;

/// What setup carries from one operation to the next.
#[derive(Default)]
pub struct State {
    /// The new root, once `RootTmpfs` or `RootBind` made it: every path is resolved beneath it.
    root: Option<OwnedFd>,
    /// The verified `/dev/null`, opened at the first mask.
    null: Option<OwnedFd>,
}

impl State {
    fn root(&self) -> Result<&OwnedFd, (Step, Errno)> {
        // The launcher always creates the root first; a plan that does not is refused here.
        self.root.as_ref().ok_or((Step::Op, Errno::INVAL))
    }
}

/// Runs one setup operation. `AwaitStart` and `Exec` are handled by the caller.
pub fn apply(state: &mut State, op: &Op<'_>) -> Result<(), (Step, Errno)> {
    let op_err = |e| (Step::Op, e);
    match *op {
        Op::Enter { staging } => mounts::enter(staging).map_err(op_err),
        Op::RootTmpfs => {
            state.root = Some(mounts::root_tmpfs().map_err(op_err)?);
            Ok(())
        }
        Op::RootBind { source } => {
            state.root = Some(mounts::root_bind(source).map_err(op_err)?);
            Ok(())
        }
        Op::Mkdir { path, mode } => {
            path::ensure_dir(state.root()?, path.to_bytes(), mode).map(drop)
        }
        Op::Symlink { target, path } => files::symlink(state.root()?, target, path.to_bytes()),
        Op::WriteFile {
            path,
            mode,
            contents,
        } => files::write_file(state.root()?, path.to_bytes(), mode, contents),
        Op::CharDev {
            path,
            mode,
            major,
            minor,
        } => files::char_dev(state.root()?, path.to_bytes(), mode, major, minor),
        Op::Mount {
            fstype,
            target,
            flags,
            data,
        } => mounts::mount_fs(state.root()?, fstype, target.to_bytes(), flags, data),
        Op::Bind {
            source,
            target,
            flags,
            is_dir,
        } => mounts::bind(state.root()?, source, target.to_bytes(), flags, is_dir),
        Op::RemountRoot { flags } => mounts::remount_root(state.root()?, flags).map_err(op_err),
        Op::PivotRoot => {
            state.null = None;
            let root = state.root.take().ok_or((Step::Op, Errno::INVAL))?;
            mounts::pivot(&root).map_err(op_err)
        }
        Op::Hostname { name } => rustix::system::sethostname(name.to_bytes()).map_err(op_err),
        Op::LoopbackUp => crate::sys::net::loopback_up().map_err(op_err),
        Op::Mask { target } => {
            let root = state.root.as_ref().ok_or((Step::Op, Errno::INVAL))?;
            if state.null.is_none() {
                state.null = Some(masks::verified_null(root)?);
            }
            let null = state.null.as_ref().ok_or((Step::Op, Errno::INVAL))?;
            masks::mask(root, null, target.to_bytes())
        }
        Op::ReadOnly { target } => masks::read_only(state.root()?, target.to_bytes()),
        Op::Remount { target, flags } => {
            mounts::remount_at(state.root()?, target.to_bytes(), flags)
        }
        Op::Sysctl { key, value } => files::sysctl(state.root()?, key.to_bytes(), value),
        Op::AwaitStart | Op::Exec(_) => Err((Step::Op, Errno::INVAL)),
    }
}
