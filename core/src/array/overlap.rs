//! Neighbourhoods: [`Array::map_overlap`] runs a function over every block extended by
//! ghost cells from its neighbours (Dask's `map_overlap`), for stencils and filters.
//!
//! Each output block is one task. Along every axis it reads the extent of its block widened
//! by `depth` on both sides: inside the array from the blocks that hold it (any number of
//! them, so a depth larger than a block needs no rechunk), past the array's edges as the
//! [`Boundary`] says. The function runs on the extended block, and the ghost cells are
//! trimmed from its result.

use super::blocks::linear;
use super::element::Element;
use super::grid::Grid;
use super::Array;
use crate::node::{new_wired_node, Deps, NodeKind, NodeRef};
use crate::tokenize::fresh_token;
use crate::Error;
use dagr_runtime::{Inputs, Key, TaskError, TaskResult, Value};
use ndarray::{ArcArray, ArrayD, ArrayViewD, IxDyn, Slice};
use std::sync::Arc;

/// What lies past the edges of the array for [`Array::map_overlap`] (Dask's `boundary=`).
///
/// ```
/// use dagr::array::{self as da, Boundary};
/// let x = da::arange(0_i64, 4, 1, &[2])?;
/// // each block sees one cell more on either side; the function shows what it was given
/// let seen = |b: Boundary<i64>| -> Result<Vec<i64>, dagr::Error> {
///     let y = x.map_overlap(1, b, |v| v.to_owned())?; // identity: the interior comes back
///     Ok(y.compute()?.into_raw_vec_and_offset().0)
/// };
/// assert_eq!(seen(Boundary::Reflect)?, vec![0, 1, 2, 3]);
/// let left = x.map_overlap(1, Boundary::Periodic, |v| v.mapv(|_| v[0]))?;
/// assert_eq!(left.compute()?.into_raw_vec_and_offset().0, vec![3, 3, 1, 1]);
/// # Ok::<(), dagr::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Boundary<T> {
    /// The edge cells mirrored, the edge itself repeated (Dask's `"reflect"`, NumPy's
    /// `np.pad(mode="symmetric")`): `… x1 x0 | x0 x1 …`.
    Reflect,
    /// The cells of the opposite edge (Dask's `"periodic"`): `… xn-2 xn-1 | x0 x1 …`.
    Periodic,
    /// The edge cell repeated (Dask's `"nearest"`): `… x0 x0 | x0 x1 …`.
    Nearest,
    /// A constant (Dask's `boundary=value`): `… c c | x0 x1 …`.
    Constant(T),
    /// Nothing: blocks at the edges are extended only towards the inside (Dask's `"none"`).
    None,
}

/// A depth of overlap: one for every axis (`1`) or one per axis (`&[1, 0]`).
pub trait IntoDepth {
    /// The depth of each of `ndim` axes, checked.
    fn into_depth(self, ndim: usize) -> Result<Vec<usize>, Error>;
}

impl IntoDepth for usize {
    fn into_depth(self, ndim: usize) -> Result<Vec<usize>, Error> {
        Ok(vec![self; ndim])
    }
}

fn per_axis(d: &[usize], ndim: usize) -> Result<Vec<usize>, Error> {
    if d.len() != ndim {
        return Err(Error::Shape {
            what: "map_overlap",
            message: format!("depth {d:?} has {} axes, the array has {ndim}", d.len()),
        });
    }
    Ok(d.to_vec())
}

impl IntoDepth for &[usize] {
    fn into_depth(self, ndim: usize) -> Result<Vec<usize>, Error> {
        per_axis(self, ndim)
    }
}
impl<const N: usize> IntoDepth for &[usize; N] {
    fn into_depth(self, ndim: usize) -> Result<Vec<usize>, Error> {
        per_axis(self, ndim)
    }
}
impl IntoDepth for &Vec<usize> {
    fn into_depth(self, ndim: usize) -> Result<Vec<usize>, Error> {
        per_axis(self, ndim)
    }
}

