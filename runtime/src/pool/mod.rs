//! The work-stealing thread pool.
//!
//! Each worker owns a LIFO [`Worker`] deque; others steal from its FIFO end through its
//! [`Stealer`]; callers outside the pool submit through the [`Injector`]. The scheduling
//! policy is one line ([`WorkerThread::find_work`]): take local work, else steal, else take
//! injected work. Idle workers spin briefly, then park (see [`sleep`]).
//!
//! Work items ([`Entry`]) are either one ready node or a range of a run's roots. A worker
//! runs a range root by root and splits off half of it only when another worker is idle, so a
//! wide graph costs a handful of queue operations instead of one per root. After a node runs,
//! one successor that became ready is run directly (continuation); the others are pushed on
//! the local deque, whose LIFO order finishes a subtree before new roots are opened. Within
//! a range, the others are kept by the running thread until its root's subtree is done,
//! unless a worker is idle.

mod sleep;

use crate::job::Job;
use crate::Error;
use crossbeam_deque::{Injector, Steal, Stealer, Worker};
use sleep::Sleep;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Spin rounds (each a `yield_now`) before an idle worker parks.
const SPIN_ROUNDS: u32 = 64;

pub(crate) enum Work {
    Node(u32),
    Roots(u32, u32),
}

pub(crate) struct Entry {
    job: Arc<Job>,
    work: Work,
}

pub(crate) struct Registry {
    injector: Injector<Entry>,
    stealers: Box<[Stealer<Entry>]>,
    sleep: Sleep,
    /// Workers currently looking for work (spinning or parked): busy workers split ranges
    /// only when this is non-zero.
    idle: AtomicUsize,
}

struct WorkerThread {
    index: usize,
    deque: Worker<Entry>,
    registry: Arc<Registry>,
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<WorkerThread>>> = const { RefCell::new(None) };
}

impl Registry {
    fn start(threads: usize) -> Result<Arc<Registry>, Error> {
        let deques: Vec<Worker<Entry>> = (0..threads).map(|_| Worker::new_lifo()).collect();
        let registry = Arc::new(Registry {
            injector: Injector::new(),
            stealers: deques.iter().map(Worker::stealer).collect(),
            sleep: Sleep::default(),
            idle: AtomicUsize::new(0),
        });
        for (index, deque) in deques.into_iter().enumerate() {
            let registry = registry.clone();
            std::thread::Builder::new()
                .name(format!("dagr-worker-{index}"))
                .spawn(move || {
                    let me = Rc::new(WorkerThread {
                        index,
                        deque,
                        registry,
                    });
                    CURRENT.with(|c| *c.borrow_mut() = Some(me.clone()));
                    me.main_loop();
                })
                .map_err(Error::Spawn)?;
        }
        Ok(registry)
    }

    fn has_work(&self) -> bool {
        !self.injector.is_empty() || self.stealers.iter().any(|s| !s.is_empty())
    }

    /// Runs `job` on this pool and waits for it. A worker of this pool calling in (a task
    /// that computes) helps with any work while it waits, so nesting cannot deadlock.
    pub(crate) fn run(self: &Arc<Self>, job: Arc<Job>) {
        if job.is_done() {
            return;
        }
        let roots = job.roots.len() as u32;
        let entry = Entry {
            job: job.clone(),
            work: Work::Roots(0, roots),
        };
        let me = CURRENT.with(|c| c.borrow().clone());
        match me {
            Some(w) if Arc::ptr_eq(&w.registry, self) => {
                w.push(entry);
                let mut rounds = 0u32;
                while !job.is_done() {
                    if let Some(e) = w.find_work() {
                        w.run_entry(e);
                        rounds = 0;
                    } else if rounds < SPIN_ROUNDS {
                        rounds += 1;
                        std::thread::yield_now();
                    } else {
                        std::thread::sleep(std::time::Duration::from_micros(50));
                    }
                }
            }
            _ => {
                self.injector.push(entry);
                self.sleep.notify_one();
                self.help(&job);
                job.wait();
            }
        }
    }

