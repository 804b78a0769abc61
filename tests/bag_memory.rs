//! Aggregations over many partitions hold a few partial results at a time, not one per
//! partition: measured with a counting allocator.

use dagr::bag as db;
use dagr::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Peak bytes above the starting point while `f` runs.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = f();
    (out, PEAK.load(Ordering::SeqCst) - base)
}

/// `parts` partitions, each with the same `keys` distinct words.
fn words(parts: u64, keys: u64) -> db::Bag<String> {
    db::from_sequence(0..parts, parts as usize)
        .unwrap()
        .flat_map(move |_| (0..keys).map(|k| format!("word{k}")))
}

#[test]
fn frequencies_over_many_partitions_stay_bounded() {
    let keys = 2000;
    for sched in [Scheduler::sync(), Scheduler::threads(2)] {
        let (one, single) = peak_during(|| {
            words(1, keys)
                .frequencies()
                .topk(5, |(_, n)| *n)
                .compute_with(sched.clone())
                .unwrap()
        });
        assert_eq!(one.len(), 5);
        let parts = 512;
        let (top, many) = peak_during(|| {
            words(parts, keys)
                .frequencies()
                .topk(5, |(_, n)| *n)
                .compute_with(sched.clone())
                .unwrap()
        });
        assert_eq!(top[0].1, parts);
        // one partial table per partition would be ~512x; the combine tree keeps a few
        assert!(
            many < 64 * single,
            "{sched:?}: peak {many} B for {parts} partitions vs {single} B for one"
        );
        eprintln!("{sched:?}: peak {many} B for {parts} partitions, {single} B for one");
    }
}
