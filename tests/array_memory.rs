//! A reduction over an array four times larger than the memory this test allows completes
//! holding a few blocks at a time: measured with a counting allocator.

use dagr::array as da;
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

fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = f();
    (out, PEAK.load(Ordering::SeqCst) - base)
}

#[test]
fn reductions_over_more_than_the_allowed_memory_hold_a_few_blocks() {
    // 64 blocks of 256 x 256 f64 (512 KiB each): 32 MiB in all
    let block = 256 * 256 * 8;
    let budget = 8 << 20; // what this test allows: a quarter of the array
    let x = da::random::random(&[2048, 2048], &[256, 256], 9).unwrap();
    assert_eq!(x.nbytes(), 4 * budget);
    for sched in [Scheduler::sync(), Scheduler::threads(2)] {
        let y = (&x + 1.0) * 2.0;
        let ((m, s), peak) =
            peak_during(|| dagr::compute_with((&y.mean(), &y.std()), sched.clone()).unwrap());
        // uniform [0, 1) plus one, doubled: mean 3, std 2 / sqrt(12)
        assert!(
            (m - 3.0).abs() < 0.01 && (s - 2.0 / 12f64.sqrt()).abs() < 0.01,
            "{m} {s}"
        );
        eprintln!(
            "{sched:?}: peak {peak} B = {:.1} blocks",
            peak as f64 / block as f64
        );
        assert!(
            peak < budget,
            "{sched:?}: peak {peak} B over the budget {budget} B"
        );
        assert!(
            peak < 6 * block,
            "{sched:?}: peak {peak} B is more than a few blocks"
        );
        // an axis reduction keeps one partial row of blocks per output block
        let (r, peak) =
            peak_during(|| x.mean_axis(0).unwrap().compute_with(sched.clone()).unwrap());
        assert_eq!(r.len(), 2048);
        assert!(peak < budget, "{sched:?}: mean_axis peak {peak} B");
    }
}
