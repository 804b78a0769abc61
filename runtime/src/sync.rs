//! The synchronisation primitives the runtime's protocols are built from, through one place
//! so that `loom` can model-check them: std's normally, loom's when built with
//! `RUSTFLAGS="--cfg loom"` (see "Model checking" in the crate docs).
//!
//! [`UnsafeCell`] has loom's closure-based interface in both builds, so that loom can check
//! every access to a node's task and result slot against the counters that order them.

#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering},
    Condvar, Mutex,
};

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering},
    Condvar, Mutex,
};

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

#[cfg(not(loom))]
pub(crate) use std::thread::yield_now;

#[cfg(loom)]
pub(crate) use loom::thread::yield_now;

/// std's `UnsafeCell` with loom's interface: the pointer is only handed to a closure.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }

    /// The value, through exclusive access (std's; loom's cell has none).
    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.0.get_mut()
    }
}
