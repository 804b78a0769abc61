//! Several outputs of one compute over one source: the source's blocks or partitions should
//! be made once, not once per output.
//!
//! - arrays: the mean along axis 0, the standard deviation and the largest distance from
//!   the mean of one random array (64 blocks);
//! - dataframes: `describe`, a `groupby`, a `filter` and a `sort_values` of one `read_csv`
//!   frame;
//! - text: the line count, the word count and the ten commonest words of one `read_text`.
//!
//! Each case is timed computed together and each output alone (median of `--reps` runs,
//! after one warm-up), on the default scheduler.
//!
//! ```sh
//! cargo run --release --example bench_shared
//! cargo run --release --example bench_shared -- --reps 7
//! ```

#[path = "common/corpus.rs"]
mod corpus;

use dagr::array as da;
use dagr::bag as db;
use dagr::dataframe::{self as dd, col};
use std::time::{Duration, Instant};

const DIR: &str = "data/bench-shared-csv";
const FILES: usize = 8;
const ROWS: usize = 200_000;
const TEXT_DIR: &str = "data/bench-shared-text";
const TEXT_FILES: usize = 8;
const TEXT_MB_EACH: usize = 8;

fn median(reps: usize, mut f: impl FnMut()) -> Duration {
    f();
    let mut t: Vec<Duration> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    t[reps / 2]
}

fn write_csv() -> std::io::Result<()> {
    let marker = format!("{DIR}/.rows-{ROWS}");
    if std::path::Path::new(&marker).exists() {
        return Ok(());
    }
    std::fs::create_dir_all(DIR)?;
    for f in 0..FILES {
        let mut text = String::from("k,x,y\n");
        let mut s = 0x9e37_79b9_7f4a_7c15_u64 ^ f as u64;
        for _ in 0..ROWS {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let x = (s >> 11) as f64 / (1u64 << 53) as f64;
            let k = (s >> 58) % 16;
            text.push_str(&format!("{k},{x},{}\n", 1.0 - x));
        }
        std::fs::write(format!("{DIR}/x{f:03}.csv"), text)?;
    }
    std::fs::write(marker, "")
}

fn main() -> Result<(), dagr::Error> {
    let mut reps = 5;
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--reps") {
        reps = args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(reps);
    }

    let x = da::random::normal(10.0, 0.1, &[4000, 4000], &[500, 500], 42)?;
    let m = x.mean();
    let mean0 = x.mean_axis(0)?;
    let std = x.std();
    let dev = (&x - m).abs().max();
    let together = median(reps, || {
        dagr::compute((&mean0, &std, &dev)).expect("compute");
    });
    let alone = median(reps, || {
        mean0.compute().expect("mean");
        std.compute().expect("std");
        dev.compute().expect("max");
    });
    println!(
        "array, 3 statistics of random 4000x4000 (64 blocks): together {:.1} ms, one by one {:.1} ms",
        together.as_secs_f64() * 1e3,
        alone.as_secs_f64() * 1e3
    );

    write_csv().map_err(|source| dagr::Error::Io {
        path: DIR.into(),
        source,
    })?;
    let df = dd::read_csv(&format!("{DIR}/*.csv"), dd::CsvOptions::default())?;
    let desc = df.describe();
    let sums = df.groupby("k").sum();
    let big = df.filter(col("x").gt(0.5));
    let sorted = df.sort_values("x", false);
    let together = median(reps, || {
        dagr::compute((&desc, &sums, &big, &sorted)).expect("compute");
    });
    let alone = median(reps, || {
        desc.compute().expect("describe");
        sums.compute().expect("groupby");
        big.compute().expect("filter");
        sorted.compute().expect("sort");
    });
    println!(
        "dataframe, 4 analyses of read_csv ({FILES} files x {ROWS} rows): together {:.1} ms, one by one {:.1} ms",
        together.as_secs_f64() * 1e3,
        alone.as_secs_f64() * 1e3
    );

    corpus::generate(
        std::path::Path::new(TEXT_DIR),
        TEXT_FILES,
        TEXT_MB_EACH << 20,
    )?;
    let text = db::read_text(&format!("{TEXT_DIR}/*"))?;
    let words = text.str().split().flatten();
    let (lines, nwords) = (text.count(), words.count());
    let top = words.frequencies().topk(10, |(_, n)| *n);
    let together = median(reps, || {
        dagr::compute((&lines, &nwords, &top)).expect("compute");
    });
    let alone = median(reps, || {
        lines.compute().expect("count");
        nwords.compute().expect("words");
        top.compute().expect("topk");
    });
    println!(
        "text, lines, words and top 10 of read_text ({TEXT_FILES} files x {TEXT_MB_EACH} MB): together {:.1} ms, one by one {:.1} ms",
        together.as_secs_f64() * 1e3,
        alone.as_secs_f64() * 1e3
    );
    Ok(())
}
