//! Diagonals: [`Array::diag`] builds a diagonal matrix from a vector, or takes the diagonal
//! of a matrix (NumPy's and Dask's `diag`). Both are fused, no task: a block of the result
//! is a piece of one block of the input, or zeros.

use super::blocks::{Blocks, Chunk, Cursor, Src};
use super::element::Number;
use super::grid::{refine, Grid};
use super::{token_of, Array};
use crate::share::Walk;
use crate::Error;
use dagr_runtime::TaskError;
use ndarray::{ArrayD, Ix2, IxDyn, Slice};
use std::sync::Arc;

/// Blocks of the diagonal matrix of a vector: block `(i, i)` from block `i`, zeros elsewhere.
struct FromVector<T> {
    parent: Src<T>,
    grid: Arc<Grid>,
}

impl<T: Number> Blocks<T> for FromVector<T> {
    fn inputs(&self, idx: &[usize], out: &mut Walk<'_>) {
        if idx[0] == idx[1] {
            self.parent.inputs(&idx[..1], out)
        }
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        let shape = self.grid.block_shape(idx);
        super::memory::check_task_block::<T>(&shape)?;
        let mut out = ArrayD::from_elem(IxDyn(&shape), T::ZERO);
        if idx[0] == idx[1] {
            let c = self.parent.block(&idx[..1], inp)?;
            for (i, &v) in c.view().iter().enumerate() {
                out[[i, i]] = v;
            }
        }
        Ok(Chunk::Shared(out.into_shared()))
    }
}

/// Blocks of the diagonal of a matrix: per block, `(row block, column block, row offset,
/// column offset)` of the square piece whose diagonal it is.
struct OfMatrix<T> {
    parent: Src<T>,
    pieces: Vec<(usize, usize, usize, usize)>,
    grid: Arc<Grid>,
}

impl<T: Number> Blocks<T> for OfMatrix<T> {
    fn inputs(&self, idx: &[usize], out: &mut Walk<'_>) {
        let (r, c, _, _) = self.pieces[idx[0]];
        self.parent.inputs(&[r, c], out)
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        let (r, c, r0, c0) = self.pieces[idx[0]];
        let len = self.grid.block_shape(idx)[0];
        let b = self.parent.block(&[r, c], inp)?;
        let v = b.view();
        let square = v.slice_each_axis(|ax| {
            let o = if ax.axis.index() == 0 { r0 } else { c0 };
            Slice::from(o..o + len)
        });
        let square = square.into_dimensionality::<Ix2>().map_err(|e| {
            TaskError::new(Error::Shape {
                what: "diag",
                message: e.to_string(),
            })
        })?;
        Ok(Chunk::Shared(
            square.diag().to_owned().into_dyn().into_shared(),
        ))
    }
}

/// The first `len` elements of an axis cut by `chunks`.
fn truncate(chunks: &[usize], len: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut left = len;
    for &c in chunks {
        if left == 0 {
            break;
        }
        out.push(c.min(left));
        left -= c.min(left);
    }
    if out.is_empty() {
        out.push(0);
    }
    out
}

impl<T: Number> Array<T> {
    /// NumPy's and Dask's `diag(x)`: for a vector, the square matrix with it on the
    /// diagonal (blocks off the diagonal are zeros made on the spot); for a matrix, its main
    /// diagonal. Fused, no task. Other numbers of dimensions are an error.
    ///
    /// ```
    /// use dagr::array as da;
    /// let v = da::arange(1_i64, 4, 1, &[2])?;
    /// let m = v.diag()?;
    /// assert_eq!(m.compute()?, dagr::ndarray::arr2(&[[1, 0, 0], [0, 2, 0], [0, 0, 3]]).into_dyn());
    /// assert_eq!(m.diag()?.compute()?.into_raw_vec_and_offset().0, vec![1, 2, 3]);
    /// assert!(da::ones::<i64>(&[2, 2, 2], &[1, 1, 1])?.diag().is_err());
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn diag(&self) -> Result<Array<T>, Error> {
        let token = token_of("diag", |h| h.write(&self.token));
        match self.ndim() {
            1 => {
                let n = self.shape()[0];
                let c = self.chunks()[0].clone();
                let grid = Arc::new(Grid::new(vec![n, n], vec![c.clone(), c]));
                let src = FromVector {
                    parent: self.src.clone(),
                    grid: grid.clone(),
                };
                Ok(Array::from_shared_src("diag", token, grid, Arc::new(src))
                    .with_err_of(&[self.err.as_ref()]))
            }
            2 => {
                let len = self.shape()[0].min(self.shape()[1]);
                let rows = truncate(&self.chunks()[0], len);
                let cols = truncate(&self.chunks()[1], len);
                let chunks = refine(&rows, &cols);
                let grid = Arc::new(Grid::new(vec![len], vec![chunks]));
                let (rs, cs) = (&self.grid.starts[0], &self.grid.starts[1]);
                let find = |starts: &[usize], nb: usize, g: usize| {
                    let b = starts[..nb].partition_point(|&s| s <= g).max(1) - 1;
                    (b, g - starts[b])
                };
                let nb = self.numblocks();
                let pieces = (0..grid.chunks[0].len())
                    .map(|j| {
                        let g = grid.starts[0][j];
                        let (r, r0) = find(rs, nb[0], g);
                        let (c, c0) = find(cs, nb[1], g);
                        (r, c, r0, c0)
                    })
                    .collect();
                let src = OfMatrix {
                    parent: self.src.clone(),
                    pieces,
                    grid: grid.clone(),
                };
                Ok(Array::from_shared_src("diag", token, grid, Arc::new(src))
                    .with_err_of(&[self.err.as_ref()]))
            }
            d => Err(Error::Shape {
                what: "diag",
                message: format!(
                    "diag takes a vector or a matrix, not an array of shape {:?} ({d} dimensions)",
                    self.shape()
                ),
            }),
        }
    }
}
