//! A progress bar over the tasks of a run (Dask: `dask.diagnostics.ProgressBar`).
//!
//! The bar asks the runtime for [`TaskCounters`] and no task events: a task costs a few
//! plain stores on its worker's own cache line, whatever the refresh rate. A ticker thread
//! wakes ten times a second, reads the counters, looks the running tasks up in the run's
//! keys and redraws the bar. Runs shorter than [`ProgressBar::minimum`] draw nothing.

use crate::key_split::key_split;
use dagr_runtime::{Event, Observer, Run, RunId, RunKeys, TaskCounters};
use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the bar is redrawn at most.
const REFRESH: Duration = Duration::from_millis(100);

/// Runs shorter than this draw no bar by default.
const MINIMUM: Duration = Duration::from_millis(100);

/// Weight kept by the "running" tally from one refresh to the next: the prefix shown is the
/// one most workers ran over the last second or so, not a flicker between samples.
const TALLY_DECAY: f64 = 0.7;

const TEMPLATE: &str =
    "[{elapsed_precise}] {bar:30.cyan/blue} {human_pos}/{human_len} tasks, ETA {eta} {msg}";

/// Where a bar is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Draw {
    /// On stderr when it is a terminal; otherwise the bar is not installed at all.
    Auto,
    /// On stderr, terminal or not.
    Forced,
    /// Nowhere: the bar only counts (read it with [`ProgressBar::done`] and friends).
    Hidden,
}

/// A progress bar over the tasks of the runs it watches: tasks done / total, elapsed time,
/// estimated time left and the key prefix most workers are running, drawn on stderr with
/// `indicatif` and refreshed at most ten times a second.
///
/// Install one with [`SchedulerExt::progress`](crate::SchedulerExt::progress) (a new bar)
/// or [`SchedulerExt::progress_with`](crate::SchedulerExt::progress_with) (this bar). By
/// default the bar is drawn only when stderr is a terminal, and when it is not, nothing is
/// installed and the run costs nothing extra; [`ProgressBar::force`] draws it anyway.
/// Runs started while another run of the same bar is going (a task that computes) add
/// their tasks to the same bar.
///
/// | dagr | Dask |
/// |---|---|
/// | `x.compute_with(Scheduler::default().progress())` | `with ProgressBar(): x.compute()` |
///
/// ```
/// use dagr::{value, diagnostics::ProgressBar, Scheduler, SchedulerExt};
/// let xs: Vec<_> = (0..100).map(|i| value(i).map(|x| x * 2)).collect();
/// let bar = ProgressBar::hidden(); // counts without drawing, e.g. for a GUI
/// let v = dagr::compute_with(&xs, Scheduler::threads(2).progress_with(&bar))?;
/// assert_eq!(v[99], 198);
/// assert_eq!((bar.done(), bar.total()), (200, 200));
/// # Ok::<(), dagr::Error>(())
/// ```
#[derive(Clone)]
pub struct ProgressBar {
    draw: Draw,
    minimum: Duration,
    shared: Arc<Shared>,
}

impl Default for ProgressBar {
    fn default() -> Self {
        ProgressBar::new()
    }
}

impl std::fmt::Debug for ProgressBar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgressBar")
            .field("draw", &self.draw)
            .field("done", &self.done())
            .field("total", &self.total())
            .finish()
    }
}

