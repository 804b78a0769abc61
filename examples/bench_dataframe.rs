//! `read_csv` + `describe` over many CSV files, next to what a user could pick instead,
//! measured in the same run on the same files with the same number of threads:
//!
//! - the yardstick `csvstats` (a hand-optimised single-purpose parser + exact describe: the
//!   machine's pace), when built;
//! - pyarrow, DuckDB and polars (`csv_describe_libs.py`), when their virtual environment
//!   exists.
//!
//! ```sh
//! cargo run --release --example bench_dataframe                    # 20 files x 1 000 000 rows x 5 floats (1.93 GB)
//! cargo run --release --example bench_dataframe -- --rows 100000   # smaller
//! cargo run --release --example bench_dataframe -- --threads 2 --reps 3
//! ```
//!
//! The yardsticks live in `../shared/yardsticks` (`DAGR_YARDSTICKS` to change it); build
//! them and their Python environment as their README says:
//!
//! ```sh
//! cargo build --release --manifest-path ../shared/yardsticks/Cargo.toml --target-dir target/yardsticks
//! python3 -m venv target/yardsticks/venv
//! target/yardsticks/venv/bin/pip install pyarrow==26.0.1 duckdb==2.0.1 polars==2.1.0 numpy pandas
//! ```
//!
//! Every program runs in child processes and the median of `--reps` timed runs is shown
//! (input bytes / 10^6 / seconds; files in the page cache). dagr and the yardstick take
//! turns, a process each with one untimed warm-up and one timed run, so that both meet the
//! same machine; then each Python engine runs once, with a warm-up and `--reps` runs. Peak
//! RSS is the child's VmHWM: dagr reports its own after its first run; the others' is
//! sampled every 10 ms over all their runs (a memory-mapping program counts the file pages
//! it touches). Each program's statistics are compared with dagr's (largest relative
//! difference over all columns and statistics).

#[path = "common/csv_files.rs"]
mod csv_files;

use dagr::dataframe as dd;
use dagr::prelude::Scheduler;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DIR: &str = "data/bench-csv";
const FILES: usize = 20;
use csv_files::COLS;

fn generate(rows: usize) -> u64 {
    csv_files::generate(DIR, FILES, rows).expect("generate");
    size()
}

fn files() -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(DIR)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    v.sort();
    v
}

fn size() -> u64 {
    files()
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum()
}

/// dagr's describe as `{"0": {"count": .., "mean": .., ...}, ...}`.
fn dagr_describe(threads: usize) -> serde_json::Value {
    let df = dd::read_csv(
        &format!("{DIR}/x*.csv"),
        dd::CsvOptions::default().header(false),
    )
    .expect("read_csv");
    let d = df
        .describe()
        .compute_with(Scheduler::threads(threads))
        .expect("describe");
    let mut out = serde_json::Map::new();
    for c in d.columns() {
        let mut col = serde_json::Map::new();
        for s in dd::describe_rows() {
            col.insert(s.to_string(), d.get(s, c).expect("stat").into());
        }
        out.insert(c.clone(), col.into());
    }
    out.into()
}

fn vm_hwm_kb(status: &str) -> Option<u64> {
    status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
}

/// The child side: warm-up, timed runs, then one line of JSON.
fn child(threads: usize, reps: usize, bytes: u64) {
    let mut rates = Vec::new();
    let mut stats = dagr_describe(threads);
    // the peak of one run (later runs reuse freed memory in ways that vary with the
    // allocator's state, not with dagr)
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| vm_hwm_kb(&s))
        .unwrap_or(0);
    for _ in 0..reps {
        let t = Instant::now();
        stats = dagr_describe(threads);
        rates.push(bytes as f64 / 1e6 / t.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    let out = serde_json::json!({ "rate": rates[rates.len() / 2], "rss_kb": rss, "stats": stats });
    println!("{out}");
}

/// A finished child: its standard output and its sampled peak RSS.
struct Ran {
    stdout: String,
    peak_kb: u64,
    ok: bool,
    stderr: String,
}

fn run(cmd: &mut Command) -> Ran {
    let mut child = match cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn() {
        Ok(c) => c,
        Err(e) => {
            return Ran {
                stdout: String::new(),
                peak_kb: 0,
                ok: false,
                stderr: e.to_string(),
            }
        }
    };
    let mut pipe = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = pipe.read_to_string(&mut s);
        s
    });
    let mut errpipe = child.stderr.take().expect("stderr");
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = errpipe.read_to_string(&mut s);
        s
    });
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0;
    let status = loop {
        if let Some(status) = std::fs::read_to_string(&status_path)
            .ok()
            .and_then(|s| vm_hwm_kb(&s))
        {
            peak_kb = peak_kb.max(status);
        }
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    Ran {
        stdout: reader.join().unwrap_or_default(),
        peak_kb,
        ok: status.is_some_and(|s| s.success()),
        stderr: err_reader.join().unwrap_or_default(),
    }
}

/// "`… threads=N: X MB/s`" as the yardsticks print it, last line.
fn rate_of(stdout: &str) -> Option<f64> {
    let last = stdout.lines().rev().find(|l| l.contains("MB/s"))?;
    last.rsplit(": ")
        .next()?
        .trim_end_matches(" MB/s")
        .parse()
        .ok()
}

/// The first line of `stdout` that is a JSON object.
fn json_of(stdout: &str) -> Option<serde_json::Value> {
    stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .find_map(|l| serde_json::from_str(l).ok())
}

