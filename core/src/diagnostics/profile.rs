//! Recording when each task ran, where, and for how long (Dask: `dask.diagnostics.Profiler`).
//!
//! The runtime times each task for the profiler (it asks for task spans: one reading of the
//! [`TaskClock`] per task where tasks run back to back), gathers the spans on each thread and
//! hands them over a few dozen at a time; the thread then appends an 8-byte record per task
//! (node index, duration in clock ticks: a task starts where the one before it in the chunk
//! ended, or after a record of its start) to its own chunk of the run's [`Tape`]: no lock
//! and no read-modify-write atomic, only plain stores (the tape's protocol, model-checked
//! with the runtime's). When a run ends, every span of it has been
//! handed over, so its tape is whole: its chunks are kept as they are, with the graph's
//! dependency lists (shared). Keys, worker tracks, nanoseconds and the longest path are
//! worked out when the profile is read (trace, summary, pictures).

use crate::atomic_file::write_atomic_with;
use crate::Error;
use dagr_runtime::{
    Chunk, Event, Key, Observer, Run, RunDeps, RunId, RunKeys, SpanBatch, Tape, TapeWriter,
    TaskClock, TaskSpan,
};
use std::cell::RefCell;
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
/// into the same profile. Recording costs a cycle-counter read or two and a few plain
/// stores per task (no lock, no call): the runtime times the tasks for it and hands it their
/// spans a few dozen at a time (the profiler asks for task spans, see
/// [`Observer::task_spans`] and [`Observer::on_spans`]; an observer that passes events on
/// to a profiler passes those two on too). A task run straight after another on the same
/// thread (its input's task, or the root before it in a batch) starts where that task
/// ended, so the runtime's steps between two tasks count to the second. It keeps 8 bytes
/// per task until the profiler is dropped (24 for a task that starts after a pause on its
/// thread, 40 for one that failed or ran for seconds). A thread that recorded holds on to
/// the chunk it last wrote for each of its 8 latest runs (at most 1 MiB each) until it
/// records again.
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// A task as its thread stores it while the run goes: 8 bytes, times in the clock's raw
/// units (converted when the profile is read).
///
/// A chunk's records are read in order from a running time, `now`, that starts at the
/// chunk's first record (always a time record):
/// - `{node, ticks}` with `ticks` below [`ESCAPE`]: the task `node` ran from `now` for
///   `ticks` ticks; `now` moves to its end. Tasks that run back to back on a thread (one
///   clock reading a task) take one record each.
/// - `{TIME, ESCAPE}, {low, high}`: `now` is set to the reading `high << 32 | low` (before a
///   task that does not start where the last one ended, and at a chunk's start).
/// - `{LONG, ESCAPE}, {node, failed}, {low, high}`: the task `node` ran from `now` to the
///   reading `high << 32 | low`, which `now` moves to (a task that failed, or took
///   [`ESCAPE`] ticks or more: seconds).
///
/// Records that belong together are pushed together, so a reader sees all of them or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Record {
    node: u32,
    /// The task's duration in clock ticks, or [`ESCAPE`] for the other kinds.
    ticks: u32,
}

/// The `ticks` of a record that is not a task's own.
const ESCAPE: u32 = u32::MAX;
/// The `node` of an escape record: a time follows.
const TIME: u32 = 0;
/// The `node` of an escape record: a task with its end follows.
const LONG: u32 = 1;

impl Record {
    /// A reading, as the record after an escape holds it.
    fn time(t: u64) -> Record {
        Record {
            node: t as u32,
            ticks: (t >> 32) as u32,
        }
    }

    fn reading(self) -> u64 {
        u64::from(self.ticks) << 32 | u64::from(self.node)
    }
}

/// A thread's writer into one run's tape: the tape and the time its records have reached.
struct RecordWriter {
    tape: TapeWriter<Record>,
    /// The end of the last task written (where the next one starts if it follows).
    now: u64,
}

impl RecordWriter {
    fn new(tape: TapeWriter<Record>) -> Self {
        RecordWriter { tape, now: 0 }
    }

