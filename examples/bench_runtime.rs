//! Per-task overhead of the runtime and of `#[delayed]` graphs, next to rayon and a
//! sequential loop measured in the same run.
//!
//! ```sh
//! cargo run --release --example bench_runtime            # 2 threads, median of 5
//! cargo run --release --example bench_runtime -- --threads 4 --reps 9
//! cargo run --release --example bench_runtime -- --diagnostics   # cost of progress / profile
//! cargo run --release --example bench_runtime -- --diagnostics --sync   # the same, one thread
//! ```
//!
//! Four graph shapes with trivial task bodies (an integer add):
//! (a) 1 000 000 independent tasks and one sum, (b) a binary tree over 2^20 leaves,
//! (c) a chain of 1 000 000 tasks, (d) a 1000 × 1000 wavefront (each cell needs its left and
//! upper neighbours). "build+run" includes constructing the graph; "run" is the run alone.
//!
//! `--diagnostics` instead times runs of the 1M-task shapes with no observer, with an
//! observer of task events that does nothing (two virtual calls per task), with a progress
//! bar (forced and drawn from the start, even when stderr is redirected) and with a
//! profiler, interleaved in the same process: the median time of each, and its overhead as
//! the median over reps of its time over the plain run of the same rep, in wall time and
//! (on Linux) in CPU time, which other processes on the machine disturb less.

#[path = "common/shapes.rs"]
mod shapes;

use dagr::diagnostics::{Profiler, ProgressBar};
use dagr::prelude::*;
use dagr::runtime::{Key, NodeId, Task, TaskGraph};
use shapes::{inc, leaf};
use std::hint::black_box;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const N: usize = 1_000_000;
const TREE_DEPTH: u32 = 20;
const SIDE: usize = 1000;

fn int_task(v: i64) -> Task {
    Task::once(move |_| Ok(Arc::new(v)))
}

fn add_task() -> Task {
    Task::once(|inp| {
        Ok(Arc::new(
            inp.get::<i64>(0)?.wrapping_add(*inp.get::<i64>(1)?),
        ))
    })
}

// ----- raw runtime graphs ---------------------------------------------------------------

fn raw_independent() -> (TaskGraph, NodeId) {
    let mut g = TaskGraph::with_capacity(N + 1, N);
    let leaves: Vec<NodeId> = (0..N)
        .map(|i| {
            g.add(Key::index("leaf", &[i as u64]), &[], int_task(i as i64))
                .unwrap()
        })
        .collect();
    let sum = Task::once(|inp| {
        let mut s = 0i64;
        for k in 0..inp.len() {
            s += inp.get::<i64>(k)?;
        }
        Ok(Arc::new(s))
    });
    let out = g.add(Key::token("sum", 0), &leaves, sum).unwrap();
    (g, out)
}

fn raw_tree() -> (TaskGraph, NodeId) {
    let leaves = 1usize << TREE_DEPTH;
    let mut g = TaskGraph::with_capacity(2 * leaves, 2 * leaves);
    let mut level: Vec<NodeId> = (0..leaves)
        .map(|i| {
            g.add(Key::index("leaf", &[i as u64]), &[], int_task(1))
                .unwrap()
        })
        .collect();
    let mut d = 0u64;
    while level.len() > 1 {
        d += 1;
        level = level
            .chunks(2)
            .enumerate()
            .map(|(j, p)| {
                g.add(Key::index("add", &[d, j as u64]), p, add_task())
                    .unwrap()
            })
            .collect();
    }
    (g, level[0])
}

fn raw_chain() -> (TaskGraph, NodeId) {
    let mut g = TaskGraph::with_capacity(N, N);
    let mut last = g.add(Key::index("inc", &[0]), &[], int_task(0)).unwrap();
    for i in 1..N {
        let t = Task::once(|inp| Ok(Arc::new(inp.get::<i64>(0)? + 1)));
        last = g.add(Key::index("inc", &[i as u64]), &[last], t).unwrap();
    }
    (g, last)
}

