//! Array benchmarks, each against a baseline measured in the same run:
//!
//! 1. peak RSS of `da::random::random(..).mean()` over a large array (default 4 GB,
//!    `--rss-gb 48` for the issue's 48 GB);
//! 2. an 800 MB f64 file in the page cache, graph build + compute, in GB/s:
//!    `from_memmap(..).mean()` at three chunkings, the notebook's concatenate of slabs,
//!    `(x * 2.0 + 1.0).sum()`, `var` and `std`, each against two threads summing the same
//!    file through a fresh mapping with eight accumulators each, doing the same arithmetic
//!    (what any new process pays: the page faults of the mapping are included);
//! 3. `da::random::random(..).mean()` over 4 GB against two threads filling a buffer with the
//!    same numbers from the same generator and summing it.
//!
//! Each round runs dagr and its baseline back to back, alternating which goes first; the
//! figures are medians over the rounds, the ratio is dagr's median over the baseline's.
//! `--faults` adds what the hardware does otherwise: the ways of reading a fresh mapping the
//! baseline could use (plain page faults, `MAP_POPULATE`, `MADV_POPULATE_READ` per piece,
//! `MADV_HUGEPAGE`, `pread` into a reused buffer, a mapping already faulted in, with the
//! page faults each takes) and the same sum taken in the order of the notebook's (200, 500)
//! blocks, which reads rows of 4000 bytes out of rows of 8000.
//!
//! ```sh
//! cargo run --release --example bench_array [-- --rss-gb 48] [--rounds 7] [--faults] [--only NAME]
//! ```
//!
//! `--rss-gb 0` skips the memory figure; `--only` runs the comparisons whose name contains
//! `NAME`.

use dagr::array as da;
use dagr::array::s;
use memmap2::{Advice, Mmap, MmapOptions};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::fs::File;
use std::path::Path;
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

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> dagr::Error + '_ {
    move |source| dagr::Error::Io {
        path: path.into(),
        source,
    }
}

fn minor_faults() -> i64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            s.rsplit(')')
                .next()?
                .split_whitespace()
                .nth(7)?
                .parse()
                .ok()
        })
        .unwrap_or(-1)
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

// --- the baselines' kernels --------------------------------------------------------------

/// Sum of `f(x)` with eight accumulators (the compiler keeps them in vector registers).
#[inline(always)]
fn sum8(xs: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0.0; 8];
    let mut it = xs.chunks_exact(8);
    for c in &mut it {
        for k in 0..8 {
            acc[k] += f(c[k]);
        }
    }
    for (k, &x) in it.remainder().iter().enumerate() {
        acc[k] += f(x);
    }
    (acc[0] + acc[4] + (acc[2] + acc[6])) + (acc[1] + acc[5] + (acc[3] + acc[7]))
}

/// Elements per piece of a two-pass variance: a piece stays in the core's cache between its
/// two passes.
const PIECE: usize = 4096;

/// `(n, mean, m2)` of `xs`: two passes per piece, pieces merged with Chan's formula.
fn moments(xs: &[f64]) -> (u64, f64, f64) {
    xs.chunks(PIECE)
        .map(|p| {
            let mean = sum8(p, |x| x) / p.len() as f64;
            (p.len() as u64, mean, sum8(p, |x| (x - mean) * (x - mean)))
        })
        .fold((0, 0.0, 0.0), merge)
}

fn merge(a: (u64, f64, f64), b: (u64, f64, f64)) -> (u64, f64, f64) {
    if a.0 == 0 {
        return b;
    }
    let n = a.0 + b.0;
    let d = b.1 - a.1;
    (
        n,
        a.1 + d * (b.0 as f64 / n as f64),
        a.2 + b.2 + d * d * (a.0 as f64 * b.0 as f64 / n as f64),
    )
}

/// What a baseline computes over the file.
#[derive(Clone, Copy)]
enum Work {
    Sum,
    Affine,
    Moments,
}

