//! Selections and missing values: [`where_`], [`Array::clip`], [`Array::isnan`] and the
//! reductions that skip NaN (`nansum`, `nanmean`, `nanmin`, `nanmax` and their `_axis`
//! forms). All of them are elementwise steps fused into the block pipeline (no task of
//! their own) followed, for the reductions, by the ordinary reductions' combine trees.

use super::blocks::{Blocks, Chunk, Cursor, Src};
use super::element::{Element, Number};
use super::fuse::broadcast_shapes;
use super::grid::{refine, Grid};
use super::{full, token_of, Array, Operand};
use crate::delayed::{map2, Delayed};
use crate::share::Walk;
use crate::Error;
use dagr_runtime::TaskError;
use ndarray::{IxDyn, Zip};
use std::sync::Arc;

/// How an operand's block index follows the output's under broadcasting.
#[derive(Clone)]
pub(super) struct Follow {
    /// Output axes the operand lacks (leading).
    offset: usize,
    /// Per operand axis: whether it has length 1 and is stretched (block 0 always).
    stretched: Vec<bool>,
}

impl Follow {
    pub(super) fn index(&self, idx: &[usize]) -> Vec<usize> {
        self.stretched
            .iter()
            .enumerate()
            .map(|(k, &s)| if s { 0 } else { idx[k + self.offset] })
            .collect()
    }
}

/// An operand's chunks cut to the output grid, and how its blocks follow the output's.
pub(super) type Cut = (Vec<Vec<usize>>, Follow);

/// The output grid of operands broadcast together (NumPy's rules), and per operand its
/// chunks cut to that grid and how its blocks follow the output's.
pub(super) fn align(
    what: &'static str,
    operands: &[(&[usize], &[Vec<usize>])],
) -> Result<(Grid, Vec<Cut>), Error> {
    let mut shape: Vec<usize> = Vec::new();
    for (s, _) in operands {
        shape = broadcast_shapes(what, &shape, s)?;
    }
    let n = shape.len();
    let chunks: Vec<Vec<usize>> = (0..n)
        .map(|k| {
            operands
                .iter()
                .filter_map(|(s, c)| {
                    let off = n - s.len();
                    (k >= off && s[k - off] == shape[k]).then(|| c[k - off].clone())
                })
                .reduce(|a, b| refine(&a, &b))
                .unwrap_or_else(|| vec![shape[k]])
        })
        .collect();
    let per = operands
        .iter()
        .map(|(s, c)| {
            let off = n - s.len();
            let stretched: Vec<bool> = s
                .iter()
                .enumerate()
                .map(|(k, &d)| d == 1 && shape[k + off] != 1)
                .collect();
            let target = stretched
                .iter()
                .enumerate()
                .map(|(k, &st)| {
                    if st {
                        c[k].clone()
                    } else {
                        chunks[k + off].clone()
                    }
                })
                .collect();
            (
                target,
                Follow {
                    offset: off,
                    stretched,
                },
            )
        })
        .collect();
    Ok((Grid::new(shape, chunks), per))
}

/// The array cut to `chunks` (a refinement of its own), fused.
fn cut<T: Element>(a: &Array<T>, chunks: Vec<Vec<usize>>) -> Result<Array<T>, Error> {
    if chunks.as_slice() == a.chunks() {
        Ok(a.clone())
    } else {
        a.refine_to(chunks)
    }
}

/// `cond ? a : b`, the three operands broadcast.
struct Choose<T> {
    cond: Src<bool>,
    a: Src<T>,
    b: Src<T>,
    follow: [Follow; 3],
    grid: Arc<Grid>,
}

