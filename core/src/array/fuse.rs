//! Elementwise operations, fused into the block pipeline: operators with scalars, lazy
//! scalars (`&x - x.mean()`) and arrays (broadcasting like NumPy), `map`, `map_blocks`,
//! `astype`, comparisons and the unary functions. None of them creates a task.

use super::blocks::{Blocks, Chunk, Cursor, ElementOp, Kernel, Lazy, Src};
use super::element::{Element, Float, Number};
use super::grid::{refine, Grid};
use super::{token_of, Array};
use crate::node::NodeRef;
use crate::share::Walk;
use crate::tokenize::fresh_token;
use crate::{Delayed, Error};
use dagr_runtime::TaskError;
use ndarray::{ArrayD, ArrayViewD, IxDyn, Zip};
use std::ops::{Add, Div, Mul, Neg, Sub};
use std::sync::Arc;

/// A step `T -> T` over every element: left unapplied for a consumer reading the block
/// piece by piece, else applied in place when the block is uniquely held.
struct MapSame<T> {
    parent: Src<T>,
    op: Arc<dyn ElementOp<T>>,
}

impl<T: Element> Blocks<T> for MapSame<T> {
    fn inputs(&self, idx: &[usize], out: &mut Walk<'_>) {
        self.parent.inputs(idx, out)
    }
    fn shares_rows(&self) -> bool {
        self.parent.shares_rows()
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        self.block_lazy(idx, inp)?.materialize()
    }
    fn block_lazy<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Lazy<'s, T>, TaskError> {
        Ok(self.parent.block_lazy(idx, inp)?.then(&*self.op))
    }
}

/// `f(element, scalar)` over every element, the scalar being the value of a node (a lazy
/// reduction): the node is one more input of every block, read after the parent's.
struct MapLazyScalar<T> {
    parent: Src<T>,
    scalar: NodeRef,
    f: fn(T, T) -> T,
}

impl<T: Element> Blocks<T> for MapLazyScalar<T> {
    fn inputs(&self, idx: &[usize], out: &mut Walk<'_>) {
        self.parent.inputs(idx, out);
        out.push(self.scalar.clone());
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        let block = self.parent.block(idx, inp)?;
        let s: T = inp.next()?;
        let f = self.f;
        block.map_inplace(&move |x| f(x, s))
    }
}

/// `f` over every element, into a new block of another type.
struct MapInto<S, T> {
    parent: Src<S>,
    f: Arc<dyn Fn(S) -> T + Send + Sync>,
}

impl<S: Element, T: Element> Blocks<T> for MapInto<S, T> {
    fn inputs(&self, idx: &[usize], out: &mut Walk<'_>) {
        self.parent.inputs(idx, out)
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        let c = self.parent.block(idx, inp)?;
        super::memory::check_task_block::<T>(c.shape())?;
        Ok(Chunk::Shared(c.view().mapv(&*self.f).into_shared()))
    }
}

