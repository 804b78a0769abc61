//! Chunked n-dimensional arrays (Dask's `dask.array`): `use dagr::array as da;`.
//!
//! An [`Array<T>`] is a grid of blocks, each an `ndarray::ArrayD<T>` made by one task when
//! computed. Elementwise operations (`+ - * /`, [`Array::map_blocks`], [`Array::astype`],
//! comparisons, `abs/sqrt/exp/log`) and pass-through structural ones (slicing,
//! [`concatenate`], [`stack`], [`Array::transpose`]) create no task: they compose the block's
//! producer, so `(x + 1.0).sum()` runs one task per block that reads the block of `x` a
//! cache-sized piece at a time, adds one to the piece and sums it (no block is written; over
//! a memory map the file is read once), plus a fixed combine tree of fan-in [`SPLIT_EVERY`].
//! Sums and moments have the same bits however a block was made. Operations
//! that gather several blocks into one ([`Array::rechunk`], the `_axis` reductions) create a
//! layer of tasks. Names of blocks are `('add-<token>', i, j)`; equal computations get equal
//! tokens, so computing `(x + 1.0).sum()` and `(x + 1.0).mean()` together runs `x + 1` once.
//!
//! Blocks are shared as Dask shares keys: when several outputs of one compute read the same
//! block (`dagr::compute((&x.mean_axis(0)?, &x.std(), &(&x - m).abs().max()))`), the block is
//! made once, by a task of its own that all of them read; a block read by one task stays
//! fused into it. The choice is made per block when the compute is planned.
//!
//! | dagr | Dask |
//! |---|---|
//! | `da::from_array(a, &[200, 500])?` | `da.from_array(a, chunks=(200, 500))` |
//! | `da::from_memmap::<f64>("x.dat", &shape, &chunks)?` | `da.from_array(np.memmap(...), chunks)` |
//! | `da::from_hdf5::<f64>("x.h5", "/foo/xs", &chunks)?` (feature `hdf5`) | `da.from_array(h5py.File("x.h5")["/foo/xs"], chunks)` |
//! | `x.to_hdf5("x.h5", "/foo/xs")?` (feature `hdf5`) | `x.to_hdf5("x.h5", "/foo/xs")` |
//! | `da::random::normal(10.0, 0.1, &shape, &chunks, seed)?` | `da.random.normal(10, 0.1, size, chunks)` |
//! | `(&x + 1.0).sum().compute()?` | `(x + 1).sum().compute()` |
//! | `x.mean_axis(0)?` | `x.mean(axis=0)` |
//! | `x.slice(s![.., ..;100])?` | `x[:, ::100]` |
//! | `da::concatenate(&[a, b], 0)?` | `da.concatenate([a, b], axis=0)` |
//! | `x.dot(&y)?`, `x.matmul(&y)?`, `da::tensordot(&x, &y, &[1], &[0])?` | `x.dot(y)`, `x @ y`, `da.tensordot(x, y, axes=([1], [0]))` |
//! | `x.map_overlap(1, Boundary::Reflect, f)?` | `x.map_overlap(f, depth=1, boundary="reflect")` |
//! | `da::where_(&x.greater(0.0), &x, 0.0)?`, `x.clip(0.0, 1.0)` | `da.where(x > 0, x, 0)`, `x.clip(0, 1)` |
//! | `x.isnan()`, `x.nansum()`, `x.nanmean_axis(0)?` | `da.isnan(x)`, `da.nansum(x)`, `da.nanmean(x, axis=0)` |
//! | `x.cumsum(0)?`, `x.cumprod(1)?` | `x.cumsum(axis=0)`, `x.cumprod(axis=1)` |
//! | `x.unique()`, `x.histogram(10, (0.0, 1.0))?`, `x.bincount(0)?` | `da.unique(x)`, `da.histogram(x, bins=10, range=(0, 1))`, `da.bincount(x)` |
//! | `x.topk(5, 0)?`, `x.argtopk(-5, 0)?` | `x.topk(5, axis=0)`, `x.argtopk(-5, axis=0)` |
//! | `da::linspace(0.0, 1.0, 50, &[10])?`, `da::eye::<f64>(4, 0, &[2, 2])?`, `x.diag()?` | `da.linspace(0, 1, 50, chunks=10)`, `da.eye(4, chunks=2)`, `da.diag(x)` |
//! | `x.slice(s![..;-1, NewAxis])?`, `x.squeeze()`, `x.expand_dims(0)?` | `x[::-1, None]`, `x.squeeze()`, `da.expand_dims(x, 0)` |
//!
//! ```
//! use dagr::array as da;
//! let x = da::from_array(dagr::ndarray::Array2::<f64>::ones((4, 6)).into_dyn(), &[2, 3])?;
//! assert_eq!(x.numblocks(), vec![2, 2]);
//! let y = (&x + 1.0) * 2.0;
//! assert_eq!(y.sum().compute()?, 96.0);
//! assert_eq!(y.compute()?, dagr::ndarray::ArrayD::from_elem(vec![4, 6], 4.0));
//! # Ok::<(), dagr::Error>(())
//! ```

