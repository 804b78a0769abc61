//! Reductions: over the whole array (→ [`Delayed`]) and along one axis (→ [`Array`]).
//!
//! Each block is reduced to a partial result inside the task that makes it (fused with the
//! elementwise pipeline: sums and moments read the block piece by piece with its elementwise
//! steps applied to each piece in cache, see [`super::blocks::Lazy`]; blocks sharing rows in
//! memory are read side by side, see [`Array::partial_nodes`]), then partial results are
//! combined in a fixed tree of fan-in [`SPLIT_EVERY`] in block order, so a result is
//! bit-identical on every scheduler and thread count, and memory holds a few partial results at a time. Partial and combine
//! tasks are named after the array and the partial they compute, so `x.sum()` and
//! `x.mean()` computed together share them.

use super::blocks::{Chunk, WINDOW};
use super::element::{Element, Number};
use super::grid::{check_axis, Grid};
use super::layer::Partial;
use super::{token_of, Array};
use crate::delayed::Delayed;
use crate::node::{new_wired_node, Deps, NodeKind, NodeRef};
use crate::Error;
use crate::{wire_of, Wired};
use dagr_runtime::{Inputs, Key, TaskError, TaskResult, Value};
use ndarray::{ArcArray, ArrayD, ArrayViewD, Axis, IxDyn, Zip};
use std::sync::Arc;

/// A running sum in a fixed order: element `k` of everything fed goes to accumulator
/// `k mod 8`, the eight combined pairwise at the end, so the bits depend on the elements
/// and their order only, not on how they were cut into slices (the same as
/// [`Number::sum_slice`] of them all). The eight sums are independent chains the compiler
/// keeps in vector registers.
struct Summer<T> {
    acc: [T; 8],
    /// Accumulator the next element goes to.
    phase: usize,
}

impl<T: Number> Summer<T> {
    fn new() -> Self {
        Summer {
            acc: [T::ZERO; 8],
            phase: 0,
        }
    }

    #[inline]
    fn feed(&mut self, mut xs: &[T]) {
        let mut acc = self.acc;
        while self.phase != 0 {
            let Some((&x, rest)) = xs.split_first() else {
                self.acc = acc;
                return;
            };
            acc[self.phase] = acc[self.phase].add(x);
            self.phase = (self.phase + 1) % 8;
            xs = rest;
        }
        let mut it = xs.chunks_exact(8);
        for c in &mut it {
            for k in 0..8 {
                acc[k] = acc[k].add(c[k]);
            }
        }
        for (k, &x) in it.remainder().iter().enumerate() {
            acc[k] = acc[k].add(x);
        }
        self.phase = it.remainder().len();
        self.acc = acc;
    }

    fn total(&self) -> T {
        let acc = &self.acc;
        let a = acc[0].add(acc[4]).add(acc[2].add(acc[6]));
        let b = acc[1].add(acc[5]).add(acc[3].add(acc[7]));
        a.add(b)
    }
}

/// Sum of `f(x)` over `xs` in `f64`, with eight accumulators as [`Summer`].
#[inline]
fn sum_f64_by<T: Element>(xs: &[T], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0.0; 8];
    let mut it = xs.chunks_exact(8);
    for c in &mut it {
        for k in 0..8 {
            acc[k] += f(c[k].to_f64());
        }
    }
    for (k, &x) in it.remainder().iter().enumerate() {
        acc[k] += f(x.to_f64());
    }
    (acc[0] + acc[4] + (acc[2] + acc[6])) + (acc[1] + acc[5] + (acc[3] + acc[7]))
}

/// The kept value of two for `min` (`keep_less`) or `max`: NaN wins, as in NumPy.
#[inline]
fn pick<T: Element>(a: T, b: T, keep_less: bool) -> T {
    if a.is_nan() {
        a
    } else if b.is_nan() || (if keep_less { b < a } else { b > a }) {
        b
    } else {
        a
    }
}

