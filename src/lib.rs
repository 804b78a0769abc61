//! # dagr: Dask for Rust
//!
//! Annotate ordinary functions with [`#[delayed]`](macro@delayed) and calling them builds a
//! lazy task graph instead of running them; [`Delayed::compute`] runs the graph on a
//! work-stealing thread pool (or on the calling thread, for debugging), freeing every
//! intermediate result as soon as its last consumer has run.
//!
//! ```
//! use dagr::prelude::*;
//!
//! #[delayed]
//! fn inc(x: i64) -> i64 { x + 1 }
//! #[delayed]
//! fn double(x: i64) -> i64 { x + 2 }
//! #[delayed]
//! fn add(x: i64, y: i64) -> i64 { x + y }
//! #[delayed]
//! fn total(xs: Vec<i64>) -> i64 { xs.iter().sum() }
//!
//! let output: Vec<Delayed<i64>> = (1..=5).map(|x| add(inc(x), double(x))).collect();
//! let t = total(output);
//! assert_eq!(t.compute()?, 45);                          // the threaded pool
//! assert_eq!(t.compute_with(Scheduler::sync())?, 45);    // one thread, for debugging
//! assert_eq!(inc::eager(1), 2);                          // the plain function
//! # Ok::<(), dagr::Error>(())
//! ```
//!
//! | dagr | Dask |
//! |---|---|
//! | `#[delayed] fn inc(..)`, `inc(1)` | `inc = delayed(inc)`, `inc(1)` |
//! | `#[delayed(pure)]` | `delayed(pure=True)` |
//! | `dagr::value(x)` | `delayed(x)` |
//! | `t.compute()?` | `t.compute()` |
//! | `t.compute_with(Scheduler::sync())?` | `t.compute(scheduler="synchronous")` |
//! | `dagr::compute((&a, &b))?` | `dask.compute(a, b)` |
//! | `dagr::compute((&bag, &df, &x.mean()))?` | `dask.compute(bag, df, x.mean())` |
//! | `t.visualize("t.svg")?` | `t.visualize("t.svg")` |
//! | `dagr::visualize((&a, &b), "g.svg")?` | `dask.visualize(a, b, filename="g.svg")` |
//! | `t.compute_with(Scheduler::default().progress())?` | `with ProgressBar(): t.compute()` |
//! | `t.compute_with(Scheduler::default().profile(&prof))?` | `with Profiler() as prof: t.compute()` |
//!
//! A [`graph!`] block declares a reusable pipeline whose wiring (names, cycles, unused
//! nodes, outputs, types) is checked by the compiler; see [`Pipeline`].

pub use dagr_core::*;
pub use dagr_macros::delayed;

/// A pipeline declared as a block: inputs, nodes defined in any order, outputs; the wiring
/// is checked at compile time.
///
/// ```
/// use dagr::prelude::*;
///
/// #[delayed]
/// fn inc(x: i64) -> i64 { x + 1 }
/// #[delayed]
/// fn double(x: i64) -> i64 { x * 2 }
/// #[delayed]
/// fn add(x: i64, y: i64) -> i64 { x + y }
/// #[delayed]
/// fn total(xs: Vec<i64>) -> i64 { xs.iter().sum() }
///
/// let pipeline = graph! {
///     input x: i64;
///     input ys: Vec<i64>;
///     c = add(a, b);          // definitions in any order: the macro sorts them
///     a = inc(x);
///     b = double(x);
///     s = total(ys);
///     output (c, s);
/// };
/// let (c, s) = pipeline.compute(5, vec![1, 2, 3])?;       // run many times with new inputs
/// assert_eq!((c, s), (16, 6));
/// let (c, s) = pipeline.compute_with(Scheduler::sync(), 5, vec![1])?;
/// assert_eq!((c, s), (16, 1));
/// println!("{}", pipeline.to_dot());                      // the static structure
/// # Ok::<(), dagr::Error>(())
/// ```
///
/// Functions that are not `#[delayed]` are marked `plain`; a function returning a `Result`
/// gives its `Ok` value, and an `Err` fails the computation with the node's name:
///
/// ```
/// use dagr::prelude::*;
///
/// fn parse(text: String) -> Result<i64, std::num::ParseIntError> {
///     text.trim().parse()
/// }
/// fn scale(x: i64, by: i64) -> i64 {
///     x * by
/// }
///
/// let pipeline = graph! {
///     input text: String;
///     n = plain parse(text);
///     big = plain scale(n, 1000);     // literals are arguments too
///     output big;
/// };
/// assert_eq!(pipeline.compute("42".to_owned())?, 42_000);
/// let err = pipeline.compute("forty-two".to_owned()).unwrap_err();
/// assert_eq!(err.key().unwrap().prefix(), "n");
/// # Ok::<(), dagr::Error>(())
/// ```
///
/// Mistakes in the wiring are compile errors at the offending token:
///
/// ```compile_fail
/// use dagr::prelude::*;
/// #[delayed]
/// fn inc(x: i64) -> i64 { x + 1 }
/// let pipeline = graph! {
///     input x: i64;
///     a = inc(x);
///     b = inc(aa);    // error: `aa` is not defined in this graph: did you mean `a`?
///     output b;
/// };
/// ```
pub use dagr_macros::graph;

/// The names most programs use: `use dagr::prelude::*;`.
///
/// (`Result` is not in it: a glob import would shadow std's. [`SchedulerExt`] is, for
/// `Scheduler::default().progress()`.)
pub mod prelude {
    pub use crate::SchedulerExt;
    pub use crate::{compute, delayed, graph, value, Data, Delayed, Error, Scheduler};
}

/// The same program on many processes under MPI (feature `mpi`; Dask's distributed
/// scheduler as dask-mpi deploys it).
///
/// Every rank runs the same binary (`mpiexec -n 4 ./program`, `srun ./program`), builds the
/// same graph and computes it with [`Cluster::scheduler`](distributed::Cluster::scheduler):
/// each task runs on one rank (chunk `i` of `N` on rank `⌊i·R/N⌋`; other tasks where most of
/// their inputs are), values cross only to the ranks that consume them, and the result comes
/// back on every rank. A failure anywhere is the same error on every rank.
///
/// ```no_run
/// use dagr::array as da;
/// use dagr::distributed::Cluster;
///
/// let cluster = Cluster::init()?;
/// let x = da::random::random(&[4000, 4000], &[1000, 1000], 42)?;
/// let avg: f64 = x.mean().compute_with(cluster.scheduler())?;   // on every rank
/// if cluster.rank() == 0 {
///     println!("{avg} ({:?})", cluster.stats());
/// }
/// # Ok::<(), dagr::Error>(())
/// ```
#[cfg(feature = "mpi")]
pub mod distributed {
    pub use dagr_core::compute_on;
    pub use dagr_runtime::distributed::{Cluster, CommStats};
}

/// Support for code generated by `#[delayed]` and `graph!`. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use dagr_core::private::*;
}