mod blocks;
mod counting;
mod create;
mod diag;
mod element;
mod fuse;
mod grid;
#[cfg(feature = "hdf5")]
mod h5;
mod layer;
mod linalg;
mod memmap;
mod memory;
mod overlap;
pub mod random;
mod reduce;
mod scan;
mod select;
mod structure;
mod topk;
mod write;

/// The `hdf5-metno` crate dagr reads and writes HDF5 files with (feature `hdf5`), for
/// opening files directly with the same version: `dagr::array::hdf5::File::open(path)`.
#[cfg(feature = "hdf5")]
pub use ::hdf5;
pub use create::{arange, eye, from_array, from_delayed, full, linspace, ones, zeros};
pub use element::{Element, Float, Number};
pub use fuse::Operand;
pub use grid::IntoChunks;
#[cfg(feature = "hdf5")]
pub use h5::{from_hdf5, H5Element};
pub use linalg::tensordot;
pub use memmap::{from_memmap, store, Pod};
pub use ndarray::{s, ArrayD, NewAxis, SliceInfoElem};
pub use overlap::{Boundary, IntoDepth};
pub use select::where_;
pub use structure::{concatenate, stack};

/// Fan-in of the combine trees of reductions (Dask's `split_every`).
pub const SPLIT_EVERY: usize = 8;

use crate::compute::{Computable, Outputs};
use crate::delayed::Delayed;
use crate::node::{new_wired_node, Deps, NodeKind, NodeRef};
use crate::share::Walk;
use crate::tokenize::{fresh_token, TokenHasher};
use crate::Error;
pub(crate) use blocks::duplicate;
use blocks::{Blocks, Chunk, Failing, NodeBlocks, Src};
use dagr_runtime::{Inputs, Key, Scheduler, TaskError, TaskResult, Value};
use grid::Grid;
use layer::{FusedTask, Layer};
use ndarray::{ArcArray, IxDyn, Slice};
use std::fmt;
use std::sync::{Arc, OnceLock};

/// A lazy, chunked n-dimensional array of `T` (Dask's `dask.array.Array`): a grid of
/// blocks, each an [`ndarray`] array made by one task.
///
/// Cheap to clone (shared). Build one with [`from_array`], [`from_memmap`], [`zeros`],
/// [`random::random`] and friends; nothing runs until [`Array::compute`] (or
/// [`crate::compute`] of several values) or the compute of a reduction.
///
/// - Operators `+ - * /` take a number, another array (broadcast as NumPy does, chunks
///   unified), or a lazy scalar such as a reduction of the array itself: `&x - x.mean()`,
///   `(&x - x.mean()) / x.std()`. They add no task: the step joins the task that makes each
///   block. A shape mismatch is an error from `compute` (or at once from `try_add`, …).
/// - Reductions (`sum`, `mean`, `min`, `max`, `var`, `std`, `argmin`, `argmax` and their
///   `_axis` forms) combine per-block results in a fixed tree of fan-in 8, so results do
///   not depend on the scheduler.
/// - An operation given bad input (a bad axis, slice or shape) gives an array whose
///   `compute` returns that error.
///
/// ```
/// use dagr::array as da;
/// let x = da::arange(0.0, 6.0, 1.0, &[4])?;               // da.arange(0, 6, chunks=4)
/// let y = (&x * 2.0 - x.mean()).compute()?;                // (x * 2 - x.mean()).compute()
/// assert_eq!(y.as_slice().unwrap(), &[-2.5, -0.5, 1.5, 3.5, 5.5, 7.5]);
/// # Ok::<(), dagr::Error>(())
/// ```
// Invariants: 1. the block grid covers `shape` exactly (see `Grid`); 2. the source makes
// block `idx` with exactly `grid.block_shape(idx)`; 3. equal names mean equal blocks (block
// tasks are pure and merged by key); 4. an array whose construction failed carries the
// error in `err`, and every block of it fails with that error.
pub struct Array<T> {
    name: Arc<str>,
    token: u64,
    grid: Arc<Grid>,
    src: Arc<Layer<T>>,
    cache: Arc<Cache>,
    err: Option<Arc<Error>>,
}