/// Whether `(b, ib)` beats `(a, ia)` for arg-min/max: NaN first, then the extreme, then the
/// first index.
#[inline]
fn beats<T: Element>(a: (T, usize), b: (T, usize), keep_less: bool) -> bool {
    match (a.0.is_nan(), b.0.is_nan()) {
        (true, true) => b.1 < a.1,
        (true, false) => false,
        (false, true) => true,
        _ => {
            let better = if keep_less { b.0 < a.0 } else { b.0 > a.0 };
            better || (b.0 == a.0 && b.1 < a.1)
        }
    }
}

/// A block's sum (as [`Summer`]) and element count.
struct SumCount<T> {
    sum: Summer<T>,
    n: u64,
}

impl<T: Number> Partial<T> for SumCount<T> {
    type Out = (T, u64);
    fn start(_shape: &[usize]) -> Self {
        SumCount {
            sum: Summer::new(),
            n: 0,
        }
    }
    fn feed(&mut self, xs: &[T]) {
        self.sum.feed(xs);
        self.n += xs.len() as u64;
    }
    fn finish(self) -> (T, u64) {
        (self.sum.total(), self.n)
    }
}

/// Count, mean and sum of squared deviations of a block: two passes over each window while
/// it is in cache, windows merged in order. Windows follow the block's rows, so that a row
/// read from a strided block is a window (or windows) as it is, never copied: a row of `L`
/// elements is cut into windows of [`WINDOW`] (the last shorter); rows shorter than
/// [`SHORT_ROW`] are taken `⌊WINDOW / L⌋` at a time. Where the windows fall depends on the
/// block's shape only, so the bits do not depend on its layout or on how it was read.
struct Moments<T> {
    /// Elements per segment: one row, or the few short rows that make one window.
    segment: usize,
    /// Position within the current segment.
    at: usize,
    /// The start of the current window when it came in pieces.
    buf: Vec<T>,
    m: (u64, f64, f64),
}

/// Rows shorter than this many elements are windowed several at a time (see [`Moments`]).
const SHORT_ROW: usize = 256;

/// Merges the moments of window `w` into `m`.
fn add_window<T: Element>(m: &mut (u64, f64, f64), w: &[T]) {
    let mean = sum_f64_by(w, |x| x) / w.len() as f64;
    let m2 = sum_f64_by(w, |x| (x - mean) * (x - mean));
    *m = merge_moments(*m, (w.len() as u64, mean, m2));
}

impl<T: Element> Partial<T> for Moments<T> {
    type Out = (u64, f64, f64);
    fn start(shape: &[usize]) -> Self {
        let row = shape.last().copied().unwrap_or(1).max(1);
        let segment = if row < SHORT_ROW {
            row * (WINDOW / row)
        } else {
            row
        };
        Moments {
            segment,
            at: 0,
            buf: Vec::new(),
            m: (0, 0.0, 0.0),
        }
    }
    fn feed(&mut self, mut xs: &[T]) {
        while !xs.is_empty() {
            let start = self.at / WINDOW * WINDOW;
            let need = (start + WINDOW).min(self.segment) - self.at;
            if self.buf.is_empty() && self.at == start && xs.len() >= need {
                add_window(&mut self.m, &xs[..need]);
                xs = &xs[need..];
                self.at += need;
            } else {
                let take = need.min(xs.len());
                self.buf.extend_from_slice(&xs[..take]);
                xs = &xs[take..];
                self.at += take;
                if take == need {
                    add_window(&mut self.m, &self.buf);
                    self.buf.clear();
                }
            }
            if self.at == self.segment {
                self.at = 0;
            }
        }
    }
    fn finish(self) -> (u64, f64, f64) {
        let mut m = self.m;
        if !self.buf.is_empty() {
            add_window(&mut m, &self.buf);
        }
        m
    }
}

/// Chan et al.'s merge of two `(n, mean, m2)`.
fn merge_moments(a: (u64, f64, f64), b: (u64, f64, f64)) -> (u64, f64, f64) {
    if a.0 == 0 {
        return b;
    }
    if b.0 == 0 {
        return a;
    }
    let n = a.0 + b.0;
    let d = b.1 - a.1;
    let mean = a.1 + d * (b.0 as f64 / n as f64);
    let m2 = a.2 + b.2 + d * d * (a.0 as f64 * b.0 as f64 / n as f64);
    (n, mean, m2)
}

