//! Structural operations: slicing, rechunking, concatenating, stacking, transposing and
//! reshaping.
//!
//! Those where each new block is a piece of one old block (slicing, refining chunks,
//! [`concatenate`], [`stack`], transposing) wrap the old block's producer and stay fused;
//! a [`Array::rechunk`] that merges blocks creates one task per new block, reading the
//! old blocks it overlaps.

use super::blocks::{Blocks, Chunk, Cursor, Src};
use super::element::Element;
use super::grid::{check_axis, refine, Grid, IntoChunks};
use super::{token_of, Array};
use crate::node::{new_wired_node, Deps, NodeKind, NodeRef};
use crate::share::Walk;
use crate::Error;
use dagr_runtime::{Inputs, Key, TaskError, TaskResult, Value};
use ndarray::{ArcArray, ArrayD, IxDyn, Slice, SliceInfoElem};
use std::sync::Arc;

/// A piece of an old block along one axis: `(old block, start, stop, step or offset)`.
type Piece = (usize, usize, usize, usize);

/// What one old axis becomes.
#[derive(Clone, Debug)]
enum AxisMap {
    /// Kept: per new block along it, `(old block, start, stop, step)` within the old block.
    Sliced(Vec<Piece>),
    /// Kept and reversed: as `Sliced`, each piece walked from its end by `-step`.
    Reversed(Vec<Piece>),
    /// Removed by an integer index: `(old block, index within it)`.
    Indexed(usize, usize),
}

/// New blocks that are each a strided piece of one old block.
struct Pieces<T> {
    parent: Src<T>,
    axes: Vec<AxisMap>,
}

impl<T> Pieces<T> {
    fn parent_index(&self, idx: &[usize]) -> Vec<usize> {
        let mut k = 0;
        self.axes
            .iter()
            .map(|m| match m {
                AxisMap::Sliced(v) | AxisMap::Reversed(v) => {
                    let b = v[idx[k]].0;
                    k += 1;
                    b
                }
                AxisMap::Indexed(b, _) => *b,
            })
            .collect()
    }
}

impl<T: Element> Blocks<T> for Pieces<T> {
    fn inputs(&self, idx: &[usize], out: &mut Walk<'_>) {
        self.parent.inputs(&self.parent_index(idx), out)
    }
    fn shares_rows(&self) -> bool {
        self.parent.shares_rows()
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        let mut c = self.parent.block(&self.parent_index(idx), inp)?;
        // new axis number of each old axis that is kept
        let mut new_axis = Vec::with_capacity(self.axes.len());
        let mut k = 0;
        for m in &self.axes {
            new_axis.push(k);
            if !matches!(m, AxisMap::Indexed(..)) {
                k += 1;
            }
        }
        // from the last axis, so removing one leaves the numbers of the earlier ones alone
        for (axis, m) in self.axes.iter().enumerate().rev() {
            c = match m {
                AxisMap::Sliced(v) => {
                    let (_, start, stop, step) = v[idx[new_axis[axis]]];
                    c.slice_axis(
                        axis,
                        Slice::new(start as isize, Some(stop as isize), step as isize),
                    )
                }
                AxisMap::Reversed(v) => {
                    let (_, start, stop, step) = v[idx[new_axis[axis]]];
                    c.slice_axis(
                        axis,
                        Slice::new(start as isize, Some(stop as isize), -(step as isize)),
                    )
                }
                AxisMap::Indexed(_, i) => c.index_axis(axis, *i),
            };
        }
        Ok(c)
    }
}

/// The pieces of `old` chunks that `start..stop` by `step` selects: the map and new chunks.
fn slice_axis(
    old: &[usize],
    starts: &[usize],
    start: usize,
    stop: usize,
    step: usize,
) -> (Vec<Piece>, Vec<usize>) {
    let mut map = Vec::new();
    let mut sizes = Vec::new();
    for (b, &len) in old.iter().enumerate() {
        let (b0, b1) = (starts[b], starts[b] + len);
        let lo = b0.max(start);
        let hi = b1.min(stop);
        if lo >= hi {
            continue;
        }
        // first selected index at or after lo
        let first = start + (lo - start).div_ceil(step) * step;
        if first >= hi {
            continue;
        }
        let count = (hi - first).div_ceil(step);
        let local = first - b0;
        map.push((b, local, local + (count - 1) * step + 1, step));
        sizes.push(count);
    }
    if map.is_empty() {
        map.push((0, 0, 0, 1));
        sizes.push(0);
    }
    (map, sizes)
}

