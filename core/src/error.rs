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
    ///
    /// The message includes the task's error, so [`std::error::Error::source`] does not
    /// return it again (a reporter walking the chain would print it twice); it is the
    /// `error` field, to downcast (`error.downcast_ref::<std::num::ParseIntError>()`).
    #[error("task {key} failed: {error}")]
    TaskFailed {
        /// The task's key.
        key: Key,
        /// The error the task returned.
        error: BoxError,
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
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// An I/O error without a file name, from `?` on a `std::io` call in code that returns
    /// `Result<_, dagr::Error>`.
    ///
    /// ```
    /// fn run() -> Result<(), dagr::Error> {
    ///     let text = std::fs::read_to_string("/nonexistent/dagr-input.txt")?;
    ///     drop(text);
    ///     Ok(())
    /// }
    /// assert!(matches!(run(), Err(dagr::Error::StdIo(_))));
    /// ```
    #[error(transparent)]
    StdIo(#[from] std::io::Error),
    /// An argument is out of its domain (`repartition(0)`, `topk(0)`, …).
    #[error("{what}: {message}")]
    InvalidArgument {
        /// The operation.
        what: &'static str,
        /// What is wrong and what is accepted.
        message: String,
    },
    /// No file matches a path pattern.
    #[error("no file matches {pattern:?}")]
    NoFiles {
        /// The pattern given.
        pattern: String,
    },
    /// A path pattern is not a valid glob.
    #[error("bad path pattern {pattern:?}: {message}")]
    BadPattern {
        /// The pattern given.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
    /// A text file holds bytes that are not UTF-8.
    #[error("{}:{line}: invalid UTF-8 (read with `TextOptions::lossy(true)` to replace bad bytes)", path.display())]
    InvalidUtf8 {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
    },
    /// A line longer than the readers' limit ([`DEFAULT_MAX_LINE`](crate::bag::DEFAULT_MAX_LINE)
    /// unless raised): found before more than the limit is held for it.
    #[error(
        "{}: the line at byte {offset} is longer than {limit} bytes (raise the limit with \
         `TextOptions::max_line` or `CsvOptions::max_line`)",
        path.display()
    )]
    LineTooLong {
        /// The file.
        path: PathBuf,
        /// The byte offset in the file where the line starts.
        offset: u64,
        /// The limit, in bytes.
        limit: u64,
    },
    /// A CSV file is malformed (ragged rows, bad quoting, header mismatch).
    #[error("{}:{line}: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A CSV value does not fit its column's type.
    #[error(
        "{}:{line}: column {}: cannot read {value:?} as {dtype} \
         (declare the column's dtype, or read with `CsvOptions::widen(true)`)",
        path.display(), quoted(column)
    )]
    CsvValue {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// The column's name.
        column: String,
        /// The text found: for a value longer than 64 bytes, its start and its length
        /// (`"1234…" (100000 bytes)`), so that an error never holds a whole field.
        value: String,
        /// The column's type.
        dtype: crate::dataframe::DType,
    },
    /// A column name that the dataframe does not have.
    #[error("no column {} (columns: {})", quoted(name), quoted_list(columns))]
    UnknownColumn {
        /// The name asked for.
        name: String,
        /// The columns there are.
        columns: Vec<String>,
    },
    /// An operation needs another column type.
    #[error("column {column:?} is {dtype}, but {what} needs {expected}")]
    ColumnType {
        /// The column.
        column: String,
        /// Its type.
        dtype: crate::dataframe::DType,
        /// The operation.
        what: &'static str,
        /// What it needs.
        expected: &'static str,
    },
    /// An expression's type does not fit where it is used (a filter that is not a boolean,
    /// arithmetic on strings).
    #[error("`{expr}` is {dtype}, but {what} needs {expected}")]
    ExprType {
        /// The expression, as written.
        expr: String,
        /// Its type.
        dtype: crate::dataframe::DType,
        /// The operation.
        what: &'static str,
        /// What it needs.
        expected: &'static str,
    },
    /// An aggregation has nothing to aggregate.
    #[error("{what} of an empty collection")]
    Empty {
        /// The aggregation (`min`, `max`, `mean`).
        what: &'static str,
    },
    /// Array shapes that do not fit the operation (broadcasting, concatenation, reshape).
    #[error("{what}: {message}")]
    Shape {
        /// The operation.
        what: &'static str,
        /// The shapes involved and why they do not fit.
        message: String,
    },
    /// A chunk specification that does not fit the array's shape.
    #[error("bad chunks: {message}")]
    Chunks {
        /// What is wrong.
        message: String,
    },
    /// A block (or a whole array asked for at once) that needs more memory than the machine
    /// has, found before anything is allocated for it. Reductions such as `sum` and `mean`
    /// read blocks in pieces and need no such block.
    #[error(
        "{what} of shape {shape:?} of {dtype} needs {bytes} bytes, more than the machine's \
         {memory} bytes of memory: use smaller chunks (reductions such as sum and mean read \
         a block in pieces)"
    )]
    BlockMemory {
        /// `"a block"` or `"the array"`.
        what: &'static str,
        /// Its shape.
        shape: Vec<usize>,
        /// The element type.
        dtype: &'static str,
        /// Bytes it needs.
        bytes: u64,
        /// Bytes of memory the machine has (`DAGR_MEMORY_BYTES` when set).
        memory: u64,
    },
    /// An axis past the array's number of dimensions.
    #[error("{what}: axis {axis} is out of range for an array of {ndim} dimensions")]
    Axis {
        /// The operation.
        what: &'static str,
        /// The axis given.
        axis: usize,
        /// The array's number of dimensions.
        ndim: usize,
    },
    /// A slice or index outside the array, or of a kind arrays do not support.
    #[error("bad slice: {message}")]
    Slice {
        /// What is wrong.
        message: String,
    },
    /// A raw binary file whose size does not match the shape and element type asked for.
    #[error("{}: the file holds {actual} bytes, the shape and element type need {expected}", path.display())]
    FileSize {
        /// The file.
        path: PathBuf,
        /// Bytes the shape needs.
        expected: u64,
        /// Bytes in the file.
        actual: u64,
    },
    /// An HDF5 file or dataset could not be opened, created, read or written.
    #[error("{}: dataset {dataset:?}: {message}", path.display())]
    Hdf5 {
        /// The file.
        path: PathBuf,
        /// The dataset's path inside the file (`/foo/xs`).
        dataset: String,
        /// What the HDF5 library said.
        message: String,
    },
    /// A Parquet file could not be read or written, or holds a column dagr cannot hold.
    #[error("{}: {message}", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What is wrong (naming the column, where one is at fault).
        message: String,
    },
    /// A stored dataset holds another element type than the one asked for.
    #[error("{}: dataset {dataset:?} holds {found}, not {expected}", path.display())]
    Dtype {
        /// The file.
        path: PathBuf,
        /// The dataset's path inside the file.
        dataset: String,
        /// The element type stored (`float32`).
        found: String,
        /// The element type asked for (`float64`).
        expected: &'static str,
    },
    /// A picture format needs Graphviz, which is not installed.
    #[error(
        "writing {} needs Graphviz's `dot` program: install the `graphviz` package \
         (apt-get install graphviz), or write `.svg` or `.dot` instead",
        path.display()
    )]
    GraphvizMissing {
        /// The file asked for.
        path: PathBuf,
    },
    /// Graphviz ran but failed.
    #[error("`dot` failed to render {}: {message}", path.display())]
    Graphviz {
        /// The file asked for.
        path: PathBuf,
        /// What `dot` printed.
        message: String,
    },
    /// The file extension names no picture format dagr writes.
    #[error("cannot write {}: unknown picture format (expected .dot, .svg or .png)", path.display())]
    UnknownFormat {
        /// The file asked for.
        path: PathBuf,
    },
}

