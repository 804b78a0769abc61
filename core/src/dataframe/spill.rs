//! Shuffle pieces kept on disk instead of in memory (Dask's disk-backed, p2p shuffle), so
//! that a shuffle larger than its memory budget holds a few partitions per worker, not the
//! whole table.
//!
//! A task cutting a table into pieces (an input of the exchange, or a middle task of the
//! two-level one) first estimates the size of the whole shuffle as its own table's size
//! times the number of tasks cutting alongside it. Under the budget
//! ([`ShuffleSpill::budget`]) its pieces stay in memory, exactly as without this module.
//! Over it the task writes its pieces one after the other into one spill file of its own,
//! each piece in the tables' wire encoding (postcard; number columns as raw bytes),
//! remembering where each one starts, and drops each piece as soon as it is written: its
//! value is a [`Cut::Disk`] handle, and the consumers of piece `j` get the handle and `j`
//! ([`Piece::Disk`]). A task gathering pieces reads each one back when it needs it, in
//! input order, so its rows are exactly those, in exactly the order, the in-memory
//! exchange gives.
//!
//! Lifetimes: the spill files of one shuffle go into one fresh directory (under
//! [`ShuffleSpill::dir`], else the system's temporary directory), created by the first
//! task that spills and shared by the others while any of its files exists. A file is
//! removed when the last value holding its handle is dropped: once the pieces' consumers
//! have run, or when the compute fails or a task panics (the runtime drops every value it
//! holds), or while a task writing it unwinds. The directory is removed with its last
//! file. Nothing stays behind a compute but the files of a process killed mid-shuffle.
//!
//! On a cluster each rank spills only the pieces it cut, into its own directory: a piece
//! whose consumer runs on another rank is read back on the rank that wrote it and crosses
//! as a table (the wires of [`Cut`] and [`Piece`] send the rows, never a path), so ranks
//! need no shared disk; the receiving rank holds it in memory, as the in-memory exchange
//! does.

use super::table::{Column, Table};
use crate::Error;
use dagr_runtime::{BoxError, Codec, TaskError, Value, Wire};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};

/// When shuffles spill their pieces to disk, and where (Dask: the p2p shuffle's
/// `temporary-directory`). Shuffles read the setting when they are built
/// ([`set_shuffle_spill`]).
///
/// ```
/// use dagr::bag as db;
/// use dagr::dataframe::{self as dd, ShuffleSpill};
/// let df = db::from_sequence((0..1000_i64).map(|i| (i % 7, i)).collect::<Vec<_>>(), 4)?
///     .to_dataframe(&["k", "v"])?;
/// let in_memory = df.shuffle("k", 3)?;
/// let old = dd::set_shuffle_spill(ShuffleSpill { budget: Some(0), dir: None }); // always spill
/// let on_disk = df.shuffle("k", 3)?;
/// dd::set_shuffle_spill(old);
/// assert_eq!(on_disk.compute()?, in_memory.compute()?);
/// # Ok::<(), dagr::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShuffleSpill {
    /// Bytes of shuffled rows above which the tasks cutting them write their pieces to
    /// disk; `None`: [`default_shuffle_budget`]. `Some(0)` always spills, `Some(u64::MAX)`
    /// never does.
    pub budget: Option<u64>,
    /// Where each shuffle makes its directory of spill files; `None`: the system's
    /// temporary directory (`std::env::temp_dir`, `TMPDIR` on Unix).
    pub dir: Option<PathBuf>,
}

static SETTING: RwLock<Option<ShuffleSpill>> = RwLock::new(None);

/// Sets when and where the shuffles built from now on spill (see [`ShuffleSpill`]), in
/// this process; returns the setting it replaces.
///
/// ```
/// use dagr::dataframe::{self as dd, ShuffleSpill};
/// let old = dd::set_shuffle_spill(ShuffleSpill { budget: Some(1 << 30), dir: None });
/// assert_eq!(dd::shuffle_spill().budget, Some(1 << 30));
/// dd::set_shuffle_spill(old);
/// ```
pub fn set_shuffle_spill(setting: ShuffleSpill) -> ShuffleSpill {
    let mut s = SETTING.write().unwrap_or_else(|p| p.into_inner());
    s.replace(setting).unwrap_or_default()
}

