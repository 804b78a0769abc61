//! Raw binary files: arrays over a read-only memory map, and arrays stored to raw files.
//!
//! All of dagr's `unsafe` for arrays is here: mapping a file, and viewing its bytes as
//! elements of a [`Pod`] type (and elements as bytes when storing).

use super::blocks::{Blocks, Chunk, Cursor};
use super::element::Element;
use super::grid::{Grid, IntoChunks};
use super::{token_of, Array};
use crate::tokenize::fresh_token;
use crate::Error;
use dagr_runtime::TaskError;
use memmap2::Mmap;
use ndarray::{ArrayViewD, IxDyn, Slice};
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

mod sealed {
    pub trait Sealed {}
}

/// Element types for which every bit pattern of their size is a valid value, so a raw file
/// can be read as them: the primitive integers and floats (not `bool`). Sealed.
///
/// # Safety
/// Implemented only for types without padding or invalid bit patterns.
pub unsafe trait Pod: Element + sealed::Sealed {}

macro_rules! pod {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        // SAFETY: a primitive number: no padding, every bit pattern is a value.
        unsafe impl Pod for $t {}
    )*};
}
pod!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64);

/// A file mapped read-only, viewed as `len` elements of `T`.
struct Mapped<T> {
    map: Option<Mmap>,
    len: usize,
    grid: Arc<Grid>,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<T: Pod> Mapped<T> {
    fn elements(&self) -> &[T] {
        match &self.map {
            // SAFETY: `from_memmap` checked that the map holds exactly `len * size_of::<T>()`
            // bytes and starts at an address aligned for `T` (maps are page-aligned); `T` is
            // `Pod`, so every bit pattern is a valid `T`; the slice borrows the map, which
            // lives as long as `self`.
            Some(m) => unsafe { std::slice::from_raw_parts(m.as_ptr().cast::<T>(), self.len) },
            None => &[],
        }
    }
}

impl<T: Pod> Blocks<T> for Mapped<T> {
    fn shares_rows(&self) -> bool {
        true
    }
    fn block<'s>(
        &'s self,
        idx: &[usize],
        _: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        let mut whole =
            ArrayViewD::from_shape(IxDyn(&self.grid.shape), self.elements()).map_err(|e| {
                TaskError::new(Error::Shape {
                    what: "from_memmap",
                    message: e.to_string(),
                })
            })?;
        let start = self.grid.block_start(idx);
        let shape = self.grid.block_shape(idx);
        // a view touches only the block's own bytes
        whole.slice_each_axis_inplace(|ax| {
            let k = ax.axis.index();
            Slice::from(start[k]..start[k] + shape[k])
        });
        Ok(Chunk::View(whole))
    }
}

/// An array over a raw binary file of `T` in native byte order and C order, mapped
/// read-only (Dask: `da.from_array(np.memmap(path, dtype, shape=shape), chunks)`). Each
/// block is a view of the map that reads only its own bytes, so arrays larger than memory
/// stream from the page cache.
///
/// Errors: a missing file ([`Error::Io`]), a file whose size is not
/// `shape.product() * size_of::<T>()` ([`Error::FileSize`]), bad chunks.
///
/// The file must not be truncated or written to by anyone while the array is in use (the
/// contract of every memory map).
///
/// ```
/// use dagr::array as da;
/// let dir = std::env::temp_dir().join(format!("dagr-doc-memmap-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("x.dat");
/// da::arange(0.0, 12.0, 1.0, &[5])?.to_memmap(&path)?;
/// let x = da::from_memmap::<f64>(&path, &[3, 4], &[2, 2])?;
/// assert_eq!(x.sum().compute()?, 66.0);
/// assert!(da::from_memmap::<f64>(&path, &[3, 5], &[2, 2]).is_err()); // wrong size
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn from_memmap<T: Pod>(
    path: impl AsRef<Path>,
    shape: &[usize],
    chunks: impl IntoChunks,
) -> Result<Array<T>, Error> {
    let path = path.as_ref();
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let chunks = chunks.into_chunks(shape)?;
    let len: usize = shape.iter().product();
    let expected = (len as u64).checked_mul(std::mem::size_of::<T>() as u64);
    let file = File::open(path).map_err(io)?;
    let actual = file.metadata().map_err(io)?.len();
    if expected != Some(actual) {
        return Err(Error::FileSize {
            path: path.to_path_buf(),
            expected: expected.unwrap_or(u64::MAX),
            actual,
        });
    }
    let map = if actual == 0 {
        None
    } else {
        // SAFETY: mapped read-only; the documented contract of `from_memmap` is that nobody
        // truncates or writes the file while the array is in use.
        let m = unsafe { Mmap::map(&file) }.map_err(io)?;
        if m.len() as u64 != actual || m.as_ptr().align_offset(std::mem::align_of::<T>()) != 0 {
            return Err(Error::FileSize {
                path: path.to_path_buf(),
                expected: actual,
                actual: m.len() as u64,
            });
        }
        Some(m)
    };
    let grid = Arc::new(Grid::new(shape.to_vec(), chunks));
    let token = token_of("memmap", |h| {
        h.write(path);
        h.write(&fresh_token());
    });
    let src = Mapped::<T> {
        map,
        len,
        grid: grid.clone(),
        _t: std::marker::PhantomData,
    };
    Ok(Array::from_shared_src("memmap", token, grid, Arc::new(src)))
}