/// A user function over a whole block.
type BlockFn<S, T> = Arc<dyn Fn(ArrayViewD<'_, S>) -> ArrayD<T> + Send + Sync>;

/// A user function over whole blocks.
struct MapBlocks<S, T> {
    parent: Src<S>,
    f: BlockFn<S, T>,
}

impl<S: Element, T: Element> Blocks<T> for MapBlocks<S, T> {
    fn inputs(&self, idx: &[usize], out: &mut Walk<'_>) {
        self.parent.inputs(idx, out)
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        let c = self.parent.block(idx, inp)?;
        Ok(Chunk::Shared((self.f)(c.view()).into_shared()))
    }
}

/// How an operand's block index follows the output's under broadcasting.
#[derive(Clone)]
struct Follow {
    /// Output axes the operand lacks (leading).
    offset: usize,
    /// Per operand axis: whether it has length 1 and is stretched (block 0 always).
    stretched: Vec<bool>,
}

impl Follow {
    fn index(&self, idx: &[usize]) -> Vec<usize> {
        self.stretched
            .iter()
            .enumerate()
            .map(|(k, &s)| if s { 0 } else { idx[k + self.offset] })
            .collect()
    }
}

/// `f` over two broadcast operands.
struct Zip2<A, B, U> {
    a: Src<A>,
    b: Src<B>,
    fa: Follow,
    fb: Follow,
    grid: Arc<Grid>,
    f: Arc<dyn Fn(A, B) -> U + Send + Sync>,
}

impl<A: Element, B: Element, U: Element> Blocks<U> for Zip2<A, B, U> {
    fn inputs(&self, idx: &[usize], out: &mut Walk<'_>) {
        self.a.inputs(&self.fa.index(idx), out);
        self.b.inputs(&self.fb.index(idx), out);
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, U>, TaskError> {
        let ca = self.a.block(&self.fa.index(idx), inp)?;
        let cb = self.b.block(&self.fb.index(idx), inp)?;
        let shape = self.grid.block_shape(idx);
        let bad = || {
            TaskError::new(Error::Shape {
                what: "broadcast",
                message: format!(
                    "blocks {:?} and {:?} do not broadcast to {shape:?}",
                    ca.shape(),
                    cb.shape()
                ),
            })
        };
        let va = ca.view();
        let vb = cb.view();
        let (Some(va), Some(vb)) = (va.broadcast(IxDyn(&shape)), vb.broadcast(IxDyn(&shape)))
        else {
            return Err(bad());
        };
        let f = &*self.f;
        Ok(Chunk::Shared(
            Zip::from(&va)
                .and(&vb)
                .map_collect(|&x, &y| f(x, y))
                .into_shared(),
        ))
    }
}

/// `f` over two broadcast operands of one type, written into the left block when it is
/// uniquely held and already of the output's shape.
struct ZipSame<T> {
    a: Src<T>,
    b: Src<T>,
    fa: Follow,
    fb: Follow,
    grid: Arc<Grid>,
    f: Arc<dyn Fn(T, T) -> T + Send + Sync>,
}

impl<T: Element> Blocks<T> for ZipSame<T> {
    fn inputs(&self, idx: &[usize], out: &mut Walk<'_>) {
        self.a.inputs(&self.fa.index(idx), out);
        self.b.inputs(&self.fb.index(idx), out);
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        let ca = self.a.block(&self.fa.index(idx), inp)?;
        let cb = self.b.block(&self.fb.index(idx), inp)?;
        let shape = self.grid.block_shape(idx);
        let f = &*self.f;
        let bad = |a: &[usize], b: &[usize]| {
            TaskError::new(Error::Shape {
                what: "broadcast",
                message: format!("blocks {a:?} and {b:?} do not broadcast to {shape:?}"),
            })
        };
        if let Chunk::Shared(mut a) = ca {
            if a.shape() == shape.as_slice() {
                let vb = cb.view();
                let Some(vb) = vb.broadcast(IxDyn(&shape)) else {
                    return Err(bad(a.shape(), cb.shape()));
                };
                Zip::from(&mut a).and(&vb).for_each(|x, &y| *x = f(*x, y));
                return Ok(Chunk::Shared(a));
            }
            return zip_new(a.view(), cb.view(), &shape, f)
                .ok_or_else(|| bad(a.shape(), cb.shape()));
        }
        zip_new(ca.view(), cb.view(), &shape, f).ok_or_else(|| bad(ca.shape(), cb.shape()))
    }
}

fn zip_new<'s, T: Element>(
    a: ArrayViewD<'_, T>,
    b: ArrayViewD<'_, T>,
    shape: &[usize],
    f: &(dyn Fn(T, T) -> T + Send + Sync),
) -> Option<Chunk<'s, T>> {
    let va = a.broadcast(IxDyn(shape))?;
    let vb = b.broadcast(IxDyn(shape))?;
    Some(Chunk::Shared(
        Zip::from(&va)
            .and(&vb)
            .map_collect(|&x, &y| f(x, y))
            .into_shared(),
    ))
}

/// NumPy's broadcast shape of two shapes.
pub(crate) fn broadcast_shapes(
    what: &'static str,
    a: &[usize],
    b: &[usize],
) -> Result<Vec<usize>, Error> {
    let n = a.len().max(b.len());
    let get = |s: &[usize], k: usize| {
        if k + s.len() >= n {
            s[k + s.len() - n]
        } else {
            1
        }
    };
    (0..n)
        .map(|k| {
            let (x, y) = (get(a, k), get(b, k));
            if x == y || y == 1 {
                Ok(x)
            } else if x == 1 {
                Ok(y)
            } else {
                Err(Error::Shape {
                    what,
                    message: format!("shapes {a:?} and {b:?} cannot be broadcast together"),
                })
            }
        })
        .collect()
}

