//! One run of a graph: per-node counters, results, failure and completion.
//!
//! # Node states
//! A node is *waiting* while `pending` (inputs not yet produced) is above zero; the thread
//! whose decrement brings it to zero owns the node and *runs* it (roots start owned). Running
//! takes the task, produces the result into `slot`, *releases* each input (one unit of the
//! input's `consumers` count) and then decrements the successors' `pending`. A result lives
//! while its `consumers` count is above zero: the consumer that releases the last unit drops
//! it, or moves it out when it takes the value. Every output occurrence holds one unit, given
//! up by the caller when it collects the result. (The top two bits of `pending` are not
//! part of the count: they say whether the node is an output and whether it is produced
//! outside the run, are set before the run starts and never change.)
//!
//! # Orderings
//! Every decrement is `AcqRel`: the producer's write of `slot` is Released by its decrement
//! of `pending` and Acquired by the thread that takes the node over; each consumer's reads of
//! an input are Released by its decrement of `consumers` and Acquired by the consumer that
//! sees the count reach zero (or one) and drops or takes the value. These two edges are the
//! invariants the `// SAFETY:` comments below refer to.
//!
//! # Sources
//! On a pool, the roots are started in graph order from one cursor shared by every thread
//! of the run ([`Job::claim_roots`]), and at most a given number of claims (the pool's
//! size) are *in flight* at once: claimed and not yet through the chain of work their
//! thread ran after them. Starting roots in order lets the consumers of the first ones run
//! before far ones are opened, and the bound keeps the number of partial results alive at
//! a few per thread. A claim is usually one root; roots that take microseconds are claimed
//! several at a time (the pool decides how many). Cursor and count share one atomic word, so
//! a claim is one compare-and-swap. It is Relaxed: a claim only decides who owns a root,
//! whose task was written before the run reached the pool's queues, which synchronise.
//!
//! # Reused arrays
//! A run's per-node arrays (states, successor lists, roots) are sized by its graph.
//! Allocated afresh, every run of a large graph would fault in their pages again, since the
//! allocator hands large blocks back to the system when they are freed (and freeing one
//! makes it merge the small blocks freed before: a 4 MiB root list took 14 ms to free after
//! a run of 2 million small tasks, a fifth of the run); so the arrays of the last run
//! to end are kept, emptied, and the next run fills them ([`Spare`], up to
//! [`SPARE_MAX_BYTES`]). Runs that overlap take fresh arrays, and the largest are kept.
//! The graph's own arrays (keys, tasks, dependency lists) are kept the same way, for the
//! next [`TaskGraph::new`] or [`TaskGraph::with_capacity`] to grow into: a graph built node
//! by node would otherwise grow them by doubling, copying and faulting in each size in turn.
//! (Keys and dependency lists an observer still holds, a profile's, stay with it.)
//!
//! # Failure
//! The first failing task records its error and sets `failed`; from then on tasks are
//! skipped but the graph is still walked (inputs released, successors counted down), so the
//! run ends through the same path as a successful one and frees everything.

use crate::cell::ExclusiveCell;
use crate::counters::CountSlot;
use crate::error::{InputTypeError, MissingInputError};
use crate::observer::{DepLists, Process};
use crate::sync::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Condvar, Mutex, Ordering};
use crate::{
    Error, Event, EventKind, Key, NodeId, Observer, Run, RunId, SpanBatch, Task, TaskClock,
    TaskCounters, TaskError, TaskGraph, TaskSpan, Value,
};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// A node of a run: 24 bytes.
struct NodeState {
    /// Inputs not yet produced (the low bits, [`COUNT`]) and the node's two flags, set
    /// before the run starts and never changed: [`OUTPUT`] and [`EXTERNAL`].
    pending: AtomicU32,
    consumers: AtomicU32,
    slot: ExclusiveCell<Value>,
}

/// The node is an output of the run.
const OUTPUT: u32 = 1 << 31;
/// The node is produced outside the run and handed in by [`Job::provide`] (its count
/// starts at one, for the hand-over).
const EXTERNAL: u32 = 1 << 30;
/// The bits of `pending` that count inputs (a node has fewer inputs: `TaskGraph::add`).
pub(crate) const COUNT: u32 = EXTERNAL - 1;

impl NodeState {
    /// Whether the flag `flag` is set (flags never change once the run has started).
    #[inline]
    fn has(&self, flag: u32) -> bool {
        self.pending.load(Ordering::Relaxed) & flag != 0
    }
}

/// How long a caller polls for the end of its run before blocking.
const WAIT_SPIN_MICROS: u64 = 50;

/// How many task spans a thread gathers before it hands them to the observer.
const SPAN_BATCH: usize = 64;

thread_local! {
    /// The span buffer this thread's last chain left, for its next chain to fill (a chain
    /// that starts while another is open on the thread, a nested run's, makes its own).
    static SPARE_SPANS: std::cell::Cell<Vec<TaskSpan>> = const {
        std::cell::Cell::new(Vec::new())
    };
}

