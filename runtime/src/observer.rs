//! Task events for progress bars and profilers.

use crate::{Key, NodeId};

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

/// One task event, delivered to an [`Observer`] on the thread that runs the task.
#[derive(Clone, Copy, Debug)]
pub struct Event<'a> {
    /// What happened.
    pub kind: EventKind,
    /// The node's id in the graph that was run.
    pub node: NodeId,
    /// The task's key.
    pub key: &'a Key,
    /// Index of the worker thread (0 for the sync scheduler).
    pub worker: usize,
}

/// Receives task events. Install one with [`crate::Scheduler::observe`]; with none installed
/// the runtime pays one predictable branch per task.
///
/// ```
/// use dagr_runtime::{Event, EventKind, Observer, Scheduler, Task, TaskGraph, Key};
/// use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
///
/// struct Count(AtomicUsize);
/// impl Observer for Count {
///     fn on_event(&self, e: &Event<'_>) {
///         if e.kind == EventKind::Finished { self.0.fetch_add(1, Ordering::Relaxed); }
///     }
/// }
/// let count = Arc::new(Count(AtomicUsize::new(0)));
/// let mut g = TaskGraph::new();
/// let a = g.add(Key::token("one", 1), &[], Task::once(|_| Ok(Arc::new(1_i64)))).unwrap();
/// Scheduler::sync().observe(count.clone()).run(g, &[a]).unwrap();
/// assert_eq!(count.0.load(Ordering::Relaxed), 1);
/// ```
pub trait Observer: Send + Sync {
    /// Called for every event; must be cheap and must not block.
    fn on_event(&self, event: &Event<'_>);
}
