//! The schedulers against a sequential oracle on random graphs, with injected failures.

use dagr_runtime::{
    Error, Event, EventKind, Key, NodeId, Observer, Run, RunId, Scheduler, Task, TaskCounters,
    TaskError, TaskGraph,
};
use proptest::prelude::*;
use std::sync::{Arc, Mutex};

/// Proptest cases per property; small under miri.
const CASES: u32 = if cfg!(miri) { 4 } else { 700 };

#[derive(Clone, Debug)]
enum Fault {
    None,
    Panic,
    Err,
}

#[derive(Clone, Debug)]
struct Spec {
    /// For each node: its dependencies (earlier nodes) and what it does.
    nodes: Vec<(Vec<usize>, Fault)>,
    outputs: Vec<usize>,
}

fn spec(max_nodes: usize, faults: bool) -> impl Strategy<Value = Spec> {
    (1..max_nodes).prop_flat_map(move |n| {
        let nodes = (0..n)
            .map(|i| {
                let deps = if i == 0 {
                    Just(Vec::new()).boxed()
                } else {
                    proptest::collection::vec(0..i, 0..4.min(i) + 1).boxed()
                };
                let fault = if faults {
                    prop_oneof![8 => Just(Fault::None), 1 => Just(Fault::Panic), 1 => Just(Fault::Err)].boxed()
                } else {
                    Just(Fault::None).boxed()
                };
                (deps, fault)
            })
            .collect::<Vec<_>>();
        (nodes, proptest::collection::vec(0..n, 1..4)).prop_map(|(nodes, outputs)| Spec { nodes, outputs })
    })
}

fn node_value(i: usize, inputs: &[u64]) -> u64 {
    inputs.iter().fold(i as u64 * 0x9e37_79b9 + 1, |acc, x| {
        acc.rotate_left(5) ^ x.wrapping_mul(31)
    })
}

/// The oracle: plain sequential evaluation.
fn oracle(s: &Spec) -> Vec<u64> {
    let mut vals = Vec::with_capacity(s.nodes.len());
    for (i, (deps, _)) in s.nodes.iter().enumerate() {
        let ins: Vec<u64> = deps.iter().map(|&d| vals[d]).collect();
        vals.push(node_value(i, &ins));
    }
    s.outputs.iter().map(|&o| vals[o]).collect()
}

fn build(s: &Spec) -> (TaskGraph, Vec<NodeId>) {
    let mut g = TaskGraph::new();
    let mut ids = Vec::new();
    for (i, (deps, fault)) in s.nodes.iter().enumerate() {
        let d: Vec<NodeId> = deps.iter().map(|&d| ids[d]).collect();
        let fault = fault.clone();
        let id = g
            .add(
                Key::index("node", &[i as u64]),
                &d,
                Task::once(move |inp| {
                    let mut ins = Vec::new();
                    for k in 0..inp.len() {
                        // alternate borrowing and taking, to exercise both paths
                        ins.push(if k % 2 == 0 {
                            *inp.get::<u64>(k)?
                        } else {
                            inp.take::<u64>(k)?
                        });
                    }
                    match fault {
                        Fault::None => Ok(Arc::new(node_value(i, &ins))),
                        Fault::Panic => panic!("injected panic in node {i}"),
                        Fault::Err => Err(TaskError::new(format!("injected error in node {i}"))),
                    }
                }),
            )
            .unwrap();
        ids.push(id);
    }
    let outs = s.outputs.iter().map(|&o| ids[o]).collect();
    (g, outs)
}

fn run(s: &Spec, sched: &Scheduler) -> Result<Vec<u64>, Error> {
    let (g, outs) = build(s);
    let vals = sched.run(g, &outs)?;
    Ok(vals
        .iter()
        .map(|v| *v.downcast_ref::<u64>().unwrap())
        .collect())
}

