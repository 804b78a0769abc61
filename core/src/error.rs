//! dagr's error type.

use dagr_runtime::{BoxError, Key};
use std::path::PathBuf;

/// Everything that can go wrong in dagr, with the context to act on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A task panicked; the rest of the computation was cancelled.
    #[error("task {key} panicked: {message}")]
    TaskPanicked {
        /// The task's key.
        key: Key,
        /// The panic message.
        message: String,
    },
    /// A task returned an error; the rest of the computation was cancelled.
    #[error("task {key} failed: {source}")]
    TaskFailed {
        /// The task's key.
        key: Key,
        /// The error the task returned.
        #[source]
        source: BoxError,
    },
    /// The runtime could not run the graph.
    #[error(transparent)]
    Runtime(dagr_runtime::Error),
    /// An output did not hold the type its handle promised (a bug in a graph builder).
    #[error("output {key} is not a `{expected}`")]
    OutputType {
        /// The output's key.
        key: Key,
        /// The type expected.
        expected: &'static str,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// A picture format needs Graphviz, which is not installed.
    #[error(
        "writing {path} needs Graphviz's `dot` program: install the `graphviz` package \
         (apt-get install graphviz), or write `.svg` or `.dot` instead"
    )]
    GraphvizMissing {
        /// The file asked for.
        path: PathBuf,
    },
    /// Graphviz ran but failed.
    #[error("`dot` failed to render {path}: {message}")]
    Graphviz {
        /// The file asked for.
        path: PathBuf,
        /// What `dot` printed.
        message: String,
    },
    /// The file extension names no picture format dagr writes.
    #[error("cannot write {path}: unknown picture format (expected .dot, .svg or .png)")]
    UnknownFormat {
        /// The file asked for.
        path: PathBuf,
    },
}

impl From<dagr_runtime::Error> for Error {
    fn from(e: dagr_runtime::Error) -> Self {
        match e {
            dagr_runtime::Error::TaskPanicked { key, message } => {
                Error::TaskPanicked { key, message }
            }
            dagr_runtime::Error::TaskFailed { key, source } => Error::TaskFailed { key, source },
            other => Error::Runtime(other),
        }
    }
}

impl Error {
    /// The key of the task that failed, for task errors.
    pub fn key(&self) -> Option<&Key> {
        match self {
            Error::TaskPanicked { key, .. }
            | Error::TaskFailed { key, .. }
            | Error::OutputType { key, .. } => Some(key),
            _ => None,
        }
    }
}
