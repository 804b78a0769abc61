//! HDF5 files (cargo feature `hdf5`): arrays read block by block from a dataset, and arrays
//! written to one.
//!
//! Goes through `hdf5-metno` and the system's HDF5 C library, which serialises every call
//! behind one global lock: reading blocks from many tasks is fine (each reads only its own
//! hyperslab), and writing happens from one place, the calling thread, while the blocks are
//! computed in parallel (see `write.rs`).

use super::blocks::{Blocks, Chunk, Cursor};
use super::element::Element;
use super::grid::{Grid, IntoChunks};
use super::memmap::Pod;
use super::write::write_atomically;
use super::{token_of, Array};
use crate::tokenize::fresh_token;
use crate::Error;
use dagr_runtime::{Scheduler, TaskError};
use hdf5::{Hyperslab, Selection, SliceOrIndex};
use ndarray::IxDyn;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Element types arrays read from and write to HDF5: the primitive integers and floats
/// (every [`Pod`] type; HDF5's own type of each is `T::type_descriptor()`, so `f64` is a
/// 64-bit float dataset, `i32` a 32-bit signed integer one).
pub trait H5Element: Pod + hdf5::H5Type {}

impl<T: Pod + hdf5::H5Type> H5Element for T {}

/// The [`Error::Hdf5`] for `dataset` of `path`.
fn h5_error<'d>(path: &Path, dataset: &'d str) -> impl Fn(hdf5::Error) -> Error + 'd {
    let path = path.to_path_buf();
    move |e| Error::Hdf5 {
        path: path.clone(),
        dataset: dataset.to_owned(),
        message: e.to_string(),
    }
}

/// The selection of the block starting at `start` with `shape`.
fn hyperslab(start: &[usize], shape: &[usize]) -> Selection {
    let axes: Vec<SliceOrIndex> = start
        .iter()
        .zip(shape)
        .map(|(&s, &n)| SliceOrIndex::from(s..s + n))
        .collect();
    Selection::from(Hyperslab::from(axes))
}

/// Opens `dataset` of the HDF5 file `path`.
fn open(path: &Path, dataset: &str) -> Result<hdf5::Dataset, Error> {
    let err = h5_error(path, dataset);
    let file = hdf5::File::open(path).map_err(&err)?;
    file.dataset(dataset).map_err(err)
}

/// Blocks read from a dataset: each task opens the file and reads its block's hyperslab.
struct Dataset<T> {
    path: PathBuf,
    dataset: String,
    grid: Arc<Grid>,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<T: H5Element> Blocks<T> for Dataset<T> {
    fn block<'s>(
        &'s self,
        idx: &[usize],
        _: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        super::memory::check_task_block::<T>(&self.grid.block_shape(idx))?;
        let ds = open(&self.path, &self.dataset).map_err(TaskError::new)?;
        let sel = hyperslab(&self.grid.block_start(idx), &self.grid.block_shape(idx));
        let block = ds
            .read_slice::<T, _, IxDyn>(sel)
            .map_err(|e| TaskError::new(h5_error(&self.path, &self.dataset)(e)))?;
        Ok(Chunk::Shared(block.into_shared()))
    }
}

/// An array over the dataset `dataset` (like `/foo/xs`) of the HDF5 file `path` (Dask:
/// `da.from_array(h5py.File(path)[dataset], chunks)`). The file is checked now (it opens,
/// the dataset exists, holds `T`, and `chunks` fit its shape); each block is read when
/// computed, one task per block reading only its own hyperslab, so a dataset larger than
/// memory streams through. Compressed and chunked datasets are read too, with the filters
/// the system's HDF5 library has.
///
/// Errors: a missing file ([`Error::Io`]), a file HDF5 cannot open or a dataset it does not
/// hold ([`Error::Hdf5`], naming both), a dataset of another element type than `T`
/// ([`Error::Dtype`]: the types must be the same, no conversion is made), chunks that do
/// not fit the dataset's shape ([`Error::Chunks`]). The file must not change while the
/// array is in use.
///
/// Needs the `hdf5` cargo feature (and the system library, `libhdf5-dev`).
///
/// ```
/// use dagr::array as da;
/// let path = std::env::temp_dir().join(format!("dagr-doc-from-hdf5-{}.h5", std::process::id()));
/// da::arange(0.0, 12.0, 1.0, &[4])?.reshape(&[3, 4])?.to_hdf5(&path, "/foo/xs")?;
/// let x = da::from_hdf5::<f64>(&path, "/foo/xs", &[2, 2])?;
/// assert_eq!(x.shape(), &[3, 4]);
/// assert_eq!(x.sum().compute()?, 66.0);
/// assert!(da::from_hdf5::<f32>(&path, "/foo/xs", &[2, 2]).is_err()); // float64 stored
/// assert!(da::from_hdf5::<f64>(&path, "/foo/ys", &[2, 2]).is_err()); // no such dataset
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn from_hdf5<T: H5Element>(
    path: impl AsRef<Path>,
    dataset: &str,
    chunks: impl IntoChunks,
) -> Result<Array<T>, Error> {
    let path = path.as_ref();
    // the OS's word on a missing or unreadable file is clearer than HDF5's
    std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let err = h5_error(path, dataset);
    let ds = open(path, dataset)?;
    let found = ds.dtype().and_then(|t| t.to_descriptor()).map_err(&err)?;
    if found != T::type_descriptor() {
        return Err(Error::Dtype {
            path: path.to_path_buf(),
            dataset: dataset.to_owned(),
            found: found.to_string(),
            expected: <T as Element>::DTYPE,
        });
    }
    let shape = ds.space().map_err(&err)?.shape();
    drop(ds);
    let chunks = chunks.into_chunks(&shape).map_err(|e| match e {
        Error::Chunks { message } => Error::Chunks {
            message: format!(
                "{}: dataset {dataset:?} of shape {shape:?}: {message}",
                path.display()
            ),
        },
        other => other,
    })?;
    let grid = Arc::new(Grid::new(shape, chunks));
    let token = token_of("hdf5", |h| {
        h.write(path);
        h.write(dataset);
        h.write(&fresh_token());
    });
    let src = Dataset::<T> {
        path: path.to_path_buf(),
        dataset: dataset.to_owned(),
        grid: grid.clone(),
        _t: std::marker::PhantomData,
    };
    Ok(Array::from_shared_src("hdf5", token, grid, Arc::new(src)))
}

