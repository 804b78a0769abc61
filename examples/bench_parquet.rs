//! `read_parquet` + `describe` next to `read_csv` + `describe` over the same table (the
//! benchmark CSV files: 20 files x 1 000 000 rows x 5 floats, and the same rows written as
//! Parquet by dagr, one file per CSV file), with peak RSS; feature `parquet`.
//!
//! ```sh
//! cargo run --release --features parquet --example bench_parquet
//! cargo run --release --features parquet --example bench_parquet -- --rows 100000 --threads 2
//! ```
//!
//! Throughput is the table's uncompressed size (8 bytes a value) per second, for both
//! formats, so the figures compare; the CSV files' own size is shown too. Each run is a
//! child process of its own (files in the page cache after an untimed warm-up run), and
//! both give the same statistics.

#[path = "common/csv_files.rs"]
mod csv_files;

use dagr::dataframe as dd;
use dagr::prelude::Scheduler;
use std::process::Command;
use std::time::Instant;

const CSV: &str = "data/bench-csv";
const PARQUET: &str = "data/bench-parquet";
const FILES: usize = 20;

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn dir_bytes(dir: &str, ext: &str) -> u64 {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == ext))
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn frame(format: &str) -> dd::DataFrame {
    match format {
        "csv" => dd::read_csv(
            &format!("{CSV}/*.csv"),
            dd::CsvOptions::default().header(false),
        ),
        _ => dd::read_parquet(PARQUET),
    }
    .expect("read")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let rows: usize = arg("--rows").map_or(1_000_000, |v| v.parse().expect("--rows"));
    let threads: usize = arg("--threads").map_or(2, |v| v.parse().expect("--threads"));
    if let Some(format) = arg("--run") {
        let sched = Scheduler::threads(threads);
        let t0 = Instant::now();
        let d = frame(&format)
            .describe()
            .compute_with(sched)
            .expect("describe");
        let secs = t0.elapsed().as_secs_f64();
        println!(
            "{secs:.3} {} {}",
            d.get("mean", "0").expect("mean"),
            peak_rss_kb()
        );
        return;
    }
    csv_files::generate(CSV, FILES, rows).expect("CSV files");
    let marker = format!("{PARQUET}/.rows-{rows}");
    if !std::path::Path::new(&marker).exists() {
        let _ = std::fs::remove_dir_all(PARQUET);
        frame("csv").to_parquet(PARQUET).expect("write Parquet");
        std::fs::write(&marker, "").expect("marker");
    }
    let table = (FILES * rows * csv_files::COLS * 8) as f64;
    println!(
        "{FILES} files x {rows} rows x {} floats: {:.0} MB as floats, {:.0} MB of CSV, {:.0} MB of Parquet; {threads} threads",
        csv_files::COLS,
        table / 1e6,
        dir_bytes(CSV, "csv") as f64 / 1e6,
        dir_bytes(PARQUET, "parquet") as f64 / 1e6
    );
    let exe = std::env::current_exe().expect("this program");
    let mut means = Vec::new();
    for format in ["csv", "parquet"] {
        let mut last = String::new();
        for _ in 0..2 {
            let out = Command::new(&exe)
                .args(&args[1..])
                .args(["--run", format])
                .output()
                .expect("child");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            last = String::from_utf8_lossy(&out.stdout).into_owned();
        }
        let f: Vec<&str> = last.split_whitespace().collect();
        let secs: f64 = f[0].parse().expect("seconds");
        means.push(f[1].to_owned());
        println!(
            "read_{format:<8} + describe: {secs:>7.3} s  {:>7.0} MB/s  peak {:>5.0} MB",
            table / 1e6 / secs,
            f[2].parse::<f64>().expect("kB") / 1024.0
        );
    }
    assert_eq!(means[0], means[1], "the two formats' means differ");
}
