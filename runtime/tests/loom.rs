//! Model checks of the runtime's protocols with loom: every interleaving (up to the
//! preemption bound) of small graphs run by two or three threads. What each model checks is
//! written in the runtime's `loom_models` module docs. Built and run only with loom:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 \
//!     cargo test -p dagr-runtime --release --test loom --target-dir target/loom
//! ```
#![cfg(loom)]

use dagr_runtime::loom_models::{ModelJob, ModelSleep};
use dagr_runtime::{
    Error, Event, Key, NodeId, Observer, SpanBatch, Tape, Task, TaskError, TaskGraph, Value,
};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;
use std::collections::VecDeque;

/// A value that counts its live copies (a plain std counter: loom runs one thread at a time).
struct Counted(u64, std::sync::Arc<std::sync::atomic::AtomicIsize>);

impl Counted {
    fn new(v: u64, live: &std::sync::Arc<std::sync::atomic::AtomicIsize>) -> Counted {
        live.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Counted(v, live.clone())
    }
}

impl Clone for Counted {
    fn clone(&self) -> Counted {
        Counted::new(self.0, &self.1)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.1.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

type Live = std::sync::Arc<std::sync::atomic::AtomicIsize>;

fn live() -> Live {
    Live::default()
}

/// A leaf producing `v`.
fn leaf(g: &mut TaskGraph, name: &'static str, v: u64, live: &Live) -> NodeId {
    let live = live.clone();
    g.add(
        Key::token(name, 0),
        &[],
        Task::once(move |_| Ok(std::sync::Arc::new(Counted::new(v, &live)))),
    )
    .unwrap()
}

/// A node summing its inputs, reading the even ones and taking the odd ones.
fn sum(g: &mut TaskGraph, name: &'static str, deps: &[NodeId], live: &Live) -> NodeId {
    let live = live.clone();
    g.add(
        Key::token(name, 0),
        deps,
        Task::once(move |inp| {
            let mut s = 0;
            for k in 0..inp.len() {
                s += if k % 2 == 0 {
                    inp.get::<Counted>(k)?.0
                } else {
                    inp.take::<Counted>(k)?.0
                };
            }
            Ok(std::sync::Arc::new(Counted::new(s, &live)))
        }),
    )
    .unwrap()
}

/// Two leaves, 1 and 2, and their sum: the join.
fn join(live: &Live) -> (TaskGraph, NodeId) {
    let mut g = TaskGraph::new();
    let a = leaf(&mut g, "a", 1, live);
    let b = leaf(&mut g, "b", 2, live);
    let c = sum(&mut g, "c", &[a, b], live);
    (g, c)
}

fn value(v: &dagr_runtime::Value) -> u64 {
    v.downcast_ref::<Counted>().unwrap().0
}

/// Runs node `i` and its continuations on this thread; other ready nodes go to `queue`.
fn run_chain(job: &ModelJob, i: u32, worker: usize, queue: &Mutex<VecDeque<u32>>) {
    let mut next = Some(i);
    while let Some(n) = next {
        next = job.execute(n, worker, |s| queue.lock().unwrap().push_back(s));
    }
}

/// A worker: runs queued nodes until the job is done.
fn work(job: &ModelJob, worker: usize, queue: &Mutex<VecDeque<u32>>) {
    while !job.is_done() {
        let got = queue.lock().unwrap().pop_front();
        match got {
            Some(i) => run_chain(job, i, worker, queue),
            None => thread::yield_now(),
        }
    }
}

#[test]
fn countdown_runs_a_join_once() {
    loom::model(|| {
        let live = live();
        let (g, c) = join(&live);
        let job = Arc::new(ModelJob::new(g, &[c]).unwrap());
        let roots = job.roots();
        let ran_join = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = roots
            .into_iter()
            .enumerate()
            .map(|(w, r)| {
                let (job, ran_join) = (job.clone(), ran_join.clone());
                thread::spawn(move || {
                    let next = job.execute(r, w, |_| panic!("a join is never spawned here"));
                    if let Some(n) = next {
                        ran_join.fetch_add(1, Ordering::Relaxed);
                        assert!(job.execute(n, w, |_| {}).is_none());
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(ran_join.load(Ordering::Relaxed), 1, "the join ran once");
        assert!(job.is_done());
        let out = job.finish().unwrap();
        assert_eq!(value(&out[0]), 3);
        drop(out);
        assert_eq!(live.load(std::sync::atomic::Ordering::Relaxed), 0);
    });
}

#[test]
fn last_consumer_moves_the_value() {
    loom::model(|| {
        let live = live();
        let mut g = TaskGraph::new();
        let r = leaf(&mut g, "r", 5, &live);
        let x = sum(&mut g, "x", &[r], &live); // reads r
        let y = sum(&mut g, "y", &[r, r], &live); // reads r, then takes it
        let z = sum(&mut g, "z", &[x, y], &live);
        let job = Arc::new(ModelJob::new(g, &[z]).unwrap());
        let queue = Arc::new(Mutex::new(VecDeque::new()));
        let root = job.roots()[0];
        let helper = {
            let (job, queue) = (job.clone(), queue.clone());
            thread::spawn(move || work(&job, 1, &queue))
        };
        run_chain(&job, root, 0, &queue);
        work(&job, 0, &queue);
        helper.join().unwrap();
        let out = job.finish().unwrap();
        assert_eq!(value(&out[0]), 5 + 10);
        drop(out);
        assert_eq!(live.load(std::sync::atomic::Ordering::Relaxed), 0);
    });
}

#[test]
fn failure_cancels_and_frees() {
    loom::model(|| {
        let live = live();
        let mut g = TaskGraph::new();
        let a = leaf(&mut g, "a", 1, &live);
        let bad = g
            .add(
                Key::token("bad", 0),
                &[],
                Task::once(|_| Err::<Value, _>(TaskError::new("injected error"))),
            )
            .unwrap();
        let c = sum(&mut g, "c", &[a, bad], &live);
        let job = Arc::new(ModelJob::new(g, &[a, c]).unwrap());
        let queue = Arc::new(Mutex::new(VecDeque::new()));
        let roots = job.roots();
        let other = {
            let (job, queue) = (job.clone(), queue.clone());
            let r = roots[1];
            thread::spawn(move || {
                run_chain(&job, r, 1, &queue);
                work(&job, 1, &queue);
            })
        };
        let canceller = {
            let job = job.clone();
            thread::spawn(move || job.cancel(Error::Distributed("cancelled".into())))
        };
        run_chain(&job, roots[0], 0, &queue);
        work(&job, 0, &queue);
        other.join().unwrap();
        let cancelled_first = canceller.join().unwrap();
        let e = job.finish().unwrap_err();
        match e {
            Error::Distributed(_) => assert!(cancelled_first),
            Error::TaskFailed { ref key, .. } => {
                assert!(!cancelled_first);
                assert_eq!(key.to_string(), Key::token("bad", 0).to_string());
            }
            other => panic!("{other}"),
        }
        assert_eq!(live.load(std::sync::atomic::Ordering::Relaxed), 0);
    });
}

#[test]
fn waiting_caller_gets_the_result() {
    loom::model(|| {
        let live = live();
        let (g, c) = join(&live);
        let job = Arc::new(ModelJob::new(g, &[c]).unwrap());
        let threads: Vec<_> = job
            .roots()
            .into_iter()
            .enumerate()
            .map(|(w, r)| {
                let job = job.clone();
                thread::spawn(move || {
                    let q = Mutex::new(VecDeque::new());
                    run_chain(&job, r, w, &q);
                })
            })
            .collect();
        job.wait();
        let out = job.finish().unwrap();
        assert_eq!(value(&out[0]), 3);
        drop(out);
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(live.load(std::sync::atomic::Ordering::Relaxed), 0);
    });
}

/// Counts the spans handed over (a Relaxed counter: only the runtime's own orderings make
/// the count visible to the caller).
#[derive(Default)]
struct CountSpans(AtomicUsize);

impl Observer for CountSpans {
    fn on_event(&self, _: &Event<'_>) {}
    fn task_events(&self) -> bool {
        false
    }
    fn task_spans(&self) -> bool {
        true
    }
    fn on_spans(&self, b: &SpanBatch<'_>) {
        self.0.fetch_add(b.spans.len(), Ordering::Relaxed);
    }
}

#[test]
fn spans_are_handed_over_before_the_run_ends() {
    loom::model(|| {
        let live = live();
        let (g, c) = join(&live);
        let spans = std::sync::Arc::new(CountSpans::default());
        let job = Arc::new(ModelJob::observed(g, &[c], spans.clone()).unwrap());
        let threads: Vec<_> = job
            .roots()
            .into_iter()
            .enumerate()
            .map(|(w, r)| {
                let job = job.clone();
                thread::spawn(move || job.run_chain(r, w, |_| panic!("nothing to spawn")))
            })
            .collect();
        job.wait();
        job.await_spans();
        assert_eq!(
            spans.0.load(Ordering::Relaxed),
            3,
            "every span before the end"
        );
        drop(job.finish().unwrap());
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(live.load(std::sync::atomic::Ordering::Relaxed), 0);
    });
}

#[test]
fn parked_worker_is_woken() {
    loom::model(|| {
        let sleep = Arc::new(ModelSleep::default());
        let queued = Arc::new(AtomicUsize::new(0));
        let worker = {
            let (sleep, queued) = (sleep.clone(), queued.clone());
            thread::spawn(move || {
                // the worker's loop: take work, else park; it must get both items
                let mut taken = 0;
                while taken < 2 {
                    let n = queued.load(Ordering::Acquire);
                    if n > 0
                        && queued
                            .compare_exchange(n, n - 1, Ordering::AcqRel, Ordering::Relaxed)
                            .is_ok()
                    {
                        taken += 1;
                        continue;
                    }
                    sleep.sleep(|| queued.load(Ordering::Acquire) > 0);
                }
            })
        };
        for _ in 0..2 {
            queued.fetch_add(1, Ordering::Release);
            sleep.notify_one();
        }
        worker.join().unwrap();
    });
}

#[test]
fn nested_compute_helps() {
    loom::model(|| {
        let live = live();
        // the inner graph a task computes: two leaves and their sum
        let queue = Arc::new(Mutex::new(VecDeque::new()));
        let inner_job: Arc<Mutex<Option<Arc<ModelJob>>>> = Arc::new(Mutex::new(None));
        let mut outer = TaskGraph::new();
        let task = {
            let (queue, inner_job, live) = (queue.clone(), inner_job.clone(), live.clone());
            Task::once(move |_| {
                let mut g = TaskGraph::new();
                let a = leaf(&mut g, "a", 1, &live);
                let b = leaf(&mut g, "b", 2, &live);
                let c = sum(&mut g, "c", &[a, b], &live);
                let job = Arc::new(ModelJob::new(g, &[c]).unwrap());
                *inner_job.lock().unwrap() = Some(job.clone());
                for r in job.roots() {
                    queue.lock().unwrap().push_back(r);
                }
                // wait by helping: run the inner graph's ready nodes here
                work(&job, 0, &queue);
                let v = value(&job.finish().unwrap()[0]);
                Ok(std::sync::Arc::new(Counted::new(v * 10, &live)))
            })
        };
        let o = outer.add(Key::token("outer", 0), &[], task).unwrap();
        let outer_job = ModelJob::new(outer, &[o]).unwrap();
        let helper = {
            let (queue, inner_job) = (queue.clone(), inner_job.clone());
            thread::spawn(move || loop {
                let job = inner_job.lock().unwrap().clone();
                match job {
                    Some(job) => return work(&job, 1, &queue),
                    None => thread::yield_now(),
                }
            })
        };
        let root = outer_job.roots()[0];
        assert!(outer_job.execute(root, 0, |_| {}).is_none());
        helper.join().unwrap();
        let out = outer_job.finish().unwrap();
        assert_eq!(value(&out[0]), 30);
        drop(out);
        drop(inner_job);
        assert_eq!(live.load(std::sync::atomic::Ordering::Relaxed), 0);
    });
}

/// What a reader sees of a tape: per chunk, its tag and records.
fn read_tape(tape: &Tape<u64>) -> Vec<(u32, Vec<u64>)> {
    tape.chunks()
        .iter()
        .map(|c| (c.tag(), c.iter().collect()))
        .collect()
}

#[test]
fn tape_reader_sees_whole_records() {
    loom::model(|| {
        // chunks of 2 records: 1, 2 fill the first; the pair 3, 4 goes into a second
        let tape = std::sync::Arc::new(Tape::new(2));
        let writer = {
            let mut w = Tape::writer(&tape, 5);
            thread::spawn(move || {
                w.push(1);
                w.push(2);
                w.push_all(&[3, 4]);
            })
        };
        // a reader while the writer goes: whatever it sees is a prefix of what was
        // written, in order, and the pair is whole or absent (loom checks every slot read
        // against the writer's writes)
        let seen = read_tape(&tape);
        let mut flat: Vec<u64> = Vec::new();
        for (tag, records) in &seen {
            assert_eq!(*tag, 5);
            flat.extend(records);
        }
        assert_eq!(flat[..], [1u64, 2, 3, 4][..flat.len()]);
        assert!(flat.len() != 3, "half a pair: {flat:?}");
        writer.join().unwrap();
        // after the writer (the run's end): everything, a chunk per capacity step
        assert_eq!(read_tape(&tape), [(5, vec![1, 2]), (5, vec![3, 4])]);
    });
}

#[test]
fn tape_writers_do_not_share_chunks() {
    loom::model(|| {
        let tape = std::sync::Arc::new(Tape::new(2));
        let threads: Vec<_> = (0..2u32)
            .map(|t| {
                let mut w = Tape::writer(&tape, t);
                thread::spawn(move || {
                    for i in 0..3 {
                        w.push(u64::from(t) * 10 + i);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // each writer's records in its own chunks, in its order
        for t in 0..2u32 {
            let mine: Vec<u64> = read_tape(&tape)
                .into_iter()
                .filter(|(tag, _)| *tag == t)
                .flat_map(|(_, r)| r)
                .collect();
            assert_eq!(mine, [0, 1, 2].map(|i| u64::from(t) * 10 + i));
        }
    });
}