/// Writes `x` to `path` as raw binary (Dask: `da.store(x, target)`): [`Array::to_memmap`].
///
/// ```
/// use dagr::array as da;
/// let path = std::env::temp_dir().join(format!("dagr-doc-store2-{}.dat", std::process::id()));
/// da::store(&da::ones::<u8>(&[10], &[4])?, &path)?;
/// assert_eq!(std::fs::read(&path).unwrap(), vec![1u8; 10]);
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn store<T: Pod>(x: &Array<T>, path: impl AsRef<Path>) -> Result<(), Error> {
    x.to_memmap(path)
}

/// The bytes of a slice of elements.
fn as_bytes<T: Pod>(xs: &[T]) -> &[u8] {
    // SAFETY: `T` is `Pod` (no padding), so its memory is `size_of_val(xs)` initialised bytes;
    // u8 has alignment 1; the result borrows `xs`.
    unsafe { std::slice::from_raw_parts(xs.as_ptr().cast::<u8>(), std::mem::size_of_val(xs)) }
}

#[cfg(unix)]
fn write_at(f: &File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(f, buf, offset)
}

#[cfg(windows)]
fn write_at(f: &File, mut buf: &[u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_write(f, buf, offset)?;
        buf = &buf[n..];
        offset += n as u64;
    }
    Ok(())
}

impl<T: Pod> Array<T> {
    /// Computes the array and writes it to `path` as raw binary in native byte order and C
    /// order, readable back with [`from_memmap`] (Dask: `da.store(x, np.memmap(...))`). Blocks
    /// are computed in parallel, each written to its own place of a temporary file beside
    /// `path` as it arrives; the file is moved into place only when every block is written,
    /// so `path` never holds a partial array. An existing file at `path` is replaced (a
    /// symbolic link is followed); an existing `path` that is not a regular file (a
    /// directory, a device such as `/dev/null`) is an error and is left alone.
    ///
    /// ```
    /// use dagr::array as da;
    /// let path = std::env::temp_dir().join(format!("dagr-doc-store-{}.dat", std::process::id()));
    /// let x = da::arange(0_i32, 6, 1, &[3])?.reshape(&[2, 3])?;
    /// x.t().to_memmap(&path)?;
    /// let back = da::from_memmap::<i32>(&path, &[3, 2], &[3, 2])?;
    /// assert_eq!(back.compute()?, x.t().compute()?);
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn to_memmap(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        self.store_with(path.as_ref(), crate::Scheduler::default())
    }

    /// [`Array::to_memmap`] on the given scheduler.
    ///
    /// On a cluster's scheduler every rank writes its own blocks into one temporary file
    /// that rank 0 creates beforehand and moves into place afterwards (`path` must be on a
    /// file system every rank sees); every rank returns when the file is in place.
    pub fn store_with(&self, path: &Path, scheduler: crate::Scheduler) -> Result<(), Error> {
        if let Some(e) = &self.err {
            return Err(super::blocks::duplicate(e));
        }
        #[cfg(feature = "mpi")]
        if scheduler.is_distributed() {
            return self.store_on_cluster(path, scheduler);
        }
        super::write::write_atomically(path, |tmp| {
            // errors name the file the user asked for, not the temporary one
            let io = |source| Error::Io {
                path: path.to_path_buf(),
                source,
            };
            let file = File::create(tmp).map_err(io)?;
            file.set_len(self.nbytes() as u64).map_err(io)?;
            let file = Arc::new(file);
            self.write_blocks(path, move || Ok(file.clone()), scheduler)?;
            File::open(tmp).and_then(|f| f.sync_all()).map_err(io)
        })
    }