/// The largest relative difference between two describe tables.
fn max_rel_diff(a: &serde_json::Value, b: &serde_json::Value) -> Option<f64> {
    let a = a.as_object()?;
    let mut worst = 0.0f64;
    for (col, stats) in a {
        for (stat, x) in stats.as_object()? {
            let x = x.as_f64()?;
            let y = b.get(col)?.get(stat)?.as_f64()?;
            worst = worst.max((x - y).abs() / x.abs().max(1e-300));
        }
    }
    Some(worst)
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(f64::NAN)
}

struct Row {
    label: String,
    rate: f64,
    peak_kb: u64,
    diff: Option<f64>,
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1)?.parse().ok())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let threads: usize = arg(&args, "--threads").unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    });
    let reps: usize = arg(&args, "--reps").unwrap_or(3).max(1);
    if args.iter().any(|a| a == "--child") {
        child(threads, reps, size());
        return;
    }
    let rows: usize = arg(&args, "--rows").unwrap_or(1_000_000);
    let t = Instant::now();
    let bytes = generate(rows);
    println!(
        "{FILES} files x {rows} rows x {COLS} floats: {:.2} GB (generated or reused in {:.1} s); \
         {threads} threads, median of {reps} runs after a warm-up",
        bytes as f64 / 1e9,
        t.elapsed().as_secs_f64()
    );
    for f in files() {
        let _ = std::fs::read(f); // page cache
    }
    let (t, r) = (threads.to_string(), reps.to_string());
    let me = std::env::current_exe().expect("exe");
    // dagr and the yardstick take turns, so that both meet the same machine (other work on
    // it comes and goes): `reps` rounds of one warm-up and one timed run each
    let yard = std::env::var("DAGR_YARDSTICKS").unwrap_or_else(|_| "../shared/yardsticks".into());
    let csvstats = Path::new("target/yardsticks/release/csvstats");
    let (mut dagr_rates, mut dagr_peak, mut reference) = (Vec::new(), 0, None);
    let (mut yard_rates, mut yard_peak, mut yard_stats) = (Vec::new(), 0, None);
    for _ in 0..reps {
        let ran = run(Command::new(&me).args(["--child", "--threads", &t, "--reps", "1"]));
        let Some(dagr) = json_of(&ran.stdout) else {
            eprintln!("dagr failed: {}", ran.stderr);
            std::process::exit(1);
        };
        dagr_rates.push(dagr["rate"].as_f64().unwrap_or(f64::NAN));
        dagr_peak = dagr_peak.max(dagr["rss_kb"].as_u64().unwrap_or(0));
        reference = Some(dagr["stats"].clone());
        if csvstats.exists() {
            let args = [
                "--threads",
                &t,
                "--reps",
                "1",
                "--warmup",
                "1",
                "--json",
                DIR,
            ];
            let ran = run(Command::new(csvstats).args(args));
            match rate_of(&ran.stdout) {
                Some(rate) if ran.ok => {
                    yard_rates.push(rate);
                    yard_peak = yard_peak.max(ran.peak_kb);
                    yard_stats = json_of(&ran.stdout);
                }
                _ => eprintln!("csvstats failed: {}", ran.stderr.trim()),
            }
        }
    }
    let reference = reference.unwrap_or_default();
    let mut rows_out = vec![Row {
        label: "dagr: dd::read_csv + describe".into(),
        rate: median(&mut dagr_rates),
        peak_kb: dagr_peak,
        diff: Some(0.0),
    }];
    if !yard_rates.is_empty() {
        rows_out.push(Row {
            label: "yardstick: csvstats".into(),
            rate: median(&mut yard_rates),
            peak_kb: yard_peak,
            diff: yard_stats.and_then(|j| max_rel_diff(&reference, &j)),
        });
    } else if !csvstats.exists() {
        println!(
            "(no yardstick: build it with `cargo build --release --manifest-path \
             {yard}/Cargo.toml --target-dir target/yardsticks`)"
        );
    }

    let python = Path::new("target/yardsticks/venv/bin/python");
    let script = format!("{yard}/py/csv_describe_libs.py");
    if python.exists() && Path::new(&script).exists() {
        let glob = format!("{DIR}/*.csv");
        for lib in ["pyarrow", "duckdb", "polars"] {
            let ran = run(Command::new(python).args([
                script.as_str(),
                lib,
                &glob,
                "--threads",
                &t,
                "--reps",
                &r,
            ]));
            let version = ran
                .stdout
                .lines()
                .find(|l| l.starts_with(lib) && l.contains("rates"))
                .and_then(|l| l.split_whitespace().nth(1))
                .unwrap_or("")
                .to_owned();
            match rate_of(&ran.stdout) {
                Some(rate) if ran.ok => rows_out.push(Row {
                    label: format!("{lib} {version}"),
                    rate,
                    peak_kb: ran.peak_kb,
                    diff: json_of(&ran.stdout).and_then(|j| max_rel_diff(&reference, &j)),
                }),
                _ => eprintln!("{lib} failed: {}", ran.stderr.trim()),
            }
        }
    } else {
        println!(
            "(no pyarrow / DuckDB / polars: make their environment with `python3 -m venv \
             target/yardsticks/venv && target/yardsticks/venv/bin/pip install pyarrow==26.0.1 \
             duckdb==2.0.1 polars==2.1.0 numpy pandas`)"
        );
    }

    println!(
        "\n{:<34} {:>8} {:>12} {:>10}  max rel diff from dagr",
        "", "MB/s", "dagr / this", "peak RSS"
    );
    let ours = rows_out[0].rate;
    for row in &rows_out {
        println!(
            "{:<34} {:>8.0} {:>11.2}x {:>7.0} MB  {}",
            row.label,
            row.rate,
            ours / row.rate,
            row.peak_kb as f64 / 1024.0,
            row.diff.map_or("-".into(), |d| format!("{d:.1e}"))
        );
    }
}