/// The current spill setting ([`set_shuffle_spill`]).
///
/// ```
/// use dagr::dataframe::{self as dd, ShuffleSpill};
/// assert_eq!(dd::shuffle_spill(), ShuffleSpill::default()); // the default budget, the system's directory
/// ```
pub fn shuffle_spill() -> ShuffleSpill {
    SETTING
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
        .unwrap_or_default()
}

/// The budget of a shuffle when [`ShuffleSpill::budget`] is `None`: a quarter of the memory
/// available when first asked (`MemAvailable` on Linux), or 1 GiB where that is unknown.
/// A shuffle whose cutting tasks' tables, times their number, stay under it runs in memory.
///
/// ```
/// assert!(dagr::dataframe::default_shuffle_budget() > 0);
/// ```
pub fn default_shuffle_budget() -> u64 {
    static BUDGET: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *BUDGET.get_or_init(|| available_memory().map_or(1 << 30, |b| (b / 4).max(1 << 20)))
}

/// Bytes of memory available to new work, if the system says.
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// About how many bytes a table holds.
pub(crate) fn table_bytes(t: &Table) -> u64 {
    t.columns()
        .iter()
        .map(|c| match c {
            Column::Bool(v) => v.len() as u64,
            Column::I64(v) => 8 * v.len() as u64,
            Column::F64(v) => 8 * v.len() as u64,
            Column::Str(v) => v
                .iter()
                .map(|s| 24 + s.as_ref().map_or(0, |s| s.len() as u64))
                .sum(),
        })
        .sum()
}

/// One shuffle's spill setting, captured when it is built, and its current directory.
pub(crate) struct Spiller {
    budget: u64,
    root: PathBuf,
    dir: Mutex<Weak<SpillDir>>,
}

impl Spiller {
    /// The current setting, for a shuffle being built.
    pub(crate) fn from_setting() -> Arc<Spiller> {
        let s = shuffle_spill();
        Arc::new(Spiller {
            budget: s.budget.unwrap_or_else(default_shuffle_budget),
            root: s.dir.unwrap_or_else(std::env::temp_dir),
            dir: Mutex::new(Weak::new()),
        })
    }

    /// Whether a task whose table holds `bytes`, one of `tasks` cutting alike, spills.
    pub(crate) fn spills(&self, bytes: u64, tasks: usize) -> bool {
        bytes.saturating_mul(tasks as u64) > self.budget
    }

    /// This shuffle's directory, made if no file of it exists now.
    fn dir(&self) -> Result<Arc<SpillDir>, Error> {
        let mut current = self.dir.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(d) = current.upgrade() {
            return Ok(d);
        }
        static NEXT: AtomicU64 = AtomicU64::new(0);
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = self
                .root
                .join(format!("dagr-shuffle-{}-{n}", std::process::id()));
            match std::fs::create_dir(&path) {
                Ok(()) => {
                    let d = Arc::new(SpillDir { path });
                    *current = Arc::downgrade(&d);
                    return Ok(d);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(source) => return Err(Error::Io { path, source }),
            }
        }
    }

    /// The pieces `piece(j)` for `j < parts`, made and written one by one to a spill file
    /// (one piece in memory at a time).
    pub(crate) fn write(
        &self,
        parts: usize,
        mut piece: impl FnMut(usize) -> Table,
    ) -> Result<Cut, TaskError> {
        let dir = self.dir().map_err(TaskError::new)?;
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = dir
            .path
            .join(format!("{}.pieces", NEXT.fetch_add(1, Ordering::Relaxed)));
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| TaskError::new(Error::Io { path, source })
        };
        // the handle first, so that a failure or a panic below removes the file
        let mut file = SpillFile {
            path: path.clone(),
            starts: Vec::with_capacity(parts + 1),
            _dir: dir,
        };
        let mut out = std::io::BufWriter::with_capacity(
            1 << 16,
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(io(&path))?,
        );
        let mut buf = Vec::new();
        let mut at = 0u64;
        for j in 0..parts {
            file.starts.push(at);
            buf.clear();
            buf = postcard::to_extend(&piece(j), buf).map_err(TaskError::new)?;
            out.write_all(&buf).map_err(io(&path))?;
            at += buf.len() as u64;
        }
        file.starts.push(at);
        out.flush().map_err(io(&path))?;
        Ok(Cut::Disk(Arc::new(file)))
    }
}