pub(crate) struct Job {
    // Vecs, not boxed slices: converting would copy every array whose capacity exceeds its
    // length (the graph's arrays grew by doubling). The keys are shared with observers.
    keys: Arc<Vec<Key>>,
    nodes: Vec<NodeState>,
    /// Each node's task, taken by the thread that owns the node. Apart from `nodes`: this
    /// array is the graph's own, converted in place, so a run does not hold a second copy.
    bodies: Vec<ExclusiveCell<Task>>,
    /// The graph's dependency lists, shared with observers that keep them.
    deps: Arc<DepLists>,
    succ_start: Vec<u32>,
    succs: Vec<u32>,
    pub(crate) roots: Vec<u32>,
    /// The sources' cursor and count (see the module docs): `next << 32 | in_flight`.
    sources: Apart<AtomicU64>,
    /// Whether a pool worker has run part of this run.
    worker: AtomicBool,
    outputs: Vec<u32>,
    outputs_left: AtomicUsize,
    failed: AtomicBool,
    error: Mutex<Option<Error>>,
    /// What to tell about each task, if anything: one branch per task start and end when
    /// nothing.
    watch: Option<Watch>,
    /// The observer's task counters, if it keeps any (each chain of tasks looks its
    /// thread's slot up once: see [`Job::chain`]).
    counters: Option<Arc<TaskCounters>>,
    /// Threads holding spans of this run's tasks that they have not handed to the observer
    /// yet (see [`Job::close_chain`]).
    spans_open: Apart<AtomicUsize>,
    /// This run's id, carried by its events.
    pub(crate) id: RunId,
    /// Number of nodes the outputs need (those that run).
    pub(crate) tasks: usize,
    /// Number of processes running the graph together (1 but in a distributed run).
    pub(crate) ranks: u32,
    done: AtomicBool,
    latch: (Mutex<bool>, Condvar),
    /// Whether a key is held out of line (see [`TaskGraph`]'s `boxed_keys`).
    boxed_keys: bool,
    /// Set by [`Job::finish`] on a run that is done: every task was taken and every value
    /// handed out or dropped, so the arrays hold nothing to drop (see the `Drop` impl).
    emptied: AtomicBool,
}

/// A counter the run's threads write now and then, alone on its cache lines: the fields
/// every task reads (the arrays, `failed`, `watch`) stay shared in every core's cache.
#[repr(align(128))]
struct Apart<T>(T);

impl<T> std::ops::Deref for Apart<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// How a run reports its tasks to its observer.
struct Watch {
    /// The observer, if it wants task events.
    events: Option<Arc<dyn Observer>>,
    /// Whether it wants [`EventKind::Started`] events too.
    started: bool,
    /// The observer and the clock to time tasks with, if it wants task spans.
    spans: Option<(Arc<dyn Observer>, TaskClock)>,
}

impl Watch {
    fn new(observer: Arc<dyn Observer>) -> Option<Watch> {
        let spans = observer
            .task_spans()
            .then(|| (observer.clone(), TaskClock::get()));
        let events = observer.task_events().then_some(observer);
        let started = events.as_ref().is_some_and(|o| o.started_events());
        (events.is_some() || spans.is_some()).then_some(Watch {
            events,
            started,
            spans,
        })
    }
}

/// What a thread carries from one task it runs to the next (see [`Job::execute`]); it
/// ends with [`Job::close_chain`].
#[derive(Debug, Default)]
pub(crate) struct Chain<'a> {
    /// The thread's last call ran a task, and the thread went straight on to this one.
    follows: bool,
    /// That task's end on the task clock (when the run times its tasks).
    end: u64,
    /// The spans of the tasks the thread ran, not yet handed to the observer (when the run
    /// times its tasks).
    spans: Vec<TaskSpan>,
    /// The thread's slot in the observer's counters, if it keeps any: looked up once a
    /// chain rather than once a task (a tree of trivial tasks ran 5 % slower under a
    /// progress bar with the lookup per task, 1 % with it per chain).
    counts: Option<CountSlot<'a>>,
}