/// Output grid, then each operand with how its blocks follow the output's.
type Aligned<A, B> = (Grid, Array<A>, Follow, Array<B>, Follow);

/// The operands of a binary operation aligned on one grid: output grid, and each operand
/// rechunked (pass-through) to it and its broadcasting map.
fn align<A: Element, B: Element>(
    what: &'static str,
    a: &Array<A>,
    b: &Array<B>,
) -> Result<Aligned<A, B>, Error> {
    let shape = broadcast_shapes(what, a.shape(), b.shape())?;
    let n = shape.len();
    let (oa, ob) = (n - a.ndim(), n - b.ndim());
    // per output axis: the operands' chunks where they are not stretched
    let mut chunks = Vec::with_capacity(n);
    #[allow(clippy::needless_range_loop)]
    for k in 0..n {
        let ca = (k >= oa && (a.shape()[k - oa] == shape[k])).then(|| &a.chunks()[k - oa]);
        let cb = (k >= ob && (b.shape()[k - ob] == shape[k])).then(|| &b.chunks()[k - ob]);
        chunks.push(match (ca, cb) {
            (Some(x), Some(y)) if x == y => x.clone(),
            (Some(x), Some(y)) => refine(x, y),
            (Some(x), None) => x.clone(),
            (None, Some(y)) => y.clone(),
            (None, None) => vec![shape[k]],
        });
    }
    let follow = |arr_shape: &[usize], off: usize| Follow {
        offset: off,
        stretched: arr_shape
            .iter()
            .enumerate()
            .map(|(k, &d)| d == 1 && shape[k + off] != 1)
            .collect(),
    };
    let target = |arr_shape: &[usize], arr_chunks: &[Vec<usize>], off: usize| -> Vec<Vec<usize>> {
        arr_shape
            .iter()
            .enumerate()
            .map(|(k, &d)| {
                if d == 1 && shape[k + off] != 1 {
                    arr_chunks[k].clone()
                } else {
                    chunks[k + off].clone()
                }
            })
            .collect()
    };
    let fa = follow(a.shape(), oa);
    let fb = follow(b.shape(), ob);
    let ta = target(a.shape(), a.chunks(), oa);
    let tb = target(b.shape(), b.chunks(), ob);
    let a2 = if ta.as_slice() == a.chunks() {
        a.clone()
    } else {
        a.refine_to(ta)?
    };
    let b2 = if tb.as_slice() == b.chunks() {
        b.clone()
    } else {
        b.refine_to(tb)?
    };
    Ok((Grid::new(shape, chunks), a2, fa, b2, fb))
}

/// The right-hand side of a comparison: a scalar or an array.
///
/// ```
/// use dagr::array as da;
/// let x = da::arange(0_i64, 5, 1, &[2])?;
/// assert_eq!(x.greater(2).compute()?.into_raw_vec_and_offset().0, vec![false, false, false, true, true]);
/// assert_eq!(x.equal(&x).compute()?.iter().filter(|b| **b).count(), 5);
/// # Ok::<(), dagr::Error>(())
/// ```
pub enum Operand<T> {
    /// One value for every element.
    Scalar(T),
    /// An array, broadcast against the other operand.
    Array(Array<T>),
}

impl<T: Element> From<T> for Operand<T> {
    fn from(v: T) -> Self {
        Operand::Scalar(v)
    }
}
impl<T: Element> From<&Array<T>> for Operand<T> {
    fn from(a: &Array<T>) -> Self {
        Operand::Array(a.clone())
    }
}
impl<T: Element> From<Array<T>> for Operand<T> {
    fn from(a: Array<T>) -> Self {
        Operand::Array(a)
    }
}

