//! Choosing where a graph runs: the calling thread, or a work-stealing pool.

use crate::job::Job;
use crate::observer::Fanout;
use crate::{pool, Error, NodeId, Observer, TaskGraph, Value};
use std::fmt;
use std::sync::Arc;

/// `threads` value meaning "no pool: the calling thread".
const SYNC: usize = usize::MAX;

/// Where and how a graph runs. The default is the process-wide work-stealing pool with one
/// worker per core, started on first use.
///
/// | dagr | Dask |
/// |---|---|
/// | `Scheduler::sync()` | `scheduler="synchronous"` (`get_sync`) |
/// | `Scheduler::threads(n)` | `scheduler="threads", num_workers=n` |
/// | `Scheduler::default()` | the threaded default |
///
/// ```
/// use dagr::prelude::*;
/// let x = dagr::value(20_i64).map(|v| v + 1);
/// assert_eq!(x.compute()?, 21);                                 // the default pool
/// assert_eq!(x.compute_with(Scheduler::sync())?, 21);           // the calling thread
/// assert_eq!(x.compute_with(Scheduler::threads(2))?, 21);       // a pool of two workers
/// let (a, b) = dagr::compute_with((&x, &x.map(|v| v * 2)), Scheduler::threads(2))?;
/// assert_eq!((a, b), (21, 42));
/// # Ok::<(), dagr::Error>(())
/// ```
///
/// A raw task graph (what `compute` builds) runs the same way:
///
/// ```
/// use dagr::runtime::{Key, Scheduler, Task, TaskGraph};
/// use std::sync::Arc;
/// let build = || {
///     let mut g = TaskGraph::new();
///     let a = g.add(Key::token("a", 1), &[], Task::once(|_| Ok(Arc::new(20_i64)))).unwrap();
///     let b = g.add(Key::token("b", 2), &[a], Task::once(|i| Ok(Arc::new(i.get::<i64>(0)? + 1)))).unwrap();
///     (g, b)
/// };
/// for s in [Scheduler::sync(), Scheduler::threads(2), Scheduler::default()] {
///     let (g, out) = build();
///     let v = s.run(g, &[out]).unwrap();
///     assert_eq!(v[0].downcast_ref::<i64>(), Some(&21));
/// }
/// ```
#[derive(Clone, Default)]
pub struct Scheduler {
    threads: Option<usize>,
    observer: Option<Arc<dyn Observer>>,
    /// Where a distributed scheduler's runs go (see [`crate::distributed`]).
    #[cfg(feature = "mpi")]
    cluster: Option<Arc<crate::distributed::Inner>>,
    /// For a distributed scheduler: the one rank that receives the outputs.
    #[cfg(feature = "mpi")]
    pub(crate) output_rank: Option<usize>,
}

impl Scheduler {
    /// Runs every task on the calling thread, in a deterministic depth-first order. Meant
    /// for debugging: panics and breakpoints happen where you can see them.
    pub fn sync() -> Self {
        Scheduler {
            threads: Some(SYNC),
            ..Scheduler::default()
        }
    }

    /// Runs on a persistent work-stealing pool of `n` workers (`0`: one per core). Pools are
    /// started on first use and shared by every scheduler of the same size.
    pub fn threads(n: usize) -> Self {
        Scheduler {
            threads: Some(n.min(usize::MAX - 1)),
            ..Scheduler::default()
        }
    }

    /// Sends the run and task events of every run of this scheduler to `observer`. Observers
    /// add up: each one installed sees every event, in the order they were installed.
    pub fn observe(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = Some(match self.observer.take() {
            None => observer,
            Some(first) => Arc::new(Fanout::new([first, observer])),
        });
        self
    }

    #[cfg(feature = "mpi")]
    pub(crate) fn on_cluster(mut self, cluster: Arc<crate::distributed::Inner>) -> Self {
        self.cluster = Some(cluster);
        self
    }

    /// Whether runs of this scheduler span several processes (a `Cluster`'s scheduler, with
    /// the `mpi` feature): values
    /// then need codecs to cross ([`TaskGraph::set_wire`]).
    ///
    /// ```
    /// assert!(!dagr::runtime::Scheduler::default().is_distributed());
    /// ```
    pub fn is_distributed(&self) -> bool {
        #[cfg(feature = "mpi")]
        if self.cluster.is_some() {
            return true;
        }
        false
    }

    /// The cluster a distributed scheduler computes on (`None` for the others).
    ///
    /// ```
    /// assert!(dagr::runtime::Scheduler::threads(2).cluster().is_none());
    /// ```
    #[cfg(feature = "mpi")]
    pub fn cluster(&self) -> Option<crate::distributed::Cluster> {
        self.cluster
            .clone()
            .map(crate::distributed::Cluster::from_inner)
    }

    /// For a distributed scheduler whose outputs go to one rank only: that rank.
    ///
    /// ```
    /// assert_eq!(dagr::runtime::Scheduler::default().output_rank(), None);
    /// ```
    pub fn output_rank(&self) -> Option<usize> {
        #[cfg(feature = "mpi")]
        if self.cluster.is_some() {
            return self.output_rank;
        }
        None
    }

