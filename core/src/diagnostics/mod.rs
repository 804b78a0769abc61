//! Watching and studying computations: a progress bar and a profiler (Dask:
//! `dask.diagnostics`), both built on the runtime's [`Observer`](dagr_runtime::Observer)
//! events, both costing nothing when not installed.
//!
//! | dagr | Dask |
//! |---|---|
//! | `x.compute_with(Scheduler::default().progress())?` | `with ProgressBar(): x.compute()` |
//! | `let prof = Profiler::new();` | `with Profiler() as prof:` |
//! | `x.compute_with(Scheduler::default().profile(&prof))?` | `    x.compute()` |
//! | `prof.write_trace("trace.json")?`, `print!("{}", prof.summary())` | `prof.visualize()` (Bokeh) |
//! | `x.visualize_with("x.svg", &VisualizeOptions::new().timings(&prof))?` | — |
//!
//! ```
//! use dagr::diagnostics::Profiler;
//! use dagr::{value, Scheduler, SchedulerExt};
//!
//! let parts: Vec<_> = (0..8).map(|i| value(i).map(|x| x * x)).collect();
//! let prof = Profiler::new();
//! let squares = dagr::compute_with(&parts, Scheduler::threads(2).progress().profile(&prof))?;
//! assert_eq!(squares[7], 49);
//! print!("{}", prof.summary());
//! # Ok::<(), dagr::Error>(())
//! ```

mod profile;
mod progress;
mod summary;
mod trace;

pub use profile::Profiler;
pub use progress::ProgressBar;
pub use summary::{ClusterTraffic, LongestPath, PrefixTime, ProfileSummary, WorkerTime};

pub(crate) use summary::Human;

use dagr_runtime::Scheduler;

/// Diagnostics on a [`Scheduler`]: `Scheduler::threads(2).progress().profile(&prof)`.
/// Each call installs one more observer; all of them see every run of the scheduler.
pub trait SchedulerExt: Sized {
    /// Draws a [`ProgressBar`] on stderr during each run, only when stderr is a terminal:
    /// redirected to a file or a pipe (a CI log, `cargo test`'s captured output), nothing is
    /// drawn and nothing is installed. [`ProgressBar::force`] draws it anyway:
    /// `.progress_with(&ProgressBar::new().force(true))`. A finished bar ends its line.
    ///
    /// ```
    /// use dagr::{value, Scheduler, SchedulerExt};
    /// let x = value(20).map(|v| v + 1).map(|v| v * 2);
    /// assert_eq!(x.compute_with(Scheduler::threads(2).progress())?, 42);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    fn progress(self) -> Scheduler {
        self.progress_with(&ProgressBar::new())
    }

    /// Watches each run with `bar` (a forced, hidden or shared bar).
    ///
    /// ```
    /// use dagr::{value, diagnostics::ProgressBar, Scheduler, SchedulerExt};
    /// let bar = ProgressBar::hidden();
    /// value(1).map(|v| v + 1).compute_with(Scheduler::sync().progress_with(&bar))?;
    /// assert_eq!((bar.done(), bar.total()), (2, 2));
    /// # Ok::<(), dagr::Error>(())
    /// ```
    fn progress_with(self, bar: &ProgressBar) -> Scheduler;

    /// Records every task of each run into `profiler`.
    ///
    /// ```
    /// use dagr::{value, diagnostics::Profiler, Scheduler, SchedulerExt};
    /// let prof = Profiler::new();
    /// value(1).map(|v| v + 1).compute_with(Scheduler::threads(2).profile(&prof))?;
    /// assert_eq!(prof.len(), 2);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    fn profile(self, profiler: &Profiler) -> Scheduler;
}

impl SchedulerExt for Scheduler {
    fn progress_with(self, bar: &ProgressBar) -> Scheduler {
        match bar.observer() {
            Some(o) => self.observe(o),
            None => self,
        }
    }

    fn profile(self, profiler: &Profiler) -> Scheduler {
        self.observe(profiler.observer())
    }
}