/// A run of consecutive cells of an extended block along one axis, copied from one block:
/// cells `at..at + len` of the extended block are cells `lo..lo + len` of block `block`,
/// in reverse order when `rev`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Run {
    at: usize,
    block: usize,
    lo: usize,
    len: usize,
    rev: bool,
}

/// How one block is extended along one axis.
#[derive(Debug, Clone, PartialEq)]
struct AxisPlan {
    runs: Vec<Run>,
    /// Length of the extended extent.
    len: usize,
    /// Ghost cells before the block's own (what is trimmed at the start).
    before: usize,
    /// The block's own length.
    own: usize,
}

/// The cell of the axis (length `n`) that position `p` of the widened extent shows, or
/// `None` for a constant.
fn source<T>(p: isize, n: usize, boundary: &Boundary<T>) -> Option<usize> {
    let n = n as isize;
    if (0..n).contains(&p) {
        return Some(p as usize);
    }
    let g = match boundary {
        Boundary::Reflect => {
            if p < 0 {
                -p - 1
            } else {
                2 * n - 1 - p
            }
        }
        Boundary::Periodic => p.rem_euclid(n),
        Boundary::Nearest => p.clamp(0, n - 1),
        Boundary::Constant(_) | Boundary::None => return None,
    };
    Some(g as usize)
}

/// The plan of block `b` along an axis of `chunks` (prefix sums `starts`) with `depth`.
fn axis_plan<T>(
    chunks: &[usize],
    starts: &[usize],
    b: usize,
    depth: usize,
    boundary: &Boundary<T>,
) -> AxisPlan {
    let n = starts[chunks.len()];
    let (start, stop) = (starts[b], starts[b + 1]);
    let (before, after) = match boundary {
        Boundary::None => (depth.min(start), depth.min(n - stop)),
        _ => (depth, depth),
    };
    let block_of = |g: usize| starts[..chunks.len()].partition_point(|&s| s <= g) - 1;
    // (at, block, first cell, len, direction: 0 while one cell long)
    let mut runs: Vec<(usize, usize, usize, usize, isize)> = Vec::new();
    let lo = start as isize - before as isize;
    let hi = (stop + after) as isize;
    for (at, p) in (lo..hi).enumerate() {
        let Some(g) = source(p, n, boundary) else {
            continue;
        };
        let blk = block_of(g);
        if let Some(r) = runs.last_mut() {
            let last = r.2 as isize + r.4 * (r.3 as isize - 1);
            let step = g as isize - last;
            let joins = r.0 + r.3 == at
                && r.1 == blk
                && (step == 1 || step == -1)
                && (r.4 == 0 || r.4 == step);
            if joins {
                r.4 = step;
                r.3 += 1;
                continue;
            }
        }
        runs.push((at, blk, g, 1, 0));
    }
    let runs = runs
        .into_iter()
        .map(|(at, block, first, len, dir)| {
            let rev = dir < 0;
            let low = if rev { first + 1 - len } else { first };
            Run {
                at,
                block,
                lo: low - starts[block],
                len,
                rev,
            }
        })
        .collect();
    AxisPlan {
        runs,
        len: (hi - lo) as usize,
        before,
        own: stop - start,
    }
}

/// Every combination taking one item of each list, the last list varying fastest.
fn product<X: Clone>(lists: &[Vec<X>]) -> Vec<Vec<X>> {
    let mut out: Vec<Vec<X>> = vec![vec![]];
    for l in lists {
        out = out
            .into_iter()
            .flat_map(|c| {
                l.iter().map(move |x| {
                    let mut c = c.clone();
                    c.push(x.clone());
                    c
                })
            })
            .collect();
    }
    out
}

