//! Task counters the runtime keeps itself: what a progress bar needs, at a fraction of the
//! cost of task events.
//!
//! Each worker writes only its own slot, alone on its cache line, with plain stores (no
//! atomic read-modify-write, no call through the observer): on a task's start it records
//! which task it runs, on its end it clears that and bumps its count. Readers add the slots
//! up whenever they like.

use crate::{NodeId, RunId};
use std::sync::atomic::{AtomicU64, Ordering};

/// Counts of finished tasks and the task each worker is running, kept up to date by the
/// runtime for an [`Observer`](crate::Observer) that asks for them with
/// [`Observer::counters`](crate::Observer::counters).
///
/// Counts are exact as long as one thread at a time runs tasks under a given worker index:
/// two threads sharing one (a sync run inside a pool task, both counted here) may lose
/// counts, since a worker bumps its count with a load and a store, which is what makes the
/// counters cheap.
///
/// ```
/// use dagr::runtime::{Event, Key, Observer, Scheduler, Task, TaskCounters, TaskGraph};
/// use std::sync::Arc;
///
/// #[derive(Default)]
/// struct Counts(Arc<TaskCounters>);
/// impl Observer for Counts {
///     fn on_event(&self, _: &Event<'_>) {}
///     fn task_events(&self) -> bool { false } // the counters are enough
///     fn counters(&self) -> Option<Arc<TaskCounters>> { Some(self.0.clone()) }
/// }
/// let counts = Arc::new(Counts::default());
/// let mut g = TaskGraph::new();
/// let leaves: Vec<_> = (0..10_i64)
///     .map(|i| g.add(Key::index("leaf", &[i as u64]), &[], Task::once(move |_| Ok(Arc::new(i)))).unwrap())
///     .collect();
/// let sum = g.add(Key::token("sum", 0), &leaves, Task::once(|_| Ok(Arc::new(0_i64)))).unwrap();
/// Scheduler::threads(2).observe(counts.clone()).run(g, &[sum]).unwrap();
/// assert_eq!(counts.0.done(), 11);
/// ```
#[derive(Debug)]
pub struct TaskCounters {
    slots: Box<[Slot]>,
}

/// One worker's counters, alone on its cache line.
#[repr(align(128))]
#[derive(Debug, Default)]
struct Slot {
    done: AtomicU64,
    /// `(low 32 bits of the run id) << 32 | (node + 1)` of the task running, 0 when idle.
    current: AtomicU64,
}

impl Default for TaskCounters {
    fn default() -> Self {
        TaskCounters::new()
    }
}

impl TaskCounters {
    /// Zeroed counters.
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        TaskCounters {
            slots: (0..cores.max(8).next_power_of_two())
                .map(|_| Slot::default())
                .collect(),
        }
    }

    /// `worker`'s slot, to count the tasks of `run` it runs (the same slot for every run:
    /// counts add up across runs, and `running` tells them apart).
    #[inline]
    pub(crate) fn slot_of(&self, worker: usize, run: RunId) -> CountSlot<'_> {
        CountSlot {
            slot: &self.slots[worker & (self.slots.len() - 1)],
            run: run.get() << 32,
        }
    }

    /// Tasks that have finished or failed since the counters were made or last reset.
    pub fn done(&self) -> u64 {
        self.slots
            .iter()
            .map(|s| s.done.load(Ordering::Relaxed))
            .sum()
    }

    /// The tasks of `run` that workers are running now (one per busy worker).
    pub fn running(&self, run: RunId) -> impl Iterator<Item = NodeId> + '_ {
        let tag = run.get() & u64::from(u32::MAX);
        self.slots.iter().filter_map(move |s| {
            let cur = s.current.load(Ordering::Relaxed);
            let node = (cur & u64::from(u32::MAX)) as u32;
            (node != 0 && cur >> 32 == tag).then(|| NodeId(node - 1))
        })
    }

    /// Sets the count of finished tasks to `done` (0 to start over); call it only while no
    /// run counts into these counters.
    pub fn reset(&self, done: u64) {
        for (i, s) in self.slots.iter().enumerate() {
            s.done
                .store(if i == 0 { done } else { 0 }, Ordering::Relaxed);
            s.current.store(0, Ordering::Relaxed);
        }
    }
}

/// One worker's slot, as a chain of its tasks counts into it: looked up when the chain
/// starts, so that a task's start and end are a store and a load and two stores.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CountSlot<'a> {
    slot: &'a Slot,
    /// The run's id, shifted into the high half of [`Slot::current`].
    run: u64,
}

impl CountSlot<'_> {
    #[inline]
    pub(crate) fn started(&self, node: u32) {
        let tag = self.run | (u64::from(node) + 1);
        self.slot.current.store(tag, Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn ended(&self) {
        self.slot.current.store(0, Ordering::Relaxed);
        // One writer per slot (see the type's docs): a load and a store, no atomic add.
        let done = self.slot.done.load(Ordering::Relaxed);
        self.slot.done.store(done + 1, Ordering::Relaxed);
    }
}
