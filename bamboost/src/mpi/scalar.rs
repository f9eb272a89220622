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