/// Combines `level` in the shared fixed tree (pure: equal keys merge when planning).
fn tree<S: Wired>(
    level: Vec<NodeRef>,
    name: &Arc<str>,
    prefix: &[u64],
    combine: Arc<dyn Fn(Vec<S>) -> Result<S, TaskError> + Send + Sync>,
) -> NodeRef {
    crate::tree::combine_tree(level, name, prefix, true, Some(wire_of::<S>()), combine)
}

fn empty(what: &'static str) -> TaskError {
    TaskError::new(Error::Empty { what })
}

impl<T: Element> Array<T> {
    /// A whole-array reduction: `partial` per block (fused), a combine tree, `finish`.
    pub(crate) fn reduction<P: Wired, R: Wired>(
        &self,
        kind: &str,
        what: &str,
        partial: impl Fn(&[usize], ArrayViewD<'_, T>, &Grid) -> P + Send + Sync + 'static,
        combine: impl Fn(Vec<P>) -> Result<P, TaskError> + Send + Sync + 'static,
        finish: impl Fn(P) -> Result<R, TaskError> + Send + Sync + 'static,
    ) -> Delayed<R> {
        let grid = self.grid.clone();
        let part_name: Arc<str> = format!("{kind}-part-{:016x}", self.token).into();
        let parts = self.lazy_nodes_with(&part_name, move |idx, c| {
            Ok(partial(idx, c.materialize()?.view(), &grid))
        });
        self.combined(kind, what, parts, combine, finish)
    }

    /// [`Array::reduction`] whose per-block step is a [`Partial`], fed the block's elements
    /// with its elementwise steps applied as they are read.
    fn partial_reduction<A: Partial<T>, R: Wired>(
        &self,
        kind: &str,
        what: &str,
        combine: impl Fn(Vec<A::Out>) -> Result<A::Out, TaskError> + Send + Sync + 'static,
        finish: impl Fn(A::Out) -> Result<R, TaskError> + Send + Sync + 'static,
    ) -> Delayed<R> {
        let part_name: Arc<str> = format!("{kind}-part-{:016x}", self.token).into();
        let parts = self.partial_nodes::<A>(&part_name);
        self.combined(kind, what, parts, combine, finish)
    }

    /// The partials `parts` combined in the fixed tree, then `finish`.
    fn combined<P: Wired, R: Wired>(
        &self,
        kind: &str,
        what: &str,
        parts: Vec<NodeRef>,
        combine: impl Fn(Vec<P>) -> Result<P, TaskError> + Send + Sync + 'static,
        finish: impl Fn(P) -> Result<R, TaskError> + Send + Sync + 'static,
    ) -> Delayed<R> {
        let agg: Arc<str> = format!("{kind}-agg-{:016x}", self.token).into();
        let root = tree(parts, &agg, &[], Arc::new(combine));
        let body = move |inp: &mut Inputs<'_>| -> TaskResult {
            Ok(Value::new(finish(inp.take::<P>(0)?)?))
        };
        Delayed::from_node(new_wired_node(
            Key::index(format!("{what}-{:016x}", self.token), &[]),
            Deps::one(root),
            NodeKind::Call,
            true,
            Some(wire_of::<R>()),
            body,
        ))
    }

