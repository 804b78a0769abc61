//! Recording when each task ran, where, and for how long (Dask: `dask.diagnostics.Profiler`).
//!
//! A task's start is kept by the thread that runs it (a stack of the tasks it has open, for
//! a task that computes and helps with other tasks meanwhile), without a lock; its record
//! goes, when it ends, to the log of its worker (a mutex no other worker takes, on its own
//! cache line), in a batch sized for the run when the run started. When a run ends
//! its records are moved out of the logs and its longest path is computed while the graph's
//! dependencies are still at hand; what stays is plain data for the trace, the summary and
//! the pictures.

use crate::atomic_file::write_atomic_with;
use crate::Error;
use dagr_runtime::{Event, EventKind, Key, Observer, Run, RunId, RunKeys};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Records every task of the runs it watches: its key, worker, start and end. Then writes
/// a Chrome trace ([`Profiler::write_trace`], opens in Perfetto or `chrome://tracing`),
/// summarises ([`Profiler::summary`]: time per key prefix, worker utilisation, longest
/// path) and colours pictures by measured time
/// ([`VisualizeOptions::timings`](crate::VisualizeOptions::timings)).
///
/// Install it with [`SchedulerExt::profile`](crate::SchedulerExt::profile); a clone records
/// into the same profile. Recording costs two cycle-counter reads and one uncontended lock
/// per task, and about 40 bytes per task until the profiler is dropped.
///
/// | dagr | Dask |
/// |---|---|
/// | `let prof = Profiler::new();` | `with Profiler() as prof:` |
/// | `x.compute_with(Scheduler::default().profile(&prof))?` | `    x.compute()` |
/// | `prof.write_trace("trace.json")?` | `visualize([prof])` (Bokeh) |
///
/// ```
/// use dagr::{value, diagnostics::Profiler, Scheduler, SchedulerExt};
/// let prof = Profiler::new();
/// let xs: Vec<_> = (0..10).map(|i| value(i).map(|x| x + 1)).collect();
/// dagr::compute_with(&xs, Scheduler::threads(2).profile(&prof))?;
/// let summary = prof.summary();
/// assert_eq!(summary.tasks, 20);
/// println!("{summary}");
/// prof.write_trace(std::env::temp_dir().join("dagr-doc-trace.json"))?;
/// # Ok::<(), dagr::Error>(())
/// ```
#[derive(Clone)]
pub struct Profiler {
    shared: Arc<Shared>,
}

impl Default for Profiler {
    fn default() -> Self {
        Profiler::new()
    }
}

impl std::fmt::Debug for Profiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let runs = self.shared.runs();
        f.debug_struct("Profiler")
            .field("runs", &runs.len())
            .field("tasks", &runs.iter().map(|r| r.len()).sum::<usize>())
            .finish()
    }
}

/// One task as it ran. Times are nanoseconds since the profiler was made.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TaskRecord {
    pub(crate) node: u32,
    pub(crate) worker: u32,
    pub(crate) failed: bool,
    pub(crate) start: u64,
    pub(crate) end: u64,
}

impl TaskRecord {
    pub(crate) fn duration(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
}

/// One finished run.
pub(crate) struct RunRecord {
    pub(crate) keys: RunKeys,
    pub(crate) workers: usize,
    pub(crate) failed: bool,
    /// This process's rank and the number of ranks (0 and 1 unless distributed).
    pub(crate) rank: (usize, usize),
    /// Bytes sent to and received from other ranks.
    pub(crate) bytes: (u64, u64),
    pub(crate) start: u64,
    pub(crate) end: u64,
    /// The tasks, in one batch per worker (in no particular order).
    pub(crate) batches: Vec<Vec<TaskRecord>>,
    /// The chain of dependent tasks with the greatest total time, first task first.
    pub(crate) longest_path: Vec<u32>,
    /// Its total time.
    pub(crate) longest_time: u64,
}

impl RunRecord {
    pub(crate) fn key(&self, node: u32) -> Option<&Key> {
        self.keys.by_index(node as usize)
    }

    pub(crate) fn tasks(&self) -> impl Iterator<Item = &TaskRecord> {
        self.batches.iter().flatten()
    }

    pub(crate) fn len(&self) -> usize {
        self.batches.iter().map(Vec::len).sum()
    }

    /// The number of the scheduler's own workers: a pool's threads (the runtime counts one
    /// more index, for a calling thread outside the pool), or 1 for the sync scheduler.
    pub(crate) fn pool(&self) -> usize {
        if self.workers > 1 {
            self.workers - 1
        } else {
            self.workers
        }
    }