    /// The cluster form of [`Array::store_with`]: three computes every rank takes part in
    /// (rank 0 creates the temporary file; every rank writes its blocks; rank 0 moves the
    /// file into place), so a failure anywhere is the same error everywhere.
    #[cfg(feature = "mpi")]
    fn store_on_cluster(&self, path: &Path, scheduler: crate::Scheduler) -> Result<(), Error> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = path.with_file_name(format!(".{name}.tmp-cluster"));
        let on_rank_0 = |what: &str, f: Box<dyn Fn() -> std::io::Result<()> + Send + Sync>| {
            let p = tmp.clone();
            let node = crate::tree::partition_nodes(
                &[None],
                &format!("store-{what}").into(),
                Some(crate::wire_of::<()>()),
                move |_, _| {
                    f().map_err(|source| {
                        TaskError::new(Error::Io {
                            path: p.clone(),
                            source,
                        })
                    })
                },
            );
            crate::Delayed::<()>::from_node(node[0].clone()).compute_with(scheduler.clone())
        };
        let (t, size) = (tmp.clone(), self.nbytes() as u64);
        let target = path.to_path_buf();
        on_rank_0(
            "create",
            Box::new(move || {
                // the same refusal as on one machine, decided once for every rank
                crate::atomic_file::target_of(&target)
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                File::create(&t)?.set_len(size)
            }),
        )?;
        let t = tmp.clone();
        let open = move || {
            let f = std::fs::OpenOptions::new().write(true).open(&t)?;
            Ok(Arc::new(f))
        };
        let written = self.write_blocks(path, open, scheduler.clone());
        let (t, p) = (tmp.clone(), path.to_path_buf());
        match written {
            Ok(()) => on_rank_0(
                "commit",
                Box::new(move || {
                    File::open(&t)?.sync_all()?;
                    std::fs::rename(&t, &p)
                }),
            ),
            Err(e) => {
                let _ = on_rank_0("cleanup", Box::new(move || std::fs::remove_file(&t)));
                Err(e)
            }
        }
    }

    /// Computes the blocks and writes each at its place of the raw file `open` gives a
    /// handle to (once per block); errors name `target`.
    fn write_blocks(
        &self,
        target: &Path,
        open: impl Fn() -> std::io::Result<Arc<File>> + Send + Sync + 'static,
        scheduler: crate::Scheduler,
    ) -> Result<(), Error> {
        {
            let grid = self.grid.clone();
            let wpath = target.to_path_buf();
            // raw files take positioned writes from many threads: each task writes its block
            self.for_each_block("store", scheduler, move |idx, c| {
                let v = c.view();
                let start = grid.block_start(idx);
                let n = grid.ndim();
                // strides of the whole array, in elements
                let mut strides = vec![1usize; n];
                for k in (0..n.saturating_sub(1)).rev() {
                    strides[k] = strides[k + 1] * grid.shape[k + 1];
                }
                let base: usize = start.iter().zip(&strides).map(|(s, st)| s * st).sum();
                let size = std::mem::size_of::<T>();
                let fail = |source| {
                    TaskError::new(Error::Io {
                        path: wpath.clone(),
                        source,
                    })
                };
                let wfile = open().map_err(fail)?;
                if n == 0 {
                    let x = v.iter().copied().collect::<Vec<T>>();
                    return write_at(&wfile, as_bytes(&x), 0).map_err(fail);
                }
                // one write per innermost row of the block, in pieces of at most `PIECE`
                // elements (a block read from a memory map is never copied whole)
                const PIECE: usize = 1 << 16;
                let mut row: Vec<T> = Vec::with_capacity(v.shape()[n - 1].min(PIECE));
                for (r, lane) in v.lanes(ndarray::Axis(n - 1)).into_iter().enumerate() {
                    // position of row r inside the block, in the whole array
                    let mut rem = r;
                    let mut off = base;
                    for k in (0..n - 1).rev() {
                        let d = v.shape()[k];
                        off += (rem % d) * strides[k];
                        rem /= d;
                    }
                    let len = lane.len();
                    for j in (0..len).step_by(PIECE) {
                        let piece = lane.slice(ndarray::s![j..(j + PIECE).min(len)]);
                        let at = ((off + j) * size) as u64;
                        match piece.as_slice() {
                            Some(xs) => write_at(&wfile, as_bytes(xs), at),
                            None => {
                                row.clear();
                                row.extend(piece.iter().copied());
                                write_at(&wfile, as_bytes(&row), at)
                            }
                        }
                        .map_err(fail)?;
                    }
                }
                Ok(())
            })
        }
    }
}