/// A directory of one shuffle's spill files, removed when dropped.
struct SpillDir {
    path: PathBuf,
}

impl Drop for SpillDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The pieces one task wrote, back to back; the file is removed when dropped.
pub(crate) struct SpillFile {
    path: PathBuf,
    /// Where each piece starts, then the end of the last.
    starts: Vec<u64>,
    /// Keeps the directory while the file exists.
    _dir: Arc<SpillDir>,
}

impl Drop for SpillFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl SpillFile {
    /// Number of pieces.
    fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// Reads piece `j` back.
    fn read(&self, j: usize) -> Result<Table, TaskError> {
        let (start, end) = match (self.starts.get(j), self.starts.get(j + 1)) {
            (Some(&s), Some(&e)) => (s, e),
            _ => return Err(TaskError::new("a shuffle piece is missing")),
        };
        let io = |source| {
            TaskError::new(Error::Io {
                path: self.path.clone(),
                source,
            })
        };
        let mut f = std::fs::File::open(&self.path).map_err(io)?;
        f.seek(SeekFrom::Start(start)).map_err(io)?;
        let mut bytes = vec![0u8; (end - start) as usize];
        f.read_exact(&mut bytes).map_err(io)?;
        postcard::from_bytes(&bytes).map_err(TaskError::new)
    }
}

/// The pieces a task cut its table into: in memory, or in a spill file.
#[derive(Clone)]
pub(crate) enum Cut {
    Memory(Vec<Table>),
    Disk(Arc<SpillFile>),
}

impl Cut {
    /// Piece `j`, as its consumer holds it until it runs.
    pub(crate) fn piece(&self, j: usize) -> Result<Piece, TaskError> {
        match self {
            Cut::Memory(parts) => parts
                .get(j)
                .cloned()
                .map(Piece::Memory)
                .ok_or_else(|| TaskError::new("a shuffle piece is missing")),
            Cut::Disk(f) if j < f.len() => Ok(Piece::Disk(f.clone(), j)),
            Cut::Disk(_) => Err(TaskError::new("a shuffle piece is missing")),
        }
    }

    /// All pieces, in memory.
    fn load(&self) -> Result<Vec<Table>, TaskError> {
        match self {
            Cut::Memory(parts) => Ok(parts.clone()),
            Cut::Disk(f) => (0..f.len()).map(|j| f.read(j)).collect(),
        }
    }

    /// The wire of cuts: every piece's rows (a spilled cut is read back where it was
    /// written, and arrives in memory).
    pub(crate) const WIRE: Wire = &CutCodec;
}

/// A piece of a cut: its rows, or where to read them.
#[derive(Clone)]
pub(crate) enum Piece {
    Memory(Table),
    Disk(Arc<SpillFile>, usize),
}

impl Piece {
    /// The piece's rows.
    pub(crate) fn load(self) -> Result<Table, TaskError> {
        match self {
            Piece::Memory(t) => Ok(t),
            Piece::Disk(f, j) => f.read(j),
        }
    }

    /// The wire of pieces: their rows, as a table's wire sends them.
    pub(crate) const WIRE: Wire = &PieceCodec;

    /// The wire of lists of pieces: their rows, as a list of tables.
    pub(crate) const LIST_WIRE: Wire = &PieceListCodec;
}

struct CutCodec;

impl Codec for CutCodec {
    fn type_name(&self) -> &'static str {
        "shuffle pieces"
    }
    fn encode(&self, value: &Value, out: &mut Vec<u8>) -> Result<(), BoxError> {
        let cut = value
            .downcast_ref::<Cut>()
            .ok_or("the value is not a cut")?;
        let parts = cut.load().map_err(|e| e.to_string())?;
        *out = postcard::to_extend(&parts, std::mem::take(out))?;
        Ok(())
    }
    fn decode(&self, bytes: &[u8]) -> Result<Value, BoxError> {
        Ok(Value::new(Cut::Memory(postcard::from_bytes(bytes)?)))
    }
}

