//! `Delayed` end to end: random graphs on every scheduler against a plain oracle, shared
//! work, failures, nesting, memory and scale.

use dagr::prelude::*;
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[delayed]
fn mix(a: u64, b: u64) -> u64 {
    a.rotate_left(7) ^ b.wrapping_mul(0x9e37_79b9)
}

#[delayed]
fn fold(xs: Vec<u64>) -> u64 {
    xs.iter()
        .fold(17, |acc, x| acc.wrapping_mul(31).wrapping_add(*x))
}

#[delayed]
fn checked(x: u64, fail: bool) -> Result<u64, String> {
    if fail {
        Err(format!("refused {x}"))
    } else {
        Ok(x)
    }
}

#[delayed]
fn explode(x: u64, boom: bool) -> u64 {
    assert!(!boom, "boom at {x}");
    x
}

/// One random node: a constant, a `mix` of two earlier nodes, a `fold` over several, or a
/// `map` of one.
#[derive(Clone, Debug)]
enum Op {
    Leaf(u64),
    Mix(usize, usize),
    Fold(Vec<usize>),
    Map(usize),
}

fn ops(max: usize) -> impl Strategy<Value = Vec<Op>> {
    (1..max).prop_flat_map(|n| {
        (0..n)
            .map(|i| {
                if i == 0 {
                    any::<u64>().prop_map(Op::Leaf).boxed()
                } else {
                    prop_oneof![
                        any::<u64>().prop_map(Op::Leaf),
                        (0..i, 0..i).prop_map(|(a, b)| Op::Mix(a, b)),
                        proptest::collection::vec(0..i, 0..5).prop_map(Op::Fold),
                        (0..i).prop_map(Op::Map),
                    ]
                    .boxed()
                }
            })
            .collect::<Vec<_>>()
    })
}

fn oracle(ops: &[Op]) -> Vec<u64> {
    let mut v: Vec<u64> = Vec::new();
    for op in ops {
        let x = match op {
            Op::Leaf(c) => *c,
            Op::Mix(a, b) => mix::eager(v[*a], v[*b]),
            Op::Fold(xs) => fold::eager(xs.iter().map(|&i| v[i]).collect()),
            Op::Map(a) => v[*a] ^ 0xff,
        };
        v.push(x);
    }
    v
}

