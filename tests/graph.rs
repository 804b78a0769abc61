//! `graph!` end to end: pipelines against the same computation done with plain calls, on
//! every scheduler, with failures, reuse, moves and real parallelism.

#![deny(warnings)]

use dagr::prelude::*;
use dagr::Pipeline;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

#[delayed]
fn double(x: i64) -> i64 {
    x * 2
}

#[delayed]
fn add(x: i64, y: i64) -> i64 {
    x + y
}

#[delayed]
fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

#[delayed]
fn parse(text: String) -> Result<i64, std::num::ParseIntError> {
    text.trim().parse()
}

/// A plain function: used with `plain`.
fn square(x: i64) -> i64 {
    x * x
}

/// A plain function returning a `Result`: its `Ok` value is the node's.
fn checked_div(x: i64, y: i64) -> Result<i64, String> {
    if y == 0 {
        Err(format!("{x} / 0"))
    } else {
        Ok(x / y)
    }
}

fn boom(x: i64) -> i64 {
    assert!(x < 100, "boom at {x}");
    x
}

mod util {
    /// A function in another module.
    #[dagr::delayed]
    pub fn negate(x: i64) -> i64 {
        -x
    }

    pub fn scale(x: i64, by: i64) -> i64 {
        x * by
    }
}

/// A generic `#[delayed]` function, named with a turbofish in the graph.
#[delayed]
fn describe<T: std::fmt::Debug>(x: T) -> String {
    format!("<{x:?}>")
}

/// A generic plain function.
fn pair<A, B>(a: A, b: B) -> (A, B) {
    (a, b)
}

#[test]
fn the_issue_example() -> Result<(), dagr::Error> {
    let pipeline = graph! {
        input x: i64;
        input ys: Vec<i64>;
        c = add(a, b);          // definitions in any order: the macro sorts them
        a = inc(x);
        b = double(x);
        s = total(ys);
        output (c, s);
    };
    let (c, s) = pipeline.compute(5, vec![1, 2, 3])?;
    assert_eq!((c, s), (16, 6));
    let (c, s) = pipeline.compute_with(Scheduler::sync(), 5, vec![1])?;
    assert_eq!((c, s), (16, 1));
    Ok(())
}

/// The same pipeline as plain function calls.
fn oracle(x: i64, ys: &[i64]) -> (i64, i64, i64) {
    let a = inc::eager(x);
    let b = double::eager(x);
    let c = add::eager(a, b);
    let s = total::eager(ys.to_vec());
    let q = square(c);
    let t = total::eager(vec![a, b, q, s]);
    (c, t, util::scale(t, -3))
}

#[test]
fn results_equal_plain_calls_on_every_scheduler() -> Result<(), dagr::Error> {
    let pipeline = graph! {
        input x: i64;
        input ys: Vec<i64>;
        a = inc(x);
        b = double(x);
        c = add(a, b);
        s = total(ys);
        q = plain square(c);
        t = total([a, b, q, s]);    // fan-in of four nodes into a Vec
        u = plain util::scale(t, -3);
        output (c, t, u);
    };
    let schedulers = [
        Scheduler::sync(),
        Scheduler::threads(1),
        Scheduler::threads(2),
        Scheduler::threads(4),
        Scheduler::default(),
    ];
    for x in -20..20_i64 {
        let ys: Vec<i64> = (0..x.rem_euclid(7)).collect();
        let expected = oracle(x, &ys);
        assert_eq!(pipeline.compute(x, ys.clone())?, expected);
        for scheduler in &schedulers {
            assert_eq!(
                pipeline.compute_with(scheduler.clone(), x, ys.clone())?,
                expected,
                "{scheduler:?}"
            );
        }
    }
    Ok(())
}

#[test]
fn fan_out_and_fan_in() -> Result<(), dagr::Error> {
    let pipeline = graph! {
        input x: i64;
        a = inc(x);
        b = double(x);
        c = plain square(x);
        d = util::negate(x);
        e = plain util::scale(x, 10);
        all = total([a, b, c, d, e, x]);
        output all;
    };
    for x in 0..50 {
        let expected = (x + 1) + 2 * x + x * x - x + 10 * x + x;
        assert_eq!(pipeline.compute(x)?, expected);
    }
    Ok(())
}

#[test]
fn outputs_single_tuple_and_inputs() -> Result<(), dagr::Error> {
    let single = graph! { input x: i64; a = inc(x); output a; };
    let one_tuple = graph! { input x: i64; a = inc(x); output (a,); };
    let several = graph! {
        input x: i64;
        input label: String;
        a = inc(x);
        b = double(a);
        output (b, label, a, x, b);     // an input, and a node twice
    };
    assert_eq!(single.compute(1)?, 2);
    assert_eq!(one_tuple.compute(1)?, (2,));
    assert_eq!(
        several.compute(1, "one".to_owned())?,
        (4, "one".to_owned(), 2, 1, 4)
    );
    Ok(())
}

