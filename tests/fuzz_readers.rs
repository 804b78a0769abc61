//! The readers fed arbitrary bytes and mutations of valid files (`read_text`, `read_csv`,
//! gzip): every outcome is a result or an `Error`, never a panic (a panicking parser would
//! surface as `Error::TaskPanicked`) and never an error message of unbounded size.
//! `PROPTEST_CASES` raises the number of cases (CI runs the default below).
//!
//! Memory is bounded too: a counting allocator (this test binary's only) measures the peak
//! of bytes held by the thread reading each case on the sync scheduler, which must stay
//! below [`MEMORY_PER_INPUT_BYTE`] times the input's size plus [`MEMORY_CONSTANT`].
//! `DAGR_FUZZ_REPORT=1` prints each new largest peak.

use dagr::bag as db;
use dagr::dataframe as dd;
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes a case may hold per byte of input (blocks and their columns, lines, parsed values).
const MEMORY_PER_INPUT_BYTE: usize = 16;
/// Bytes a case may hold whatever its size (read buffers, the graph, the thread pool's
/// first use, decompression state).
const MEMORY_CONSTANT: usize = 4 << 20;

/// The system allocator, counting per thread the bytes held and their peak.
struct Counting;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    // `try_with`: a thread being torn down has no counters left, and is not measured
    let _ = HELD.try_with(|h| {
        let now = h.get() + delta;
        h.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

// SAFETY: every call is passed to the system allocator with the caller's arguments
// unchanged; the counting touches only const-initialised thread-locals, which allocate
// nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is the system allocator's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            note(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            note(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, which is the system's.
        unsafe { System.dealloc(ptr, layout) };
        note(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator, which is the system's, with `layout`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            note(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The largest peak seen, for the report.
static LARGEST_PEAK: AtomicUsize = AtomicUsize::new(0);

/// Runs `f` and returns the peak of bytes this thread held above what it held before.
fn peak_during(f: impl FnOnce()) -> usize {
    let base = HELD.with(Cell::get);
    PEAK.with(|p| p.set(base));
    f();
    (PEAK.with(Cell::get) - base).max(0) as usize
}

/// Cases per property: 48, or `PROPTEST_CASES`.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(48)
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "dagr-fuzz-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// Reads `bytes` as a file named `name` with every reader and small and large blocksizes,
/// on the sync scheduler (measured: the peak memory held must stay within the bound for
/// `bytes`, or `input` bytes if that is more, as for a compressed file) and on threads;
/// fails on a panic.
fn read_all(name: &str, bytes: &[u8], input: usize) -> Result<(), TestCaseError> {
    read_with(name, bytes, input, &[7, 64, 1 << 20])
}

/// [`read_all`] with the given blocksizes (a file of many kilobytes in blocks of 7 bytes
/// would make a graph of as many tasks, which is not what is measured).
fn read_with(
    name: &str,
    bytes: &[u8],
    input: usize,
    blocksizes: &[u64],
) -> Result<(), TestCaseError> {
    let d = dir();
    let path = d.join(name);
    std::fs::write(&path, bytes).unwrap();
    let pattern = path.to_str().unwrap().to_owned();
    let mut outcomes: Vec<Result<(), dagr::Error>> = Vec::new();
    let mut run = |s: dagr::Scheduler| {
        for &blocksize in blocksizes {
            let opts = db::TextOptions::default().blocksize(blocksize);
            outcomes.push(
                db::read_text_with(&pattern, opts)
                    .and_then(|b| b.count().compute_with(s.clone()))
                    .map(drop),
            );
            let opts = dd::CsvOptions::default().blocksize(Some(blocksize));
            outcomes.push(
                dd::read_csv(&pattern, opts)
                    .and_then(|df| df.compute_with(s.clone()))
                    .map(drop),
            );
        }
        let opts = dd::CsvOptions::default().header(false).widen(true);
        outcomes.push(
            dd::read_csv(&pattern, opts)
                .and_then(|df| df.describe().compute_with(s.clone()))
                .map(drop),
        );
    };
    let peak = peak_during(|| run(dagr::Scheduler::sync()));
    run(dagr::Scheduler::threads(2));
    let size = bytes.len().max(input);
    let bound = MEMORY_PER_INPUT_BYTE * size + MEMORY_CONSTANT;
    prop_assert!(peak <= bound, "{peak} bytes held reading {size} bytes");
    if LARGEST_PEAK.fetch_max(peak, Ordering::Relaxed) < peak
        && std::env::var_os("DAGR_FUZZ_REPORT").is_some()
    {
        eprintln!("largest peak so far: {peak} bytes, reading {size} bytes ({name})");
    }
    for e in outcomes.into_iter().filter_map(Result::err) {
        let m = e.to_string();
        prop_assert!(!matches!(e, dagr::Error::TaskPanicked { .. }), "{m}");
        prop_assert!(m.len() < 2000, "an error message of {} bytes", m.len());
    }
    Ok(())
}

/// A small valid CSV file.
fn valid_csv() -> Vec<u8> {
    let mut s = String::from("a,b,c\n");
    for i in 0..40 {
        s += &format!("{i},{}.5,\"w {i}, \"\"q\"\"\"\n", i * 3);
    }
    s.into_bytes()
}

/// A mutation: flip, insert or delete a byte at a position.
fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(at, byte, op) in edits {
        if bytes.is_empty() {
            bytes.push(byte);
            continue;
        }
        let at = at % bytes.len();
        match op % 3 {
            0 => bytes[at] ^= byte | 1,
            1 => bytes.insert(at, byte),
            _ => {
                bytes.remove(at);
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        read_all("x.csv", &bytes, 0)?;
        read_all("x.csv.gz", &gzip(&bytes), bytes.len())?;
        read_all("y.gz", &bytes, 0)?;
    }

    #[test]
    fn mutated_valid_files(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6)) {
        let csv = valid_csv();
        read_all("m.csv", &mutate(csv.clone(), &edits), 0)?;
        read_all("m.csv.gz", &mutate(gzip(&csv), &edits), csv.len())?;
    }
}

proptest! {
    // files of hundreds of kilobytes: an eighth of the cases
    #![proptest_config(ProptestConfig::with_cases(cases().div_ceil(8)))]

    #[test]
    fn large_mutated_files(copies in 1..300usize, long in 0..100_000usize, edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6)) {
        // a valid file repeated (up to 260 KB), with a line of up to 100 KB in it
        let mut csv = valid_csv().repeat(copies);
        let at = csv.len() / 2;
        csv.splice(at..at, std::iter::repeat_n(b'7', long));
        read_with("l.csv", &mutate(csv.clone(), &edits), 0, &[4096, 1 << 20])?;
        read_with("l.csv.gz", &gzip(&csv), csv.len(), &[1 << 20])?;
    }
}