/// The pieces of `old` chunks that `start..stop` walked from its end by `step` selects (as
/// ndarray's `s![start..stop;-step]`): the map, in the new order, and the new chunks.
fn slice_axis_rev(
    old: &[usize],
    starts: &[usize],
    start: usize,
    stop: usize,
    step: usize,
) -> (Vec<Piece>, Vec<usize>) {
    let mut map = Vec::new();
    let mut sizes = Vec::new();
    if stop > start {
        let last = stop - 1;
        for (b, &len) in old.iter().enumerate().rev() {
            let (b0, b1) = (starts[b], starts[b] + len);
            let lo = b0.max(start);
            let hi = b1.min(stop);
            if lo >= hi {
                continue;
            }
            // the highest selected index below hi: last - j * step
            let Some(top) = last.checked_sub((last - (hi - 1)).div_ceil(step) * step) else {
                continue;
            };
            if top < lo {
                continue;
            }
            let count = (top - lo) / step + 1;
            let bottom = top - (count - 1) * step;
            map.push((b, bottom - b0, top - b0 + 1, step));
            sizes.push(count);
        }
    }
    if map.is_empty() {
        return (vec![(0, 0, 0, 1)], vec![0]);
    }
    (map, sizes)
}

impl<T: Element> Array<T> {
    fn pieces(
        &self,
        op: &str,
        token: u64,
        axes: Vec<AxisMap>,
        chunks: Vec<Vec<usize>>,
    ) -> Array<T> {
        let shape = chunks.iter().map(|c| c.iter().sum()).collect();
        Array::from_src(
            op,
            token,
            Grid::new(shape, chunks),
            Pieces {
                parent: self.src.clone(),
                axes,
            },
        )
        .with_err_of(&[self.err.as_ref()])
    }

    /// The same array cut along `chunks`, which must refine the current chunks (every old
    /// boundary is a new one): fused, no task.
    pub(crate) fn refine_to(&self, chunks: Vec<Vec<usize>>) -> Result<Array<T>, Error> {
        let mut axes = Vec::with_capacity(chunks.len());
        for (k, new) in chunks.iter().enumerate() {
            let starts = &self.grid.starts[k];
            let old = &self.grid.chunks[k];
            let mut map = Vec::with_capacity(new.len());
            let mut pos = 0;
            for &len in new {
                let b = starts[..old.len()].partition_point(|&s| s <= pos).max(1) - 1;
                let local = pos - starts[b];
                if local + len > old[b] {
                    return Err(Error::Chunks {
                        message: format!("{new:?} does not refine {old:?} on axis {k}"),
                    });
                }
                map.push((b, local, local + len, 1));
                pos += len;
            }
            axes.push(AxisMap::Sliced(map));
        }
        let token = token_of("rechunk", |h| {
            h.write(&self.token);
            h.write(&chunks);
        });
        Ok(self.pieces("rechunk", token, axes, chunks))
    }

