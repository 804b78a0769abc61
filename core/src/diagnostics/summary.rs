//! The text summary of a profile: where the time went.

use super::profile::RunRecord;
use crate::key_split::key_split;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Where the time of the recorded runs went: tasks and time per key prefix, how busy each
/// worker was, and the longest path. `{}` prints it as a table.
///
/// ```
/// use dagr::{value, diagnostics::Profiler, Scheduler, SchedulerExt};
/// let prof = Profiler::new();
/// let x = value(3).map(|v| v * 2).map(|v| v + 1);
/// x.compute_with(Scheduler::sync().profile(&prof))?;
/// let s = prof.summary();
/// assert_eq!((s.runs, s.tasks, s.failed), (1, 3, 0));
/// assert_eq!(s.by_prefix.iter().find(|p| p.prefix == "map").unwrap().tasks, 2);
/// assert_eq!(s.longest_path.tasks, 3); // value -> map -> map
/// assert_eq!(s.workers.len(), 1); // the sync scheduler: one worker, the calling thread
/// assert!(s.calling_thread.is_none());
/// # Ok::<(), dagr::Error>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ProfileSummary {
    /// Runs recorded.
    pub runs: usize,
    /// Tasks recorded (each ran once).
    pub tasks: usize,
    /// Tasks that panicked or returned an error.
    pub failed: usize,
    /// Time during which at least one recorded run was going.
    pub wall: Duration,
    /// Per key prefix, the most total time first.
    pub by_prefix: Vec<PrefixTime>,
    /// Per worker of the scheduler, in order: a pool's threads (as many as the largest pool
    /// recorded), or the one thread of the sync scheduler.
    pub workers: Vec<WorkerTime>,
    /// The thread that called `compute` on a pool, which runs tasks of its run while it
    /// waits: what it ran (`None` when it ran none).
    pub calling_thread: Option<WorkerTime>,
    /// The chain of dependent tasks with the greatest total time, over all runs: no number of
    /// workers runs the graph faster than this.
    pub longest_path: LongestPath,
    /// On a cluster: this process's rank, the number of ranks, and the bytes it sent to and
    /// received from the others over the runs recorded (`None` for runs in one process).
    pub cluster: Option<ClusterTraffic>,
}

/// What one rank of a distributed run sent and received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClusterTraffic {
    /// This process's rank.
    pub rank: usize,
    /// Number of ranks.
    pub ranks: usize,
    /// Bytes sent to other ranks.
    pub bytes_sent: u64,
    /// Bytes received from them.
    pub bytes_received: u64,
}

/// The tasks of one key prefix: one function, or the layers of one collection operation
/// (a layer's token is left out, as Dask's `key_split` does: `map-1f3a9c2e` counts as `map`).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PrefixTime {
    /// The key prefix, without a layer's token.
    pub prefix: String,
    /// Number of tasks.
    pub tasks: usize,
    /// Their total time.
    pub total: Duration,
    /// The longest of them.
    pub max: Duration,
}

/// How busy one worker was.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WorkerTime {
    /// The worker's index.
    pub worker: usize,
    /// Tasks it ran.
    pub tasks: usize,
    /// Time it spent running them.
    pub busy: Duration,
    /// `busy` over the wall time, from 0 to 1.
    pub utilisation: f64,
}

/// The heaviest chain of dependent tasks.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct LongestPath {
    /// Number of tasks on it.
    pub tasks: usize,
    /// Their total time.
    pub time: Duration,
    /// Its key prefixes in order, consecutive repeats counted: `[("inc", 999), ("sum", 1)]`.
    pub steps: Vec<(String, usize)>,
}

impl ProfileSummary {
    pub(crate) fn of(runs: &[Arc<RunRecord>]) -> Self {
        let mut by_prefix: HashMap<&str, PrefixTime> = HashMap::new();
        let workers = runs.iter().map(|r| r.pool()).max().unwrap_or(0);
        let mut busy = vec![(0usize, 0u64); workers];
        let mut caller = (0usize, 0u64, 0usize);
        let mut tasks = 0;
        let mut failed = 0;
        for run in runs {
            for t in run.tasks() {
                tasks += 1;
                failed += usize::from(t.failed);
                let d = Duration::from_nanos(t.duration());
                let prefix = run.key(t.node).map_or("?", |k| key_split(k.prefix()));
                let p = by_prefix.entry(prefix).or_insert_with(|| PrefixTime {
                    prefix: prefix.to_owned(),
                    tasks: 0,
                    total: Duration::ZERO,
                    max: Duration::ZERO,
                });
                p.tasks += 1;
                p.total += d;
                p.max = p.max.max(d);
                if Some(t.worker) == run.caller() {
                    caller.0 += 1;
                    caller.1 += t.duration();
                    caller.2 = t.worker as usize;
                    continue;
                }
                let w = t.worker as usize;
                if w >= busy.len() {
                    busy.resize(w + 1, (0, 0));
                }
                busy[w].0 += 1;
                busy[w].1 += t.duration();
            }
        }
        let wall = wall_time(runs);
        let mut by_prefix: Vec<PrefixTime> = by_prefix.into_values().collect();
        by_prefix.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.prefix.cmp(&b.prefix)));
        let time = |worker, tasks, ns: u64| WorkerTime {
            worker,
            tasks,
            busy: Duration::from_nanos(ns),
            utilisation: if wall.is_zero() {
                0.0
            } else {
                (ns as f64 / wall.as_nanos() as f64).min(1.0)
            },
        };
        let workers = busy
            .into_iter()
            .enumerate()
            .map(|(worker, (tasks, ns))| time(worker, tasks, ns))
            .collect();
        let calling_thread = (caller.0 > 0).then(|| time(caller.2, caller.0, caller.1));
        let cluster =
            runs.iter()
                .filter(|r| r.rank.1 > 1)
                .fold(None, |acc: Option<ClusterTraffic>, r| {
                    let mut t = acc.unwrap_or(ClusterTraffic {
                        rank: r.rank.0,
                        ranks: r.rank.1,
                        bytes_sent: 0,
                        bytes_received: 0,
                    });
                    t.bytes_sent += r.bytes.0;
                    t.bytes_received += r.bytes.1;
                    Some(t)
                });
        ProfileSummary {
            runs: runs.len(),
            tasks,
            failed,
            wall,
            by_prefix,
            workers,
            calling_thread,
            longest_path: longest_path(runs),
            cluster,
        }
    }
}

