//! Reduction operators for [`Comm::reduce`], [`Comm::allreduce`], [`Comm::scan`] and
//! [`Comm::allreduce_into`].
//!
//! The four predefined operators are unit structs; any closure `Fn(T, T) -> T` is a custom
//! operator for the object collectives (pympi's user-defined operations). Custom operators must
//! be associative; bamboost applies them in rank order, so the result is the same on every rank
//! even for floating-point values or non-commutative operators.
//!
//! [`Comm::reduce`]: crate::Comm::reduce
//! [`Comm::allreduce`]: crate::Comm::allreduce
//! [`Comm::scan`]: crate::Comm::scan
//! [`Comm::allreduce_into`]: crate::Comm::allreduce_into

use std::ops::{Add, Mul};

/// A reduction operator: combines the values of two ranks into one.
///
/// Implemented by [`Sum`], [`Prod`], [`Max`], [`Min`] and every closure `Fn(T, T) -> T`.
///
/// # MPI
///
/// Local: the operator itself communicates nothing.
pub trait Op<T> {
    /// Combines `a` (from lower ranks) with `b` (from the next rank).
    fn apply(&self, a: T, b: T) -> T;
}

/// The predefined operators, which also work on buffers of numbers with MPI's own reductions.
///
/// # MPI
///
/// Local.
pub trait NativeOp: sealed::Sealed {
    /// Which predefined operator this is.
    fn kind(&self) -> OpKind;
}

/// The predefined reduction operators.
///
/// # MPI
///
/// Local.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// `MPI_SUM`.
    Sum,
    /// `MPI_PROD`.
    Prod,
    /// `MPI_MAX`.
    Max,
    /// `MPI_MIN`.
    Min,
}

/// The sum of the values (`MPI_SUM`).
///
/// # MPI
///
/// Local.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sum;

/// The product of the values (`MPI_PROD`).
///
/// # MPI
///
/// Local.
#[derive(Debug, Clone, Copy, Default)]
pub struct Prod;

/// The largest value (`MPI_MAX`). For floats, a NaN is kept only if it comes first.
///
/// # MPI
///
/// Local.
#[derive(Debug, Clone, Copy, Default)]
pub struct Max;

/// The smallest value (`MPI_MIN`). For floats, a NaN is kept only if it comes first.
///
/// # MPI
///
/// Local.
#[derive(Debug, Clone, Copy, Default)]
pub struct Min;

impl<T: Add<Output = T>> Op<T> for Sum {
    fn apply(&self, a: T, b: T) -> T {
        a + b
    }
}

impl<T: Mul<Output = T>> Op<T> for Prod {
    fn apply(&self, a: T, b: T) -> T {
        a * b
    }
}

impl<T: PartialOrd> Op<T> for Max {
    fn apply(&self, a: T, b: T) -> T {
        if b > a { b } else { a }
    }
}

impl<T: PartialOrd> Op<T> for Min {
    fn apply(&self, a: T, b: T) -> T {
        if b < a { b } else { a }
    }
}

impl<T, F: Fn(T, T) -> T> Op<T> for F {
    fn apply(&self, a: T, b: T) -> T {
        self(a, b)
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Sum {}
    impl Sealed for super::Prod {}
    impl Sealed for super::Max {}
    impl Sealed for super::Min {}
}

impl NativeOp for Sum {
    fn kind(&self) -> OpKind {
        OpKind::Sum
    }
}

impl NativeOp for Prod {
    fn kind(&self) -> OpKind {
        OpKind::Prod
    }
}

impl NativeOp for Max {
    fn kind(&self) -> OpKind {
        OpKind::Max
    }
}

impl NativeOp for Min {
    fn kind(&self) -> OpKind {
        OpKind::Min
    }
}

/// Folds values given in rank order with `op`.
pub(crate) fn fold<T>(values: impl IntoIterator<Item = T>, op: &impl Op<T>) -> Option<T> {
    values.into_iter().reduce(|a, b| op.apply(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predefined_and_custom_operators() {
        assert_eq!(fold([1, 2, 3], &Sum), Some(6));
        assert_eq!(fold([2.0, 3.0], &Prod), Some(6.0));
        assert_eq!(fold([3, 9, 1], &Max), Some(9));
        assert_eq!(fold([3, 9, 1], &Min), Some(1));
        let concat = |a: String, b: String| a + &b;
        assert_eq!(
            fold(["a".to_string(), "b".into(), "c".into()], &concat),
            Some("abc".into())
        );
        assert_eq!(fold(Vec::<i32>::new(), &Sum), None);
    }
}
