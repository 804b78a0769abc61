//! Per-task cost of `#[delayed]` graphs across the ranks of an MPI job, on the runtime
//! benchmark's four shapes, next to the same graphs on one process's threads measured in
//! the same run (by rank 0, while the other ranks wait).
//!
//! ```sh
//! cargo build --release --features mpi --example bench_distributed
//! mpiexec -n 2 target/release/examples/bench_distributed -- --threads 1
//! ```
//!
//! `--n N` sets the graph size (tasks of the chain and of the independent shape; the tree
//! has the power of two at or below it, the wavefront its square root squared).

#[path = "common/shapes.rs"]
mod shapes;

use dagr::distributed::Cluster;
use dagr::prelude::*;
use std::time::{Duration, Instant};

fn independent(n: usize) -> Delayed<i64> {
    shapes::independent(n)
}

fn tree(n: usize) -> Delayed<i64> {
    shapes::tree(usize::BITS - 1 - n.max(2).leading_zeros())
}

fn chain(n: usize) -> Delayed<i64> {
    shapes::chain(n)
}

fn wavefront(n: usize) -> Delayed<i64> {
    shapes::wavefront((n as f64).sqrt() as usize)
}

fn arg(name: &str) -> Option<usize> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

/// Median build + compute time of `shape` on `scheduler` over `reps` runs, and its tasks.
fn time(shape: fn(usize) -> Delayed<i64>, n: usize, s: &Scheduler, reps: usize) -> (f64, usize) {
    let mut times: Vec<Duration> = Vec::new();
    let mut tasks = 0;
    for _ in 0..reps {
        let start = Instant::now();
        let g = shape(n);
        tasks = g.num_tasks();
        std::hint::black_box(g.compute_with(s.clone()).expect("compute"));
        times.push(start.elapsed());
    }
    times.sort();
    (times[reps / 2].as_secs_f64(), tasks)
}

fn main() -> Result<(), dagr::Error> {
    let cluster = Cluster::init()?;
    let threads = arg("--threads").unwrap_or(1);
    let n = arg("--n").unwrap_or(200_000);
    let reps = arg("--reps").unwrap_or(5);
    let on_cluster = cluster.scheduler_with_threads(threads);
    let local = Scheduler::threads(threads * cluster.size());
    if cluster.rank() == 0 {
        println!(
            "{} rank(s) x {threads} thread(s) vs one process x {} threads, median of {reps}",
            cluster.size(),
            threads * cluster.size()
        );
        println!("shape         tasks   cluster ns/task   local ns/task   ratio");
    }
    type Shape = fn(usize) -> Delayed<i64>;
    let shapes: [(&str, Shape); 4] = [
        ("independent", independent),
        ("tree", tree),
        ("chain", chain),
        ("wavefront", wavefront),
    ];
    for (name, shape) in shapes {
        let before = cluster.stats();
        let (c, tasks) = time(shape, n, &on_cluster, reps);
        let after = cluster.stats();
        cluster.barrier();
        if cluster.rank() == 0 {
            let (l, _) = time(shape, n, &local, reps);
            println!(
                "{name:<12} {tasks:>7} {:>17.0} {:>15.0} {:>7.2}   (rank 0 sent {} messages, {} B)",
                c * 1e9 / tasks as f64,
                l * 1e9 / tasks as f64,
                c / l,
                after.messages_sent - before.messages_sent,
                after.bytes_sent - before.bytes_sent,
            );
        }
        cluster.barrier();
    }
    Ok(())
}
