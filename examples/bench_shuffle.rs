//! Joins and sorts across partitions: `merge` of a large and a smaller table on an integer
//! key (inner and left) and `set_index` over a large table, next to the same work done the
//! plain way on one thread (a hash join, a stable sort), with each one's peak RSS.
//!
//! ```sh
//! cargo run --release --example bench_shuffle                      # 10 M x 1 M merge, 20 M set_index
//! cargo run --release --example bench_shuffle -- --scale 0.1       # a tenth of the rows
//! cargo run --release --example bench_shuffle -- --threads 2 --parts 40
//! cargo run --release --example bench_shuffle -- --budget-mb 64     # spill above 64 MB
//! ```
//!
//! Each shuffled measurement runs twice: as the default budget decides (in memory unless
//! the shuffle is larger than a quarter of the available memory), then spilling
//! (`… spill`: budget `--budget-mb`, 0 by default, so every piece goes to disk).
//!
//! The rows are made inside the partitions' tasks (a key and a float per row, from a fixed
//! generator), so no input table is held whole; the plain programs make the same rows into
//! vectors first. Each measurement runs in a child process of its own, so its peak RSS
//! (VmHWM) is its own. The results are checked against each other (row counts, the sum of
//! the keys).

use dagr::bag as db;
use dagr::dataframe::{self as dd, How};
use dagr::prelude::Scheduler;
use std::collections::HashMap;
use std::process::Command;
use std::time::Instant;

/// A field of this process's status, in kB.
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

/// Row `i` of a table whose keys lie in `0..keys`: a mixed hash of `i` and `seed`.
fn row(i: u64, seed: u64, keys: u64) -> (i64, f64) {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed;
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    ((x % keys) as i64, (x >> 11) as f64 / (1u64 << 53) as f64)
}

/// A frame of `rows` rows in `parts` partitions, each made inside its task.
fn frame(rows: u64, parts: usize, seed: u64, keys: u64, names: [&str; 2]) -> dd::DataFrame {
    let per = rows.div_ceil(parts as u64);
    db::from_sequence((0..parts as u64).collect::<Vec<_>>(), parts)
        .unwrap()
        .map_partitions(move |ps| {
            ps.into_iter()
                .flat_map(|p| (p * per..((p + 1) * per).min(rows)).map(|i| row(i, seed, keys)))
                .collect()
        })
        .to_dataframe(&names)
        .unwrap()
}

struct Sizes {
    big: u64,
    small: u64,
    sort: u64,
    parts: usize,
    threads: usize,
    budget_mb: u64,
}

/// The key column.
fn ints(t: &dd::Table) -> Vec<i64> {
    match t.column("k").unwrap() {
        dd::Column::I64(v) => v.clone(),
        other => panic!("keys are {}", other.dtype()),
    }
}

