//! Per-task overhead of the runtime and of `#[delayed]` graphs, next to a minimal
//! hand-written executor (each task a boxed `FnOnce`, atomic dependency counts,
//! crossbeam-deque workers), rayon and a sequential loop measured in the same run, with
//! the ratios of the runtime's and `Delayed`'s build + run to the hand executor's. Then
//! `graph!` pipelines (small versions of the shapes: a pipeline is fixed at compile time)
//! against the same `Delayed` graphs, and the resident memory per task of a 1M-task
//! `Delayed` graph of each shape, built and at its peak while computing (each in a process
//! of its own: `--memory-of a|b|c|d`).
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
//! the median over reps of its time over the plain run of the same rep, with a 95 %
//! confidence interval of that median, in wall time and (on Linux) in CPU time, which other
//! processes on the machine disturb less. A second plain run in each rep gives the noise
//! floor: the spread of its time over the first's, the variation a single run shows.

#[path = "common/shapes.rs"]
mod shapes;

use dagr::diagnostics::{Profiler, ProgressBar};
use dagr::prelude::*;
use dagr::runtime::{Key, NodeId, Task, TaskGraph, Value};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use shapes::{inc, leaf};
use std::hint::black_box;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const N: usize = 1_000_000;
const TREE_DEPTH: u32 = 20;
const SIDE: usize = 1000;

fn int_task(v: i64) -> Task {
    Task::once(move |_| Ok(Value::new(v)))
}