impl<T: Element> Array<T> {
    /// Applies `f` to every element (fused; no task of its own). Dask: `x.map_blocks(np.vectorize(f))`.
    ///
    /// ```
    /// let x = dagr::array::arange(0_i64, 4, 1, &[2])?;
    /// let y = x.map(|v| v as f64 * 0.5);
    /// assert_eq!(y.sum().compute()?, 3.0);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn map<U: Element>(&self, f: impl Fn(T) -> U + Send + Sync + 'static) -> Array<U> {
        self.map_into("map", fresh_token(), Arc::new(f))
    }

    pub(super) fn map_into<U: Element>(
        &self,
        op: &str,
        token: u64,
        f: Arc<dyn Fn(T) -> U + Send + Sync>,
    ) -> Array<U> {
        Array::from_shared_src(
            op,
            token,
            self.grid.clone(),
            Arc::new(MapInto {
                parent: self.src.clone(),
                f,
            }),
        )
        .with_err_of(&[self.err.as_ref()])
    }

    /// `f` over every element, fused; compiled into the loops over the block's pieces
    /// (vectorised, no call per element).
    pub(crate) fn map_same(
        &self,
        op: &str,
        token: u64,
        f: impl Fn(T) -> T + Send + Sync + 'static,
    ) -> Array<T> {
        Array::from_shared_src(
            op,
            token,
            self.grid.clone(),
            Arc::new(MapSame {
                parent: self.src.clone(),
                op: Arc::new(Kernel(f)),
            }),
        )
        .with_err_of(&[self.err.as_ref()])
    }

    fn map_scalar(
        &self,
        op: &'static str,
        s: T,
        f: impl Fn(T) -> T + Send + Sync + 'static,
    ) -> Array<T> {
        let token = token_of(op, |h| {
            h.write(&self.token);
            h.write(&s.bits());
            h.write(T::DTYPE);
        });
        self.map_same(op, token, f)
    }

    /// Applies `f` to every block (Dask: `x.map_blocks(f)`). `f` must return a block of the
    /// shape it was given; a block of another shape is an error from `compute`.
    ///
    /// ```
    /// let x = dagr::array::ones::<f64>(&[4, 4], &[2, 2])?;
    /// let y = x.map_blocks(|b| b.mapv(|v| v * 3.0));
    /// assert_eq!(y.sum().compute()?, 48.0);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn map_blocks<U: Element>(
        &self,
        f: impl Fn(ArrayViewD<'_, T>) -> ArrayD<U> + Send + Sync + 'static,
    ) -> Array<U> {
        Array::from_shared_src(
            "map-blocks",
            fresh_token(),
            self.grid.clone(),
            Arc::new(MapBlocks {
                parent: self.src.clone(),
                f: Arc::new(f),
            }),
        )
        .with_err_of(&[self.err.as_ref()])
    }

    /// The array converted to another element type with `as` semantics (Dask: `x.astype(dtype)`).
    ///
    /// ```
    /// let x = dagr::array::arange(0.0, 3.0, 0.75, &[2])?;
    /// assert_eq!(x.astype::<i64>().compute()?.into_raw_vec_and_offset().0, vec![0, 0, 1, 2]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn astype<U: Element>(&self) -> Array<U> {
        let token = token_of("astype", |h| {
            h.write(&self.token);
            h.write(U::DTYPE);
        });
        self.map_into("astype", token, Arc::new(|x: T| x.cast::<U>()))
    }

    /// `f` over this array and `other`, broadcast; an error if the shapes do not broadcast.
    pub(crate) fn try_zip<B: Element, U: Element>(
        &self,
        op: &'static str,
        other: &Array<B>,
        f: impl Fn(T, B) -> U + Send + Sync + 'static,
    ) -> Result<Array<U>, Error> {
        let (grid, a, fa, b, fb) = align(op, self, other)?;
        let token = token_of(op, |h| {
            h.write(&self.token);
            h.write(&other.token);
        });
        let grid = Arc::new(grid);
        let src = Zip2 {
            a: a.src.clone(),
            b: b.src.clone(),
            fa,
            fb,
            grid: grid.clone(),
            f: Arc::new(f),
        };
        Ok(Array::from_shared_src(op, token, grid, Arc::new(src))
            .with_err_of(&[self.err.as_ref(), other.err.as_ref()]))
    }

    fn try_zip_same(
        &self,
        op: &'static str,
        other: &Array<T>,
        f: impl Fn(T, T) -> T + Send + Sync + 'static,
    ) -> Result<Array<T>, Error> {
        let (grid, a, fa, b, fb) = align(op, self, other)?;
        let token = token_of(op, |h| {
            h.write(&self.token);
            h.write(&other.token);
        });
        let grid = Arc::new(grid);
        let src = ZipSame {
            a: a.src.clone(),
            b: b.src.clone(),
            fa,
            fb,
            grid: grid.clone(),
            f: Arc::new(f),
        };
        Ok(Array::from_shared_src(op, token, grid, Arc::new(src))
            .with_err_of(&[self.err.as_ref(), other.err.as_ref()]))
    }

    fn compare(&self, op: &'static str, rhs: Operand<T>, f: fn(&T, &T) -> bool) -> Array<bool> {
        match rhs {
            Operand::Scalar(s) => {
                let token = token_of(op, |h| {
                    h.write(&self.token);
                    h.write(&s.bits());
                });
                self.map_into(op, token, Arc::new(move |x: T| f(&x, &s)))
            }
            Operand::Array(b) => self
                .try_zip(op, &b, move |x, y| f(&x, &y))
                .unwrap_or_else(|e| Array::failing(self.grid.clone(), e)),
        }
    }

    /// `self < rhs` elementwise (NumPy: `x < y`). A shape mismatch is an error from `compute`.
    pub fn less(&self, rhs: impl Into<Operand<T>>) -> Array<bool> {
        self.compare("less", rhs.into(), T::lt)
    }
    /// `self <= rhs` elementwise.
    pub fn less_equal(&self, rhs: impl Into<Operand<T>>) -> Array<bool> {
        self.compare("less-equal", rhs.into(), T::le)
    }
    /// `self > rhs` elementwise.
    pub fn greater(&self, rhs: impl Into<Operand<T>>) -> Array<bool> {
        self.compare("greater", rhs.into(), T::gt)
    }
    /// `self >= rhs` elementwise.
    pub fn greater_equal(&self, rhs: impl Into<Operand<T>>) -> Array<bool> {
        self.compare("greater-equal", rhs.into(), T::ge)
    }
    /// `self == rhs` elementwise.
    pub fn equal(&self, rhs: impl Into<Operand<T>>) -> Array<bool> {
        self.compare("equal", rhs.into(), T::eq)
    }
    /// `self != rhs` elementwise.
    pub fn not_equal(&self, rhs: impl Into<Operand<T>>) -> Array<bool> {
        self.compare("not-equal", rhs.into(), T::ne)
    }
}

