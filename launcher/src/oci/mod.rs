//! The OCI runtime interface.

pub mod bundle;