/// A user function over an extended block.
type OverlapFn<T, U> = Arc<dyn Fn(ArrayViewD<'_, T>) -> ArrayD<U> + Send + Sync>;

/// Builds one output block: the extended block from the read blocks, `f`, the trim.
fn extended_block<T: Element, U: Element>(
    inp: &mut Inputs<'_>,
    plans: &[AxisPlan],
    deps: &[Vec<usize>],
    fill: T,
    f: &OverlapFn<T, U>,
) -> Result<ArcArray<U, IxDyn>, TaskError> {
    let blocks = (0..deps.len())
        .map(|k| inp.take::<ArcArray<T, IxDyn>>(k))
        .collect::<Result<Vec<_>, _>>()?;
    let shape: Vec<usize> = plans.iter().map(|p| p.len).collect();
    super::memory::check_task_block::<T>(&shape)?;
    let mut ext = ArrayD::from_elem(IxDyn(&shape), fill);
    let runs: Vec<Vec<Run>> = plans.iter().map(|p| p.runs.clone()).collect();
    for combo in product(&runs) {
        let idx: Vec<usize> = combo.iter().map(|r| r.block).collect();
        let Some(k) = deps.iter().position(|d| *d == idx) else {
            continue;
        };
        let src = blocks[k].slice_each_axis(|ax| {
            let r = combo[ax.axis.index()];
            let step = if r.rev { -1 } else { 1 };
            Slice::new(r.lo as isize, Some((r.lo + r.len) as isize), step)
        });
        ext.slice_each_axis_mut(|ax| {
            let r = combo[ax.axis.index()];
            Slice::from(r.at..r.at + r.len)
        })
        .assign(&src);
    }
    let out = f(ext.view());
    if out.shape() != ext.shape() {
        return Err(TaskError::new(Error::Shape {
            what: "map_overlap",
            message: format!(
                "the function returned a block of shape {:?} for one of shape {:?}",
                out.shape(),
                ext.shape()
            ),
        }));
    }
    Ok(out
        .slice_each_axis(|ax| {
            let p = &plans[ax.axis.index()];
            Slice::from(p.before..p.before + p.own)
        })
        .to_owned()
        .into_shared())
}

impl<T: Element> Array<T> {
    /// Applies `f` to every block extended by `depth` cells from its neighbours on every
    /// side, then trims those cells from the result (Dask: `x.map_overlap(f, depth,
    /// boundary)`). `depth` is one number for every axis or one per axis; past the array's
    /// edges the block is extended as `boundary` says. `f` must return an array of the
    /// shape it was given (an error from `compute` otherwise). A depth larger than the
    /// axis is an error unless the boundary is [`Boundary::None`].
    ///
    /// ```
    /// use dagr::array::{self as da, Boundary};
    /// // a three-point moving sum, blocks of 3 seeing one neighbour cell on each side
    /// let x = da::arange(0.0, 8.0, 1.0, &[3])?;
    /// let y = x.map_overlap(1, Boundary::Constant(0.0), |b| {
    ///     let n = b.len();
    ///     let mut out = b.to_owned();
    ///     for i in 1..n - 1 {
    ///         out[i] = b[i - 1] + b[i] + b[i + 1];
    ///     }
    ///     out
    /// })?;
    /// assert_eq!(y.compute()?.into_raw_vec_and_offset().0,
    ///            vec![1.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 13.0]);
    /// assert!(x.map_overlap(9, Boundary::Reflect, |b| b.to_owned()).is_err());
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn map_overlap<U: Element>(
        &self,
        depth: impl IntoDepth,
        boundary: Boundary<T>,
        f: impl Fn(ArrayViewD<'_, T>) -> ArrayD<U> + Send + Sync + 'static,
    ) -> Result<Array<U>, Error> {
        let depth = depth.into_depth(self.ndim())?;
        if !matches!(boundary, Boundary::None) {
            for (k, (&d, &n)) in depth.iter().zip(self.shape()).enumerate() {
                if d > n {
                    return Err(Error::Shape {
                        what: "map_overlap",
                        message: format!(
                            "depth {d} on axis {k} of length {n}: a boundary of {boundary:?} needs a depth no larger than the axis"
                        ),
                    });
                }
            }
        }
        let fill = match boundary {
            Boundary::Constant(c) => c,
            _ => T::default(),
        };
        let grid = self.grid.clone();
        let nb = grid.numblocks();
        let blocks = self.block_nodes();
        let token = fresh_token();
        let name: Arc<str> = format!("map-overlap-{token:016x}").into();
        let f: OverlapFn<T, U> = Arc::new(f);
        let wire = Some(crate::wire::array_node_wire::<U, ArcArray<U, IxDyn>>());
        let nodes: Vec<NodeRef> = grid
            .blocks()
            .into_iter()
            .map(|idx| {
                let plans: Vec<AxisPlan> = (0..grid.ndim())
                    .map(|k| {
                        axis_plan(
                            &grid.chunks[k],
                            &grid.starts[k],
                            idx[k],
                            depth[k],
                            &boundary,
                        )
                    })
                    .collect();
                // the blocks read: per axis the blocks its runs come from, combined
                let per_axis: Vec<Vec<usize>> = plans
                    .iter()
                    .map(|p| {
                        let mut v: Vec<usize> = p.runs.iter().map(|r| r.block).collect();
                        v.sort_unstable();
                        v.dedup();
                        v
                    })
                    .collect();
                let deps = product(&per_axis);
                let dep_nodes: Vec<NodeRef> = deps
                    .iter()
                    .map(|d| blocks[linear(d, &nb)].clone())
                    .collect();
                let f = f.clone();
                let body = move |inp: &mut Inputs<'_>| -> TaskResult {
                    Ok(Value::new(extended_block(inp, &plans, &deps, fill, &f)?))
                };
                new_wired_node(
                    Key::index(
                        name.clone(),
                        &idx.iter().map(|&i| i as u64).collect::<Vec<_>>(),
                    ),
                    Deps::from(dep_nodes),
                    NodeKind::Call,
                    true,
                    wire,
                    body,
                )
            })
            .collect();
        let out = Grid::clone(&grid);
        Ok(Array::from_nodes("map-overlap", token, out, nodes).with_err_of(&[self.err.as_ref()]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_read_mirrored_and_wrapped_runs_from_every_block_they_need() {
        // an axis of 5 cut [2, 3]; block 0 widened by 3
        let (chunks, starts) = ([2, 3], [0, 2, 5]);
        let p = axis_plan(&chunks, &starts, 0, 3, &Boundary::<f64>::Reflect);
        // cells -3..5 show 2 1 0 | 0 1 | 2 3 4: a reversed run, then forward runs
        assert_eq!((p.len, p.before, p.own), (8, 3, 2));
        assert_eq!(
            p.runs,
            vec![
                Run {
                    at: 0,
                    block: 1,
                    lo: 0,
                    len: 1,
                    rev: false
                },
                Run {
                    at: 1,
                    block: 0,
                    lo: 0,
                    len: 2,
                    rev: true
                },
                Run {
                    at: 3,
                    block: 0,
                    lo: 0,
                    len: 2,
                    rev: false
                },
                Run {
                    at: 5,
                    block: 1,
                    lo: 0,
                    len: 3,
                    rev: false
                },
            ]
        );
        let p = axis_plan(&chunks, &starts, 1, 2, &Boundary::<f64>::Periodic);
        // cells 0..7 show 0 1 | 2 3 4 | 0 1
        assert_eq!(p.runs.len(), 3);
        assert_eq!(
            p.runs[2],
            Run {
                at: 5,
                block: 0,
                lo: 0,
                len: 2,
                rev: false
            }
        );
        let p = axis_plan(&chunks, &starts, 1, 2, &Boundary::<f64>::None);
        assert_eq!((p.len, p.before, p.own), (5, 2, 3));
        let p = axis_plan(&chunks, &starts, 0, 1, &Boundary::Constant(1.0));
        assert_eq!((p.len, p.runs.len(), p.runs[0].at), (4, 2, 1)); // the constant cell is no run
    }
}
