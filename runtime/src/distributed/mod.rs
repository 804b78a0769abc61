//! The same program on many processes under MPI (Dask's distributed scheduler, deployed as
//! dask-mpi deploys it): SPMD, owner computes.
//!
//! Every rank (process) runs the same binary, builds the same graph and computes it with
//! [`Cluster::scheduler`]. Each task runs on one rank, chosen identically on every rank
//! without a message ([`placement`]): chunk `i` of a layer of `N` chunks on rank `⌊i·R/N⌋`,
//! so each rank reads only its own files and blocks; other tasks where most of their inputs
//! are. Each rank runs its tasks on its own work-stealing pool; a value crosses only to the
//! ranks that consume it, once per rank, as soon as it is computed (non-blocking sends while
//! the pool keeps working); the outputs go to every rank. The protocol, its termination and
//! its failure path are described in [`protocol`].
//!
//! Values cross through the [`Codec`](crate::Codec) attached to their node; a value that
//! must cross without one is an error on every rank before anything runs.
//!
//! ```no_run
//! use dagr::runtime::distributed::Cluster;
//! use dagr::runtime::{Key, Task, TaskGraph};
//! use std::sync::Arc;
//!
//! // mpiexec -n 4 ./program
//! let cluster = Cluster::init()?;
//! let mut g = TaskGraph::new();
//! let a = g.add(Key::token("a", 1), &[], Task::value(Arc::new(20_i64)))?;
//! let out = cluster.scheduler().run(g, &[a])?;
//! if cluster.rank() == 0 {
//!     println!("{:?}", out[0].downcast_ref::<i64>());
//! }
//! # Ok::<(), dagr::runtime::Error>(())
//! ```

mod mpi;
pub(crate) mod placement;
pub(crate) mod protocol;
mod split;

use crate::{Error, NodeId, Scheduler, TaskGraph};
use protocol::{Counters, RunConfig};
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

/// This process's place in an MPI job, and the schedulers that compute across it.
///
/// | dagr | Dask |
/// |---|---|
/// | `Cluster::init()?` | `dask_mpi.initialize(); client = Client()` |
/// | `x.compute_with(cluster.scheduler())` | `x.compute()` with the client active |
/// | `cluster.rank()`, `cluster.size()` | `MPI.COMM_WORLD.rank`, `.size` |
///
/// A rank that dies (killed, out of memory, `abort`) ends the whole job: that is MPI's
/// model, and `mpiexec` reports which rank it was.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    comm: Mutex<Comm>,
    rank: u32,
    size: u32,
    local_ranks: usize,
    counters: Counters,
    compress: std::sync::atomic::AtomicBool,
    // Finalises MPI when the last cluster handle and scheduler are gone (declared last: it
    // drops after the communicator).
    _universe: ::mpi::environment::Universe,
}

struct Comm {
    mpi: mpi::Mpi,
    runs: u32,
}

/// What crossed between this rank and the others, summed over the cluster's runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommStats {
    /// Bytes of the messages this rank sent (headers included).
    pub bytes_sent: u64,
    /// Bytes of the messages this rank received.
    pub bytes_received: u64,
    /// Messages sent (one per value and destination rank).
    pub messages_sent: u64,
    /// Messages received.
    pub messages_received: u64,
    /// Tasks this rank ran (its own share of every run).
    pub tasks_run: u64,
}

impl Cluster {
    /// Starts MPI in this process (`MPI_Init_thread`, serialized). Call it once per process,
    /// on every rank.
    pub fn init() -> Result<Cluster, Error> {
        let (universe, mpi) = mpi::init()?;
        let local_ranks = mpi.local_ranks();
        let (rank, size) = (
            protocol::Transport::rank(&mpi),
            protocol::Transport::size(&mpi),
        );
        Ok(Cluster {
            inner: Arc::new(Inner {
                comm: Mutex::new(Comm { mpi, runs: 0 }),
                rank,
                size,
                local_ranks,
                counters: Counters::default(),
                compress: false.into(),
                _universe: universe,
            }),
        })
    }

    pub(crate) fn from_inner(inner: Arc<Inner>) -> Cluster {
        Cluster { inner }
    }

    /// This process's rank, from 0 to `size() - 1`.
    pub fn rank(&self) -> usize {
        self.inner.rank as usize
    }

    /// Number of ranks.
    pub fn size(&self) -> usize {
        self.inner.size as usize
    }