#[test]
fn reused_many_times_with_new_inputs() -> Result<(), dagr::Error> {
    let pipeline = graph! {
        input x: i64;
        input text: String;
        n = parse(text);
        s = add(x, n);
        output s;
    };
    for i in 0..2000_i64 {
        assert_eq!(pipeline.compute(i, format!(" {} ", i * 3))?, i * 4);
    }
    let copy = pipeline; // a pipeline is `Copy`
    assert_eq!(copy.compute(1, "2".to_owned())?, 3);
    assert_eq!(pipeline.compute(1, "2".to_owned())?, 3);
    Ok(())
}

#[test]
fn an_err_names_the_failing_node() {
    let pipeline = graph! {
        input x: i64;
        input y: i64;
        input text: String;
        q = plain checked_div(x, y);
        n = parse(text);
        s = add(q, n);
        output s;
    };
    assert_eq!(pipeline.compute(10, 2, "1".to_owned()).unwrap(), 6);
    for scheduler in [Scheduler::sync(), Scheduler::threads(2)] {
        let err = pipeline
            .compute_with(scheduler.clone(), 10, 0, "1".to_owned())
            .unwrap_err();
        assert!(matches!(err, dagr::Error::TaskFailed { .. }), "{err}");
        assert_eq!(err.key().unwrap().prefix(), "q");
        assert!(err.to_string().contains("10 / 0"), "{err}");

        let err = pipeline
            .compute_with(scheduler, 10, 2, "one".to_owned())
            .unwrap_err();
        assert_eq!(err.key().unwrap().prefix(), "n");
        assert!(err.to_string().starts_with("task n-"), "{err}");
    }
}

#[test]
fn a_panic_names_the_failing_node() {
    let pipeline = graph! {
        input x: i64;
        a = inc(x);
        exploded = plain boom(a);
        output exploded;
    };
    assert_eq!(pipeline.compute(1).unwrap(), 2);
    for scheduler in [Scheduler::sync(), Scheduler::threads(2)] {
        let err = pipeline.compute_with(scheduler, 500).unwrap_err();
        assert!(matches!(err, dagr::Error::TaskPanicked { .. }), "{err}");
        assert_eq!(err.key().unwrap().prefix(), "exploded");
        assert!(err.to_string().contains("boom at 501"), "{err}");
    }
    // The pool survives.
    assert_eq!(pipeline.compute(2).unwrap(), 3);
}

/// A two-party rendezvous: each side returns once both have arrived. The timeout only
/// keeps a broken scheduler from hanging the test suite; it is no performance threshold.
#[derive(Clone, Default)]
struct Rendezvous(Arc<(Mutex<usize>, Condvar)>);

fn meet(at: Rendezvous, who: i64) -> Result<i64, String> {
    let (arrived, cv) = &*at.0;
    let mut count = arrived.lock().unwrap();
    *count += 1;
    cv.notify_all();
    let (_count, wait) = cv
        .wait_timeout_while(count, Duration::from_secs(120), |n| *n < 2)
        .unwrap();
    if wait.timed_out() {
        Err(format!(
            "node {who} waited alone: the other never ran beside it"
        ))
    } else {
        Ok(who)
    }
}

#[test]
fn independent_nodes_run_in_parallel() -> Result<(), dagr::Error> {
    // `left` and `right` can only finish if they run at the same time.
    let pipeline = graph! {
        input at: Rendezvous;
        left = plain meet(at, 1);
        right = plain meet(at, 2);
        both = add(left, right);
        output both;
    };
    for _ in 0..20 {
        let both = pipeline.compute_with(Scheduler::threads(2), Rendezvous::default())?;
        assert_eq!(both, 3);
    }
    Ok(())
}

static CLONES: AtomicUsize = AtomicUsize::new(0);

/// A value that counts its clones.
struct Counted(Vec<i64>);

impl Clone for Counted {
    fn clone(&self) -> Self {
        CLONES.fetch_add(1, Ordering::SeqCst);
        Counted(self.0.clone())
    }
}

fn sum_counted(c: Counted) -> i64 {
    c.0.iter().sum()
}

fn len_counted(c: Counted) -> i64 {
    c.0.len() as i64
}

fn keep(c: Counted) -> Counted {
    c
}