fn raw_wavefront() -> (TaskGraph, NodeId) {
    let mut g = TaskGraph::with_capacity(SIDE * SIDE, 2 * SIDE * SIDE);
    let mut ids: Vec<NodeId> = Vec::with_capacity(SIDE * SIDE);
    for i in 0..SIDE {
        for j in 0..SIDE {
            let key = Key::index("cell", &[i as u64, j as u64]);
            let id = match (i, j) {
                (0, 0) => g.add(key, &[], int_task(1)),
                (0, _) => g.add(
                    key,
                    &[ids[j - 1]],
                    Task::once(|inp| Ok(Arc::new(*inp.get::<i64>(0)?))),
                ),
                (_, 0) => g.add(
                    key,
                    &[ids[(i - 1) * SIDE]],
                    Task::once(|inp| Ok(Arc::new(*inp.get::<i64>(0)?))),
                ),
                _ => g.add(
                    key,
                    &[ids[(i - 1) * SIDE + j], ids[i * SIDE + j - 1]],
                    add_task(),
                ),
            };
            ids.push(id.unwrap());
        }
    }
    (g, ids[SIDE * SIDE - 1])
}

// ----- the same shapes as Delayed graphs ------------------------------------------------

fn delayed_independent() -> Delayed<i64> {
    shapes::independent(N)
}

fn delayed_tree() -> Delayed<i64> {
    shapes::tree(TREE_DEPTH)
}

fn delayed_chain() -> Delayed<i64> {
    shapes::chain(N)
}

fn delayed_wavefront() -> Delayed<i64> {
    shapes::wavefront(SIDE)
}

// ----- baselines -------------------------------------------------------------------------

fn seq_tree(depth: u32) -> i64 {
    if depth == 0 {
        black_box(1)
    } else {
        seq_tree(depth - 1) + seq_tree(depth - 1)
    }
}

fn rayon_tree(depth: u32) -> i64 {
    if depth == 0 {
        black_box(1)
    } else {
        let (a, b) = rayon::join(|| rayon_tree(depth - 1), || rayon_tree(depth - 1));
        a + b
    }
}

fn seq_wavefront() -> i64 {
    let mut grid = vec![0i64; SIDE * SIDE];
    for i in 0..SIDE {
        for j in 0..SIDE {
            grid[i * SIDE + j] = match (i, j) {
                (0, 0) => black_box(1),
                (0, _) => grid[j - 1],
                (_, 0) => grid[(i - 1) * SIDE],
                _ => grid[(i - 1) * SIDE + j].wrapping_add(grid[i * SIDE + j - 1]),
            };
        }
    }
    grid[SIDE * SIDE - 1]
}

/// The wavefront in rayon: one parallel loop per anti-diagonal.
fn rayon_wavefront() -> i64 {
    use rayon::prelude::*;
    let grid: Vec<AtomicI64> = (0..SIDE * SIDE).map(|_| AtomicI64::new(0)).collect();
    for diag in 0..2 * SIDE - 1 {
        let lo = diag.saturating_sub(SIDE - 1);
        let hi = diag.min(SIDE - 1);
        (lo..=hi).into_par_iter().for_each(|i| {
            let j = diag - i;
            let get = |i: usize, j: usize| grid[i * SIDE + j].load(Ordering::Relaxed);
            let v = match (i, j) {
                (0, 0) => black_box(1),
                (0, _) => get(0, j - 1),
                (_, 0) => get(i - 1, 0),
                _ => get(i - 1, j).wrapping_add(get(i, j - 1)),
            };
            grid[i * SIDE + j].store(v, Ordering::Relaxed);
        });
    }
    grid[SIDE * SIDE - 1].load(Ordering::Relaxed)
}

// ----- measurement -----------------------------------------------------------------------

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn time<T>(reps: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..reps)
            .map(|_| {
                let t = Instant::now();
                black_box(f());
                t.elapsed()
            })
            .collect(),
    )
}

/// Times `build` + run and run alone; returns (build+run, run).
fn time_split<G>(
    reps: usize,
    mut build: impl FnMut() -> G,
    mut run: impl FnMut(G) -> i64,
    want: i64,
) -> (Duration, Duration) {
    let mut total = Vec::new();
    let mut runs = Vec::new();
    for _ in 0..reps {
        let t0 = Instant::now();
        let g = build();
        let t1 = Instant::now();
        let v = run(g);
        let t2 = Instant::now();
        assert_eq!(v, want);
        total.push(t2 - t0);
        runs.push(t2 - t1);
    }
    (median(total), median(runs))
}

