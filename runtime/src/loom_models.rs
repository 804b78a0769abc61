//! The runtime's protocols, opened to the loom models of `runtime/tests/loom.rs` (built only
//! with `RUSTFLAGS="--cfg loom"`; not part of the API).
//!
//! What each model checks is listed under "Model checking" in the crate docs.

use crate::job::Job;
use crate::{Error, NodeId, TaskGraph, Value};

/// One run of a graph, driven by the model's threads (see [`crate::job`]).
pub struct ModelJob(Job);

impl ModelJob {
    /// Prepares a run of `graph` for `outputs`.
    pub fn new(graph: TaskGraph, outputs: &[NodeId]) -> Result<ModelJob, Error> {
        Job::new(graph, outputs, None).map(ModelJob)
    }

    /// The roots, in order: each is the caller's to run when it claims it.
    pub fn roots(&self) -> Vec<u32> {
        self.0.roots.clone()
    }

    /// Runs node `i`, which the caller owns: the ready successors but one go to `spawn`, that
    /// one is returned to run next.
    pub fn execute(&self, i: u32, worker: usize, spawn: impl FnMut(u32)) -> Option<u32> {
        self.0
            .execute(i, worker, &mut crate::job::Chain::default(), spawn)
    }

    /// Fails the run from outside.
    pub fn cancel(&self, error: Error) -> bool {
        self.0.cancel(error)
    }

    /// Whether every output is produced (or the failed run walked to its end).
    pub fn is_done(&self) -> bool {
        self.0.is_done()
    }

    /// Blocks until [`ModelJob::is_done`].
    pub fn wait(&self) {
        self.0.wait()
    }

    /// After the run: the outputs or its error.
    pub fn finish(&self) -> Result<Vec<Value>, Error> {
        self.0.finish()
    }
}

/// The pool's parking protocol (see `pool/sleep.rs`).
#[derive(Default)]
pub struct ModelSleep(crate::pool::sleep::Sleep);

impl ModelSleep {
    /// Called after pushing work.
    pub fn notify_one(&self) {
        self.0.notify_one()
    }

    /// Parks unless `has_work` finds work on the re-check.
    pub fn sleep(&self, has_work: impl Fn() -> bool) {
        self.0.sleep(has_work)
    }
}
