//! Run and task events for progress bars and profilers (the order is on [`Observer`]).

use crate::{Key, NodeId, TaskCounters};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What happened to a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// The task's body is about to run.
    Started,
    /// The task's body returned a value.
    Finished,
    /// The task's body panicked or returned an error.
    Failed,
}

/// Identifies one run of a graph: node ids are only meaningful within their run.
///
/// ```
/// use dagr::runtime::RunId;
/// let a = RunId::next();
/// assert!(RunId::next() > a);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(u64);

impl RunId {
    /// A fresh id, greater than every id handed out before in this process.
    pub fn next() -> RunId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        RunId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The id as a number (never 0).
    pub fn get(self) -> u64 {
        self.0
    }
}

/// One task event, delivered to an [`Observer`] on the thread that runs the task.
#[derive(Clone, Copy, Debug)]
pub struct Event<'a> {
    /// What happened.
    pub kind: EventKind,
    /// The run the task belongs to.
    pub run: RunId,
    /// The node's id in the graph that was run.
    pub node: NodeId,
    /// The task's key.
    pub key: &'a Key,
    /// Index of the worker thread (0 for the sync scheduler).
    pub worker: usize,
    /// For [`EventKind::Started`]: the task runs straight after the task this thread last
    /// ended in the same run (its consumer, run next without a look for other work, the
    /// next of a batch of roots the thread claimed, or on the sync scheduler the next ready
    /// task), with only the runtime's bookkeeping, the release of that task's inputs and its
    /// end event in between. An observer timing tasks may take that task's end as this one's
    /// start instead of reading a clock again. Always `false` for the other kinds.
    pub follows: bool,
}

/// When one task ran, as the runtime times it for an observer that asks for task spans
/// ([`Observer::task_spans`]): its start and end are [`TaskClock`](crate::TaskClock)
/// readings. A task that runs straight after another on its thread (see [`Event::follows`])
/// starts at that one's end: the clock is read once per task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskSpan {
    /// The task's node in the graph that was run.
    pub node: NodeId,
    /// Whether the task failed (its body returned an error or panicked).
    pub failed: bool,
    /// The task's start on the task clock.
    pub start: u64,
    /// The task's end on the task clock.
    pub end: u64,
}

/// Spans of tasks that one thread ran for one run, in the order it ran them, delivered to
/// [`Observer::on_spans`].
#[derive(Clone, Copy, Debug)]
pub struct SpanBatch<'a> {
    /// The run the tasks belong to.
    pub run: RunId,
    /// Index of the worker thread that ran them (as in [`Event::worker`]).
    pub worker: usize,
    /// The tasks' spans, in the order the thread ran them.
    pub spans: &'a [TaskSpan],
}

/// The keys of a run's graph, shared: an observer may keep them to name tasks by node id
/// after the event (a progress bar's "now running", a profile written after the run).
///
/// ```
/// use dagr::runtime::{Key, Observer, Run, Scheduler, Task, TaskGraph, RunKeys};
/// use std::sync::{Arc, Mutex};
///
/// #[derive(Default)]
/// struct Keep(Mutex<Option<RunKeys>>);
/// impl Observer for Keep {
///     fn on_event(&self, _: &dagr::runtime::Event<'_>) {}
///     fn on_run_start(&self, run: &Run<'_>) { *self.0.lock().unwrap() = Some(run.keys()); }
/// }
/// let keep = Arc::new(Keep::default());
/// let mut g = TaskGraph::new();
/// let a = g.add(Key::token("one", 1), &[], Task::value(Arc::new(1_i64))).unwrap();
/// Scheduler::sync().observe(keep.clone()).run(g, &[a]).unwrap();
/// let keys = keep.0.lock().unwrap().take().unwrap();
/// assert_eq!(keys.get(a).unwrap().prefix(), "one");
/// ```
#[derive(Clone, Debug)]
pub struct RunKeys(pub(crate) Arc<Vec<Key>>);

impl RunKeys {
    /// The key of `node`.
    pub fn get(&self, node: NodeId) -> Option<&Key> {
        self.0.get(node.index())
    }

    /// The key of the node at `index` (see [`NodeId::index`]).
    pub fn by_index(&self, index: usize) -> Option<&Key> {
        self.0.get(index)
    }