/// Graph nodes made once per array and shared by every use of it.
#[derive(Default)]
struct Cache {
    blocks: OnceLock<Arc<[NodeRef]>>,
    full: OnceLock<NodeRef>,
}

impl<T> Clone for Array<T> {
    fn clone(&self) -> Self {
        Array {
            name: self.name.clone(),
            token: self.token,
            grid: self.grid.clone(),
            src: self.src.clone(),
            cache: self.cache.clone(),
            err: self.err.clone(),
        }
    }
}

impl<T: Element> fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "dagr.array<{}, shape={:?}, dtype={}, chunksize={:?}, numblocks={:?}>",
            self.name,
            self.grid.shape,
            T::DTYPE,
            self.grid
                .chunks
                .iter()
                .map(|c| c.iter().copied().max().unwrap_or(0))
                .collect::<Vec<_>>(),
            self.grid.numblocks()
        )
    }
}

/// The token of an operation from its name and what identifies its inputs.
pub(crate) fn token_of(op: &str, f: impl FnOnce(&mut TokenHasher)) -> u64 {
    let mut h = TokenHasher::new(op);
    f(&mut h);
    h.finish()
}

impl<T: Element> Array<T> {
    /// An array over `src` (no task yet).
    pub(crate) fn from_src(op: &str, token: u64, grid: Grid, src: impl Blocks<T>) -> Array<T> {
        Array::from_shared_src(op, token, Arc::new(grid), Arc::new(src))
    }

    pub(crate) fn from_shared_src(op: &str, token: u64, grid: Arc<Grid>, src: Src<T>) -> Array<T> {
        let name: Arc<str> = format!("{op}-{token:016x}").into();
        Array {
            src: Arc::new(Layer::new(name.clone(), grid.clone(), src)),
            name,
            token,
            grid,
            cache: Arc::default(),
            err: None,
        }
    }

    /// An array of `grid`'s shape whose blocks all fail with `err`.
    pub(crate) fn failing(grid: Arc<Grid>, err: Error) -> Array<T> {
        let err = Arc::new(err);
        let mut a =
            Array::from_shared_src("error", fresh_token(), grid, Arc::new(Failing(err.clone())));
        a.err = Some(err);
        a
    }

    /// This array's shape with a deferred error: what an operator returns on bad input.
    pub(crate) fn fail(&self, err: Error) -> Array<T> {
        Array::failing(self.grid.clone(), err)
    }

    /// Carries the first deferred error of the inputs into `out`.
    pub(crate) fn with_err_of(mut self, inputs: &[Option<&Arc<Error>>]) -> Array<T> {
        if self.err.is_none() {
            self.err = inputs.iter().flatten().next().map(|e| (*e).clone());
        }
        self
    }