fn ns(d: Duration, tasks: usize) -> f64 {
    d.as_nanos() as f64 / tasks as f64
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_default();
    let want_shape = |s: &str| only.is_empty() || only.contains(s);
    let threads = arg("--threads", 2);
    let reps = arg("--reps", 5);
    let sched = Scheduler::threads(threads);
    if args.iter().any(|a| a == "--diagnostics") {
        // `--sync`: on the calling thread alone, where the machine's noise is smallest.
        let (sched, threads) = if args.iter().any(|a| a == "--sync") {
            (Scheduler::sync(), 1)
        } else {
            (sched, threads)
        };
        diagnostics(&sched, threads, reps, &want_shape);
        return;
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .expect("rayon pool");
    println!("dagr runtime benchmark: {threads} threads, median of {reps}, ns per task\n");
    println!(
        "{:<28} {:>10} {:>10} {:>12} {:>12} {:>10} {:>10}",
        "shape", "raw b+r", "raw run", "delayed b+r", "delayed run", "rayon", "sequential"
    );

    let raw = |g: (TaskGraph, NodeId)| -> i64 {
        let v = sched.run(g.0, &[g.1]).expect("run");
        *v[0].downcast_ref::<i64>().expect("i64")
    };
    let dl = |d: Delayed<i64>| -> i64 { d.compute_with(sched.clone()).expect("compute") };

    if want_shape("a") {
        let want = (N as i64 - 1) * N as i64 / 2;
        let tasks = N + 1;
        let (rb, rr) = time_split(reps, raw_independent, raw, want);
        let (db, dr) = time_split(reps, delayed_independent, dl, want);
        let ry = time(reps, || {
            let cells: Vec<AtomicI64> = (0..N).map(|_| AtomicI64::new(0)).collect();
            rayon::scope(|s| {
                for (i, c) in cells.iter().enumerate() {
                    s.spawn(move |_| c.store(black_box(i as i64), Ordering::Relaxed));
                }
            });
            cells.iter().map(|c| c.load(Ordering::Relaxed)).sum::<i64>()
        });
        let sq = time(reps, || (0..N as i64).map(black_box).sum::<i64>());
        report("(a) 1M independent + sum", tasks, [rb, rr, db, dr, ry, sq]);
    }

    if want_shape("b") {
        let tasks = (1usize << (TREE_DEPTH + 1)) - 1;
        let want = 1i64 << TREE_DEPTH;
        let (rb, rr) = time_split(reps, raw_tree, raw, want);
        let (db, dr) = time_split(reps, delayed_tree, dl, want);
        let ry = time(reps, || rayon_tree(TREE_DEPTH));
        let sq = time(reps, || seq_tree(TREE_DEPTH));
        report(
            "(b) binary tree, 2^20 leaves",
            tasks,
            [rb, rr, db, dr, ry, sq],
        );
    }

    if want_shape("c") {
        let want = N as i64 - 1;
        let (rb, rr) = time_split(reps, raw_chain, raw, want);
        let (db, dr) = time_split(reps, delayed_chain, dl, want);
        let ry = time(reps, || {
            // a chain in rayon: each task spawns the next
            fn step(s: &rayon::Scope<'_>, i: usize, acc: &'static AtomicI64) {
                acc.fetch_add(black_box(1), Ordering::Relaxed);
                if i + 1 < N {
                    s.spawn(move |s| step(s, i + 1, acc));
                }
            }
            let acc: &'static AtomicI64 = Box::leak(Box::new(AtomicI64::new(0)));
            rayon::scope(|s| step(s, 0, acc));
            acc.load(Ordering::Relaxed)
        });
        let sq = time(reps, || (1..N).fold(0i64, |a, _| black_box(a + 1)));
        report("(c) chain of 1M", N, [rb, rr, db, dr, ry, sq]);
    }

    if want_shape("d") {
        let want = seq_wavefront();
        let tasks = SIDE * SIDE;
        let (rb, rr) = time_split(reps, raw_wavefront, raw, want);
        let (db, dr) = time_split(reps, delayed_wavefront, dl, want);
        let ry = time(reps, rayon_wavefront);
        let sq = time(reps, seq_wavefront);
        report("(d) wavefront 1000x1000", tasks, [rb, rr, db, dr, ry, sq]);
    }

    // An idle pool parks its workers: CPU time used by the whole process while idle.
    let cpu = || {
        std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| {
                let f: Vec<u64> = s
                    .rsplit(')')
                    .next()?
                    .split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect();
                Some(f.get(11)? + f.get(12)?) // utime + stime, in clock ticks (1/100 s)
            })
    };
    std::thread::sleep(Duration::from_millis(200));
    if let Some(before) = cpu() {
        std::thread::sleep(Duration::from_secs(2));
        if let Some(after) = cpu() {
            println!(
                "\nidle pool: {} ms of CPU in 2 s of idleness",
                (after - before) * 10
            );
        }
    }

    // Graph building alone: linear in size.
    if !only.is_empty() {
        return;
    }
    for n in [250_000usize, 1_000_000] {
        let t = time(reps, || {
            let mut last = leaf(0);
            for _ in 1..n {
                last = inc(last);
            }
            last
        });
        println!(
            "\nbuilding a {n}-node Delayed chain: {:.1} ms ({:.0} ns/node)",
            t.as_secs_f64() * 1e3,
            ns(t, n)
        );
    }
}