macro_rules! try_ops {
    ($($name:ident, $op:literal, $f:ident, $doc:literal;)*) => {
        impl<T: Number> Array<T> {$(
            #[doc = $doc]
            ///
            /// An error now if the shapes do not broadcast (the operator gives an array whose
            /// `compute` returns that error).
            pub fn $name(&self, other: &Array<T>) -> Result<Array<T>, Error> {
                self.try_zip_same($op, other, |x, y| x.$f(y))
            }
        )*}
    };
}
try_ops! {
    try_add, "add", add, "`self + other` elementwise, broadcast like NumPy.";
    try_sub, "sub", sub, "`self - other` elementwise, broadcast like NumPy.";
    try_mul, "mul", mul, "`self * other` elementwise, broadcast like NumPy.";
    try_div, "div", div, "`self / other` elementwise, broadcast like NumPy.";
}

impl<T: Number> Array<T> {
    /// Absolute value of every element (NumPy: `np.abs(x)`).
    pub fn abs(&self) -> Array<T> {
        self.map_same("abs", token_of("abs", |h| h.write(&self.token)), T::abs)
    }
}

impl<T: Float> Array<T> {
    /// Square root of every element (NumPy: `np.sqrt(x)`).
    ///
    /// ```
    /// let x = dagr::array::full(&[3], &[2], 16.0_f64)?;
    /// assert_eq!(x.sqrt().sum().compute()?, 12.0);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn sqrt(&self) -> Array<T> {
        self.map_same("sqrt", token_of("sqrt", |h| h.write(&self.token)), T::sqrt)
    }
    /// `e^x` of every element (NumPy: `np.exp(x)`).
    pub fn exp(&self) -> Array<T> {
        self.map_same("exp", token_of("exp", |h| h.write(&self.token)), T::exp)
    }
    /// Natural logarithm of every element (NumPy: `np.log(x)`).
    pub fn log(&self) -> Array<T> {
        self.map_same("log", token_of("log", |h| h.write(&self.token)), T::ln)
    }
}