/// Nodes the outputs need (the culled graph).
fn needed(s: &Spec) -> Vec<bool> {
    let mut need = vec![false; s.nodes.len()];
    for &o in &s.outputs {
        need[o] = true;
    }
    for i in (0..s.nodes.len()).rev() {
        if need[i] {
            for &d in &s.nodes[i].0 {
                need[d] = true;
            }
        }
    }
    need
}

fn schedulers() -> Vec<Scheduler> {
    vec![
        Scheduler::sync(),
        Scheduler::threads(1),
        Scheduler::threads(2),
        Scheduler::threads(4),
    ]
}

/// What an observer saw, in the order it saw it.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    Start {
        run: RunId,
        tasks: usize,
        workers: usize,
    },
    Task {
        kind: EventKind,
        run: RunId,
        node: usize,
        key: String,
        worker: usize,
    },
    End {
        run: RunId,
        failed: bool,
    },
}

/// Records every event, and has the runtime keep counters too.
#[derive(Default)]
struct Recorder(Mutex<Vec<Seen>>, Arc<TaskCounters>);

impl Observer for Recorder {
    fn counters(&self) -> Option<Arc<TaskCounters>> {
        Some(self.1.clone())
    }
    fn on_event(&self, e: &Event<'_>) {
        self.0.lock().unwrap().push(Seen::Task {
            kind: e.kind,
            run: e.run,
            node: e.node.index(),
            key: e.key.to_string(),
            worker: e.worker,
        });
    }
    fn on_run_start(&self, run: &Run<'_>) {
        self.0.lock().unwrap().push(Seen::Start {
            run: run.id(),
            tasks: run.tasks(),
            workers: run.workers(),
        });
    }
    fn on_run_end(&self, run: &Run<'_>) {
        self.0.lock().unwrap().push(Seen::End {
            run: run.id(),
            failed: run.failed(),
        });
    }
}