impl Work {
    /// Per thread: a partial result as `(n, sum or mean, m2)`.
    fn run(self, xs: &[f64]) -> (u64, f64, f64) {
        match self {
            Work::Sum => (xs.len() as u64, sum8(xs, |x| x), 0.0),
            Work::Affine => (xs.len() as u64, sum8(xs, |x| x * 2.0 + 1.0), 0.0),
            Work::Moments => moments(xs),
        }
    }

    fn finish(self, parts: [(u64, f64, f64); 2]) -> f64 {
        match self {
            Work::Sum | Work::Affine => parts[0].1 + parts[1].1,
            Work::Moments => {
                let m = merge(parts[0], parts[1]);
                m.2 / m.0 as f64
            }
        }
    }
}

/// How a baseline reads the file.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Access {
    /// A fresh mapping, faulted in by the threads that touch it.
    Fresh,
    /// A fresh mapping populated by `mmap` (`MAP_POPULATE`), one thread.
    Populate,
    /// A fresh mapping, each thread populating a piece (`MADV_POPULATE_READ`) before reading it.
    PopulateRead,
    /// `pread` into a buffer of each thread, reused.
    Pread,
    /// A fresh mapping advised to use huge pages (`MADV_HUGEPAGE`), faulted in by the threads.
    Huge,
}

/// Two threads summing the file in the order of blocks of 200 x 500 out of rows of 1000
/// (the notebook's chunks): each takes eight blocks at a time, alternately.
fn strided_baseline(path: &Path, held: Option<&Mmap>) -> (f64, f64) {
    let t = Instant::now();
    let file = File::open(path).expect("the benchmark file");
    let mut fresh = None;
    let map = match held {
        Some(m) => m,
        // SAFETY: the benchmark's own file, not modified while mapped.
        None => fresh.insert(unsafe { Mmap::map(&file) }.expect("a mapping")),
    };
    let (_, xs, _) = {
        // SAFETY: f64 has no invalid bit patterns; align_to handles alignment.
        unsafe { map.align_to::<f64>() }
    };
    let blocks = xs.len() / 100_000;
    let parts = std::thread::scope(|s| {
        let hs = [0, 1].map(|t| {
            s.spawn(move || {
                let mut sum = 0.0;
                for b in (0..blocks).filter(|b| (b / 8) % 2 == t) {
                    // block b: 5 row groups x 2 halves per 1000 x 1000 slab
                    let (slab, rest) = (b / 10, b % 10);
                    let (rows, half) = (rest / 2, rest % 2);
                    for r in 0..200 {
                        let start = slab * 1_000_000 + (rows * 200 + r) * 1000 + half * 500;
                        sum += sum8(&xs[start..start + 500], |x| x);
                    }
                }
                sum
            })
        });
        hs.map(|h| h.join().expect("a thread"))
    });
    let r = parts[0] + parts[1];
    drop(fresh);
    (r, t.elapsed().as_secs_f64())
}

/// Bytes per piece a thread populates or reads at a time.
const READ_PIECE: usize = 1 << 18;

