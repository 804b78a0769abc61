//! The Dask tutorial notebook, in dagr: each section is one cell of the notebook.
//!
//! ```sh
//! cargo run --release --example tutorial
//! cargo run --release --example tutorial --features hdf5   # with libhdf5-dev installed
//! ```
//!
//! Everything it reads is generated first, small by default (`--full` for the notebook's
//! sizes); pictures and data go to the current directory and `data/`.

use dagr::diagnostics::Profiler;
#[path = "common/corpus.rs"]
mod corpus;

use dagr::array::{self as da, s};
use dagr::bag as db;
use dagr::dataframe as dd;
use dagr::prelude::*;
use dagr::VisualizeOptions;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// Delayed: the notebook's first cell. The functions sleep a little, as the notebook's do,
// so the threaded scheduler's parallelism is visible.
// ---------------------------------------------------------------------------------------

const NAP: Duration = Duration::from_millis(50);

/// Adds one (slowly).
#[delayed]
fn inc(x: i64) -> i64 {
    std::thread::sleep(NAP);
    x + 1
}

/// Adds two (slowly): the notebook's `double`.
#[delayed]
fn double(x: i64) -> i64 {
    std::thread::sleep(NAP);
    x + 2
}

/// Adds two numbers (slowly).
#[delayed]
fn add(x: i64, y: i64) -> i64 {
    std::thread::sleep(NAP);
    x + y
}

/// Sums a list: the notebook's `delayed(sum)`.
#[delayed]
fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