impl<T: Element> Blocks<T> for Choose<T> {
    fn inputs(&self, idx: &[usize], out: &mut Walk<'_>) {
        self.cond.inputs(&self.follow[0].index(idx), out);
        self.a.inputs(&self.follow[1].index(idx), out);
        self.b.inputs(&self.follow[2].index(idx), out);
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        let c = self.cond.block(&self.follow[0].index(idx), inp)?;
        let a = self.a.block(&self.follow[1].index(idx), inp)?;
        let b = self.b.block(&self.follow[2].index(idx), inp)?;
        let shape = IxDyn(&self.grid.block_shape(idx));
        let (vc, va, vb) = (c.view(), a.view(), b.view());
        let (Some(vc), Some(va), Some(vb)) = (
            vc.broadcast(shape.clone()),
            va.broadcast(shape.clone()),
            vb.broadcast(shape.clone()),
        ) else {
            return Err(TaskError::new(Error::Shape {
                what: "where",
                message: format!(
                    "blocks {:?}, {:?} and {:?} do not broadcast to {:?}",
                    c.shape(),
                    a.shape(),
                    b.shape(),
                    self.grid.block_shape(idx)
                ),
            }));
        };
        Ok(Chunk::Shared(
            Zip::from(&vc)
                .and(&va)
                .and(&vb)
                .map_collect(|&c, &x, &y| if c { x } else { y })
                .into_shared(),
        ))
    }
}

/// An operand as an array: a scalar is a 0-dimensional one, broadcast everywhere.
fn operand_array<T: Element>(o: Operand<T>) -> Result<Array<T>, Error> {
    match o {
        Operand::Array(a) => Ok(a),
        Operand::Scalar(s) => full(&[], &[] as &[usize], s),
    }
}

/// Elements of `a` where `cond` holds and of `b` elsewhere (NumPy and Dask:
/// `where(cond, a, b)`; `where` is a Rust keyword). `a` and `b` are arrays or scalars; the
/// three are broadcast together as NumPy does, and their chunks unified. Fused: no task.
///
/// ```
/// use dagr::array as da;
/// let x = da::arange(-2_i64, 3, 1, &[2])?;
/// let y = da::where_(&x.greater(0), &x, 0)?;               // da.where(x > 0, x, 0)
/// assert_eq!(y.compute()?.into_raw_vec_and_offset().0, vec![0, 0, 0, 1, 2]);
/// let row = da::from_array(dagr::ndarray::arr1(&[true, false]).into_dyn(), &[1])?;
/// let m = da::where_(&row, 1.0, &da::zeros::<f64>(&[3, 2], &[2, 2])?)?;
/// assert_eq!(m.shape(), &[3, 2]);
/// assert_eq!(m.sum().compute()?, 3.0);
/// assert!(da::where_(&x.greater(0), &da::ones::<i64>(&[4], &[4])?, 0).is_err());
/// # Ok::<(), dagr::Error>(())
/// ```
#[doc(alias = "where")]
pub fn where_<T: Element>(
    cond: &Array<bool>,
    a: impl Into<Operand<T>>,
    b: impl Into<Operand<T>>,
) -> Result<Array<T>, Error> {
    let a = operand_array(a.into())?;
    let b = operand_array(b.into())?;
    let (grid, per) = align(
        "where",
        &[
            (cond.shape(), cond.chunks()),
            (a.shape(), a.chunks()),
            (b.shape(), b.chunks()),
        ],
    )?;
    let mut per = per.into_iter();
    let mut next = || per.next().unwrap_or_else(|| unreachable!("three operands"));
    let (cc, fc) = next();
    let (ca, fa) = next();
    let (cb, fb) = next();
    let c2 = cut(cond, cc)?;
    let a2 = cut(&a, ca)?;
    let b2 = cut(&b, cb)?;
    let token = token_of("where", |h| {
        h.write(&cond.token);
        h.write(&a.token);
        h.write(&b.token);
    });
    let grid = Arc::new(grid);
    let src = Choose {
        cond: c2.src.clone(),
        a: a2.src.clone(),
        b: b2.src.clone(),
        follow: [fc, fa, fb],
        grid: grid.clone(),
    };
    Ok(
        Array::from_shared_src("where", token, grid, Arc::new(src)).with_err_of(&[
            cond.err.as_ref(),
            a.err.as_ref(),
            b.err.as_ref(),
        ]),
    )
}