    /// An axis reduction: `partial` per block (fused; given the block's start along `axis`),
    /// a combine tree per output block over the blocks along `axis`, `finish` per output block.
    fn axis_reduction<P: Wired, U: Element>(
        &self,
        kind: &str,
        axis: usize,
        partial: impl Fn(ArrayViewD<'_, T>, Axis, usize) -> P + Send + Sync + 'static,
        combine: impl Fn(Vec<P>) -> Result<P, TaskError> + Send + Sync + 'static,
        finish: impl Fn(P) -> Result<ArrayD<U>, TaskError> + Send + Sync + 'static,
    ) -> Result<Array<U>, Error> {
        self.axis_reduction_named(kind, kind, axis, partial, combine, finish)
    }

    /// [`Array::axis_reduction`] whose partial results (`kind`) may be shared with another
    /// reduction that finishes differently (`what`).
    fn axis_reduction_named<P: Wired, U: Element>(
        &self,
        kind: &str,
        what: &str,
        axis: usize,
        partial: impl Fn(ArrayViewD<'_, T>, Axis, usize) -> P + Send + Sync + 'static,
        combine: impl Fn(Vec<P>) -> Result<P, TaskError> + Send + Sync + 'static,
        finish: impl Fn(P) -> Result<ArrayD<U>, TaskError> + Send + Sync + 'static,
    ) -> Result<Array<U>, Error> {
        check_axis("reduction", axis, self.ndim())?;
        let token = token_of(kind, |h| {
            h.write(&self.token);
            h.write(&axis);
        });
        let part_name: Arc<str> = format!("{kind}-part-{token:016x}").into();
        let grid = self.grid.clone();
        let parts = self.nodes_with(&part_name, move |idx, c: Chunk<'_, T>| {
            Ok(partial(c.view(), Axis(axis), grid.starts[axis][idx[axis]]))
        });
        let nb = self.grid.numblocks();
        let mut shape = self.shape().to_vec();
        shape.remove(axis);
        let mut chunks = self.chunks().to_vec();
        chunks.remove(axis);
        let out = Grid::new(shape, chunks);
        let agg: Arc<str> = format!("{kind}-agg-{token:016x}").into();
        let fin_token = token_of(what, |h| h.write(&token));
        let fin: Arc<str> = format!("{what}-{fin_token:016x}").into();
        let combine: Arc<dyn Fn(Vec<P>) -> Result<P, TaskError> + Send + Sync> = Arc::new(combine);
        let finish = Arc::new(finish);
        let nodes = out
            .blocks()
            .into_iter()
            .map(|o| {
                let group: Vec<NodeRef> = (0..nb[axis])
                    .map(|j| {
                        let mut idx = o.clone();
                        idx.insert(axis, j);
                        parts[super::blocks::linear(&idx, &nb)].clone()
                    })
                    .collect();
                let key: Vec<u64> = o.iter().map(|&i| i as u64).collect();
                let root = tree(group, &agg, &key, combine.clone());
                let finish = finish.clone();
                let body = move |inp: &mut Inputs<'_>| -> TaskResult {
                    Ok(Value::new(finish(inp.take::<P>(0)?)?.into_shared()))
                };
                new_wired_node(
                    Key::index(fin.clone(), &key),
                    Deps::one(root),
                    NodeKind::Call,
                    true,
                    Some(crate::wire::array_node_wire::<U, ArcArray<U, IxDyn>>()),
                    body,
                )
            })
            .collect();
        Ok(Array::from_nodes(what, fin_token, out, nodes).with_err_of(&[self.err.as_ref()]))
    }

    /// Smallest element (Dask: `x.min()`); NaN if there is one; an error for an empty array.
    ///
    /// ```
    /// let x = dagr::array::arange(-3_i64, 4, 1, &[3])?;
    /// assert_eq!((x.min().compute()?, x.max().compute()?), (-3, 3));
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn min(&self) -> Delayed<T> {
        self.extreme("min", true)
    }

    /// Largest element (Dask: `x.max()`); NaN if there is one; an error for an empty array.
    pub fn max(&self) -> Delayed<T> {
        self.extreme("max", false)
    }

    fn extreme(&self, what: &'static str, less: bool) -> Delayed<T> {
        let fold = move |acc: Option<T>, x: T| Some(acc.map_or(x, |a| pick(a, x, less)));
        self.reduction(
            what,
            what,
            move |_, v, _| v.iter().copied().fold(None, fold),
            move |ps| Ok(ps.into_iter().flatten().fold(None, fold)),
            move |p| p.ok_or_else(|| empty(what)),
        )
    }