    /// Number of nodes in the graph (run or culled).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The dependencies of a run's graph, shared: an observer may keep them (a profile works
/// out its longest path when it is read) without copying them.
///
/// ```
/// use dagr::runtime::{Key, Observer, Run, RunDeps, Scheduler, Task, TaskGraph, Value};
/// use std::sync::{Arc, Mutex};
///
/// #[derive(Default)]
/// struct Keep(Mutex<Option<RunDeps>>);
/// impl Observer for Keep {
///     fn on_event(&self, _: &dagr::runtime::Event<'_>) {}
///     fn on_run_end(&self, run: &Run<'_>) {
///         *self.0.lock().unwrap() = Some(run.dep_lists());
///     }
/// }
/// let keep = Arc::new(Keep::default());
/// let mut g = TaskGraph::new();
/// let a = g.add(Key::token("a", 1), &[], Task::value(Value::new(1_i64))).unwrap();
/// let b = g.add(Key::token("b", 2), &[a, a], Task::value(Value::new(2_i64))).unwrap();
/// Scheduler::sync().observe(keep.clone()).run(g, &[b]).unwrap();
/// let deps = keep.0.lock().unwrap().take().unwrap();
/// assert_eq!((deps.len(), deps.of(1), deps.of(0)), (2, &[0, 0][..], &[][..]));
/// assert_eq!(deps.arrays(), (&[0, 0, 2][..], &[0, 0][..]));
/// ```
#[derive(Clone, Debug)]
pub struct RunDeps(pub(crate) Arc<DepLists>);

/// A graph's dependency lists: node `i`'s are `deps[starts[i]..starts[i + 1]]`.
#[derive(Debug, Default)]
pub(crate) struct DepLists {
    pub(crate) starts: Vec<u32>,
    pub(crate) deps: Vec<u32>,
}

impl DepLists {
    #[inline]
    pub(crate) fn of(&self, i: usize) -> &[u32] {
        match (self.starts.get(i), self.starts.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.deps[a as usize..b as usize],
            _ => &[],
        }
    }
}

impl RunDeps {
    /// The dependencies of the node at `index` (see [`NodeId::index`]), by index, in
    /// argument order; none for an index out of the graph.
    pub fn of(&self, index: usize) -> &[u32] {
        self.0.of(index)
    }

    /// Every node's dependencies as two arrays, as [`Run::dep_arrays`] gives them.
    pub fn arrays(&self) -> (&[u32], &[u32]) {
        (&self.0.starts, &self.0.deps)
    }

    /// Number of nodes in the graph (run or culled).
    pub fn len(&self) -> usize {
        self.0.starts.len().saturating_sub(1)
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A run of a graph, as an [`Observer`] sees it start and end: its size, its workers and
/// the graph's structure (keys and dependencies).
pub struct Run<'a> {
    pub(crate) id: RunId,
    pub(crate) tasks: usize,
    pub(crate) workers: usize,
    pub(crate) failed: bool,
    pub(crate) keys: &'a Arc<Vec<Key>>,
    pub(crate) deps: &'a Arc<DepLists>,
    pub(crate) process: Process,
}

/// Where a run runs: one process, or one rank of a distributed run, with what crossed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Process {
    pub(crate) rank: usize,
    pub(crate) ranks: usize,
    pub(crate) all_tasks: usize,
    pub(crate) bytes_sent: u64,
    pub(crate) bytes_received: u64,
}

impl Run<'_> {
    /// The run's id, as its task events carry it.
    pub fn id(&self) -> RunId {
        self.id
    }

    /// Number of tasks the run executes: the nodes the outputs need (culled ones excluded).
    pub fn tasks(&self) -> usize {
        self.tasks
    }

    /// Number of worker indices events may carry: 1 for the sync scheduler; for a pool, its
    /// worker threads plus one for a calling thread outside the pool, which runs tasks of
    /// its own run while it waits (index = the pool's size).
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// This process's rank in a distributed run (0 otherwise).
    pub fn rank(&self) -> usize {
        self.process.rank
    }

    /// Number of processes running the run (1 unless distributed).
    pub fn ranks(&self) -> usize {
        self.process.ranks.max(1)
    }

    /// Number of tasks every process of the run executes together ([`Run::tasks`] unless
    /// distributed): what a progress bar on rank 0 counts to.
    pub fn all_tasks(&self) -> usize {
        if self.process.ranks > 1 {
            self.process.all_tasks
        } else {
            self.tasks
        }
    }

