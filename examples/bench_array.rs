//! Array benchmarks, each against a same-run baseline:
//!
//! 1. peak RSS of `da::random::random(..).mean()` over a large array (default 4 GB,
//!    `--rss-gb 48` for the issue's 48 GB);
//! 2. the mean of an 800 MB f64 memmap already in the page cache, graph build + compute,
//!    in GB/s, against a plain single-threaded sum over the same map.
//!
//! ```sh
//! cargo run --release --example bench_array [-- --rss-gb 48]
//! ```

use dagr::array as da;
use memmap2::Mmap;
use std::time::Instant;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() -> Result<(), dagr::Error> {
    let args: Vec<String> = std::env::args().collect();
    let rss_gb: usize = args
        .iter()
        .position(|a| a == "--rss-gb")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(4);

    // 1. bounded memory: rows of 1000 x 1000 f64 blocks (8 MB each)
    let rows = rss_gb * 1000 / 8;
    let x = da::random::random(&[rows * 1000, 1000], &[1000, 1000], 1)?;
    let before = peak_rss_mb();
    let t = Instant::now();
    let m = x.mean().compute()?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "random mean over {:.1} GB ({} blocks of 8 MB): {m:.6} in {secs:.1} s ({:.2} GB/s generated); peak RSS {:.0} MB (before: {before:.0} MB)",
        x.nbytes() as f64 / 1e9,
        x.numblocks().iter().product::<usize>(),
        x.nbytes() as f64 / 1e9 / secs,
        peak_rss_mb()
    );

    // 2. memmap mean at the memory bus
    std::fs::create_dir_all("data").map_err(|source| dagr::Error::Io {
        path: "data".into(),
        source,
    })?;
    let path = std::path::Path::new("data/bench_array.dat");
    let shape = [100, 1000, 1000];
    let bytes = 100 * 1000 * 1000 * 8;
    if std::fs::metadata(path).map(|m| m.len()).ok() != Some(bytes) {
        da::random::random(&shape, &[1, 1000, 1000], 2)?.to_memmap(path)?;
    }
    let file = std::fs::File::open(path).map_err(|source| dagr::Error::Io {
        path: path.into(),
        source,
    })?;
    // SAFETY: the benchmark's own file, not modified while mapped.
    let map = unsafe { Mmap::map(&file) }.map_err(|source| dagr::Error::Io {
        path: path.into(),
        source,
    })?;
    let plain = |map: &Mmap| -> (f64, f64) {
        let (pre, xs, post) = {
            // SAFETY: f64 has no invalid bit patterns; align_to handles alignment.
            unsafe { map.align_to::<f64>() }
        };
        assert!(pre.is_empty() && post.is_empty());
        let t = Instant::now();
        let s: f64 = xs.iter().sum();
        (s / xs.len() as f64, t.elapsed().as_secs_f64())
    };
    plain(&map); // warm the page cache
    let gb = bytes as f64 / 1e9;
    let mut best_plain = f64::INFINITY;
    let mut plain_mean = 0.0;
    for _ in 0..3 {
        let (m, s) = plain(&map);
        plain_mean = m;
        best_plain = best_plain.min(s);
    }
    println!(
        "plain single-threaded sum over the map: mean {plain_mean:.6}, {:.2} GB/s",
        gb / best_plain
    );
    for chunks in [[1, 200, 500], [1, 1000, 1000], [10, 1000, 1000]] {
        let mut best = f64::INFINITY;
        let mut mean = 0.0;
        for _ in 0..3 {
            let t = Instant::now();
            let fp = da::from_memmap::<f64>(path, &shape, &chunks)?;
            mean = fp.mean().compute()?;
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "dagr mean, chunks {chunks:?}: {mean:.6}, {:.2} GB/s = {:.2}x the plain sum (build + compute)",
            gb / best,
            best_plain / best
        );
    }
    Ok(())
}
