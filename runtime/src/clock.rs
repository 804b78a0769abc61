//! The clock tasks are timed with, shared by the runtime and the observers that time tasks.

use std::sync::OnceLock;

/// The process's task clock: the processor's time-stamp counter where it is usable (steady
/// and in step across cores), else the system's monotonic clock. A reading is a raw tick
/// count; [`TaskClock::nanos`] turns the distance between two into nanoseconds.
///
/// The runtime reads it at the start and end of each task for observers that ask for task
/// spans ([`Observer::task_spans`](crate::Observer::task_spans)), once for a task that starts
/// where the one before it on its thread ended.
///
/// ```
/// use dagr::runtime::TaskClock;
/// let clock = TaskClock::get();
/// let (a, b) = (clock.now(), clock.now());
/// assert!(b >= a);
/// assert!(clock.nanos(a, b) < 1_000_000_000);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct TaskClock(&'static quanta::Clock);

impl TaskClock {
    /// The process's clock (calibrated on first use).
    pub fn get() -> TaskClock {
        static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
        TaskClock(CLOCK.get_or_init(quanta::Clock::new))
    }

    /// The current reading, in raw ticks.
    #[inline]
    pub fn now(self) -> u64 {
        self.0.raw()
    }

    /// Nanoseconds from reading `start` to reading `end` (0 if `end` is earlier).
    pub fn nanos(self, start: u64, end: u64) -> u64 {
        self.0.delta_as_nanos(start, end)
    }
}