    /// Appends the tasks of a batch, in order. Tasks that start where the one before ended
    /// and are short take one record each, written together and published by one store
    /// (as many as the chunk has room for); any other task takes up to five records.
    fn record_all(&mut self, spans: &[TaskSpan]) {
        const RUN: usize = 64;
        let mut run = [Record { node: 0, ticks: 0 }; RUN];
        let mut rest = spans;
        while let Some(first) = rest.first() {
            let fit = rest.len().min(RUN).min(self.tape.room());
            let (mut n, mut now) = (0, self.now);
            while n < fit {
                let t = &rest[n];
                let ticks = t.end.wrapping_sub(t.start);
                if t.start != now || t.end < t.start || ticks >= u64::from(ESCAPE) || t.failed {
                    break;
                }
                run[n] = Record {
                    node: t.node.index() as u32,
                    ticks: ticks as u32,
                };
                now = t.end;
                n += 1;
            }
            if n == 0 {
                self.record_apart(
                    first.node.index() as u32,
                    first.start,
                    first.end,
                    first.failed,
                );
                n = 1;
            } else {
                self.tape.push_all(&run[..n]);
                self.now = now;
            }
            rest = &rest[n..];
        }
    }

    #[cold]
    fn record_apart(&mut self, node: u32, start: u64, end: u64, failed: bool) {
        let mut group = [Record { node: 0, ticks: 0 }; 5];
        let mut n = 0;
        let mut put = |r: Record| {
            group[n] = r;
            n += 1;
        };
        put(Record {
            node: TIME,
            ticks: ESCAPE,
        });
        put(Record::time(start));
        let end = end.max(start);
        if end - start < u64::from(ESCAPE) && !failed {
            put(Record {
                node,
                ticks: (end - start) as u32,
            });
        } else {
            put(Record {
                node: LONG,
                ticks: ESCAPE,
            });
            put(Record {
                node,
                ticks: u32::from(failed),
            });
            put(Record::time(end));
        }
        // a group lands in one chunk: if it starts a new one, it starts with its time
        self.tape.push_all(&group[..n]);
        self.now = end;
    }
}

/// Converts the clock's raw readings into nanoseconds since the profiler was made.
#[derive(Clone)]
struct Timebase {
    clock: TaskClock,
    /// The raw reading when the profiler was made.
    epoch: u64,
}

impl Timebase {
    fn ns(&self, raw: u64) -> u64 {
        self.clock.nanos(self.epoch, raw)
    }
}

/// Reads a chunk's records back as tasks.
struct Decode<I> {
    records: I,
    worker: u32,
    now: u64,
}

impl<I: Iterator<Item = Record>> Iterator for Decode<I> {
    /// (node, worker, failed, raw start, raw end)
    type Item = (u32, u32, bool, u64, u64);

    fn next(&mut self) -> Option<Self::Item> {
        // (records pushed together are published together: a group is there whole)
        loop {
            let r = self.records.next()?;
            let start = self.now;
            if r.ticks != ESCAPE {
                self.now += u64::from(r.ticks);
                return Some((r.node, self.worker, false, start, self.now));
            }
            let mut next = || self.records.next().unwrap_or(Record { node: 0, ticks: 0 });
            if r.node == TIME {
                self.now = next().reading();
            } else {
                let task = next();
                self.now = next().reading();
                return Some((task.node, self.worker, task.ticks != 0, start, self.now));
            }
        }
    }
}

/// The tasks a chunk holds, times raw.
fn decode(chunk: &Chunk<Record>) -> Decode<impl Iterator<Item = Record> + '_> {
    Decode {
        records: chunk.iter(),
        worker: chunk.tag(),
        now: 0,
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
    time: Timebase,
    /// The tasks as the threads that ran them recorded them, in one or more chunks per
    /// thread (in no particular order).
    chunks: Vec<Arc<Chunk<Record>>>,
    /// The graph's dependencies, shared with the run (no copy), for the longest path.
    deps: RunDeps,
    /// The chain of dependent tasks with the greatest total time (first task first) and
    /// that time in nanoseconds: worked out when first asked for, not while the run ends.
    longest: std::sync::OnceLock<(Vec<u32>, u64)>,
}

impl RunRecord {
    /// The chain of dependent tasks with the greatest total time, first task first, and
    /// that time in nanoseconds.
    pub(crate) fn longest_path(&self) -> &(Vec<u32>, u64) {
        self.longest.get_or_init(|| {
            let deps = |i: usize| self.deps.of(i).iter().map(|&d| d as usize);
            let times = (self.chunks.iter().flat_map(|c| decode(c)))
                .map(|(node, _, _, start, end)| (node, end.saturating_sub(start)));
            let len = self.deps.len();
            let (path, ticks) = longest_path(len, deps, times);
            (path, self.time.clock.nanos(0, ticks))
        })
    }