    /// Flat (C-order) index of the smallest element, the first one on ties (Dask:
    /// `x.argmin()`); an error for an empty array.
    ///
    /// ```
    /// let x = dagr::array::from_array(dagr::ndarray::arr2(&[[3, 1], [0, 0]]).into_dyn(), &[1, 1])?;
    /// assert_eq!((x.argmin().compute()?, x.argmax().compute()?), (2, 0));
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn argmin(&self) -> Delayed<usize> {
        self.arg_extreme("argmin", true)
    }

    /// Flat (C-order) index of the largest element, the first one on ties (Dask: `x.argmax()`).
    pub fn argmax(&self) -> Delayed<usize> {
        self.arg_extreme("argmax", false)
    }

    fn arg_extreme(&self, what: &'static str, less: bool) -> Delayed<usize> {
        let better = move |a: Option<(T, usize)>, b: (T, usize)| match a {
            Some(a) if !beats(a, b, less) => Some(a),
            _ => Some(b),
        };
        self.reduction(
            what,
            what,
            move |idx, v, grid| {
                let start = grid.block_start(idx);
                let shape = &grid.shape;
                v.indexed_iter().fold(None, |acc, (i, &x)| {
                    let flat = (0..shape.len()).fold(0, |f, k| f * shape[k] + start[k] + i[k]);
                    better(acc, (x, flat))
                })
            },
            move |ps| Ok(ps.into_iter().flatten().fold(None, better)),
            move |p| p.map(|(_, i)| i).ok_or_else(|| empty(what)),
        )
    }

    /// Smallest elements along `axis` (Dask: `x.min(axis=k)`); an error for an axis out of
    /// range, and from `compute` for an empty axis.
    ///
    /// ```
    /// let x = dagr::array::from_array(dagr::ndarray::arr2(&[[3, 1], [0, 5]]).into_dyn(), &[1, 1])?;
    /// assert_eq!(x.min_axis(0)?.compute()?.into_raw_vec_and_offset().0, vec![0, 1]);
    /// assert_eq!(x.max_axis(1)?.compute()?.into_raw_vec_and_offset().0, vec![3, 5]);
    /// assert!(x.min_axis(2).is_err());
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn min_axis(&self, axis: usize) -> Result<Array<T>, Error> {
        self.extreme_axis("min-axis", axis, true)
    }

    /// Largest elements along `axis` (Dask: `x.max(axis=k)`).
    pub fn max_axis(&self, axis: usize) -> Result<Array<T>, Error> {
        self.extreme_axis("max-axis", axis, false)
    }

    fn extreme_axis(&self, kind: &'static str, axis: usize, less: bool) -> Result<Array<T>, Error> {
        self.axis_reduction(
            kind,
            axis,
            move |v, ax, _| {
                if v.len_of(ax) == 0 {
                    return None;
                }
                Some(v.map_axis(ax, |lane| {
                    lane.iter()
                        .copied()
                        .reduce(|a, b| pick(a, b, less))
                        .unwrap_or_default()
                }))
            },
            move |ps: Vec<Option<ArrayD<T>>>| {
                let mut it = ps.into_iter().flatten();
                let Some(mut acc) = it.next() else {
                    return Ok(None);
                };
                for p in it {
                    Zip::from(&mut acc)
                        .and(&p)
                        .for_each(|a, &b| *a = pick(*a, b, less));
                }
                Ok(Some(acc))
            },
            move |p| p.ok_or_else(|| empty("min/max along an axis")),
        )
    }

