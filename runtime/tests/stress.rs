//! Stress under load, with a watchdog: random graphs with injected panics and errors on the
//! sync scheduler and pools of 1, 2 and 8 threads, every result or error checked against the
//! sync scheduler's, every value accounted for (drop counters), every run under a watchdog
//! that prints the graph and fails the test if a run hangs. Every other graph runs with an
//! observer taking task events and spans, which checks that each task that ran has exactly
//! one span, handed over before the run's end.
//!
//! CI runs a bounded form (a few seconds). `DAGR_STRESS=full` runs 10 000 graphs of up to
//! 10 000 tasks (build with `--release`); `DAGR_STRESS_SEED` replays a run (the seed is
//! printed first).

use dagr_runtime::{
    Error, Event, EventKind, Key, NodeId, Observer, Run, Scheduler, SpanBatch, Task, TaskError,
    TaskGraph,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A run longer than this is a hang: the watchdog prints the graph and aborts the process.
const WATCHDOG: Duration = Duration::from_secs(60);

fn full() -> bool {
    std::env::var("DAGR_STRESS").is_ok_and(|v| v == "full")
}

fn seed() -> u64 {
    let seed = std::env::var("DAGR_STRESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("seed {seed} (DAGR_STRESS_SEED={seed} replays)");
    seed
}

/// splitmix64: a small, seedable generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    None,
    Panic,
    Err,
}

/// A random graph: each node's inputs (earlier nodes) and fault; the outputs.
#[derive(Debug)]
struct Dag {
    nodes: Vec<(Vec<usize>, Fault)>,
    outputs: Vec<usize>,
}

impl Dag {
    fn random(rng: &mut Rng, max: usize) -> Dag {
        let n = 1 + rng.below(max);
        // how many faults: none in a third of the graphs, else a few at random positions
        let faults = match rng.below(3) {
            0 => 0,
            1 => 1,
            _ => 1 + rng.below(5),
        };
        // inputs come from a window behind the node: narrow windows give deep graphs,
        // wide ones wide graphs
        let window = 1 + rng.below(n.min(64));
        let mut nodes: Vec<(Vec<usize>, Fault)> = (0..n)
            .map(|i| {
                let k = if i == 0 { 0 } else { rng.below(5) };
                let deps = (0..k).map(|_| i - 1 - rng.below(window.min(i))).collect();
                (deps, Fault::None)
            })
            .collect();
        for _ in 0..faults {
            let at = rng.below(n);
            nodes[at].1 = if rng.below(2) == 0 {
                Fault::Panic
            } else {
                Fault::Err
            };
        }
        let outputs = (0..1 + rng.below(4))
            .map(|_| n - 1 - rng.below(n.min(8)))
            .collect();
        Dag { nodes, outputs }
    }

    /// The graph as text, for the watchdog's report.
    fn describe(&self) -> String {
        let mut s = format!("outputs {:?}\n", self.outputs);
        for (i, (deps, f)) in self.nodes.iter().enumerate() {
            s += &format!("{i} <- {deps:?} {f:?}\n");
        }
        s
    }

    /// Nodes the outputs need.
    fn needed(&self) -> Vec<bool> {
        let mut need = vec![false; self.nodes.len()];
        for &o in &self.outputs {
            need[o] = true;
        }
        for i in (0..self.nodes.len()).rev() {
            if need[i] {
                for &d in &self.nodes[i].0 {
                    need[d] = true;
                }
            }
        }
        need
    }
}

/// A value that counts its live copies, so a leak (or a double drop) shows.
struct Counted {
    v: u64,
    live: Arc<AtomicIsize>,
}

impl Counted {
    fn new(v: u64, live: &Arc<AtomicIsize>) -> Counted {
        live.fetch_add(1, Ordering::Relaxed);
        Counted {
            v,
            live: live.clone(),
        }
    }
}

impl Clone for Counted {
    fn clone(&self) -> Counted {
        Counted::new(self.v, &self.live)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::Relaxed);
    }
}

fn node_value(i: usize, inputs: &[u64]) -> u64 {
    inputs.iter().fold(i as u64 * 0x9e37_79b9 + 1, |acc, x| {
        acc.rotate_left(5) ^ x.wrapping_mul(31)
    })
}

fn build(dag: &Dag, live: &Arc<AtomicIsize>) -> (TaskGraph, Vec<NodeId>) {
    let mut g = TaskGraph::with_capacity(dag.nodes.len(), dag.nodes.len() * 2);
    let mut ids = Vec::with_capacity(dag.nodes.len());
    for (i, (deps, fault)) in dag.nodes.iter().enumerate() {
        let d: Vec<NodeId> = deps.iter().map(|&d| ids[d]).collect();
        let (fault, live) = (*fault, live.clone());
        let task = Task::once(move |inp| {
            let mut ins = Vec::with_capacity(inp.len());
            for k in 0..inp.len() {
                // alternate borrowing and taking, to exercise both paths
                ins.push(if k % 2 == 0 {
                    inp.get::<Counted>(k)?.v
                } else {
                    inp.take::<Counted>(k)?.v
                });
            }
            match fault {
                Fault::None => Ok(Arc::new(Counted::new(node_value(i, &ins), &live))),
                Fault::Panic => panic!("injected panic in node {i}"),
                Fault::Err => Err(TaskError::new(format!("injected error in node {i}"))),
            }
        });
        ids.push(g.add(Key::index("node", &[i as u64]), &d, task).unwrap());
    }
    let outs = dag.outputs.iter().map(|&o| ids[o]).collect();
    (g, outs)
}

