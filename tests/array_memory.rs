//! A reduction over an array four times larger than the memory this test allows completes
//! holding a few blocks at a time: measured with a counting allocator.

use dagr::array as da;
use dagr::prelude::*;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::peak_during;

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
