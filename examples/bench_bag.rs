//! Word count over a generated corpus: dagr bags next to the `wordcount` yardstick (a
//! hand-optimised word count, see `shared/yardsticks`), both measured in the same run.
//!
//! ```sh
//! cargo build --release --manifest-path ../shared/yardsticks/Cargo.toml --target-dir target/yardsticks
//! cargo run --release --example bench_bag                   # 200 MB corpus in data/wiki/AA
//! cargo run --release --example bench_bag -- --mb 20        # smaller
//! cargo run --release --example bench_bag -- --threads 1    # pool size (default 2)
//! ```
//!
//! Two pipelines: `read_text → str.split → flatten → frequencies → topk(10)` ("plain") and
//! the same after `str.strip_punctuation → str.lower` with `topk(5)` ("clean"), against the
//! yardstick's `--mode plain` and `--mode clean`. Each dagr measurement runs in a child
//! process so its peak RSS (VmHWM) is its own; the yardstick and dagr runs alternate, and
//! the medians and the median of the per-round ratios are printed, so that other load on
//! the machine weighs on both alike.
//!
//! The memory goal is 2× (the largest partition's bytes + its counting table) per worker.
//! The partition's bytes are its file's size; its table is measured: one more child counts
//! the words of the largest partition alone on the sync scheduler, another only counts its
//! lines (reading it the same way, a piece at a time), and the difference of their peak
//! RSS is the table. Next to each peak RSS the peak of bytes allocated
//! (heap) is printed: the RSS above it is memory the allocator keeps (glibc keeps freed
//! memory in per-thread arenas); the counting tables' large slot arrays are mapped
//! directly, outside the heap.

#[path = "common/corpus.rs"]
mod corpus;
#[path = "../tests/common/counting_alloc.rs"]
mod counting_alloc;

use dagr::bag as db;
use dagr::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const DIR: &str = "data/wiki/AA";
const YARDSTICK: &str = "target/yardsticks/release/wordcount";
const ROUNDS: usize = 3;

fn dagr_top(k: usize, clean: bool, sched: Scheduler) -> Vec<(String, u64)> {
    let text = db::read_text(&format!("{DIR}/*")).expect("read_text");
    let text = if clean {
        text.str().strip_punctuation().str().lower()
    } else {
        text
    };
    text.str()
        .split()
        .flatten()
        .frequencies()
        .topk(k, |(_, n)| *n)
        .compute_with(sched)
        .expect("compute")
}

/// A field of this process's status, in kB: `VmHWM` (peak RSS) or `VmRSS`.
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn peak_rss_kb() -> u64 {
    status_kb("VmHWM")
}

/// The largest file of the corpus and its size: the largest partition, as every file is
/// smaller than the default block size.
fn largest_file() -> (PathBuf, u64) {
    std::fs::read_dir(DIR)
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter_map(|f| Some((std::fs::metadata(&f).ok()?.len(), f)))
        .max()
        .map(|(n, f)| (f, n))
        .expect("a corpus file")
}

/// Child mode: the largest partition's words counted alone, one thread; prints
/// "peak_rss_kb rss_before_kb".
/// Counts the words of the largest partition (`words`) or only its lines, alone; prints
/// "peak_rss_kb rss_before_kb".
fn child_one_partition(words: bool) {
    let (file, bytes) = largest_file();
    assert!(
        bytes <= db::DEFAULT_BLOCKSIZE,
        "{file:?} spans several blocks"
    );
    let before = status_kb("VmRSS");
    let text = db::read_text(file.to_str().expect("utf-8 path")).expect("read_text");
    let n = if words {
        text.str().split().flatten().frequencies().count()
    } else {
        text.count()
    }
    .compute_with(Scheduler::sync())
    .expect("compute");
    assert!(n > 0);
    println!("{} {before}", peak_rss_kb());
}

/// (the counting table of the largest partition, process baseline), in MiB.
fn one_partition_mb() -> (f64, f64) {
    let me = std::env::current_exe().expect("exe");
    let peak = |what: &str| -> (f64, f64) {
        let out = Command::new(&me)
            .args(["--child", what])
            .output()
            .expect("child");
        let s = String::from_utf8_lossy(&out.stdout).to_string();
        let kb: Vec<f64> = s
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        match kb[..] {
            [peak, before] => (peak / 1024.0, before / 1024.0),
            _ => (f64::NAN, f64::NAN),
        }
    };
    let (counted, before) = peak("one-partition");
    let (read, _) = peak("one-partition-read");
    (counted - read, before)
}

const MIB: f64 = (1 << 20) as f64;

/// Child mode: one untimed run, then three timed ones; prints
/// "median_seconds peak_rss_kb peak_heap_bytes top3".
fn child(what: &str, threads: usize) {
    let sched = || match threads {
        0 => Scheduler::sync(),
        n => Scheduler::threads(n),
    };
    let (k, clean) = match what {
        "plain" => (10, false),
        "clean" => (5, true),
        _ => panic!("unknown measurement {what}"),
    };
    let ((secs, top), heap) = counting_alloc::peak_during(|| {
        let _ = dagr_top(k, clean, sched());
        let mut secs = Vec::new();
        let mut top = Vec::new();
        for _ in 0..3 {
            let start = Instant::now();
            top = dagr_top(k, clean, sched());
            secs.push(start.elapsed().as_secs_f64());
        }
        secs.sort_by(f64::total_cmp);
        (secs, top)
    });
    println!(
        "{} {} {heap} {:?}",
        secs[1],
        peak_rss_kb(),
        &top[..top.len().min(3)]
    );
}