    /// Whether this is the single-threaded scheduler.
    pub fn is_sync(&self) -> bool {
        self.threads == Some(SYNC)
    }

    /// The observer installed with [`Scheduler::observe`], if any (several installed ones
    /// come as one that forwards to each).
    pub fn observer(&self) -> Option<&Arc<dyn Observer>> {
        self.observer.as_ref()
    }

    /// Runs what `outputs` need of `graph` and returns their values in order. Nodes no
    /// output depends on are not run.
    pub fn run(&self, graph: TaskGraph, outputs: &[NodeId]) -> Result<Vec<Value>, Error> {
        #[cfg(feature = "mpi")]
        if let Some(cluster) = &self.cluster {
            let threads = self.threads.unwrap_or(0);
            return Ok(cluster.run(self, threads, (graph, outputs), false)?.values);
        }
        let job = Job::new(graph, outputs, self.observer.clone())?;
        if self.is_sync() {
            self.start(&job, 1);
            run_sync(&job);
            self.end(&job, 1);
            return job.finish();
        }
        let pool = pool::pool(self.threads.unwrap_or(0))?;
        // the pool's workers, and the caller, which helps under the next index
        let workers = pool.caller_index() + 1;
        let job = Arc::new(job);
        self.start(&job, workers);
        pool.run(job.clone());
        self.end(&job, workers);
        job.finish()
    }

    /// [`Scheduler::run`] where each output stays with the process that computed it (Dask:
    /// `persist`, whose chunks stay on their workers): on a distributed scheduler each rank
    /// gets the values of the outputs it owns and, for every output, the rank holding it
    /// (run later graphs with such a value as a node [pinned](TaskGraph::pin) to that rank).
    /// Other schedulers hold every output on rank 0, the one process.
    ///
    /// ```
    /// use dagr::runtime::{Key, Scheduler, Task, TaskGraph};
    /// use std::sync::Arc;
    /// let mut g = TaskGraph::new();
    /// let a = g.add(Key::index("part", &[0]), &[], Task::once(|_| Ok(Arc::new(5_i64)))).unwrap();
    /// let held = Scheduler::threads(2).run_held(g, &[a]).unwrap();
    /// assert_eq!(held[0].rank, 0);
    /// assert_eq!(held[0].value.as_ref().unwrap().downcast_ref::<i64>(), Some(&5));
    /// ```
    pub fn run_held(&self, graph: TaskGraph, outputs: &[NodeId]) -> Result<Vec<Held>, Error> {
        #[cfg(feature = "mpi")]
        if let Some(cluster) = &self.cluster {
            let threads = self.threads.unwrap_or(0);
            let ran = cluster.run(self, threads, (graph, outputs), true)?;
            let me = self.cluster().map_or(0, |c| c.rank());
            let mut values = ran.values.into_iter();
            return Ok(ran
                .owners
                .iter()
                .map(|&r| Held {
                    rank: r as usize,
                    value: if r as usize == me {
                        values.next()
                    } else {
                        None
                    },
                })
                .collect());
        }
        Ok(self
            .run(graph, outputs)?
            .into_iter()
            .map(|v| Held {
                rank: 0,
                value: Some(v),
            })
            .collect())
    }

    fn start(&self, job: &Job, workers: usize) {
        if let Some(obs) = &self.observer {
            obs.on_run_start(&job.view(workers));
        }
    }

    fn end(&self, job: &Job, workers: usize) {
        if let Some(obs) = &self.observer {
            job.await_spans();
            obs.on_run_end(&job.view(workers));
        }
    }
}

/// An output of [`Scheduler::run_held`]: the rank holding it and, on that rank, its value.
#[derive(Clone)]
pub struct Held {
    /// The rank (process) holding the value.
    pub rank: usize,
    /// The value, on that rank (`None` on the others).
    pub value: Option<Value>,
}

/// Index of the pool worker running the calling thread (`None` outside pools).
pub fn current_worker() -> Option<usize> {
    pool::current_worker()
}

fn run_sync(job: &Job) {
    let mut stack: Vec<u32> = job.roots.iter().rev().copied().collect();
    // one thread, tasks back to back: each follows the one before it
    let mut chain = job.chain(0);
    while let Some(mut i) = stack.pop() {
        loop {
            let mut ready = Vec::new();
            let next = job.execute(i, 0, &mut chain, |s| ready.push(s));
            stack.extend(ready.into_iter().rev());
            match next {
                Some(n) => i = n,
                None => break,
            }
        }
    }
    job.close_chain(&mut chain, 0);
}

impl fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(feature = "mpi")]
        if let Some(c) = &self.cluster {
            return write!(f, "Scheduler::cluster({})", c.describe());
        }
        match self.threads {
            Some(SYNC) => f.write_str("Scheduler::sync()"),
            Some(n) => write!(f, "Scheduler::threads({n})"),
            None => f.write_str("Scheduler::default()"),
        }
    }
}