/// The longest text an error message quotes from input, in bytes.
const QUOTE_MAX: usize = 64;

/// Quotes text from input for an error message (as `{:?}` does), cut to its first
/// [`QUOTE_MAX`] bytes and its length when longer ([`start_of`]): a message never holds a
/// whole field.
pub(crate) fn quoted(s: &str) -> String {
    format!("{:?}", start_of(s.as_bytes()))
}

/// The text of input bytes as an error shows it: all of it up to [`QUOTE_MAX`] bytes,
/// else its start and its length; bytes that are not UTF-8 are replaced.
pub(crate) fn start_of(b: &[u8]) -> String {
    let text = String::from_utf8_lossy(&b[..b.len().min(QUOTE_MAX)]);
    if b.len() <= QUOTE_MAX {
        return text.into_owned();
    }
    // a character cut at the end shows as a replacement character: drop it
    format!("{}… ({} bytes)", text.trim_end_matches('\u{FFFD}'), b.len())
}

/// Quotes a list of names from input for an error message: the first few, each
/// [`quoted`], and how many more.
pub(crate) fn quoted_list(names: &[String]) -> String {
    const SHOWN: usize = 16;
    let mut out = String::from("[");
    for (i, n) in names.iter().take(SHOWN).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&quoted(n));
    }
    if names.len() > SHOWN {
        out.push_str(&format!(", … {} more", names.len() - SHOWN));
    }
    out.push(']');
    out
}

impl From<dagr_runtime::Error> for Error {
    fn from(e: dagr_runtime::Error) -> Self {
        match e {
            dagr_runtime::Error::TaskPanicked { key, message } => {
                Error::TaskPanicked { key, message }
            }
            dagr_runtime::Error::TaskFailed { key, source } => {
                match source.downcast::<Deferred>() {
                    Ok(deferred) => deferred.0,
                    Err(error) => Error::TaskFailed { key, error },
                }
            }
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

/// An error found while a lazy collection was built (an operator cannot return `Result`),
/// carried by its tasks: `compute` returns the error itself, not a task failure naming an
/// internal key.
#[derive(Debug)]
pub(crate) struct Deferred(pub(crate) Error);

impl std::fmt::Display for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Deferred {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0)
    }
}

/// A copy of an error found while building (reported by every task and `compute` that meets
/// it); errors that hold no plain data are copied as their text.
pub(crate) fn duplicate(e: &Error) -> Error {
    match e {
        Error::Shape { what, message } => Error::Shape {
            what,
            message: message.clone(),
        },
        Error::Chunks { message } => Error::Chunks {
            message: message.clone(),
        },
        Error::Axis { what, axis, ndim } => Error::Axis {
            what,
            axis: *axis,
            ndim: *ndim,
        },
        Error::Slice { message } => Error::Slice {
            message: message.clone(),
        },
        Error::InvalidArgument { what, message } => Error::InvalidArgument {
            what,
            message: message.clone(),
        },
        Error::UnknownColumn { name, columns } => Error::UnknownColumn {
            name: name.clone(),
            columns: columns.clone(),
        },
        Error::ColumnType {
            column,
            dtype,
            what,
            expected,
        } => Error::ColumnType {
            column: column.clone(),
            dtype: *dtype,
            what,
            expected,
        },
        Error::ExprType {
            expr,
            dtype,
            what,
            expected,
        } => Error::ExprType {
            expr: expr.clone(),
            dtype: *dtype,
            what,
            expected,
        },
        other => Error::InvalidArgument {
            what: "building the graph",
            message: other.to_string(),
        },
    }
}