macro_rules! binop {
    ($Tr:ident, $m:ident, $try:ident, $op:literal, $f:ident) => {
        impl<T: Number> $Tr<T> for &Array<T> {
            type Output = Array<T>;
            fn $m(self, s: T) -> Array<T> {
                self.map_scalar($op, s, move |x| x.$f(s))
            }
        }
        impl<T: Number> $Tr<T> for Array<T> {
            type Output = Array<T>;
            fn $m(self, s: T) -> Array<T> {
                (&self).$m(s)
            }
        }
        impl<T: Number> $Tr<&Array<T>> for &Array<T> {
            type Output = Array<T>;
            fn $m(self, o: &Array<T>) -> Array<T> {
                self.$try(o).unwrap_or_else(|e| self.fail(e))
            }
        }
        impl<T: Number> $Tr<Array<T>> for &Array<T> {
            type Output = Array<T>;
            fn $m(self, o: Array<T>) -> Array<T> {
                self.$m(&o)
            }
        }
        impl<T: Number> $Tr<&Array<T>> for Array<T> {
            type Output = Array<T>;
            fn $m(self, o: &Array<T>) -> Array<T> {
                (&self).$m(o)
            }
        }
        impl<T: Number> $Tr<Array<T>> for Array<T> {
            type Output = Array<T>;
            fn $m(self, o: Array<T>) -> Array<T> {
                (&self).$m(&o)
            }
        }
    };
}
binop!(Add, add, try_add, "add", add);
binop!(Sub, sub, try_sub, "sub", sub);
binop!(Mul, mul, try_mul, "mul", mul);
binop!(Div, div, try_div, "div", div);

impl<T: Number> Array<T> {
    /// `f(element, scalar)` with a lazy scalar, fused into the blocks.
    fn map_lazy_scalar(&self, op: &'static str, s: &Delayed<T>, f: fn(T, T) -> T) -> Array<T> {
        let key = s.key();
        let token = token_of(op, |h| {
            h.write(&self.token);
            h.write(&key.prefix());
            h.write(&key.token_value());
            h.write(&key.index_value());
        });
        Array::from_shared_src(
            op,
            token,
            self.grid.clone(),
            Arc::new(MapLazyScalar {
                parent: self.src.clone(),
                scalar: s.node.clone(),
                f,
            }),
        )
        .with_err_of(&[self.err.as_ref()])
    }
}

