//! `read_csv` + `describe` over many CSV files, against a single-threaded csv-crate parse and
//! exact describe of the same files, measured in the same run.
//!
//! ```sh
//! cargo run --release --example bench_dataframe                    # 20 files x 1 000 000 rows x 5 floats (~2.5 GB)
//! cargo run --release --example bench_dataframe -- --rows 100000   # smaller
//! ```
//!
//! Each measurement runs in a child process so its peak RSS (VmHWM) is its own.

use dagr::bag as db;
use dagr::dataframe as dd;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::process::Command;
use std::time::Instant;

const DIR: &str = "data/bench-csv";
const FILES: usize = 20;
const COLS: usize = 5;

fn generate(rows: usize) -> u64 {
    let marker = format!("{DIR}/.rows-{rows}");
    if std::path::Path::new(&marker).exists() {
        return size();
    }
    let _ = std::fs::remove_dir_all(DIR);
    std::fs::create_dir_all(DIR).expect("mkdir");
    db::from_sequence(0..FILES, FILES)
        .expect("bag")
        .map(move |f| {
            let mut rng = StdRng::seed_from_u64(f as u64);
            let mut text = String::with_capacity(rows * COLS * 20);
            for _ in 0..rows {
                for c in 0..COLS {
                    if c > 0 {
                        text.push(',');
                    }
                    text.push_str(&rng.random::<f64>().to_string());
                }
                text.push('\n');
            }
            std::fs::write(format!("{DIR}/x{f:03}.csv"), text).is_ok()
        })
        .compute()
        .expect("generate");
    std::fs::write(&marker, "").expect("marker");
    size()
}

fn files() -> Vec<std::path::PathBuf> {
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

/// The baseline: one thread, the csv crate, every value kept for exact quantiles.
fn baseline() -> Vec<[f64; 8]> {
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); COLS];
    let mut rec = csv::ByteRecord::new();
    for f in files() {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_path(&f)
            .expect("open");
        while r.read_byte_record(&mut rec).expect("record") {
            for (c, field) in rec.iter().enumerate() {
                let x: f64 = std::str::from_utf8(field)
                    .expect("utf8")
                    .parse()
                    .expect("float");
                cols[c].push(x);
            }
        }
    }
    cols.into_iter()
        .map(|mut v| {
            v.sort_by(f64::total_cmp);
            let n = v.len() as f64;
            let mean = v.iter().sum::<f64>() / n;
            let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
            let q = |q: f64| {
                let pos = q * (n - 1.0);
                let lo = pos.floor() as usize;
                let hi = (lo + 1).min(v.len() - 1);
                v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
            };
            [n, mean, std, v[0], q(0.25), q(0.5), q(0.75), v[v.len() - 1]]
        })
        .collect()
}

fn dagr_describe() -> Vec<[f64; 8]> {
    let df = dd::read_csv(
        &format!("{DIR}/x*.csv"),
        dd::CsvOptions::default().header(false),
    )
    .expect("read_csv");
    let d = df.describe().compute().expect("describe");
    d.columns()
        .iter()
        .map(|c| {
            let mut row = [0.0; 8];
            for (i, s) in dd::describe_rows().iter().enumerate() {
                row[i] = d.get(s, c).expect("stat");
            }
            row
        })
        .collect()
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let start = Instant::now();
        let stats = if args[i + 1] == "baseline" {
            baseline()
        } else {
            dagr_describe()
        };
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{secs} {} {:.12} {:.12}",
            peak_rss_kb(),
            stats[0][1],
            stats[0][5]
        );
        return;
    }
    let rows: usize = args
        .iter()
        .position(|a| a == "--rows")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(1_000_000);
    let t = Instant::now();
    let bytes = generate(rows);
    println!(
        "{FILES} files x {rows} rows x {COLS} floats: {:.2} GB (generated or reused in {:.1} s)",
        bytes as f64 / 1e9,
        t.elapsed().as_secs_f64()
    );
    for f in files() {
        let _ = std::fs::read(f); // page cache
    }
    let me = std::env::current_exe().expect("exe");
    println!(
        "\n{:<44} {:>8} {:>8} {:>10}  mean(0), median(0)",
        "", "seconds", "MB/s", "peak RSS"
    );
    let mut rates = Vec::new();
    for (what, label) in [
        ("baseline", "csv crate + exact describe, 1 thread"),
        ("dagr", "dd::read_csv + describe, threads"),
    ] {
        let out = Command::new(&me)
            .args(["--child", what])
            .output()
            .expect("child");
        let s = String::from_utf8_lossy(&out.stdout).to_string();
        let mut it = s.split_whitespace();
        let secs: f64 = it.next().and_then(|x| x.parse().ok()).unwrap_or(f64::NAN);
        let rss: f64 = it.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
        let rest: Vec<&str> = it.collect();
        let rate = bytes as f64 / 1e6 / secs;
        rates.push(rate);
        println!(
            "{label:<44} {secs:>8.2} {rate:>8.0} {:>7.0} MB  {}",
            rss / 1024.0,
            rest.join(" ")
        );
    }
    println!("\ndagr / baseline: {:.2}x", rates[1] / rates[0]);
}
