//! The Dask tutorial notebook, in dagr: each section is one cell of the notebook.
//!
//! ```sh
//! cargo run --release --example tutorial
//! ```
//!
//! Everything it reads is generated first, small by default; pictures and data go to the
//! current directory and `data/`.

use dagr::diagnostics::Profiler;
use dagr::prelude::*;
use dagr::VisualizeOptions;
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
// Diagnostics: where did the time go? Dask's `with Profiler() as prof: total.compute()`.
// ---------------------------------------------------------------------------------------

fn diagnostics_section() -> Result<(), dagr::Error> {
    println!("\n== Diagnostics ==");
    let output: Vec<Delayed<i64>> = (1..=8).map(|x| add(inc(x), double(x))).collect();
    let t = total(output);
    let prof = Profiler::new();
    let v = t.compute_with(Scheduler::default().progress().profile(&prof))?;
    println!("total = {v}");
    print!("{}", prof.summary());
    prof.write_trace("trace.json")?;
    println!("trace written to trace.json: open it in https://ui.perfetto.dev");
    t.visualize_with("total-timed.svg", &VisualizeOptions::new().timings(&prof))?;
    println!("graph coloured by measured time written to total-timed.svg");
    Ok(())
}

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn main() -> Result<(), dagr::Error> {
    delayed_section()?;
    diagnostics_section()?;
    Ok(())
}
