//! Writing computed arrays to files, shared by every file format.
//!
//! Two pieces:
//! 1. [`write_atomically`]: a file is written under a temporary name beside its destination
//!    and moved into place only when the whole write succeeded, so a failed write never
//!    replaces a good file and leaves nothing behind.
//! 2. How finished blocks reach the writer: [`Array::for_each_block`] consumes each block in
//!    the task that made it (formats that can write from many threads at once, like raw
//!    binary with positioned writes), [`Array::for_each_block_here`] hands them one by one to
//!    the calling thread as they finish (formats whose library must be used from one place,
//!    like HDF5), with a bounded queue so that only a few finished blocks wait in memory.

use super::blocks::Chunk;
use super::element::Element;
use super::Array;
use crate::delayed::Delayed;
use crate::node::{Deps, NodeKind};
use crate::Error;
use dagr_runtime::{Inputs, Key, Scheduler, TaskError, TaskResult, Value};
use ndarray::{ArcArray, ArrayViewD, IxDyn};

use std::sync::mpsc;
use std::sync::Arc;

/// Finished blocks that may wait for the writer of [`Array::for_each_block_here`]; a task
/// finishing a block while the queue is full waits for the writer.
// used by the formats behind features
#[cfg_attr(not(feature = "hdf5"), allow(dead_code))]
const QUEUED_BLOCKS: usize = 2;

pub(crate) use crate::atomic_file::write_atomically;

impl<T: Element> Array<T> {
    /// Computes every block in parallel on `scheduler` and passes it to `consume` inside the
    /// task that made it. Tasks are named `(op-<name>, i, j, …)`.
    pub(crate) fn for_each_block(
        &self,
        op: &str,
        scheduler: Scheduler,
        consume: impl Fn(&[usize], Chunk<'_, T>) -> Result<(), TaskError> + Send + Sync + 'static,
    ) -> Result<(), Error> {
        if let Some(e) = &self.err {
            return Err(super::blocks::duplicate(e));
        }
        let name: Arc<str> = format!("{op}-{}", self.name).into();
        let parts = self.nodes_with(&name, consume);
        let done = crate::node::new_wired_node(
            Key::index(name.clone(), &[]),
            Deps::from(parts),
            NodeKind::Call,
            false,
            Some(crate::wire_of::<()>()),
            |_: &mut Inputs<'_>| -> TaskResult { Ok(Value::new(())) },
        );
        Delayed::<()>::from_node(done).compute_with(scheduler)
    }

    /// Computes every block in parallel on `scheduler` and calls `write` on the calling
    /// thread with each block as it finishes (in completion order, each block once, in
    /// standard C layout). When
    /// `write` fails, the blocks still running are cancelled and its error is returned.
    #[cfg_attr(not(feature = "hdf5"), allow(dead_code))]
    pub(crate) fn for_each_block_here(
        &self,
        op: &str,
        scheduler: Scheduler,
        mut write: impl FnMut(&[usize], ArrayViewD<'_, T>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        enum Msg<T> {
            Block(Vec<usize>, ArcArray<T, IxDyn>),
            Done(Result<(), Error>),
        }
        let (tx, rx) = mpsc::sync_channel::<Msg<T>>(QUEUED_BLOCKS);
        let x = self.clone();
        let op = op.to_owned();
        std::thread::scope(|s| {
            let done = tx.clone();
            let computing = s.spawn(move || {
                let r = x.for_each_block(&op, scheduler, move |idx, c| {
                    let mut b = c.into_shared()?;
                    if !b.is_standard_layout() {
                        // the copy to C order happens here, in parallel, not in the writer
                        b = b.as_standard_layout().into_owned().into_shared();
                    }
                    tx.send(Msg::Block(idx.to_vec(), b)).map_err(|_| {
                        TaskError::new(Error::InvalidArgument {
                            what: "write",
                            message: "the writer stopped".into(),
                        })
                    })
                });
                // the writer may be gone already (it failed): nothing left to tell
                let _ = done.send(Msg::Done(r));
            });
            let mut failed = None;
            let computed = loop {
                match rx.recv() {
                    Ok(Msg::Block(idx, b)) => {
                        if let Err(e) = write(&idx, b.view()) {
                            failed = Some(e);
                            break Ok(());
                        }
                    }
                    Ok(Msg::Done(r)) => break r,
                    // the computing thread panicked: `join` below re-raises it
                    Err(_) => break Ok(()),
                }
            };
            // cancels the tasks still sending blocks (their send fails)
            drop(rx);
            if let Err(p) = computing.join() {
                std::panic::resume_unwind(p);
            }
            match failed {
                Some(e) => Err(e),
                None => computed,
            }
        })
    }
}
