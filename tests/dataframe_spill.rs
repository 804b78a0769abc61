//! Shuffles that spill their pieces to disk: the same rows in the same order as the
//! in-memory exchange and as plain sorted oracles, on the sync and threads schedulers, and
//! no file left behind, whether the compute ends, fails or panics midway.

use dagr::bag as db;
use dagr::dataframe::{self as dd, Column, ShuffleSpill, Table};
use dagr::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The spill setting is per process: tests that change it take turns.
static SETTING: Mutex<()> = Mutex::new(());

/// A spill directory of this test's own, and the setting it replaced (restored on drop).
struct Spilling {
    dir: PathBuf,
    old: ShuffleSpill,
    _turn: MutexGuard<'static, ()>,
}

impl Spilling {
    fn new(name: &str) -> Spilling {
        let turn = SETTING.lock().unwrap_or_else(|p| p.into_inner());
        let dir = std::env::temp_dir().join(format!("dagr-spill-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let old = dd::shuffle_spill();
        Spilling {
            dir,
            old,
            _turn: turn,
        }
    }

    /// Builds with every shuffle spilling (budget 0) or none (no budget reached).
    fn build<T>(&self, spill: bool, f: impl FnOnce() -> T) -> T {
        dd::set_shuffle_spill(ShuffleSpill {
            budget: Some(if spill { 0 } else { u64::MAX }),
            dir: Some(self.dir.clone()),
        });
        f()
    }

    /// Files and directories under the spill directory.
    fn left(&self) -> usize {
        count(&self.dir)
    }
}

impl Drop for Spilling {
    fn drop(&mut self) {
        dd::set_shuffle_spill(self.old.clone());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn count(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| 1 + count(&e.path()))
            .sum::<usize>()
    })
}

type Row = (i64, i64, Option<String>);

fn rows(n: i64) -> Vec<Row> {
    (0..n)
        .map(|i| {
            let k = (i * 7919 + 13) % 97;
            (k, i, (i % 5 != 0).then(|| format!("s{}", i % 11)))
        })
        .collect()
}

fn frame(rows: &[Row], parts: usize) -> dd::DataFrame {
    db::from_sequence(rows.to_vec(), parts)
        .unwrap()
        .to_dataframe(&["k", "v", "s"])
        .unwrap()
}

fn table_rows(t: &Table) -> Vec<Row> {
    let (k, v, s) = (
        t.column("k").unwrap(),
        t.column("v").unwrap(),
        t.column("s").unwrap(),
    );
    (0..t.len())
        .map(|i| {
            (
                k.f64(i).unwrap() as i64,
                v.f64(i).unwrap() as i64,
                s.text(i),
            )
        })
        .collect()
}

fn schedulers() -> [Scheduler; 2] {
    [Scheduler::sync(), Scheduler::threads(2)]
}

/// Each partition of a frame, computed.
fn partitions(df: &dd::DataFrame, s: Scheduler) -> Vec<Table> {
    dagr::compute_with(&df.to_delayed(), s).unwrap()
}

/// Whether partitions are equal, row for row (NaN equal to NaN), without printing them all.
fn same(a: &[Table], b: &[Table]) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

#[test]
fn spilled_shuffles_give_the_in_memory_partitions_row_for_row() {
    let sp = Spilling::new("shuffles");
    let data = rows(3000);
    let mut sorted = data.clone();
    sorted.sort();
    let df = frame(&data, 7);
    let many = frame(&data, 45);
    type Build = Box<dyn Fn() -> dd::DataFrame>;
    let cases: Vec<(&str, Build)> = vec![
        ("one level", {
            let df = df.clone();
            Box::new(move || {
                df.shuffle_with("k", 5, dd::ShuffleMethod::OneLevel)
                    .unwrap()
            })
        }),
        ("two levels", {
            let many = many.clone();
            Box::new(move || {
                many.shuffle_with("s", 40, dd::ShuffleMethod::Staged)
                    .unwrap()
            })
        }),
        ("set_index", {
            let df = df.clone();
            Box::new(move || df.set_index("k").unwrap())
        }),
    ];
    for (what, build) in &cases {
        let memory = sp.build(false, build);
        let disk = sp.build(true, build);
        for s in schedulers() {
            let want = partitions(&memory, s.clone());
            let got = partitions(&disk, s.clone());
            assert!(same(&got, &want), "{what}");
            assert_eq!(sp.left(), 0, "{what}: files left");
            // every row once; a key in one partition only
            let mut all: Vec<Row> = got.iter().flat_map(table_rows).collect();
            all.sort();
            assert_eq!(all, sorted, "{what}");
        }
    }
    // set_index: the stable sort of the rows by key, its divisions kept
    let indexed = sp.build(true, || df.set_index("k").unwrap());
    let mut stable = data.clone();
    stable.sort_by_key(|r| r.0);
    for s in schedulers() {
        let t = indexed.compute_with(s).unwrap();
        assert_eq!(table_rows(&t), stable);
    }
    assert_eq!(indexed.divisions().map(|d| d.len()), Some(8));
    assert_eq!(sp.left(), 0);
}

#[test]
fn spilled_joins_and_groupings_equal_the_in_memory_ones_and_the_oracles() {
    let sp = Spilling::new("joins");
    let data = rows(2000);
    let other: Vec<(i64, f64)> = (0..300).map(|i| ((i * 31) % 120, i as f64)).collect();
    let left = frame(&data, 6);
    let right = db::from_sequence(other.clone(), 4)
        .unwrap()
        .to_dataframe(&["k", "w"])
        .unwrap();
    for how in [dd::How::Inner, dd::How::Left, dd::How::Outer] {
        let build = || left.merge(&right, "k", how).unwrap();
        let (memory, disk) = (sp.build(false, build), sp.build(true, build));
        // the oracle: a nested loop, sorted
        let mut want: Vec<(i64, Option<i64>, Option<u64>)> = Vec::new();
        for (k, v, _) in &data {
            let m: Vec<_> = other.iter().filter(|(rk, _)| rk == k).collect();
            if m.is_empty() && how != dd::How::Inner {
                want.push((*k, Some(*v), None));
            }
            want.extend(m.iter().map(|(_, w)| (*k, Some(*v), Some(w.to_bits()))));
        }
        if how == dd::How::Outer {
            for (k, w) in &other {
                if !data.iter().any(|r| r.0 == *k) {
                    want.push((*k, None, Some(w.to_bits())));
                }
            }
        }
        want.sort();
        for s in schedulers() {
            let got = partitions(&disk, s.clone());
            assert!(same(&got, &partitions(&memory, s.clone())), "{how:?}");
            let t = Table::concat(got).unwrap();
            let (k, v, w) = (
                t.column("k").unwrap(),
                t.column("v").unwrap(),
                t.column("w").unwrap(),
            );
            let mut rows: Vec<_> = (0..t.len())
                .map(|i| {
                    (
                        k.f64(i).unwrap() as i64,
                        v.f64(i).filter(|x| !x.is_nan()).map(|x| x as i64),
                        w.f64(i).filter(|x| !x.is_nan()).map(f64::to_bits),
                    )
                })
                .collect();
            rows.sort();
            assert_eq!(rows, want, "{how:?}");
        }
        assert_eq!(sp.left(), 0);
    }
    let build = || {
        (
            left.drop_duplicates("s").unwrap(),
            left.value_counts("k").unwrap(),
            left.groupby("s")
                .shuffle_above(0)
                .agg(&[("v", dd::Agg::Sum)]),
        )
    };
    let (memory, disk) = (sp.build(false, build), sp.build(true, build));
    for s in schedulers() {
        for (m, d) in [
            (&memory.0, &disk.0),
            (&memory.1, &disk.1),
            (&memory.2, &disk.2),
        ] {
            assert!(same(&partitions(d, s.clone()), &partitions(m, s.clone())));
        }
        let sums = disk.2.compute_with(s.clone()).unwrap();
        let total = match sums.column("v").unwrap() {
            Column::I64(v) => v.iter().sum::<i64>(),
            Column::F64(v) => v.iter().sum::<f64>() as i64,
            c => panic!("sums are {}", c.dtype()),
        };
        // pandas leaves out the rows whose key is null
        let want: i64 = data.iter().filter(|r| r.2.is_some()).map(|r| r.1).sum();
        assert_eq!(total, want);
        assert_eq!(disk.0.compute_with(s).unwrap().len(), 12); // 11 strings and the null
    }
    assert_eq!(sp.left(), 0);
}

/// Injected panics are expected: keep their messages out of the test's output.
fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = info
                .payload()
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| info.payload().downcast_ref::<String>().map(|s| s.as_str()))
                .unwrap_or("");
            if !msg.starts_with("injected") {
                default(info)
            }
        }));
    });
}