    /// Basic NumPy slicing with ndarray's `s!` syntax (Dask: `x[...]`): ranges with steps,
    /// integer indices (negative ones count from the end) and `NewAxis` (NumPy's `None`).
    /// Each new block is a piece of one old block, so slicing creates no task. An index or
    /// axis out of range, or a zero step, is an error.
    ///
    /// A negative step follows ndarray's `s!`, not NumPy: the range is taken first, then
    /// walked from its end. NumPy's `x[::-1]` is `s![..;-1]`, and `x[5:1:-1]` is
    /// `s![2..6;-1]`.
    ///
    /// ```
    /// use dagr::array::{self as da, s, NewAxis};
    /// let x = da::arange(0_i64, 20, 1, &[10])?.reshape(&[4, 5])?;
    /// let y = x.slice(s![1..;2, -1])?;
    /// assert_eq!(y.shape(), &[2]);
    /// assert_eq!(y.compute()?.into_raw_vec_and_offset().0, vec![9, 19]);
    /// let r = x.slice(s![-1, ..;-2])?;                     // x[-1, ::-2]
    /// assert_eq!(r.compute()?.iter().copied().collect::<Vec<_>>(), vec![19, 17, 15]);
    /// assert_eq!(x.slice(s![NewAxis, .., 0])?.shape(), &[1, 4]); // x[None, :, 0]
    /// assert!(x.slice(s![.., 7]).is_err());
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn slice<I: AsRef<[SliceInfoElem]>>(&self, info: I) -> Result<Array<T>, Error> {
        let all = info.as_ref();
        // NewAxis: an axis of length 1 at its place among the axes the slice keeps
        let mut new_axes = Vec::new();
        let mut kept = 0;
        for e in all {
            match e {
                SliceInfoElem::NewAxis => {
                    new_axes.push(kept);
                    kept += 1;
                }
                SliceInfoElem::Slice { .. } => kept += 1,
                SliceInfoElem::Index(_) => {}
            }
        }
        let info: Vec<SliceInfoElem> = all
            .iter()
            .filter(|e| !matches!(e, SliceInfoElem::NewAxis))
            .copied()
            .collect();
        if info.len() > self.ndim() {
            return Err(Error::Slice {
                message: format!(
                    "{} indices for an array of {} dimensions",
                    info.len(),
                    self.ndim()
                ),
            });
        }
        let mut axes = Vec::with_capacity(self.ndim());
        let mut chunks = Vec::new();
        for k in 0..self.ndim() {
            let n = self.shape()[k] as isize;
            let old = &self.grid.chunks[k];
            let starts = &self.grid.starts[k];
            let elem = info.get(k).copied().unwrap_or(SliceInfoElem::Slice {
                start: 0,
                end: None,
                step: 1,
            });
            match elem {
                SliceInfoElem::Index(i) => {
                    let j = if i < 0 { i + n } else { i };
                    if j < 0 || j >= n {
                        return Err(Error::Slice {
                            message: format!(
                                "index {i} is out of range for axis {k} of length {n}"
                            ),
                        });
                    }
                    let j = j as usize;
                    let b = starts.partition_point(|&s| s <= j) - 1;
                    axes.push(AxisMap::Indexed(b, j - starts[b]));
                }
                SliceInfoElem::Slice { start, end, step } => {
                    if step == 0 {
                        return Err(Error::Slice {
                            message: format!("step 0 on axis {k}"),
                        });
                    }
                    let clamp = |v: isize| (if v < 0 { v + n } else { v }).clamp(0, n) as usize;
                    let (a, b) = (clamp(start), clamp(end.unwrap_or(n)));
                    if step > 0 {
                        let (map, sizes) = slice_axis(old, starts, a, b.max(a), step as usize);
                        axes.push(AxisMap::Sliced(map));
                        chunks.push(sizes);
                    } else {
                        let (map, sizes) =
                            slice_axis_rev(old, starts, a, b.max(a), step.unsigned_abs());
                        axes.push(AxisMap::Reversed(map));
                        chunks.push(sizes);
                    }
                }
                SliceInfoElem::NewAxis => unreachable!("removed above"),
            }
        }
        let token = token_of("getitem", |h| {
            h.write(&self.token);
            h.write(&format!("{info:?}"));
        });
        let sliced = self.pieces("getitem", token, axes, chunks);
        if new_axes.is_empty() {
            return Ok(sliced);
        }
        Ok(sliced.with_new_axes(&new_axes))
    }

    /// The array with axes of length 1 inserted at `positions` (axes of the result, in
    /// increasing order). Fused, no task.
    fn with_new_axes(&self, positions: &[usize]) -> Array<T> {
        let mut shape = self.shape().to_vec();
        let mut chunks = self.chunks().to_vec();
        for &p in positions {
            shape.insert(p, 1);
            chunks.insert(p, vec![1]);
        }
        let token = token_of("expand-dims", |h| {
            h.write(&self.token);
            h.write(positions);
        });
        Array::from_src(
            "expand-dims",
            token,
            Grid::new(shape, chunks),
            Expanded {
                parent: self.src.clone(),
                positions: positions.to_vec(),
            },
        )
        .with_err_of(&[self.err.as_ref()])
    }

