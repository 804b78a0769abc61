//! The largest or smallest elements along an axis: [`Array::topk`], [`Array::argtopk`].
//!
//! As Dask does it: every block keeps, per lane along the axis, its best `|k|` elements
//! with their indices (inside the task that makes the block), and per output block those
//! candidates are merged in the fixed combine tree over the blocks along the axis, keeping
//! the best `|k|` at every step. Memory holds `|k|` candidates per lane per partial result.

use super::blocks::{linear, Chunk};
use super::element::Element;
use super::grid::{check_axis, Grid};
use super::{token_of, Array};
use crate::node::{new_wired_node, Deps, NodeKind, NodeRef};
use crate::Error;
use dagr_runtime::{Inputs, Key, TaskError, TaskResult, Value};
use ndarray::{ArcArray, ArrayD, ArrayViewD, Axis, IxDyn, Zip};
use std::cmp::Ordering;
use std::sync::Arc;

/// The best elements of lanes and their indices along the axis, best first.
type Best<T> = (ArrayD<T>, ArrayD<usize>);

/// Whether `a` comes before `b`: the larger first for `largest` (the smaller otherwise),
/// NaN counting as the largest (NumPy's sort order), the smaller index first on ties.
fn before<T: Element>(a: (T, usize), b: (T, usize), largest: bool) -> Ordering {
    let by_value =
        a.0.partial_cmp(&b.0)
            .unwrap_or_else(|| a.0.is_nan().cmp(&b.0.is_nan()));
    let by_value = if largest {
        by_value.reverse()
    } else {
        by_value
    };
    by_value.then(a.1.cmp(&b.1))
}

/// The best `k` of every lane along `axis` of `vals` (indices `idx`), best first.
fn best<T: Element>(
    vals: ArrayViewD<'_, T>,
    idx: ArrayViewD<'_, usize>,
    axis: usize,
    k: usize,
    largest: bool,
) -> Best<T> {
    let ax = Axis(axis);
    let m = k.min(vals.len_of(ax));
    let mut shape = vals.shape().to_vec();
    shape[axis] = m;
    let mut out_v = ArrayD::from_elem(IxDyn(&shape), T::default());
    let mut out_i = ArrayD::from_elem(IxDyn(&shape), 0usize);
    let mut lane: Vec<(T, usize)> = Vec::new();
    Zip::from(out_v.lanes_mut(ax))
        .and(out_i.lanes_mut(ax))
        .and(vals.lanes(ax))
        .and(idx.lanes(ax))
        .for_each(|mut ov, mut oi, v, i| {
            lane.clear();
            lane.extend(v.iter().copied().zip(i.iter().copied()));
            lane.sort_by(|&a, &b| before(a, b, largest));
            for (j, &(x, n)) in lane.iter().take(m).enumerate() {
                ov[j] = x;
                oi[j] = n;
            }
        });
    (out_v, out_i)
}

impl<T: Element> Array<T> {
    /// The `k` largest elements along `axis`, largest first, or for a negative `k` the `-k`
    /// smallest, smallest first (Dask: `x.topk(k, axis)`). NaN counts as the largest, as in
    /// NumPy's sort. An error for `k = 0`, `|k|` past the axis's length or an axis out of
    /// range.
    ///
    /// ```
    /// let x = dagr::array::from_array(dagr::ndarray::arr1(&[5, 1, 9, 3, 7]).into_dyn(), &[2])?;
    /// assert_eq!(x.topk(2, 0)?.compute()?.into_raw_vec_and_offset().0, vec![9, 7]);
    /// assert_eq!(x.topk(-2, 0)?.compute()?.into_raw_vec_and_offset().0, vec![1, 3]);
    /// assert_eq!(x.argtopk(2, 0)?.compute()?.into_raw_vec_and_offset().0, vec![2, 4]);
    /// assert!(x.topk(6, 0).is_err());
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn topk(&self, k: isize, axis: usize) -> Result<Array<T>, Error> {
        self.top("topk", k, axis, |(v, _)| v)
    }

