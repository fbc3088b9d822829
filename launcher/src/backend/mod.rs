//! Backends that run a validated configuration. Today: the native one (our own init in new
//! namespaces). gVisor comes as a second backend behind the same `Config`.

pub mod native;