impl Job {
    /// A chain of tasks `worker` is about to run (see [`Job::execute`]), with the
    /// thread's slot in the observer's counters if it keeps any.
    #[inline]
    pub(crate) fn chain(&self, worker: usize) -> Chain<'_> {
        Chain {
            counts: self.counters.as_ref().map(|c| c.slot_of(worker, self.id)),
            ..Chain::default()
        }
    }

    /// Prepares a run: culls what `outputs` do not need and counts inputs and consumers.
    pub(crate) fn new(
        graph: TaskGraph,
        outputs: &[NodeId],
        observer: Option<Arc<dyn Observer>>,
    ) -> Result<Job, Error> {
        let n = graph.len();
        if let Some(bad) = outputs.iter().find(|o| o.index() >= n) {
            return Err(Error::InvalidOutput(bad.index()));
        }
        let TaskGraph {
            keys,
            tasks,
            dep_start,
            deps,
            wires: _,
            replicated: _,
            spread: _,
            pins: _,
            boxed_keys,
        } = graph;
        let Spare {
            mut nodes,
            mut succ_start,
            mut succs,
            mut needed,
            mut roots,
            graph: _,
        } = Spare::take();
        // Cull: deps always point backwards, so one reverse sweep marks every ancestor; it
        // counts each needed node's consumers in `succ_start[d]` on the way.
        needed.resize(n, false);
        succ_start.resize(n + 1, 0);
        for o in outputs {
            needed[o.index()] = true;
        }
        for i in (0..n).rev() {
            if needed[i] {
                for &d in &deps[dep_start[i] as usize..dep_start[i + 1] as usize] {
                    needed[d as usize] = true;
                    succ_start[d as usize] += 1;
                }
            }
        }
        // Successor lists (CSR), in increasing consumer order: `succ_start[d]` becomes the
        // end of d's list, and a backward sweep fills each list from its end, leaving
        // `succ_start[d]` at its start.
        let mut acc = 0u32;
        for c in succ_start.iter_mut() {
            acc += *c;
            *c = acc;
        }
        succs.resize(acc as usize, 0);
        for i in (0..n).rev() {
            if needed[i] {
                for &d in &deps[dep_start[i] as usize..dep_start[i + 1] as usize] {
                    succ_start[d as usize] -= 1;
                    succs[succ_start[d as usize] as usize] = i as u32;
                }
            }
        }
        let mut to_run = 0;
        nodes.extend((0..n).map(|i| {
            let external = tasks[i].is_external();
            let is_deps_free = dep_start[i] == dep_start[i + 1];
            if needed[i] {
                to_run += !external as usize;
                if is_deps_free && !external {
                    roots.push(i as u32);
                }
            }
            let flags = if external && needed[i] { EXTERNAL } else { 0 };
            NodeState {
                pending: AtomicU32::new(
                    (dep_start[i + 1] - dep_start[i] + external as u32) | flags,
                ),
                consumers: AtomicU32::new(succ_start[i + 1] - succ_start[i]),
                slot: ExclusiveCell::new(None),
            }
        }));
        // (Collected in place: `ExclusiveCell<Task>` is laid out as `Option<Task>`, outside
        // loom.)
        let tasks: Vec<ExclusiveCell<Task>> = tasks
            .into_iter()
            .enumerate()
            .map(|(i, task)| ExclusiveCell::new((needed[i] && !task.is_external()).then_some(task)))
            .collect();
        // Every output occurrence holds a unit of its node's `consumers`.
        let mut distinct_outputs = 0;
        for o in outputs {
            let node = &mut nodes[o.index()];
            distinct_outputs += usize::from(!node.has(OUTPUT));
            node.pending.fetch_or(OUTPUT, Ordering::Relaxed);
            node.consumers.fetch_add(1, Ordering::Relaxed);
        }
        needed.clear();
        Spare::put_scratch(needed);
        Ok(Job {
            keys: Arc::new(keys),
            nodes,
            bodies: tasks,
            deps: Arc::new(DepLists {
                starts: dep_start,
                deps,
            }),
            succ_start,
            succs,
            roots,
            sources: Apart(AtomicU64::new(0)),
            worker: AtomicBool::new(false),
            outputs: outputs.iter().map(|o| o.0).collect(),
            outputs_left: AtomicUsize::new(distinct_outputs),
            failed: AtomicBool::new(false),
            error: Mutex::new(None),
            counters: observer.as_ref().and_then(|o| o.counters()),
            watch: observer.and_then(Watch::new),
            spans_open: Apart(AtomicUsize::new(0)),
            id: RunId::next(),
            tasks: to_run,
            ranks: 1,
            done: AtomicBool::new(distinct_outputs == 0),
            latch: (Mutex::new(distinct_outputs == 0), Condvar::new()),
            boxed_keys,
            emptied: AtomicBool::new(false),
        })
    }

    /// Claims the next roots not yet started, up to `want` of them (at least one), if fewer
    /// than `limit` claims are in flight. A [`Claim::Roots`] is in flight until the claimer
    /// calls [`Job::roots_done`]; its roots are the claimer's to run, in order.
    pub(crate) fn claim_roots(&self, limit: u32, want: u32) -> Claim {
        let mut state = self.sources.load(Ordering::Relaxed);
        loop {
            let (next, in_flight) = ((state >> 32) as u32, state as u32);
            let left = (self.roots.len() as u32).saturating_sub(next);
            if left == 0 {
                return Claim::Exhausted;
            }
            if in_flight >= limit {
                return Claim::Full;
            }
            let take = want.clamp(1, left);
            match self.sources.compare_exchange_weak(
                state,
                state + ((take as u64) << 32) + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Claim::Roots(next, next + take),
                Err(now) => state = now,
            }
        }
    }

    /// Root `k` in claim order (`k` from a [`Claim::Roots`]).
    pub(crate) fn root(&self, k: u32) -> u32 {
        self.roots[k as usize]
    }

    /// Notes that a pool worker runs part of this run.
    pub(crate) fn worker_joined(&self) {
        if !self.worker.load(Ordering::Relaxed) {
            self.worker.store(true, Ordering::Relaxed);
        }
    }

    /// Whether a pool worker has run part of this run.
    pub(crate) fn has_worker(&self) -> bool {
        self.worker.load(Ordering::Relaxed)
    }

    /// Ends the flight of roots claimed with [`Job::claim_roots`].
    pub(crate) fn roots_done(&self) {
        self.sources.fetch_sub(1, Ordering::Relaxed);
    }

    /// Whether another root could be claimed now under `limit` (roots are left and fewer
    /// than `limit` are in flight).
    pub(crate) fn has_room(&self, limit: u32) -> bool {
        let state = self.sources.load(Ordering::Relaxed);
        ((state >> 32) as usize) < self.roots.len() && (state as u32) < limit
    }

    /// Whether every root has been claimed.
    pub(crate) fn roots_exhausted(&self) -> bool {
        (self.sources.load(Ordering::Relaxed) >> 32) as usize >= self.roots.len()
    }

    fn deps_of(&self, i: u32) -> &[u32] {
        self.deps.of(i as usize)
    }

    fn succs_of(&self, i: u32) -> &[u32] {
        let i = i as usize;
        &self.succs[self.succ_start[i] as usize..self.succ_start[i + 1] as usize]
    }

    /// Hands in the value of external node `i` (`None`: the run failed and it will not
    /// come). Returns whether the caller now owns the node and must have it run (with
    /// [`Job::execute`]): false when `i` is not an external node this run needs, or was
    /// handed in before.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub(crate) fn provide(&self, i: u32, value: Option<Value>) -> bool {
        let Some(node) = self.nodes.get(i as usize) else {
            return false;
        };
        // (the flags stay as they are: only the count goes from one to zero)
        let flags = node.pending.load(Ordering::Relaxed) & !COUNT;
        if flags & EXTERNAL == 0
            || node
                .pending
                .compare_exchange(flags | 1, flags, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
        {
            return false;
        }
        if let Some(v) = value {
            // SAFETY: our exchange brought `pending` to zero, so we own the node; it runs
            // only after the caller hands it on, which Releases this write.
            unsafe { self.bodies[i as usize].put(Task::value(v)) };
        }
        true
    }

    /// Fails the run with `error` unless it failed already: tasks not yet started are
    /// skipped. Used when the failure is outside the graph (another process).
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    /// Returns whether `error` is the run's error (false: it had failed before).
    pub(crate) fn cancel(&self, error: Error) -> bool {
        let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
        let first = slot.is_none();
        if first {
            *slot = Some(error);
        }
        self.failed.store(true, Ordering::Release);
        first
    }

    /// The key of node `i`.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub(crate) fn key(&self, i: u32) -> &Key {
        &self.keys[i as usize]
    }

    /// Whether a task failed (or the run was cancelled).
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub(crate) fn has_failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// If the run failed: its error, rendered.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub(crate) fn error_message(&self) -> Option<String> {
        let slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref().map(|e| e.to_string())
    }

    /// Runs node `i`, which the caller owns (a root, or its `pending` reached zero by the
    /// caller's decrement). Successors that become ready are handed to `spawn`, except one,
    /// which is returned so the caller runs it next (continuation, depth first).
    ///
    /// `chain` is what the caller's previous call on this thread left: whether it ran a task
    /// and the caller went straight on to `i` (the node that call returned, or the next root
    /// of the caller's batch; see [`Event::follows`]), that task's end and the spans not
    /// yet handed over; this call leaves its own for the next. A chain is one thread's and
    /// one run's, and ends with [`Job::close_chain`].
    pub(crate) fn execute(
        &self,
        i: u32,
        worker: usize,
        chain: &mut Chain<'_>,
        mut spawn: impl FnMut(u32),
    ) -> Option<u32> {
        let after_task = std::mem::replace(&mut chain.follows, false);
        let node = &self.nodes[i as usize];
        // SAFETY: the caller owns node i (see above); only the owner touches `task`.
        let task = unsafe { self.bodies[i as usize].take() };
        let mut inputs = Inputs::new(self, self.deps_of(i));
        if let Some(task) = task {
            if node.has(EXTERNAL) {
                // A value handed in: no task ran here, so observers hear nothing.
                if let Ok(value) = task.call(&mut inputs) {
                    // SAFETY: as below, the node is ours and no consumer runs yet.
                    unsafe { node.slot.put(value) };
                }
            } else if !self.failed.load(Ordering::Acquire) {
                if let Some(c) = &chain.counts {
                    c.started(i);
                }
                let start = self.task_started(i, worker, after_task, chain.end);
                chain.follows = true;
                let ended = match catch_unwind(AssertUnwindSafe(|| task.call(&mut inputs))) {
                    Ok(Ok(value)) => {
                        // SAFETY: node i is owned by this thread and has no consumer running
                        // yet: they start only after our `pending` decrements below.
                        unsafe { node.slot.put(value) };
                        EventKind::Finished
                    }
                    Ok(Err(e)) => {
                        self.fail(i, |key| Error::TaskFailed { key, source: e.0 });
                        EventKind::Failed
                    }
                    Err(payload) => {
                        let message = panic_message(payload.as_ref());
                        self.fail(i, |key| Error::TaskPanicked { key, message });
                        EventKind::Failed
                    }
                };
                chain.end = self.task_ended(ended, i, worker, start, &mut chain.spans);
                if let Some(c) = &chain.counts {
                    c.ended();
                }
            }
        }
        // Dropping a last-used input runs user `Drop` code: a panic there fails the run like
        // a panic in the task, instead of killing the worker. (The task's own event is
        // already told: observers see no second one.)
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| inputs.release_all())) {
            let message = panic_message(payload.as_ref());
            self.fail(i, |key| Error::TaskPanicked { key, message });
        }
        let mut next = None;
        for &s in self.succs_of(i) {
            if self.nodes[s as usize]
                .pending
                .fetch_sub(1, Ordering::AcqRel)
                & COUNT
                == 1
            {
                match next {
                    None => next = Some(s),
                    Some(_) => spawn(s),
                }
            }
        }
        if node.has(OUTPUT) && self.outputs_left.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.set_done();
        }
        next
    }

    fn fail(&self, i: u32, make: impl FnOnce(Key) -> Error) {
        let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(make(self.keys[i as usize].clone()));
        }
        self.failed.store(true, Ordering::Release);
    }

    /// Tells the observer, if any, that task `i` starts; returns its start on the task
    /// clock when the run times its tasks (the end of the task it follows, if it does).
    /// (Inlined into [`Job::execute`], as [`Job::task_ended`] is: a run without an observer
    /// pays one branch, and spans cost no call; only events are told through a call. The
    /// task counters are kept by [`Job::execute`] itself, through the chain's slot.)
    #[inline(always)]
    fn task_started(&self, i: u32, worker: usize, follows: bool, last_end: u64) -> u64 {
        let Some(w) = &self.watch else { return 0 };
        let start = match &w.spans {
            Some((_, clock)) if !follows => clock.now(),
            _ => last_end,
        };
        if w.started {
            self.tell(w, EventKind::Started, i, worker, follows);
        }
        start
    }

    /// Tells the observer, if any, that task `i` ended (`kind`), adding its span to `spans`
    /// when the run times its tasks; returns its end on the task clock then.
    #[inline(always)]
    fn task_ended(
        &self,
        kind: EventKind,
        i: u32,
        worker: usize,
        start: u64,
        spans: &mut Vec<TaskSpan>,
    ) -> u64 {
        let Some(w) = &self.watch else { return 0 };
        let mut end = 0;
        if let Some((_, clock)) = &w.spans {
            end = clock.now();
            self.add_span(kind, i, worker, (start, end), spans);
        }
        if w.events.is_some() {
            self.tell(w, kind, i, worker, false);
        }
        end
    }

    /// Adds task `i`'s span to the thread's batch, handing the batch over when full.
    #[inline(always)]
    fn add_span(
        &self,
        kind: EventKind,
        i: u32,
        worker: usize,
        (start, end): (u64, u64),
        spans: &mut Vec<TaskSpan>,
    ) {
        if spans.is_empty() {
            self.open_spans(spans);
        }
        spans.push(TaskSpan {
            node: NodeId(i),
            failed: kind == EventKind::Failed,
            start,
            end,
        });
        if spans.len() == SPAN_BATCH {
            self.hand_over_spans(worker, spans);
        }
    }

    /// Starts a thread's batch of spans: counts it in `spans_open` before the task's
    /// consumers are counted down, so the run cannot end before the thread hands the batch
    /// over (see [`Job::close_chain`]), and finds the batch room.
    #[cold]
    fn open_spans(&self, spans: &mut Vec<TaskSpan>) {
        self.spans_open.fetch_add(1, Ordering::Relaxed);
        if spans.capacity() == 0 {
            *spans = SPARE_SPANS.try_with(|s| s.take()).unwrap_or_default();
            spans.reserve_exact(SPAN_BATCH);
        }
    }

    /// Ends a thread's chain of tasks of this run: hands the spans it gathered to the
    /// observer. Every chain given to [`Job::execute`] ends here, before the thread turns to
    /// other work.
    ///
    /// A thread counts itself in `spans_open` when it gathers its first span of a batch,
    /// before that task's consumers are counted down, so the run is not done before the
    /// count went up; it counts itself out once the observer has the batch. The run's end
    /// ([`Job::await_spans`]) waits for the count to be zero: every span is handed over
    /// before [`Observer::on_run_end`].
    pub(crate) fn close_chain(&self, chain: &mut Chain<'_>, worker: usize) {
        if chain.spans.capacity() > 0 {
            self.hand_over_spans(worker, &mut chain.spans);
            let spans = std::mem::take(&mut chain.spans);
            let _ = SPARE_SPANS.try_with(|s| s.set(spans));
        }
    }

    #[inline(never)]
    fn hand_over_spans(&self, worker: usize, spans: &mut Vec<TaskSpan>) {
        let Some(Watch {
            spans: Some((observer, _)),
            ..
        }) = &self.watch
        else {
            return;
        };
        if spans.is_empty() {
            return;
        }
        /// Counts the thread out however the observer returns, a panic included: the run's
        /// end never waits for a batch that will not come.
        struct Handed<'a>(&'a AtomicUsize);
        impl Drop for Handed<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::Release);
            }
        }
        let _handed = Handed(&self.spans_open);
        observer.on_spans(&SpanBatch {
            run: self.id,
            worker,
            spans,
        });
        spans.clear();
    }

    /// After the run is done: waits until every thread has handed over the spans of its
    /// tasks (the last batches are on their way: see [`Job::close_chain`]).
    pub(crate) fn await_spans(&self) {
        while self.spans_open.load(Ordering::Acquire) != 0 {
            crate::sync::yield_now();
        }
    }

    #[inline(never)]
    fn tell(&self, w: &Watch, kind: EventKind, i: u32, worker: usize, follows: bool) {
        if let Some(obs) = &w.events {
            obs.on_event(&Event {
                kind,
                run: self.id,
                node: NodeId(i),
                key: &self.keys[i as usize],
                worker,
                follows,
            });
        }
    }

    /// The run as observers see it, `workers` being the number of threads running it.
    pub(crate) fn view(&self, workers: usize) -> Run<'_> {
        self.view_in(workers, Process::default())
    }

    /// The run as observers see it, as one process of a distributed run.
    pub(crate) fn view_in(&self, workers: usize, process: Process) -> Run<'_> {
        Run {
            id: self.id,
            tasks: self.tasks,
            workers,
            failed: self.failed.load(Ordering::Acquire),
            keys: &self.keys,
            deps: &self.deps,
            process,
        }
    }

    fn set_done(&self) {
        self.done.store(true, Ordering::Release);
        let (lock, cv) = &self.latch;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
        cv.notify_all();
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    /// Blocks the calling thread until every output is produced (or the run failed and was
    /// walked to its end).
    pub(crate) fn wait(&self) {
        // A short run usually ends within microseconds: poll first, since a thread woken
        // from the condition variable takes tens of microseconds to run again.
        // (not under loom: a model has no clock, and a spin would only add states)
        let start = std::time::Instant::now();
        while !cfg!(loom) && start.elapsed() < std::time::Duration::from_micros(WAIT_SPIN_MICROS) {
            if self.is_done() {
                return;
            }
            std::hint::spin_loop();
        }
        let (lock, cv) = &self.latch;
        let mut done = lock.lock().unwrap_or_else(|p| p.into_inner());
        while !*done {
            done = cv.wait(done).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// After the run is done: the outputs in the order asked for, or the first error.
    pub(crate) fn finish(&self) -> Result<Vec<Value>, Error> {
        debug_assert!(self.is_done());
        // Every output ran, so every node it needs did: each took its task, and each value
        // was dropped by its last consumer or goes out below. (Not so for a distributed run
        // cancelled before it was done: values from other processes never came.)
        let emptied = self.is_done();
        if let Some(e) = self.error.lock().unwrap_or_else(|p| p.into_inner()).take() {
            // The outputs that were produced are dropped now: the job itself may live on
            // in a worker's source handle until that worker next looks for work.
            for &o in self.outputs.iter() {
                // SAFETY: as below: the run is done and each occurrence holds its unit.
                drop(unsafe { self.take_unit(o) });
            }
            self.emptied.store(emptied, Ordering::Relaxed);
            return Err(e);
        }
        let mut out = Vec::with_capacity(self.outputs.len());
        for &o in self.outputs.iter() {
            // SAFETY: the run is done, so o's producer has Released its result through the
            // `outputs_left` decrement we Acquired in `is_done`/`wait`, and each output
            // occurrence still holds its unit of `consumers`.
            match unsafe { self.take_unit(o) } {
                Some(v) => out.push(v),
                None => unreachable_output(),
            }
        }
        self.emptied.store(emptied, Ordering::Relaxed);
        Ok(out)
    }

    /// Gives up one unit of `consumers` of node `d`, returning its value: moved out when this
    /// was the last unit, else a shared handle.
    ///
    /// # Safety
    /// The caller holds an unreleased unit of `d`, and `d` has been produced (its producer's
    /// Release was Acquired by the caller).
    unsafe fn take_unit(&self, d: u32) -> Option<Value> {
        let node = &self.nodes[d as usize];
        if node.consumers.load(Ordering::Acquire) == 1 {
            node.consumers.store(0, Ordering::Relaxed);
            // SAFETY: ours is the only unit left: every other consumer has released (and
            // we Acquired their releases above), so nobody else reads the slot.
            return unsafe { node.slot.take() };
        }
        // SAFETY: we hold a unit, so nobody takes the slot while we clone the handle.
        let shared = unsafe { node.slot.get() }.cloned();
        // SAFETY: forwarding our unit.
        unsafe { self.release_unit(d) };
        shared
    }

    /// Gives up one unit of `consumers` of node `d`, dropping its value if it was the last.
    ///
    /// # Safety
    /// The caller holds an unreleased unit of `d` and does not touch the slot afterwards.
    unsafe fn release_unit(&self, d: u32) {
        let node = &self.nodes[d as usize];
        if node.consumers.fetch_sub(1, Ordering::AcqRel) == 1 {
            // SAFETY: that was the last unit; every other consumer released before (AcqRel).
            drop(unsafe { node.slot.take() });
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        // A finished run's arrays hold only empty cells (see `emptied`), and keys that own
        // nothing unless one is boxed: they are forgotten rather than dropped one by one,
        // which would read them all again (three walks over 2 million nodes took 10 ms).
        #[cfg(not(loom))]
        if self.emptied.load(Ordering::Relaxed) {
            debug_assert!(self.nodes.iter_mut().all(|n| n.slot.get_mut().is_none()));
            debug_assert!(self.bodies.iter_mut().all(|b| b.get_mut().is_none()));
            // SAFETY: shrinking a vector's length is always sound (its elements are then
            // not dropped): here every cell is empty, so nothing is leaked.
            unsafe {
                self.nodes.set_len(0);
                self.bodies.set_len(0);
            }
        }
        Spare::put(
            std::mem::take(&mut self.nodes),
            std::mem::take(&mut self.succ_start),
            std::mem::take(&mut self.succs),
            std::mem::take(&mut self.roots),
        );
        // The keys and dependency lists are shared with observers, which may still hold
        // them.
        let mut keys = Arc::try_unwrap(std::mem::take(&mut self.keys)).unwrap_or_default();
        if !self.boxed_keys {
            // SAFETY: as above; no key owns memory (none is boxed), so nothing is leaked.
            unsafe { keys.set_len(0) };
        }
        let deps = Arc::try_unwrap(std::mem::take(&mut self.deps)).unwrap_or_default();
        let mut bodies = std::mem::take(&mut self.bodies);
        // Emptied before locking: dropping a task that did not run runs user code.
        bodies.clear();
        Spare::put_graph(GraphArrays {
            keys,
            // Empty, so the closure never runs; outside loom the buffer is kept as it is.
            tasks: bodies
                .into_iter()
                .map(|_| Task::value(Value::new(())))
                .collect(),
            dep_start: deps.starts,
            deps: deps.deps,
        });
    }
}

/// A graph's arrays, kept emptied from a run for the next graph to fill.
pub(crate) struct GraphArrays {
    pub(crate) keys: Vec<Key>,
    pub(crate) tasks: Vec<Task>,
    pub(crate) dep_start: Vec<u32>,
    pub(crate) deps: Vec<u32>,
}

impl GraphArrays {
    const EMPTY: GraphArrays = GraphArrays {
        keys: Vec::new(),
        tasks: Vec::new(),
        dep_start: Vec::new(),
        deps: Vec::new(),
    };

    #[cfg_attr(loom, allow(dead_code))]
    fn bytes(&self) -> usize {
        self.keys.capacity() * std::mem::size_of::<Key>()
            + self.tasks.capacity() * std::mem::size_of::<Task>()
            + (self.dep_start.capacity() + self.deps.capacity()) * 4
    }
}

/// The arrays of the last run to end, emptied, for the next run to fill (see "Reused
/// arrays" in the module docs).
pub(crate) struct Spare {
    nodes: Vec<NodeState>,
    succ_start: Vec<u32>,
    succs: Vec<u32>,
    needed: Vec<bool>,
    roots: Vec<u32>,
    #[cfg_attr(loom, allow(dead_code))]
    graph: GraphArrays,
}

/// Runs keep at most this many bytes of arrays between them.
#[cfg_attr(loom, allow(dead_code))]
const SPARE_MAX_BYTES: usize = 256 << 20;

/// Not under loom: a model's atomics belong to one execution and must not outlive it.
#[cfg(not(loom))]
static SPARE: std::sync::Mutex<Spare> = std::sync::Mutex::new(Spare::EMPTY);

impl Spare {
    const EMPTY: Spare = Spare {
        nodes: Vec::new(),
        succ_start: Vec::new(),
        succs: Vec::new(),
        needed: Vec::new(),
        roots: Vec::new(),
        graph: GraphArrays::EMPTY,
    };

    /// Takes the kept run arrays (empty ones if another run holds them).
    fn take() -> Spare {
        #[cfg(not(loom))]
        if let Ok(mut spare) = SPARE.try_lock() {
            let graph = std::mem::replace(&mut spare.graph, GraphArrays::EMPTY);
            let run = std::mem::replace(&mut *spare, Spare::EMPTY);
            spare.graph = graph;
            return run;
        }
        Spare::EMPTY
    }

    /// Takes the kept graph arrays, if there are some and no other graph holds them.
    pub(crate) fn take_graph() -> Option<GraphArrays> {
        #[cfg(not(loom))]
        if let Ok(mut spare) = SPARE.try_lock() {
            if spare.graph.keys.capacity() > 0 {
                return Some(std::mem::replace(&mut spare.graph, GraphArrays::EMPTY));
            }
        }
        None
    }

    /// Keeps the emptied arrays of a graph that ran, unless larger ones are kept already.
    fn put_graph(mut graph: GraphArrays) {
        graph.keys.clear();
        graph.tasks.clear();
        graph.dep_start.clear();
        graph.deps.clear();
        #[cfg(not(loom))]
        if let Ok(mut spare) = SPARE.try_lock() {
            if spare.graph.keys.capacity() < graph.keys.capacity()
                && graph.bytes() <= SPARE_MAX_BYTES
            {
                spare.graph = graph;
            }
        }
    }

    /// Keeps the scratch array of a run's preparation, emptied.
    fn put_scratch(mut needed: Vec<bool>) {
        needed.clear();
        #[cfg(not(loom))]
        if let Ok(mut spare) = SPARE.try_lock() {
            if spare.needed.capacity() < needed.capacity() && needed.capacity() <= SPARE_MAX_BYTES {
                spare.needed = needed;
            }
        }
    }

    /// Keeps the arrays of a run that ended, emptied, unless larger ones are kept already.
    fn put(
        mut nodes: Vec<NodeState>,
        mut succ_start: Vec<u32>,
        mut succs: Vec<u32>,
        mut roots: Vec<u32>,
    ) {
        // Emptied before locking: dropping values runs user code, which may compute.
        nodes.clear();
        succ_start.clear();
        succs.clear();
        roots.clear();
        let bytes = nodes.capacity() * std::mem::size_of::<NodeState>()
            + (succ_start.capacity() + succs.capacity() + roots.capacity()) * 4;
        #[cfg(not(loom))]
        if let Ok(mut spare) = SPARE.try_lock() {
            if spare.nodes.capacity() < nodes.capacity() && bytes <= SPARE_MAX_BYTES {
                spare.nodes = nodes;
                spare.succ_start = succ_start;
                spare.succs = succs;
                spare.roots = roots;
            }
        }
        let _ = bytes;
    }
}

/// The answer to [`Job::claim_roots`].
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Claim {
    /// The roots `k` in `lo..hi` (see [`Job::root`]) are the claimer's to run.
    Roots(u32, u32),
    /// As many roots as allowed are in flight: one of their claimers will claim the next.
    Full,
    /// Every root has been claimed.
    Exhausted,
}

fn unreachable_output() -> ! {
    unreachable!("an output of a completed run has no value")
}

#[cold]
fn type_error<T>(index: usize, found: &Value) -> TaskError {
    TaskError::new(InputTypeError {
        index,
        expected: std::any::type_name::<T>(),
        found: found.type_name(),
    })
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic payload that is not a string)".to_owned()
    }
}

/// The inputs of a running task: the results of its dependencies, in order.
///
/// Read them by reference with [`Inputs::get`], or take ownership with [`Inputs::take`],
/// which moves the value when this task is its last consumer and clones it otherwise.
/// Inputs a task does not take are released when it returns.
pub struct Inputs<'a> {
    job: &'a Job,
    deps: &'a [u32],
    released: Released,
}