impl<T: Element> Array<T> {
    /// Whether each element is NaN (NumPy and Dask: `np.isnan(x)`); never, for integers.
    /// Fused: no task.
    ///
    /// ```
    /// let x = dagr::array::from_array(dagr::ndarray::arr1(&[1.0, f64::NAN, 3.0]).into_dyn(), &[2])?;
    /// assert_eq!(x.isnan().compute()?.into_raw_vec_and_offset().0, vec![false, true, false]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn isnan(&self) -> Array<bool> {
        let token = token_of("isnan", |h| h.write(&self.token));
        self.map_into("isnan", token, Arc::new(T::is_nan))
    }

    /// Every element limited to `[min, max]` (NumPy and Dask: `x.clip(min, max)`); either
    /// bound may be `None`. As NumPy's, `min` is applied first, so `max` wins when
    /// `min > max`, and NaN stays NaN. Fused: no task.
    ///
    /// ```
    /// let x = dagr::array::arange(0_i64, 6, 1, &[4])?;
    /// assert_eq!(x.clip(1, 4).compute()?.into_raw_vec_and_offset().0, vec![1, 1, 2, 3, 4, 4]);
    /// assert_eq!(x.clip(None, 2).compute()?.into_raw_vec_and_offset().0, vec![0, 1, 2, 2, 2, 2]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn clip(&self, min: impl Into<Option<T>>, max: impl Into<Option<T>>) -> Array<T> {
        let (lo, hi) = (min.into(), max.into());
        let token = token_of("clip", |h| {
            h.write(&self.token);
            h.write(&lo.map(T::bits));
            h.write(&hi.map(T::bits));
            h.write(T::DTYPE);
        });
        self.map_same("clip", token, move |x: T| {
            let x = match lo {
                Some(l) if x < l => l,
                _ => x,
            };
            match hi {
                Some(h) if x > h => h,
                _ => x,
            }
        })
    }

    /// NaN replaced by `v` (integers unchanged).
    fn nan_to(&self, v: T) -> Array<T> {
        if !T::IS_FLOAT {
            return self.clone();
        }
        let token = token_of("nan-to", |h| {
            h.write(&self.token);
            h.write(&v.bits());
            h.write(T::DTYPE);
        });
        self.map_same("nan-to", token, move |x: T| if x.is_nan() { v } else { x })
    }

    /// 1 where an element is a number, 0 where it is NaN.
    fn not_nan_count(&self) -> Array<u64> {
        self.isnan().map_same_bool_to_count()
    }
}

impl Array<bool> {
    /// `!b as u64` of every element.
    fn map_same_bool_to_count(&self) -> Array<u64> {
        let token = token_of("not-nan-count", |h| h.write(&self.token));
        Array::from_src(
            "not-nan-count",
            token,
            Grid::clone(&self.grid),
            Count {
                parent: self.src.clone(),
            },
        )
        .with_err_of(&[self.err.as_ref()])
    }
}

/// `!b as u64` of every element, as a new block.
struct Count {
    parent: Src<bool>,
}

impl Blocks<u64> for Count {
    fn inputs(&self, idx: &[usize], out: &mut Walk<'_>) {
        self.parent.inputs(idx, out)
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, u64>, TaskError> {
        let c = self.parent.block(idx, inp)?;
        Ok(Chunk::Shared(
            c.view().mapv(|b| u64::from(!b)).into_shared(),
        ))
    }
}

impl<T: Number> Array<T> {
    /// Sum of the elements that are not NaN (NumPy and Dask: `np.nansum(x)`); zero when all
    /// are NaN. Integers have no NaN: the same as [`Array::sum`].
    ///
    /// ```
    /// let x = dagr::array::from_array(dagr::ndarray::arr1(&[1.0, f64::NAN, 3.0]).into_dyn(), &[2])?;
    /// assert_eq!(x.nansum().compute()?, 4.0);
    /// assert_eq!(x.nanmean().compute()?, 2.0);
    /// assert_eq!((x.nanmin().compute()?, x.nanmax().compute()?), (1.0, 3.0));
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn nansum(&self) -> Delayed<T> {
        self.nan_to(T::ZERO).sum()
    }

