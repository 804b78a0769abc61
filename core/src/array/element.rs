//! The element types an [`Array`](super::Array) may hold, and their arithmetic.
//!
//! Integer arithmetic wraps and integer division by zero gives zero (as NumPy's integer
//! operations do, with a warning there), so no element operation can panic inside a task.

use ndarray::{Array2, ArrayView2};
use std::fmt::Debug;

/// A type an array may hold: the primitive numbers and `bool`.
///
/// ```
/// use dagr::array::Element;
/// assert_eq!(<f64 as Element>::DTYPE, "float64");
/// assert_eq!(3.7_f64.cast::<i64>(), 3);
/// assert_eq!(true.cast::<f32>(), 1.0);
/// ```
pub trait Element:
    Copy
    + Default
    + PartialEq
    + PartialOrd
    + Debug
    + Send
    + Sync
    + serde::Serialize
    + serde::de::DeserializeOwned
    + 'static
{
    /// NumPy's name for the type (`float64`, `int32`, `bool`, …).
    const DTYPE: &'static str;
    /// Whether this is a floating-point type.
    const IS_FLOAT: bool;
    /// The value as an `f64` (`as` semantics).
    fn to_f64(self) -> f64;
    /// The value as an `i128` (`as` semantics: floats truncate and saturate).
    fn to_i128(self) -> i128;
    /// `v as Self`.
    fn from_f64(v: f64) -> Self;
    /// `v as Self` (integers wrap).
    fn from_i128(v: i128) -> Self;
    /// The bits that identify the value, for tokens.
    fn bits(self) -> u64;
    /// Appends the value's little-endian bytes (blocks cross between ranks this way).
    #[doc(hidden)]
    fn put_le(self, out: &mut Vec<u8>);
    /// Reads a value from the start of `b` (as many bytes as the type has).
    #[doc(hidden)]
    fn get_le(b: &[u8]) -> Option<Self>;

    /// Converts to another element type with Rust's `as` semantics (NumPy's `astype`).
    #[inline]
    fn cast<U: Element>(self) -> U {
        if Self::IS_FLOAT {
            U::from_f64(self.to_f64())
        } else {
            U::from_i128(self.to_i128())
        }
    }

    /// Whether the value is NaN (never, for integers).
    #[inline]
    #[allow(clippy::eq_op)]
    fn is_nan(self) -> bool {
        self != self
    }
}

/// Element types with arithmetic: every primitive number.
pub trait Number: Element {
    /// `0`.
    const ZERO: Self;
    /// `1`.
    const ONE: Self;
    /// `a + b` (wrapping for integers).
    fn add(self, b: Self) -> Self;
    /// `a - b` (wrapping for integers).
    fn sub(self, b: Self) -> Self;
    /// `a * b` (wrapping for integers).
    fn mul(self, b: Self) -> Self;
    /// `a / b` (integers: truncating, zero when `b` is zero or the quotient overflows).
    fn div(self, b: Self) -> Self;
    /// `|a|` (wrapping for the smallest signed integer).
    fn abs(self) -> Self;

    /// Sum of a slice, in a fixed order: eight interleaved partial sums (vectorisable),
    /// then combined pairwise. The same slice always gives the same bits.
    #[inline]
    fn sum_slice(xs: &[Self]) -> Self {
        let mut acc = [Self::ZERO; 8];
        let mut it = xs.chunks_exact(8);
        for c in &mut it {
            for k in 0..8 {
                acc[k] = acc[k].add(c[k]);
            }
        }
        for (k, &x) in it.remainder().iter().enumerate() {
            acc[k] = acc[k].add(x);
        }
        let a = acc[0].add(acc[4]).add(acc[2].add(acc[6]));
        let b = acc[1].add(acc[5]).add(acc[3].add(acc[7]));
        a.add(b)
    }

    /// The matrix product `a · b` (wrapping for integers; floats through ndarray's blocked
    /// product). The caller gives fitting shapes.
    #[doc(hidden)]
    fn matmul(a: ArrayView2<'_, Self>, b: ArrayView2<'_, Self>) -> Array2<Self> {
        let mut c = Array2::from_elem((a.nrows(), b.ncols()), Self::ZERO);
        for (mut row, arow) in c.rows_mut().into_iter().zip(a.rows()) {
            for (&x, brow) in arow.iter().zip(b.rows()) {
                row.zip_mut_with(&brow, |r, &y| *r = r.add(x.mul(y)));
            }
        }
        c
    }
}

/// Floating-point element types: `f32` and `f64`.
pub trait Float: Number {
    /// Square root.
    fn sqrt(self) -> Self;
    /// `e^x`.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
}

