//! The message-passing layer: MPI through rsmpi. Every MPI call of a process is made by the
//! thread driving a run, one run at a time (the cluster's lock), so MPI is initialised with
//! `MPI_THREAD_SERIALIZED`.

use super::protocol::Transport;
use crate::Error;
use mpi::request::{Request, StaticScope};
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::traits::*;
use std::sync::Arc;

/// A send and the buffer it reads (one strong count of an `Arc<[u8]>`, given back when the
/// send completes).
type InFlight = (Request<'static, [u8], StaticScope>, *const [u8]);

/// The world communicator of a cluster, driven by one run at a time.
pub(crate) struct Mpi {
    world: SimpleCommunicator,
    rank: u32,
    size: u32,
    /// Sends in flight, each with the buffer it reads (see `send`).
    sends: Vec<InFlight>,
    barrier: Option<Request<'static, ()>>,
}

// SAFETY: the raw pointers in `sends` point into `Arc<[u8]>` buffers this value owns (one
// strong count each), which are `Send + Sync`; the communicator is a handle that MPI lets any
// thread use when calls are serialised, which the cluster's lock does.
unsafe impl Send for Mpi {}

impl Mpi {
    pub(crate) fn new(world: SimpleCommunicator) -> Mpi {
        let (rank, size) = (world.rank() as u32, world.size() as u32);
        Mpi {
            world,
            rank,
            size,
            sends: Vec::new(),
            barrier: None,
        }
    }

    /// Ends the whole job (`MPI_Abort`).
    pub(crate) fn abort(&self, code: i32) -> ! {
        self.world.abort(code)
    }

    /// Waits for every rank.
    pub(crate) fn barrier(&self) {
        self.world.barrier();
    }

    /// Number of ranks on this host (sharing its memory).
    pub(crate) fn local_ranks(&self) -> usize {
        self.world.split_shared(self.world.rank()).size().max(1) as usize
    }
}

impl Transport for Mpi {
    fn rank(&self) -> u32 {
        self.rank
    }

    fn size(&self) -> u32 {
        self.size
    }

    fn all_gather(&mut self, x: u64) -> Vec<u64> {
        let mut all = vec![0u64; self.size as usize];
        self.world.all_gather_into(&x, &mut all[..]);
        all
    }

    fn send(&mut self, dest: u32, tag: i32, bytes: Arc<[u8]>) {
        let raw: *const [u8] = Arc::into_raw(bytes);
        // SAFETY: `raw` keeps one strong count of the buffer until `sends_done` has seen the
        // request complete and turned the pointer back into an `Arc`; until then the buffer
        // is alive and nobody writes it.
        let buf: &'static [u8] = unsafe { &*raw };
        let req = self
            .world
            .process_at_rank(dest as i32)
            .immediate_synchronous_send_with_tag(StaticScope, buf, tag);
        self.sends.push((req, raw));
    }

    fn sends_done(&mut self) -> bool {
        let mut k = 0;
        while k < self.sends.len() {
            let (req, raw) = self.sends.swap_remove(k);
            match req.test() {
                Ok(_) => {
                    // SAFETY: the send completed, so MPI no longer reads the buffer; `raw`
                    // came from `Arc::into_raw` in `send` and is given back once.
                    drop(unsafe { Arc::from_raw(raw) });
                }
                Err(req) => {
                    let last = self.sends.len();
                    self.sends.push((req, raw));
                    self.sends.swap(k, last);
                    k += 1;
                }
            }
        }
        self.sends.is_empty()
    }

    fn try_recv(&mut self, tag: i32) -> Option<(u32, Vec<u8>)> {
        let msg = self
            .world
            .any_process()
            .immediate_matched_probe_with_tag(tag)?;
        let (bytes, status) = msg.matched_receive_vec::<u8>();
        Some((status.source_rank() as u32, bytes))
    }

    fn start_barrier(&mut self) {
        self.barrier = Some(self.world.immediate_barrier());
    }

    fn barrier_done(&mut self) -> bool {
        match self.barrier.take() {
            None => true,
            Some(req) => match req.test() {
                Ok(_) => true,
                Err(req) => {
                    self.barrier = Some(req);
                    false
                }
            },
        }
    }
}

impl Drop for Mpi {
    fn drop(&mut self) {
        // Runs end with every send complete and the barrier passed; this only matters if a
        // run was unwound by a panic.
        for (req, raw) in self.sends.drain(..) {
            req.wait();
            // SAFETY: as in `sends_done`.
            drop(unsafe { Arc::from_raw(raw) });
        }
        if let Some(b) = self.barrier.take() {
            b.wait();
        }
    }
}

/// Starts MPI for this process.
pub(crate) fn init() -> Result<(mpi::environment::Universe, Mpi), Error> {
    let (universe, level) =
        mpi::initialize_with_threading(mpi::Threading::Serialized).ok_or_else(|| {
            Error::Distributed(
                "MPI is already initialised in this process: call Cluster::init once".into(),
            )
        })?;
    if level < mpi::Threading::Serialized {
        return Err(Error::Distributed(format!(
            "the MPI library offers thread level {level:?}; dagr needs Serialized"
        )));
    }
    let world = universe.world();
    Ok((universe, Mpi::new(world)))
}
