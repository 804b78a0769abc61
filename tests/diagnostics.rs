//! Diagnostics end to end: the progress bar and the profiler on random graphs (with
//! failures) on every scheduler, the trace file as JSON, and pictures through Graphviz.

use dagr::diagnostics::{Profiler, ProgressBar};
use dagr::prelude::*;
use dagr::VisualizeOptions;
use proptest::prelude::*;
use std::collections::HashSet;
use std::path::PathBuf;

/// Proptest cases per property (each writes a trace file).
const CASES: u32 = 48;

#[delayed]
fn leaf(i: u64) -> u64 {
    i.wrapping_mul(0x9e37_79b9)
}

#[delayed]
fn mix(xs: Vec<u64>, i: u64, fail: bool) -> Result<u64, String> {
    if fail {
        return Err(format!("refused {i}"));
    }
    Ok(xs.iter().fold(i, |acc, x| acc.rotate_left(5) ^ x))
}

#[delayed(name = "odd \"name\" \\ here")]
fn oddly_named(x: u64) -> u64 {
    x
}

/// A random graph: node i is a leaf or mixes some earlier nodes; some nodes fail.
#[derive(Clone, Debug)]
struct Spec {
    nodes: Vec<(Vec<usize>, bool)>,
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
                let fail = if faults {
                    prop_oneof![12 => Just(false), 1 => Just(true)].boxed()
                } else {
                    Just(false).boxed()
                };
                (deps, fail)
            })
            .collect::<Vec<_>>();
        (nodes, proptest::collection::vec(0..n, 1..4))
            .prop_map(|(nodes, outputs)| Spec { nodes, outputs })
    })
}

impl Spec {
    fn build(&self) -> Vec<Delayed<u64>> {
        let mut built: Vec<Delayed<u64>> = Vec::new();
        for (i, (deps, fail)) in self.nodes.iter().enumerate() {
            let node = if deps.is_empty() && !fail {
                leaf(i as u64)
            } else {
                mix(
                    deps.iter().map(|&d| built[d].clone()).collect::<Vec<_>>(),
                    i as u64,
                    *fail,
                )
            };
            built.push(node);
        }
        self.outputs.iter().map(|&o| built[o].clone()).collect()
    }

    /// Number of tasks the outputs need.
    fn needed(&self) -> usize {
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
        need.iter().filter(|&&n| n).count()
    }
}