/// Which node failed how, read from a run's error.
fn failure(e: &Error) -> Option<(usize, Fault)> {
    let (key, fault) = match e {
        Error::TaskPanicked { key, .. } => (key, Fault::Panic),
        Error::TaskFailed { key, .. } => (key, Fault::Err),
        _ => return None,
    };
    let k = key.to_string();
    let i = k
        .strip_prefix("('node', ")?
        .strip_suffix(')')?
        .parse()
        .ok()?;
    Some((i, fault))
}

/// The watchdog: a thread that aborts the process, printing the graph, when a run started
/// with [`Watchdog::watch`] does not end within [`WATCHDOG`].
#[derive(Clone)]
struct Watchdog(Arc<Mutex<Option<(Instant, String)>>>);

impl Watchdog {
    fn start() -> Watchdog {
        let w = Watchdog(Arc::new(Mutex::new(None)));
        let state = w.0.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(200));
            if Arc::strong_count(&state) == 1 {
                return;
            }
            if let Some((t, what)) = &*state.lock().unwrap() {
                if t.elapsed() > WATCHDOG {
                    eprintln!("HANG: a run took more than {WATCHDOG:?}:\n{what}");
                    std::process::exit(101);
                }
            }
        });
        w
    }

    fn watch<R>(&self, what: impl FnOnce() -> String, run: impl FnOnce() -> R) -> R {
        *self.0.lock().unwrap() = Some((Instant::now(), what()));
        let r = run();
        *self.0.lock().unwrap() = None;
        r
    }
}

/// Keeps the injected panics quiet; other panics (failed checks) print as usual.
/// Checks spans against task events: at each run's end, the tasks that ended (events, told
/// before their consumers run) and the tasks timed (spans, handed over in batches) must be
/// the same, failed ones marked alike; a batch holds one thread's tasks one after the other.
#[derive(Default)]
struct SpanCheck(Mutex<SpanLog>);

#[derive(Default)]
struct SpanLog {
    ended: HashMap<u64, Vec<(u32, bool)>>,
    timed: HashMap<u64, Vec<(u32, bool)>>,
    problems: Vec<String>,
}

impl Observer for SpanCheck {
    fn on_event(&self, e: &Event<'_>) {
        let mut log = self.0.lock().unwrap();
        let task = (e.node.index() as u32, e.kind == EventKind::Failed);
        log.ended.entry(e.run.get()).or_default().push(task);
    }
    fn started_events(&self) -> bool {
        false
    }
    fn task_spans(&self) -> bool {
        true
    }
    fn on_spans(&self, b: &SpanBatch<'_>) {
        let mut log = self.0.lock().unwrap();
        if b.spans.windows(2).any(|p| p[0].end > p[1].start) {
            log.problems
                .push(format!("a batch out of order: {:?}", b.spans));
        }
        let tasks = b.spans.iter().map(|t| (t.node.index() as u32, t.failed));
        log.timed.entry(b.run.get()).or_default().extend(tasks);
    }
    fn on_run_end(&self, run: &Run<'_>) {
        let mut log = self.0.lock().unwrap();
        let mut ended = log.ended.remove(&run.id().get()).unwrap_or_default();
        let mut timed = log.timed.remove(&run.id().get()).unwrap_or_default();
        ended.sort_unstable();
        timed.sort_unstable();
        if ended != timed {
            let problem = format!("tasks that ended {ended:?}, timed {timed:?}");
            log.problems.push(problem);
        }
    }
}

fn quiet_injected_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let injected = info
            .payload()
            .downcast_ref::<String>()
            .is_some_and(|m| m.starts_with("injected"));
        if !injected {
            default(info);
        }
    }));
}