/// Operators with a lazy scalar, such as a reduction of the array itself: `&x - x.mean()`
/// (Dask treats the lazy scalar as a 0-d array). Nothing runs until `compute`: the scalar
/// is computed once, in the same run, and every block reads it. For `x.mean()`, which is a
/// `Delayed<f64>`, the array holds `f64`s.
///
/// ```
/// use dagr::array as da;
/// let x = da::arange(0.0, 8.0, 1.0, &[3])?;
/// let centred = &x - x.mean();                   // x - x.mean()
/// assert_eq!(centred.sum().compute()?, 0.0);
/// let z = (&x - x.mean()) / x.std();             // (x - x.mean()) / x.std()
/// let (m, z) = dagr::compute((&x.mean(), &z))?;
/// assert_eq!(m, 3.5);
/// assert!((z[[7]] - 3.5 / 5.25_f64.sqrt()).abs() < 1e-12);
/// # Ok::<(), dagr::Error>(())
/// ```
macro_rules! lazy_scalar_op {
    ($Tr:ident, $m:ident, $op:literal, $rop:literal, $f:expr, $rf:expr) => {
        impl<T: Number> $Tr<&Delayed<T>> for &Array<T> {
            type Output = Array<T>;
            fn $m(self, s: &Delayed<T>) -> Array<T> {
                self.map_lazy_scalar($op, s, $f)
            }
        }
        impl<T: Number> $Tr<Delayed<T>> for &Array<T> {
            type Output = Array<T>;
            fn $m(self, s: Delayed<T>) -> Array<T> {
                self.map_lazy_scalar($op, &s, $f)
            }
        }
        impl<T: Number> $Tr<&Delayed<T>> for Array<T> {
            type Output = Array<T>;
            fn $m(self, s: &Delayed<T>) -> Array<T> {
                self.map_lazy_scalar($op, s, $f)
            }
        }
        impl<T: Number> $Tr<Delayed<T>> for Array<T> {
            type Output = Array<T>;
            fn $m(self, s: Delayed<T>) -> Array<T> {
                self.map_lazy_scalar($op, &s, $f)
            }
        }
        impl<T: Number> $Tr<&Array<T>> for &Delayed<T> {
            type Output = Array<T>;
            fn $m(self, x: &Array<T>) -> Array<T> {
                x.map_lazy_scalar($rop, self, $rf)
            }
        }
        impl<T: Number> $Tr<&Array<T>> for Delayed<T> {
            type Output = Array<T>;
            fn $m(self, x: &Array<T>) -> Array<T> {
                x.map_lazy_scalar($rop, &self, $rf)
            }
        }
        impl<T: Number> $Tr<Array<T>> for &Delayed<T> {
            type Output = Array<T>;
            fn $m(self, x: Array<T>) -> Array<T> {
                x.map_lazy_scalar($rop, self, $rf)
            }
        }
        impl<T: Number> $Tr<Array<T>> for Delayed<T> {
            type Output = Array<T>;
            fn $m(self, x: Array<T>) -> Array<T> {
                x.map_lazy_scalar($rop, &self, $rf)
            }
        }
    };
}
lazy_scalar_op!(Add, add, "add", "add", |x, s| x.add(s), |x, s| s.add(x));
lazy_scalar_op!(Sub, sub, "sub", "rsub", |x, s| x.sub(s), |x, s| s.sub(x));
lazy_scalar_op!(Mul, mul, "mul", "mul", |x, s| x.mul(s), |x, s| s.mul(x));
lazy_scalar_op!(Div, div, "div", "rdiv", |x, s| x.div(s), |x, s| s.div(x));

macro_rules! scalar_left {
    ($($t:ty),*) => {$(
        impl Add<&Array<$t>> for $t {
            type Output = Array<$t>;
            fn add(self, x: &Array<$t>) -> Array<$t> { x + self }
        }
        impl Add<Array<$t>> for $t {
            type Output = Array<$t>;
            fn add(self, x: Array<$t>) -> Array<$t> { &x + self }
        }
        impl Mul<&Array<$t>> for $t {
            type Output = Array<$t>;
            fn mul(self, x: &Array<$t>) -> Array<$t> { x * self }
        }
        impl Mul<Array<$t>> for $t {
            type Output = Array<$t>;
            fn mul(self, x: Array<$t>) -> Array<$t> { &x * self }
        }
        impl Sub<&Array<$t>> for $t {
            type Output = Array<$t>;
            fn sub(self, x: &Array<$t>) -> Array<$t> { x.map_scalar("rsub", self, move |v| Number::sub(self, v)) }
        }
        impl Sub<Array<$t>> for $t {
            type Output = Array<$t>;
            fn sub(self, x: Array<$t>) -> Array<$t> { self - &x }
        }
        impl Div<&Array<$t>> for $t {
            type Output = Array<$t>;
            fn div(self, x: &Array<$t>) -> Array<$t> { x.map_scalar("rdiv", self, move |v| Number::div(self, v)) }
        }
        impl Div<Array<$t>> for $t {
            type Output = Array<$t>;
            fn div(self, x: Array<$t>) -> Array<$t> { self / &x }
        }
    )*};
}
scalar_left!(f64, f32, i64, i32, i16, i8, u64, u32, u16, u8);

impl<T: Number> Neg for &Array<T> {
    type Output = Array<T>;
    fn neg(self) -> Array<T> {
        self.map_scalar("neg", T::ZERO, |v| T::ZERO.sub(v))
    }
}
impl<T: Number> Neg for Array<T> {
    type Output = Array<T>;
    fn neg(self) -> Array<T> {
        -&self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_rules_follow_numpy() {
        assert_eq!(broadcast_shapes("t", &[3, 1], &[4]).unwrap(), vec![3, 4]);
        assert_eq!(broadcast_shapes("t", &[], &[2, 2]).unwrap(), vec![2, 2]);
        assert!(broadcast_shapes("t", &[3], &[4]).is_err());
    }
}