/// Length of the union of the runs' intervals (nested runs overlap their parent).
fn wall_time(runs: &[Arc<RunRecord>]) -> Duration {
    let mut spans: Vec<(u64, u64)> = runs.iter().map(|r| (r.start, r.end)).collect();
    spans.sort_unstable();
    let mut total = 0;
    let mut cur: Option<(u64, u64)> = None;
    for (a, b) in spans {
        cur = match cur {
            Some((s, e)) if a <= e => Some((s, e.max(b))),
            Some((s, e)) => {
                total += e - s;
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    if let Some((s, e)) = cur {
        total += e - s;
    }
    Duration::from_nanos(total)
}

fn longest_path(runs: &[Arc<RunRecord>]) -> LongestPath {
    let Some(run) = runs.iter().max_by_key(|r| {
        let (path, time) = r.longest_path();
        (*time, path.len())
    }) else {
        return LongestPath::default();
    };
    let (path, time) = run.longest_path();
    let mut steps: Vec<(String, usize)> = Vec::new();
    for &n in path {
        let prefix = run.key(n).map_or("?", |k| key_split(k.prefix()));
        match steps.last_mut() {
            Some((p, count)) if p == prefix => *count += 1,
            _ => steps.push((prefix.to_owned(), 1)),
        }
    }
    LongestPath {
        tasks: path.len(),
        time: Duration::from_nanos(*time),
        steps,
    }
}

/// A duration in the unit that suits it: `812 ns`, `12.3 µs`, `45.6 ms`, `7.89 s`.
pub(crate) struct Human(pub(crate) Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0.as_nanos() as f64;
        let text = if ns < 1e3 {
            format!("{ns:.0} ns")
        } else if ns < 1e6 {
            format!("{:.1} µs", ns / 1e3)
        } else if ns < 1e9 {
            format!("{:.1} ms", ns / 1e6)
        } else {
            format!("{:.2} s", ns / 1e9)
        };
        f.pad(&text)
    }
}

impl fmt::Display for ProfileSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        writeln!(
            f,
            "{} of {} on {}{} in {}{}",
            plural(self.tasks, "task"),
            plural(self.runs, "run"),
            plural(self.workers.len(), "worker"),
            if self.calling_thread.is_some() {
                " and the calling thread"
            } else {
                ""
            },
            Human(self.wall),
            if self.failed > 0 {
                format!(" ({} failed)", self.failed)
            } else {
                String::new()
            }
        )?;
        let width = self
            .by_prefix
            .iter()
            .map(|p| p.prefix.chars().count())
            .chain([10])
            .max()
            .unwrap_or(10);
        writeln!(
            f,
            "  {:<width$} {:>9} {:>11} {:>11} {:>11}",
            "key prefix", "tasks", "total", "mean", "max"
        )?;
        for p in &self.by_prefix {
            let mean = p.total / p.tasks.max(1) as u32;
            writeln!(
                f,
                "  {:<width$} {:>9} {:>11} {:>11} {:>11}",
                p.prefix,
                p.tasks,
                Human(p.total),
                Human(mean),
                Human(p.max)
            )?;
        }
        if let Some(c) = &self.cluster {
            writeln!(
                f,
                "  rank {} of {}: sent {} bytes, received {} bytes",
                c.rank, c.ranks, c.bytes_sent, c.bytes_received
            )?;
        }
        for w in &self.workers {
            writeln!(
                f,
                "  worker {}: {}, busy {} ({:.1} %)",
                w.worker,
                plural(w.tasks, "task"),
                Human(w.busy),
                w.utilisation * 100.0
            )?;
        }
        if let Some(w) = &self.calling_thread {
            writeln!(
                f,
                "  calling thread: {}, busy {} ({:.1} %)",
                plural(w.tasks, "task"),
                Human(w.busy),
                w.utilisation * 100.0
            )?;
        }
        let lp = &self.longest_path;
        write!(
            f,
            "  longest path: {}, {}",
            plural(lp.tasks, "task"),
            Human(lp.time)
        )?;
        const SHOWN: usize = 8;
        for (i, (prefix, n)) in lp.steps.iter().enumerate() {
            if lp.steps.len() > SHOWN && i == SHOWN / 2 {
                write!(f, " → … ({} more)", lp.steps.len() - SHOWN)?;
            }
            if lp.steps.len() > SHOWN && i >= SHOWN / 2 && i < lp.steps.len() - SHOWN / 2 {
                continue;
            }
            let sep = if i == 0 { ": " } else { " → " };
            if *n > 1 {
                write!(f, "{sep}{prefix} ×{n}")?;
            } else {
                write!(f, "{sep}{prefix}")?;
            }
        }
        writeln!(f)
    }
}