/// The groups leading to a dataset path and the dataset's own name: `/foo/xs` is
/// `(["foo"], "xs")`.
fn split_dataset<'d>(path: &Path, dataset: &'d str) -> Result<(Vec<&'d str>, &'d str), Error> {
    let mut parts: Vec<&str> = dataset.split('/').filter(|p| !p.is_empty()).collect();
    match parts.pop() {
        Some(name) if name != "." && name != ".." => Ok((parts, name)),
        _ => Err(Error::Hdf5 {
            path: path.to_path_buf(),
            dataset: dataset.to_owned(),
            message: "not a dataset path (expected a name like \"xs\" or \"/foo/xs\")".into(),
        }),
    }
}

impl<T: H5Element> Array<T> {
    /// Computes the array and writes it to the dataset `dataset` (like `/foo/xs`) of a new
    /// HDF5 file at `path` (Dask: `x.to_hdf5(path, dataset)`), readable back with
    /// [`from_hdf5`] or any HDF5 tool (h5py: `h5py.File(path)[dataset]`).
    ///
    /// Blocks are computed in parallel and written one at a time from the calling thread as
    /// they finish (HDF5's library runs one call at a time), so only a few finished blocks
    /// wait in memory. The dataset is stored contiguous, with `T`'s HDF5 type (`f64`: a
    /// 64-bit IEEE float), no HDF5 chunking or compression.
    ///
    /// Existing files and datasets: the file is written whole under a temporary name
    /// beside `path` and moved into place only when every block is written, so a failed
    /// write (a block that errors, a full disk) leaves an existing file at `path` as it was
    /// and no temporary file behind. On success an existing file at `path` is **replaced as
    /// a whole**: its other datasets are not kept (unlike h5py's append mode); an existing
    /// `path` that is not a regular file (a directory, a device) is an error and is left
    /// alone. Groups on the way to the dataset (`/foo` of `/foo/xs`) are created.
    ///
    /// Needs the `hdf5` cargo feature (and the system library, `libhdf5-dev`).
    ///
    /// ```
    /// use dagr::array as da;
    /// let path = std::env::temp_dir().join(format!("dagr-doc-to-hdf5-{}.h5", std::process::id()));
    /// let x = da::random::random(&[100, 60], &[25, 30], 7)?;
    /// x.to_hdf5(&path, "/foo/xs")?;
    /// let back = da::from_hdf5::<f64>(&path, "/foo/xs", &[50, 60])?;
    /// assert_eq!(back.compute()?, x.compute()?);
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn to_hdf5(&self, path: impl AsRef<Path>, dataset: &str) -> Result<(), Error> {
        self.to_hdf5_with(path.as_ref(), dataset, Scheduler::default())
    }

    /// [`Array::to_hdf5`] on the given scheduler.
    pub fn to_hdf5_with(
        &self,
        path: &Path,
        dataset: &str,
        scheduler: Scheduler,
    ) -> Result<(), Error> {
        if let Some(e) = &self.err {
            return Err(super::blocks::duplicate(e));
        }
        if scheduler.is_distributed() {
            // The HDF5 library writes from one process here (no parallel HDF5).
            return Err(Error::InvalidArgument {
                what: "to_hdf5_with",
                message: "HDF5 files are written by one process: on a cluster, write raw \
                          binary with store_with (every rank writes its blocks), or gather \
                          the array to one rank with dagr::distributed::compute_on"
                    .into(),
            });
        }
        let (groups, name) = split_dataset(path, dataset)?;
        let err = h5_error(path, dataset);
        write_atomically(path, |tmp| {
            let file = hdf5::File::create(tmp).map_err(&err)?;
            let mut group = file.as_group().map_err(&err)?;
            for g in groups {
                group = group.create_group(g).map_err(&err)?;
            }
            let ds = group
                .new_dataset::<T>()
                .shape(self.shape().to_vec())
                .create(name)
                .map_err(&err)?;
            let grid = self.grid.clone();
            self.for_each_block_here("to_hdf5", scheduler, |idx, block| {
                let sel = hyperslab(&grid.block_start(idx), block.shape());
                ds.write_slice(block, sel).map_err(&err)
            })?;
            drop(ds);
            drop(group);
            file.close().map_err(&err)
        })
    }
}
