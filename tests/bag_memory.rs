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

/// A directory of `files` text files, each the same `words` distinct words in a new order:
/// every partition's counting table is as large as the whole vocabulary, as in a corpus
/// whose vocabulary a few partitions already cover.
fn corpus(files: usize, words: usize) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dagr-bag-memory-{files}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for f in 0..files {
        let mut text = String::new();
        for w in 0..words {
            let k = (w * 7919 + f * 104729) % words;
            text.push_str(&format!("word{k} and{} the\n", k % 10));
        }
        std::fs::write(dir.join(format!("part{f:03}.txt")), text).unwrap();
    }
    dir
}

#[test]
fn text_frequencies_hold_one_combined_table_per_half_at_a_time() {
    let words = 20_000;
    let one = corpus(1, words);
    let many = corpus(48, words);
    let count = |dir: &std::path::Path, sched: Scheduler| {
        peak_during(|| {
            db::read_text(&format!("{}/*.txt", dir.display()))
                .unwrap()
                .str()
                .split()
                .flatten()
                .frequencies()
                .topk(3, |(_, n)| *n)
                .compute_with(sched)
                .unwrap()
        })
    };
    // in halves of the single partition's peak
    for (sched, bound) in [(Scheduler::sync(), 8), (Scheduler::threads(2), 12)] {
        let (top, single) = count(&one, sched.clone());
        assert_eq!(top[0], ("the".to_string(), words as u64));
        let (top, peak) = count(&many, sched.clone());
        assert_eq!(top[0], ("the".to_string(), 48 * words as u64));
        // a partition and its table, one running combined table per half of the partitions
        // (the halves a cluster's two ranks own) and a few partial tables waiting: not one
        // partial table per partition nor a combined one per partition
        assert!(
            2 * peak < bound * single,
            "{sched:?}: peak {peak} B for 48 partitions vs {single} B for one"
        );
        eprintln!("{sched:?}: peak {peak} B for 48 partitions, {single} B for one");
    }
    let _ = std::fs::remove_dir_all(one);
    let _ = std::fs::remove_dir_all(many);
}
