//! Products of arrays: [`tensordot`], [`Array::dot`] and [`Array::matmul`].
//!
//! A product contracts axes of one array with axes of another. The contracted axes of both
//! are first cut alike (the common refinement of their chunks, fused, no task). Then every
//! output block `(i…, j…)` gets one task per block `k…` of the contracted axes, multiplying
//! block `(i…, k…)` of the left array with block `(k…, j…)` of the right one, and those
//! partial products are summed in the fixed combine tree of fan-in
//! [`SPLIT_EVERY`](super::SPLIT_EVERY) (Dask: `blockwise` of the block products, then a
//! `sum` over the contracted block axis with `split_every`). Results are therefore the same
//! on every scheduler, and memory holds a few partial products per output block at a time.

use super::element::Number;
use super::grid::{refine, Grid};
use super::{token_of, Array};
use crate::node::{new_wired_node, Deps, NodeKind, NodeRef};
use crate::Error;
use dagr_runtime::{Inputs, Key, TaskError, TaskResult, Value};
use ndarray::{ArcArray, ArrayD, ArrayViewD, Axis, Dimension, Ix2, IxDyn, Zip};
use std::sync::Arc;

/// A block as it flows between the product's tasks.
type Block<T> = ArcArray<T, IxDyn>;

/// The tensor product of two blocks contracting `ax_a` of `a` with `ax_b` of `b`: the free
/// axes of `a`, then those of `b`.
fn block_tensordot<T: Number>(
    a: ArrayViewD<'_, T>,
    b: ArrayViewD<'_, T>,
    ax_a: &[usize],
    ax_b: &[usize],
) -> Result<ArrayD<T>, TaskError> {
    let free_a: Vec<usize> = (0..a.ndim()).filter(|k| !ax_a.contains(k)).collect();
    let free_b: Vec<usize> = (0..b.ndim()).filter(|k| !ax_b.contains(k)).collect();
    let m: usize = free_a.iter().map(|&k| a.shape()[k]).product();
    let inner: usize = ax_a.iter().map(|&k| a.shape()[k]).product();
    let n: usize = free_b.iter().map(|&k| b.shape()[k]).product();
    let mut shape: Vec<usize> = free_a.iter().map(|&k| a.shape()[k]).collect();
    shape.extend(free_b.iter().map(|&k| b.shape()[k]));
    let bad = |e: ndarray::ShapeError| {
        TaskError::new(Error::Shape {
            what: "tensordot",
            message: e.to_string(),
        })
    };
    let perm_a: Vec<usize> = free_a.iter().chain(ax_a).copied().collect();
    let perm_b: Vec<usize> = ax_b.iter().chain(&free_b).copied().collect();
    let a2 = a.permuted_axes(IxDyn(&perm_a));
    let a2 = a2.to_shape((m, inner)).map_err(bad)?;
    let b2 = b.permuted_axes(IxDyn(&perm_b));
    let b2 = b2.to_shape((inner, n)).map_err(bad)?;
    let mut c = T::matmul(a2.view(), b2.view());
    if !c.is_standard_layout() {
        c = c.as_standard_layout().into_owned();
    }
    c.into_shape_with_order(IxDyn(&shape)).map_err(bad)
}

/// Sums blocks of one shape (the combine step of a product's tree).
fn sum_blocks<T: Number>(parts: Vec<Block<T>>) -> Result<Block<T>, TaskError> {
    let mut it = parts.into_iter();
    let Some(mut acc) = it.next() else {
        return Err(TaskError::new(Error::Empty {
            what: "sum of partial products",
        }));
    };
    for p in it {
        Zip::from(&mut acc).and(&p).for_each(|a, &b| *a = a.add(b));
    }
    Ok(acc)
}

/// Checks `axes` names distinct axes of an array of `ndim` dimensions.
fn check_axes(which: &str, axes: &[usize], ndim: usize) -> Result<(), Error> {
    for (i, &k) in axes.iter().enumerate() {
        if k >= ndim {
            return Err(Error::Shape {
                what: "tensordot",
                message: format!(
                    "axis {k} of the {which} array is out of range for {ndim} dimensions"
                ),
            });
        }
        if axes[..i].contains(&k) {
            return Err(Error::Shape {
                what: "tensordot",
                message: format!("axis {k} of the {which} array is given twice in {axes:?}"),
            });
        }
    }
    Ok(())
}

