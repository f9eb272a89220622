//! Plain numbers that the zero-copy buffer collectives transfer without encoding.

/// A plain number type that the buffer collectives ([`Comm::bcast_into`],
/// [`Comm::allgatherv`], [`Comm::allreduce_into`]) transfer as raw memory, without encoding.
///
/// Implemented for `u8`, `i8`, `u16`, `i16`, `u32`, `i32`, `u64`, `i64`, `f32` and `f64`.
/// The trait is sealed.
///
/// # MPI
///
/// Local: a marker trait.
///
/// [`Comm::bcast_into`]: crate::Comm::bcast_into
/// [`Comm::allgatherv`]: crate::Comm::allgatherv
/// [`Comm::allreduce_into`]: crate::Comm::allreduce_into
#[cfg(feature = "mpi")]
pub trait Scalar:
    Copy + Send + Sync + 'static + sealed::Sealed + rsmpi::traits::Equivalence
{
}

/// A plain number type that the zero-copy buffer collectives transfer as raw memory.
///
/// Implemented for `u8`, `i8`, `u16`, `i16`, `u32`, `i32`, `u64`, `i64`, `f32` and `f64`.
/// The trait is sealed.
///
/// # MPI
///
/// Local: a marker trait.
#[cfg(not(feature = "mpi"))]
pub trait Scalar: Copy + Send + Sync + 'static + sealed::Sealed {}

mod sealed {
    pub trait Sealed {}
}

macro_rules! scalars {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Scalar for $t {}
    )*};
}

scalars!(u8, i8, u16, i16, u32, i32, u64, i64, f32, f64);

/// The bytes of a slice of scalars.
pub(crate) fn as_bytes<T: Scalar>(data: &[T]) -> &[u8] {
    // SAFETY: every `Scalar` is a primitive integer or float: no padding, every byte initialised,
    // so viewing the memory as bytes is sound; the length covers exactly `data`.
    unsafe { std::slice::from_raw_parts(data.as_ptr().cast::<u8>(), std::mem::size_of_val(data)) }
}

/// Zero.
pub(crate) fn zero<T: Scalar>() -> T {
    // SAFETY: all-zero bits are a valid value of every primitive integer and float.
    unsafe { std::mem::zeroed::<T>() }
}

/// `len` zeros.
pub(crate) fn zeroed_vec<T: Scalar>(len: usize) -> Vec<T> {
    vec![zero::<T>(); len]
}

/// Fills `data` from `bytes`, which must hold exactly as many bytes.
pub(crate) fn copy_from_bytes<T: Scalar>(data: &mut [T], bytes: &[u8]) -> crate::Result<()> {
    if std::mem::size_of_val(data) != bytes.len() {
        return Err(length_mismatch::<T>(bytes.len(), data.len()));
    }
    // SAFETY: `data` spans exactly `bytes.len()` bytes (checked above); the regions cannot
    // overlap (`data` is borrowed mutably); any bit pattern is a valid primitive integer or
    // float.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), data.as_mut_ptr().cast::<u8>(), bytes.len());
    }
    Ok(())
}

fn length_mismatch<T>(bytes: usize, len: usize) -> crate::Error {
    crate::Error::Codec {
        action: "decode".into(),
        type_name: std::any::type_name::<T>().into(),
        message: format!("{bytes} bytes for {len} values"),
    }
}

/// `len` scalars read from `bytes`, which must hold exactly that many.
pub(crate) fn vec_from_bytes<T: Scalar>(bytes: &[u8], len: usize) -> crate::Result<Vec<T>> {
    let mut data = Vec::<T>::with_capacity(len);
    if std::mem::size_of::<T>().checked_mul(len) != Some(bytes.len()) {
        return Err(length_mismatch::<T>(bytes.len(), len));
    }
    // SAFETY: the capacity holds `len` values, which is exactly `bytes.len()` bytes (checked
    // above); the regions cannot overlap (`data` is new); any bit pattern is a valid primitive
    // integer or float, so all `len` values are initialised by the copy.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), data.as_mut_ptr().cast::<u8>(), bytes.len());
        data.set_len(len);
    }
    Ok(data)
}
