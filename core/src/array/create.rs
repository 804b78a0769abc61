//! Arrays from data in memory, constants, ranges and lazy values.

use super::blocks::{Blocks, Chunk, Cursor};
use super::element::{Element, Number};
use super::grid::{Grid, IntoChunks};
use super::{token_of, Array};
use crate::delayed::Delayed;
use crate::node::NodeRef;
use crate::share::Walk;
use crate::tokenize::fresh_token;
use crate::Error;
use dagr_runtime::TaskError;
use ndarray::{ArrayD, IxDyn, Slice};
use std::sync::Arc;

/// Blocks that are views of an array held in memory.
struct InMemory<T> {
    data: ArrayD<T>,
    grid: Arc<Grid>,
}

impl<T: Element> Blocks<T> for InMemory<T> {
    fn cheap(&self) -> bool {
        true
    }
    fn shares_rows(&self) -> bool {
        true
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        _: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        let start = self.grid.block_start(idx);
        let shape = self.grid.block_shape(idx);
        Ok(Chunk::View(self.data.slice_each_axis(|ax| {
            let k = ax.axis.index();
            Slice::from(start[k]..start[k] + shape[k])
        })))
    }
}

/// A chunked array over an in-memory `ndarray` array (Dask: `da.from_array(x, chunks)`).
/// Blocks are views of it: nothing is copied until an operation writes.
///
/// ```
/// use dagr::array as da;
/// let a = dagr::ndarray::Array2::<f64>::from_shape_fn((4, 5), |(i, j)| (i * 5 + j) as f64);
/// let x = da::from_array(a.clone().into_dyn(), &[2, 2])?;
/// assert_eq!(x.chunks(), &[vec![2, 2], vec![2, 2, 1]]);
/// assert_eq!(x.compute()?, a.into_dyn());
/// assert!(da::from_array(dagr::ndarray::ArrayD::<f64>::zeros(vec![2]), &[1, 1]).is_err());
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn from_array<T: Element>(data: ArrayD<T>, chunks: impl IntoChunks) -> Result<Array<T>, Error> {
    let chunks = chunks.into_chunks(data.shape())?;
    let grid = Arc::new(Grid::new(data.shape().to_vec(), chunks));
    let src = InMemory {
        data,
        grid: grid.clone(),
    };
    Ok(Array::from_shared_src(
        "array",
        fresh_token(),
        grid,
        Arc::new(src),
    ))
}

/// Blocks of one value.
struct Fill<T> {
    value: T,
    grid: Arc<Grid>,
}

impl<T: Element> Blocks<T> for Fill<T> {
    fn cheap(&self) -> bool {
        true
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        _: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        let shape = self.grid.block_shape(idx);
        super::memory::check_task_block::<T>(&shape)?;
        Ok(Chunk::Shared(
            ArrayD::from_elem(IxDyn(&shape), self.value).into_shared(),
        ))
    }
}

/// An array of `value` everywhere (Dask: `da.full(shape, value, chunks=…)`).
///
/// ```
/// let x = dagr::array::full(&[2, 3], &[1, 3], 7_i32)?;
/// assert_eq!(x.sum().compute()?, 42);
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn full<T: Element>(
    shape: &[usize],
    chunks: impl IntoChunks,
    value: T,
) -> Result<Array<T>, Error> {
    let chunks = chunks.into_chunks(shape)?;
    let token = token_of("full", |h| {
        h.write(shape);
        h.write(&chunks);
        h.write(&value.bits());
        h.write(T::DTYPE);
    });
    let grid = Arc::new(Grid::new(shape.to_vec(), chunks));
    Ok(Array::from_shared_src(
        "full",
        token,
        grid.clone(),
        Arc::new(Fill { value, grid }),
    ))
}

/// An array of zeros (Dask: `da.zeros(shape, chunks=…)`).
///
/// ```
/// let x = dagr::array::zeros::<f64>(&[1000, 1000], &[250, 250])?;
/// assert_eq!(x.numblocks(), vec![4, 4]);
/// assert_eq!(x.max().compute()?, 0.0);
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn zeros<T: Number>(shape: &[usize], chunks: impl IntoChunks) -> Result<Array<T>, Error> {
    full(shape, chunks, T::ZERO)
}

/// An array of ones (Dask: `da.ones(shape, chunks=…)`).
///
/// ```
/// let x = dagr::array::ones::<i64>(&[10], &[3])?;
/// assert_eq!(x.sum().compute()?, 10);
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn ones<T: Number>(shape: &[usize], chunks: impl IntoChunks) -> Result<Array<T>, Error> {
    full(shape, chunks, T::ONE)
}