/// The tensor product of `a` and `b` summed over `axes_a` of `a` paired with `axes_b` of
/// `b` (Dask: `da.tensordot(a, b, axes=(axes_a, axes_b))`). The result has the remaining
/// axes of `a`, then those of `b`; its blocks follow their chunks. Paired axes must have
/// equal lengths; their chunks are unified. Dask's `axes=n` (the last `n` axes of `a` with
/// the first `n` of `b`) is `axes_a = [a.ndim() - n, …]`, `axes_b = [0, …, n - 1]`.
///
/// ```
/// use dagr::array as da;
/// let a = da::arange(0.0, 24.0, 1.0, &[24])?.reshape(&[2, 3, 4])?.rechunk(&[1, 2, 4])?;
/// let b = da::ones::<f64>(&[4, 3], &[2, 3])?;
/// // contract a's axes 1 and 2 with b's axes 1 and 0
/// let c = da::tensordot(&a, &b, &[1, 2], &[1, 0])?;
/// assert_eq!(c.shape(), &[2]);
/// assert_eq!(c.compute()?.into_raw_vec_and_offset().0, vec![66.0, 210.0]);
/// assert!(da::tensordot(&a, &b, &[0], &[0]).is_err()); // lengths 2 and 4
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn tensordot<T: Number>(
    a: &Array<T>,
    b: &Array<T>,
    axes_a: &[usize],
    axes_b: &[usize],
) -> Result<Array<T>, Error> {
    if axes_a.len() != axes_b.len() {
        return Err(Error::Shape {
            what: "tensordot",
            message: format!(
                "{} axes {axes_a:?} of the left array paired with {} axes {axes_b:?} of the right",
                axes_a.len(),
                axes_b.len()
            ),
        });
    }
    check_axes("left", axes_a, a.ndim())?;
    check_axes("right", axes_b, b.ndim())?;
    for (&i, &j) in axes_a.iter().zip(axes_b) {
        if a.shape()[i] != b.shape()[j] {
            return Err(Error::Shape {
                what: "tensordot",
                message: format!(
                    "axis {i} of {:?} has length {}, axis {j} of {:?} has length {}",
                    a.shape(),
                    a.shape()[i],
                    b.shape(),
                    b.shape()[j]
                ),
            });
        }
    }
    // cut the paired axes alike
    let mut ca = a.chunks().to_vec();
    let mut cb = b.chunks().to_vec();
    for (&i, &j) in axes_a.iter().zip(axes_b) {
        let common = refine(&ca[i], &cb[j]);
        ca[i] = common.clone();
        cb[j] = common;
    }
    let a2 = if ca.as_slice() == a.chunks() {
        a.clone()
    } else {
        a.refine_to(ca)?
    };
    let b2 = if cb.as_slice() == b.chunks() {
        b.clone()
    } else {
        b.refine_to(cb)?
    };
    let free_a: Vec<usize> = (0..a.ndim()).filter(|k| !axes_a.contains(k)).collect();
    let free_b: Vec<usize> = (0..b.ndim()).filter(|k| !axes_b.contains(k)).collect();
    let shape: Vec<usize> = free_a
        .iter()
        .map(|&k| a.shape()[k])
        .chain(free_b.iter().map(|&k| b.shape()[k]))
        .collect();
    let chunks: Vec<Vec<usize>> = free_a
        .iter()
        .map(|&k| a2.chunks()[k].clone())
        .chain(free_b.iter().map(|&k| b2.chunks()[k].clone()))
        .collect();
    let out = Grid::new(shape, chunks);
    // the blocks along the contracted axes, every combination in C order
    let inner = Grid::new(
        axes_a.iter().map(|&k| a.shape()[k]).collect(),
        axes_a.iter().map(|&k| a2.chunks()[k].clone()).collect(),
    );
    let token = token_of("tensordot", |h| {
        h.write(&a.token);
        h.write(&b.token);
        h.write(axes_a);
        h.write(axes_b);
    });
    let pairs = inner.blocks();
    let axes: Arc<(Vec<usize>, Vec<usize>)> = Arc::new((axes_a.to_vec(), axes_b.to_vec()));
    let kernel: Kernel<T> = Arc::new(move |x, y, _| block_tensordot(x, y, &axes.0, &axes.1));
    let (na, nb) = (a.ndim(), b.ndim());
    let (axes_a, axes_b) = (axes_a.to_vec(), axes_b.to_vec());
    let index = move |o: &[usize], n: usize| {
        let (oa, ob) = o.split_at(free_a.len());
        let k = &pairs[n];
        let mut ia = vec![0; na];
        free_a.iter().zip(oa).for_each(|(&ax, &i)| ia[ax] = i);
        axes_a.iter().zip(k).for_each(|(&ax, &i)| ia[ax] = i);
        let mut ib = vec![0; nb];
        free_b.iter().zip(ob).for_each(|(&ax, &i)| ib[ax] = i);
        axes_b.iter().zip(k).for_each(|(&ax, &i)| ib[ax] = i);
        (ia, ib)
    };
    let nk = inner.nblocks();
    Ok(
        blocked_product("tensordot", token, (&a2, &b2), out, nk, index, kernel)
            .with_err_of(&[a.err.as_ref(), b.err.as_ref()]),
    )
}