    /// Starts `job` on this pool without waiting for it (a distributed run's calling thread
    /// talks to the other processes meanwhile).
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub(crate) fn launch(&self, job: &Arc<Job>) {
        if !job.roots.is_empty() {
            self.injector.push(Entry {
                job: job.clone(),
                work: Work::Roots(0, job.roots.len() as u32),
            });
            self.sleep.notify_one();
        }
    }

    /// Has node `i` of `job`, which the caller owns and which is ready, run by a worker.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub(crate) fn inject(&self, job: &Arc<Job>, i: u32) {
        self.injector.push(Entry {
            job: job.clone(),
            work: Work::Node(i),
        });
        self.sleep.notify_one();
    }

    /// A caller outside the pool runs injected work of its own run instead of sleeping while
    /// a worker wakes up: a small graph then finishes on the calling thread in about the time
    /// the sync scheduler takes, and a large one gains a helper. Work of other runs is put
    /// back and left to the workers, so a caller never waits on someone else's task.
    fn help(&self, job: &Arc<Job>) {
        let caller = Caller { registry: self };
        while !job.is_done() {
            let entry = match self.injector.steal() {
                Steal::Success(e) => e,
                Steal::Retry => continue,
                Steal::Empty => return,
            };
            if !Arc::ptr_eq(&entry.job, job) {
                self.injector.push(entry);
                self.sleep.notify_one();
                return;
            }
            run_entry(&caller, entry);
        }
    }

    /// Worker index under which callers outside the pool run tasks: one past the workers
    /// (equal to the number of worker threads).
    pub(crate) fn caller_index(&self) -> usize {
        self.stealers.len()
    }
}

/// Where a thread running tasks puts the successors it does not run itself.
trait Runner {
    fn index(&self) -> usize;
    fn push(&self, entry: Entry);
    /// Whether to split off half of a range of roots: a worker is idle and the half split
    /// off last has been taken (so ranges are not cut finer than thieves ask for, which
    /// would keep more partial results waiting for their neighbours).
    fn wants_split(&self) -> bool;
}

/// A caller outside the pool: its spawned work goes to the injector, for anyone.
struct Caller<'a> {
    registry: &'a Registry,
}

impl Runner for Caller<'_> {
    fn index(&self) -> usize {
        self.registry.caller_index()
    }
    fn push(&self, entry: Entry) {
        self.registry.injector.push(entry);
        self.registry.sleep.notify_one();
    }
    fn wants_split(&self) -> bool {
        self.registry.idle.load(Ordering::Relaxed) > 0 && self.registry.injector.is_empty()
    }
}

impl Runner for WorkerThread {
    fn index(&self) -> usize {
        self.index
    }
    fn push(&self, entry: Entry) {
        WorkerThread::push(self, entry)
    }
    fn wants_split(&self) -> bool {
        self.registry.idle.load(Ordering::Relaxed) > 0 && self.deque.is_empty()
    }
}

/// Runs an entry: a node and its continuations, or a range of roots one by one, splitting
/// off half of the range when an idle worker could take it.
fn run_entry(r: &impl Runner, entry: Entry) {
    let Entry { job, work } = entry;
    match work {
        Work::Node(i) => run_chain(r, &job, i),
        Work::Roots(mut lo, mut hi) => {
            while lo < hi {
                if hi - lo > 1 && r.wants_split() {
                    let mid = lo + (hi - lo) / 2;
                    r.push(Entry {
                        job: job.clone(),
                        work: Work::Roots(mid, hi),
                    });
                    hi = mid;
                }
                run_subtree(r, &job, job.roots[lo as usize]);
                lo += 1;
            }
        }
    }
}