/// Block `idx` of a one-dimensional array whose element `i` is `at(i)`.
fn progression_block<'s, T: Element>(
    grid: &Grid,
    idx: &[usize],
    at: impl Fn(usize) -> T,
) -> Result<Chunk<'s, T>, TaskError> {
    let s = grid.block_start(idx)[0];
    let n = grid.block_shape(idx)[0];
    super::memory::check_task_block::<T>(&[n])?;
    Ok(Chunk::Shared(
        ArrayD::from_shape_fn(IxDyn(&[n]), |i| at(s + i[0])).into_shared(),
    ))
}

/// Blocks of an arithmetic progression.
struct Range<T> {
    start: T,
    step: T,
    grid: Arc<Grid>,
}

impl<T: Number> Range<T> {
    fn at(&self, i: usize) -> T {
        if T::IS_FLOAT {
            T::from_f64(self.start.to_f64() + i as f64 * self.step.to_f64())
        } else {
            T::from_i128(self.start.to_i128() + i as i128 * self.step.to_i128())
        }
    }
}

impl<T: Number> Blocks<T> for Range<T> {
    fn cheap(&self) -> bool {
        true
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        _: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        progression_block(&self.grid, idx, |i| self.at(i))
    }
}

/// Evenly spaced values in `[start, stop)` (Dask: `da.arange(start, stop, step, chunks=…)`):
/// `ceil((stop - start) / step)` of them, the `i`-th being `start + i * step`.
///
/// ```
/// let x = dagr::array::arange(1.0, 2.0, 0.25, &[3])?;
/// assert_eq!(x.compute()?.into_raw_vec_and_offset().0, vec![1.0, 1.25, 1.5, 1.75]);
/// assert!(dagr::array::arange(0, 5, 0, &[2]).is_err());
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn arange<T: Number>(
    start: T,
    stop: T,
    step: T,
    chunks: impl IntoChunks,
) -> Result<Array<T>, Error> {
    let span = stop.to_f64() - start.to_f64();
    let st = step.to_f64();
    if st == 0.0 || !st.is_finite() || !span.is_finite() {
        return Err(Error::InvalidArgument {
            what: "arange",
            message: format!(
                "step {step:?} must be finite and non-zero (start {start:?}, stop {stop:?})"
            ),
        });
    }
    let n = if T::IS_FLOAT {
        (span / st).ceil().max(0.0) as usize
    } else {
        let (a, b, s) = (start.to_i128(), stop.to_i128(), step.to_i128());
        let d = b - a;
        if (d > 0) == (s > 0) && d != 0 {
            ((d.abs() + s.abs() - 1) / s.abs()) as usize
        } else {
            0
        }
    };
    let shape = [n];
    let chunks = chunks.into_chunks(&shape)?;
    let token = token_of("arange", |h| {
        h.write(&[start.bits(), stop.bits(), step.bits()]);
        h.write(&chunks);
        h.write(T::DTYPE);
    });
    let grid = Arc::new(Grid::new(shape.to_vec(), chunks));
    Ok(Array::from_shared_src(
        "arange",
        token,
        grid.clone(),
        Arc::new(Range { start, step, grid }),
    ))
}

/// A one-block array whose block is a lazy value (Dask: `da.from_delayed(value, shape)`).
/// A value of another shape is an error from `compute`.
struct FromDelayed {
    node: NodeRef,
    shape: Vec<usize>,
}

impl<T: Element> Blocks<T> for FromDelayed {
    fn cheap(&self) -> bool {
        true
    }
    fn inputs(&self, _: &[usize], out: &mut Walk<'_>) {
        out.push(self.node.clone());
    }
    fn block<'s>(
        &'s self,
        _: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        let a = inp.next::<ArrayD<T>>()?;
        if a.shape() != self.shape.as_slice() {
            return Err(TaskError::new(Error::Shape {
                what: "from_delayed",
                message: format!(
                    "the value has shape {:?}, the array was declared {:?}",
                    a.shape(),
                    self.shape
                ),
            }));
        }
        Ok(Chunk::Shared(a.into_shared()))
    }
}

