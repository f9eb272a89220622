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
    bytemuck::Pod + Send + Sync + sealed::Sealed + rsmpi::traits::Equivalence
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
pub trait Scalar: bytemuck::Pod + Send + Sync + sealed::Sealed {}

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

/// A tuple of two to four values of one [`Scalar`] type (`(f64, f64)`), which a
/// `#[root_process]` method returning `Vec` of it broadcasts as the tuples' numbers, without
/// encoding, when the tuple is laid out as an array of them. Rust does not promise that layout;
/// [`NumberTuple::FLAT`] checks it at compile time, and tuples laid out otherwise are encoded.
///
/// Sealed; not a stable API (the generated code names it).
///
/// # MPI
///
/// Local: a marker trait.
#[doc(hidden)]
pub trait NumberTuple:
    Copy + serde::Serialize + serde::de::DeserializeOwned + 'static + sealed::Sealed
{
    /// The number type of every element.
    type Number: Scalar;
    /// Whether the tuple is laid out as `[Self::Number; N]`: no padding, elements in order.
    const FLAT: bool;
    /// All zeros.
    const ZERO: Self;
}

macro_rules! number_tuples {
    ($($len:literal: ($($i:tt $t:ident),+);)*) => {$(
        impl<T: Scalar> sealed::Sealed for ($($t,)+) {}
        impl<T: Scalar + serde::Serialize + serde::de::DeserializeOwned> NumberTuple for ($($t,)+) {
            type Number = T;
            const FLAT: bool = std::mem::size_of::<Self>() == $len * std::mem::size_of::<T>()
                $(&& std::mem::offset_of!(Self, $i) == $i * std::mem::size_of::<T>())+;
            // SAFETY: all-zero bits are a valid value of every primitive integer and float,
            // and so of a tuple of them.
            const ZERO: Self = unsafe { std::mem::zeroed() };
        }
    )*};
}

number_tuples! {
    2: (0 T, 1 T);
    3: (0 T, 1 T, 2 T);
    4: (0 T, 1 T, 2 T, 3 T);
}

/// The numbers of `tuples`, in order, if the tuple type is laid out as an array of them.
pub(crate) fn tuple_numbers<U: NumberTuple>(tuples: &[U]) -> Option<&[U::Number]> {
    // SAFETY: with `FLAT`, a `U` is exactly `N` numbers of `U::Number` in order with no padding
    // and the alignment of `U::Number`, so `tuples` is `N × len` initialised numbers.
    U::FLAT.then(|| unsafe {
        std::slice::from_raw_parts(
            tuples.as_ptr().cast::<U::Number>(),
            std::mem::size_of_val(tuples) / std::mem::size_of::<U::Number>(),
        )
    })
}

/// As [`tuple_numbers`], mutable: any numbers written are valid tuples.
pub(crate) fn tuple_numbers_mut<U: NumberTuple>(tuples: &mut [U]) -> Option<&mut [U::Number]> {
    // SAFETY: as in `tuple_numbers`; every bit pattern of the numbers is a valid number, so
    // whatever is written leaves valid tuples.
    U::FLAT.then(|| unsafe {
        std::slice::from_raw_parts_mut(
            tuples.as_mut_ptr().cast::<U::Number>(),
            std::mem::size_of_val(tuples) / std::mem::size_of::<U::Number>(),
        )
    })
}

/// The bytes of `values` (none for a zero-sized type, which `bytemuck` does not cast).
pub(crate) fn bytes_of<T: bytemuck::Pod>(values: &[T]) -> &[u8] {
    if std::mem::size_of::<T>() == 0 {
        return &[];
    }
    bytemuck::cast_slice(values)
}

/// As [`bytes_of`], writable: any bytes written are valid values.
pub(crate) fn bytes_of_mut<T: bytemuck::Pod>(values: &mut [T]) -> &mut [u8] {
    if std::mem::size_of::<T>() == 0 {
        return &mut [];
    }
    bytemuck::cast_slice_mut(values)
}

/// Fills `data` from `bytes`, which must hold exactly as many bytes.
pub(crate) fn copy_from_bytes(data: &mut [u8], bytes: &[u8]) -> crate::Result<()> {
    if data.len() != bytes.len() {
        return Err(length_mismatch::<u8>(bytes.len(), data.len()));
    }
    data.copy_from_slice(bytes);
    Ok(())
}

fn length_mismatch<T>(bytes: usize, len: usize) -> crate::Error {
    crate::Error::Codec {
        action: "decode".into(),
        type_name: std::any::type_name::<T>().into(),
        message: format!("{bytes} bytes for {len} values"),
    }
}

/// `len` values read from `bytes`, which must hold exactly that many.
pub(crate) fn vec_from_bytes<T: bytemuck::Pod>(bytes: &[u8], len: usize) -> crate::Result<Vec<T>> {
    let mut data = Vec::<T>::with_capacity(len);
    if std::mem::size_of::<T>().checked_mul(len) != Some(bytes.len()) {
        return Err(length_mismatch::<T>(bytes.len(), len));
    }
    // SAFETY: the capacity holds `len` values, which is exactly `bytes.len()` bytes (checked
    // above); the regions cannot overlap (`data` is new); any bit pattern is a valid value of a
    // `Pod` type, so all `len` values are initialised by the copy.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), data.as_mut_ptr().cast::<u8>(), bytes.len());
        data.set_len(len);
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuples_of_one_number_type_are_their_numbers_in_order() {
        let flat = [
            <(f64, f64)>::FLAT,
            <(u8, u8, u8)>::FLAT,
            <(i32, i32, i32, i32)>::FLAT,
        ];
        assert_eq!(flat, [true; 3], "laid out as arrays on this target");
        let mut pairs = vec![(1.5f64, -2.0f64), (3.0, 4.25)];
        assert_eq!(tuple_numbers(&pairs), Some(&[1.5, -2.0, 3.0, 4.25][..]));
        if let Some(numbers) = tuple_numbers_mut(&mut pairs) {
            numbers[3] = 9.0;
        }
        assert_eq!(pairs[1], (3.0, 9.0));
        let triples = [(1u8, 2u8, 3u8), (4, 5, 6)];
        assert_eq!(tuple_numbers(&triples), Some(&[1, 2, 3, 4, 5, 6][..]));
        assert_eq!(<(u16, u16)>::ZERO, (0, 0));
    }
}