/// A product's kernel: a block of the left array, one of the right, the shape of the
/// output block, to the partial product.
type Kernel<T> = Arc<
    dyn Fn(ArrayViewD<'_, T>, ArrayViewD<'_, T>, &[usize]) -> Result<ArrayD<T>, TaskError>
        + Send
        + Sync,
>;

/// The blocks of a product over the grid `out`: output block `o` is the sum, in the fixed
/// combine tree, of `kernel` over the `nk` pairs of blocks `index(o, n)` of `a` and `b`.
fn blocked_product<T: Number>(
    op: &str,
    token: u64,
    (a, b): (&Array<T>, &Array<T>),
    out: Grid,
    nk: usize,
    index: impl Fn(&[usize], usize) -> (Vec<usize>, Vec<usize>),
    kernel: Kernel<T>,
) -> Array<T> {
    let part_name: Arc<str> = format!("{op}-part-{token:016x}").into();
    let name: Arc<str> = format!("{op}-{token:016x}").into();
    let (blocks_a, blocks_b) = (a.block_nodes(), b.block_nodes());
    let (nb_a, nb_b) = (a.numblocks(), b.numblocks());
    let wire = Some(crate::wire::array_node_wire::<T, Block<T>>());
    let combine: crate::tree::Combine<Block<T>> = Arc::new(sum_blocks::<T>);
    let nodes = out
        .blocks()
        .into_iter()
        .map(|o| {
            let shape = out.block_shape(&o);
            let parts: Vec<NodeRef> = (0..nk)
                .map(|n| {
                    let (ia, ib) = index(&o, n);
                    let deps = Deps::two(
                        blocks_a[super::blocks::linear(&ia, &nb_a)].clone(),
                        blocks_b[super::blocks::linear(&ib, &nb_b)].clone(),
                    );
                    let kernel = kernel.clone();
                    let shape = shape.clone();
                    let body = move |inp: &mut Inputs<'_>| -> TaskResult {
                        let x = inp.take::<Block<T>>(0)?;
                        let y = inp.take::<Block<T>>(1)?;
                        Ok(Value::new(
                            kernel(x.view(), y.view(), &shape)?.into_shared(),
                        ))
                    };
                    let mut key: Vec<u64> = o.iter().map(|&i| i as u64).collect();
                    key.push(n as u64);
                    new_wired_node(
                        Key::index(part_name.clone(), &key),
                        deps,
                        NodeKind::Call,
                        true,
                        wire,
                        body,
                    )
                })
                .collect();
            let key: Vec<u64> = o.iter().map(|&i| i as u64).collect();
            crate::tree::combine_tree(parts, &name, &key, true, wire, combine.clone())
        })
        .collect();
    Array::from_nodes(op, token, out, nodes)
}

/// The matrix products of stacks of matrices: the last two axes of `a` (`…, m, k`) and of
/// `b` (`…, k, n`), the leading axes broadcast to those of the output block, `shape`.
fn block_matmul<T: Number>(
    a: ArrayViewD<'_, T>,
    b: ArrayViewD<'_, T>,
    shape: &[usize],
) -> Result<ArrayD<T>, TaskError> {
    let nd = shape.len();
    let bad = || {
        TaskError::new(Error::Shape {
            what: "matmul",
            message: format!(
                "blocks {:?} and {:?} do not make a block {shape:?}",
                a.shape(),
                b.shape()
            ),
        })
    };
    let batch = &shape[..nd - 2];
    let inner = a.shape()[a.ndim() - 1];
    let sa: Vec<usize> = batch
        .iter()
        .copied()
        .chain([shape[nd - 2], inner])
        .collect();
    let sb: Vec<usize> = batch
        .iter()
        .copied()
        .chain([inner, shape[nd - 1]])
        .collect();
    let a = a.broadcast(IxDyn(&sa)).ok_or_else(bad)?;
    let b = b.broadcast(IxDyn(&sb)).ok_or_else(bad)?;
    super::memory::check_task_block::<T>(shape)?;
    let mut out = ArrayD::from_elem(IxDyn(shape), T::ZERO);
    for idx in ndarray::indices(IxDyn(batch)) {
        let (mut x, mut y, mut o) = (a.view(), b.view(), out.view_mut());
        for &i in idx.slice() {
            x = x.index_axis_move(Axis(0), i);
            y = y.index_axis_move(Axis(0), i);
            o = o.index_axis_move(Axis(0), i);
        }
        let x = x.into_dimensionality::<Ix2>().map_err(|_| bad())?;
        let y = y.into_dimensionality::<Ix2>().map_err(|_| bad())?;
        o.assign(&T::matmul(x, y));
    }
    Ok(out)
}