/// Checks one run's event stream against the graph and the run's result.
fn check_events(
    s: &Spec,
    seen: &[Seen],
    result: &Result<Vec<u64>, Error>,
) -> Result<(), TestCaseError> {
    let need = needed(s);
    let (first, last) = (seen.first().cloned(), seen.last().cloned());
    let Some(Seen::Start {
        run,
        tasks,
        workers,
    }) = first
    else {
        return Err(TestCaseError::fail(format!("no run start first: {seen:?}")));
    };
    prop_assert_eq!(tasks, need.iter().filter(|&&n| n).count());
    prop_assert_eq!(
        last,
        Some(Seen::End {
            run,
            failed: result.is_err()
        })
    );
    // per node: the positions of its Started and of its end event
    let mut started = vec![None; s.nodes.len()];
    let mut ended: Vec<Option<(usize, EventKind)>> = vec![None; s.nodes.len()];
    for (pos, e) in seen[1..seen.len() - 1].iter().enumerate() {
        let Seen::Task {
            kind,
            run: r,
            node,
            key,
            worker,
        } = e
        else {
            return Err(TestCaseError::fail(format!(
                "run event inside the run: {e:?}"
            )));
        };
        prop_assert_eq!(*r, run);
        prop_assert!(need[*node], "culled node {} ran", node);
        prop_assert_eq!(key, &format!("('node', {node})"));
        prop_assert!(*worker < workers, "worker {} of {}", worker, workers);
        match kind {
            EventKind::Started => {
                prop_assert!(started[*node].is_none(), "node {} started twice", node);
                for &d in &s.nodes[*node].0 {
                    prop_assert!(
                        matches!(ended[d], Some((_, EventKind::Finished))),
                        "node {} started before its input {} finished",
                        node,
                        d
                    );
                }
                started[*node] = Some(pos);
            }
            EventKind::Finished | EventKind::Failed => {
                prop_assert!(
                    started[*node].is_some(),
                    "node {} ended before it started",
                    node
                );
                prop_assert!(ended[*node].is_none(), "node {} ended twice", node);
                ended[*node] = Some((pos, *kind));
            }
        }
    }
    let count = |k: EventKind| ended.iter().flatten().filter(|e| e.1 == k).count();
    let n_started = started.iter().flatten().count();
    prop_assert_eq!(
        n_started,
        count(EventKind::Finished) + count(EventKind::Failed)
    );
    match result {
        Ok(_) => {
            prop_assert_eq!(n_started, tasks);
            prop_assert_eq!(count(EventKind::Failed), 0);
        }
        Err(e) => {
            let failed: Vec<usize> = (0..s.nodes.len())
                .filter(|&n| matches!(ended[n], Some((_, EventKind::Failed))))
                .collect();
            prop_assert!(!failed.is_empty(), "{}", e);
            let key = match e {
                Error::TaskPanicked { key, .. } | Error::TaskFailed { key, .. } => key,
                other => return Err(TestCaseError::fail(format!("unexpected error {other}"))),
            };
            prop_assert!(failed.contains(&(key.index_value().unwrap()[0] as usize)));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn every_scheduler_matches_the_oracle(s in spec(60, false)) {
        let want = oracle(&s);
        for sched in schedulers() {
            prop_assert_eq!(run(&s, &sched).unwrap(), want.clone(), "{:?}", sched);
        }
    }

    #[test]
    fn failures_name_a_failing_needed_task(s in spec(40, true)) {
        let need = needed(&s);
        let failing: Vec<usize> = s.nodes.iter().enumerate()
            .filter(|(i, (_, f))| need[*i] && !matches!(f, Fault::None))
            .map(|(i, _)| i)
            .collect();
        for sched in schedulers() {
            match run(&s, &sched) {
                Ok(v) => {
                    prop_assert!(failing.is_empty(), "{:?} succeeded despite faults in {:?}", sched, failing);
                    prop_assert_eq!(v, oracle(&s));
                }
                Err(e) => {
                    let (key, text) = match &e {
                        Error::TaskPanicked { key, message } => (key.clone(), message.clone()),
                        Error::TaskFailed { key, source } => (key.clone(), source.to_string()),
                        other => panic!("unexpected error {other}"),
                    };
                    let i = key.index_value().unwrap()[0] as usize;
                    prop_assert!(failing.contains(&i), "{} is not a failing node", key);
                    let want_text = format!("node {i}");
                    let want_key = format!("('node', {i})");
                    prop_assert!(text.contains(&want_text), "{}", text);
                    prop_assert!(e.to_string().contains(&want_key), "{}", e);
                }
            }
        }
        // the pools are still usable
        for sched in schedulers() {
            let ok = Spec { nodes: vec![(vec![], Fault::None)], outputs: vec![0] };
            prop_assert_eq!(run(&ok, &sched).unwrap(), oracle(&ok));
        }
    }

    #[test]
    fn observers_see_every_task_start_once_and_end_once(s in spec(40, true)) {
        for sched in schedulers() {
            let (a, b) = (Arc::new(Recorder::default()), Arc::new(Recorder::default()));
            let observed = sched.clone().observe(a.clone()).observe(b.clone());
            let result = run(&s, &observed);
            let seen = a.0.lock().unwrap().clone();
            check_events(&s, &seen, &result)?;
            // the counters agree with the events: one per task that ended, none running
            let ended = seen.iter().filter(|e| matches!(e, Seen::Task { kind: EventKind::Finished | EventKind::Failed, .. })).count();
            prop_assert_eq!(a.1.done(), ended as u64);
            let Some(Seen::Start { run, .. }) = seen.first() else { unreachable!() };
            prop_assert_eq!(a.1.running(*run).count(), 0);
            prop_assert_eq!(b.1.done(), 0, "only the first observer's counters are kept");
            // a second observer sees the same events (the order of concurrent tasks may differ)
            let mut other = b.0.lock().unwrap().clone();
            let mut mine = seen;
            let by_text = |x: &Seen, y: &Seen| format!("{x:?}").cmp(&format!("{y:?}"));
            other.sort_by(by_text);
            mine.sort_by(by_text);
            prop_assert_eq!(mine, other);
        }
    }
}