fn lazy(ops: &[Op]) -> Vec<Delayed<u64>> {
    let mut v: Vec<Delayed<u64>> = Vec::new();
    for op in ops {
        let x = match op {
            Op::Leaf(c) => dagr::value(*c),
            Op::Mix(a, b) => mix(&v[*a], &v[*b]),
            Op::Fold(xs) => fold(xs.iter().map(|&i| v[i].clone()).collect::<Vec<_>>()),
            Op::Map(a) => v[*a].map(|x| x ^ 0xff),
        };
        v.push(x);
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn random_graphs_agree_on_every_scheduler(ops in ops(50), pick in proptest::collection::vec(any::<prop::sample::Index>(), 1..4)) {
        let want = oracle(&ops);
        let nodes = lazy(&ops);
        let outs: Vec<Delayed<u64>> = pick.iter().map(|i| nodes[i.index(nodes.len())].clone()).collect();
        let want: Vec<u64> = pick.iter().map(|i| want[i.index(want.len())]).collect();
        for s in [Scheduler::sync(), Scheduler::threads(2), Scheduler::threads(3), Scheduler::default()] {
            prop_assert_eq!(dagr::compute_with(&outs, s.clone()).unwrap(), want.clone());
            prop_assert_eq!(outs[0].compute_with(s).unwrap(), want[0]);
        }
    }

    #[test]
    fn errors_and_panics_name_their_task(n in 1usize..40, bad in 0usize..40, panic in any::<bool>()) {
        let bad = bad % n;
        let leaves: Vec<Delayed<u64>> = (0..n as u64)
            .map(|i| if panic { explode(i, i == bad as u64) } else { checked(i, i == bad as u64) })
            .collect();
        let bad_key = leaves[bad].key().to_string();
        let t = fold(leaves);
        for s in [Scheduler::sync(), Scheduler::threads(2)] {
            let err = t.compute_with(s).unwrap_err();
            prop_assert_eq!(err.key().map(|k| k.to_string()), Some(bad_key.clone()));
            let text = err.to_string();
            let what = if panic { format!("boom at {bad}") } else { format!("refused {bad}") };
            prop_assert!(text.contains(&bad_key) && text.contains(&what), "{}", text);
            if panic {
                prop_assert!(matches!(err, Error::TaskPanicked { .. }), "{:?}", err);
            } else {
                prop_assert!(matches!(err, Error::TaskFailed { .. }), "{:?}", err);
            }
        }
        // the pool is still usable
        prop_assert_eq!(mix(1, 2).compute().unwrap(), mix::eager(1, 2));
    }
}

static CALLS: AtomicUsize = AtomicUsize::new(0);

#[delayed]
fn counted(x: i64) -> i64 {
    CALLS.fetch_add(1, Ordering::SeqCst);
    x * 10
}

#[test]
fn shared_work_runs_once() {
    let before = CALLS.load(Ordering::SeqCst);
    let base = counted(4);
    let a = base.map(|x| x + 1);
    let b = base.map(|x| x + 2);
    let (a, b, c) = dagr::compute((&a, &b, &base)).unwrap();
    assert_eq!((a, b, c), (41, 42, 40));
    assert_eq!(CALLS.load(Ordering::SeqCst) - before, 1);
}

static PURE_CALLS: AtomicUsize = AtomicUsize::new(0);

#[delayed(pure)]
fn load(name: String, part: u32) -> String {
    PURE_CALLS.fetch_add(1, Ordering::SeqCst);
    format!("{name}:{part}")
}

#[delayed]
fn join(parts: Vec<String>) -> String {
    parts.join(",")
}

#[test]
fn identical_pure_calls_merge_before_running() {
    // two separately built but identical calls: one task
    let j = join(vec![
        load("x".to_string(), 1),
        load("x".to_string(), 1),
        load("x".to_string(), 2),
    ]);
    assert_eq!(j.num_tasks(), 4, "the two identical loads count once");
    let before = PURE_CALLS.load(Ordering::SeqCst);
    assert_eq!(
        j.compute_with(Scheduler::threads(2)).unwrap(),
        "x:1,x:1,x:2"
    );
    assert_eq!(PURE_CALLS.load(Ordering::SeqCst) - before, 2);
}

#[delayed]
fn nested(x: i64) -> Result<i64, dagr::Error> {
    // a task that itself computes a graph, on the same pool
    let inner: Vec<Delayed<i64>> = (0..8).map(|i| dagr::value(i).map(move |v| v + x)).collect();
    let total: Vec<i64> = dagr::compute(&inner)?;
    Ok(total.iter().sum())
}

#[test]
fn compute_inside_tasks_does_not_deadlock() {
    for s in [
        Scheduler::sync(),
        Scheduler::threads(1),
        Scheduler::threads(2),
        Scheduler::default(),
    ] {
        let outer: Vec<Delayed<i64>> = (0..12).map(nested).collect();
        let got: Vec<i64> = dagr::compute_with(&outer, s).unwrap();
        let want: Vec<i64> = (0..12).map(|x| 28 + 8 * x).collect();
        assert_eq!(got, want);
    }
}

/// Counts live instances.
#[derive(Debug)]
struct Chunk {
    live: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    n: u64,
}

impl Chunk {
    fn new(live: &Arc<AtomicUsize>, peak: &Arc<AtomicUsize>, n: u64) -> Chunk {
        let now = live.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(now, Ordering::SeqCst);
        Chunk {
            live: live.clone(),
            peak: peak.clone(),
            n,
        }
    }
}

impl Clone for Chunk {
    fn clone(&self) -> Self {
        Chunk::new(&self.live, &self.peak, self.n)
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn intermediates_are_dropped_after_their_last_consumer() {
    let live = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let n = 2048;
    let mut level: Vec<Delayed<Chunk>> = (0..n)
        .map(|i| {
            let (l, p) = (live.clone(), peak.clone());
            dagr::value(i).map(move |i: u64| Chunk::new(&l, &p, i))
        })
        .collect();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|p| {
                let (l, pk) = (live.clone(), peak.clone());
                dagr::map2(&p[0], &p[1], move |a: Chunk, b: Chunk| {
                    Chunk::new(&l, &pk, a.n + b.n)
                })
            })
            .collect();
    }
    let root = level.pop().unwrap();
    for s in [Scheduler::sync(), Scheduler::threads(2)] {
        peak.store(0, Ordering::SeqCst);
        let out = root.compute_with(s).unwrap();
        assert_eq!(out.n, (0..n).sum::<u64>());
        assert_eq!(live.load(Ordering::SeqCst), 1, "only the result is alive");
        drop(out);
        let peak = peak.load(Ordering::SeqCst);
        assert!(peak <= 64, "{peak} chunks alive at once for {n} leaves");
    }
}

#[test]
fn a_million_node_chain_builds_runs_and_drops() {
    let mut x = dagr::value(0_u64);
    for _ in 0..1_000_000 {
        x = x.map(|v| v + 1);
    }
    assert_eq!(x.num_tasks(), 1_000_001);
    assert_eq!(x.compute().unwrap(), 1_000_000);
    assert_eq!(x.compute_with(Scheduler::sync()).unwrap(), 1_000_000);
    drop(x); // must not overflow the stack
}

#[test]
fn pictures() {
    let dir = std::env::temp_dir().join(format!("dagr-pictures-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let t = fold(vec![mix(1, 2), mix(3, 4)]);
    let dot = t.to_dot();
    assert_eq!(dot.matches("label=\"mix\"").count(), 2);
    assert_eq!(dot.matches("->").count(), 2);
    t.visualize(dir.join("t.dot")).unwrap();
    assert_eq!(std::fs::read_to_string(dir.join("t.dot")).unwrap(), dot);
    t.visualize(dir.join("t.svg")).unwrap();
    assert!(std::fs::read_to_string(dir.join("t.svg"))
        .unwrap()
        .contains("<svg"));
    let has_dot = std::process::Command::new("dot").arg("-V").output().is_ok();
    match t.visualize(dir.join("t.png")) {
        Ok(()) => assert!(
            has_dot
                && std::fs::read(dir.join("t.png"))
                    .unwrap()
                    .starts_with(b"\x89PNG")
        ),
        Err(e) => assert!(!has_dot && e.to_string().contains("graphviz"), "{e}"),
    }
    let err = t.visualize(dir.join("missing-dir/t.dot")).unwrap_err();
    assert!(err.to_string().contains("missing-dir"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
