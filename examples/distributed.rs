//! The notebook's big jobs across the ranks of an MPI job: a word count over a text corpus,
//! the mean of a memory-mapped array and `describe` of a directory of CSV files. Every rank
//! runs this same program; rank 0 writes the data (or reuses it), every rank computes, each
//! prints what it ran and what crossed.
//!
//! ```sh
//! cargo build --release --features mpi --example distributed
//! mpiexec -n 2 target/release/examples/distributed -- --threads 1
//! target/release/examples/distributed --local     # the same jobs in one process, for comparison
//! ```
//!
//! Flags: `--threads N` workers per rank (default: the host's cores shared by its ranks),
//! `--local` computes with `Scheduler::threads(N)` instead of the cluster, `--compress`
//! deflates large values before they cross, `--mb M` text corpus size, `--slabs S` 8 MB
//! slabs of the array, `--rows R` rows per CSV file (20 files).

#[path = "common/corpus.rs"]
mod corpus;
#[path = "common/csv_files.rs"]
mod csv_files;

use dagr::array as da;
use dagr::bag as db;
use dagr::dataframe as dd;
use dagr::distributed::Cluster;
use dagr::prelude::*;
use std::path::Path;
use std::time::Instant;

const TEXT: &str = "data/distributed/text";
const ARRAY: &str = "data/distributed/array.dat";
const CSV: &str = "data/distributed/csv";
const CSV_FILES: usize = 20;

fn arg(name: &str) -> Option<usize> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

/// Writes the data every rank reads, unless it is there already (run on rank 0).
fn generate(mb: usize, slabs: usize, rows: usize) -> Result<(), dagr::Error> {
    corpus::generate(Path::new(TEXT), 20, mb * 1_000_000 / 20)?;
    let bytes = (slabs * 1000 * 1000 * 8) as u64;
    if std::fs::metadata(ARRAY).map(|m| m.len()).ok() != Some(bytes) {
        let x = da::random::random(&[slabs, 1000, 1000], &[1, 1000, 1000], 7)?;
        x.to_memmap(ARRAY)?;
    }
    csv_files::generate(CSV, CSV_FILES, rows)?;
    Ok(())
}

fn dir_bytes(dir: &str) -> u64 {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn main() -> Result<(), dagr::Error> {
    let cluster = Cluster::init()?;
    let (rank, ranks) = (cluster.rank(), cluster.size());
    let local = flag("--local");
    cluster.compress(flag("--compress"));
    let threads = arg("--threads");
    let scheduler = match (local, threads) {
        (true, n) => Scheduler::threads(n.unwrap_or(0)),
        (false, Some(n)) => cluster.scheduler_with_threads(n),
        (false, None) => cluster.scheduler(),
    };
    let (mb, slabs, rows) = (
        arg("--mb").unwrap_or(200),
        arg("--slabs").unwrap_or(100),
        arg("--rows").unwrap_or(200_000),
    );
    if rank == 0 {
        generate(mb, slabs, rows)?;
        println!(
            "{} on {ranks} rank(s), {scheduler:?}",
            if local { "one process" } else { "cluster" }
        );
    }
    cluster.barrier();

    let report = |what: &str, start: Instant, bytes: u64, before: dagr::distributed::CommStats| {
        let secs = start.elapsed().as_secs_f64();
        let after = cluster.stats();
        println!(
            "rank {rank}: {what:<13} {secs:6.3} s {:7.1} MB/s {:>5} tasks  sent {:>10} B in {:>3} msgs  received {:>10} B in {:>3} msgs",
            bytes as f64 / 1e6 / secs,
            after.tasks_run - before.tasks_run,
            after.bytes_sent - before.bytes_sent,
            after.messages_sent - before.messages_sent,
            after.bytes_received - before.bytes_received,
            after.messages_received - before.messages_received,
        );
    };

    // Bag: the notebook's word count.
    let before = cluster.stats();
    let start = Instant::now();
    let words = db::read_text(&format!("{TEXT}/*"))?.str().split().flatten();
    let top = words
        .frequencies()
        .topk(10, |(_, n)| *n)
        .compute_with(scheduler.clone())?;
    report("word count", start, dir_bytes(TEXT), before);
    if rank == 0 {
        println!("  top words: {:?}", &top[..top.len().min(5)]);
    }

    // Array: the mean of a memory-mapped array, in 8 MB slabs.
    let before = cluster.stats();
    let start = Instant::now();
    let x = da::from_memmap::<f64>(ARRAY, &[slabs, 1000, 1000], &[1, 1000, 1000])?;
    let mean = x.mean().compute_with(scheduler.clone())?;
    report("memmap mean", start, (slabs * 8_000_000) as u64, before);
    if rank == 0 {
        println!("  mean: {mean}");
    }

    // DataFrame: read_csv + describe.
    let before = cluster.stats();
    let start = Instant::now();
    let df = dd::read_csv(
        &format!("{CSV}/*.csv"),
        dd::CsvOptions::default().header(false),
    )?;
    let desc = df.describe().compute_with(scheduler.clone())?;
    report("csv describe", start, dir_bytes(CSV), before);
    if rank == 0 {
        println!("  mean of column 0: {}", desc.get("mean", "0")?);
    }
    Ok(())
}
