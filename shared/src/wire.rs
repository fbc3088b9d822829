//! The framing of a plan: a fixed header, then a body of operations.
//!
//! Every integer is little-endian. Strings travel with their length *including* a trailing NUL,
//! so init can hand them to the kernel without copying, and the decoder proves there is exactly
//! one NUL, at the end. Nothing is trusted: every length is checked against what is left.

use core::ffi::CStr;

/// Identifies a nucleus plan; anything else on the plan fd is refused.
pub const MAGIC: [u8; 8] = *b"NUCLPLAN";
/// Bumped whenever the encoding changes in any way. The launcher and init come from one build.
pub const VERSION: u32 = 4;
/// magic (8) + version (4) + body length (4).
pub const HEADER_LEN: usize = 16;
/// Upper bound of a whole plan, header included. init reads it into a static buffer this size.
pub const MAX_PLAN_BYTES: usize = 256 * 1024;

/// Why a plan could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// Shorter than a header, or than the length the header announces.
    Truncated,
    /// Not a nucleus plan.
    BadMagic,
    /// A plan from another build of nucleus.
    BadVersion(u32),
    /// The header announces more than [`MAX_PLAN_BYTES`] or there are bytes past the body.
    BadLength,
    /// An operation tag this build does not know.
    UnknownOp(u8),
    /// A string without its trailing NUL, or with a NUL inside it.
    BadString,
    /// A value out of its allowed range (a bool that is neither 0 nor 1, a list too long ...).
    BadValue,
    /// The plan ends without its final `Exec` operation, or has operations after it.
    BadOrder,
}

/// Checks the header and returns the body it frames.
pub fn split_header(bytes: &[u8]) -> Result<&[u8], DecodeError> {
    let mut r = Reader::new(bytes);
    if r.take(MAGIC.len())? != MAGIC {
        return Err(DecodeError::BadMagic);
    }
    let version = r.u32()?;
    if version != VERSION {
        return Err(DecodeError::BadVersion(version));
    }
    let len = r.u32()? as usize;
    if len > MAX_PLAN_BYTES - HEADER_LEN {
        return Err(DecodeError::BadLength);
    }
    let body = r.take(len)?;
    if !r.is_empty() {
        return Err(DecodeError::BadLength);
    }
    Ok(body)
}

/// A cursor over untrusted bytes; every read is bounds-checked.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.rest.len() {
            return Err(DecodeError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::BadValue),
        }
    }

    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Length-prefixed raw bytes.
    pub fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.u32()? as usize;
        self.take(len)
    }

    /// A length-prefixed, NUL-terminated string with no NUL inside.
    pub fn cstr(&mut self) -> Result<&'a CStr, DecodeError> {
        CStr::from_bytes_with_nul(self.bytes()?).map_err(|_| DecodeError::BadString)
    }
}

/// Appends the encoding of values; the inverse of [`Reader`].
#[cfg(feature = "alloc")]
#[derive(Debug, Default)]
pub struct Writer {
    buf: alloc::vec::Vec<u8>,
}

#[cfg(feature = "alloc")]
impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub fn bool(&mut self, v: bool) {
        self.buf.push(u8::from(v));
    }

    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// # Panics
    /// On more than 4 GiB, which the plan size bound makes impossible to use anyway.
    pub fn bytes(&mut self, v: &[u8]) {
        self.u32(u32::try_from(v.len()).expect("plan field over 4 GiB"));
        self.buf.extend_from_slice(v);
    }

    pub fn cstr(&mut self, v: &CStr) {
        self.bytes(v.to_bytes_with_nul());
    }

    /// Frames the body with a header. Fails when the result would exceed [`MAX_PLAN_BYTES`].
    pub fn finish(self) -> Result<alloc::vec::Vec<u8>, usize> {
        let total = HEADER_LEN + self.buf.len();
        if total > MAX_PLAN_BYTES {
            return Err(total);
        }
        let mut out = alloc::vec::Vec::with_capacity(total);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(self.buf.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.buf);
        Ok(out)
    }
}