    /// A scheduler computing across every rank, each on a pool of one worker per core
    /// shared by the ranks on its host (at least one).
    pub fn scheduler(&self) -> Scheduler {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.scheduler_with_threads((cores / self.inner.local_ranks).max(1))
    }

    /// A scheduler computing across every rank, each on a pool of `threads` workers.
    pub fn scheduler_with_threads(&self, threads: usize) -> Scheduler {
        Scheduler::threads(threads.max(1)).on_cluster(self.inner.clone())
    }

    /// Whether values of 256 KiB or more are compressed (deflate, fastest level) before they
    /// cross, when that saves a tenth of their bytes or more (Dask:
    /// `distributed.comm.compression`). Off by default: on one host or a fast network the
    /// time it takes (about 100 MB/s a core) is more than the time it saves; it pays where
    /// the network is slow and the values are text (word tables shrink about 2×). Applies to
    /// this rank's sends from its next run on; each rank decides for its own sends.
    ///
    /// ```no_run
    /// let cluster = dagr::runtime::distributed::Cluster::init()?;
    /// cluster.compress(true);
    /// # Ok::<(), dagr::runtime::Error>(())
    /// ```
    pub fn compress(&self, on: bool) {
        self.inner.compress.store(on, Ordering::Relaxed);
    }

    /// Waits until every rank has called it (`MPI_Barrier`): for instance after rank 0 wrote
    /// the files every rank is about to read.
    pub fn barrier(&self) {
        let comm = self.inner.comm.lock().unwrap_or_else(|p| p.into_inner());
        comm.mpi.barrier();
    }

    /// A scheduler like [`Cluster::scheduler`] whose runs deliver their outputs to `rank`
    /// only: the other ranks get no values back (their `run` returns an empty list), and a
    /// large output crosses once instead of once per rank. Facades wrap it so the other
    /// ranks get `None` (`dagr::distributed::compute_on`).
    pub fn scheduler_to_rank(&self, rank: usize) -> Scheduler {
        let mut s = self.scheduler();
        s.output_rank = Some(rank.min(self.size() - 1));
        s
    }

    /// What crossed between this rank and the others so far.
    pub fn stats(&self) -> CommStats {
        let c = &self.inner.counters;
        CommStats {
            bytes_sent: c.bytes_sent.load(Ordering::Relaxed),
            bytes_received: c.bytes_received.load(Ordering::Relaxed),
            messages_sent: c.messages_sent.load(Ordering::Relaxed),
            messages_received: c.messages_received.load(Ordering::Relaxed),
            tasks_run: c.tasks_run.load(Ordering::Relaxed),
        }
    }
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Cluster(rank {} of {})",
            self.inner.rank, self.inner.size
        )
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // A rank unwinding from a panic would otherwise wait in MPI_Finalize while the
        // others wait for it: end the job, as a rank that dies does.
        if std::thread::panicking() {
            eprintln!("dagr: rank {} panicked; ending the MPI job", self.rank);
            let comm = self.comm.get_mut().unwrap_or_else(|p| p.into_inner());
            comm.mpi.abort(101);
        }
    }
}

impl Inner {
    pub(crate) fn describe(&self) -> String {
        format!("rank {} of {}", self.rank, self.size)
    }

    /// Runs `graph` across the cluster (every rank calls this with the same graph); `keep`:
    /// each output stays with the rank that computed it.
    pub(crate) fn run(
        &self,
        scheduler: &Scheduler,
        threads: usize,
        (graph, outputs): (TaskGraph, &[NodeId]),
        keep: bool,
    ) -> Result<protocol::Ran, Error> {
        if crate::current_worker().is_some() {
            return Err(Error::Distributed(
                "a task cannot compute on the cluster (every rank would have to); compute \
                 inside a task with Scheduler::threads or Scheduler::sync"
                    .into(),
            ));
        }
        let mut comm = self.comm.lock().unwrap_or_else(|p| p.into_inner());
        comm.runs = comm.runs.wrapping_add(1);
        let cfg = RunConfig {
            threads,
            observer: scheduler.observer().cloned(),
            run: comm.runs,
            counters: &self.counters,
            output_rank: scheduler.output_rank().map(|r| r as u32),
            compress: self.compress.load(Ordering::Relaxed),
            keep,
        };
        protocol::run(&mut comm.mpi, cfg, graph, outputs)
    }
}