    /// At the end of a distributed run: bytes this process sent to others and received from
    /// them (0 otherwise, and at the start).
    pub fn bytes(&self) -> (u64, u64) {
        (self.process.bytes_sent, self.process.bytes_received)
    }

    /// At the end of a run: whether a task failed (the rest of the run was cancelled).
    /// Always `false` at the start.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Number of nodes in the graph, culled ones included; node ids are below it.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key of `node`.
    pub fn key(&self, node: NodeId) -> Option<&Key> {
        self.keys.get(node.index())
    }

    /// The keys of the graph, shared (no copy), to keep beyond this call.
    pub fn keys(&self) -> RunKeys {
        RunKeys(self.keys.clone())
    }

    /// Every node of the graph, culled ones included, in id order.
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = NodeId> {
        (0..self.keys.len() as u32).map(NodeId)
    }

    /// The dependencies of `node`, in argument order. Every dependency has a smaller id.
    pub fn deps(&self, node: NodeId) -> impl ExactSizeIterator<Item = NodeId> + '_ {
        self.dep_slice(node.index()).iter().map(|&d| NodeId(d))
    }

    /// The dependencies of the node at `index` (see [`NodeId::index`]) by their indices, in
    /// argument order; none for an index out of the graph.
    ///
    /// ```
    /// use dagr::runtime::{Key, Observer, Run, Scheduler, Task, TaskGraph};
    /// use std::sync::{Arc, Mutex};
    ///
    /// #[derive(Default)]
    /// struct Deps(Mutex<Vec<Vec<usize>>>);
    /// impl Observer for Deps {
    ///     fn on_event(&self, _: &dagr::runtime::Event<'_>) {}
    ///     fn on_run_end(&self, run: &Run<'_>) {
    ///         *self.0.lock().unwrap() = (0..run.len()).map(|i| run.deps_by_index(i).collect()).collect();
    ///     }
    /// }
    /// let deps = Arc::new(Deps::default());
    /// let mut g = TaskGraph::new();
    /// let a = g.add(Key::token("a", 1), &[], Task::value(Arc::new(1_i64))).unwrap();
    /// let b = g.add(Key::token("b", 2), &[a, a], Task::value(Arc::new(2_i64))).unwrap();
    /// Scheduler::sync().observe(deps.clone()).run(g, &[b]).unwrap();
    /// assert_eq!(*deps.0.lock().unwrap(), [vec![], vec![0, 0]]);
    /// ```
    #[inline]
    pub fn deps_by_index(&self, index: usize) -> impl ExactSizeIterator<Item = usize> + '_ {
        self.dep_slice(index).iter().map(|&d| d as usize)
    }

    /// Every node's dependencies at once, as two arrays: node `i`'s dependencies are
    /// `deps[starts[i]..starts[i + 1]]` (by index, in argument order). For an observer that
    /// keeps the graph's shape beyond this call: copying the arrays is one pass over memory
    /// ([`Run::dep_lists`] shares them instead).
    ///
    /// ```
    /// use dagr::runtime::{Key, Observer, Run, Scheduler, Task, TaskGraph};
    /// use std::sync::{Arc, Mutex};
    ///
    /// #[derive(Default)]
    /// struct Shape(Mutex<(Vec<u32>, Vec<u32>)>);
    /// impl Observer for Shape {
    ///     fn on_event(&self, _: &dagr::runtime::Event<'_>) {}
    ///     fn on_run_end(&self, run: &Run<'_>) {
    ///         let (starts, deps) = run.dep_arrays();
    ///         *self.0.lock().unwrap() = (starts.to_vec(), deps.to_vec());
    ///     }
    /// }
    /// let shape = Arc::new(Shape::default());
    /// let mut g = TaskGraph::new();
    /// let a = g.add(Key::token("a", 1), &[], Task::value(Arc::new(1_i64))).unwrap();
    /// let b = g.add(Key::token("b", 2), &[a, a], Task::value(Arc::new(2_i64))).unwrap();
    /// Scheduler::sync().observe(shape.clone()).run(g, &[b]).unwrap();
    /// assert_eq!(*shape.0.lock().unwrap(), (vec![0, 0, 2], vec![0, 0]));
    /// ```
    pub fn dep_arrays(&self) -> (&[u32], &[u32]) {
        (&self.deps.starts, &self.deps.deps)
    }

    /// Every node's dependencies, shared (no copy), to keep beyond this call.
    pub fn dep_lists(&self) -> RunDeps {
        RunDeps(self.deps.clone())
    }

    #[inline]
    fn dep_slice(&self, i: usize) -> &[u32] {
        self.deps.of(i)
    }
}