/// Two threads doing `work` over halves of the file; the elapsed seconds include opening
/// and mapping it.
fn baseline(path: &Path, work: Work, read: Access, held: Option<&Mmap>) -> (f64, f64) {
    let t = Instant::now();
    let file = File::open(path).expect("the benchmark file");
    let mut fresh = None;
    let map = match held {
        Some(m) => m,
        None if read == Access::Pread => {
            let len = file.metadata().expect("its size").len() as usize;
            let parts = std::thread::scope(|s| {
                let half = len / 16 * 8;
                let hs = [(0, half), (half, len)].map(|(a, b)| {
                    let file = &file;
                    s.spawn(move || pread_run(file, a, b, work))
                });
                hs.map(|h| h.join().expect("a thread"))
            });
            return (work.finish(parts), t.elapsed().as_secs_f64());
        }
        None => {
            let mut opts = MmapOptions::new();
            if read == Access::Populate {
                opts.populate();
            }
            // SAFETY: the benchmark's own file, not modified while mapped.
            let m = fresh.insert(unsafe { opts.map(&file) }.expect("a mapping"));
            if read == Access::Huge {
                let _ = m.advise(Advice::HugePage);
            }
            m
        }
    };
    let (pre, xs, post) = {
        // SAFETY: f64 has no invalid bit patterns; align_to handles alignment.
        unsafe { map.align_to::<f64>() }
    };
    assert!(pre.is_empty() && post.is_empty());
    let base = map.as_ptr() as usize;
    let parts = std::thread::scope(|s| {
        let (a, b) = xs.split_at(xs.len() / 2);
        let hs = [a, b].map(|half| {
            s.spawn(move || {
                if read != Access::PopulateRead || held.is_some() {
                    return work.run(half);
                }
                let mut acc = (0, 0.0, 0.0);
                for piece in half.chunks(READ_PIECE / 8) {
                    let off = piece.as_ptr() as usize - base;
                    // only a hint: a failure leaves the page faults to do it
                    let _ = map.advise_range(Advice::PopulateRead, off, piece.len() * 8);
                    acc = add_part(work, acc, work.run(piece));
                }
                acc
            })
        });
        hs.map(|h| h.join().expect("a thread"))
    });
    let r = work.finish(parts);
    drop(fresh); // unmapped inside the timing, as dagr's arrays are
    (r, t.elapsed().as_secs_f64())
}

fn add_part(work: Work, a: (u64, f64, f64), b: (u64, f64, f64)) -> (u64, f64, f64) {
    match work {
        Work::Moments => merge(a, b),
        _ => (a.0 + b.0, a.1 + b.1, 0.0),
    }
}

fn pread_run(file: &File, from: usize, to: usize, work: Work) -> (u64, f64, f64) {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0.0_f64; READ_PIECE / 8];
    let mut acc = (0, 0.0, 0.0);
    let mut pos = from;
    while pos < to {
        let n = (to - pos).min(READ_PIECE);
        let bytes = {
            // SAFETY: `buf` holds `READ_PIECE` initialised bytes; any bytes are valid f64s.
            unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), n) }
        };
        file.read_exact_at(bytes, pos as u64).expect("a read");
        acc = add_part(work, acc, work.run(&buf[..n / 8]));
        pos += n;
    }
    acc
}

// --- random ------------------------------------------------------------------------------