/// One dagr measurement in a child process: (MB/s, peak RSS and peak heap in MiB, top 3).
fn run_dagr(what: &str, threads: usize, mbytes: f64) -> (f64, f64, f64, String) {
    let me = std::env::current_exe().expect("exe");
    let out = Command::new(me)
        .args(["--child", what, "--threads", &threads.to_string()])
        .output()
        .expect("child");
    let s = String::from_utf8_lossy(&out.stdout).to_string();
    let mut it = s.splitn(4, ' ');
    let secs: f64 = it
        .next()
        .and_then(|x| x.trim().parse().ok())
        .unwrap_or(f64::NAN);
    let rss: f64 = it.next().and_then(|x| x.trim().parse().ok()).unwrap_or(0.0);
    let heap: f64 = it.next().and_then(|x| x.trim().parse().ok()).unwrap_or(0.0);
    let top = it.next().unwrap_or("").trim().to_string();
    (mbytes / secs, rss / 1024.0, heap / MIB, top)
}

/// One yardstick run (median of 3 timed passes after one untimed): MB/s.
fn run_yardstick(mode: &str, threads: usize) -> Option<f64> {
    let top = if mode == "plain" { "10" } else { "5" };
    let out = Command::new(YARDSTICK)
        .args(["--threads", &threads.max(1).to_string(), "--mode", mode])
        .args(["--top", top, "--reps", "3", DIR])
        .output()
        .ok()?;
    let s = String::from_utf8_lossy(&out.stdout);
    let last = s.lines().last()?;
    last.rsplit(':')
        .next()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let threads: usize = arg(&args, "--threads").unwrap_or(2);
    if let Some(what) = arg::<String>(&args, "--child") {
        match what.as_str() {
            "one-partition" => child_one_partition(true),
            "one-partition-read" => child_one_partition(false),
            _ => child(&what, threads),
        }
        return;
    }
    let mb: usize = arg(&args, "--mb").unwrap_or(200);
    let nfiles = 20;
    let bytes = corpus::generate(Path::new(DIR), nfiles, (mb << 20) / nfiles).expect("corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(DIR)
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let (_, largest) = largest_file();
    for f in &files {
        let _ = std::fs::read(f); // warm the page cache
    }
    let (table, baseline) = one_partition_mb();
    let workers = threads.max(1) as f64;
    let goal = 2.0 * workers * (largest as f64 / MIB + table);
    let mbytes = bytes as f64 / 1e6;
    let have_yardstick = Path::new(YARDSTICK).exists();
    println!(
        "word count over {nfiles} files, {mbytes:.0} MB (largest {:.1} MB), page cache warm, \
         {threads} thread(s); {ROUNDS} rounds alternating yardstick and dagr, each the median \
         of 3 passes\n",
        largest as f64 / 1e6
    );
    if !have_yardstick {
        println!(
            "(yardstick not built: cargo build --release --manifest-path \
             ../shared/yardsticks/Cargo.toml --target-dir target/yardsticks)\n"
        );
    }
    println!(
        "memory goal: 2 x {workers} worker(s) x (largest partition {:.1} MB + its counting \
         table {:.1} MB, measured alone) = {goal:.0} MB, over a process baseline of \
         {baseline:.0} MB\n",
        largest as f64 / MIB,
        table,
    );
    println!(
        "{:<52} {:>8} {:>8} {:>10} {:>10} {:>8}",
        "pipeline", "MB/s", "ratio", "peak RSS", "peak heap", "goal"
    );
    for (mode, label) in [
        ("plain", "split, flatten, frequencies, topk 10"),
        ("clean", "strip_punctuation, lower, split, ..., topk 5"),
    ] {
        let (mut ys, mut ds, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let (mut rss, mut heap) = (0.0, 0.0);
        let mut top = String::new();
        for _ in 0..ROUNDS {
            let y = if have_yardstick {
                run_yardstick(mode, threads)
            } else {
                None
            };
            let (d, r, h, t) = run_dagr(mode, threads, mbytes);
            if let Some(y) = y {
                ys.push(y);
                ratios.push(d / y);
            }
            ds.push(d);
            rss = f64::max(rss, r);
            heap = f64::max(heap, h);
            top = t;
        }
        if !ys.is_empty() {
            println!(
                "{:<52} {:>8.0}",
                format!("yardstick wordcount --mode {mode}"),
                median(ys)
            );
        }
        let ratio = if ratios.is_empty() {
            "-".to_string()
        } else {
            format!("{:.2}x", median(ratios))
        };
        // the RSS above the process baseline
        let met = if rss - baseline <= goal {
            "met"
        } else {
            "missed"
        };
        println!(
            "{:<52} {:>8.0} {:>8} {:>7.0} MB {:>7.0} MB {met:>8}   {top}",
            format!("dagr {label}"),
            median(ds),
            ratio,
            rss,
            heap
        );
    }
}