    pub(crate) fn key(&self, node: u32) -> Option<&Key> {
        self.keys.by_index(node as usize)
    }

    /// The tasks, in no particular order.
    pub(crate) fn tasks(&self) -> impl Iterator<Item = TaskRecord> + '_ {
        self.chunks
            .iter()
            .flat_map(|c| decode(c))
            .map(|(node, worker, failed, start, end)| TaskRecord {
                node,
                worker,
                failed,
                start: self.time.ns(start),
                end: self.time.ns(end),
            })
    }

    pub(crate) fn len(&self) -> usize {
        self.chunks.iter().map(|c| decode(c).count()).sum()
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

/// This thread's writer into one run's tape of one profiler, under one worker index.
struct Cached {
    profiler: usize,
    run: RunId,
    worker: u32,
    writer: RecordWriter,
}

/// What a thread keeps for the profilers it records into.
struct Local {
    /// Its writers, the one used last at the end (several while runs nest or overlap).
    writers: Vec<Cached>,
}

/// A thread keeps at most this many writers; it drops those of finished runs first.
const WRITERS_KEPT: usize = 8;

thread_local! {
    static LOCAL: RefCell<Local> = const {
        RefCell::new(Local { writers: Vec::new() })
    };
}

impl Local {
    /// This thread's writer for `run` of the profiler `s`, under index `worker`.
    #[inline]
    fn writer(&mut self, s: &Shared, run: RunId, worker: u32) -> &mut RecordWriter {
        let profiler = s.id();
        let is = |c: &Cached| c.profiler == profiler && c.run == run && c.worker == worker;
        let at = match self.writers.last() {
            Some(c) if is(c) => self.writers.len() - 1,
            _ => self.find_writer(s, run, worker),
        };
        &mut self.writers[at].writer
    }

    #[cold]
    fn find_writer(&mut self, s: &Shared, run: RunId, worker: u32) -> usize {
        let profiler = s.id();
        let is = |c: &Cached| c.profiler == profiler && c.run == run && c.worker == worker;
        if let Some(at) = self.writers.iter().rposition(is) {
            return at;
        }
        self.writers.retain(|c| !c.writer.tape.tape().is_closed());
        if self.writers.len() >= WRITERS_KEPT {
            self.writers.remove(0);
        }
        self.writers.push(Cached {
            profiler,
            run,
            worker,
            writer: RecordWriter::new(Tape::writer(&s.tape(run), worker)),
        });
        self.writers.len() - 1
    }
}

/// A run's first chunk per thread has room for its tasks divided among its workers, within
/// these bounds (records).
const FIRST_CHUNK: (usize, usize) = (16, 1 << 12);

struct Shared {
    /// The runtime's task clock (the processor's cycle counter where it is usable, else the
    /// system clock): the runtime reads it once or twice a task, and a cycle-counter reading
    /// costs about 10 ns where a system-clock call costs 25 or more. Records keep raw
    /// readings; they become nanoseconds when read.
    time: Timebase,
    state: Mutex<State>,
}

/// A run in progress.
struct Running {
    id: RunId,
    /// The clock's raw reading at its start.
    start: u64,
    tape: Arc<Tape<Record>>,
}

#[derive(Default)]
struct State {
    running: Vec<Running>,
    runs: Vec<Arc<RunRecord>>,
}

impl Shared {
    /// Tells this profiler apart from others in a thread's writers.
    fn id(&self) -> usize {
        self as *const Shared as usize
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn runs(&self) -> Vec<Arc<RunRecord>> {
        self.state().runs.clone()
    }

    /// The tape of `run` (made now for a run whose start was not seen).
    fn tape(&self, run: RunId) -> Arc<Tape<Record>> {
        let mut state = self.state();
        if let Some(r) = state.running.iter().find(|r| r.id == run) {
            return r.tape.clone();
        }
        let tape = Arc::new(Tape::new(FIRST_CHUNK.0));
        state.running.push(Running {
            id: run,
            start: self.time.clock.now(),
            tape: tape.clone(),
        });
        tape
    }
}

impl Profiler {
    /// An empty profile.
    pub fn new() -> Self {
        let clock = TaskClock::get();
        Profiler {
            shared: Arc::new(Shared {
                time: Timebase {
                    epoch: clock.now(),
                    clock,
                },
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
    fn on_event(&self, _: &Event<'_>) {}

    fn task_events(&self) -> bool {
        false
    }

    fn task_spans(&self) -> bool {
        true
    }

    fn on_spans(&self, batch: &SpanBatch<'_>) {
        let s = &*self.shared;
        // (`try_with`: a thread being torn down records nothing)
        let _ = LOCAL.try_with(|local| {
            let mut local = local.borrow_mut();
            let w = local.writer(s, batch.run, batch.worker as u32);
            w.record_all(batch.spans);
        });
    }

    fn on_run_start(&self, run: &Run<'_>) {
        let s = &*self.shared;
        let first = run
            .tasks()
            .div_ceil(run.workers().max(1))
            .clamp(FIRST_CHUNK.0, FIRST_CHUNK.1);
        let start = s.time.clock.now();
        s.state().running.push(Running {
            id: run.id(),
            start,
            tape: Arc::new(Tape::new(first)),
        });
    }

    fn on_run_end(&self, run: &Run<'_>) {
        let s = &*self.shared;
        let end = s.time.clock.now();
        let running = {
            let mut state = s.state();
            let at = state.running.iter().position(|r| r.id == run.id());
            at.map(|i| state.running.swap_remove(i))
        };
        let (start, chunks) = match running {
            Some(r) => {
                // Every span of the run was handed over before this call: the tape is whole.
                r.tape.close();
                let mut chunks = r.tape.chunks();
                chunks.retain(|c| !c.is_empty());
                (r.start, chunks)
            }
            None => (end, Vec::new()),
        };
        let record = RunRecord {
            keys: run.keys(),
            workers: run.workers(),
            failed: run.failed(),
            rank: (run.rank(), run.ranks()),
            bytes: run.bytes(),
            start: s.time.ns(start),
            end: s.time.ns(end),
            time: s.time.clone(),
            chunks,
            deps: run.dep_lists(),
            longest: std::sync::OnceLock::new(),
        };
        s.state().runs.push(Arc::new(record));
    }
}

/// The chain of dependent tasks with the greatest total time, and that time: over a graph
/// of `len` nodes whose dependencies `deps(i)` lists (each with a smaller index), given
/// `(node, time)` for the tasks that ran (the others are not on any chain). Ties go to the
/// dependency listed first, and to the chain ending at the smallest index.
///
/// One pass in index order finds, for every node, the heaviest chain ending there; the
/// chain is then walked back from the heaviest end, each step to the dependency with the
/// heaviest chain (the one the forward pass took).
fn longest_path<D: Iterator<Item = usize>>(
    len: usize,
    deps: impl Fn(usize) -> D,
    tasks: impl Iterator<Item = (u32, u64)>,
) -> (Vec<u32>, u64) {
    // best[i]: 0 if node i did not run, else 1 + its time, then 1 + the time of the
    // heaviest chain ending at it (zeroed memory: no pass to fill it).
    let mut best = vec![0u64; len];
    for (node, time) in tasks {
        if let Some(b) = best.get_mut(node as usize) {
            *b = time.saturating_add(1);
        }
    }
    // The dependency of `i` with the heaviest chain, and that chain's `best`.
    let heaviest_dep = |best: &[u64], i: usize| -> Option<(usize, u64)> {
        let mut at: Option<(usize, u64)> = None;
        for d in deps(i) {
            let bd = best.get(d).copied().unwrap_or(0);
            if bd != 0 && at.is_none_or(|(_, b)| bd > b) {
                at = Some((d, bd));
            }
        }
        at
    };
    let mut end: Option<(usize, u64)> = None;
    for i in 0..len {
        if best[i] == 0 {
            continue;
        }
        if let Some((_, b)) = heaviest_dep(&best, i) {
            best[i] = best[i].saturating_add(b - 1);
        }
        if end.is_none_or(|(_, b)| best[i] > b) {
            end = Some((i, best[i]));
        }
    }
    let mut path = Vec::new();
    let mut at = end;
    while let Some((i, _)) = at {
        path.push(i as u32);
        at = heaviest_dep(&best, i);
    }
    path.reverse();
    (path, end.map_or(0, |(_, b)| b - 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagr_runtime::NodeId;
    use proptest::prelude::*;

    /// Every chain of the graph that ran and its total time, by brute force: the heaviest.
    fn heaviest_by_search(deps: &[Vec<usize>], time: &[Option<u64>]) -> u64 {
        fn from(i: usize, deps: &[Vec<usize>], time: &[Option<u64>]) -> u64 {
            let below = deps[i]
                .iter()
                .filter(|&&d| time[d].is_some())
                .map(|&d| from(d, deps, time))
                .max()
                .unwrap_or(0);
            time[i].unwrap_or(0) + below
        }
        (0..deps.len())
            .filter(|&i| time[i].is_some())
            .map(|i| from(i, deps, time))
            .max()
            .unwrap_or(0)
    }

    fn graph() -> impl Strategy<Value = (Vec<Vec<usize>>, Vec<Option<u64>>)> {
        (1usize..12).prop_flat_map(|n| {
            let deps = (0..n)
                .map(|i| {
                    if i == 0 {
                        Just(Vec::new()).boxed()
                    } else {
                        proptest::collection::vec(0..i, 0..4).boxed()
                    }
                })
                .collect::<Vec<_>>();
            let time = proptest::collection::vec(proptest::option::weighted(0.8, 0u64..5), n);
            (deps, time)
        })
    }

    proptest! {
        #[test]
        fn the_longest_path_is_the_heaviest_chain((deps, time) in graph()) {
            let tasks = time
                .iter()
                .enumerate()
                .filter_map(|(i, t)| t.map(|t| (i as u32, t)));
            let (path, total) = longest_path(deps.len(), |i| deps[i].iter().copied(), tasks);
            prop_assert_eq!(total, heaviest_by_search(&deps, &time));
            // a chain of tasks that ran, each a dependency of the next, adding up
            prop_assert_eq!(path.is_empty(), time.iter().all(Option::is_none));
            for w in path.windows(2) {
                prop_assert!(deps[w[1] as usize].contains(&(w[0] as usize)), "{:?}", path);
            }
            let sum: u64 = path.iter().map(|&i| time[i as usize].unwrap()).sum();
            prop_assert_eq!(sum, total);
        }

        #[test]
        fn records_read_back_as_written(
            tasks in proptest::collection::vec(
                (any::<u32>(), prop_oneof![Just(None), (0u64..1 << 40).prop_map(Some)],
                    prop_oneof![0u64..1000, Just(u64::from(ESCAPE) - 1),
                    Just(u64::from(ESCAPE)), (1u64 << 32)..(1 << 40)], any::<bool>()),
                0..60),
            first in 1usize..8,
            batch in 1usize..80,
        ) {
            // a task starts where the last ended (None) or anywhere; chunks fill up; the
            // tasks come in batches
            let tape = Arc::new(Tape::new(first));
            let mut w = RecordWriter::new(Tape::writer(&tape, 9));
            let mut want = Vec::new();
            let mut spans = Vec::new();
            let mut now = 0u64;
            let ids = node_ids(100);
            for &(node, start, ticks, failed) in &tasks {
                let start = start.unwrap_or(now);
                let id = ids[node as usize % ids.len()];
                spans.push(TaskSpan { node: id, failed, start, end: start + ticks });
                want.push((id.index() as u32, 9, failed, start, start + ticks));
                now = start + ticks;
            }
            for b in spans.chunks(batch) {
                w.record_all(b);
            }
            let back: Vec<_> = tape.chunks().iter().flat_map(|c| decode(c).collect::<Vec<_>>()).collect();
            prop_assert_eq!(back, want);
        }
    }

    /// Ids of `n` nodes (those of a graph of `n` values).
    fn node_ids(n: usize) -> Vec<NodeId> {
        let mut g = dagr_runtime::TaskGraph::new();
        (0..n)
            .map(|i| {
                let key = Key::index("t", &[i as u64]);
                g.add(
                    key,
                    &[],
                    dagr_runtime::Task::value(dagr_runtime::Value::new(0_u8)),
                )
                .unwrap()
            })
            .collect()
    }

    #[test]
    fn ties_go_to_the_first_dependency_and_the_first_end() {
        // 0 and 1 weigh the same; 2 needs both; 3 alone weighs as much as 0 → 2
        let deps = [vec![], vec![], vec![1, 0], vec![]];
        let time = [(0, 2), (1, 2), (2, 1), (3, 3)];
        let (path, total) = longest_path(4, |i| deps[i].iter().copied(), time.into_iter());
        assert_eq!((path, total), (vec![1, 2], 3));
    }
}