    /// The array with an axis of length 1 inserted at `axis` of the result (NumPy and Dask:
    /// `expand_dims(x, axis)`). Fused, no task; an error for an axis past `ndim`.
    ///
    /// ```
    /// let x = dagr::array::ones::<f64>(&[3, 4], &[2, 2])?;
    /// assert_eq!(x.expand_dims(1)?.shape(), &[3, 1, 4]);
    /// assert_eq!(x.expand_dims(2)?.shape(), &[3, 4, 1]);
    /// assert!(x.expand_dims(3).is_err());
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn expand_dims(&self, axis: usize) -> Result<Array<T>, Error> {
        check_axis("expand_dims", axis, self.ndim() + 1)?;
        Ok(self.with_new_axes(&[axis]))
    }

    /// The array without its axes of length 1 (NumPy and Dask: `x.squeeze()`). Fused, no
    /// task.
    ///
    /// ```
    /// let x = dagr::array::ones::<f64>(&[1, 3, 1], &[1, 2, 1])?;
    /// assert_eq!(x.squeeze().shape(), &[3]);
    /// assert_eq!(x.squeeze_axes(&[2])?.shape(), &[1, 3]);
    /// assert!(x.squeeze_axes(&[1]).is_err()); // length 3
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn squeeze(&self) -> Array<T> {
        let axes: Vec<usize> = (0..self.ndim()).filter(|&k| self.shape()[k] == 1).collect();
        self.squeeze_axes(&axes).unwrap_or_else(|e| self.fail(e))
    }

    /// The array without the given axes, each of length 1 (NumPy: `x.squeeze(axis)`); an
    /// error for an axis out of range or of another length.
    pub fn squeeze_axes(&self, axes: &[usize]) -> Result<Array<T>, Error> {
        for &k in axes {
            check_axis("squeeze", k, self.ndim())?;
            if self.shape()[k] != 1 {
                return Err(Error::Shape {
                    what: "squeeze",
                    message: format!(
                        "axis {k} of {:?} has length {}, not 1",
                        self.shape(),
                        self.shape()[k]
                    ),
                });
            }
        }
        let info: Vec<SliceInfoElem> = (0..self.ndim())
            .map(|k| {
                if axes.contains(&k) {
                    SliceInfoElem::Index(0)
                } else {
                    SliceInfoElem::Slice {
                        start: 0,
                        end: None,
                        step: 1,
                    }
                }
            })
            .collect();
        self.slice(info)
    }