/// Receives run and task events. Install one with [`crate::Scheduler::observe`]; with none
/// installed the runtime pays one predictable branch per task.
///
/// For every run of the scheduler an observer sees, in this order:
/// 1. [`Observer::on_run_start`] on the calling thread, before any task runs;
/// 2. for each task that runs, [`EventKind::Started`] (unless [`Observer::started_events`]
///    says no) and then exactly one of [`EventKind::Finished`] or [`EventKind::Failed`]
///    on the worker that runs it (tasks skipped after a failure get no event), unless
///    [`Observer::task_events`] says no;
/// 3. if [`Observer::task_spans`] says yes, the span of each task that ran, in batches
///    ([`Observer::on_spans`]) on the workers;
/// 4. [`Observer::on_run_end`] on the calling thread, after every task event and span batch
///    of the run.
///
/// ```
/// use dagr::runtime::{Event, EventKind, Observer, Run, Scheduler, Task, TaskGraph, Key};
/// use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
///
/// #[derive(Default)]
/// struct Count { total: AtomicUsize, done: AtomicUsize }
/// impl Observer for Count {
///     fn on_run_start(&self, run: &Run<'_>) {
///         self.total.fetch_add(run.tasks(), Ordering::Relaxed);
///     }
///     fn on_event(&self, e: &Event<'_>) {
///         if e.kind == EventKind::Finished { self.done.fetch_add(1, Ordering::Relaxed); }
///     }
/// }
/// let count = Arc::new(Count::default());
/// let mut g = TaskGraph::new();
/// let a = g.add(Key::token("one", 1), &[], Task::once(|_| Ok(Arc::new(1_i64)))).unwrap();
/// let _unused = g.add(Key::token("two", 2), &[], Task::once(|_| Ok(Arc::new(2_i64)))).unwrap();
/// Scheduler::sync().observe(count.clone()).run(g, &[a]).unwrap();
/// assert_eq!(count.total.load(Ordering::Relaxed), 1); // `two` was culled
/// assert_eq!(count.done.load(Ordering::Relaxed), 1);
/// ```
pub trait Observer: Send + Sync {
    /// Called for every task event, on the worker running the task; must be cheap and must
    /// not block.
    fn on_event(&self, event: &Event<'_>);

    /// Called once per run on the calling thread, before any of its tasks runs.
    fn on_run_start(&self, run: &Run<'_>) {
        let _ = run;
    }

    /// Called once per run on the calling thread, after the last of its task events.
    fn on_run_end(&self, run: &Run<'_>) {
        let _ = run;
    }

    /// Whether to deliver task events to [`Observer::on_event`] (default: yes). An observer
    /// that only needs [`Observer::counters`] says no, and its runs skip the call per event.
    /// Asked when the observer is installed and when a run starts; the answer must not change.
    fn task_events(&self) -> bool {
        true
    }

    /// Whether the runtime should time each task for this observer (default: no): then it
    /// reads the [`TaskClock`](crate::TaskClock) once per task where tasks run back to back
    /// (twice where one starts after a pause) and hands the tasks' spans to
    /// [`Observer::on_spans`]. Asked when a run starts; the answer must not change.
    fn task_spans(&self) -> bool {
        false
    }

    /// Called with the spans of tasks that ended, when [`Observer::task_spans`] says yes.
    /// Each thread gathers the spans of the tasks it runs for a run and hands them over a
    /// batch at a time, on that thread: when its batch is full (a few dozen tasks) and when
    /// it stops running that run's tasks — at the latest before [`Observer::on_run_end`].
    /// Every task that ran (finished or failed) is in exactly one batch. A profiler pays one
    /// call per batch instead of one per task; like [`Observer::on_event`], it must be cheap
    /// and must not block.
    ///
    /// ```
    /// use dagr::runtime::{Event, Key, Observer, Scheduler, SpanBatch, Task, TaskGraph};
    /// use std::sync::{Arc, Mutex};
    ///
    /// #[derive(Default)]
    /// struct Timed(Mutex<Vec<(usize, u64)>>);
    /// impl Observer for Timed {
    ///     fn on_event(&self, _: &Event<'_>) {}
    ///     fn task_events(&self) -> bool { false } // spans only
    ///     fn task_spans(&self) -> bool { true }
    ///     fn on_spans(&self, batch: &SpanBatch<'_>) {
    ///         let mut v = self.0.lock().unwrap();
    ///         v.extend(batch.spans.iter().map(|s| (s.node.index(), s.end - s.start)));
    ///     }
    /// }
    /// let timed = Arc::new(Timed::default());
    /// let mut g = TaskGraph::new();
    /// let a = g.add(Key::token("a", 1), &[], Task::once(|_| Ok(Arc::new(1_i64)))).unwrap();
    /// let b = g.add(Key::token("b", 2), &[a], Task::once(|i| Ok(Arc::new(i.get::<i64>(0)? + 1)))).unwrap();
    /// Scheduler::threads(2).observe(timed.clone()).run(g, &[b]).unwrap();
    /// let mut ran: Vec<usize> = timed.0.lock().unwrap().iter().map(|t| t.0).collect();
    /// ran.sort();
    /// assert_eq!(ran, [0, 1]); // both tasks, each once, all told before `run` returned
    /// ```
    fn on_spans(&self, batch: &SpanBatch<'_>) {
        let _ = batch;
    }

    /// Whether to deliver [`EventKind::Started`] events (default: yes, when
    /// [`Observer::task_events`] says so). An observer that needs only a task's end says
    /// no, and each task costs it one call instead of two. Asked when a run starts; the
    /// answer must not change.
    fn started_events(&self) -> bool {
        true
    }

    /// Counters for the runtime to keep up to date during runs (default: none): tasks done
    /// and the task each worker runs, for a few plain stores per task.
    fn counters(&self) -> Option<Arc<TaskCounters>> {
        None
    }

    /// On rank 0 of a distributed run, called on the calling thread while the run goes:
    /// `done` tasks have finished on the other ranks so far (as their observers' counters
    /// count them; sent a few times a second).
    fn on_remote_progress(&self, run: RunId, done: u64) {
        let _ = (run, done);
    }
}

/// Several observers installed on one scheduler: each sees every event it asks for, in
/// install order. (Only the first observer's [`Observer::counters`] are kept.)
pub(crate) struct Fanout {
    all: [Arc<dyn Observer>; 2],
    /// Those that want task events.
    events: Vec<Arc<dyn Observer>>,
    /// Those that want started events too.
    started: Vec<Arc<dyn Observer>>,
    /// Those that want task spans.
    spans: Vec<Arc<dyn Observer>>,
}

impl Fanout {
    pub(crate) fn new(all: [Arc<dyn Observer>; 2]) -> Self {
        let events: Vec<_> = all.iter().filter(|o| o.task_events()).cloned().collect();
        let started = events
            .iter()
            .filter(|o| o.started_events())
            .cloned()
            .collect();
        let spans = all.iter().filter(|o| o.task_spans()).cloned().collect();
        Fanout {
            all,
            events,
            started,
            spans,
        }
    }
}

impl Observer for Fanout {
    fn on_event(&self, event: &Event<'_>) {
        let to = match event.kind {
            EventKind::Started => &self.started,
            _ => &self.events,
        };
        to.iter().for_each(|o| o.on_event(event));
    }
    fn task_events(&self) -> bool {
        !self.events.is_empty()
    }
    fn task_spans(&self) -> bool {
        !self.spans.is_empty()
    }
    fn on_spans(&self, batch: &SpanBatch<'_>) {
        self.spans.iter().for_each(|o| o.on_spans(batch));
    }
    fn started_events(&self) -> bool {
        !self.started.is_empty()
    }
    fn counters(&self) -> Option<Arc<TaskCounters>> {
        self.all.iter().find_map(|o| o.counters())
    }
    fn on_run_start(&self, run: &Run<'_>) {
        self.all.iter().for_each(|o| o.on_run_start(run));
    }
    fn on_run_end(&self, run: &Run<'_>) {
        self.all.iter().for_each(|o| o.on_run_end(run));
    }
    fn on_remote_progress(&self, run: RunId, done: u64) {
        self.all
            .iter()
            .for_each(|o| o.on_remote_progress(run, done));
    }
}