    /// The worker index of the calling thread, when it is not one of the pool's workers.
    pub(crate) fn caller(&self) -> Option<u32> {
        (self.workers > 1).then(|| (self.workers - 1) as u32)
    }
}

/// A worker's log, alone on its cache line.
#[repr(align(128))]
#[derive(Default)]
struct Log(Mutex<LogInner>);

#[derive(Default)]
struct LogInner {
    /// Ended tasks, in one batch per run (several only while runs overlap).
    done: Vec<(RunId, Vec<TaskRecord>)>,
}

/// A task this thread started and has not ended: which profiler, run and node, and when.
#[derive(Clone, Copy)]
struct Open {
    profiler: usize,
    run: RunId,
    node: u32,
    start: u64,
}

thread_local! {
    /// The tasks this thread has open, innermost last (more than one only while a task
    /// computes and its thread helps with other tasks meanwhile).
    static OPEN: std::cell::RefCell<Vec<Open>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A run's batch in a worker's log starts with room for this many records at most (the
/// run's task count below it): the room is only address space until records are written.
const BATCH_RESERVE_MAX: usize = 1 << 22;

struct Shared {
    /// The processor's cycle counter where it is usable (quanta calibrates it against the
    /// system clock), else the system clock: each task reads it twice, and a cycle-counter
    /// reading costs a few nanoseconds where a system-clock call costs tens or more.
    clock: quanta::Clock,
    /// The clock's reading when the profiler was made.
    epoch: u64,
    logs: Box<[Log]>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Runs in progress: (id, start time).
    running: Vec<(RunId, u64)>,
    runs: Vec<Arc<RunRecord>>,
}

impl Shared {
    fn now(&self) -> u64 {
        self.clock.delta_as_nanos(self.epoch, self.clock.raw())
    }

    fn log(&self, worker: usize) -> MutexGuard<'_, LogInner> {
        self.logs[worker & (self.logs.len() - 1)]
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn runs(&self) -> Vec<Arc<RunRecord>> {
        self.state().runs.clone()
    }
}

impl Profiler {
    /// An empty profile.
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let clock = quanta::Clock::new();
        Profiler {
            shared: Arc::new(Shared {
                epoch: clock.raw(),
                clock,
                logs: (0..cores.max(8).next_power_of_two())
                    .map(|_| Log::default())
                    .collect(),
                state: Mutex::new(State::default()),
            }),
        }
    }

    pub(crate) fn observer(&self) -> Arc<dyn Observer> {
        Arc::new(self.clone())
    }

    /// The finished runs recorded so far, oldest first.
    pub(crate) fn runs(&self) -> Vec<Arc<RunRecord>> {
        self.shared.runs()
    }

    /// Number of tasks recorded in finished runs.
    ///
    /// ```
    /// let prof = dagr::diagnostics::Profiler::new();
    /// assert_eq!(prof.len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.runs().iter().map(|r| r.len()).sum()
    }

    /// Whether no task was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets everything recorded (Dask: `prof.clear()`).
    pub fn clear(&self) {
        self.shared.state().runs.clear();
    }

    /// Total measured time of each task key, summed over the runs recorded.
    pub(crate) fn time_by_key(&self) -> std::collections::HashMap<Key, Duration> {
        let mut out = std::collections::HashMap::new();
        for run in self.runs() {
            for t in run.tasks() {
                if let Some(key) = run.key(t.node) {
                    *out.entry(key.clone()).or_insert(Duration::ZERO) +=
                        Duration::from_nanos(t.duration());
                }
            }
        }
        out
    }

    /// Writes the recorded tasks as Chrome trace-event JSON: one complete (`"ph": "X"`) event
    /// per task, named by its key prefix, on one track per worker and one process per run.
    /// Open it in Perfetto (<https://ui.perfetto.dev>) or `chrome://tracing`. The file is
    /// written atomically.
    ///
    /// ```no_run
    /// # let prof = dagr::diagnostics::Profiler::new();
    /// prof.write_trace("trace.json")?;
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn write_trace(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let runs = self.runs();
        write_atomic_with(path.as_ref(), |w| super::trace::write(w, &runs))
    }

    /// Summary of the recorded runs: tasks and time per key prefix, worker utilisation,
    /// longest path. Print it with `{}`.
    pub fn summary(&self) -> super::ProfileSummary {
        super::ProfileSummary::of(&self.runs())
    }
}

impl Observer for Profiler {
    fn on_event(&self, e: &Event<'_>) {
        let s = &*self.shared;
        let profiler = s as *const Shared as usize;
        let node = e.node.index() as u32;
        match e.kind {
            EventKind::Started => {
                let open = Open {
                    profiler,
                    run: e.run,
                    node,
                    start: s.now(),
                };
                // (`try_with`: a thread being torn down records nothing)
                let _ = OPEN.try_with(|o| o.borrow_mut().push(open));
            }
            EventKind::Finished | EventKind::Failed => {
                let t = s.now();
                let start = OPEN
                    .try_with(|o| {
                        let mut o = o.borrow_mut();
                        let at = o.iter().rposition(|x| {
                            x.profiler == profiler && x.run == e.run && x.node == node
                        })?;
                        Some(o.remove(at).start)
                    })
                    .ok()
                    .flatten()
                    .unwrap_or(t);
                let record = TaskRecord {
                    node,
                    worker: e.worker as u32,
                    failed: e.kind == EventKind::Failed,
                    start,
                    end: t,
                };
                let mut log = s.log(e.worker);
                match log.done.iter_mut().rev().find(|(r, _)| *r == e.run) {
                    Some((_, batch)) => batch.push(record),
                    None => log.done.push((e.run, vec![record])),
                }
            }
        }
    }