#[test]
fn files_exist_while_pieces_wait_and_none_survive_a_failure_or_a_panic() {
    quiet_panics();
    let sp = Spilling::new("failures");
    let data = rows(1500);
    let dir = sp.dir.clone();
    // while the outputs run, the spill files are there
    let shuffled = sp.build(true, || frame(&data, 5).shuffle("k", 4).unwrap());
    let seen: Vec<Delayed<usize>> = shuffled
        .to_delayed()
        .into_iter()
        .map(|p| {
            let dir = dir.clone();
            p.map(move |_| count(&dir))
        })
        .collect();
    for s in schedulers() {
        // Some output runs while other partitions' pieces still wait on disk: on a pool,
        // which one depends on the threads' timing (the first may run last).
        let seen = dagr::compute_with(&seen, s).unwrap();
        assert!(seen.iter().any(|&n| n > 0), "no spill file seen: {seen:?}");
        assert_eq!(sp.left(), 0);
    }
    // an input failing (an error, then a panic) after other inputs spilled
    for panics in [false, true] {
        let bad = db::from_sequence((0..6_i64).collect::<Vec<_>>(), 6)
            .unwrap()
            .map_partitions(|p| (0..200).map(|i| (p[0], i)).collect())
            .try_map(move |(p, i)| {
                if p == 4 && i == 150 {
                    // let the other inputs cut first on the threads
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    if panics {
                        panic!("injected panic in an input");
                    }
                    return Err("injected error in an input");
                }
                Ok((i % 13, p * 1000 + i))
            })
            .to_dataframe(&["k", "v"])
            .unwrap();
        let shuffled = sp.build(true, || bad.shuffle("k", 3).unwrap());
        for s in schedulers() {
            assert!(shuffled.compute_with(s).is_err());
            assert_eq!(sp.left(), 0, "files left after a failed input");
        }
    }
    // an output failing while the other outputs' pieces wait on disk
    let shuffled = sp.build(true, || frame(&data, 5).shuffle("k", 4).unwrap());
    for panics in [false, true] {
        let outs: Vec<Delayed<usize>> = shuffled
            .to_delayed()
            .into_iter()
            .enumerate()
            .map(|(j, p)| {
                p.map(move |t| {
                    if j == 1 && panics {
                        panic!("injected panic in an output");
                    }
                    t.len()
                })
            })
            .collect();
        let outs: Vec<Delayed<usize>> = if panics {
            outs
        } else {
            let failing = fails(&outs[0]);
            outs.into_iter().chain([failing]).collect()
        };
        for s in schedulers() {
            assert!(dagr::compute_with(&outs, s).is_err());
            assert_eq!(sp.left(), 0, "files left after a failed output");
        }
    }
}

#[delayed]
fn fails(n: usize) -> Result<usize, std::io::Error> {
    Err(std::io::Error::other(format!(
        "injected error after {n} rows"
    )))
}