enum Released {
    Inline(u64),
    Heap(Vec<bool>),
}

impl<'a> Inputs<'a> {
    fn new(job: &'a Job, deps: &'a [u32]) -> Self {
        let released = if deps.len() <= 64 {
            Released::Inline(0)
        } else {
            Released::Heap(vec![false; deps.len()])
        };
        Inputs {
            job,
            deps,
            released,
        }
    }

    /// Number of inputs.
    pub fn len(&self) -> usize {
        self.deps.len()
    }

    /// Number of processes running this task's graph together: 1, but in a distributed
    /// run, where each process holds what it computed. A task may use memory its process
    /// shares with the other tasks of the run only when this is 1.
    ///
    /// ```
    /// use dagr::runtime::{Inputs, Key, Scheduler, Task, TaskGraph};
    /// use std::sync::Arc;
    /// let mut g = TaskGraph::new();
    /// let n = g
    ///     .add(Key::token("ranks", 1), &[], Task::once(|inp: &mut Inputs<'_>| Ok(Arc::new(inp.ranks()))))
    ///     .unwrap();
    /// let out = Scheduler::threads(2).run(g, &[n]).unwrap();
    /// assert_eq!(*out[0].downcast_ref::<usize>().unwrap(), 1);
    /// ```
    pub fn ranks(&self) -> usize {
        self.job.ranks as usize
    }