    /// Mean of the elements that are not NaN, in `f64` (Dask: `da.nanmean(x)`); NaN when
    /// there are none.
    pub fn nanmean(&self) -> Delayed<f64> {
        let y = self.astype::<f64>();
        let s = y.nan_to(0.0).sum();
        let n = y.not_nan_count().sum();
        map2(&s, &n, |s, n| s / n as f64)
    }

    /// Smallest element that is not NaN (Dask: `da.nanmin(x)`); NaN when all are NaN, as
    /// NumPy gives (with a warning there); an error for an empty array.
    pub fn nanmin(&self) -> Delayed<T> {
        self.nan_extreme(true)
    }

    /// Largest element that is not NaN (Dask: `da.nanmax(x)`); NaN when all are NaN.
    pub fn nanmax(&self) -> Delayed<T> {
        self.nan_extreme(false)
    }

    fn nan_extreme(&self, less: bool) -> Delayed<T> {
        if !T::IS_FLOAT {
            return if less { self.min() } else { self.max() };
        }
        let inf = T::from_f64(if less {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        });
        let y = self.nan_to(inf);
        let m = if less { y.min() } else { y.max() };
        let n = self.not_nan_count().sum();
        map2(
            &m,
            &n,
            |m, n| if n == 0 { T::from_f64(f64::NAN) } else { m },
        )
    }

    /// Sums along `axis` of the elements that are not NaN (Dask: `da.nansum(x, axis=k)`).
    ///
    /// ```
    /// use dagr::ndarray::arr2;
    /// let nan = f64::NAN;
    /// let x = dagr::array::from_array(arr2(&[[1.0, nan], [3.0, nan]]).into_dyn(), &[1, 1])?;
    /// assert_eq!(x.nansum_axis(0)?.compute()?.into_raw_vec_and_offset().0, vec![4.0, 0.0]);
    /// assert_eq!(x.nanmean_axis(1)?.compute()?.into_raw_vec_and_offset().0, vec![1.0, 3.0]);
    /// assert!(x.nanmax_axis(0)?.compute()?[1].is_nan());
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn nansum_axis(&self, axis: usize) -> Result<Array<T>, Error> {
        self.nan_to(T::ZERO).sum_axis(axis)
    }

    /// Means along `axis` of the elements that are not NaN, in `f64` (Dask:
    /// `da.nanmean(x, axis=k)`); NaN where a lane has none.
    pub fn nanmean_axis(&self, axis: usize) -> Result<Array<f64>, Error> {
        let y = self.astype::<f64>();
        let s = y.nan_to(0.0).sum_axis(axis)?;
        let n = y.not_nan_count().sum_axis(axis)?.astype::<f64>();
        s.try_div(&n)
    }

    /// Smallest elements along `axis` that are not NaN (Dask: `da.nanmin(x, axis=k)`); NaN
    /// where a lane is all NaN.
    pub fn nanmin_axis(&self, axis: usize) -> Result<Array<T>, Error> {
        self.nan_extreme_axis(axis, true)
    }

    /// Largest elements along `axis` that are not NaN (Dask: `da.nanmax(x, axis=k)`).
    pub fn nanmax_axis(&self, axis: usize) -> Result<Array<T>, Error> {
        self.nan_extreme_axis(axis, false)
    }

    fn nan_extreme_axis(&self, axis: usize, less: bool) -> Result<Array<T>, Error> {
        if !T::IS_FLOAT {
            return if less {
                self.min_axis(axis)
            } else {
                self.max_axis(axis)
            };
        }
        let inf = T::from_f64(if less {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        });
        let y = self.nan_to(inf);
        let m = if less {
            y.min_axis(axis)?
        } else {
            y.max_axis(axis)?
        };
        let none = self.not_nan_count().sum_axis(axis)?.equal(0);
        where_(&none, T::from_f64(f64::NAN), &m)
    }
}
