//! Memory release, nesting, events and scale.

use dagr_runtime::{
    Error, Event, EventKind, Key, NodeId, Observer, Run, Scheduler, SpanBatch, Task, TaskGraph,
    Value,
};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

fn leaf(g: &mut TaskGraph, i: u64, v: i64) -> NodeId {
    g.add(
        Key::index("leaf", &[i]),
        &[],
        Task::once(move |_| Ok(Arc::new(v))),
    )
    .unwrap()
}

/// A value that counts how many of its kind are alive, and the peak.
struct Tracked {
    alive: Arc<Counter>,
    value: i64,
}

#[derive(Default)]
struct Counter {
    alive: AtomicI64,
    peak: AtomicI64,
}

impl Tracked {
    fn new(c: &Arc<Counter>, value: i64) -> Tracked {
        let now = c.alive.fetch_add(1, Ordering::SeqCst) + 1;
        c.peak.fetch_max(now, Ordering::SeqCst);
        Tracked {
            alive: c.clone(),
            value,
        }
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        Tracked::new(&self.alive, self.value)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.alive.alive.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A binary reduction tree over `n` tracked leaves, built level by level (all leaves first,
/// as a collection would build it).
fn tracked_tree(n: u64, c: &Arc<Counter>) -> (TaskGraph, NodeId) {
    let mut g = TaskGraph::new();
    let mut level: Vec<NodeId> = (0..n)
        .map(|i| {
            let c = c.clone();
            g.add(
                Key::index("chunk", &[i]),
                &[],
                Task::once(move |_| Ok(Arc::new(Tracked::new(&c, 1)))),
            )
            .unwrap()
        })
        .collect();
    let mut depth = 0;
    while level.len() > 1 {
        depth += 1;
        level = level
            .chunks(2)
            .enumerate()
            .map(|(j, pair)| {
                let c = c.clone();
                g.add(
                    Key::index("combine", &[depth, j as u64]),
                    pair,
                    Task::once(move |inp| {
                        let mut s = 0;
                        for k in 0..inp.len() {
                            s += inp.get::<Tracked>(k)?.value;
                        }
                        Ok(Arc::new(Tracked::new(&c, s)))
                    }),
                )
                .unwrap()
            })
            .collect();
    }
    (g, level[0])
}

#[test]
fn intermediates_are_freed_as_soon_as_consumed() {
    for sched in [
        Scheduler::sync(),
        Scheduler::threads(2),
        Scheduler::threads(4),
    ] {
        let c = Arc::new(Counter::default());
        let n = 4096;
        let (g, root) = tracked_tree(n, &c);
        let out = sched.run(g, &[root]).unwrap();
        assert_eq!(out[0].downcast_ref::<Tracked>().unwrap().value, n as i64);
        assert_eq!(
            c.alive.load(Ordering::SeqCst),
            1,
            "only the output is alive"
        );
        drop(out);
        assert_eq!(c.alive.load(Ordering::SeqCst), 0);
        // depth-first order keeps a few values per level and worker alive, not a level's worth
        let peak = c.peak.load(Ordering::SeqCst);
        assert!(
            peak <= 128,
            "{sched:?}: peak of {peak} live chunks for {n} leaves"
        );
    }
}

#[test]
fn one_source_in_flight_runs_as_the_sync_scheduler_does() {
    // a pool of one worker (and its caller) has one root in flight at a time, so it keeps
    // exactly the values alive that the sync scheduler keeps
    let peak_of = |sched: Scheduler| {
        let c = Arc::new(Counter::default());
        let (g, root) = tracked_tree(4096, &c);
        let out = sched.run(g, &[root]).unwrap();
        assert_eq!(out[0].downcast_ref::<Tracked>().unwrap().value, 4096);
        c.peak.load(Ordering::SeqCst)
    };
    let sync = peak_of(Scheduler::sync());
    // one waiting per level of a binary tree over 2^12 leaves, and the two being combined
    assert_eq!(sync, 14);
    for _ in 0..4 {
        assert_eq!(peak_of(Scheduler::threads(1)), sync);
    }
}

/// `n` leaves that note when they start and how many of them run at once, summed in groups
/// of 8 and then in one node.
fn watched_sources(
    n: u64,
    running: &Arc<AtomicUsize>,
    most: &Arc<AtomicUsize>,
    order: &Arc<Mutex<Vec<u64>>>,
) -> (TaskGraph, NodeId) {
    let mut g = TaskGraph::new();
    let leaves: Vec<NodeId> = (0..n)
        .map(|i| {
            let (running, most, order) = (running.clone(), most.clone(), order.clone());
            let task = Task::once(move |_| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                order.lock().unwrap().push(i);
                // a little work, so that workers overlap
                let mut x = i;
                for _ in 0..20_000 {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                }
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(Arc::new(i as i64 + (x == u64::MAX) as i64))
            });
            g.add(Key::index("leaf", &[i]), &[], task).unwrap()
        })
        .collect();
    let sum = |inp: &mut dagr_runtime::Inputs<'_>| {
        let mut s = 0_i64;
        for k in 0..inp.len() {
            s += inp.get::<i64>(k)?;
        }
        Ok(dagr_runtime::Value::new(s))
    };
    let groups: Vec<NodeId> = leaves
        .chunks(8)
        .enumerate()
        .map(|(j, group)| {
            g.add(Key::index("group", &[j as u64]), group, Task::once(sum))
                .unwrap()
        })
        .collect();
    let total = g
        .add(Key::token("total", 0), &groups, Task::once(sum))
        .unwrap();
    (g, total)
}

#[test]
fn roots_start_in_order_and_at_most_one_per_worker() {
    let n = 200;
    for threads in [1, 2, 4] {
        for _ in 0..3 {
            let running = Arc::new(AtomicUsize::new(0));
            let most = Arc::new(AtomicUsize::new(0));
            let order = Arc::new(Mutex::new(Vec::new()));
            let (g, total) = watched_sources(n, &running, &most, &order);
            let out = Scheduler::threads(threads).run(g, &[total]).unwrap();
            assert_eq!(
                out[0].downcast_ref::<i64>(),
                Some(&(n as i64 * (n as i64 - 1) / 2))
            );
            let most = most.load(Ordering::SeqCst);
            assert!(
                most <= threads,
                "{most} roots ran at once on {threads} workers"
            );
            let mut order = order.lock().unwrap().clone();
            if threads == 1 {
                assert_eq!(
                    order,
                    (0..n).collect::<Vec<_>>(),
                    "one at a time, in graph order"
                );
            }
            order.sort_unstable();
            assert_eq!(order, (0..n).collect::<Vec<_>>(), "every root ran once");
        }
    }
}

#[test]
fn callers_on_several_threads_share_a_pool() {
    // each caller helps with its own run and hands its roots back to the workers when it
    // meets another run's work: every run completes, with its own result
    let handles: Vec<_> = (0..6_u64)
        .map(|t| {
            std::thread::spawn(move || {
                for _ in 0..5 {
                    let running = Arc::new(AtomicUsize::new(0));
                    let most = Arc::new(AtomicUsize::new(0));
                    let order = Arc::new(Mutex::new(Vec::new()));
                    let n = 40 + t * 13;
                    let (g, total) = watched_sources(n, &running, &most, &order);
                    let out = Scheduler::threads(2).run(g, &[total]).unwrap();
                    assert_eq!(
                        out[0].downcast_ref::<i64>(),
                        Some(&(n as i64 * (n as i64 - 1) / 2))
                    );
                    assert!(most.load(Ordering::SeqCst) <= 2);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn taking_the_last_use_moves_instead_of_cloning() {
    let c = Arc::new(Counter::default());
    let mut g = TaskGraph::new();
    let c2 = c.clone();
    let a = g
        .add(
            Key::token("a", 1),
            &[],
            Task::once(move |_| Ok(Arc::new(Tracked::new(&c2, 7)))),
        )
        .unwrap();
    let b = g
        .add(
            Key::token("b", 2),
            &[a],
            Task::once(|inp| Ok(Arc::new(inp.take::<Tracked>(0)?.value))),
        )
        .unwrap();
    let out = Scheduler::sync().run(g, &[b]).unwrap();
    assert_eq!(out[0].downcast_ref::<i64>(), Some(&7));
    assert_eq!(c.peak.load(Ordering::SeqCst), 1, "moved, never cloned");
}

#[test]
fn culled_nodes_do_not_run() {
    let ran = Arc::new(AtomicUsize::new(0));
    let mut g = TaskGraph::new();
    let r = ran.clone();
    let _unused = g
        .add(
            Key::token("unused", 1),
            &[],
            Task::once(move |_| {
                r.fetch_add(1, Ordering::SeqCst);
                Ok(Arc::new(()))
            }),
        )
        .unwrap();
    let used = leaf(&mut g, 0, 5);
    let out = Scheduler::threads(2).run(g, &[used, used]).unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(out[1].downcast_ref::<i64>(), Some(&5));
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn bad_graphs_are_errors() {
    let mut g = TaskGraph::new();
    let a = leaf(&mut g, 0, 1);
    let mut other = TaskGraph::new();
    let err = other
        .add(Key::token("x", 1), &[a], Task::value(Arc::new(1)))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidDependency { node: 0, dep: 0 }));
    let err = Scheduler::sync().run(other, &[a]).unwrap_err();
    assert!(matches!(err, Error::InvalidOutput(0)));
    assert!(Scheduler::sync()
        .run(TaskGraph::new(), &[])
        .unwrap()
        .is_empty());
}

#[test]
fn wrong_input_type_is_a_task_error() {
    let mut g = TaskGraph::new();
    let a = leaf(&mut g, 0, 1);
    let b = g
        .add(
            Key::token("reader", 9),
            &[a],
            Task::once(|inp| Ok(Arc::new(inp.get::<String>(0)?.len()))),
        )
        .unwrap();
    let err = Scheduler::threads(2).run(g, &[b]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("reader-") && text.contains("String"),
        "{text}"
    );
}

fn nested_graph(depth: u32, sched: Scheduler) -> (TaskGraph, NodeId) {
    let mut g = TaskGraph::new();
    let a = leaf(&mut g, 0, 1);
    let b = leaf(&mut g, 1, 2);
    let root = g
        .add(
            Key::token("nest", depth as u64),
            &[a, b],
            Task::once(move |inp| {
                let here = inp.get::<i64>(0)? + inp.get::<i64>(1)?;
                if depth == 0 {
                    return Ok(Arc::new(here));
                }
                let (inner, last) = nested_graph(depth - 1, sched.clone());
                let v = sched
                    .run(inner, &[last])
                    .map_err(dagr_runtime::TaskError::new)?;
                Ok(Arc::new(here + v[0].downcast_ref::<i64>().unwrap()))
            }),
        )
        .unwrap();
    (g, root)
}

#[test]
fn compute_inside_a_task_does_not_deadlock() {
    for sched in [
        Scheduler::sync(),
        Scheduler::threads(1),
        Scheduler::threads(2),
    ] {
        // many concurrent nested computes on a pool with fewer workers than tasks
        let mut g = TaskGraph::new();
        let outs: Vec<NodeId> = (0..16)
            .map(|i| {
                let s = sched.clone();
                g.add(
                    Key::index("outer", &[i]),
                    &[],
                    Task::once(move |_| {
                        let (inner, root) = nested_graph(3, s.clone());
                        let v = s
                            .run(inner, &[root])
                            .map_err(dagr_runtime::TaskError::new)?;
                        Ok(Arc::new(*v[0].downcast_ref::<i64>().unwrap()))
                    }),
                )
                .unwrap()
            })
            .collect();
        let vals = sched.run(g, &outs).unwrap();
        for v in vals {
            assert_eq!(v.downcast_ref::<i64>(), Some(&12), "{sched:?}");
        }
    }
}

#[derive(Default)]
struct Log(Mutex<Vec<(EventKind, u32)>>);

impl Observer for Log {
    fn on_event(&self, e: &Event<'_>) {
        self.0.lock().unwrap().push((e.kind, e.node.index() as u32));
    }
}

/// A span as [`Spans`] keeps it: run, node, worker, start, end.
type Timed = (u64, u32, usize, u64, u64);

/// Asks the runtime to time tasks (and for no events), and keeps each span; checks at each
/// run's end that every task of the run has its span, and that a batch holds one thread's
/// tasks one after the other.
#[derive(Default)]
struct Spans {
    spans: Mutex<Vec<Timed>>,
    batches: AtomicUsize,
}

impl Observer for Spans {
    fn on_event(&self, _: &Event<'_>) {
        panic!("no events asked for");
    }
    fn task_events(&self) -> bool {
        false
    }
    fn task_spans(&self) -> bool {
        true
    }
    fn on_spans(&self, b: &SpanBatch<'_>) {
        assert!(!b.spans.is_empty());
        for pair in b.spans.windows(2) {
            assert!(
                pair[0].end <= pair[1].start,
                "{pair:?}: not one after the other"
            );
        }
        self.batches.fetch_add(1, Ordering::Relaxed);
        let mut v = self.spans.lock().unwrap();
        v.extend(
            b.spans
                .iter()
                .map(|t| (b.run.get(), t.node.index() as u32, b.worker, t.start, t.end)),
        );
    }
    fn on_run_end(&self, run: &Run<'_>) {
        let v = self.spans.lock().unwrap();
        let mut nodes: Vec<u32> = v
            .iter()
            .filter(|t| t.0 == run.id().get())
            .map(|t| t.1)
            .collect();
        nodes.sort_unstable();
        let all: Vec<u32> = (0..run.tasks() as u32).collect();
        assert_eq!(
            nodes,
            all,
            "run {}: a span per task before its end",
            run.id().get()
        );
    }
}

/// An observer timing tasks gets one span a task, before the run ends; a task that computes
/// a graph spans every task of that graph (runs nested three deep, on one thread and on a
/// pool).
#[test]
fn spans_time_each_task_and_contain_nested_runs() {
    for threads in [0, 2] {
        let spans = Arc::new(Spans::default());
        let sched = if threads == 0 {
            Scheduler::sync()
        } else {
            Scheduler::threads(threads)
        }
        .observe(spans.clone());
        let (g, root) = nested_graph(2, sched.clone());
        let out = sched.run(g, &[root]).unwrap();
        assert_eq!(out[0].downcast_ref::<i64>(), Some(&9));
        let told = spans.spans.lock().unwrap();
        // three runs of three tasks, each timed once
        assert_eq!(told.len(), 9, "{told:?}");
        let mut runs: Vec<u64> = told.iter().map(|t| t.0).collect();
        runs.sort_unstable();
        runs.dedup();
        assert_eq!(runs.len(), 3);
        assert!(told.iter().all(|t| t.3 <= t.4));
        // the `nest` task (node 2) of each run spans every task of the runs inside it
        for (k, &run) in runs.iter().enumerate() {
            let outer = told.iter().find(|t| t.0 == run && t.1 == 2).unwrap();
            for inner in told.iter().filter(|t| runs[k + 1..].contains(&t.0)) {
                assert!(
                    outer.3 <= inner.3 && inner.4 <= outer.4,
                    "{threads}: {inner:?} outside {outer:?}"
                );
            }
        }
    }
}

/// Spans come a batch at a time, from the threads that ran the tasks, and all of them
/// before the run ends — also when a task fails and the rest are
/// skipped: the failed one is marked, the skipped ones have none.
#[test]
fn spans_come_in_batches_before_the_run_ends() {
    for sched in [Scheduler::sync(), Scheduler::threads(2)] {
        for _ in 0..20 {
            let spans = Arc::new(Spans::default());
            let n = 5000;
            let mut g = TaskGraph::new();
            let leaves: Vec<NodeId> = (0..n).map(|i| leaf(&mut g, i, 1)).collect();
            let sum = g
                .add(
                    Key::token("sum", 0),
                    &leaves,
                    Task::once(|inp| Ok(Value::new(inp.len() as i64))),
                )
                .unwrap();
            let out = sched.clone().observe(spans.clone()).run(g, &[sum]).unwrap();
            assert_eq!(out[0].downcast_ref::<i64>(), Some(&(n as i64)));
            assert_eq!(spans.spans.lock().unwrap().len(), n as usize + 1);
            // one thread: full batches but the last (a pool's threads hand theirs over
            // also when they turn to other work)
            let batches = spans.batches.load(Ordering::Relaxed);
            if sched.is_sync() {
                assert_eq!(batches, (n as usize + 1).div_ceil(64));
            }
        }
    }
    #[derive(Default)]
    struct Failing(Mutex<Vec<(u32, bool)>>);
    impl Observer for Failing {
        fn on_event(&self, _: &Event<'_>) {}
        fn task_spans(&self) -> bool {
            true
        }
        fn on_spans(&self, b: &SpanBatch<'_>) {
            let mut v = self.0.lock().unwrap();
            v.extend(b.spans.iter().map(|t| (t.node.index() as u32, t.failed)));
        }
    }
    let failing = Arc::new(Failing::default());
    let mut g = TaskGraph::new();
    let a = leaf(&mut g, 0, 1);
    let bad = g
        .add(
            Key::token("bad", 1),
            &[a],
            Task::once(|_| Err::<Value, _>(dagr_runtime::TaskError::new("no"))),
        )
        .unwrap();
    let after = g
        .add(
            Key::token("after", 2),
            &[bad],
            Task::once(|_| Ok(Value::new(0_i64))),
        )
        .unwrap();
    let err = Scheduler::threads(2)
        .observe(failing.clone())
        .run(g, &[after])
        .unwrap_err();
    assert!(err.to_string().contains("bad"), "{err}");
    let mut told = failing.0.lock().unwrap().clone();
    told.sort_unstable();
    assert_eq!(told, [(0, false), (1, true)]);
}

#[test]
fn every_task_starts_once_and_ends_once() {
    let log = Arc::new(Log::default());
    let c = Arc::new(Counter::default());
    let (g, root) = tracked_tree(300, &c);
    let n = g.len();
    Scheduler::threads(2)
        .observe(log.clone())
        .run(g, &[root])
        .unwrap();
    let events = log.0.lock().unwrap();
    for kind in [EventKind::Started, EventKind::Finished] {
        let mut ids: Vec<u32> = events.iter().filter(|e| e.0 == kind).map(|e| e.1).collect();
        ids.sort_unstable();
        assert_eq!(ids, (0..n as u32).collect::<Vec<_>>(), "{kind:?}");
    }
}

#[test]
fn a_million_node_chain_builds_and_runs() {
    let n = 1_000_000u64;
    let mut g = TaskGraph::with_capacity(n as usize, n as usize);
    let mut last = leaf(&mut g, 0, 0);
    for i in 1..n {
        last = g
            .add(
                Key::index("step", &[i]),
                &[last],
                Task::once(|inp| Ok(Arc::new(inp.take::<i64>(0)? + 1))),
            )
            .unwrap();
    }
    let out = Scheduler::threads(2).run(g, &[last]).unwrap();
    assert_eq!(out[0].downcast_ref::<i64>(), Some(&(n as i64 - 1)));
}

#[test]
fn a_million_independent_tasks_and_a_sum() {
    let n = 1_000_000u64;
    let mut g = TaskGraph::with_capacity(n as usize + 1, n as usize);
    let leaves: Vec<NodeId> = (0..n).map(|i| leaf(&mut g, i, i as i64)).collect();
    let total = g
        .add(
            Key::token("sum", 0),
            &leaves,
            Task::once(|inp| {
                let mut s = 0i64;
                for k in 0..inp.len() {
                    s += inp.get::<i64>(k)?;
                }
                Ok(Arc::new(s))
            }),
        )
        .unwrap();
    let out = Scheduler::threads(2).run(g, &[total]).unwrap();
    assert_eq!(
        out[0].downcast_ref::<i64>(),
        Some(&((n * (n - 1) / 2) as i64))
    );
}

/// A value whose drop panics.
#[derive(Clone)]
struct Grenade;

impl Drop for Grenade {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("grenade dropped");
        }
    }
}

#[test]
fn a_panicking_drop_fails_the_run_and_keeps_the_pool() {
    for sched in [Scheduler::sync(), Scheduler::threads(2)] {
        let mut g = TaskGraph::new();
        let a = g
            .add(
                Key::token("grenade", 1),
                &[],
                Task::once(|_| Ok(Arc::new(Grenade))),
            )
            .unwrap();
        let b = g
            .add(
                Key::token("reader", 2),
                &[a],
                Task::once(|inp| {
                    inp.get::<Grenade>(0)?;
                    Ok(Arc::new(1_i64))
                }),
            )
            .unwrap();
        let err = sched.run(g, &[b]).unwrap_err();
        assert!(err.to_string().contains("grenade dropped"), "{err}");
        let mut g = TaskGraph::new();
        let ok = leaf(&mut g, 0, 3);
        assert_eq!(
            sched.run(g, &[ok]).unwrap()[0].downcast_ref::<i64>(),
            Some(&3)
        );
    }
}

/// A run frees the keys it does not hand on, held out of line or not (a name made at run
/// time is not interned), and its tasks' captures, whether it succeeds or fails.
#[test]
fn a_run_frees_its_keys_and_tasks() {
    let name: Arc<str> = Arc::from(format!("part-{}", 7));
    let captured = Arc::new(());
    for fail in [false, true] {
        let mut g = TaskGraph::new();
        let inline = leaf(&mut g, 0, 1);
        let c = captured.clone();
        let boxed = g
            .add(
                Key::index(name.clone(), &[1]),
                &[inline],
                Task::once(move |inp| {
                    let _kept = &c;
                    if fail {
                        return Err(dagr_runtime::TaskError::new("no"));
                    }
                    Ok(Arc::new(*inp.get::<i64>(0)? + 1))
                }),
            )
            .unwrap();
        // culled: never runs, its task is dropped all the same
        let c = captured.clone();
        g.add(
            Key::index(name.clone(), &[2]),
            &[boxed],
            Task::once(move |_| Ok(Arc::new(c))),
        )
        .unwrap();
        assert_eq!(Arc::strong_count(&name), 3);
        let out = Scheduler::sync().run(g, &[boxed]);
        assert_eq!(out.is_err(), fail);
        drop(out);
        assert_eq!(
            Arc::strong_count(&name),
            1,
            "keys left behind (fail: {fail})"
        );
        assert_eq!(
            Arc::strong_count(&captured),
            1,
            "tasks left behind (fail: {fail})"
        );
    }
}

/// Counts its drops: a capture of one word (the closure holding it is kept in place).
struct Dropped(Arc<AtomicUsize>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn once_tasks_of_any_size_run_once_and_drop_their_captures_once() {
    // held in place (a word or less) or boxed, the handle of a task is three words
    assert_eq!(
        std::mem::size_of::<Task>(),
        3 * std::mem::size_of::<usize>()
    );
    for sched in [Scheduler::sync(), Scheduler::threads(2)] {
        let drops = Arc::new(AtomicUsize::new(0));
        let runs = Arc::new(AtomicUsize::new(0));
        let mut g = TaskGraph::new();
        let mut made = 0;
        let mut nodes = Vec::new();
        for i in 0..200_u64 {
            let d = Dropped(drops.clone());
            made += 1;
            let task = match i % 4 {
                // one word: held in place; its result reads the capture
                0 => Task::once(move |_| Ok(Value::new(Arc::strong_count(&d.0) as i64))),
                // one word, a panic: the capture is dropped once, while unwinding
                1 => Task::once(move |_| -> Result<Value, _> {
                    let _d = &d;
                    panic!("injected")
                }),
                // two words: boxed
                2 => {
                    let r = runs.clone();
                    Task::once(move |_| {
                        let _d = &d;
                        r.fetch_add(1, Ordering::SeqCst);
                        Ok(Value::new(1_i64))
                    })
                }
                // one word, depends on a panicking task: never runs, dropped with the run
                _ => Task::once(move |_| Ok(Value::new(d.0.load(Ordering::SeqCst) as i64))),
            };
            let deps: Vec<NodeId> = if i % 4 == 3 {
                vec![nodes[i as usize - 2]]
            } else {
                vec![]
            };
            nodes.push(g.add(Key::index("t", &[i]), &deps, task).unwrap());
        }
        // a graph dropped unrun drops its tasks too
        let mut unrun = TaskGraph::new();
        for i in 0..10_u64 {
            let d = Dropped(drops.clone());
            made += 1;
            unrun
                .add(
                    Key::index("u", &[i]),
                    &[],
                    Task::once(move |_| Ok(Value::new(d.0.load(Ordering::SeqCst) as i64))),
                )
                .unwrap();
        }
        drop(unrun);
        let err = sched.run(g, &nodes).unwrap_err();
        assert!(err.to_string().contains("injected"), "{err}");
        assert_eq!(drops.load(Ordering::SeqCst), made, "{sched:?}");
        assert!(runs.load(Ordering::SeqCst) <= 50);
    }
}