#[test]
fn random_graphs_with_faults_match_the_sync_scheduler() {
    quiet_injected_panics();
    let (graphs, max) = if full() {
        (10_000, 10_000)
    } else {
        (500, 1000)
    };
    let seed = seed();
    let mut rng = Rng(seed);
    let schedulers = [
        ("sync", Scheduler::sync()),
        ("1 thread", Scheduler::threads(1)),
        ("2 threads", Scheduler::threads(2)),
        ("8 threads", Scheduler::threads(8)),
    ];
    let checks: Vec<(Arc<SpanCheck>, Scheduler)> = schedulers
        .iter()
        .map(|(_, s)| {
            let check = Arc::new(SpanCheck::default());
            (check.clone(), s.clone().observe(check))
        })
        .collect();
    let watchdog = Watchdog::start();
    let start = Instant::now();
    let (mut tasks, mut failed) = (0usize, 0usize);
    for g in 0..graphs {
        let dag = Dag::random(&mut rng, max);
        let need = dag.needed();
        let live = Arc::new(AtomicIsize::new(0));
        let mut oracle: Option<Result<Vec<u64>, Error>> = None;
        for (k, (name, s)) in schedulers.iter().enumerate() {
            let (check, observed) = &checks[k];
            let s = if g % 2 == 1 { observed } else { s };
            let what = || format!("graph {g} of seed {seed} on {name}:\n{}", dag.describe());
            let got = watchdog.watch(what, || {
                let (graph, outs) = build(&dag, &live);
                s.run(graph, &outs).map(|vals| {
                    vals.iter()
                        .map(|v| v.downcast_ref::<Counted>().unwrap().v)
                        .collect::<Vec<u64>>()
                })
            });
            assert_eq!(
                live.load(Ordering::Relaxed),
                0,
                "graph {g} (seed {seed}) on {name}: values leaked or dropped twice"
            );
            let problems = std::mem::take(&mut check.0.lock().unwrap().problems);
            assert!(
                problems.is_empty(),
                "graph {g} (seed {seed}) on {name}: {problems:?}"
            );
            match (&oracle, &got) {
                (None, _) => {}
                (Some(Ok(want)), Ok(v)) => {
                    assert_eq!(v, want, "graph {g} (seed {seed}) on {name}")
                }
                (Some(Err(_)), Err(e)) => {
                    // the first failure met may differ between orders: it must be a
                    // needed node whose fault is the one injected
                    let (i, f) = failure(e).unwrap_or_else(|| panic!("{name}: {e}"));
                    assert!(
                        need[i] && dag.nodes[i].1 == f,
                        "graph {g} (seed {seed}) on {name}: {e}"
                    );
                }
                (Some(want), _) => panic!(
                    "graph {g} (seed {seed}) on {name}: {got:?}, the sync scheduler gave {want:?}",
                    got = got.as_ref().map(drop).map_err(|e| e.to_string()),
                    want = want.as_ref().map(drop).map_err(|e| e.to_string()),
                ),
            }
            if oracle.is_none() {
                tasks += need.iter().filter(|&&n| n).count();
                failed += got.is_err() as usize;
                oracle = Some(got);
            }
        }
    }
    // the pools are usable afterwards
    let live = Arc::new(AtomicIsize::new(0));
    let dag = Dag::random(&mut Rng(7), 50);
    let dag = Dag {
        nodes: dag
            .nodes
            .into_iter()
            .map(|(d, _)| (d, Fault::None))
            .collect(),
        ..dag
    };
    for (_, s) in &schedulers {
        let (graph, outs) = build(&dag, &live);
        assert_eq!(s.run(graph, &outs).unwrap().len(), dag.outputs.len());
    }
    println!(
        "{graphs} graphs ({tasks} tasks, {failed} failing) on 4 schedulers in {:.1?}: 0 hangs, 0 leaks",
        start.elapsed()
    );
}

/// Record tapes under contention: writers append (single records and pairs pushed together)
/// while a reader reads the tape over and over; every read sees, per chunk, a prefix of
/// what its writer wrote there, in order, pairs whole; after the writers, everything.
#[test]
fn tape_readers_see_prefixes_while_writers_append() {
    use dagr_runtime::Tape;
    const WRITERS: u64 = 4;
    let per_writer: u64 = if full() { 20_000_000 } else { 1_000_000 };
    // record = writer << 40 | index << 1 | (1 if the first of a pair); pairs every 7th
    let tape = Arc::new(Tape::<u64>::new(3));
    let writers: Vec<_> = (0..WRITERS)
        .map(|t| {
            let mut w = Tape::writer(&tape, t as u32);
            std::thread::spawn(move || {
                let mut i = 0;
                while i < per_writer {
                    if i % 7 == 0 && i + 1 < per_writer {
                        w.push_all(&[t << 40 | i << 1 | 1, t << 40 | (i + 1) << 1]);
                        i += 2;
                    } else {
                        w.push(t << 40 | i << 1);
                        i += 1;
                    }
                }
            })
        })
        .collect();
    // checks one reading and returns the number of records seen
    let check = |tape: &Tape<u64>| -> u64 {
        let mut next = [0u64; WRITERS as usize];
        let mut seen = 0;
        for c in tape.chunks() {
            let t = u64::from(c.tag());
            let records: Vec<u64> = c.iter().collect();
            for (k, &r) in records.iter().enumerate() {
                assert_eq!(r >> 40, t, "a record in another writer's chunk");
                assert_eq!((r >> 1) & ((1 << 39) - 1), next[t as usize], "out of order");
                next[t as usize] += 1;
                if r & 1 == 1 {
                    assert!(k + 1 < records.len(), "half a pair");
                }
            }
            // (a writer makes its next chunk after publishing its last record here, so
            // a chunk followed by another of its writer is read whole: they join up)
            seen += records.len() as u64;
        }
        seen
    };
    while writers.iter().any(|w| !w.is_finished()) {
        check(&tape);
    }
    for w in writers {
        w.join().unwrap();
    }
    assert_eq!(check(&tape), WRITERS * per_writer);
}