#[test]
fn inputs_are_moved_not_cloned() -> Result<(), dagr::Error> {
    // Every test of this file that counts clones runs here, one after the other.
    let one_consumer = graph! {
        input data: Counted;
        s = plain sum_counted(data);
        output s;
    };
    let chain = graph! {
        input data: Counted;
        a = plain keep(data);
        b = plain keep(a);
        output b;
    };
    let passthrough = graph! {
        input data: Counted;
        output data;
    };
    let two_consumers = graph! {
        input data: Counted;
        s = plain sum_counted(data);
        n = plain len_counted(data);
        output (s, n);
    };
    for scheduler in [Scheduler::sync(), Scheduler::threads(2)] {
        CLONES.store(0, Ordering::SeqCst);
        let s = one_consumer.compute_with(scheduler.clone(), Counted(vec![1, 2, 3]))?;
        assert_eq!(s, 6);
        let b = chain.compute_with(scheduler.clone(), Counted(vec![4]))?;
        assert_eq!(b.0, vec![4]);
        let back = passthrough.compute_with(scheduler.clone(), Counted(vec![5]))?;
        assert_eq!(back.0, vec![5]);
        assert_eq!(CLONES.load(Ordering::SeqCst), 0, "{scheduler:?}");

        // Two consumers: a consumer clones while the other still holds the value, the last
        // gets the original; on threads both may take it at the same moment, and each clone.
        let (s, n) = two_consumers.compute_with(scheduler.clone(), Counted(vec![1, 2]))?;
        assert_eq!((s, n), (3, 2));
        let clones = CLONES.load(Ordering::SeqCst);
        if scheduler.is_sync() {
            assert_eq!(clones, 1, "{scheduler:?}");
        } else {
            assert!((1..=2).contains(&clones), "{scheduler:?}: {clones} clones");
        }
    }
    Ok(())
}

static EFFECTS: AtomicUsize = AtomicUsize::new(0);

fn record(x: i64) {
    EFFECTS.fetch_add(x as usize, Ordering::SeqCst);
}

#[test]
fn underscore_nodes_are_computed_and_underscore_inputs_may_go_unused() -> Result<(), dagr::Error> {
    let pipeline = graph! {
        input x: i64;
        input _unused: String;
        a = inc(x);
        _log = plain record(a);       // no output needs it: computed all the same
        output a;
    };
    EFFECTS.store(0, Ordering::SeqCst);
    assert_eq!(pipeline.compute(41, String::new())?, 42);
    assert_eq!(EFFECTS.load(Ordering::SeqCst), 42);
    Ok(())
}

#[test]
fn arguments_literals_constants_repeats_and_generics() -> Result<(), dagr::Error> {
    let pipeline = graph! {
        input x: i64;
        twice = add(x, x);                      // one dependency used twice
        big = add(twice, 1_000);                // a literal
        low = add(big, -1);                     // a negative literal
        capped = plain std::cmp::min(low, i64::MAX); // a constant's path
        shown = describe::<i64>(capped);        // a generic #[delayed] function
        both = plain pair::<String, i64>(shown, x); // a generic plain function
        output both;
    };
    assert_eq!(pipeline.compute(5)?, ("<1009>".to_owned(), 5));
    Ok(())
}

#[test]
fn raw_identifiers_unit_nodes_and_no_inputs() -> Result<(), dagr::Error> {
    let pipeline = graph! {
        input r#type: i64;
        r#loop = inc(r#type);
        output r#loop;
    };
    assert_eq!(pipeline.compute(1)?, 2);
    assert!(format!("{pipeline:?}").contains("(type: i64) -> loop"));

    let constant = graph! {
        a = add(1, 2);
        unit = plain record(0);
        output (a, unit);
    };
    assert_eq!(constant.compute()?, (3, ()));
    Ok(())
}

static STATIC_PIPELINE: Pipeline<(i64, i64), i64> = graph! {
    input x: i64;
    input y: i64;
    s = add(x, y);
    output s;
};

/// A pipeline over a type parameter of the enclosing function.
fn pairing<T: Data + std::fmt::Debug>() -> Pipeline<(T, i64), (T, i64)> {
    graph! {
        input value: T;
        input n: i64;
        m = inc(n);
        p = plain pair::<T, i64>(value, m);
        output p;
    }
}

#[test]
fn pipelines_are_values_with_nameable_types() -> Result<(), dagr::Error> {
    assert_eq!(STATIC_PIPELINE.compute(2, 3)?, 5);
    assert_eq!(pairing::<&'static str>().compute("a", 1)?, ("a", 2));
    assert_eq!(
        format!("{STATIC_PIPELINE:?}"),
        "Pipeline(x: i64, y: i64) -> s"
    );
    Ok(())
}

#[test]
fn to_dot_draws_the_static_structure() {
    let pipeline = graph! {
        input x: i64;
        input ys: Vec<i64>;
        c = add(a, b);
        a = inc(x);
        b = double(x);
        s = total(ys);
        output (c, s);
    };
    let dot = pipeline.to_dot();
    assert!(dot.starts_with("digraph dagr {"), "{dot}");
    assert!(dot.contains("[label=\"x: i64\", shape=box]"), "{dot}");
    assert!(dot.contains("[label=\"ys: Vec<i64>\", shape=box]"), "{dot}");
    assert!(
        dot.contains("[label=\"c = add(a, b)\", shape=ellipse, peripheries=2]"),
        "{dot}"
    );
    assert!(
        dot.contains("[label=\"a = inc(x)\", shape=ellipse]"),
        "{dot}"
    );
    // x feeds a and b, which feed c; ys feeds s: five edges.
    assert_eq!(dot.matches(" -> ").count(), 5, "{dot}");
    assert!(dot.contains("i0 -> n1;"), "{dot}");
    assert!(dot.contains("n1 -> n0;"), "{dot}");
    assert!(dot.trim_end().ends_with('}'));
}