/// The matrix product of two stacks of matrices (both of at least two dimensions, one of
/// more), the stacks broadcast.
fn stacked_matmul<T: Number>(a: &Array<T>, b: &Array<T>) -> Result<Array<T>, Error> {
    let (na, nb) = (a.ndim(), b.ndim());
    if a.shape()[na - 1] != b.shape()[nb - 2] {
        return Err(Error::Shape {
            what: "matmul",
            message: format!(
                "shapes {:?} and {:?}: the last axis of the first ({}) is not the second-to-last of the second ({})",
                a.shape(),
                b.shape(),
                a.shape()[na - 1],
                b.shape()[nb - 2]
            ),
        });
    }
    let (grid, per) = super::select::align(
        "matmul",
        &[
            (&a.shape()[..na - 2], &a.chunks()[..na - 2]),
            (&b.shape()[..nb - 2], &b.chunks()[..nb - 2]),
        ],
    )?;
    let mut per = per.into_iter();
    let (Some((ca, fa)), Some((cb, fb))) = (per.next(), per.next()) else {
        unreachable!("two operands")
    };
    let common = refine(&a.chunks()[na - 1], &b.chunks()[nb - 2]);
    let mut ca = ca;
    ca.extend([a.chunks()[na - 2].clone(), common.clone()]);
    let mut cb = cb;
    cb.extend([common.clone(), b.chunks()[nb - 1].clone()]);
    let a2 = if ca.as_slice() == a.chunks() {
        a.clone()
    } else {
        a.refine_to(ca)?
    };
    let b2 = if cb.as_slice() == b.chunks() {
        b.clone()
    } else {
        b.refine_to(cb)?
    };
    let mut shape = grid.shape.clone();
    shape.extend([a.shape()[na - 2], b.shape()[nb - 1]]);
    let mut chunks = grid.chunks.clone();
    chunks.extend([a.chunks()[na - 2].clone(), b.chunks()[nb - 1].clone()]);
    let out = Grid::new(shape, chunks);
    let token = token_of("matmul", |h| {
        h.write(&a.token);
        h.write(&b.token);
    });
    let nbatch = grid.ndim();
    let index = move |o: &[usize], k: usize| {
        let (batch, mn) = o.split_at(nbatch);
        let mut ia = fa.index(batch);
        ia.extend([mn[0], k]);
        let mut ib = fb.index(batch);
        ib.extend([k, mn[1]]);
        (ia, ib)
    };
    let kernel: Kernel<T> = Arc::new(block_matmul::<T>);
    Ok(blocked_product(
        "matmul",
        token,
        (&a2, &b2),
        out,
        common.len(),
        index,
        kernel,
    )
    .with_err_of(&[a.err.as_ref(), b.err.as_ref()]))
}

