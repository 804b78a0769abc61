//! The runtime's errors.

use crate::Key;
use std::fmt;

/// A boxed error as tasks return it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a computation did not produce its outputs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A task panicked. The rest of the graph was cancelled; the pool is still usable.
    #[error("task {key} panicked: {message}")]
    TaskPanicked {
        /// The key of the task that panicked.
        key: Key,
        /// The panic payload, when it was a string.
        message: String,
    },
    /// A task returned an error. The rest of the graph was cancelled.
    #[error("task {key} failed: {source}")]
    TaskFailed {
        /// The key of the task that failed.
        key: Key,
        /// What the task returned.
        #[source]
        source: BoxError,
    },
    /// A node named a dependency that was not added before it.
    #[error("node {node} depends on {dep}, which is not an earlier node of the graph")]
    InvalidDependency {
        /// The node being added.
        node: usize,
        /// The dependency it named.
        dep: usize,
    },
    /// An output named a node that is not in the graph.
    #[error("output {0} is not a node of the graph")]
    InvalidOutput(usize),
    /// The graph has more nodes than the runtime can index.
    #[error("a graph holds at most {max} nodes and edges", max = u32::MAX)]
    TooLarge,
    /// A distributed run: a value that must go to another rank has no wire encoding. Every
    /// rank reports it before anything runs.
    #[error("task {key} must send its value to another rank, but `{type_name}` cannot be encoded (give the type serde's Serialize and Deserialize, or keep its consumers on one rank)")]
    NotEncodable {
        /// The task whose value would cross.
        key: Key,
        /// Its type.
        type_name: &'static str,
    },
    /// A distributed run: the ranks did not build the same graph.
    #[error("the ranks built different graphs ({detail}): every rank must build the same graph, in the same order, before computing it")]
    GraphMismatch {
        /// Which ranks disagree.
        detail: String,
    },
    /// A distributed run failed on a rank; every rank returns this same error.
    #[error("on rank {rank}: {message}")]
    Rank {
        /// The rank where the run failed first (the lowest, when several failed).
        rank: usize,
        /// The error there (it names the task's key).
        message: String,
    },
    /// The message-passing layer failed or was used in a way it does not allow.
    #[error("distributed run: {0}")]
    Distributed(String),
    /// A worker thread could not be started.
    #[error("could not start a worker thread: {0}")]
    Spawn(#[source] std::io::Error),
}

/// The error a task body returns: anything that converts into a boxed error.
///
/// ```
/// use dagr::runtime::TaskError;
/// let e = TaskError::new("bad input");
/// assert_eq!(e.to_string(), "bad input");
/// ```
pub struct TaskError(pub(crate) BoxError);

impl TaskError {
    /// Wraps an error (or a message) as a task error.
    pub fn new(error: impl Into<BoxError>) -> Self {
        TaskError(error.into())
    }

    /// The wrapped error.
    pub fn into_inner(self) -> BoxError {
        self.0
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// An input of a task did not hold the type the task asked for.
#[derive(Debug, thiserror::Error)]
#[error("input {index} is not a `{expected}` (it is a `{found}`)")]
pub struct InputTypeError {
    /// Position of the input among the task's dependencies.
    pub index: usize,
    /// The type the task asked for.
    pub expected: &'static str,
    /// The type the input holds.
    pub found: &'static str,
}

/// An input of a task was asked for that the task does not have, or was already taken.
#[derive(Debug, thiserror::Error)]
#[error("input {index} is missing (the task has {len} inputs, or it was already taken)")]
pub struct MissingInputError {
    /// Position asked for.
    pub index: usize,
    /// Number of inputs of the task.
    pub len: usize,
}