/// An array of one block computed by a lazy value (Dask: `da.from_delayed(value, shape,
/// dtype)`). Concatenate several to build an array from many lazy blocks. A value whose
/// shape is not `shape` makes `compute` fail with [`Error::Shape`].
///
/// ```
/// use dagr::{array as da, value};
/// let block = value(5_i64).map(|n| dagr::ndarray::ArrayD::from_elem(vec![2, 2], n));
/// let x = da::from_delayed(block, &[2, 2])?;
/// assert_eq!(x.sum().compute()?, 20);
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn from_delayed<T: Element>(
    value: Delayed<ArrayD<T>>,
    shape: &[usize],
) -> Result<Array<T>, Error> {
    let chunks: Vec<Vec<usize>> = shape.iter().map(|&d| vec![d]).collect();
    let grid = Grid::new(shape.to_vec(), chunks);
    Ok(Array::from_src(
        "from-delayed",
        fresh_token(),
        grid,
        FromDelayed {
            node: value.node,
            shape: shape.to_vec(),
        },
    ))
}

/// Blocks of evenly spaced values, NumPy's `linspace` element by element.
struct Linspace {
    start: f64,
    stop: f64,
    step: f64,
    num: usize,
    grid: Arc<Grid>,
}

impl Linspace {
    fn at(&self, i: usize) -> f64 {
        if self.num == 1 {
            self.start
        } else if i + 1 == self.num {
            self.stop
        } else {
            i as f64 * self.step + self.start
        }
    }
}

impl Blocks<f64> for Linspace {
    fn cheap(&self) -> bool {
        true
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        _: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, f64>, TaskError> {
        progression_block(&self.grid, idx, |i| self.at(i))
    }
}

/// `num` evenly spaced values from `start` to `stop`, both included (Dask:
/// `da.linspace(start, stop, num, chunks=…)`). The values are NumPy's to the bit: the
/// `i`-th is `i * step + start` with `step = (stop - start) / (num - 1)`, and the last is
/// `stop`.
///
/// ```
/// let x = dagr::array::linspace(0.0, 1.0, 5, &[2])?;
/// assert_eq!(x.compute()?.into_raw_vec_and_offset().0, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
/// assert!(dagr::array::linspace(0.0, f64::INFINITY, 5, &[2]).is_err());
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn linspace(
    start: f64,
    stop: f64,
    num: usize,
    chunks: impl IntoChunks,
) -> Result<Array<f64>, Error> {
    if !start.is_finite() || !stop.is_finite() {
        return Err(Error::InvalidArgument {
            what: "linspace",
            message: format!("start {start} and stop {stop} must be finite"),
        });
    }
    let shape = [num];
    let chunks = chunks.into_chunks(&shape)?;
    let step = if num > 1 {
        (stop - start) / (num - 1) as f64
    } else {
        0.0
    };
    let token = token_of("linspace", |h| {
        h.write(&[start.to_bits(), stop.to_bits(), num as u64]);
        h.write(&chunks);
    });
    let grid = Arc::new(Grid::new(shape.to_vec(), chunks));
    Ok(Array::from_shared_src(
        "linspace",
        token,
        grid.clone(),
        Arc::new(Linspace {
            start,
            stop,
            step,
            num,
            grid,
        }),
    ))
}

/// Blocks of a matrix with ones on a diagonal.
struct Eye<T> {
    k: isize,
    grid: Arc<Grid>,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<T: Number> Blocks<T> for Eye<T> {
    fn cheap(&self) -> bool {
        true
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        _: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        let s = self.grid.block_start(idx);
        let shape = self.grid.block_shape(idx);
        super::memory::check_task_block::<T>(&shape)?;
        Ok(Chunk::Shared(
            ArrayD::from_shape_fn(IxDyn(&shape), |i| {
                let d = (s[1] + i[1]) as isize - (s[0] + i[0]) as isize;
                if d == self.k {
                    T::ONE
                } else {
                    T::ZERO
                }
            })
            .into_shared(),
        ))
    }
}

/// The `n × n` matrix with ones on diagonal `k` (0: the main one, above it for `k > 0`)
/// and zeros elsewhere (Dask: `da.eye(n, chunks=…, k=k)`).
///
/// ```
/// let e = dagr::array::eye::<i32>(3, 1, &[2, 2])?;
/// assert_eq!(e.compute()?, dagr::ndarray::arr2(&[[0, 1, 0], [0, 0, 1], [0, 0, 0]]).into_dyn());
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn eye<T: Number>(n: usize, k: isize, chunks: impl IntoChunks) -> Result<Array<T>, Error> {
    let shape = [n, n];
    let chunks = chunks.into_chunks(&shape)?;
    let token = token_of("eye", |h| {
        h.write(&(n, k));
        h.write(&chunks);
        h.write(T::DTYPE);
    });
    let grid = Arc::new(Grid::new(shape.to_vec(), chunks));
    Ok(Array::from_shared_src(
        "eye",
        token,
        grid.clone(),
        Arc::new(Eye {
            k,
            grid,
            _t: std::marker::PhantomData,
        }),
    ))
}