    /// Indices along `axis` of the smallest elements (Dask: `x.argmin(axis=k)`).
    ///
    /// ```
    /// let x = dagr::array::from_array(dagr::ndarray::arr2(&[[3, 1], [0, 5]]).into_dyn(), &[1, 1])?;
    /// assert_eq!(x.argmin_axis(0)?.compute()?.into_raw_vec_and_offset().0, vec![1, 0]);
    /// assert_eq!(x.argmax_axis(1)?.compute()?.into_raw_vec_and_offset().0, vec![0, 1]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn argmin_axis(&self, axis: usize) -> Result<Array<usize>, Error> {
        self.arg_extreme_axis("argmin-axis", axis, true)
    }

    /// Indices along `axis` of the largest elements (Dask: `x.argmax(axis=k)`).
    pub fn argmax_axis(&self, axis: usize) -> Result<Array<usize>, Error> {
        self.arg_extreme_axis("argmax-axis", axis, false)
    }

    fn arg_extreme_axis(
        &self,
        kind: &'static str,
        axis: usize,
        less: bool,
    ) -> Result<Array<usize>, Error> {
        type P<T> = Option<(ArrayD<T>, ArrayD<usize>)>;
        self.axis_reduction(
            kind,
            axis,
            move |v, ax, start| -> P<T> {
                if v.len_of(ax) == 0 {
                    return None;
                }
                let best = v.map_axis(ax, |lane| {
                    lane.iter()
                        .copied()
                        .enumerate()
                        .map(|(i, x)| (x, start + i))
                        .reduce(|a, b| if beats(a, b, less) { b } else { a })
                        .unwrap_or_default()
                });
                Some((best.mapv(|p| p.0), best.mapv(|p| p.1)))
            },
            move |ps: Vec<P<T>>| {
                let mut it = ps.into_iter().flatten();
                let Some((mut vals, mut idx)) = it.next() else {
                    return Ok(None);
                };
                for (pv, pi) in it {
                    Zip::from(&mut vals)
                        .and(&mut idx)
                        .and(&pv)
                        .and(&pi)
                        .for_each(|a, ia, &b, &ib| {
                            if beats((*a, *ia), (b, ib), less) {
                                *a = b;
                                *ia = ib;
                            }
                        });
                }
                Ok(Some((vals, idx)))
            },
            move |p| {
                p.map(|(_, i)| i)
                    .ok_or_else(|| empty("argmin/argmax along an axis"))
            },
        )
    }
}