fn add_task() -> Task {
    Task::once(|inp| {
        Ok(Value::new(
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
        Ok(Value::new(s))
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
        let t = Task::once(|inp| Ok(Value::new(inp.get::<i64>(0)? + 1)));
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
                    Task::once(|inp| Ok(Value::new(*inp.get::<i64>(0)?))),
                ),
                (_, 0) => g.add(
                    key,
                    &[ids[(i - 1) * SIDE]],
                    Task::once(|inp| Ok(Value::new(*inp.get::<i64>(0)?))),
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

// ----- the hand-written executor: the floor the runtime is measured against --------------

/// The smallest executor of a task graph: each task a boxed `FnOnce` over the results so
/// far, an atomic count of unfinished inputs per task, successor lists, and one
/// crossbeam-deque worker per thread that runs what its decrements make ready (stealing
/// when its own deque is empty). No keys, no culling, no failure handling, no observers.
mod hand {
    use crossbeam_deque::{Steal, Stealer, Worker};
    use std::cell::UnsafeCell;
    use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};

    /// A task: its result from the results of the tasks before it.
    pub type Body = Box<dyn FnOnce(&[AtomicI64]) -> i64 + Send>;

    struct Slot(UnsafeCell<Option<Body>>);

    // SAFETY: a slot is taken by one thread only, the one whose decrement brought the task's
    // count to zero (or that popped it as a root), after every write to it (at build time).
    unsafe impl Sync for Slot {}

    /// A graph under construction; tasks may only depend on earlier tasks.
    #[derive(Default)]
    pub struct Graph {
        bodies: Vec<Body>,
        dep_start: Vec<u32>,
        deps: Vec<u32>,
    }

    impl Graph {
        pub fn with_capacity(n: usize) -> Graph {
            let mut dep_start = Vec::with_capacity(n + 1);
            dep_start.push(0);
            Graph {
                bodies: Vec::with_capacity(n),
                dep_start,
                deps: Vec::with_capacity(n),
            }
        }

        pub fn add(&mut self, deps: &[u32], body: Body) -> u32 {
            self.deps.extend_from_slice(deps);
            self.dep_start.push(self.deps.len() as u32);
            self.bodies.push(body);
            self.bodies.len() as u32 - 1
        }

        /// Runs every task on `threads` threads and returns the result of the last one.
        pub fn run(self, threads: usize) -> i64 {
            let n = self.bodies.len();
            let mut succ_start = vec![0u32; n + 1];
            for &d in &self.deps {
                succ_start[d as usize + 1] += 1;
            }
            for i in 0..n {
                succ_start[i + 1] += succ_start[i];
            }
            let mut fill = succ_start.clone();
            let mut succs = vec![0u32; self.deps.len()];
            let pending: Vec<AtomicU32> = (0..n)
                .map(|i| {
                    let ds = &self.deps[self.dep_start[i] as usize..self.dep_start[i + 1] as usize];
                    for &d in ds {
                        succs[fill[d as usize] as usize] = i as u32;
                        fill[d as usize] += 1;
                    }
                    AtomicU32::new(ds.len() as u32)
                })
                .collect();
            let slots: Vec<Slot> = self
                .bodies
                .into_iter()
                .map(|b| Slot(UnsafeCell::new(Some(b))))
                .collect();
            let values: Vec<AtomicI64> = (0..n).map(|_| AtomicI64::new(0)).collect();
            let done = AtomicBool::new(false);
            let workers: Vec<Worker<u32>> = (0..threads).map(|_| Worker::new_lifo()).collect();
            let stealers: Vec<Stealer<u32>> = workers.iter().map(Worker::stealer).collect();
            // roots in reverse, so that each worker pops them in graph order
            let roots: Vec<u32> = (0..n as u32)
                .filter(|&i| pending[i as usize].load(Ordering::Relaxed) == 0)
                .collect();
            for (k, &r) in roots.iter().enumerate().rev() {
                workers[k % threads].push(r);
            }
            let work = |me: usize, local: Worker<u32>| loop {
                let next = local.pop().or_else(|| {
                    (1..threads).find_map(|k| loop {
                        match stealers[(me + k) % threads].steal() {
                            Steal::Success(i) => return Some(i),
                            Steal::Empty => return None,
                            Steal::Retry => {}
                        }
                    })
                });
                let Some(i) = next else {
                    if done.load(Ordering::Acquire) {
                        return;
                    }
                    std::hint::spin_loop();
                    continue;
                };
                let i = i as usize;
                // SAFETY: task i is ready and this thread alone holds it (see `Slot`).
                let body = unsafe { (*slots[i].0.get()).take() }.expect("a task runs once");
                values[i].store(body(&values), Ordering::Relaxed);
                for &s in &succs[succ_start[i] as usize..succ_start[i + 1] as usize] {
                    if pending[s as usize].fetch_sub(1, Ordering::AcqRel) == 1 {
                        local.push(s);
                    }
                }
                if i == n - 1 {
                    done.store(true, Ordering::Release);
                }
            };
            std::thread::scope(|scope| {
                let mut workers = workers.into_iter().enumerate();
                let (_, first) = workers.next().expect("a thread");
                for (me, w) in workers {
                    let work = &work;
                    scope.spawn(move || work(me, w));
                }
                work(0, first);
            });
            values[n - 1].load(Ordering::Acquire)
        }
    }

    fn get(v: &[AtomicI64], i: u32) -> i64 {
        v[i as usize].load(Ordering::Relaxed)
    }

    pub fn independent(n: usize) -> Graph {
        let mut g = Graph::with_capacity(n + 1);
        let leaves: Vec<u32> = (0..n)
            .map(|i| g.add(&[], Box::new(move |_| std::hint::black_box(i as i64))))
            .collect();
        g.add(
            &leaves,
            Box::new(move |v| (0..n as u32).map(|i| get(v, i)).sum()),
        );
        g
    }

    pub fn tree(depth: u32) -> Graph {
        let mut g = Graph::with_capacity(2 << depth);
        let mut level: Vec<u32> = (0..1u32 << depth)
            .map(|_| g.add(&[], Box::new(|_| std::hint::black_box(1))))
            .collect();
        while level.len() > 1 {
            level = level
                .chunks(2)
                .map(|p| {
                    let (a, b) = (p[0], p[1]);
                    g.add(p, Box::new(move |v| get(v, a).wrapping_add(get(v, b))))
                })
                .collect();
        }
        g
    }

    pub fn chain(n: usize) -> Graph {
        let mut g = Graph::with_capacity(n);
        let mut last = g.add(&[], Box::new(|_| std::hint::black_box(0)));
        for _ in 1..n {
            let p = last;
            last = g.add(&[p], Box::new(move |v| get(v, p) + 1));
        }
        g
    }

    pub fn wavefront(side: usize) -> Graph {
        let mut g = Graph::with_capacity(side * side);
        for i in 0..side {
            for j in 0..side {
                let at = |i: usize, j: usize| (i * side + j) as u32;
                match (i, j) {
                    (0, 0) => g.add(&[], Box::new(|_| std::hint::black_box(1))),
                    (0, _) | (_, 0) => {
                        let p = if i == 0 { at(0, j - 1) } else { at(i - 1, 0) };
                        g.add(&[p], Box::new(move |v| get(v, p)))
                    }
                    _ => {
                        let (up, left) = (at(i - 1, j), at(i, j - 1));
                        g.add(
                            &[up, left],
                            Box::new(move |v| get(v, up).wrapping_add(get(v, left))),
                        )
                    }
                };
            }
        }
        g
    }
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

/// One build + run: (build + run, run).
fn split_once<G>(
    build: impl FnOnce() -> G,
    run: impl FnOnce(G) -> i64,
    want: i64,
) -> (Duration, Duration) {
    let t0 = Instant::now();
    let g = build();
    let t1 = Instant::now();
    let v = run(g);
    let t2 = Instant::now();
    assert_eq!(v, want);
    (t2 - t0, t2 - t1)
}

/// A shape timed through the hand executor, the raw runtime graph and `Delayed`.
struct Three {
    /// Medians of build + run.
    hand: Duration,
    raw: Duration,
    dl: Duration,
    /// Medians of the run alone.
    raw_run: Duration,
    dl_run: Duration,
    /// Medians over reps of raw / hand and Delayed / hand, build + run.
    raw_ratio: f64,
    dl_ratio: f64,
}

/// Times the three ways of running one shape, one of each per rep in a rotating order, so
/// that the machine's drift falls on all three alike; the ratios are taken within each rep.
fn time_three(reps: usize, each: [&mut dyn FnMut() -> (Duration, Duration); 3]) -> Three {
    let mut t: [Vec<(Duration, Duration)>; 3] = Default::default();
    for rep in 0..reps {
        for k in 0..3 {
            let which = (rep + k) % 3;
            t[which].push(each[which]());
        }
    }
    let ratio = |of: usize| {
        let mut r: Vec<f64> = (0..reps)
            .map(|i| t[of][i].0.as_secs_f64() / t[0][i].0.as_secs_f64().max(1e-12))
            .collect();
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    };
    let med =
        |of: usize, run: bool| median(t[of].iter().map(|x| if run { x.1 } else { x.0 }).collect());
    Three {
        hand: med(0, false),
        raw: med(1, false),
        dl: med(2, false),
        raw_run: med(1, true),
        dl_run: med(2, true),
        raw_ratio: ratio(1),
        dl_ratio: ratio(2),
    }
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
    if let Some(shape) = args
        .iter()
        .position(|a| a == "--memory-of")
        .and_then(|i| args.get(i + 1))
    {
        memory_of(shape, &sched);
        return;
    }
    println!("dagr runtime benchmark: {threads} threads, median of {reps}, ns per task");
    println!(
        "(hand: a minimal executor of boxed closures, atomic counts and crossbeam-deque workers;\n\
         b+r: build + run; each rep runs hand, raw and Delayed once, in a rotating order, and\n\
         the ratios are the medians over reps of build + run over the same rep's hand figure)\n"
    );
    println!(
        "{:<28} {:>7} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7} {:>9} {:>9}",
        "shape",
        "hand",
        "raw b+r",
        "raw run",
        "dl b+r",
        "dl run",
        "rayon",
        "seq",
        "raw/hand",
        "dl/hand"
    );

    let raw = |g: (TaskGraph, NodeId)| -> i64 {
        let v = sched.run(g.0, &[g.1]).expect("run");
        *v[0].downcast_ref::<i64>().expect("i64")
    };
    let dl = |d: Delayed<i64>| -> i64 { d.compute_with(sched.clone()).expect("compute") };

    if want_shape("a") {
        let want = (N as i64 - 1) * N as i64 / 2;
        let tasks = N + 1;
        let three = time_three(
            reps,
            [
                &mut || split_once(|| hand::independent(N), |g| g.run(threads), want),
                &mut || split_once(raw_independent, raw, want),
                &mut || split_once(delayed_independent, dl, want),
            ],
        );
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
        report("(a) 1M independent + sum", tasks, &three, ry, sq);
    }

    if want_shape("b") {
        let tasks = (1usize << (TREE_DEPTH + 1)) - 1;
        let want = 1i64 << TREE_DEPTH;
        let three = time_three(
            reps,
            [
                &mut || split_once(|| hand::tree(TREE_DEPTH), |g| g.run(threads), want),
                &mut || split_once(raw_tree, raw, want),
                &mut || split_once(delayed_tree, dl, want),
            ],
        );
        let ry = time(reps, || rayon_tree(TREE_DEPTH));
        let sq = time(reps, || seq_tree(TREE_DEPTH));
        report("(b) binary tree, 2^20 leaves", tasks, &three, ry, sq);
    }

    if want_shape("c") {
        let want = N as i64 - 1;
        let three = time_three(
            reps,
            [
                &mut || split_once(|| hand::chain(N), |g| g.run(threads), want),
                &mut || split_once(raw_chain, raw, want),
                &mut || split_once(delayed_chain, dl, want),
            ],
        );
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
        report("(c) chain of 1M", N, &three, ry, sq);
    }

    if want_shape("d") {
        let want = seq_wavefront();
        let tasks = SIDE * SIDE;
        let three = time_three(
            reps,
            [
                &mut || split_once(|| hand::wavefront(SIDE), |g| g.run(threads), want),
                &mut || split_once(raw_wavefront, raw, want),
                &mut || split_once(delayed_wavefront, dl, want),
            ],
        );
        let ry = time(reps, rayon_wavefront);
        let sq = time(reps, seq_wavefront);
        report("(d) wavefront 1000x1000", tasks, &three, ry, sq);
    }

    if want_shape("g") {
        pipelines(&sched, reps);
    }

    // Graph memory, each shape in a process of its own (a fresh heap).
    if want_shape("m") {
        println!("\nmemory of a 1M-task Delayed graph, from resident memory: bytes per task");
        println!("{:<28} {:>8} {:>8}", "shape", "built", "peak");
        for shape in ["a", "b", "c", "d"] {
            let out = std::process::Command::new(std::env::current_exe().expect("exe"))
                .args(["--memory-of", shape, "--threads", &threads.to_string()])
                .output()
                .expect("run the memory probe");
            print!("{}", String::from_utf8_lossy(&out.stdout));
        }
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

fn report(name: &str, tasks: usize, t: &Three, rayon: Duration, seq: Duration) {
    println!(
        "{:<28} {:>7.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>7.1} {:>7.1} {:>8.1}x {:>8.1}x",
        name,
        ns(t.hand, tasks),
        ns(t.raw, tasks),
        ns(t.raw_run, tasks),
        ns(t.dl, tasks),
        ns(t.dl_run, tasks),
        ns(rayon, tasks),
        ns(seq, tasks),
        t.raw_ratio,
        t.dl_ratio,
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
        // modes: plain, null observer, progress bar, profiler, plain again (the noise floor)
        let mut times: [Vec<Duration>; 5] = Default::default();
        let mut cpu: [Vec<Duration>; 5] = Default::default();
        // Drawn from the start, however short the run: the worst case.
        let bar = ProgressBar::new().force(true).minimum(Duration::ZERO);
        let mut rng = StdRng::seed_from_u64(0x5eed);
        for _ in 0..reps {
            // Each rep runs the five modes back to back in an order drawn afresh, so that
            // drift, position in the rep and which mode ran just before (a run can leave
            // memory behind that the next graph's build reuses or not) cancel in the
            // per-rep ratios: a fixed rotation would always put the same mode before the
            // plain run.
            let mut order = [0, 1, 2, 3, 4];
            order.shuffle(&mut rng);
            for mode in order {
                let (g, out) = build();
                let profiler = Profiler::new();
                let s = match mode {
                    0 | 4 => sched.clone(),
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
        // Overhead: the median over reps of each mode's time over the same rep's plain run,
        // and a 95 % confidence interval of that median (from the order statistics of the
        // ratios, which assumes nothing about their spread: the machine's noise is wide).
        let ratios = |t: &[Vec<Duration>; 5], mode: usize| {
            let mut ratios: Vec<f64> = (0..reps)
                .map(|r| t[mode][r].as_secs_f64() / t[0][r].as_secs_f64().max(1e-12))
                .collect();
            ratios.sort_by(f64::total_cmp);
            ratios
        };
        let pct = |r: f64| (r - 1.0) * 100.0;
        let overhead = |t: &[Vec<Duration>; 5], mode: usize| {
            let ratios = ratios(t, mode);
            // ranks n/2 -+ 1.96 sqrt(n)/2 (the normal approximation to the binomial), widened
            // to whole ranks: 1-based j = floor(lower), k = ceil(upper) + 1
            let n = ratios.len() as f64;
            let half = 1.96 * n.sqrt() / 2.0;
            let lo = ((n / 2.0 - half).floor().max(1.0) as usize) - 1;
            let hi = ((n / 2.0 + half).ceil() as usize).min(ratios.len() - 1);
            (
                pct(ratios[ratios.len() / 2]),
                pct(ratios[lo]),
                pct(ratios[hi]),
            )
        };
        let wall = [1, 2, 3].map(|m| overhead(&times, m));
        let in_cpu = [1, 2, 3].map(|m| overhead(&cpu, m));
        // The noise a single run shows: the spread over reps of the second plain run's time
        // over the first (10th to 90th percentile), against which an overhead that stays
        // inside it cannot be told from one run to the next.
        let same = ratios(&times, 4);
        let noise = (
            pct(same[same.len() / 2]),
            pct(same[(same.len() - 1) / 10]),
            pct(same[(same.len() - 1) * 9 / 10]),
        );
        let [none, null, progress, profile, _] = times.map(median);
        eprintln!();
        println!(
            "{:<30} {:>7.1} {:>8.1} {:>+6.1}% {:>9.1} {:>+6.1}% {:>8.1} {:>+6.1}%",
            name,
            ns(none, tasks),
            ns(null, tasks),
            wall[0].0,
            ns(progress, tasks),
            wall[1].0,
            ns(profile, tasks),
            wall[2].0
        );
        let interval = |o: &[(f64, f64, f64); 3]| {
            let [a, b, c] = o.map(|(_, lo, hi)| format!("{lo:+.0}..{hi:+.0}%"));
            format!("{a:>16} {b:>17} {c:>16}")
        };
        println!("{:<38} {}", "    95 % interval", interval(&wall));
        println!(
            "    noise: a second plain run {:+.1}%, single reps {:+.0}..{:+.0}% (10th..90th percentile)",
            noise.0, noise.1, noise.2
        );
        // (CPU times are zero where the system does not give them)
        if cpu[0].iter().any(|d| !d.is_zero()) {
            println!(
                "{:<30} {:>7} {:>8} {:>+6.1}% {:>9} {:>+6.1}% {:>8} {:>+6.1}%",
                "    same, in CPU time", "", "", in_cpu[0].0, "", in_cpu[1].0, "", in_cpu[2].0
            );
            println!("{:<38} {}", "    95 % interval", interval(&in_cpu));
        }
    }
    // The work per task of an observer, alone, in a loop on one thread (no scheduling
    // noise), as the runtime does it for a chain of tasks: a Started event if the observer
    // takes them and a Finished one if it takes events; if it asks for task spans, one clock
    // reading a task and the spans handed over 64 at a time. The progress bar takes neither:
    // the runtime keeps its counters inline, which only the runs above can show.
    let mut g = TaskGraph::new();
    let node = g
        .add(Key::token("task", 1), &[], int_task(0))
        .expect("node");
    let key = Key::token("task", 1);
    let run = dagr::runtime::RunId::next();
    let per_task = |s: Scheduler| -> f64 {
        let obs = s.observer().expect("an observer").clone();
        let (events, started, timed) = (obs.task_events(), obs.started_events(), obs.task_spans());
        let clock = dagr::runtime::TaskClock::get();
        let n = 2_000_000u32;
        let event = |kind, follows| dagr::runtime::Event {
            kind,
            run,
            node,
            key: &key,
            worker: 0,
            follows,
        };
        let mut spans = Vec::with_capacity(64);
        (0..reps.max(3))
            .map(|_| {
                let start = Instant::now();
                let mut last = clock.now();
                for _ in 0..n {
                    if events && started {
                        obs.on_event(black_box(&event(dagr::runtime::EventKind::Started, true)));
                    }
                    if timed {
                        let end = clock.now();
                        spans.push(dagr::runtime::TaskSpan {
                            node,
                            failed: false,
                            start: std::mem::replace(&mut last, end),
                            end,
                        });
                        if spans.len() == 64 {
                            obs.on_spans(black_box(&dagr::runtime::SpanBatch {
                                run,
                                worker: 0,
                                spans: &spans,
                            }));
                            spans.clear();
                        }
                    }
                    if events {
                        obs.on_event(black_box(&event(dagr::runtime::EventKind::Finished, false)));
                    }
                }
                start.elapsed().as_nanos() as f64 / f64::from(n)
            })
            .fold(f64::INFINITY, f64::min)
    };
    println!(
        "\ntask events and spans alone, per task (with the clock reading the runtime makes for an observer timing tasks):\n\
         an observer doing nothing {:.1} ns, the profiler {:.1} ns",
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

/// Resident memory of this process and its peak since the last [`reset_peak`], in bytes
/// (Linux; zero elsewhere).
fn resident() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .map_or(0, |kb: u64| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Starts measuring the peak of resident memory afresh (Linux 4.0 and later).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Prints the resident memory per task of one 1M-task Delayed shape: once built, and at
/// its peak while computing (the graph, the runtime's graph and the run's state), both
/// over the process's memory before building.
fn memory_of(shape: &str, sched: &Scheduler) {
    let (name, tasks, build): (&str, usize, fn() -> Delayed<i64>) = match shape {
        "a" => ("(a) 1M independent + sum", N + 1, delayed_independent),
        "b" => (
            "(b) binary tree, 2^20 leaves",
            (1 << (TREE_DEPTH + 1)) - 1,
            delayed_tree,
        ),
        "c" => ("(c) chain of 1M", N, delayed_chain),
        _ => ("(d) wavefront 1000x1000", SIDE * SIDE, delayed_wavefront),
    };
    let (before, _) = resident();
    let d = build();
    let (built, _) = resident();
    reset_peak();
    black_box(d.compute_with(sched.clone()).expect("compute"));
    let (_, peak) = resident();
    let per = |b: u64| b.saturating_sub(before) as f64 / tasks as f64;
    println!(
        "{:<28} {:>8.0} {:>8.0}",
        name,
        per(built),
        per(peak.max(built))
    );
}

/// `graph!` pipelines are fixed at compile time, so the four shapes only fit in small
/// versions: each pipeline computed many times against the same shape built as `Delayed`
/// graphs, ns per task (inputs are not tasks).
fn pipelines(sched: &Scheduler, reps: usize) {
    use shapes::{add, ident, leaf, total};
    let independent = graph! {
        input x: i64;
        l0 = leaf(x); l1 = leaf(x); l2 = leaf(x); l3 = leaf(x);
        l4 = leaf(x); l5 = leaf(x); l6 = leaf(x); l7 = leaf(x);
        s = total([l0, l1, l2, l3, l4, l5, l6, l7]);
        output s;
    };
    let tree = graph! {
        input x: i64;
        l0 = leaf(x); l1 = leaf(x); l2 = leaf(x); l3 = leaf(x);
        l4 = leaf(x); l5 = leaf(x); l6 = leaf(x); l7 = leaf(x);
        a0 = add(l0, l1); a1 = add(l2, l3); a2 = add(l4, l5); a3 = add(l6, l7);
        b0 = add(a0, a1); b1 = add(a2, a3);
        c = add(b0, b1);
        output c;
    };
    let chain = graph! {
        input x: i64;
        c0 = leaf(x); c1 = inc(c0); c2 = inc(c1); c3 = inc(c2);
        c4 = inc(c3); c5 = inc(c4); c6 = inc(c5); c7 = inc(c6);
        output c7;
    };
    let wavefront = graph! {
        input x: i64;
        w00 = leaf(x); w01 = ident(w00); w02 = ident(w01);
        w10 = ident(w00); w11 = add(w01, w10); w12 = add(w02, w11);
        w20 = ident(w10); w21 = add(w11, w20); w22 = add(w12, w21);
        output w22;
    };
    let runs = 20_000;
    println!(
        "\ngraph! pipelines (small shapes, fixed at compile time), {runs} computes: ns per task"
    );
    println!(
        "{:<28} {:>8} {:>8} {:>8}",
        "shape", "graph!", "Delayed", "ratio"
    );
    let line = |name: &str, tasks: usize, p: &dyn Fn() -> i64, d: &dyn Fn() -> i64| {
        assert_eq!(p(), d());
        let tp = time(reps, || (0..runs).map(|_| p()).sum::<i64>());
        let td = time(reps, || (0..runs).map(|_| d()).sum::<i64>());
        println!(
            "{:<28} {:>8.1} {:>8.1} {:>7.2}x",
            name,
            ns(tp, runs * tasks),
            ns(td, runs * tasks),
            tp.as_secs_f64() / td.as_secs_f64()
        );
    };
    let dl = |d: Delayed<i64>| d.compute_with(sched.clone()).expect("compute");
    line(
        "(a) 8 independent + sum",
        9,
        &|| independent.compute_with(sched.clone(), 1).expect("compute"),
        &|| dl(total((0..8).map(|_| leaf(1)).collect::<Vec<_>>())),
    );
    line(
        "(b) binary tree, 8 leaves",
        15,
        &|| tree.compute_with(sched.clone(), 1).expect("compute"),
        &|| dl(shapes::tree(3)),
    );
    line(
        "(c) chain of 8",
        8,
        &|| chain.compute_with(sched.clone(), 0).expect("compute"),
        &|| dl(shapes::chain(8)),
    );
    line(
        "(d) wavefront 3x3",
        9,
        &|| wavefront.compute_with(sched.clone(), 1).expect("compute"),
        &|| dl(shapes::wavefront(3)),
    );
}
