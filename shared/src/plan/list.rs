//! Count-prefixed lists inside a plan: validated once when decoded, then walked without
//! allocation (init has no allocator).

use core::ffi::CStr;
use core::marker::PhantomData;

use crate::wire::{DecodeError, Reader};

/// An element of a [`List`]: how it is read from (and, for the launcher, written to) a plan.
pub trait Item<'a>: Sized {
    fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError>;
    #[cfg(feature = "alloc")]
    fn write(&self, w: &mut crate::wire::Writer);
}

impl<'a> Item<'a> for &'a CStr {
    fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        r.cstr()
    }
    #[cfg(feature = "alloc")]
    fn write(&self, w: &mut crate::wire::Writer) {
        w.cstr(self);
    }
}

/// At most `max` items of type `T`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct List<'a, T> {
    count: usize,
    raw: &'a [u8],
    _item: PhantomData<T>,
}

impl<'a, T: Item<'a>> List<'a, T> {
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = T> + use<'a, T> {
        let mut r = Reader::new(self.raw);
        // Every item was checked in `decode`, so this stops only at the end of the list.
        core::iter::from_fn(move || T::read(&mut r).ok())
    }

    pub(crate) fn decode(r: &mut Reader<'a>, min: usize, max: usize) -> Result<Self, DecodeError> {
        let count = r.u32()? as usize;
        if count < min || count > max {
            return Err(DecodeError::BadValue);
        }
        let start = r.clone();
        let before = r.remaining();
        for _ in 0..count {
            T::read(r)?;
        }
        let consumed = before - r.remaining();
        let mut again = start;
        Ok(List {
            count,
            raw: again.take(consumed)?,
            _item: PhantomData,
        })
    }
}

impl<T> Default for List<'_, T> {
    fn default() -> Self {
        List {
            count: 0,
            raw: &[],
            _item: PhantomData,
        }
    }
}

/// Writes a list in the format [`List::decode`] reads.
#[cfg(feature = "alloc")]
pub(crate) fn write_list<'a, T: Item<'a>>(w: &mut crate::wire::Writer, items: &[T]) {
    w.u32(u32::try_from(items.len()).expect("list length fits u32"));
    for item in items {
        item.write(w);
    }
}

/// The arguments or environment of a process.
pub type StrList<'a> = List<'a, &'a CStr>;
