//! The Dask tutorial notebook, in dagr: each section is one cell of the notebook.
//!
//! ```sh
//! cargo run --release --example tutorial
//! ```
//!
//! Everything it reads is generated first, small by default; pictures and data go to the
//! current directory and `data/`.

use dagr::prelude::*;
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

    let start = Instant::now();
    let v = t.compute_with(Scheduler::sync())?;
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

fn main() -> Result<(), dagr::Error> {
    delayed_section()?;
    graph_section()?;
    Ok(())
}
