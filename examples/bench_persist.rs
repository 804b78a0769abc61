//! What `persist` saves: computations over a persisted random array and a persisted
//! word-frequency table, timed against the same computations from scratch, in one run.
//!
//! ```sh
//! cargo run --release --example bench_persist -- --gb 4 --mb 200
//! ```
//!
//! Prints, for each case, the time to compute from scratch, to persist, and to compute the
//! next results from the held partitions (the goal: only the new work), with the process's
//! peak resident memory (VmHWM).

#[path = "common/corpus.rs"]
mod corpus;

use dagr::array as da;
use dagr::bag as db;
use std::path::Path;
use std::time::Instant;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn timed<T>(
    what: &str,
    f: impl FnOnce() -> Result<T, dagr::Error>,
) -> Result<(T, f64), dagr::Error> {
    let start = Instant::now();
    let v = f()?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "  {what:<42} {secs:8.3} s   peak RSS {:7.0} MB",
        peak_rss_mb()
    );
    Ok((v, secs))
}

fn main() -> Result<(), dagr::Error> {
    let (gb, mb) = (arg("--gb", 4), arg("--mb", 200));

    // An array of `gb` GB of random floats, in 40 MB blocks.
    let rows = gb * 1_000_000_000 / 8 / 25_000;
    println!("random array [{rows}, 25000] ({gb} GB), blocks [2000, 2500]:");
    let x = da::random::random(&[rows, 25_000], &[2000, 2500], 42)?;
    let (m0, fresh) = timed("mean + std from scratch", || {
        dagr::compute((&x.mean(), &x.std()))
    })?;
    let (held, kept) = timed("persist", || x.persist())?;
    let (m1, again) = timed("mean + std from the held blocks", || {
        dagr::compute((&held.mean(), &held.std()))
    })?;
    assert_eq!(
        (m0.0.to_bits(), m0.1.to_bits()),
        (m1.0.to_bits(), m1.1.to_bits())
    );
    println!(
        "  from the held blocks: {:.1}x faster than from scratch (persist itself {:.2}x a scratch run)",
        fresh / again,
        kept / fresh
    );
    drop(held);

    // A word-frequency table of an `mb` MB corpus.
    let dir = Path::new("data/wiki/AA");
    corpus::generate(dir, 20, mb * 1_000_000 / 20)?;
    println!("word frequencies of {mb} MB of text:");
    let freqs = db::read_text("data/wiki/AA/*")?
        .str()
        .split()
        .flatten()
        .frequencies();
    let (t0, fresh) = timed("topk(10) from scratch", || {
        freqs.topk(10, |(_, n)| *n).compute()
    })?;
    let (held, kept) = timed("persist the frequencies", || freqs.persist())?;
    let (t1, again) = timed("topk(10) and count from the held table", || {
        dagr::compute((&held.topk(10, |(_, n)| *n), &held.count()))
    })?;
    assert_eq!(t0, t1.0);
    println!(
        "  from the held table: {:.1}x faster than from scratch ({} distinct words; persist {:.2}x a scratch run)",
        fresh / again,
        t1.1,
        kept / fresh
    );
    Ok(())
}