fn schedulers() -> Vec<Scheduler> {
    vec![
        Scheduler::sync(),
        Scheduler::threads(1),
        Scheduler::threads(2),
    ]
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dagr-diag-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The complete events of a trace file, after checking it is JSON of the expected shape.
fn trace_tasks(path: &std::path::Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let events = json["traceEvents"].as_array().expect("traceEvents");
    for e in events {
        assert!(matches!(e["ph"].as_str(), Some("X" | "M")), "{e}");
        assert!(e["pid"].is_u64() && e["tid"].is_u64(), "{e}");
    }
    events.iter().filter(|e| e["ph"] == "X").cloned().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn progress_and_profile_count_every_task(s in spec(40, true)) {
        let dir = temp_dir("prop");
        let tasks = s.needed();
        let fails = s.nodes.iter().any(|n| n.1);
        for sched in schedulers() {
            let outs = s.build();
            let bar = ProgressBar::hidden();
            let prof = Profiler::new();
            let result = dagr::compute_with(&outs, sched.clone().progress_with(&bar).profile(&prof));
            prop_assert_eq!(bar.total(), tasks as u64, "{:?}", sched);
            prop_assert_eq!(bar.running(), None);
            prop_assert_eq!(bar.done(), prof.len() as u64);
            let summary = prof.summary();
            prop_assert_eq!(summary.runs, 1);
            prop_assert_eq!(summary.tasks, prof.len());
            match &result {
                Ok(_) => {
                    prop_assert_eq!(prof.len(), tasks);
                    prop_assert_eq!(summary.failed, 0);
                }
                Err(e) => {
                    prop_assert!(fails, "{}", e);
                    prop_assert!(prof.len() <= tasks);
                    prop_assert!(summary.failed >= 1);
                }
            }
            let by_prefix: usize = summary.by_prefix.iter().map(|p| p.tasks).sum();
            prop_assert_eq!(by_prefix, prof.len());
            prop_assert!(summary.longest_path.tasks >= 1 && summary.longest_path.tasks <= s.nodes.len());

            let path = dir.join("trace.json");
            prof.write_trace(&path).unwrap();
            let events = trace_tasks(&path);
            prop_assert_eq!(events.len(), prof.len());
            let keys: HashSet<&str> = events.iter().map(|e| e["args"]["key"].as_str().unwrap()).collect();
            prop_assert_eq!(keys.len(), events.len(), "a task appears twice");
            let failed = events.iter().filter(|e| e["args"]["failed"] == true).count();
            prop_assert_eq!(failed, summary.failed);
            for e in &events {
                prop_assert!(e["name"] == "leaf" || e["name"] == "mix", "{}", e);
                prop_assert!(e["ts"].as_f64().unwrap() >= 0.0 && e["dur"].as_f64().unwrap() >= 0.0);
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn pictures_of_random_graphs_parse(s in spec(30, false), limit in 1usize..6) {
        let outs = s.build();
        for opts in [VisualizeOptions::new(), VisualizeOptions::new().collapse_over(limit)] {
            let dot = outs[0].to_dot_with(&opts);
            prop_assert_eq!(graphviz_accepts(&dot), Some(true).filter(|_| has_graphviz()), "{}", dot);
        }
    }
}

/// Whether `dot -Tsvg` accepts the text (`None` when Graphviz is not installed).
fn graphviz_accepts(dot: &str) -> Option<bool> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(dot.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    let svg = String::from_utf8_lossy(&out.stdout);
    Some(out.status.success() && out.stderr.is_empty() && svg.contains("<svg"))
}

fn has_graphviz() -> bool {
    std::process::Command::new("dot").arg("-V").output().is_ok()
}

#[test]
fn the_bar_names_the_running_prefix_and_spans_nested_runs() {
    let bar = ProgressBar::hidden();
    let sched = Scheduler::threads(2).progress_with(&bar);
    let (b, s) = (bar.clone(), sched.clone());
    let outer = dagr::value(1_u64).map(move |x| {
        // inside a task: its prefix is what runs, and a nested run joins the bar
        assert_eq!(b.running().as_deref(), Some("map"));
        let inner: Vec<Delayed<u64>> = (0..10).map(leaf).collect();
        let before = b.total();
        let v = dagr::compute_with(&inner, s.clone()).unwrap();
        assert_eq!(b.total(), before + 10);
        x + v.len() as u64
    });
    assert_eq!(outer.compute_with(sched.clone()).unwrap(), 11);
    assert_eq!((bar.done(), bar.total()), (12, 12));
    // the next run starts over
    assert_eq!(leaf(1).compute_with(sched).unwrap(), leaf::eager(1));
    assert_eq!((bar.done(), bar.total()), (1, 1));
}

#[test]
fn an_unforced_bar_without_a_terminal_installs_nothing() {
    use std::io::IsTerminal as _;
    let bar = ProgressBar::new();
    assert_eq!(bar.is_active(), std::io::stderr().is_terminal());
    assert!(ProgressBar::new().force(true).is_active());
    assert!(ProgressBar::hidden().force(true).is_active());
    leaf(3).compute_with(Scheduler::sync().progress()).unwrap();
}

/// Runs this test binary again as a child with stderr captured (a forced bar draws on the
/// real stderr, which the test harness does not capture).
#[test]
fn a_forced_bar_draws_on_stderr() {
    if std::env::var_os("DAGR_DRAW_CHILD").is_some() {
        let parts: Vec<Delayed<u64>> = (0..40).map(leaf).collect();
        let bar = ProgressBar::new()
            .force(true)
            .minimum(std::time::Duration::ZERO);
        dagr::compute_with(&parts, Scheduler::threads(2).progress_with(&bar)).unwrap();
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["a_forced_bar_draws_on_stderr", "--exact", "--nocapture"])
        .env("DAGR_DRAW_CHILD", "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("40/40 tasks"), "{err}");
    assert!(err.contains("done"), "{err}");
    // the finished bar ends its line, so what the program prints next starts on its own
    let last = err.trim_end_matches('\n').rsplit('\n').next().unwrap_or("");
    assert!(err.ends_with('\n') && last.contains("done"), "{err:?}");
}

#[test]
fn a_profile_of_nested_runs_records_each_task_once_inside_its_caller() {
    for sched in schedulers() {
        let prof = Profiler::new();
        let sched = sched.profile(&prof);
        let s = sched.clone();
        let outer = dagr::value(1_u64).map(move |x| {
            let inner: Vec<Delayed<u64>> = (0..10).map(leaf).collect();
            x + dagr::compute_with(&inner, s.clone()).unwrap().len() as u64
        });
        assert_eq!(outer.compute_with(sched.clone()).unwrap(), 11);
        // the inner run ends first; the outer run is the value and the map
        let summary = prof.summary();
        assert_eq!((summary.runs, summary.tasks), (2, 12), "{sched:?}");
        let dir = temp_dir("nested");
        prof.write_trace(dir.join("t.json")).unwrap();
        let tasks = trace_tasks(&dir.join("t.json"));
        std::fs::remove_dir_all(&dir).unwrap();
        let span = |e: &serde_json::Value| {
            let ts = e["ts"].as_f64().unwrap();
            (ts, ts + e["dur"].as_f64().unwrap())
        };
        let map = tasks
            .iter()
            .find(|e| e["name"] == "map")
            .expect("the map task");
        let leaves: Vec<_> = tasks.iter().filter(|e| e["name"] == "leaf").collect();
        assert_eq!(leaves.len(), 10);
        if format!("{sched:?}").contains("sync") {
            // on one thread, every inner task runs while the map task is open
            let (a, b) = span(map);
            for l in leaves {
                let (c, d) = span(l);
                assert!(a <= c && d <= b, "{map} {l}");
            }
        }
    }
}

#[test]
fn profiles_add_up_over_runs_and_clear() {
    let prof = Profiler::new();
    let sched = Scheduler::threads(2).profile(&prof);
    let mut chain = leaf(0);
    for i in 1..50 {
        chain = mix(vec![chain], i, false);
    }
    chain.compute_with(sched.clone()).unwrap();
    let s = prof.summary();
    assert_eq!((s.runs, s.tasks), (1, 50));
    assert_eq!(s.longest_path.tasks, 50);
    assert_eq!(
        s.longest_path.steps,
        vec![("leaf".to_owned(), 1), ("mix".to_owned(), 49)]
    );
    // the pool's two workers; the calling thread, which runs tasks while it waits, apart
    assert_eq!(s.workers.len(), 2);
    assert!(s
        .workers
        .iter()
        .chain(&s.calling_thread)
        .all(|w| (0.0..=1.0).contains(&w.utilisation)));
    let ran: usize = s
        .workers
        .iter()
        .chain(&s.calling_thread)
        .map(|w| w.tasks)
        .sum();
    assert_eq!(ran, 50);
    let text = s.to_string();
    assert!(text.starts_with("50 tasks of 1 run on 2 workers"), "{text}");
    assert!(text.contains("longest path: 50 tasks"), "{text}");
    assert!(text.contains("leaf → mix ×49"), "{text}");
    leaf(7).compute_with(sched).unwrap();
    assert_eq!((prof.summary().runs, prof.len()), (2, 51));
    // the trace numbers the profiler's runs from 1, whatever ran before in the process
    let dir = temp_dir("numbers");
    prof.write_trace(dir.join("t.json")).unwrap();
    let trace = std::fs::read_to_string(dir.join("t.json")).unwrap();
    assert!(
        trace.contains("\"dagr run 1: 50 tasks on 2 workers and the calling thread\""),
        "{trace}"
    );
    assert!(
        trace.contains("\"dagr run 2: 1 task on 2 workers"),
        "{trace}"
    );
    assert!(!trace.contains("dagr run 3"), "{trace}");
    std::fs::remove_dir_all(&dir).unwrap();
    prof.clear();
    assert!(prof.is_empty());
}

#[test]
fn a_trace_write_failure_is_an_io_error_naming_the_path() {
    let prof = Profiler::new();
    leaf(1)
        .compute_with(Scheduler::sync().profile(&prof))
        .unwrap();
    let dir = temp_dir("io");
    let err = prof
        .write_trace(dir.join("missing-dir/trace.json"))
        .unwrap_err();
    assert!(matches!(err, dagr::Error::Io { .. }), "{err}");
    assert!(err.to_string().contains("missing-dir"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn pictures_collapse_large_layers_and_show_measured_time() {
    let parts: Vec<Delayed<u64>> = (0..1000).map(|i| mix(vec![leaf(i)], i, false)).collect();
    let total = mix(parts, 0, false);
    let dot = total.to_dot();
    assert!(dot.contains("label=\"leaf ×1000\""), "{dot}");
    assert!(dot.contains("label=\"mix ×1001\""), "{dot}");
    assert_eq!(dot.matches("->").count(), 2, "{dot}");
    let all = total.to_dot_with(&VisualizeOptions::new().collapse_over(usize::MAX));
    assert_eq!(all.matches("->").count(), 2000);

    let prof = Profiler::new();
    total
        .compute_with(Scheduler::threads(2).profile(&prof))
        .unwrap();
    let timed = total.to_dot_with(&VisualizeOptions::new().timings(&prof));
    assert!(timed.contains("colour: measured time"), "{timed}");
    assert!(
        !timed.contains("#c7e9c0"),
        "kind colours give way to time: {timed}"
    );
    let odd = oddly_named(leaf(1));
    let odd_dot = odd.to_dot_with(&VisualizeOptions::new().timings(&prof));
    assert!(
        odd_dot.contains(r#"label="odd \"name\" \\ here""#),
        "{odd_dot}"
    );
    for text in [&dot, &all, &timed, &odd_dot] {
        if has_graphviz() {
            assert_eq!(graphviz_accepts(text), Some(true), "{text}");
        }
    }
    if has_graphviz() {
        let dir = temp_dir("pictures");
        total
            .visualize_with(dir.join("t.svg"), &VisualizeOptions::new().timings(&prof))
            .unwrap();
        let svg = std::fs::read_to_string(dir.join("t.svg")).unwrap();
        assert!(svg.contains("leaf ×1000"), "{svg}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// An independent record of what ran: each task's key, worker and outcome, as the task
/// events tell them.
#[derive(Default)]
struct Witness(std::sync::Mutex<Vec<(String, u64, bool)>>);

impl dagr::runtime::Observer for Witness {
    fn on_event(&self, e: &dagr::runtime::Event<'_>) {
        use dagr::runtime::EventKind;
        if e.kind != EventKind::Started {
            let failed = e.kind == EventKind::Failed;
            let mut seen = self.0.lock().unwrap();
            seen.push((e.key.to_string(), e.worker as u64, failed));
        }
    }
}

/// The trace's tasks as (key, worker, failed), sorted.
fn traced(prof: &Profiler, dir: &std::path::Path) -> Vec<(String, u64, bool)> {
    let path = dir.join("witness.json");
    prof.write_trace(&path).unwrap();
    let mut got: Vec<_> = trace_tasks(&path)
        .iter()
        .map(|e| {
            (
                e["args"]["key"].as_str().unwrap().to_owned(),
                e["tid"].as_u64().unwrap(),
                e["args"]["failed"] == true,
            )
        })
        .collect();
    got.sort();
    got
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    /// The profile holds exactly the tasks the events told of, each on its worker with its
    /// outcome; on one thread, tasks that do not nest do not overlap.
    #[test]
    fn the_profile_matches_the_task_events(s in spec(60, true)) {
        let dir = temp_dir("witness");
        for sched in schedulers() {
            let outs = s.build();
            let witness = std::sync::Arc::new(Witness::default());
            let prof = Profiler::new();
            let _ = dagr::compute_with(&outs, sched.clone().observe(witness.clone()).profile(&prof));
            let mut want = witness.0.lock().unwrap().clone();
            want.sort();
            prop_assert_eq!(traced(&prof, &dir), want, "{:?}", sched);
            // the summary's times are the trace's (which shows whole nanoseconds)
            let total: u64 = prof.summary().by_prefix.iter().map(|p| p.total.as_nanos() as u64).sum();
            let spans = spans_by_worker(&prof, &dir);
            let traced_total: u64 = spans.values().flatten().map(|(a, b)| b - a).sum();
            prop_assert_eq!(total, traced_total, "{:?}", sched);
            // one thread runs one task at a time, or a task inside another (a nested run)
            for spans in spans.values() {
                for (i, a) in spans.iter().enumerate() {
                    for b in &spans[i + 1..] {
                        let apart = a.1 <= b.0 || b.1 <= a.0;
                        let nested = (a.0 <= b.0 && b.1 <= a.1) || (b.0 <= a.0 && a.1 <= b.1);
                        prop_assert!(apart || nested, "{:?} and {:?} on {:?}", a, b, sched);
                    }
                }
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Each worker's tasks from the trace as (start, end) in nanoseconds.
fn spans_by_worker(
    prof: &Profiler,
    dir: &std::path::Path,
) -> std::collections::HashMap<u64, Vec<(u64, u64)>> {
    let path = dir.join("spans.json");
    prof.write_trace(&path).unwrap();
    let ns = |v: &serde_json::Value| (v.as_f64().unwrap() * 1000.0).round() as u64;
    let mut spans = std::collections::HashMap::new();
    for e in trace_tasks(&path) {
        let start = ns(&e["ts"]);
        spans
            .entry(e["tid"].as_u64().unwrap())
            .or_insert_with(Vec::new)
            .push((start, start + ns(&e["dur"])));
    }
    spans
}

/// Several threads run graphs at once through one profiler, on one pool and on the sync
/// scheduler: every run is recorded whole, under its own number of tasks.
#[test]
fn concurrent_runs_into_one_profiler_are_recorded_whole() {
    let prof = Profiler::new();
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let prof = prof.clone();
            std::thread::spawn(move || {
                let sched = if t % 2 == 0 {
                    Scheduler::threads(2)
                } else {
                    Scheduler::sync()
                };
                for r in 0..20u64 {
                    let n = 1 + (t * 37 + r * 11) % 300;
                    let parts: Vec<Delayed<u64>> = (0..n).map(leaf).collect();
                    let sum = mix(parts, r, false);
                    sum.compute_with(sched.clone().profile(&prof)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let want: usize = (0..4u64)
        .flat_map(|t| (0..20u64).map(move |r| 2 + ((t * 37 + r * 11) % 300) as usize))
        .sum();
    let s = prof.summary();
    assert_eq!((s.runs, s.tasks, prof.len()), (80, want, want));
    assert_eq!(s.failed, 0);
}

/// A chain run on one thread leaves no gaps in its profile: a task that runs straight after
/// its input's task starts where that one ended (the runtime's bookkeeping in between, and
/// the release of the input, count to the task that follows), and nothing overlaps.
#[test]
fn a_chain_on_one_thread_is_profiled_end_to_start() {
    let prof = Profiler::new();
    let mut x = leaf(1);
    for i in 0..50 {
        x = mix(vec![x], i, false);
    }
    x.compute_with(Scheduler::sync().profile(&prof)).unwrap();
    let dir = temp_dir("chain");
    let spans = spans_by_worker(&prof, &dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(spans.len(), 1);
    let mut spans = spans.into_values().next().unwrap();
    spans.sort();
    assert_eq!(spans.len(), 51);
    for w in spans.windows(2) {
        // the trace shows whole nanoseconds, start and duration each rounded
        assert!(w[0].1.abs_diff(w[1].0) <= 1, "{:?} then {:?}", w[0], w[1]);
    }
}

/// On the sync scheduler every task starts straight after the one before it, wherever the
/// next task comes from (independent leaves, then their sum): the profile shows them back to
/// back, each starting where the previous one ended.
#[test]
fn sync_tasks_are_profiled_back_to_back() {
    let prof = Profiler::new();
    let parts: Vec<Delayed<u64>> = (0..40).map(leaf).collect();
    mix(parts, 7, false)
        .compute_with(Scheduler::sync().profile(&prof))
        .unwrap();
    let dir = temp_dir("sync-back-to-back");
    let spans = spans_by_worker(&prof, &dir);
    std::fs::remove_dir_all(&dir).unwrap();
    let mut spans = spans.into_values().next().unwrap();
    spans.sort();
    assert_eq!(spans.len(), 41);
    for w in spans.windows(2) {
        // the trace shows whole nanoseconds, start and duration each rounded
        assert!(w[0].1.abs_diff(w[1].0) <= 1, "{:?} then {:?}", w[0], w[1]);
    }
}