    /// Whether the task has no inputs.
    pub fn is_empty(&self) -> bool {
        self.deps.is_empty()
    }

    fn is_released(&self, i: usize) -> bool {
        match &self.released {
            Released::Inline(bits) => bits & (1 << i) != 0,
            Released::Heap(v) => v[i],
        }
    }

    fn mark_released(&mut self, i: usize) {
        match &mut self.released {
            Released::Inline(bits) => *bits |= 1 << i,
            Released::Heap(v) => v[i] = true,
        }
    }

    fn missing(&self, index: usize) -> TaskError {
        TaskError::new(MissingInputError {
            index,
            len: self.deps.len(),
        })
    }

    /// The shared handle of input `i`.
    pub fn value(&self, i: usize) -> Result<&Value, TaskError> {
        if i >= self.deps.len() || self.is_released(i) {
            return Err(self.missing(i));
        }
        let node = &self.job.nodes[self.deps[i] as usize];
        // SAFETY: we hold an unreleased unit of this input, and it was produced before our
        // node became ready (the `pending` edge of the module docs).
        unsafe { node.slot.get() }.ok_or_else(|| self.missing(i))
    }

    /// Borrows input `i` as a `T`.
    #[inline]
    pub fn get<T: Any>(&self, i: usize) -> Result<&T, TaskError> {
        let value = self.value(i)?;
        value
            .downcast_ref::<T>()
            .ok_or_else(|| type_error::<T>(i, value))
    }