    /// The same values cut into new blocks (Dask: `x.rechunk(chunks)`). Splitting blocks is
    /// fused; merging creates one task per new block reading the old blocks it overlaps.
    ///
    /// ```
    /// let x = dagr::array::arange(0_i64, 10, 1, &[3])?;
    /// let y = x.rechunk(&[5])?;
    /// assert_eq!(y.chunks(), &[vec![5, 5]]);
    /// assert_eq!(y.compute()?, x.compute()?);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn rechunk(&self, chunks: impl IntoChunks) -> Result<Array<T>, Error> {
        let chunks = chunks.into_chunks(self.shape())?;
        if chunks.as_slice() == self.chunks() {
            return Ok(self.clone());
        }
        let refines = chunks
            .iter()
            .zip(self.chunks())
            .all(|(new, old)| &refine(new, old) == new);
        if refines {
            return self.refine_to(chunks);
        }
        let token = token_of("rechunk-merge", |h| {
            h.write(&self.token);
            h.write(&chunks);
        });
        let grid = Grid::new(self.shape().to_vec(), chunks);
        let old = self.block_nodes();
        let old_nb = self.grid.numblocks();
        let name: Arc<str> = format!("rechunk-merge-{token:016x}").into();
        // per axis and new block: the old blocks it overlaps, as (old block, old range, new offset)
        let per_axis: Vec<Vec<Vec<Piece>>> = (0..grid.ndim())
            .map(|k| {
                let (os, oc) = (&self.grid.starts[k], &self.grid.chunks[k]);
                (0..grid.chunks[k].len())
                    .map(|j| {
                        let (n0, n1) = (grid.starts[k][j], grid.starts[k][j + 1]);
                        (0..oc.len())
                            .filter_map(|b| {
                                let (lo, hi) = (os[b].max(n0), (os[b] + oc[b]).min(n1));
                                (lo < hi || (oc[b] == 0 && n0 == n1))
                                    .then(|| (b, lo - os[b], hi - os[b], lo - n0))
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let nodes = grid
            .blocks()
            .into_iter()
            .map(|idx| {
                // every combination of overlapping old blocks, C order
                let lists: Vec<&Vec<Piece>> = idx
                    .iter()
                    .enumerate()
                    .map(|(k, &j)| &per_axis[k][j])
                    .collect();
                let mut combos: Vec<Vec<Piece>> = vec![vec![]];
                for l in &lists {
                    combos = combos
                        .into_iter()
                        .flat_map(|c| {
                            l.iter().map(move |p| {
                                let mut c = c.clone();
                                c.push(*p);
                                c
                            })
                        })
                        .collect();
                }
                let deps: Vec<NodeRef> = combos
                    .iter()
                    .map(|c| {
                        let oidx: Vec<usize> = c.iter().map(|p| p.0).collect();
                        old[super::blocks::linear(&oidx, &old_nb)].clone()
                    })
                    .collect();
                let shape = grid.block_shape(&idx);
                let body = move |inp: &mut Inputs<'_>| -> TaskResult {
                    super::memory::check_task_block::<T>(&shape)?;
                    let mut out = ArrayD::<T>::from_elem(IxDyn(&shape), T::default());
                    for (k, c) in combos.iter().enumerate() {
                        let b = inp.take::<ArcArray<T, IxDyn>>(k)?;
                        let src = b.slice_each_axis(|ax| {
                            let p = c[ax.axis.index()];
                            Slice::from(p.1..p.2)
                        });
                        let mut dst = out.slice_each_axis_mut(|ax| {
                            let p = c[ax.axis.index()];
                            Slice::from(p.3..p.3 + (p.2 - p.1))
                        });
                        dst.assign(&src);
                    }
                    Ok(Value::new(out.into_shared()))
                };
                let key = Key::index(
                    name.clone(),
                    &idx.iter().map(|&i| i as u64).collect::<Vec<_>>(),
                );
                let wire = Some(crate::wire::array_node_wire::<T, ArcArray<T, IxDyn>>());
                new_wired_node(key, Deps::from(deps), NodeKind::Call, true, wire, body)
            })
            .collect();
        Ok(
            Array::from_nodes("rechunk-merge", token, grid, nodes)
                .with_err_of(&[self.err.as_ref()]),
        )
    }

    /// The array with its axes permuted: axis `k` of the result is axis `axes[k]` of this one
    /// (NumPy: `x.transpose(axes)`). Fused, no task.
    ///
    /// ```
    /// let x = dagr::array::zeros::<f32>(&[2, 3, 4], &[1, 3, 2])?;
    /// let y = x.transpose(&[2, 0, 1])?;
    /// assert_eq!(y.shape(), &[4, 2, 3]);
    /// assert_eq!(y.chunks(), &[vec![2, 2], vec![1, 1], vec![3]]);
    /// assert!(x.transpose(&[0, 0, 1]).is_err());
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn transpose(&self, axes: &[usize]) -> Result<Array<T>, Error> {
        let n = self.ndim();
        let mut seen = vec![false; n];
        if axes.len() != n
            || axes
                .iter()
                .any(|&a| a >= n || std::mem::replace(&mut seen[a], true))
        {
            return Err(Error::Shape {
                what: "transpose",
                message: format!("{axes:?} is not a permutation of the {n} axes"),
            });
        }
        let shape = axes.iter().map(|&a| self.shape()[a]).collect();
        let chunks = axes.iter().map(|&a| self.chunks()[a].clone()).collect();
        let token = token_of("transpose", |h| {
            h.write(&self.token);
            h.write(axes);
        });
        Ok(Array::from_src(
            "transpose",
            token,
            Grid::new(shape, chunks),
            Transposed {
                parent: self.src.clone(),
                axes: axes.to_vec(),
            },
        )
        .with_err_of(&[self.err.as_ref()]))
    }

    /// The array with its axes reversed (NumPy: `x.T`).
    pub fn t(&self) -> Array<T> {
        let axes: Vec<usize> = (0..self.ndim()).rev().collect();
        self.transpose(&axes).unwrap_or_else(|e| self.fail(e))
    }

    /// The same elements in C order with another shape (NumPy: `x.reshape(shape)`), where the
    /// chunks allow it without moving data between blocks: an array of one block, or one cut
    /// only along its first axis into blocks that make whole rows of the new shape.
    /// Otherwise an error (rechunk first).
    ///
    /// ```
    /// let x = dagr::array::arange(0_i64, 12, 1, &[6])?;
    /// let y = x.reshape(&[4, 3])?;
    /// assert_eq!(y.chunks(), &[vec![2, 2], vec![3]]);
    /// assert!(x.reshape(&[5, 2]).is_err());
    /// assert!(x.reshape(&[3, 4]).is_err()); // blocks of 6 are not whole rows of 4
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn reshape(&self, shape: &[usize]) -> Result<Array<T>, Error> {
        let n: usize = shape.iter().product();
        if n != self.size() {
            return Err(Error::Shape {
                what: "reshape",
                message: format!(
                    "cannot reshape {:?} ({} elements) into {shape:?}",
                    self.shape(),
                    self.size()
                ),
            });
        }
        if shape == self.shape() {
            return Ok(self.clone());
        }
        let token = token_of("reshape", |h| {
            h.write(&self.token);
            h.write(shape);
        });
        let single_rest = self.chunks().iter().skip(1).all(|c| c.len() == 1);
        let chunks: Vec<Vec<usize>> = if self.grid.nblocks() == 1 {
            shape.iter().map(|&d| vec![d]).collect()
        } else if single_rest && !shape.is_empty() {
            let p: usize = self.shape()[1..].iter().product();
            let q: usize = shape[1..].iter().product();
            if q == 0 || self.chunks()[0].iter().any(|&c| !(c * p).is_multiple_of(q)) {
                return Err(Error::Shape {
                    what: "reshape",
                    message: format!(
                        "the blocks {:?} of {:?} do not make whole rows of {shape:?}; rechunk first",
                        self.chunks(),
                        self.shape()
                    ),
                });
            }
            let mut c = vec![self.chunks()[0]
                .iter()
                .map(|&c| c * p / q)
                .collect::<Vec<_>>()];
            c.extend(shape[1..].iter().map(|&d| vec![d]));
            c
        } else {
            return Err(Error::Shape {
                what: "reshape",
                message: format!(
                    "an array chunked {:?} along several axes cannot be reshaped in place; rechunk to one block per axis but the first",
                    self.chunks()
                ),
            });
        };
        let grid = Grid::new(shape.to_vec(), chunks);
        let src = Reshaped {
            parent: self.src.clone(),
            grid: Arc::new(grid.clone()),
            old_ndim: self.ndim(),
        };
        Ok(Array::from_src("reshape", token, grid, src).with_err_of(&[self.err.as_ref()]))
    }
}

/// Blocks with axes of length 1 inserted.
struct Expanded<T> {
    parent: Src<T>,
    /// Where, among the result's axes, in increasing order.
    positions: Vec<usize>,
}

impl<T> Expanded<T> {
    fn parent_index(&self, idx: &[usize]) -> Vec<usize> {
        idx.iter()
            .enumerate()
            .filter(|(k, _)| !self.positions.contains(k))
            .map(|(_, &i)| i)
            .collect()
    }
}

impl<T: Element> Blocks<T> for Expanded<T> {
    fn inputs(&self, idx: &[usize], out: &mut Walk<'_>) {
        self.parent.inputs(&self.parent_index(idx), out)
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        let mut c = self.parent.block(&self.parent_index(idx), inp)?;
        for &p in &self.positions {
            c = c.insert_axis(p);
        }
        Ok(c)
    }
}

struct Transposed<T> {
    parent: Src<T>,
    axes: Vec<usize>,
}

impl<T> Transposed<T> {
    fn parent_index(&self, idx: &[usize]) -> Vec<usize> {
        let mut p = vec![0; idx.len()];
        for (k, &a) in self.axes.iter().enumerate() {
            p[a] = idx[k];
        }
        p
    }
}

impl<T: Element> Blocks<T> for Transposed<T> {
    fn inputs(&self, idx: &[usize], out: &mut Walk<'_>) {
        self.parent.inputs(&self.parent_index(idx), out)
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        Ok(self
            .parent
            .block(&self.parent_index(idx), inp)?
            .permuted(&self.axes))
    }
}

struct Reshaped<T> {
    parent: Src<T>,
    grid: Arc<Grid>,
    old_ndim: usize,
}

impl<T: Element> Reshaped<T> {
    fn parent_index(&self, idx: &[usize]) -> Vec<usize> {
        let mut p = vec![0; self.old_ndim];
        if let (Some(first), Some(&i)) = (p.first_mut(), idx.first()) {
            *first = i;
        }
        p
    }
}

impl<T: Element> Blocks<T> for Reshaped<T> {
    fn inputs(&self, idx: &[usize], out: &mut Walk<'_>) {
        self.parent.inputs(&self.parent_index(idx), out)
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        let c = self.parent.block(&self.parent_index(idx), inp)?;
        let shape = IxDyn(&self.grid.block_shape(idx));
        let bad = |e: ndarray::ShapeError| {
            TaskError::new(Error::Shape {
                what: "reshape",
                message: e.to_string(),
            })
        };
        if c.view().is_standard_layout() {
            return match c {
                Chunk::Shared(a) => Ok(Chunk::Shared(a.into_shape_with_order(shape).map_err(bad)?)),
                Chunk::View(v) => Ok(Chunk::View(v.into_shape_with_order(shape).map_err(bad)?)),
            };
        }
        let owned = c.view().as_standard_layout().into_owned();
        Ok(Chunk::Shared(
            owned
                .into_shape_with_order(shape)
                .map_err(bad)?
                .into_shared(),
        ))
    }
}

/// Blocks taken from several arrays in turn along one axis.
struct Concat<T> {
    parts: Vec<Src<T>>,
    /// First block of each part along the axis, and the total at the end.
    first: Vec<usize>,
    axis: usize,
}

impl<T> Concat<T> {
    fn locate(&self, idx: &[usize]) -> (usize, Vec<usize>) {
        let p = self.first.partition_point(|&f| f <= idx[self.axis]) - 1;
        let mut local = idx.to_vec();
        local[self.axis] -= self.first[p];
        (p, local)
    }
}

impl<T: Element> Blocks<T> for Concat<T> {
    fn inputs(&self, idx: &[usize], out: &mut Walk<'_>) {
        let (p, local) = self.locate(idx);
        self.parts[p].inputs(&local, out)
    }
    fn shares_rows(&self) -> bool {
        self.parts.iter().all(|p| p.shares_rows())
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        let (p, local) = self.locate(idx);
        self.parts[p].block(&local, inp)
    }
}

/// Blocks of several arrays of one shape, along a new axis.
struct Stacked<T> {
    parts: Vec<Src<T>>,
    axis: usize,
}

impl<T: Element> Blocks<T> for Stacked<T> {
    fn inputs(&self, idx: &[usize], out: &mut Walk<'_>) {
        let mut local = idx.to_vec();
        let p = local.remove(self.axis);
        self.parts[p].inputs(&local, out)
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        let mut local = idx.to_vec();
        let p = local.remove(self.axis);
        Ok(self.parts[p].block(&local, inp)?.insert_axis(self.axis))
    }
}

/// The arrays cut alike on every axis but `skip`: the common refinement of their chunks.
fn unify<T: Element>(
    what: &'static str,
    arrays: &[Array<T>],
    skip: Option<usize>,
) -> Result<Vec<Array<T>>, Error> {
    let first = &arrays[0];
    let n = first.ndim();
    for a in arrays {
        let same =
            a.ndim() == n && (0..n).all(|k| Some(k) == skip || a.shape()[k] == first.shape()[k]);
        if !same {
            return Err(Error::Shape {
                what,
                message: format!("shapes {:?} and {:?} do not fit", first.shape(), a.shape()),
            });
        }
    }
    let target: Vec<Option<Vec<usize>>> = (0..n)
        .map(|k| {
            (Some(k) != skip).then(|| {
                arrays.iter().fold(first.chunks()[k].clone(), |acc, a| {
                    refine(&acc, &a.chunks()[k])
                })
            })
        })
        .collect();
    arrays
        .iter()
        .map(|a| {
            let want: Vec<Vec<usize>> = (0..n)
                .map(|k| target[k].clone().unwrap_or_else(|| a.chunks()[k].clone()))
                .collect();
            if want.as_slice() == a.chunks() {
                Ok(a.clone())
            } else {
                a.refine_to(want)
            }
        })
        .collect()
}

/// Joins arrays along an existing axis (Dask: `da.concatenate(arrays, axis)`). The other axes
/// must match; their chunks are unified. Fused: each block is a block of one input.
///
/// ```
/// use dagr::array as da;
/// let a = da::ones::<f64>(&[2, 3], &[1, 3])?;
/// let b = da::zeros::<f64>(&[4, 3], &[2, 3])?;
/// let c = da::concatenate(&[a, b], 0)?;
/// assert_eq!(c.shape(), &[6, 3]);
/// assert_eq!(c.chunks()[0], vec![1, 1, 2, 2]);
/// assert_eq!(c.sum().compute()?, 6.0);
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn concatenate<T: Element>(arrays: &[Array<T>], axis: usize) -> Result<Array<T>, Error> {
    let Some(first) = arrays.first() else {
        return Err(Error::InvalidArgument {
            what: "concatenate",
            message: "no arrays given".into(),
        });
    };
    check_axis("concatenate", axis, first.ndim())?;
    let arrays = unify("concatenate", arrays, Some(axis))?;
    let mut chunks = arrays[0].chunks().to_vec();
    chunks[axis] = arrays
        .iter()
        .flat_map(|a| a.chunks()[axis].iter().copied())
        .filter(|&c| c > 0)
        .collect();
    if chunks[axis].is_empty() {
        return Ok(arrays[0].clone());
    }
    // parts without elements along the axis contribute no block
    let parts: Vec<&Array<T>> = arrays.iter().filter(|a| a.shape()[axis] > 0).collect();
    let mut first_block = vec![0];
    for a in &parts {
        first_block.push(first_block.last().copied().unwrap_or(0) + a.chunks()[axis].len());
    }
    let mut shape = arrays[0].shape().to_vec();
    shape[axis] = parts.iter().map(|a| a.shape()[axis]).sum();
    let token = token_of("concatenate", |h| {
        h.write(&axis);
        for a in &arrays {
            h.write(&a.token);
        }
    });
    let errs: Vec<_> = arrays.iter().map(|a| a.err.as_ref()).collect();
    Ok(Array::from_src(
        "concatenate",
        token,
        Grid::new(shape, chunks),
        Concat {
            parts: parts.iter().map(|a| a.src.clone() as Src<T>).collect(),
            first: first_block,
            axis,
        },
    )
    .with_err_of(&errs))
}

/// Joins arrays of one shape along a new axis (Dask: `da.stack(arrays, axis)`). Fused.
///
/// ```
/// use dagr::array as da;
/// let a = da::ones::<i32>(&[3], &[2])?;
/// let s = da::stack(&[a.clone(), a], 1)?;
/// assert_eq!(s.shape(), &[3, 2]);
/// assert_eq!(s.chunks(), &[vec![2, 1], vec![1, 1]]);
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn stack<T: Element>(arrays: &[Array<T>], axis: usize) -> Result<Array<T>, Error> {
    let Some(first) = arrays.first() else {
        return Err(Error::InvalidArgument {
            what: "stack",
            message: "no arrays given".into(),
        });
    };
    check_axis("stack", axis, first.ndim() + 1)?;
    let arrays = unify("stack", arrays, None)?;
    let mut shape = arrays[0].shape().to_vec();
    shape.insert(axis, arrays.len());
    let mut chunks = arrays[0].chunks().to_vec();
    chunks.insert(axis, vec![1; arrays.len()]);
    let token = token_of("stack", |h| {
        h.write(&axis);
        for a in &arrays {
            h.write(&a.token);
        }
    });
    let errs: Vec<_> = arrays.iter().map(|a| a.err.as_ref()).collect();
    Ok(Array::from_src(
        "stack",
        token,
        Grid::new(shape, chunks),
        Stacked {
            parts: arrays.iter().map(|a| a.src.clone() as Src<T>).collect(),
            axis,
        },
    )
    .with_err_of(&errs))
}