impl ProgressBar {
    /// A bar drawn on stderr when stderr is a terminal.
    ///
    /// ```
    /// use dagr::{value, diagnostics::ProgressBar, Scheduler, SchedulerExt};
    /// let x = value(1).map(|v| v + 1);
    /// assert_eq!(x.compute_with(Scheduler::sync().progress_with(&ProgressBar::new()))?, 2);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn new() -> Self {
        ProgressBar {
            draw: Draw::Auto,
            minimum: MINIMUM,
            shared: Arc::new(Shared::new()),
        }
    }

    /// A bar that counts tasks but is never drawn: read it with [`ProgressBar::done`],
    /// [`ProgressBar::total`] and [`ProgressBar::running`].
    ///
    /// ```
    /// use dagr::{value, diagnostics::ProgressBar, Scheduler, SchedulerExt};
    /// let bar = ProgressBar::hidden();
    /// value(1).map(|v| v + 1).compute_with(Scheduler::sync().progress_with(&bar))?;
    /// assert_eq!(bar.done(), 2);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn hidden() -> Self {
        ProgressBar {
            draw: Draw::Hidden,
            minimum: MINIMUM,
            shared: Arc::new(Shared::new()),
        }
    }

    /// With `true`, draws on stderr even when it is not a terminal (a log file, a CI
    /// console); with `false`, only when it is. A hidden bar stays hidden.
    ///
    /// ```
    /// use dagr::diagnostics::ProgressBar;
    /// let bar = ProgressBar::new().force(true);
    /// # drop(bar);
    /// ```
    pub fn force(mut self, yes: bool) -> Self {
        self.draw = match (self.draw, yes) {
            (Draw::Hidden, _) => Draw::Hidden,
            (_, true) => Draw::Forced,
            (_, false) => Draw::Auto,
        };
        self
    }

    /// Draws the bar only once a run has gone on for `minimum` (default 0.1 s), so quick
    /// computations leave no trace on the terminal (Dask: `ProgressBar(minimum=...)`).
    ///
    /// ```
    /// use dagr::diagnostics::ProgressBar;
    /// let bar = ProgressBar::new().minimum(std::time::Duration::from_secs(1));
    /// # drop(bar);
    /// ```
    pub fn minimum(mut self, minimum: Duration) -> Self {
        self.minimum = minimum;
        self
    }

    /// Whether runs given this bar will watch it: not for an unforced bar when stderr is not
    /// a terminal (then the scheduler is left as it is, at no cost).
    pub fn is_active(&self) -> bool {
        match self.draw {
            Draw::Auto => std::io::stderr().is_terminal(),
            Draw::Forced | Draw::Hidden => true,
        }
    }

    /// Tasks finished or failed so far in the runs this bar watches (since the last time
    /// it went idle).
    pub fn done(&self) -> u64 {
        self.shared.done()
    }

    /// Tasks of the runs this bar watches (since the last time it went idle).
    pub fn total(&self) -> u64 {
        self.shared.total.load(Ordering::Relaxed)
    }

    /// The key prefix most workers are running now (`None` when they are idle or no run
    /// is going).
    pub fn running(&self) -> Option<String> {
        let state = self.shared.lock();
        running_now(&self.shared.counters, &state.runs)
            .into_iter()
            .max_by_key(|(_, n)| *n)
            .map(|(p, _)| p)
    }

    pub(crate) fn observer(&self) -> Option<Arc<dyn Observer>> {
        if !self.is_active() {
            return None;
        }
        Some(Arc::new(Watch {
            draw: self.draw,
            minimum: self.minimum,
            shared: self.shared.clone(),
        }))
    }
}

struct Shared {
    counters: Arc<TaskCounters>,
    /// Tasks finished on the other ranks of a distributed run (rank 0 only).
    remote: AtomicU64,
    total: AtomicU64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Runs in progress (nested runs add to the bar).
    runs: Vec<(RunId, RunKeys)>,
    ticker: Option<Ticker>,
    failed: bool,
}

struct Ticker {
    /// When the last run ended (set once), and its signal.
    stop: Arc<Stop>,
    thread: Option<JoinHandle<()>>,
}