struct PieceCodec;

impl Codec for PieceCodec {
    fn type_name(&self) -> &'static str {
        "shuffle piece"
    }
    fn encode(&self, value: &Value, out: &mut Vec<u8>) -> Result<(), BoxError> {
        let piece = value
            .downcast_ref::<Piece>()
            .ok_or("the value is not a piece")?;
        let t = piece.clone().load().map_err(|e| e.to_string())?;
        *out = postcard::to_extend(&t, std::mem::take(out))?;
        Ok(())
    }
    fn decode(&self, bytes: &[u8]) -> Result<Value, BoxError> {
        Ok(Value::new(Piece::Memory(postcard::from_bytes(bytes)?)))
    }
}

struct PieceListCodec;

impl Codec for PieceListCodec {
    fn type_name(&self) -> &'static str {
        "shuffle pieces gathered"
    }
    fn encode(&self, value: &Value, out: &mut Vec<u8>) -> Result<(), BoxError> {
        let pieces = value
            .downcast_ref::<Vec<Piece>>()
            .ok_or("the value is not a list of pieces")?;
        let tables = pieces
            .iter()
            .map(|p| p.clone().load())
            .collect::<Result<Vec<Table>, _>>()
            .map_err(|e| e.to_string())?;
        *out = postcard::to_extend(&tables, std::mem::take(out))?;
        Ok(())
    }
    fn decode(&self, bytes: &[u8]) -> Result<Value, BoxError> {
        let tables: Vec<Table> = postcard::from_bytes(bytes)?;
        Ok(Value::new(
            tables.into_iter().map(Piece::Memory).collect::<Vec<_>>(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(n: i64) -> Table {
        Table::new(
            vec!["k".into(), "s".into()],
            vec![
                Column::I64((0..n).collect()),
                Column::Str((0..n).map(|i| (i % 3 > 0).then(|| i.to_string())).collect()),
            ],
        )
        .unwrap()
    }

    #[test]
    fn pieces_round_trip_through_files_and_wires_and_leave_nothing() {
        let root = std::env::temp_dir().join(format!("dagr-spill-unit-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        let s = Spiller {
            budget: 0,
            root: root.clone(),
            dir: Mutex::new(Weak::new()),
        };
        assert!(s.spills(1, 1) && !s.spills(0, 5));
        let pieces = [table(5), table(0), table(40)];
        let cut = s.write(3, |j| pieces[j].clone()).unwrap();
        let again = s.write(1, |_| table(2)).unwrap();
        assert_eq!(
            std::fs::read_dir(&root).unwrap().count(),
            1,
            "one directory"
        );
        for (j, p) in pieces.iter().enumerate() {
            assert_eq!(&cut.piece(j).unwrap().load().unwrap(), p);
            let mut bytes = Vec::new();
            let v: Value = Value::new(cut.piece(j).unwrap());
            Piece::WIRE.encode(&v, &mut bytes).unwrap();
            let back = Piece::WIRE.decode(&bytes).unwrap();
            let back = back
                .downcast_ref::<Piece>()
                .unwrap()
                .clone()
                .load()
                .unwrap();
            assert_eq!(&back, p);
        }
        assert!(cut.piece(3).is_err());
        let list: Value = Value::new((0..3).map(|j| cut.piece(j).unwrap()).collect::<Vec<_>>());
        let mut bytes = Vec::new();
        Piece::LIST_WIRE.encode(&list, &mut bytes).unwrap();
        let back = Piece::LIST_WIRE.decode(&bytes).unwrap();
        let back: Vec<Table> = back
            .downcast_ref::<Vec<Piece>>()
            .unwrap()
            .iter()
            .map(|p| p.clone().load().unwrap())
            .collect();
        assert_eq!(back, pieces);
        drop(list);
        let mut bytes = Vec::new();
        Cut::WIRE
            .encode(&Value::new(cut.clone()), &mut bytes)
            .unwrap();
        let back = Cut::WIRE.decode(&bytes).unwrap();
        assert_eq!(back.downcast_ref::<Cut>().unwrap().load().unwrap(), pieces);
        drop((cut, back, again));
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0, "all removed");
        std::fs::remove_dir(&root).unwrap();
    }
}
