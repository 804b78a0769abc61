//! Cumulative sums and products along an axis: [`Array::cumsum`], [`Array::cumprod`].
//!
//! Dask's blockwise scan with carried offsets: every block is scanned on its own, inside
//! the task that makes it (fused with the elementwise pipeline), all blocks in parallel.
//! Along the axis, a chain of small tasks carries the running total: the carry into block
//! `j` is the carry into block `j - 1` combined with the last slice of that block's own
//! scan (one slice, not a block). Block `j` of the result is its own scan combined with
//! its carry; the first block along the axis is its own scan.

use super::blocks::{linear, Chunk};
use super::element::Number;
use super::grid::{check_axis, Grid};
use super::{token_of, Array};
use crate::node::{new_wired_node, Deps, NodeKind, NodeRef};
use crate::Error;
use dagr_runtime::{Inputs, Key, TaskResult, Value};
use ndarray::{ArcArray, ArrayD, Axis, IxDyn, Slice};
use std::sync::Arc;

/// A block, or a carried slice, as it flows between the scan's tasks.
type Block<T> = ArcArray<T, IxDyn>;

impl<T: Number> Array<T> {
    /// Cumulative sums along `axis` (NumPy and Dask: `x.cumsum(axis=k)`), in `T`
    /// (integers wrap). An error for an axis out of range.
    ///
    /// ```
    /// use dagr::array as da;
    /// let x = da::arange(1_i64, 7, 1, &[6])?.reshape(&[2, 3])?.rechunk(&[1, 2])?;
    /// assert_eq!(x.cumsum(1)?.compute()?, dagr::ndarray::arr2(&[[1, 3, 6], [4, 9, 15]]).into_dyn());
    /// assert_eq!(x.cumprod(0)?.compute()?, dagr::ndarray::arr2(&[[1, 2, 3], [4, 10, 18]]).into_dyn());
    /// assert!(x.cumsum(2).is_err());
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn cumsum(&self, axis: usize) -> Result<Array<T>, Error> {
        self.scan("cumsum", axis, T::ZERO, T::add)
    }

    /// Cumulative products along `axis` (NumPy and Dask: `x.cumprod(axis=k)`), in `T`
    /// (integers wrap).
    pub fn cumprod(&self, axis: usize) -> Result<Array<T>, Error> {
        self.scan("cumprod", axis, T::ONE, T::mul)
    }

    fn scan(
        &self,
        op: &'static str,
        axis: usize,
        identity: T,
        f: fn(T, T) -> T,
    ) -> Result<Array<T>, Error> {
        check_axis(op, axis, self.ndim())?;
        let token = token_of(op, |h| {
            h.write(&self.token);
            h.write(&axis);
        });
        let local_name: Arc<str> = format!("{op}-local-{token:016x}").into();
        let locals = self.nodes_with(&local_name, move |_, c: Chunk<'_, T>| {
            let mut a = c.into_shared()?;
            a.accumulate_axis_inplace(Axis(axis), |&prev, cur| *cur = f(prev, *cur));
            Ok(a)
        });
        let carry_name: Arc<str> = format!("{op}-carry-{token:016x}").into();
        let name: Arc<str> = format!("{op}-{token:016x}").into();
        let wire = Some(crate::wire::array_node_wire::<T, Block<T>>());
        let grid = Grid::clone(&self.grid);
        let nb = grid.numblocks();
        let key_of = |idx: &[usize]| idx.iter().map(|&i| i as u64).collect::<Vec<_>>();
        // carries[linear(idx)]: the carry into block idx (none for the first along the axis)
        let mut carries: Vec<Option<NodeRef>> = vec![None; grid.nblocks()];
        let mut nodes = Vec::with_capacity(grid.nblocks());
        for idx in grid.blocks() {
            let k = linear(&idx, &nb);
            if idx[axis] == 0 {
                nodes.push(locals[k].clone());
                continue;
            }
            // the carry into this block: the one into the previous block and its last slice
            let mut prev = idx.clone();
            prev[axis] -= 1;
            let p = linear(&prev, &nb);
            let mut slice_shape = grid.block_shape(&prev);
            slice_shape[axis] = 1;
            let before = carries[p].clone();
            let has_before = before.is_some();
            let deps: Vec<NodeRef> = before.into_iter().chain([locals[p].clone()]).collect();
            let body = move |inp: &mut Inputs<'_>| -> TaskResult {
                let mut carry = if has_before {
                    inp.take::<Block<T>>(0)?
                } else {
                    ArrayD::from_elem(IxDyn(&slice_shape), identity).into_shared()
                };
                let local = inp.take::<Block<T>>(usize::from(has_before))?;
                let n = local.len_of(Axis(axis));
                if n > 0 {
                    let last = local.slice_axis(Axis(axis), Slice::from(n - 1..n));
                    carry.zip_mut_with(&last, |c, &x| *c = f(*c, x));
                }
                Ok(Value::new(carry))
            };
            let carry = new_wired_node(
                Key::index(carry_name.clone(), &key_of(&idx)),
                Deps::from(deps),
                NodeKind::Call,
                true,
                wire,
                body,
            );
            carries[k] = Some(carry.clone());
            let body = move |inp: &mut Inputs<'_>| -> TaskResult {
                let mut local = inp.take::<Block<T>>(0)?;
                let carry = inp.take::<Block<T>>(1)?;
                local.zip_mut_with(&carry, |x, &c| *x = f(c, *x));
                Ok(Value::new(local))
            };
            nodes.push(new_wired_node(
                Key::index(name.clone(), &key_of(&idx)),
                Deps::two(locals[k].clone(), carry),
                NodeKind::Call,
                true,
                wire,
                body,
            ));
        }
        Ok(Array::from_nodes(op, token, grid, nodes).with_err_of(&[self.err.as_ref()]))
    }
}