    fn on_run_start(&self, run: &Run<'_>) {
        let s = &*self.shared;
        // Each worker's batch for the run is made now, with room for every task, so that
        // it never grows by copying while the run goes.
        let room = run.tasks().min(BATCH_RESERVE_MAX);
        if room > 1 {
            for w in 0..run.workers().min(s.logs.len()) {
                s.log(w).done.push((run.id(), Vec::with_capacity(room)));
            }
        }
        let t = s.now();
        s.state().running.push((run.id(), t));
    }

    fn on_run_end(&self, run: &Run<'_>) {
        let s = &*self.shared;
        let end = s.now();
        let mut batches = Vec::new();
        for log in s.logs.iter() {
            let mut log = log.0.lock().unwrap_or_else(|p| p.into_inner());
            while let Some(i) = log.done.iter().position(|(r, _)| *r == run.id()) {
                let mut batch = log.done.swap_remove(i).1;
                if !batch.is_empty() {
                    // Gives back the room reserved at the start beyond what was used.
                    if batch.capacity() > 2 * batch.len() {
                        batch.shrink_to_fit();
                    }
                    batches.push(batch);
                }
            }
        }
        let (longest_path, longest_time) = longest_path(run, batches.iter().flatten());
        let mut state = s.state();
        let start = match state.running.iter().position(|(r, _)| *r == run.id()) {
            Some(i) => state.running.swap_remove(i).1,
            None => batches
                .iter()
                .flatten()
                .map(|t| t.start)
                .min()
                .unwrap_or(end),
        };
        state.runs.push(Arc::new(RunRecord {
            keys: run.keys(),
            workers: run.workers(),
            failed: run.failed(),
            rank: (run.rank(), run.ranks()),
            bytes: run.bytes(),
            start,
            end,
            batches,
            longest_path,
            longest_time,
        }));
    }
}

/// The chain of dependent tasks of `run` with the greatest total measured time, and that
/// time.
///
/// Dependencies always have smaller ids, so one pass in id order finds, for every node, the
/// heaviest chain ending there.
fn longest_path<'a>(run: &Run<'_>, tasks: impl Iterator<Item = &'a TaskRecord>) -> (Vec<u32>, u64) {
    let n = run.len();
    let mut time = vec![0u64; n];
    let mut ran = vec![false; n];
    for t in tasks {
        if let Some(slot) = time.get_mut(t.node as usize) {
            *slot = t.duration();
            ran[t.node as usize] = true;
        }
    }
    // best[i]: heaviest chain ending at i; prev[i]: its previous node (u32::MAX: none).
    let mut best = vec![0u64; n];
    let mut prev = vec![u32::MAX; n];
    let mut end: Option<usize> = None;
    for node in run.nodes() {
        let i = node.index();
        if !ran[i] {
            continue;
        }
        let mut b = 0;
        for d in run.deps(node) {
            let d = d.index();
            if ran[d] && (best[d] > b || prev[i] == u32::MAX) {
                b = best[d];
                prev[i] = d as u32;
            }
        }
        best[i] = b + time[i];
        if end.map_or(true, |e| best[i] > best[e]) {
            end = Some(i);
        }
    }
    let mut path = Vec::new();
    let mut at = end.map(|e| e as u32);
    while let Some(i) = at {
        path.push(i);
        at = (prev[i as usize] != u32::MAX).then(|| prev[i as usize]);
    }
    path.reverse();
    (path, end.map_or(0, |e| best[e]))
}