    /// The array's dimensions (Dask: `x.shape`).
    ///
    /// ```
    /// let x = dagr::array::zeros::<f64>(&[3, 4], &[2, 2])?;
    /// assert_eq!(x.shape(), &[3, 4]);
    /// assert_eq!(x.ndim(), 2);
    /// assert_eq!(x.size(), 12);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn shape(&self) -> &[usize] {
        &self.grid.shape
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.grid.ndim()
    }

    /// Number of elements.
    pub fn size(&self) -> usize {
        self.grid.size()
    }

    /// Bytes the elements take once computed.
    pub fn nbytes(&self) -> usize {
        self.size() * std::mem::size_of::<T>()
    }

    /// Block sizes along every axis (Dask: `x.chunks`).
    ///
    /// ```
    /// let x = dagr::array::ones::<i64>(&[5, 4], &[2, 4])?;
    /// assert_eq!(x.chunks(), &[vec![2, 2, 1], vec![4]]);
    /// assert_eq!(x.numblocks(), vec![3, 1]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn chunks(&self) -> &[Vec<usize>] {
        &self.grid.chunks
    }

    /// Number of blocks along every axis (Dask: `x.numblocks`).
    pub fn numblocks(&self) -> Vec<usize> {
        self.grid.numblocks()
    }

    /// The name of the array's layer: its blocks are keyed `(name, i, j, …)`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The error found while building this array, if an operator met bad input (it is also
    /// what [`Array::compute`] returns).
    ///
    /// ```
    /// use dagr::array as da;
    /// let a = da::ones::<f64>(&[3], &[3])?;
    /// let b = da::ones::<f64>(&[4], &[4])?;
    /// assert!((&a + &b).error().is_some());
    /// assert!((&a + 1.0).error().is_none());
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn error(&self) -> Option<&Error> {
        self.err.as_deref()
    }

    /// One pure node per block, in C order, running the fused source and then `consume`.
    pub(crate) fn nodes_with<S: crate::Wired>(
        &self,
        name: &Arc<str>,
        consume: impl Fn(&[usize], Chunk<'_, T>) -> Result<S, TaskError> + Send + Sync + 'static,
    ) -> Vec<NodeRef> {
        self.lazy_nodes_with(name, move |idx, c| consume(idx, c.materialize()?))
    }

    /// [`Array::nodes_with`] for a consumer taking the block with its elementwise steps
    /// unapplied (see [`blocks::Lazy`]).
    pub(crate) fn lazy_nodes_with<S: crate::Wired>(
        &self,
        name: &Arc<str>,
        consume: impl Fn(&[usize], blocks::Lazy<'_, T>) -> Result<S, TaskError> + Send + Sync + 'static,
    ) -> Vec<NodeRef> {
        let consume: Arc<layer::Consume<T, S>> = Arc::new(consume);
        let src: Src<T> = self.src.clone();
        self.grid
            .blocks()
            .into_iter()
            .map(|idx| {
                let key = Key::index(
                    name.clone(),
                    &idx.iter().map(|&i| i as u64).collect::<Vec<_>>(),
                );
                let task = FusedTask {
                    src: src.clone(),
                    counted: src.clone(),
                    idx,
                    consume: consume.clone(),
                };
                task.node(key, Walk::plain(), true).0
            })
            .collect()
    }

    /// One node per block, in C order, giving the partial `A` of the block (its elementwise
    /// steps applied as it is read). Blocks that share rows in memory (see
    /// [`Blocks::shares_rows`]) and are cut short along their last cut axis are read a band
    /// at a time, side by side in the order of memory, by one task whose partials the
    /// block's nodes pick out: each block's partial has the same bits either way.
    pub(crate) fn partial_nodes<A: layer::Partial<T>>(&self, name: &Arc<str>) -> Vec<NodeRef> {
        let Some(axis) = self.side_by_side_axis() else {
            return self.lazy_nodes_with(name, |_, c| {
                let mut a = A::start(c.shape());
                c.for_each_piece(&mut |xs| a.feed(xs));
                Ok(a.finish())
            });
        };
        let band_name: Arc<str> = format!("{name}-rows").into();
        let per_band = self.grid.numblocks()[axis];
        let blocks = self.grid.blocks();
        let mut out = Vec::with_capacity(blocks.len());
        let key = |name: &Arc<str>, idx: &[usize]| {
            Key::index(
                name.clone(),
                &idx.iter().map(|&i| i as u64).collect::<Vec<_>>(),
            )
        };
        for band in blocks.chunks(per_band) {
            let task = layer::SideBySideTask::<T, A> {
                src: self.src.clone(),
                idxs: band.to_vec(),
                axis,
                _partial: std::marker::PhantomData,
            };
            let together = task.node(key(&band_name, &band[0]), Walk::plain(), true).0;
            for (j, idx) in band.iter().enumerate() {
                out.push(new_wired_node(
                    key(name, idx),
                    Deps::one(together.clone()),
                    NodeKind::Call,
                    true,
                    Some(crate::wire_of::<A::Out>()),
                    move |inp: &mut Inputs<'_>| -> TaskResult {
                        let parts: &Vec<A::Out> = inp.get(0)?;
                        let part = parts
                            .get(j)
                            .cloned()
                            .ok_or_else(|| TaskError::new("a block's partial is missing"))?;
                        Ok(Value::new(part))
                    },
                ));
            }
        }
        out
    }

    /// The axis along which [`Array::partial_nodes`] reads blocks side by side, if it does:
    /// the last axis cut in more than one block, when blocks share rows, a block's run
    /// along it is short, and there are enough bands to keep every worker busy.
    fn side_by_side_axis(&self) -> Option<usize> {
        const MIN_BANDS: usize = 8;
        let nb = self.grid.numblocks();
        let axis = (1..nb.len()).rev().find(|&k| nb[k] > 1)?;
        let run = self.grid.chunks[axis].iter().max().copied().unwrap_or(0)
            * self.grid.shape[axis + 1..].iter().product::<usize>()
            * std::mem::size_of::<T>();
        let bands = self.grid.nblocks() / nb[axis];
        (self.src.shares_rows() && run < blocks::SHORT_ROW_BYTES && bands >= MIN_BANDS)
            .then_some(axis)
    }

    /// One node per block producing the block (an `ArcArray<T, IxDyn>`), made once.
    pub(crate) fn block_nodes(&self) -> Arc<[NodeRef]> {
        self.cache
            .blocks
            .get_or_init(|| {
                self.grid
                    .blocks()
                    .into_iter()
                    .map(|idx| Layer::block_node(&self.src, idx))
                    .collect()
            })
            .clone()
    }

    /// This array with its blocks made by `nodes` (one per block, C order), which hold
    /// their values (see [`crate::persist`]).
    pub(crate) fn with_held(&self, nodes: Vec<NodeRef>) -> Array<T> {
        Array::from_nodes(&self.name, self.token, (*self.grid).clone(), nodes)
    }

    /// Keeps the computed blocks in memory for the computations that follow (Dask:
    /// `Array.persist`); see [`crate::persist`].
    ///
    /// ```
    /// use dagr::array as da;
    /// let x = da::random::random(&[1000, 1000], &[250, 250], 7)?.persist()?;
    /// assert_eq!(x.mean().compute()?, x.mean().compute()?); // both from the held blocks
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn persist(&self) -> Result<Array<T>, Error> {
        crate::persist::persist(self)
    }

    /// [`Array::persist`] on the given scheduler.
    pub fn persist_with(&self, scheduler: Scheduler) -> Result<Array<T>, Error> {
        crate::persist::persist_with(self, scheduler)
    }

    /// An array whose blocks are the values of `nodes` (one per block, C order).
    pub(crate) fn from_nodes(op: &str, token: u64, grid: Grid, nodes: Vec<NodeRef>) -> Array<T> {
        let numblocks = grid.numblocks();
        let nodes: Arc<[NodeRef]> = nodes.into();
        let a = Array::from_src(
            op,
            token,
            grid,
            NodeBlocks {
                nodes: nodes.clone(),
                numblocks,
            },
        );
        // the nodes are the blocks: no extra pass-through task
        let _ = a.cache.blocks.set(nodes);
        a
    }

    /// The node assembling the whole array, made once.
    fn full_node(&self) -> &NodeRef {
        self.cache.full.get_or_init(|| {
            let blocks = self.block_nodes();
            let grid = self.grid.clone();
            let body = move |inp: &mut Inputs<'_>| -> TaskResult {
                if inp.len() == 1 {
                    let a = inp.take::<ArcArray<T, IxDyn>>(0)?;
                    return Ok(Value::new(a.into_owned()));
                }
                memory::check_array::<T>(&grid.shape).map_err(TaskError::new)?;
                let mut out = ndarray::ArrayD::<T>::from_elem(IxDyn(&grid.shape), T::default());
                for (k, idx) in grid.blocks().into_iter().enumerate() {
                    let b = inp.take::<ArcArray<T, IxDyn>>(k)?;
                    let start = grid.block_start(&idx);
                    let mut dst = out.slice_each_axis_mut(|ax| {
                        let s = start[ax.axis.index()];
                        Slice::from(s..s + ax.len.min(b.shape()[ax.axis.index()]))
                    });
                    dst.assign(&b);
                }
                Ok(Value::new(out))
            };
            new_wired_node(
                Key::index(format!("{}-compute", self.name), &[]),
                Deps::from(blocks.to_vec()),
                NodeKind::Call,
                true,
                Some(crate::wire::array_node_wire::<T, ndarray::ArrayD<T>>()),
                body,
            )
        })
    }

    /// The whole array as one lazy value.
    pub fn to_delayed(&self) -> Delayed<ndarray::ArrayD<T>> {
        Delayed::from_node(self.full_node().clone())
    }

    /// Computes the whole array on the default scheduler (Dask: `x.compute()`).
    ///
    /// ```
    /// let x = dagr::array::arange(0_i64, 6, 1, &[4])?;
    /// assert_eq!(x.compute()?.into_raw_vec_and_offset().0, vec![0, 1, 2, 3, 4, 5]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn compute(&self) -> Result<ndarray::ArrayD<T>, Error> {
        self.compute_with(Scheduler::default())
    }

    /// Computes the whole array on the given scheduler.
    pub fn compute_with(&self, scheduler: Scheduler) -> Result<ndarray::ArrayD<T>, Error> {
        if let Some(e) = &self.err {
            return Err(duplicate(e));
        }
        // before anything runs; on a cluster, where ranks may differ in memory, the
        // assembling task checks instead, and its error is agreed by every rank
        if !scheduler.is_distributed() {
            memory::check_array::<T>(self.shape())?;
        }
        self.to_delayed().compute_with(scheduler)
    }

    /// Number of tasks computing the whole array takes (shared ones counted once).
    pub fn num_tasks(&self) -> usize {
        crate::plan::count(&[self.full_node()])
    }

    /// The graph computing this array, as Graphviz DOT text.
    pub fn to_dot(&self) -> String {
        crate::to_dot(self)
    }

    /// Writes a picture of the graph computing this array: `.dot`, `.svg` or `.png` by the
    /// file's extension (Dask: `x.visualize("x.svg")`); see [`crate::visualize`].
    ///
    /// ```no_run
    /// let x = dagr::array::ones::<f64>(&[4, 4], &[2, 2])?;
    /// (&x + 1.0).visualize("x.svg")?;
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn visualize(&self, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
        crate::visualize(self, path)
    }
}

/// Arrays compute to `ndarray::ArrayD<T>` in [`crate::compute`], sharing work with the
/// other outputs.
///
/// ```
/// use dagr::array as da;
/// let x = da::arange(0.0, 4.0, 1.0, &[2])?;
/// let y = &x * 2.0;
/// let (a, s) = dagr::compute((&y, &y.sum()))?;
/// assert_eq!(a.into_raw_vec_and_offset().0, vec![0.0, 2.0, 4.0, 6.0]);
/// assert_eq!(s, 12.0);
/// # Ok::<(), dagr::Error>(())
/// ```
impl<T: Element> Computable for Array<T> {
    type Output = ndarray::ArrayD<T>;
    fn collect_nodes<'a>(&'a self, out: &mut Outputs<'a>) {
        out.0.push(self.full_node().clone());
    }
    fn extract(&self, values: &mut std::vec::IntoIter<Value>) -> Result<Self::Output, Error> {
        if let Some(e) = &self.err {
            return Err(duplicate(e));
        }
        let d = self.to_delayed();
        match values.next() {
            Some(v) => d.extract(v),
            None => Err(Error::OutputType {
                key: d.key().clone(),
                expected: std::any::type_name::<ndarray::ArrayD<T>>(),
            }),
        }
    }
}
