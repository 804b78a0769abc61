//! Aggregations over many partitions hold a few partial results at a time, not one per
//! partition: measured with a counting allocator.

use dagr::bag as db;
use dagr::prelude::*;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::peak_during;

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
