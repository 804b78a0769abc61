//! Word count over a generated corpus: dagr bags against a hand-written single-threaded
//! HashMap count of the same files, measured in the same run.
//!
//! ```sh
//! cargo run --release --example bench_bag                 # 200 MB corpus in data/wiki/AA
//! cargo run --release --example bench_bag -- --mb 20      # smaller
//! ```
//!
//! Each measurement runs in a child process so its peak RSS (VmHWM) is its own.

#[path = "common/corpus.rs"]
mod corpus;

use dagr::bag as db;
use dagr::prelude::*;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const DIR: &str = "data/wiki/AA";

fn files() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(DIR)
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .collect();
    v.sort();
    v
}

/// The baseline: one thread, std's HashMap, no allocation for words already counted.
fn baseline_top(k: usize, clean: bool) -> Vec<(String, u64)> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut text = String::new();
    for f in files() {
        text.clear();
        std::fs::File::open(&f)
            .and_then(|mut h| h.read_to_string(&mut text))
            .expect("read");
        let owned;
        let body: &str = if clean {
            owned = text
                .chars()
                .filter(|c| !c.is_ascii_punctuation())
                .collect::<String>()
                .to_lowercase();
            &owned
        } else {
            &text
        };
        for w in body.split_whitespace() {
            match counts.get_mut(w) {
                Some(n) => *n += 1,
                None => {
                    counts.insert(w.to_owned(), 1);
                }
            }
        }
    }
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(k);
    v
}

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

/// Child mode: run one measurement, print "seconds rss_kb top".
fn child(what: &str) {
    let start = Instant::now();
    let top = match what {
        "baseline" => baseline_top(10, false),
        "baseline-clean" => baseline_top(5, true),
        "dagr-sync" => dagr_top(10, false, Scheduler::sync()),
        "dagr" => dagr_top(10, false, Scheduler::default()),
        "dagr-clean" => dagr_top(5, true, Scheduler::default()),
        _ => panic!("unknown measurement {what}"),
    };
    let secs = start.elapsed().as_secs_f64();
    println!("{secs} {} {:?}", peak_rss_kb(), &top[..top.len().min(3)]);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(&args[i + 1]);
        return;
    }
    let mb: usize = args
        .iter()
        .position(|a| a == "--mb")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(200);
    let nfiles = 20;
    let bytes = corpus::generate(Path::new(DIR), nfiles, (mb << 20) / nfiles).expect("corpus");
    // warm the page cache
    for f in files() {
        let _ = std::fs::read(f);
    }
    let mbytes = bytes as f64 / 1e6;
    println!(
        "word count over {nfiles} files, {mbytes:.0} MB (page cache warm), median of 3 runs\n"
    );
    println!(
        "{:<42} {:>8} {:>8} {:>10}",
        "", "seconds", "MB/s", "peak RSS"
    );
    let me = std::env::current_exe().expect("exe");
    let mut rates = HashMap::new();
    for (what, label) in [
        ("baseline", "hand-written HashMap, 1 thread, top 10"),
        ("dagr-sync", "dagr, sync scheduler, top 10"),
        ("dagr", "dagr, threads (all cores), top 10"),
        ("baseline-clean", "hand-written, strip punct + lower, top 5"),
        ("dagr-clean", "dagr, strip_punctuation + lower, top 5"),
    ] {
        let mut runs: Vec<(f64, u64, String)> = (0..3)
            .map(|_| {
                let out = Command::new(&me)
                    .args(["--child", what])
                    .output()
                    .expect("child");
                let s = String::from_utf8_lossy(&out.stdout).to_string();
                let mut it = s.splitn(3, ' ');
                let secs: f64 = it
                    .next()
                    .and_then(|x| x.trim().parse().ok())
                    .unwrap_or(f64::NAN);
                let rss: u64 = it.next().and_then(|x| x.trim().parse().ok()).unwrap_or(0);
                (secs, rss, it.next().unwrap_or("").trim().to_string())
            })
            .collect();
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (secs, rss, top) = runs[1].clone();
        rates.insert(what, mbytes / secs);
        println!(
            "{label:<42} {secs:>8.3} {:>8.0} {:>7.0} MB   {top}",
            mbytes / secs,
            rss as f64 / 1024.0
        );
    }
    println!(
        "\ndagr threads / baseline: {:.2}x (top 10), {:.2}x (clean top 5)",
        rates["dagr"] / rates["baseline"],
        rates["dagr-clean"] / rates["baseline-clean"]
    );
}
