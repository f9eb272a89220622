//! Element types of distributed arrays and datasets.

use hdf5::H5Type;

/// A number type bamboost writes to datasets: `f32`, `f64`, `i32`, `i64`, `u32`, `u64`, `u8` and
/// `bool` (stored as h5py's bool enum). The trait is sealed.
///
/// Each type has a fill value for elements that no rank writes: NaN for floats, 0 for
/// integers, `false` for `bool`.
///
/// # MPI
///
/// Local: a marker trait.
pub trait Element:
    H5Type + Copy + Send + Sync + PartialEq + std::fmt::Debug + 'static + sealed::Sealed
{
    /// The value of elements that were never written.
    const FILL: Self;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! elements {
    ($($t:ty => $fill:expr),* $(,)?) => {$(
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const FILL: Self = $fill;
        }
    )*};
}

elements!(f32 => f32::NAN, f64 => f64::NAN, i32 => 0, i64 => 0, u32 => 0, u64 => 0, u8 => 0, bool => false);

/// The bytes of a slice of elements.
pub(crate) fn as_bytes<T: Element>(data: &[T]) -> &[u8] {
    // SAFETY: every `Element` is a primitive number or `bool`: no padding, and every byte is
    // initialised, so viewing the memory as bytes is sound; the length covers exactly `data`.
    unsafe { std::slice::from_raw_parts(data.as_ptr().cast::<u8>(), std::mem::size_of_val(data)) }
}

/// Runs `$copy` with `$len` as a constant for the common row sizes. Scattered writes copy rows
/// one at a time; a copy of constant length is a few moves, one of variable length a call to
/// `memcpy` per row.
macro_rules! with_row_len {
    ($len:expr, |$n:ident| $copy:expr) => {
        with_row_len!(@ $len, $n, $copy, 4 8 12 16 24 32)
    };
    (@ $len:expr, $n:ident, $copy:expr, $($constant:literal)*) => {
        match $len {
            $($constant => {
                let $n = $constant;
                $copy
            })*
            $n => $copy,
        }
    };
}

/// Overwrites `data` with `bytes`, which must hold valid values of `T` (produced by
/// [`as_bytes`] of the same type).
#[inline(always)]
pub(crate) fn copy_from_bytes<T: Element>(data: &mut [T], bytes: &[u8]) {
    assert_eq!(std::mem::size_of_val(data), bytes.len(), "row sizes agree");
    let (from, to) = (bytes.as_ptr(), data.as_mut_ptr().cast::<u8>());
    // SAFETY: the lengths are equal (checked above), the regions cannot overlap (one is borrowed
    // mutably), and the bytes are valid `T` values because they come from `as_bytes::<T>`.
    with_row_len!(bytes.len(), |len| unsafe {
        std::ptr::copy_nonoverlapping(from, to, len)
    })
}

/// Copies one row of bytes (`from` and `to` of equal length).
#[inline(always)]
pub(crate) fn copy_row(to: &mut [u8], from: &[u8]) {
    with_row_len!(from.len(), |len| to[..len].copy_from_slice(&from[..len]))
}