macro_rules! int_element {
    ($abs:ident; $($t:ty => $name:literal),*) => {$(
        impl Element for $t {
            const DTYPE: &'static str = $name;
            const IS_FLOAT: bool = false;
            #[inline] fn to_f64(self) -> f64 { self as f64 }
            #[inline] fn to_i128(self) -> i128 { self as i128 }
            #[inline] fn from_f64(v: f64) -> Self { v as $t }
            #[inline] fn from_i128(v: i128) -> Self { v as $t }
            #[inline] fn bits(self) -> u64 { self as u64 }
            #[inline] fn put_le(self, out: &mut Vec<u8>) { out.extend_from_slice(&self.to_le_bytes()) }
            #[inline] fn get_le(b: &[u8]) -> Option<Self> {
                Some(<$t>::from_le_bytes(b.get(..std::mem::size_of::<$t>())?.try_into().ok()?))
            }
        }
        impl Number for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            #[inline] fn add(self, b: Self) -> Self { self.wrapping_add(b) }
            #[inline] fn sub(self, b: Self) -> Self { self.wrapping_sub(b) }
            #[inline] fn mul(self, b: Self) -> Self { self.wrapping_mul(b) }
            #[inline] fn div(self, b: Self) -> Self { self.checked_div(b).unwrap_or(0) }
            #[inline] fn abs(self) -> Self { $abs!(self) }
        }
    )*};
}

macro_rules! signed_abs {
    ($x:expr) => {
        $x.wrapping_abs()
    };
}
macro_rules! unsigned_abs {
    ($x:expr) => {
        $x
    };
}
int_element!(signed_abs; i8 => "int8", i16 => "int16", i32 => "int32", i64 => "int64", isize => "intp");
int_element!(unsigned_abs; u8 => "uint8", u16 => "uint16", u32 => "uint32", u64 => "uint64", usize => "uintp");

macro_rules! float_element {
    ($($t:ident => $name:literal),*) => {$(
        impl Element for $t {
            const DTYPE: &'static str = $name;
            const IS_FLOAT: bool = true;
            #[inline] fn to_f64(self) -> f64 { self as f64 }
            #[inline] fn to_i128(self) -> i128 { self as i128 }
            #[inline] fn from_f64(v: f64) -> Self { v as $t }
            #[inline] fn from_i128(v: i128) -> Self { v as $t }
            #[inline] fn bits(self) -> u64 { self.to_bits() as u64 }
            #[inline] fn put_le(self, out: &mut Vec<u8>) { out.extend_from_slice(&self.to_le_bytes()) }
            #[inline] fn get_le(b: &[u8]) -> Option<Self> {
                Some(<$t>::from_le_bytes(b.get(..std::mem::size_of::<$t>())?.try_into().ok()?))
            }
        }
        impl Number for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline] fn add(self, b: Self) -> Self { self + b }
            #[inline] fn sub(self, b: Self) -> Self { self - b }
            #[inline] fn mul(self, b: Self) -> Self { self * b }
            #[inline] fn div(self, b: Self) -> Self { self / b }
            #[inline] fn abs(self) -> Self { $t::abs(self) }
            fn matmul(a: ArrayView2<'_, Self>, b: ArrayView2<'_, Self>) -> Array2<Self> { a.dot(&b) }
        }
        impl Float for $t {
            #[inline] fn sqrt(self) -> Self { $t::sqrt(self) }
            #[inline] fn exp(self) -> Self { $t::exp(self) }
            #[inline] fn ln(self) -> Self { $t::ln(self) }
        }
    )*};
}
float_element!(f32 => "float32", f64 => "float64");

impl Element for bool {
    const DTYPE: &'static str = "bool";
    const IS_FLOAT: bool = false;
    #[inline]
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    #[inline]
    fn to_i128(self) -> i128 {
        self as i128
    }
    #[inline]
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
    #[inline]
    fn from_i128(v: i128) -> Self {
        v != 0
    }
    #[inline]
    fn bits(self) -> u64 {
        self as u64
    }
    #[inline]
    fn put_le(self, out: &mut Vec<u8>) {
        out.push(self as u8);
    }
    #[inline]
    fn get_le(b: &[u8]) -> Option<Self> {
        b.first().map(|&x| x != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_ops_never_panic() {
        assert_eq!(Number::div(7_i64, 0), 0);
        assert_eq!(Number::div(i64::MIN, -1), 0);
        assert_eq!(Number::add(i64::MAX, 1), i64::MIN);
        assert_eq!(Number::abs(i8::MIN), i8::MIN);
        assert_eq!(Number::abs(-3_i32), 3);
    }

    #[test]
    fn casts_follow_as() {
        assert_eq!((-1.5_f64).cast::<i32>(), -1);
        assert_eq!(300_i64.cast::<u8>(), 44);
        assert_eq!(f64::NAN.cast::<i64>(), 0);
        assert_eq!(u64::MAX.cast::<f64>(), u64::MAX as f64);
        assert!(f64::NAN.is_nan() && !1_i32.is_nan());
    }

    #[test]
    fn slice_sum_is_exact_for_integers() {
        let v: Vec<i64> = (0..1001).collect();
        assert_eq!(i64::sum_slice(&v), 500500);
        assert_eq!(f64::sum_slice(&[]), 0.0);
    }
}