fn delayed_section() -> Result<(), dagr::Error> {
    println!("== Delayed ==");
    let data = [1, 2, 3, 4, 5];
    let start = Instant::now();
    let eager: i64 = data
        .iter()
        .map(|&x| add::eager(inc::eager(x), double::eager(x)))
        .sum();
    println!("eager loop:            {eager}  in {:>6.0} ms", ms(start));

    // output = [add(inc(x), double(x)) for x in data]; total = delayed(sum)(output)
    let output: Vec<Delayed<i64>> = data.iter().map(|&x| add(inc(x), double(x))).collect();
    let t = total(output);
    println!("built {} tasks: {:?}", t.num_tasks(), t);

    // The longest step, so it shows a progress bar (on stderr, when it is a terminal):
    // Dask's `with ProgressBar(): total.compute(scheduler="synchronous")`.
    let start = Instant::now();
    let v = t.compute_with(Scheduler::sync().progress())?;
    println!("compute (sync):        {v}  in {:>6.0} ms", ms(start));
    let start = Instant::now();
    let v = t.compute()?;
    println!(
        "compute (threads, {}): {v}  in {:>6.0} ms",
        cores(),
        ms(start)
    );
    assert_eq!(v, 45);

    // Several results at once share their common work: inc(1) runs once here.
    let a = inc(1);
    let (b, c) = dagr::compute((&add(&a, 10), &double(&a)))?;
    println!("dagr::compute((add(a, 10), double(a))) = ({b}, {c})");

    t.visualize("total.dot")?;
    t.visualize("total.svg")?;
    println!("graph written to total.dot and total.svg");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// graph!: the same inc/double/add wiring, declared once as a pipeline. The compiler checks
// it: a misspelt name, a cycle, a node nothing uses or a type mismatch is a compile error
// pointing into the block. The pipeline is then computed with new inputs, each run on the
// same runtime as the Delayed cell (inc and double in parallel).
// ---------------------------------------------------------------------------------------

fn graph_section() -> Result<(), dagr::Error> {
    println!("== graph! ==");
    let pipeline = graph! {
        input x: i64;
        c = add(a, b);      // in any order: the macro sorts the nodes
        a = inc(x);
        b = double(x);
        output c;
    };
    println!("{pipeline:?}");

    let start = Instant::now();
    let mut outputs = Vec::new();
    for x in 1..=5 {
        outputs.push(pipeline.compute(x)?);
    }
    let sum: i64 = outputs.iter().sum();
    println!(
        "pipeline over 1..=5:   {outputs:?}, sum {sum}  in {:>6.0} ms",
        ms(start)
    );
    assert_eq!(sum, 45);

    let start = Instant::now();
    let one = pipeline.compute_with(Scheduler::sync(), 1)?;
    println!("one run (sync):        {one}  in {:>6.0} ms", ms(start));
    println!("its structure:\n{}", pipeline.to_dot());
    Ok(())
}

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

// ---------------------------------------------------------------------------------------
// Bags: semi-structured data spread over many files.
// ---------------------------------------------------------------------------------------

fn bag_section(full: bool) -> Result<(), dagr::Error> {
    println!("\n== Bags ==");
    // b = db.from_sequence(np.random.randint(0, 5, 10)); b.frequencies().compute()
    let mut rng = StdRng::seed_from_u64(42);
    let ints: Vec<i64> = (0..10).map(|_| rng.random_range(0..5)).collect();
    let b = db::from_sequence(ints.clone(), 2)?;
    println!(
        "from_sequence({ints:?}).frequencies() = {:?}",
        b.frequencies().compute()?
    );

    // the notebook reads a Wikipedia dump; we generate a corpus of the same shape
    let (files, each) = if full { (20, 10 << 20) } else { (8, 512 << 10) };
    let start = Instant::now();
    let bytes = corpus::generate(Path::new("data/wiki/AA"), files, each)?;
    println!(
        "corpus: {files} files, {:.1} MB in data/wiki/AA ({:.0} ms)",
        bytes as f64 / 1e6,
        ms(start)
    );

    let text = db::read_text("data/wiki/AA/*")?;
    let words = text.str().split().flatten();
    for (name, sched) in [
        ("sync", Scheduler::sync()),
        ("threads", Scheduler::default()),
    ] {
        let start = Instant::now();
        let top = words
            .frequencies()
            .topk(10, |(_, n)| *n)
            .compute_with(sched)?;
        let secs = start.elapsed().as_secs_f64();
        println!(
            "top 10 words ({name:>7}): {:>5.0} ms, {:>4.0} MB/s: {:?}",
            secs * 1e3,
            bytes as f64 / 1e6 / secs,
            &top[..3]
        );
    }
    // text.str.translate({ord(c): None for c in string.punctuation}).str.lower()
    let clean = text.str().strip_punctuation().str().lower();
    let start = Instant::now();
    let top5 = clean
        .str()
        .split()
        .flatten()
        .frequencies()
        .topk(5, |(_, n)| *n)
        .compute()?;
    println!(
        "top 5 after strip_punctuation + lower ({:.0} ms):",
        ms(start)
    );
    for (word, n) in &top5 {
        println!("  {word:<8} {n}");
    }

    // freqs.to_dataframe(columns=["word", "n"]).sort_values("word", ascending=False).head(5)
    let freqs = clean.str().split().flatten().frequencies();
    let df = freqs.to_dataframe(&["word", "n"])?;
    println!("frequencies as a dataframe, sorted by word descending, head(5):");
    print!("{}", df.sort_values("word", false).head(5)?);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// DataFrames: many CSV files as one table.
// ---------------------------------------------------------------------------------------

fn dataframe_section() -> Result<(), dagr::Error> {
    println!("\n== DataFrames ==");
    // five files x000.csv … x004.csv of 1000 x 5 random floats, no header
    std::fs::create_dir_all("data").map_err(|source| dagr::Error::Io {
        path: "data".into(),
        source,
    })?;
    let mut rng = StdRng::seed_from_u64(7);
    for f in 0..5 {
        let mut text = String::new();
        for _ in 0..1000 {
            let row: Vec<String> = (0..5).map(|_| rng.random::<f64>().to_string()).collect();
            text.push_str(&row.join(","));
            text.push('\n');
        }
        let path = format!("data/x{f:03}.csv");
        std::fs::write(&path, text).map_err(|source| dagr::Error::Io {
            path: path.into(),
            source,
        })?;
    }
    // df = dd.read_csv("data/x*.csv", header=None); df.describe().compute()
    let df = dd::read_csv("data/x*.csv", dd::CsvOptions::default().header(false))?;
    println!(
        "{} partitions, columns {:?}",
        df.npartitions(),
        df.columns()
    );
    let desc = df.describe().compute()?;
    print!("{desc}");
    println!("mean of column \"0\": {:.6}", desc.get("mean", "0")?);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Arrays: a stack of 1000 x 1000 slabs in a raw binary file, larger than it needs to be
// in memory at once, and random arrays.
// ---------------------------------------------------------------------------------------

fn array_section(full: bool) -> Result<(), dagr::Error> {
    println!("\n== Arrays ==");
    let n = if full { 100 } else { 10 };
    std::fs::create_dir_all("data").map_err(|source| dagr::Error::Io {
        path: "data".into(),
        source,
    })?;
    // the notebook's prep writes random.dat with np.memmap; we store a random array
    let start = Instant::now();
    da::random::random(&[n, 1000, 1000], &[1, 1000, 1000], 42)?.to_memmap("data/random.dat")?;
    println!(
        "wrote data/random.dat: {n} x 1000 x 1000 f64, {:.0} MB ({:.0} ms)",
        n as f64 * 8.0,
        ms(start)
    );

    // fp = np.memmap('random.dat', shape=(n, 1000, 1000))
    // xs = da.concatenate([da.from_array(fp[i], chunks=(200, 500)) for i in range(n)])
    let fp = da::from_memmap::<f64>("data/random.dat", &[n, 1000, 1000], &[1, 200, 500])?;
    let slabs = (0..n as isize)
        .map(|i| fp.slice(s![i, .., ..]))
        .collect::<Result<Vec<_>, _>>()?;
    let xs = da::concatenate(&slabs, 0)?;
    println!("xs = {xs:?}");
    let start = Instant::now();
    let m = xs.mean().compute()?;
    println!("xs.mean() = {m:.6}  in {:.0} ms", ms(start));

    hdf5_cell(&xs)?;

    // x = da.random.normal(10, 0.1, size=(20000, 20000), chunks=(1000, 1000))
    let side = if full { 20000 } else { 4000 };
    let x = da::random::normal(10.0, 0.1, &[side, side], &[1000, 1000], 0)?;
    let y = x.mean_axis(0)?.slice(s![..;100])?;
    let start = Instant::now();
    let y = y.compute()?;
    println!(
        "x.mean(axis=0)[::100] over {side} x {side}: {} values, first {:.4} ({:.0} ms)",
        y.len(),
        y[0],
        ms(start)
    );
    // dask.compute((x + 1).sum(), (x + 1).mean()): x + 1 runs once for both
    let start = Instant::now();
    let (total, mean) = dagr::compute((&(&x + 1.0).sum(), &(&x + 1.0).mean()))?;
    println!(
        "(x + 1).sum() = {total:.4e}, (x + 1).mean() = {mean:.4}  in {:.0} ms (one pass)",
        ms(start)
    );
    Ok(())
}

/// xs.to_hdf5('data/xs.hdf5', '/foo/xs'); da.from_array(h5py.File(...)['/foo/xs']).shape
#[cfg(feature = "hdf5")]
fn hdf5_cell(xs: &da::Array<f64>) -> Result<(), dagr::Error> {
    let start = Instant::now();
    xs.to_hdf5("data/xs.hdf5", "/foo/xs")?;
    let back = da::from_hdf5::<f64>("data/xs.hdf5", "/foo/xs", &[200, 500])?;
    println!(
        "wrote data/xs.hdf5 at /foo/xs and read it back: shape {:?} ({:.0} ms)",
        back.shape(),
        ms(start)
    );
    Ok(())
}

/// HDF5 needs the system library, so it is a cargo feature (as Dask needs h5py).
#[cfg(not(feature = "hdf5"))]
fn hdf5_cell(_: &da::Array<f64>) -> Result<(), dagr::Error> {
    println!(
        "HDF5 cell skipped: install libhdf5-dev, then \
         `cargo run --release --example tutorial --features hdf5`"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Diagnostics: where did the time go? Dask's `with Profiler() as prof: y.compute()`, then
// its trace in Perfetto and the graph coloured by what each task took.
// ---------------------------------------------------------------------------------------

fn diagnostics_section() -> Result<(), dagr::Error> {
    println!("\n== Diagnostics ==");
    let x = da::random::random(&[4000, 4000], &[1000, 1000], 1)?;
    let y = (&x + 1.0).mean_axis(0)?;
    let prof = Profiler::new();
    let start = Instant::now();
    let m = y.compute_with(Scheduler::default().progress().profile(&prof))?;
    println!(
        "(x + 1).mean(axis=0) over 4000 x 4000: first {:.4} ({:.0} ms), profiled:",
        m[0],
        ms(start)
    );
    print!("{}", prof.summary());
    prof.write_trace("trace.json")?;
    println!("trace written to trace.json: open it in https://ui.perfetto.dev");
    y.to_delayed()
        .visualize_with("mean-timed.svg", &VisualizeOptions::new().timings(&prof))?;
    println!("its graph, coloured by measured time, written to mean-timed.svg");
    Ok(())
}

fn main() -> Result<(), dagr::Error> {
    let full = std::env::args().any(|a| a == "--full");
    delayed_section()?;
    graph_section()?;
    bag_section(full)?;
    dataframe_section()?;
    array_section(full)?;
    diagnostics_section()?;
    Ok(())
}