/// The generator `da::random` seeds for block `b` of an array made with `seed`.
fn block_rng(seed: u64, b: u64) -> Xoshiro256PlusPlus {
    fn mix(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
    Xoshiro256PlusPlus::seed_from_u64(mix(seed ^ mix(b.wrapping_add(0x9e3779b97f4a7c15))))
}

/// Two threads, each filling a reused buffer with block after block of the same numbers as
/// `da::random::random` and summing it: the mean and the seconds.
fn random_baseline(blocks: usize, per_block: usize, seed: u64) -> (f64, f64) {
    let t = Instant::now();
    let parts = std::thread::scope(|s| {
        let hs = [0, 1].map(|first| {
            s.spawn(move || {
                let mut buf = vec![0.0_f64; per_block];
                let mut sum = 0.0;
                for b in (first..blocks).step_by(2) {
                    let mut rng = block_rng(seed, b as u64);
                    for x in buf.iter_mut() {
                        *x = rng.random::<f64>();
                    }
                    sum += sum8(&buf, |x| x);
                }
                sum
            })
        });
        hs.map(|h| h.join().expect("a thread"))
    });
    (
        (parts[0] + parts[1]) / (blocks * per_block) as f64,
        t.elapsed().as_secs_f64(),
    )
}

// --- the comparisons ---------------------------------------------------------------------

type Run<'a> = Box<dyn Fn() -> Result<(f64, f64), dagr::Error> + 'a>;

/// Runs each `(name, dagr, baseline)` for `rounds` alternated rounds and prints the medians.
fn compare(
    gb: f64,
    rounds: usize,
    cases: Vec<(String, Run<'_>, Run<'_>)>,
) -> Result<(), dagr::Error> {
    let only = std::env::args().skip_while(|a| a != "--only").nth(1);
    for (name, ours, theirs) in cases {
        if only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        let (mut a, mut b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let (mut va, mut vb) = (0.0, 0.0);
        ours()?; // warm up
        theirs()?;
        for r in 0..rounds {
            let (x, y) = if r % 2 == 0 {
                let x = ours()?;
                (x, theirs()?)
            } else {
                let y = theirs()?;
                (ours()?, y)
            };
            (va, vb) = (x.0, y.0);
            a.push(gb / x.1);
            b.push(gb / y.1);
            ratios.push(y.1 / x.1);
        }
        let (ma, mb) = (median(&mut a), median(&mut b));
        println!(
            "{name}: dagr {ma:.2} GB/s, baseline {mb:.2} GB/s, ratio {:.2} (per-round median {:.2}); values {va:.9} / {vb:.9}; load {}",
            ma / mb,
            median(&mut ratios),
            load()
        );
    }
    Ok(())
}

fn main() -> Result<(), dagr::Error> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1)?.parse::<usize>().ok())
    };
    let rss_gb = arg("--rss-gb").unwrap_or(4);
    let rounds = arg("--rounds").unwrap_or(7);
    let faults = args.iter().any(|a| a == "--faults");
    println!("load before: {}", load());

    // 1. bounded memory: rows of 1000 x 1000 f64 blocks (8 MB each); `--rss-gb 0` skips it
    let rows = rss_gb * 1000 / 8;
    if rows > 0 {
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
    }

    // 2. the file
    let dir = Path::new("data");
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = Path::new("data/bench_array.dat");
    let shape = [100, 1000, 1000];
    let bytes = 100 * 1000 * 1000 * 8;
    if std::fs::metadata(path).map(|m| m.len()).ok() != Some(bytes) {
        da::random::random(&shape, &[1, 1000, 1000], 2)?.to_memmap(path)?;
    }
    let gb = bytes as f64 / 1e9;
    let file = File::open(path).map_err(io(path))?;
    // SAFETY: the benchmark's own file, not modified while mapped.
    let held = unsafe { Mmap::map(&file) }.map_err(io(path))?;
    baseline(path, Work::Sum, Access::Fresh, Some(&held)); // into the page cache

    if faults {
        let mut cases: Vec<(String, Run<'_>, Run<'_>)> = Vec::new();
        for read in [
            Access::Fresh,
            Access::Populate,
            Access::PopulateRead,
            Access::Pread,
            Access::Huge,
        ] {
            let f0 = minor_faults();
            baseline(path, Work::Sum, read, None);
            println!("read {read:?}: {} minor page faults", minor_faults() - f0);
        }
        for read in [
            Access::Populate,
            Access::PopulateRead,
            Access::Pread,
            Access::Huge,
        ] {
            cases.push((
                format!("sum, read {read:?} vs a fresh mapping"),
                Box::new(move || Ok(baseline(path, Work::Sum, read, None))),
                Box::new(move || Ok(baseline(path, Work::Sum, Access::Fresh, None))),
            ));
        }
        cases.push((
            "sum in the order of (200, 500) blocks vs a fresh mapping".into(),
            Box::new(move || Ok(strided_baseline(path, None))),
            Box::new(move || Ok(baseline(path, Work::Sum, Access::Fresh, None))),
        ));
        let held = &held;
        cases.push((
            "sum in the order of (200, 500) blocks vs in file order, both faulted in".into(),
            Box::new(move || Ok(strided_baseline(path, Some(held)))),
            Box::new(move || Ok(baseline(path, Work::Sum, Access::Fresh, Some(held)))),
        ));
        cases.push((
            "sum, mapping already faulted in vs a fresh mapping".into(),
            Box::new(move || Ok(baseline(path, Work::Sum, Access::Fresh, Some(held)))),
            Box::new(move || Ok(baseline(path, Work::Sum, Access::Fresh, None))),
        ));
        compare(gb, rounds, cases)?;
    }

    let fresh =
        |work: Work| -> Run<'_> { Box::new(move || Ok(baseline(path, work, Access::Fresh, None))) };
    let mut cases: Vec<(String, Run<'_>, Run<'_>)> = Vec::new();
    for chunks in [[1, 1000, 1000], [1, 200, 500], [10, 1000, 1000]] {
        cases.push((
            format!("from_memmap(.., {chunks:?}).mean()"),
            Box::new(move || {
                let t = Instant::now();
                let m = da::from_memmap::<f64>(path, &shape, &chunks)?
                    .mean()
                    .compute()?;
                Ok((m * 1e8, t.elapsed().as_secs_f64()))
            }),
            fresh(Work::Sum),
        ));
    }
    cases.push((
        "concatenate of 100 slabs, chunks (200, 500), .mean()".into(),
        Box::new(move || {
            let t = Instant::now();
            let fp = da::from_memmap::<f64>(path, &shape, &[1, 200, 500])?;
            let slabs = (0..100)
                .map(|i| fp.slice(s![i, .., ..]))
                .collect::<Result<Vec<_>, _>>()?;
            let m = da::concatenate(&slabs, 0)?.mean().compute()?;
            Ok((m * 1e8, t.elapsed().as_secs_f64()))
        }),
        fresh(Work::Sum),
    ));
    for chunks in [[1, 1000, 1000], [1, 200, 500]] {
        cases.push((
            format!("(x * 2.0 + 1.0).sum(), chunks {chunks:?}"),
            Box::new(move || {
                let t = Instant::now();
                let x = da::from_memmap::<f64>(path, &shape, &chunks)?;
                let v = (&x * 2.0 + 1.0).sum().compute()?;
                Ok((v, t.elapsed().as_secs_f64()))
            }),
            fresh(Work::Affine),
        ));
    }
    for chunks in [[1, 1000, 1000], [1, 200, 500]] {
        cases.push((
            format!("var, chunks {chunks:?}"),
            Box::new(move || {
                let t = Instant::now();
                let v = da::from_memmap::<f64>(path, &shape, &chunks)?
                    .var()
                    .compute()?;
                Ok((v, t.elapsed().as_secs_f64()))
            }),
            fresh(Work::Moments),
        ));
    }
    cases.push((
        "std, chunks [1, 1000, 1000]".into(),
        Box::new(move || {
            let t = Instant::now();
            let v = da::from_memmap::<f64>(path, &shape, &[1, 1000, 1000])?
                .std()
                .compute()?;
            Ok((v * v, t.elapsed().as_secs_f64()))
        }),
        fresh(Work::Moments),
    ));
    compare(gb, rounds, cases)?;

    // 3. random numbers at the generator's speed: 4 GB in blocks of 1000 x 1000
    let blocks = 500;
    compare(
        blocks as f64 * 8e6 / 1e9,
        rounds,
        vec![(
            "random(&[500000, 1000], &[1000, 1000], 3).mean()".into(),
            Box::new(move || {
                let t = Instant::now();
                let m = da::random::random(&[blocks * 1000, 1000], &[1000, 1000], 3)?
                    .mean()
                    .compute()?;
                Ok((m, t.elapsed().as_secs_f64()))
            }),
            Box::new(move || Ok(random_baseline(blocks, 1_000_000, 3))),
        )],
    )?;
    Ok(())
}