impl<T: Number> Array<T> {
    /// Sum of all elements (Dask: `x.sum()`), in `T` (integers wrap); zero when empty.
    ///
    /// ```
    /// let x = dagr::array::ones::<f64>(&[100, 100], &[30, 30])?;
    /// assert_eq!((&x + 1.0).sum().compute()?, 20000.0);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn sum(&self) -> Delayed<T> {
        self.sum_count("sum", |(s, _)| Ok(s))
    }

    /// Arithmetic mean of all elements (Dask: `x.mean()`); NaN when empty, as NumPy. Shares
    /// its per-block work with [`Array::sum`] when both are computed together. Integers are
    /// summed in `f64`, as NumPy does, so their mean does not wrap.
    ///
    /// ```
    /// let x = dagr::array::arange(0_i64, 10, 1, &[3])?;
    /// assert_eq!(x.mean().compute()?, 4.5);
    /// let big = dagr::array::full(&[4], &[2], 100_i8)?;   // the sum 400 does not fit an i8
    /// assert_eq!(big.mean().compute()?, 100.0);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn mean(&self) -> Delayed<f64> {
        if !T::IS_FLOAT {
            // NumPy sums integers in f64 for the mean: no wrapping
            return self.astype::<f64>().mean();
        }
        self.sum_count("mean", |(s, n)| Ok(s.to_f64() / n as f64))
    }

    fn sum_count<R: Wired>(
        &self,
        what: &str,
        finish: impl Fn((T, u64)) -> Result<R, TaskError> + Send + Sync + 'static,
    ) -> Delayed<R> {
        self.partial_reduction::<SumCount<T>, R>(
            "sum",
            what,
            |ps| {
                Ok(ps
                    .into_iter()
                    .fold((T::ZERO, 0), |(s, n), (s2, n2)| (s.add(s2), n + n2)))
            },
            finish,
        )
    }

    /// Variance of all elements, ddof = 0 as NumPy and Dask (`x.var()`); NaN when empty.
    /// Per-block moments merged with Chan's formula (stable for large means).
    ///
    /// ```
    /// let x = dagr::array::arange(1.0, 5.0, 1.0, &[3])?;
    /// assert_eq!(x.var().compute()?, 1.25);
    /// assert_eq!(x.std().compute()?, 1.25_f64.sqrt());
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn var(&self) -> Delayed<f64> {
        self.moments_reduction("var", |m| m.2 / m.0 as f64)
    }

    /// Standard deviation of all elements, ddof = 0 (Dask: `x.std()`).
    pub fn std(&self) -> Delayed<f64> {
        self.moments_reduction("std", |m| (m.2 / m.0 as f64).sqrt())
    }

    fn moments_reduction(&self, what: &str, finish: fn((u64, f64, f64)) -> f64) -> Delayed<f64> {
        self.partial_reduction::<Moments<T>, f64>(
            "moments",
            what,
            |ps| Ok(ps.into_iter().fold((0, 0.0, 0.0), merge_moments)),
            move |m| Ok(finish(m)),
        )
    }

    /// Sums along `axis` (Dask: `x.sum(axis=k)`).
    ///
    /// ```
    /// let x = dagr::array::ones::<i64>(&[4, 3], &[3, 2])?;
    /// assert_eq!(x.sum_axis(0)?.compute()?.into_raw_vec_and_offset().0, vec![4, 4, 4]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn sum_axis(&self, axis: usize) -> Result<Array<T>, Error> {
        self.sum_count_axis("sum-axis", axis, |s, _| s)
    }

    /// Means along `axis` (Dask: `x.mean(axis=k)`).
    ///
    /// ```
    /// let x = dagr::array::arange(0.0, 6.0, 1.0, &[6])?.reshape(&[2, 3])?;
    /// assert_eq!(x.mean_axis(1)?.compute()?.into_raw_vec_and_offset().0, vec![1.0, 4.0]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn mean_axis(&self, axis: usize) -> Result<Array<f64>, Error> {
        if !T::IS_FLOAT {
            return self.astype::<f64>().mean_axis(axis);
        }
        self.sum_count_axis("mean-axis", axis, |s, n| s.mapv(|v| v.to_f64() / n as f64))
    }

    fn sum_count_axis<U: Element>(
        &self,
        kind: &str,
        axis: usize,
        finish: impl Fn(ArrayD<T>, u64) -> ArrayD<U> + Send + Sync + 'static,
    ) -> Result<Array<U>, Error> {
        self.axis_reduction_named(
            "sum-axis",
            kind,
            axis,
            |v, ax, _| {
                (
                    v.fold_axis(ax, T::ZERO, |a, &x| a.add(x)),
                    v.len_of(ax) as u64,
                )
            },
            |ps: Vec<(ArrayD<T>, u64)>| {
                let mut it = ps.into_iter();
                let Some((mut acc, mut n)) = it.next() else {
                    return Err(empty("sum along an axis"));
                };
                for (p, m) in it {
                    Zip::from(&mut acc).and(&p).for_each(|a, &b| *a = a.add(b));
                    n += m;
                }
                Ok((acc, n))
            },
            move |(s, n)| Ok(finish(s, n)),
        )
    }

    /// Variances along `axis`, ddof = 0 (Dask: `x.var(axis=k)`).
    ///
    /// ```
    /// let x = dagr::array::arange(0.0, 6.0, 1.0, &[6])?.reshape(&[2, 3])?;
    /// assert_eq!(x.var_axis(0)?.compute()?.into_raw_vec_and_offset().0, vec![2.25; 3]);
    /// assert_eq!(x.std_axis(0)?.compute()?.into_raw_vec_and_offset().0, vec![1.5; 3]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn var_axis(&self, axis: usize) -> Result<Array<f64>, Error> {
        self.moments_axis("var-axis", axis, |m2, n| m2 / n)
    }

    /// Standard deviations along `axis`, ddof = 0 (Dask: `x.std(axis=k)`).
    pub fn std_axis(&self, axis: usize) -> Result<Array<f64>, Error> {
        self.moments_axis("std-axis", axis, |m2, n| (m2 / n).sqrt())
    }

    fn moments_axis(
        &self,
        kind: &str,
        axis: usize,
        finish: fn(f64, f64) -> f64,
    ) -> Result<Array<f64>, Error> {
        type M = (u64, ArrayD<f64>, ArrayD<f64>);
        self.axis_reduction(
            kind,
            axis,
            |v, ax, _| -> M {
                let n = v.len_of(ax);
                let mean = v.map_axis(ax, |l| l.iter().map(|x| x.to_f64()).sum::<f64>() / n as f64);
                let m2 = Zip::from(v.lanes(ax))
                    .and(&mean)
                    .map_collect(|l, &m| l.iter().map(|x| (x.to_f64() - m).powi(2)).sum::<f64>());
                (n as u64, mean, m2)
            },
            |ps: Vec<M>| {
                let mut it = ps.into_iter();
                let Some((mut n, mut mean, mut m2)) = it.next() else {
                    return Err(empty("var along an axis"));
                };
                for (nb, mb, qb) in it {
                    if nb == 0 {
                        continue;
                    }
                    if n == 0 {
                        (n, mean, m2) = (nb, mb, qb);
                        continue;
                    }
                    Zip::from(&mut mean)
                        .and(&mut m2)
                        .and(&mb)
                        .and(&qb)
                        .for_each(|ma, qa, &mb, &qb| {
                            let (_, m, q) = merge_moments((n, *ma, *qa), (nb, mb, qb));
                            *ma = m;
                            *qa = q;
                        });
                    n += nb;
                }
                Ok((n, mean, m2))
            },
            move |(n, _, m2)| Ok(m2.mapv(|q| finish(q, n as f64))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sum_fed_in_pieces_has_the_bits_of_one_slice() {
        let xs: Vec<f64> = (0..10_007)
            .map(|i| ((i * 7919) % 1013) as f64 * 0.1 - 3.3)
            .collect();
        let mut cuts = Summer::new();
        let mut pos = 0;
        for (k, len) in [1, 3, 500, 4, 13, 8, 9, 2048, 5].iter().cycle().enumerate() {
            if pos >= xs.len() || k > 10_000 {
                break;
            }
            let end = (pos + len).min(xs.len());
            cuts.feed(&xs[pos..end]);
            pos = end;
        }
        assert_eq!(cuts.total().to_bits(), f64::sum_slice(&xs).to_bits());
        let mut empty = Summer::<i64>::new();
        empty.feed(&[]);
        assert_eq!(empty.total(), 0);
    }

    /// Moments fed row by row (a strided block), whole (a contiguous one) or in odd cuts
    /// have the same bits, and equal the two-pass variance.
    #[test]
    fn moments_fed_in_any_cuts_have_the_same_bits() {
        for shape in [
            vec![30, 600],
            vec![7, 100],
            vec![3, 5000],
            vec![10_000],
            vec![5, 1],
        ] {
            let n: usize = shape.iter().product();
            let row = *shape.last().unwrap();
            let xs: Vec<f64> = (0..n)
                .map(|i| ((i * 7919) % 1013) as f64 * 0.1 + 1e6)
                .collect();
            let fed = |cuts: &mut dyn Iterator<Item = usize>| {
                let mut m = Moments::<f64>::start(&shape);
                let mut pos = 0;
                while pos < n {
                    let end = (pos + cuts.next().unwrap()).min(n);
                    m.feed(&xs[pos..end]);
                    pos = end;
                }
                m.finish()
            };
            let whole = fed(&mut std::iter::repeat(n));
            let rows = fed(&mut std::iter::repeat(row));
            let odd = fed(&mut [1, 3, 500, 4, 13, 4096, 9, 2048, 5].into_iter().cycle());
            for other in [rows, odd] {
                assert_eq!(other.0, whole.0);
                assert_eq!(other.1.to_bits(), whole.1.to_bits(), "{shape:?}");
                assert_eq!(other.2.to_bits(), whole.2.to_bits(), "{shape:?}");
            }
            let mean = xs.iter().sum::<f64>() / n as f64;
            let m2: f64 = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
            assert_eq!(whole.0, n as u64);
            assert!((whole.1 - mean).abs() <= 1e-9 * mean.abs());
            assert!(
                (whole.2 - m2).abs() <= 1e-9 * m2.abs().max(1.0),
                "{shape:?}"
            );
        }
    }
}