/// Runs root `i` and, depth first, what it makes ready before the next root of the range is
/// opened: a successor beyond the continuation is kept on a local stack, unless an idle
/// worker could take it (then it is pushed, as [`run_chain`] does). A root whose block two
/// consumers read thus has both run while the block is fresh, not after the whole range.
fn run_subtree(r: &impl Runner, job: &Arc<Job>, i: u32) {
    let mut local = vec![i];
    while let Some(n) = local.pop() {
        let mut next = Some(n);
        while let Some(m) = next {
            next = job.execute(m, r.index(), |s| {
                if r.wants_split() {
                    r.push(Entry {
                        job: job.clone(),
                        work: Work::Node(s),
                    })
                } else {
                    local.push(s)
                }
            });
        }
    }
}

/// Runs node `i`, then the ready successor it hands back, and so on down the chain.
fn run_chain(r: &impl Runner, job: &Arc<Job>, i: u32) {
    let mut next = Some(i);
    while let Some(n) = next {
        next = job.execute(n, r.index(), |s| {
            r.push(Entry {
                job: job.clone(),
                work: Work::Node(s),
            })
        });
    }
}

impl WorkerThread {
    fn push(&self, entry: Entry) {
        self.deque.push(entry);
        self.registry.sleep.notify_one();
    }

    /// The scheduling policy: local work, else steal from a sibling, else take injected work.
    fn find_work(&self) -> Option<Entry> {
        self.deque
            .pop()
            .or_else(|| self.steal_sibling())
            .or_else(|| self.steal_injected())
    }

    fn steal_sibling(&self) -> Option<Entry> {
        let n = self.registry.stealers.len();
        loop {
            let mut retry = false;
            for k in 1..n {
                match self.registry.stealers[(self.index + k) % n].steal() {
                    Steal::Success(e) => return Some(e),
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            if !retry {
                return None;
            }
        }
    }

    fn steal_injected(&self) -> Option<Entry> {
        loop {
            match self.registry.injector.steal_batch_and_pop(&self.deque) {
                Steal::Success(e) => return Some(e),
                Steal::Retry => continue,
                Steal::Empty => return None,
            }
        }
    }

    fn main_loop(&self) {
        let reg = &*self.registry;
        loop {
            if let Some(e) = self.find_work() {
                self.run_entry(e);
                continue;
            }
            reg.idle.fetch_add(1, Ordering::SeqCst);
            let mut rounds = 0u32;
            let found = loop {
                if let Some(e) = self.find_work() {
                    break e;
                }
                if rounds < SPIN_ROUNDS {
                    rounds += 1;
                    std::thread::yield_now();
                } else {
                    reg.sleep.sleep(|| reg.has_work());
                }
            };
            reg.idle.fetch_sub(1, Ordering::SeqCst);
            self.run_entry(found);
        }
    }

    fn run_entry(&self, entry: Entry) {
        run_entry(self, entry)
    }
}

/// The pool of `threads` workers (0: one per core), started on first use and kept for the
/// life of the process.
pub(crate) fn pool(threads: usize) -> Result<Arc<Registry>, Error> {
    static DEFAULT: OnceLock<Arc<Registry>> = OnceLock::new();
    static SIZED: Mutex<Vec<(usize, Arc<Registry>)>> = Mutex::new(Vec::new());
    // Asked once: `available_parallelism` reads cgroup files on every call (tens of µs).
    static CORES: OnceLock<usize> = OnceLock::new();
    let cores = *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 || threads == cores {
        if let Some(r) = DEFAULT.get() {
            return Ok(r.clone());
        }
        let mut sized = SIZED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = DEFAULT.get() {
            return Ok(r.clone());
        }
        let r = Registry::start(cores)?;
        sized.push((cores, r.clone()));
        return Ok(DEFAULT.get_or_init(|| r).clone());
    }
    let mut sized = SIZED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, r)) = sized.iter().find(|(n, _)| *n == threads) {
        return Ok(r.clone());
    }
    let r = Registry::start(threads)?;
    sized.push((threads, r.clone()));
    Ok(r)
}

/// Index of the pool worker running the current thread, if any.
pub(crate) fn current_worker() -> Option<usize> {
    CURRENT.with(|c| c.borrow().as_ref().map(|w| w.index))
}