impl<T: Number> Array<T> {
    /// The dot product as NumPy's `np.dot` (Dask: `x.dot(y)`, `da.dot(x, y)`): for two
    /// vectors their inner product (a 0-dimensional array), for two matrices their matrix
    /// product, and in general the sum over the last axis of `self` and the second-to-last
    /// of `other` (the only one when `other` is a vector). Blocked: a task per pair of
    /// blocks, summed per output block in the fixed combine tree (see [`tensordot`]).
    /// Integers wrap, as NumPy's do.
    ///
    /// ```
    /// use dagr::array as da;
    /// let a = da::arange(0.0, 6.0, 1.0, &[6])?.reshape(&[2, 3])?.rechunk(&[1, 2])?;
    /// let b = da::arange(0.0, 6.0, 1.0, &[6])?.reshape(&[3, 2])?.rechunk(&[2, 1])?;
    /// let c = a.dot(&b)?;                                   // a @ b
    /// assert_eq!(c.compute()?, dagr::ndarray::arr2(&[[10.0, 13.0], [28.0, 40.0]]).into_dyn());
    /// let v = da::ones::<f64>(&[3], &[2])?;
    /// assert_eq!(a.dot(&v)?.compute()?.into_raw_vec_and_offset().0, vec![3.0, 12.0]);
    /// assert!(a.dot(&a).is_err());                          // (2, 3) · (2, 3)
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn dot(&self, other: &Array<T>) -> Result<Array<T>, Error> {
        if self.ndim() == 0 || other.ndim() == 0 {
            return Err(Error::Shape {
                what: "dot",
                message: format!(
                    "dot of shapes {:?} and {:?}: a 0-dimensional operand has no axis to contract (multiply instead)",
                    self.shape(),
                    other.shape()
                ),
            });
        }
        let i = self.ndim() - 1;
        let j = other.ndim().saturating_sub(2);
        if self.shape()[i] != other.shape()[j] {
            return Err(Error::Shape {
                what: "dot",
                message: format!(
                    "shapes {:?} and {:?} are not aligned: {} (axis {i}) != {} (axis {j})",
                    self.shape(),
                    other.shape(),
                    self.shape()[i],
                    other.shape()[j]
                ),
            });
        }
        tensordot(self, other, &[i], &[j])
    }

    /// The matrix product as NumPy's `a @ b` (Dask: `x @ y`, `da.matmul(x, y)`). For
    /// vectors and matrices it is [`Array::dot`]; arrays of more dimensions are stacks of
    /// matrices in their last two axes, the leading axes broadcast as NumPy does, and a
    /// vector operand is a matrix of one row (left) or one column (right) whose axis is
    /// dropped from the result. Blocked as [`Array::dot`]. A 0-dimensional operand or
    /// mismatched shapes are an error.
    ///
    /// ```
    /// use dagr::array as da;
    /// let a = da::from_array(dagr::ndarray::arr2(&[[1_i64, 2], [3, 4]]).into_dyn(), &[1, 1])?;
    /// assert_eq!(a.matmul(&a)?.compute()?, dagr::ndarray::arr2(&[[7, 10], [15, 22]]).into_dyn());
    /// // a stack of three 2x2 matrices times one matrix
    /// let s = da::stack(&[a.clone(), a.clone(), a.clone()], 0)?;
    /// let p = s.matmul(&a)?;
    /// assert_eq!(p.shape(), &[3, 2, 2]);
    /// assert_eq!(p.sum().compute()?, 3 * (7 + 10 + 15 + 22));
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn matmul(&self, other: &Array<T>) -> Result<Array<T>, Error> {
        let rename = |e: Error| match e {
            Error::Shape { message, .. } => Error::Shape {
                what: "matmul",
                message,
            },
            e => e,
        };
        if self.ndim() == 0 || other.ndim() == 0 {
            return Err(Error::Shape {
                what: "matmul",
                message: format!(
                    "matmul of shapes {:?} and {:?}: a 0-dimensional operand (multiply instead)",
                    self.shape(),
                    other.shape()
                ),
            });
        }
        if self.ndim() <= 2 && other.ndim() <= 2 {
            return self.dot(other).map_err(rename);
        }
        // vectors become matrices of one row or column, that axis dropped at the end
        let a = if self.ndim() == 1 {
            self.expand_dims(0)?
        } else {
            self.clone()
        };
        let b = if other.ndim() == 1 {
            other.expand_dims(1)?
        } else {
            other.clone()
        };
        let c = stacked_matmul(&a, &b).map_err(rename)?;
        let nd = c.ndim();
        if other.ndim() == 1 {
            return c.squeeze_axes(&[nd - 1]);
        }
        if self.ndim() == 1 {
            return c.squeeze_axes(&[nd - 2]);
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::arr2;

    #[test]
    fn block_product_permutes_and_contracts() {
        let a = arr2(&[[1_i64, 2], [3, 4]]).into_dyn();
        let c = block_tensordot(a.view(), a.view(), &[0], &[0]).unwrap();
        assert_eq!(c, arr2(&[[10, 14], [14, 20]]).into_dyn());
        let c = block_tensordot(a.view(), a.view(), &[1, 0], &[0, 1]).unwrap();
        assert_eq!(c.shape(), &[] as &[usize]);
        assert_eq!(c.into_raw_vec_and_offset().0, vec![1 + 2 * 3 + 3 * 2 + 16]);
    }
}
