//! A write-once, take-once cell whose exclusivity is guaranteed by the graph's atomic counters.
//!
//! Each node of a running graph owns two of these: its task (taken by the one thread that
//! brings the node's pending-inputs count to zero) and its result (written by that thread,
//! read by consumers, taken by the last consumer). The counters in [`crate::job`] establish
//! every happens-before edge; this type only states the contracts.

use crate::sync::UnsafeCell;

pub(crate) struct ExclusiveCell<T>(UnsafeCell<Option<T>>);

// SAFETY: access is governed by the contracts of the unsafe methods below, which give every
// mutation exclusive access and order it (through the job's atomics) before any shared read;
// shared references are only handed out (`get`) when `T: Sync`, as for `Mutex<T>`.
unsafe impl<T: Send> Sync for ExclusiveCell<T> {}

impl<T> ExclusiveCell<T> {
    pub(crate) fn new(value: Option<T>) -> Self {
        ExclusiveCell(UnsafeCell::new(value))
    }

    /// Stores a value.
    ///
    /// # Safety
    /// The caller has exclusive access: no other thread reads or writes the cell until an
    /// Acquire operation that synchronises with a Release performed after this call.
    pub(crate) unsafe fn put(&self, value: T) {
        // SAFETY: exclusive access per the contract.
        self.0.with_mut(|p| unsafe { *p = Some(value) })
    }

    /// The value, through exclusive access.
    #[cfg(not(loom))]
    pub(crate) fn get_mut(&mut self) -> &mut Option<T> {
        self.0.get_mut()
    }

    /// Takes the value out.
    ///
    /// # Safety
    /// As for [`ExclusiveCell::put`]: no concurrent reader or writer exists.
    pub(crate) unsafe fn take(&self) -> Option<T> {
        // SAFETY: exclusive access per the contract.
        self.0.with_mut(|p| unsafe { (*p).take() })
    }
}

impl<T: Sync> ExclusiveCell<T> {
    /// Borrows the value.
    ///
    /// # Safety
    /// The last write happened-before this call and no write happens while the borrow lives.
    pub(crate) unsafe fn get(&self) -> Option<&T> {
        // SAFETY: no concurrent writer per the contract; the borrow is tied to `self`.
        self.0.with(|p| unsafe { (*p).as_ref() })
    }
}