impl Shared {
    fn new() -> Self {
        Shared {
            counters: Arc::new(TaskCounters::new()),
            remote: AtomicU64::new(0),
            total: AtomicU64::new(0),
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn done(&self) -> u64 {
        self.counters.done() + self.remote.load(Ordering::Relaxed)
    }
}

/// The key prefixes the workers run now, with how many workers run each.
fn running_now(counters: &TaskCounters, runs: &[(RunId, RunKeys)]) -> Vec<(String, usize)> {
    let mut tally: Vec<(String, usize)> = Vec::new();
    for (run, keys) in runs {
        for key in counters.running(*run).filter_map(|node| keys.get(node)) {
            let name = key_split(key.prefix());
            match tally.iter_mut().find(|(p, _)| p == name) {
                Some((_, n)) => *n += 1,
                None => tally.push((name.to_owned(), 1)),
            }
        }
    }
    tally
}

/// The observer a scheduler runs with.
struct Watch {
    draw: Draw,
    minimum: Duration,
    shared: Arc<Shared>,
}

impl Observer for Watch {
    fn on_event(&self, _: &Event<'_>) {}

    fn task_events(&self) -> bool {
        false
    }

    fn counters(&self) -> Option<Arc<TaskCounters>> {
        Some(self.shared.counters.clone())
    }

    fn on_run_start(&self, run: &Run<'_>) {
        let mut state = self.shared.lock();
        if state.runs.is_empty() {
            // A new watch: counts start over.
            self.shared.counters.reset(0);
            self.shared.remote.store(0, Ordering::Relaxed);
            self.shared.total.store(0, Ordering::Relaxed);
            state.failed = false;
        }
        // On a cluster, rank 0's bar counts every rank's tasks and the others draw nothing.
        let tasks = if run.rank() == 0 {
            run.all_tasks()
        } else {
            run.tasks()
        };
        self.shared.total.fetch_add(tasks as u64, Ordering::Relaxed);
        state.runs.push((run.id(), run.keys()));
        if state.ticker.is_none() && self.draw != Draw::Hidden && run.rank() == 0 {
            state.ticker = Some(start_ticker(self.shared.clone(), self.draw, self.minimum));
        }
    }

    fn on_remote_progress(&self, _: RunId, done: u64) {
        self.shared.remote.store(done, Ordering::Relaxed);
    }

    fn on_run_end(&self, run: &Run<'_>) {
        let ticker = {
            let mut state = self.shared.lock();
            state.runs.retain(|(r, _)| *r != run.id());
            state.failed |= run.failed();
            if state.runs.is_empty() {
                if !state.failed {
                    // Every task ran: settle the count on the exact total.
                    let total = self.shared.total.load(Ordering::Relaxed);
                    self.shared.counters.reset(total);
                    self.shared.remote.store(0, Ordering::Relaxed);
                }
                state.ticker.take()
            } else {
                None
            }
        };
        if let Some(t) = ticker {
            let (lock, cv) = &*t.stop;
            *lock.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
            cv.notify_all();
            if let Some(thread) = t.thread {
                let _ = thread.join();
            }
        }
    }
}

type Stop = (Mutex<Option<Instant>>, Condvar);

/// Starts the thread that redraws the bar until told to stop.
fn start_ticker(shared: Arc<Shared>, draw: Draw, minimum: Duration) -> Ticker {
    let stop = Arc::new((Mutex::new(None), Condvar::new()));
    let stop2 = stop.clone();
    let started = Instant::now();
    let thread = std::thread::Builder::new()
        .name("dagr-progress".into())
        .spawn(move || tick(&shared, draw, started, minimum, &stop2));
    // No thread, no bar: the run goes on undisturbed.
    Ticker {
        stop,
        thread: thread.ok(),
    }
}

/// The ticker thread: waits until the runs have gone on for `minimum`, then redraws every
/// [`REFRESH`] until they end, and draws their end.
fn tick(shared: &Shared, draw: Draw, started: Instant, minimum: Duration, stop: &Stop) {
    use indicatif::{ProgressDrawTarget, ProgressStyle};
    let (lock, cv) = stop;
    let mut stopped = lock.lock().unwrap_or_else(|p| p.into_inner());
    while stopped.is_none() && started.elapsed() < minimum {
        let left = minimum.saturating_sub(started.elapsed());
        stopped = cv
            .wait_timeout(stopped, left)
            .map(|(g, _)| g)
            .unwrap_or_else(|p| p.into_inner().0);
    }
    if stopped.is_some_and(|end| end.duration_since(started) < minimum) {
        return; // a quick run: no bar
    }
    let target = match draw {
        Draw::Forced => ProgressDrawTarget::term_like_with_hz(Box::new(Stderr), 10),
        Draw::Auto | Draw::Hidden => ProgressDrawTarget::stderr_with_hz(10),
    };
    let bar = indicatif::ProgressBar::with_draw_target(Some(0), target)
        .with_style(
            ProgressStyle::with_template(TEMPLATE).unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
        .with_elapsed(started.elapsed());
    let mut tally: HashMap<String, f64> = HashMap::new();
    loop {
        let (total, done) = (shared.total.load(Ordering::Relaxed), shared.done());
        let (now, failed) = {
            let state = shared.lock();
            (running_now(&shared.counters, &state.runs), state.failed)
        };
        tally.values_mut().for_each(|w| *w *= TALLY_DECAY);
        for (prefix, n) in now {
            *tally.entry(prefix).or_default() += n as f64;
        }
        tally.retain(|_, w| *w > 0.01);
        bar.set_length(total);
        bar.set_position(done.min(total));
        if stopped.is_some() {
            if failed {
                bar.abandon_with_message("failed");
            } else {
                bar.finish_with_message("done");
            }
            // indicatif leaves the cursor after the bar: end its line, so that what the
            // program prints next starts on a line of its own
            if !bar.is_hidden() {
                let _ = Stderr.write("\n");
            }
            return;
        }
        if let Some((prefix, _)) = tally.iter().max_by(|a, b| a.1.total_cmp(b.1)) {
            bar.set_message(format!("running {prefix}"));
        }
        stopped = cv
            .wait_timeout(stopped, REFRESH)
            .map(|(g, _)| g)
            .unwrap_or_else(|p| p.into_inner().0);
    }
}

/// Stderr as a terminal whether it is one or not: what a forced bar draws on.
#[derive(Debug)]
struct Stderr;

impl Stderr {
    fn write(&self, s: &str) -> std::io::Result<()> {
        use std::io::Write as _;
        std::io::stderr().lock().write_all(s.as_bytes())
    }
}

impl indicatif::TermLike for Stderr {
    fn width(&self) -> u16 {
        100
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        if n > 0 {
            self.write(&format!("\x1b[{n}A"))?;
        }
        Ok(())
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        if n > 0 {
            self.write(&format!("\x1b[{n}B"))?;
        }
        Ok(())
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        if n > 0 {
            self.write(&format!("\x1b[{n}C"))?;
        }
        Ok(())
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        if n > 0 {
            self.write(&format!("\x1b[{n}D"))?;
        }
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.write(&format!("{s}\n"))
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.write(s)
    }
    fn clear_line(&self) -> std::io::Result<()> {
        self.write("\r\x1b[2K")
    }
    fn flush(&self) -> std::io::Result<()> {
        use std::io::Write as _;
        std::io::stderr().flush()
    }
}
