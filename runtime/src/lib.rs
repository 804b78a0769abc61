//! dagr's runtime: runs a type-erased task graph on the calling thread or on a
//! work-stealing pool.
//!
//! A [`TaskGraph`] is a list of nodes, each a [`Key`], the earlier nodes it depends on and a
//! [`Task`] over their values. [`Scheduler::run`] culls what the outputs do not need, runs
//! the rest (a node starts when its last input lands), drops every intermediate value as
//! soon as its last consumer has run, and returns the outputs. A panicking or failing task
//! becomes an [`Error`] naming its key; the rest of the run is cancelled; the pool stays
//! usable. The runtime knows nothing of collections: `dagr-core` builds on it.
//!
//! ```
//! use dagr::runtime::{Key, Scheduler, Task, TaskGraph};
//! use std::sync::Arc;
//!
//! // sum of 1..=100 as 100 leaves and one reduction
//! let mut g = TaskGraph::new();
//! let leaves: Vec<_> = (1..=100_i64)
//!     .map(|i| g.add(Key::index("leaf", &[i as u64]), &[], Task::once(move |_| Ok(Arc::new(i)))).unwrap())
//!     .collect();
//! let total = g.add(Key::token("sum", 0), &leaves, Task::once(|inp| {
//!     let mut s = 0_i64;
//!     for k in 0..inp.len() { s += inp.get::<i64>(k)?; }
//!     Ok(Arc::new(s))
//! })).unwrap();
//! let out = Scheduler::default().run(g, &[total]).unwrap();
//! assert_eq!(out[0].downcast_ref::<i64>(), Some(&5050));
//! ```

mod cell;
mod counters;
#[cfg(feature = "mpi")]
pub mod distributed;
mod error;
mod graph;
mod job;
mod key;
mod observer;
mod pool;
mod scheduler;
mod wire;

pub use counters::TaskCounters;
pub use error::{BoxError, Error, InputTypeError, MissingInputError, TaskError};
pub use graph::{Body, NodeId, Task, TaskGraph, TaskResult, Value};
pub use job::Inputs;
pub use key::{Key, KeyName};
pub use observer::{Event, EventKind, Observer, Run, RunId, RunKeys};
pub use scheduler::{current_worker, Held, Scheduler};
pub use wire::{Codec, Opaque, Wire};
