//! The runtime's protocols, opened to the loom models of `runtime/tests/loom.rs` (built only
//! with `RUSTFLAGS="--cfg loom"`; not part of the API).
//!
//! What each model checks is listed under "Model checking" in the crate docs.

use crate::job::{Chain, Job};
use crate::{Error, NodeId, Observer, TaskGraph, Value};
use std::sync::Arc;

/// One run of a graph, driven by the model's threads (see [`crate::job`]).
pub struct ModelJob(Job);

impl ModelJob {
    /// Prepares a run of `graph` for `outputs`.
    pub fn new(graph: TaskGraph, outputs: &[NodeId]) -> Result<ModelJob, Error> {
        Job::new(graph, outputs, None).map(ModelJob)
    }

    /// Prepares a run of `graph` for `outputs`, told to `observer`.
    pub fn observed(
        graph: TaskGraph,
        outputs: &[NodeId],
        observer: Arc<dyn Observer>,
    ) -> Result<ModelJob, Error> {
        Job::new(graph, outputs, Some(observer)).map(ModelJob)
    }

    /// The roots, in order: each is the caller's to run when it claims it.
    pub fn roots(&self) -> Vec<u32> {
        self.0.roots.clone()
    }

    /// Runs node `i`, which the caller owns: the ready successors but one go to `spawn`, that
    /// one is returned to run next.
    pub fn execute(&self, i: u32, worker: usize, spawn: impl FnMut(u32)) -> Option<u32> {
        self.0.execute(i, worker, &mut self.0.chain(worker), spawn)
    }

    /// Runs node `i` and the successors handed back, one after the other, as one chain of
    /// this thread's (the others go to `spawn`), then ends the chain: the spans gathered are
    /// handed to the observer.
    pub fn run_chain(&self, i: u32, worker: usize, mut spawn: impl FnMut(u32)) {
        let mut chain = self.0.chain(worker);
        let mut next = Some(i);
        while let Some(n) = next {
            next = self.0.execute(n, worker, &mut chain, &mut spawn);
        }
        self.0.close_chain(&mut chain, worker);
    }

    /// After [`ModelJob::wait`]: waits until every span is handed over, as the runtime does
    /// before telling the observer the run ended.
    pub fn await_spans(&self) {
        self.0.await_spans()
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