    /// Takes input `i` as a shared handle (no copy of more than a word: see [`Value`]),
    /// releasing it.
    pub fn take_value(&mut self, i: usize) -> Result<Value, TaskError> {
        self.value(i)?;
        self.mark_released(i);
        // SAFETY: checked above that we hold the unit and the value exists; marked released
        // so we never touch it again.
        unsafe { self.job.take_unit(self.deps[i]) }.ok_or_else(|| self.missing(i))
    }

    /// Takes input `i` as an owned `T`: moved when this task is its last consumer, else cloned
    /// (consumers running at the same moment may each clone it).
    pub fn take<T: Any + Clone + Send + Sync>(&mut self, i: usize) -> Result<T, TaskError> {
        let cloned = {
            let r = self.get::<T>(i)?;
            let node = &self.job.nodes[self.deps[i] as usize];
            if node.consumers.load(Ordering::Acquire) == 1 {
                None
            } else {
                Some(r.clone())
            }
        };
        match cloned {
            Some(v) => {
                self.mark_released(i);
                // SAFETY: we hold the unit and no longer borrow the value.
                unsafe { self.job.release_unit(self.deps[i]) };
                Ok(v)
            }
            None => {
                let v = self.take_value(i)?;
                v.take::<T>().map_err(|v| type_error::<T>(i, &v))
            }
        }
    }

    fn release_all(&mut self) {
        for i in 0..self.deps.len() {
            if !self.is_released(i) {
                self.mark_released(i);
                // SAFETY: unit held (never released), value not borrowed (we have `&mut`).
                unsafe { self.job.release_unit(self.deps[i]) };
            }
        }
    }
}