fn report(name: &str, tasks: usize, t: [Duration; 6]) {
    println!(
        "{:<28} {:>10.1} {:>10.1} {:>12.1} {:>12.1} {:>10.1} {:>10.1}",
        name,
        ns(t[0], tasks),
        ns(t[1], tasks),
        ns(t[2], tasks),
        ns(t[3], tasks),
        ns(t[4], tasks),
        ns(t[5], tasks)
    );
}

/// CPU time used so far by all threads of this process (Linux; zero elsewhere): less
/// disturbed than wall time when other processes share the cores.
fn cpu_time() -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let ns: u64 = tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(ns)
}

/// An observer that does nothing: what the observer mechanism alone costs.
struct Null;

impl dagr::runtime::Observer for Null {
    fn on_event(&self, e: &dagr::runtime::Event<'_>) {
        black_box(e);
    }
}

/// The cost of a progress bar and of a profiler on runs of a million tasks, against the
/// same runs with no observer, interleaved so that drift in the machine hits all of them.
fn diagnostics(sched: &Scheduler, threads: usize, reps: usize, want_shape: &dyn Fn(&str) -> bool) {
    type Build = fn() -> (TaskGraph, NodeId);
    let shapes: [(&str, &str, Build, usize); 3] = [
        ("a", "(a) 1M independent + sum", raw_independent, N + 1),
        (
            "b",
            "(b) binary tree, 2^20 leaves",
            raw_tree,
            (1 << (TREE_DEPTH + 1)) - 1,
        ),
        ("c", "(c) chain of 1M", raw_chain, N),
    ];
    println!(
        "dagr diagnostics overhead: raw runtime graphs, {sched:?}, {threads} threads, {reps} reps: median ns \
         per task, and the median over reps of the time over the same rep's plain run\n"
    );
    println!(
        "{:<30} {:>7} {:>8} {:>7} {:>9} {:>7} {:>8} {:>7}",
        "shape", "none", "observer", "", "progress", "", "profile", ""
    );
    let mut last_profile = None;
    for (shape, name, build, tasks) in shapes {
        if !want_shape(shape) {
            continue;
        }
        let mut times: [Vec<Duration>; 4] = Default::default();
        let mut cpu: [Vec<Duration>; 4] = Default::default();
        // Drawn from the start, however short the run: the worst case.
        let bar = ProgressBar::new().force(true).minimum(Duration::ZERO);
        for rep in 0..reps {
            // Each rep runs the four modes back to back, in a rotating order, so that both
            // drift and order effects cancel in the per-rep ratios.
            for k in 0..4 {
                let mode = (rep + k) % 4;
                let (g, out) = build();
                let profiler = Profiler::new();
                let s = match mode {
                    0 => sched.clone(),
                    1 => sched.clone().observe(Arc::new(Null)),
                    2 => sched.clone().progress_with(&bar),
                    _ => sched.clone().profile(&profiler),
                };
                let (start, cpu_start) = (Instant::now(), cpu_time());
                let v = s.run(g, &[out]).expect("run");
                times[mode].push(start.elapsed());
                cpu[mode].push(cpu_time().saturating_sub(cpu_start));
                black_box(v);
                if mode == 3 {
                    last_profile = Some(profiler); // dropped outside the timing
                }
            }
        }
        // Overhead: the median over reps of each mode's time over the same rep's plain run.
        let overhead = |t: &[Vec<Duration>; 4], mode: usize| {
            let mut ratios: Vec<f64> = (0..reps)
                .map(|r| t[mode][r].as_secs_f64() / t[0][r].as_secs_f64().max(1e-12))
                .collect();
            ratios.sort_by(f64::total_cmp);
            (ratios[ratios.len() / 2] - 1.0) * 100.0
        };
        let pct = [
            0.0,
            overhead(&times, 1),
            overhead(&times, 2),
            overhead(&times, 3),
        ];
        let cpu_pct = [0.0, overhead(&cpu, 1), overhead(&cpu, 2), overhead(&cpu, 3)];
        let [none, null, progress, profile] = times.map(median);
        eprintln!();
        println!(
            "{:<30} {:>7.1} {:>8.1} {:>+6.1}% {:>9.1} {:>+6.1}% {:>8.1} {:>+6.1}%",
            name,
            ns(none, tasks),
            ns(null, tasks),
            pct[1],
            ns(progress, tasks),
            pct[2],
            ns(profile, tasks),
            pct[3]
        );
        if cpu_pct.iter().any(|&p| p != 0.0) {
            println!(
                "{:<30} {:>7} {:>8} {:>+6.1}% {:>9} {:>+6.1}% {:>8} {:>+6.1}%",
                "    same, in CPU time", "", "", cpu_pct[1], "", cpu_pct[2], "", cpu_pct[3]
            );
        }
    }
    // The work per task of an observer of task events, alone: a Started and a Finished event
    // in a loop, on one thread (no scheduling noise). The progress bar takes no task events:
    // the runtime keeps its counters inline, which only the runs above can show.
    let mut g = TaskGraph::new();
    let node = g
        .add(Key::token("task", 1), &[], int_task(0))
        .expect("node");
    let key = Key::token("task", 1);
    let run = dagr::runtime::RunId::next();
    let per_task = |s: Scheduler| -> f64 {
        let obs = s.observer().expect("an observer").clone();
        let n = 2_000_000u32;
        (0..reps.max(3))
            .map(|_| {
                let start = Instant::now();
                for _ in 0..n {
                    for kind in [
                        dagr::runtime::EventKind::Started,
                        dagr::runtime::EventKind::Finished,
                    ] {
                        obs.on_event(black_box(&dagr::runtime::Event {
                            kind,
                            run,
                            node,
                            key: &key,
                            worker: 0,
                        }));
                    }
                }
                start.elapsed().as_nanos() as f64 / f64::from(n)
            })
            .fold(f64::INFINITY, f64::min)
    };
    println!(
        "\ntask events alone, per task: an observer doing nothing {:.1} ns, the profiler {:.1} ns",
        per_task(Scheduler::sync().observe(Arc::new(Null))),
        per_task(Scheduler::sync().profile(&Profiler::new())),
    );
    if let Some(prof) = last_profile {
        let path =
            std::env::temp_dir().join(format!("dagr-bench-trace-{}.json", std::process::id()));
        let start = Instant::now();
        let summary = prof.summary();
        let summarised = start.elapsed();
        let start = Instant::now();
        prof.write_trace(&path).expect("trace");
        let written = start.elapsed();
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        let _ = std::fs::remove_file(&path);
        println!(
            "\nprofile of the last run ({} tasks): summary in {:.0} ms, trace ({:.0} MB) written in {:.0} ms",
            summary.tasks,
            summarised.as_secs_f64() * 1e3,
            size as f64 / 1e6,
            written.as_secs_f64() * 1e3
        );
    }
}