/// Runs one measurement; prints `name seconds rows checksum peak_kb`.
fn run(what: &str, s: &Sizes) {
    let sched = Scheduler::threads(s.threads);
    let full = what;
    let what = match what.strip_suffix("-spill") {
        Some(w) => {
            dd::set_shuffle_spill(dd::ShuffleSpill {
                budget: Some(s.budget_mb << 20),
                dir: None,
            });
            w
        }
        None => what,
    };
    let t0 = Instant::now();
    let (rows, check): (usize, i64) = match what {
        "merge-inner" | "merge-left" => {
            let how = if what == "merge-inner" {
                How::Inner
            } else {
                How::Left
            };
            let big = frame(s.big, s.parts, 1, s.small * 2, ["k", "x"]);
            let small = frame(s.small, s.parts / 4 + 1, 2, s.small * 2, ["k", "y"]);
            let m = big.merge(&small, "k", how).unwrap();
            let sums = m
                .to_delayed()
                .into_iter()
                .map(|p| {
                    p.map(|t| {
                        let k = ints(&t);
                        (t.len(), k.iter().sum::<i64>())
                    })
                })
                .collect::<Vec<_>>();
            dagr::compute_with(&sums, sched)
                .unwrap()
                .into_iter()
                .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
        }
        "set-index" => {
            let df = frame(s.sort, s.parts, 3, u64::MAX, ["k", "x"]);
            let sorted = df.set_index("k").unwrap();
            let firsts = sorted
                .to_delayed()
                .into_iter()
                .map(|p| {
                    p.map(|t| {
                        let k = ints(&t);
                        assert!(
                            k.windows(2).all(|w| w[0] <= w[1]),
                            "a partition is not sorted"
                        );
                        (t.len(), k.iter().map(|x| x >> 40).sum::<i64>())
                    })
                })
                .collect::<Vec<_>>();
            dagr::compute_with(&firsts, sched)
                .unwrap()
                .into_iter()
                .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
        }
        "plain-merge-inner" | "plain-merge-left" => {
            let left = what == "plain-merge-left";
            let big: Vec<(i64, f64)> = (0..s.big).map(|i| row(i, 1, s.small * 2)).collect();
            let small: Vec<(i64, f64)> = (0..s.small).map(|i| row(i, 2, s.small * 2)).collect();
            let mut index: HashMap<i64, Vec<usize>> = HashMap::new();
            for (j, r) in small.iter().enumerate() {
                index.entry(r.0).or_default().push(j);
            }
            let (mut n, mut sum) = (0usize, 0i64);
            let mut out: Vec<(i64, f64, f64)> = Vec::new();
            for r in &big {
                match index.get(&r.0) {
                    Some(js) => {
                        for &j in js {
                            out.push((r.0, r.1, small[j].1));
                        }
                    }
                    None if left => out.push((r.0, r.1, f64::NAN)),
                    None => {}
                }
            }
            for o in &out {
                n += 1;
                sum += o.0;
            }
            (n, sum)
        }
        "plain-sort" => {
            let mut v: Vec<(i64, f64)> = (0..s.sort).map(|i| row(i, 3, u64::MAX)).collect();
            v.sort_by_key(|r| r.0);
            (v.len(), v.iter().map(|r| r.0 >> 40).sum::<i64>())
        }
        other => panic!("unknown measurement {other}"),
    };
    let secs = t0.elapsed().as_secs_f64();
    println!("{full} {secs:.3} {rows} {check} {}", peak_rss_kb());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let scale: f64 = arg("--scale").map_or(1.0, |v| v.parse().expect("--scale"));
    let threads: usize = arg("--threads").map_or(2, |v| v.parse().expect("--threads"));
    let sizes = Sizes {
        big: (10_000_000.0 * scale) as u64,
        small: (1_000_000.0 * scale) as u64,
        sort: (20_000_000.0 * scale) as u64,
        parts: arg("--parts").map_or(40, |v| v.parse().expect("--parts")),
        threads,
        budget_mb: arg("--budget-mb").map_or(0, |v| v.parse().expect("--budget-mb")),
    };
    if let Some(what) = arg("--run") {
        return run(&what, &sizes);
    }
    let exe = std::env::current_exe().expect("this program");
    println!(
        "{} x {} merge, {} set_index; {} partitions, {} threads",
        sizes.big, sizes.small, sizes.sort, sizes.parts, threads
    );
    println!(
        "{:<20} {:>9} {:>11} {:>10}",
        "", "seconds", "rows", "peak MB"
    );
    for what in [
        "merge-inner",
        "merge-inner-spill",
        "plain-merge-inner",
        "merge-left",
        "merge-left-spill",
        "plain-merge-left",
        "set-index",
        "set-index-spill",
        "plain-sort",
    ] {
        let mut child = Command::new(&exe);
        child.args(&args[1..]).args(["--run", what]);
        let out = child.output().expect("child");
        let text = String::from_utf8_lossy(&out.stdout);
        let f: Vec<&str> = text.split_whitespace().collect();
        if !out.status.success() || f.len() < 5 {
            println!(
                "{what}: failed\n{text}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            continue;
        }
        let mb = f[4].parse::<f64>().unwrap_or(0.0) / 1024.0;
        println!(
            "{:<20} {:>9} {:>11} {:>10.0}   (check {})",
            f[0], f[1], f[2], mb, f[3]
        );
    }
}
