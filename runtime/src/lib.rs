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
//! use dagr::runtime::{Key, Scheduler, Task, TaskGraph, Value};
//! use std::sync::Arc;
//!
//! // sum of 1..=100 as 100 leaves and one reduction
//! let mut g = TaskGraph::new();
//! let leaves: Vec<_> = (1..=100_i64)
//!     .map(|i| g.add(Key::index("leaf", &[i as u64]), &[], Task::once(move |_| Ok(Value::new(i)))).unwrap())
//!     .collect();
//! let total = g.add(Key::token("sum", 0), &leaves, Task::once(|inp| {
//!     let mut s = 0_i64;
//!     for k in 0..inp.len() { s += inp.get::<i64>(k)?; }
//!     Ok(Arc::new(s)) // or anything else that converts into a `Value`
//! })).unwrap();
//! let out = Scheduler::default().run(g, &[total]).unwrap();
//! assert_eq!(out[0].downcast_ref::<i64>(), Some(&5050));
//! ```
//!
//! # Model checking
//! The protocols are model-checked with `loom` (`runtime/tests/loom.rs`, run by CI as
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test -p dagr-runtime --release
//! --test loom`). loom runs each model under every interleaving of its threads (up to the
//! bound on preemptions) and every outcome the memory orderings allow, with the runtime's
//! atomics, locks and cells replaced by loom's (through the `sync` shim module). Each model
//! is a small graph run by two or three threads through the real job code (`job.rs`), the
//! real parking code (`pool/sleep.rs`) or the real record tape (`tape.rs`), and checks one
//! invariant:
//!
//! 1. `countdown_runs_a_join_once`: two roots finish on two threads; exactly one of them
//!    brings the join's `pending` to zero and runs it as its continuation, and the join
//!    reads both results (the `pending` edge: a producer's slot write happens-before its
//!    consumer's read; loom checks every slot access against it).
//! 2. `last_consumer_moves_the_value`: a value read by two consumers on two threads is
//!    dropped exactly once, by whichever releases last, after the other's read (the
//!    `consumers` edge), and a consumer that takes it moves it only when it is the last.
//! 3. `failure_cancels_and_frees`: a failing task and a concurrent `cancel` on another
//!    thread: the run still ends, returns the first error, skips the tasks not started and
//!    drops every value produced (outputs too).
//! 4. `waiting_caller_gets_the_result`: a caller blocked in `wait` is woken by whichever
//!    thread finishes the last output, and reads the output's value (the result hand-off:
//!    the latch's lock and the `outputs_left` edge).
//! 5. `parked_worker_is_woken`: a worker parking while another thread pushes work and
//!    notifies is never left asleep with work queued (no lost wake-up: the Dekker handshake
//!    of `pool/sleep.rs`, whose SeqCst fences loom models).
//! 6. `nested_compute_helps`: a task that computes a second graph runs that graph's ready
//!    nodes itself while it waits, alongside another worker, and neither waits forever for
//!    the other (nested compute helping, as a pool worker does in `Registry::run`).
//! 7. `tape_reader_sees_whole_records`: a reader of a [`Tape`] while its writer appends (into
//!    a full chunk and then a new one) sees a prefix of the records in order, never a slot
//!    being written and never half of a group pushed together; after the writer, it sees
//!    all (the `published` edge of `tape.rs`).
//! 8. `tape_writers_do_not_share_chunks`: two writers appending at once each find their
//!    records, in order, in chunks of their own.
//! 9. `spans_are_handed_over_before_the_run_ends`: two threads run the roots of a join, one
//!    the join, each gathering the spans of its tasks and handing them to the observer when
//!    its chain ends; a caller that sees the run done and waits for the handed-over count
//!    sees every span (the `spans_open` count of `job.rs`: a thread counts itself in before
//!    its tasks' consumers are counted down, and out after the hand-over).

mod cell;
mod clock;
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
mod sync;
mod tape;
mod value;
mod wire;

#[cfg(loom)]
pub mod loom_models;

pub use clock::TaskClock;
pub use counters::TaskCounters;
pub use error::{BoxError, Error, InputTypeError, MissingInputError, TaskError};
pub use graph::{Body, NodeId, Task, TaskGraph, TaskResult};
pub use job::Inputs;
pub use key::{Key, KeyIndex, KeyName};
pub use observer::{Event, EventKind, Observer, Run, RunDeps, RunId, RunKeys, SpanBatch, TaskSpan};
pub use scheduler::{current_worker, Held, Scheduler};
pub use tape::{Chunk, Tape, TapeWriter};
pub use value::Value;
pub use wire::{Codec, Opaque, Wire};
