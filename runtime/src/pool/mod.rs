//! The work-stealing thread pool.
//!
//! Each worker owns a LIFO [`Worker`] deque; others steal from its FIFO end through its
//! [`Stealer`]; callers outside the pool submit through the [`Injector`]. The scheduling
//! policy is one line ([`WorkerThread::find_work`]): take local work, else the next root of
//! a run this worker is on, else steal, else take injected work. Idle workers spin briefly,
//! then park (see [`sleep`]).
//!
//! Work items ([`Entry`]) are either one ready node or a *source handle* of a run: whoever
//! holds one claims the run's next roots (see "Sources" in `job.rs`: roots start in graph
//! order, at most one claim per worker in flight), runs them, and keeps the handle for its
//! next claim. A claim is one root, or more when the last ones took microseconds (up to
//! [`MAX_BATCH`], doubling while a claim takes less than [`QUICK_CLAIM`]), so a graph of
//! tiny roots costs a fraction of an atomic operation per root and keeps neighbouring roots
//! on one thread. A worker offers another handle only while a sibling is idle and the run
//! has room for another claim in flight. After a node runs, one successor that became ready
//! is run directly (continuation); the others are pushed on the local deque, which is
//! served before the next claim: the consumers of finished work run before new inputs are
//! opened, and partial results are combined as soon as their group is complete.
//!
//! A handle is dropped only when every root has been claimed, or when as many roots as
//! allowed are in flight: their claimers hold handles and claim again when they are done,
//! so no root is left behind.

pub(crate) mod sleep;

use crate::job::{Chain, Claim, Job};
use crate::Error;
use crossbeam_deque::{Injector, Steal, Stealer, Worker};
use sleep::Sleep;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Spin rounds (each a `yield_now`) before an idle worker parks.
const SPIN_ROUNDS: u32 = 64;

/// A claim of roots that ran in less than this is followed by one twice as large.
const QUICK_CLAIM: Duration = Duration::from_micros(20);

/// The most roots claimed at once.
const MAX_BATCH: u32 = 1024;

pub(crate) enum Work {
    /// A node whose inputs are all produced.
    Node(u32),
    /// A source handle: the right to claim the run's next roots, `batch` of them at a time.
    Roots { batch: u32 },
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
    /// The source handles this worker holds between two roots (one per run it is on;
    /// several only when a task of one run computes another).
    held: RefCell<Vec<Entry>>,
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
                        held: RefCell::new(Vec::new()),
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
        let entry = Entry {
            job: job.clone(),
            work: Work::Roots { batch: 1 },
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
                        std::thread::sleep(Duration::from_micros(50));
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
                work: Work::Roots { batch: 1 },
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
    /// the sync scheduler takes. Once a worker has joined the run, the caller leaves the rest
    /// to the workers (after the task it is running): the pool's threads, not one more, run
    /// a large graph, and its buffers come and go on as few threads as there are workers
    /// (each thread's allocator keeps memory of its own). Work of other runs is put back and
    /// left to the workers, so a caller never waits on someone else's task; so is the
    /// caller's source handle when it stops.
    fn help(&self, job: &Arc<Job>) {
        let caller = Caller { registry: self };
        let mut held: Option<Entry> = None;
        while !job.is_done() && !job.has_worker() {
            let entry = match self.injector.steal() {
                Steal::Success(e) if Arc::ptr_eq(&e.job, job) => e,
                Steal::Success(e) => {
                    self.injector.push(e);
                    self.sleep.notify_one();
                    break;
                }
                Steal::Retry => continue,
                Steal::Empty => match held.take() {
                    Some(h) => h,
                    None => break,
                },
            };
            if let Some(h) = run_entry(&caller, entry) {
                held = Some(h);
            }
        }
        if let Some(h) = held {
            caller.push(h);
        }
    }

    /// How many roots of a run may be in flight at once: one per worker.
    fn source_limit(&self) -> u32 {
        self.stealers.len() as u32
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
    fn registry(&self) -> &Registry;
    /// Whether to offer a second source handle of `job`: a worker is idle, the run has room
    /// for another root in flight, and the handle offered last has been taken.
    fn wants_helper(&self, job: &Job) -> bool;
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
    fn registry(&self) -> &Registry {
        self.registry
    }
    fn wants_helper(&self, job: &Job) -> bool {
        self.registry.idle.load(Ordering::Relaxed) > 0
            && self.registry.injector.is_empty()
            && job.has_room(self.registry.source_limit())
    }
}

impl Runner for WorkerThread {
    fn index(&self) -> usize {
        self.index
    }
    fn push(&self, entry: Entry) {
        WorkerThread::push(self, entry)
    }
    fn registry(&self) -> &Registry {
        &self.registry
    }
    fn wants_helper(&self, job: &Job) -> bool {
        self.registry.idle.load(Ordering::Relaxed) > 0
            && self.deque.is_empty()
            && job.has_room(self.registry.source_limit())
    }
}

/// Runs an entry: a node and its continuations, or the next root of a source handle and
/// its continuations. Returns the handle when the caller should keep it for its next claim.
fn run_entry(r: &impl Runner, entry: Entry) -> Option<Entry> {
    let Entry { job, work } = entry;
    match work {
        Work::Node(i) => {
            let mut chain = job.chain(r.index());
            run_chain(r, &job, i, &mut chain);
            job.close_chain(&mut chain, r.index());
            None
        }
        Work::Roots { batch } => match job.claim_roots(r.registry().source_limit(), batch) {
            Claim::Roots(lo, hi) => {
                if r.wants_helper(&job) {
                    r.push(Entry {
                        job: job.clone(),
                        work: Work::Roots { batch: 1 },
                    });
                }
                let start = Instant::now();
                // a root follows the chain before it, run just before on this thread
                let mut chain = job.chain(r.index());
                for k in lo..hi {
                    run_chain(r, &job, job.root(k), &mut chain);
                }
                job.close_chain(&mut chain, r.index());
                job.roots_done();
                // the last roots claimed: the handle goes now, so that a run that ended here
                // is freed by whoever lets go of it last — usually its caller, which then
                // hands its arrays on to the next graph it builds
                if job.roots_exhausted() {
                    return None;
                }
                // roots that take microseconds are claimed more at a time, so that claims
                // cost little next to them and neighbours run on one thread; others one
                // by one, which keeps the order
                let batch = if start.elapsed() < QUICK_CLAIM {
                    (batch * 2).min(MAX_BATCH)
                } else {
                    1
                };
                Some(Entry {
                    job,
                    work: Work::Roots { batch },
                })
            }
            // enough roots in flight (their claimers go on) or none left: drop the handle
            Claim::Full | Claim::Exhausted => None,
        },
    }
}

/// Runs node `i`, then the ready successor it hands back, and so on down the chain.
/// `chain`: what the thread's last task left for `i` (see [`Job::execute`]); it comes out
/// as the chain's last call leaves it.
fn run_chain(r: &impl Runner, job: &Arc<Job>, i: u32, chain: &mut Chain<'_>) {
    let mut next = Some(i);
    while let Some(n) = next {
        next = job.execute(n, r.index(), chain, |s| {
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

    /// The scheduling policy: local work (the consumers of what this worker finished), else
    /// the next root of a run it is on, else steal from a sibling, else take injected work.
    fn find_work(&self) -> Option<Entry> {
        self.deque
            .pop()
            .or_else(|| self.held.borrow_mut().pop())
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
        entry.job.worker_joined();
        if let Some(handle) = run_entry(self, entry) {
            self.held.borrow_mut().push(handle);
        }
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