    /// The indices along `axis` of the elements [`Array::topk`] gives, in its order (Dask:
    /// `x.argtopk(k, axis)`); the smaller index first on ties.
    pub fn argtopk(&self, k: isize, axis: usize) -> Result<Array<usize>, Error> {
        self.top("argtopk", k, axis, |(_, i)| i)
    }

    fn top<U: Element>(
        &self,
        what: &'static str,
        k: isize,
        axis: usize,
        pick: fn(Best<T>) -> ArrayD<U>,
    ) -> Result<Array<U>, Error> {
        check_axis(what, axis, self.ndim())?;
        let n = self.shape()[axis];
        let kk = k.unsigned_abs();
        if k == 0 || kk > n {
            return Err(Error::InvalidArgument {
                what,
                message: format!("k = {k} for an axis of length {n}: 0 < |k| <= {n}"),
            });
        }
        let largest = k > 0;
        let token = token_of("topk", |h| {
            h.write(&self.token);
            h.write(&(k, axis));
        });
        let grid = self.grid.clone();
        let part_name: Arc<str> = format!("topk-part-{token:016x}").into();
        let parts = self.nodes_with(&part_name, move |idx, c: Chunk<'_, T>| {
            let v = c.view();
            let start = grid.starts[axis][idx[axis]];
            let positions = ArrayD::from_shape_fn(v.raw_dim(), |i| start + i[axis]);
            Ok(best(v, positions.view(), axis, kk, largest))
        });
        let combine: crate::tree::Combine<Best<T>> = Arc::new(move |ps: Vec<Best<T>>| {
            let vals: Vec<ArrayViewD<'_, T>> = ps.iter().map(|p| p.0.view()).collect();
            let idx: Vec<ArrayViewD<'_, usize>> = ps.iter().map(|p| p.1.view()).collect();
            let bad = |e: ndarray::ShapeError| {
                TaskError::new(Error::Shape {
                    what: "topk",
                    message: e.to_string(),
                })
            };
            let v = ndarray::concatenate(Axis(axis), &vals).map_err(bad)?;
            let i = ndarray::concatenate(Axis(axis), &idx).map_err(bad)?;
            Ok(best(v.view(), i.view(), axis, kk, largest))
        });
        let nb = self.grid.numblocks();
        let mut chunks = self.chunks().to_vec();
        chunks[axis] = vec![kk];
        let mut shape = self.shape().to_vec();
        shape[axis] = kk;
        let out = Grid::new(shape, chunks);
        let agg: Arc<str> = format!("topk-agg-{token:016x}").into();
        let fin_token = token_of(what, |h| h.write(&token));
        let fin: Arc<str> = format!("{what}-{fin_token:016x}").into();
        let wire = Some(crate::wire::array_node_wire::<T, Best<T>>());
        let out_wire = Some(crate::wire::array_node_wire::<U, ArcArray<U, IxDyn>>());
        let nodes: Vec<NodeRef> = out
            .blocks()
            .into_iter()
            .map(|o| {
                let group: Vec<NodeRef> = (0..nb[axis])
                    .map(|j| {
                        let mut idx = o.clone();
                        idx[axis] = j;
                        parts[linear(&idx, &nb)].clone()
                    })
                    .collect();
                let key: Vec<u64> = o.iter().map(|&i| i as u64).collect();
                let root =
                    crate::tree::combine_tree(group, &agg, &key, true, wire, combine.clone());
                let body = move |inp: &mut Inputs<'_>| -> TaskResult {
                    Ok(Value::new(pick(inp.take::<Best<T>>(0)?).into_shared()))
                };
                new_wired_node(
                    Key::index(fin.clone(), &key),
                    Deps::one(root),
                    NodeKind::Call,
                    true,
                    out_wire,
                    body,
                )
            })
            .collect();
        Ok(Array::from_nodes(what, fin_token, out, nodes).with_err_of(&[self.err.as_ref()]))
    }
}
