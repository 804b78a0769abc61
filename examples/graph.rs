//! A `graph!` pipeline summarising batches of sensor readings: the cleaned readings fan
//! out to five statistics, which fan back in to a summary and to the outliers; the
//! pipeline has three outputs and is reused for every batch.
//!
//! ```sh
//! cargo run --release --example graph
//! ```
//!
//! Each statistic naps a little, as a slow computation would, so the threaded run (the
//! five statistics side by side) can be compared with the single-threaded one.

use dagr::prelude::*;
use std::time::{Duration, Instant};

const NAP: Duration = Duration::from_millis(40);

/// Drops the readings that are not numbers.
#[delayed]
fn clean(readings: Vec<f64>) -> Vec<f64> {
    readings.into_iter().filter(|r| r.is_finite()).collect()
}

/// The mean; an empty batch is an error, which `compute` reports with the node's name.
#[delayed]
fn mean(xs: Vec<f64>) -> Result<f64, String> {
    std::thread::sleep(NAP);
    if xs.is_empty() {
        Err("no valid readings in the batch".to_owned())
    } else {
        Ok(xs.iter().sum::<f64>() / xs.len() as f64)
    }
}

/// The standard deviation around `mean`.
#[delayed]
fn std_dev(xs: Vec<f64>, mean: f64) -> f64 {
    std::thread::sleep(NAP);
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
    var.sqrt()
}

// Plain functions, marked `plain` in the graph.

fn minimum(xs: Vec<f64>) -> f64 {
    std::thread::sleep(NAP);
    xs.iter().copied().fold(f64::INFINITY, f64::min)
}

fn maximum(xs: Vec<f64>) -> f64 {
    std::thread::sleep(NAP);
    xs.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

fn count(xs: Vec<f64>) -> usize {
    std::thread::sleep(NAP);
    xs.len()
}

/// The readings further than `k` standard deviations from the mean.
fn outliers(xs: Vec<f64>, mean: f64, std: f64, k: f64) -> Vec<f64> {
    xs.into_iter()
        .filter(|x| (x - mean).abs() > k * std)
        .collect()
}

/// The statistics of one batch.
#[derive(Clone, Debug)]
struct Summary {
    count: usize,
    mean: f64,
    std: f64,
    range: (f64, f64),
}

fn summarise(stats: Vec<f64>, count: usize) -> Summary {
    Summary {
        count,
        mean: stats[0],
        std: stats[1],
        range: (stats[2], stats[3]),
    }
}

/// A histogram of the readings in `bins` equal bins between `lo` and `hi`.
fn histogram(xs: Vec<f64>, lo: f64, hi: f64, bins: usize) -> Vec<usize> {
    let mut counts = vec![0; bins];
    let width = (hi - lo) / bins as f64;
    for x in xs {
        let bin = if width > 0.0 {
            (((x - lo) / width) as usize).min(bins - 1)
        } else {
            0
        };
        counts[bin] += 1;
    }
    counts
}

/// A batch of readings with some gaps (NaN) and a few spikes.
fn batch(seed: u64, n: usize) -> Vec<f64> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state % 1000) as f64 / 100.0 - 5.0;
            match i % 97 {
                13 => f64::NAN,
                42 => 80.0 + noise,
                _ => 20.0 + noise,
            }
        })
        .collect()
}

fn main() -> Result<(), dagr::Error> {
    let pipeline = graph! {
        input readings: Vec<f64>;
        input k: f64;

        ok = clean(readings);
        // fan-out: five statistics of the cleaned readings, independent of each other
        m = mean(ok);
        lo = plain minimum(ok);
        hi = plain maximum(ok);
        n = plain count(ok);
        s = std_dev(ok, m);
        // fan-in: the summary, the outliers and a histogram each combine several of them
        summary = plain summarise([m, s, lo, hi], n);
        spikes = plain outliers(ok, m, s, k);
        hist = plain histogram(ok, lo, hi, 8);

        output (summary, spikes, hist);
    };
    println!("{pipeline:?}\n");
    println!("{}", pipeline.to_dot());

    // The same pipeline, computed for several batches.
    for seed in 1..=3 {
        let readings = batch(seed, 1000);
        let start = Instant::now();
        let (summary, spikes, hist) = pipeline.compute(readings.clone(), 3.0)?;
        let threaded = start.elapsed();
        let start = Instant::now();
        let again = pipeline.compute_with(Scheduler::sync(), readings, 3.0)?;
        let sync = start.elapsed();
        assert_eq!(again.1, spikes);
        let Summary {
            count,
            mean,
            std,
            range: (lo, hi),
        } = summary;
        println!("batch {seed}: {count} readings, mean {mean:.2} ± {std:.2}, in {lo:.2}..{hi:.2}");
        println!("  {} spikes, histogram {hist:?}", spikes.len());
        println!(
            "  threads {:.0} ms, sync {:.0} ms",
            threaded.as_secs_f64() * 1e3,
            sync.as_secs_f64() * 1e3
        );
    }

    // A batch with no valid reading: `mean` fails, and the error names the node.
    let err = pipeline.compute(vec![f64::NAN; 4], 3.0).unwrap_err();
    println!("\nan empty batch: {err}");
    assert_eq!(err.key().map(|key| key.prefix()), Some("m"));
    Ok(())
}
