//! Parking idle workers without losing wake-ups.
//!
//! Protocol (a Dekker handshake on `sleepers` and the queues):
//! 1. A worker that found no work after spinning locks `mutex`, increments `sleepers`,
//!    issues a SeqCst fence and checks every queue once more; only if all are empty does it
//!    wait on `cv` (which releases `mutex`).
//! 2. Whoever makes work available pushes it, issues a SeqCst fence and reads `sleepers`; if
//!    it is non-zero it takes `mutex` and notifies one sleeper.
//!
//! Either the pusher sees the sleeper's increment (and, holding `mutex`, cannot notify before
//! the sleeper waits), or the sleeper's re-check sees the pushed work. An idle pool therefore
//! blocks in the kernel and uses no CPU.

use crate::sync::{fence, AtomicUsize, Condvar, Mutex, Ordering};

pub(crate) struct Sleep {
    mutex: Mutex<()>,
    cv: Condvar,
    sleepers: AtomicUsize,
}

impl Default for Sleep {
    fn default() -> Self {
        Sleep {
            mutex: Mutex::new(()),
            cv: Condvar::new(),
            sleepers: AtomicUsize::new(0),
        }
    }
}

impl Sleep {
    /// Step 2 of the protocol: call after pushing work.
    pub(crate) fn notify_one(&self) {
        fence(Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            let _guard = self.mutex.lock().unwrap_or_else(|p| p.into_inner());
            self.cv.notify_one();
        }
    }

    /// Step 1 of the protocol. Returns when woken (possibly spuriously) or when `has_work`
    /// found something during the re-check.
    pub(crate) fn sleep(&self, has_work: impl Fn() -> bool) {
        let guard = self.mutex.lock().unwrap_or_else(|p| p.into_inner());
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if !has_work() {
            drop(self.cv.wait(guard).unwrap_or_else(|p| p.into_inner()));
        } else {
            drop(guard);
        }
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
    }
}
