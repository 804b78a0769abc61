//! dagr's collections and delayed graphs across MPI ranks, against the threads scheduler.
//!
//! `cargo test --features mpi` runs this program under `mpiexec -n 1, 2, 3` (oversubscribed
//! on small machines); every rank computes each case on the cluster and on its own threads
//! and compares, bit for bit.

use dagr::array as da;
use dagr::bag as db;
use dagr::distributed::Cluster;
use dagr::prelude::*;
use std::process::Command;

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

#[delayed]
fn double(x: i64) -> i64 {
    x * 2
}

#[delayed]
fn add(x: i64, y: i64) -> i64 {
    x + y
}

#[delayed]
fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

#[delayed]
fn fragile(x: i64) -> i64 {
    if x == 37 {
        panic!("thirty-seven is not allowed");
    }
    x
}

#[delayed]
fn mix(a: u64, b: u64) -> u64 {
    a.rotate_left(7) ^ b.wrapping_mul(0x9e37_79b9)
}

/// Every rank's `x`, gathered through a distributed compute: `from_array` block `r` of `R`
/// runs on rank `r`.
fn gather(cluster: &Cluster, x: f64) -> Vec<f64> {
    let r = cluster.size();
    let cells = ndarray::Array1::from_elem(r, x).into_dyn();
    // each rank fills in its own block: the block made on rank k holds rank k's value
    let me = x;
    let probe = da::from_array(cells, &[1]).unwrap().map(move |_| me);
    probe
        .compute_with(cluster.scheduler())
        .unwrap()
        .iter()
        .copied()
        .collect()
}

fn digest(s: &str) -> f64 {
    (s.bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64))
        % (1 << 50)) as f64
}

fn delayed_cases(cluster: &Cluster) {
    let s = cluster.scheduler();
    // the notebook's pipeline
    let parts: Vec<_> = (1..=100).map(|x| add(inc(x), double(x))).collect();
    let t = total(parts);
    assert_eq!(
        t.compute_with(s.clone()).unwrap(),
        t.compute_with(Scheduler::sync()).unwrap()
    );
    // random DAGs of delayed calls: the same value as the sync scheduler
    let mut seed = 0x1234_5678_u64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for case in 0..40 {
        let mut nodes: Vec<Delayed<u64>> = vec![value(case as u64)];
        for i in 1..(20 + next(200)) {
            let a = &nodes[next(i)];
            let b = &nodes[next(i)];
            nodes.push(mix(a, b));
        }
        let outs = vec![
            nodes[nodes.len() - 1].clone(),
            nodes[next(nodes.len())].clone(),
        ];
        let got = dagr::compute_with(&outs, s.clone()).unwrap();
        let want = dagr::compute_with(&outs, Scheduler::sync()).unwrap();
        assert_eq!(got, want, "case {case}");
    }
    // a panicking task: the same error on every rank, naming the key and the rank
    let bad = total((0..64).map(fragile).collect::<Vec<_>>());
    let e = bad.compute_with(s.clone()).unwrap_err().to_string();
    assert!(e.contains("thirty-seven") && e.contains("fragile-"), "{e}");
    if cluster.size() > 1 {
        assert!(e.starts_with("on rank "), "{e}");
    }
    let seen = gather(cluster, digest(&e));
    assert!(
        seen.iter().all(|&d| d == seen[0]),
        "the ranks disagree on {e}"
    );
    // and the next compute works
    assert_eq!(
        total(vec![inc(1), inc(2)]).compute_with(s.clone()).unwrap(),
        5
    );
    // closures over standard types cross too
    let m = t.map(|v| v as f64 / 2.0);
    let m2 = dagr::map2(&m, &inc(4), |a, b| format!("{a}/{b}"));
    assert_eq!(
        m2.compute_with(s.clone()).unwrap(),
        m2.compute_with(Scheduler::sync()).unwrap()
    );
    // graph! pipelines
    let pipeline = graph! {
        input x: i64;
        input ys: Vec<i64>;
        c = add(a, b);
        a = inc(x);
        b = double(x);
        t = total(ys);
        output (c, t);
    };
    for k in 0..20 {
        let ys: Vec<i64> = (0..k).collect();
        assert_eq!(
            pipeline.compute_with(s.clone(), k, ys.clone()).unwrap(),
            pipeline.compute_with(Scheduler::sync(), k, ys).unwrap()
        );
    }
    cluster.barrier();
}

fn array_cases(cluster: &Cluster) {
    let s = cluster.scheduler();
    let t = Scheduler::threads(2);
    let x = da::random::random(&[400, 300], &[100, 75], 7).unwrap();
    let y = da::random::normal(1.0, 2.0, &[400, 300], &[80, 100], 8).unwrap();
    let pairs = [
        (x.sum(), "sum"),
        (x.mean(), "mean"),
        (x.std(), "std"),
        (x.var(), "var"),
        (x.max(), "max"),
        ((&x + &y).mean(), "x + y"),
        (((&x * 2.0) - 1.0).min(), "2x - 1"),
        ((&x - x.mean()).abs().max(), "|x - mean|"),
        (((&y - y.mean()) / y.std()).sum(), "z-scores"),
    ];
    for (d, what) in &pairs {
        let a = d.compute_with(s.clone()).unwrap();
        let b = d.compute_with(t.clone()).unwrap();
        assert_eq!(a.to_bits(), b.to_bits(), "{what}: {a} != {b}");
    }
    assert_eq!(
        x.argmax().compute_with(s.clone()).unwrap(),
        x.argmax().compute_with(t.clone()).unwrap()
    );
    let m = x.mean_axis(0).unwrap();
    assert_eq!(
        m.compute_with(s.clone()).unwrap(),
        m.compute_with(t.clone()).unwrap()
    );
    let c = da::concatenate(&[x.clone(), y.clone()], 0)
        .unwrap()
        .rechunk(&[150, 300])
        .unwrap();
    assert_eq!(
        c.compute_with(s.clone()).unwrap(),
        c.compute_with(t.clone()).unwrap()
    );
    // a large output to one rank only
    for root in 0..cluster.size() {
        let got = dagr::distributed::compute_on(&c, cluster, root).unwrap();
        match got {
            Some(v) => {
                assert_eq!(cluster.rank(), root);
                assert_eq!(v, c.compute_with(t.clone()).unwrap());
            }
            None => assert_ne!(cluster.rank(), root),
        }
    }
    // several outputs at once, sharing their blocks
    let (a, b) = dagr::compute_with((&x.sum(), &x.mean()), s).unwrap();
    let (a2, b2) = dagr::compute_with((&x.sum(), &x.mean()), t).unwrap();
    assert_eq!((a.to_bits(), b.to_bits()), (a2.to_bits(), b2.to_bits()));
}

fn store_cases(cluster: &Cluster, dir: &std::path::Path) {
    // every rank writes its blocks into one file, moved into place by rank 0
    let x = da::random::random(&[300, 200], &[70, 50], 11).unwrap();
    let path = dir.join("x.dat");
    (&x * 3.0).store_with(&path, cluster.scheduler()).unwrap();
    let back = da::from_memmap::<f64>(&path, &[300, 200], &[300, 200]).unwrap();
    assert_eq!(back.compute().unwrap(), (&x * 3.0).compute().unwrap());
    // a failure is the same error everywhere
    let bad = dir.join("no-such-dir").join("x.dat");
    let e = x
        .store_with(&bad, cluster.scheduler())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no-such-dir"), "{e}");
    let seen = gather(cluster, digest(&e));
    assert!(
        seen.iter().all(|&d| d == seen[0]),
        "the ranks disagree on {e}"
    );
}

fn diagnostics_cases(cluster: &Cluster) {
    use dagr::diagnostics::{Profiler, ProgressBar};
    let x = da::random::random(&[600, 600], &[100, 100], 3).unwrap();
    let bar = ProgressBar::hidden();
    let prof = Profiler::new();
    let s = cluster.scheduler().progress_with(&bar).profile(&prof);
    let want = x.std().compute_with(Scheduler::threads(2)).unwrap();
    assert_eq!(x.std().compute_with(s).unwrap().to_bits(), want.to_bits());
    // rank 0's bar counts every rank's tasks: the sum of what each rank's profiler saw
    let summary = prof.summary();
    let all: f64 = gather(cluster, summary.tasks as f64).iter().sum();
    if cluster.rank() == 0 {
        assert_eq!((bar.done(), bar.total()), (all as u64, all as u64));
    }
    match summary.cluster {
        Some(c) => {
            assert_eq!((c.rank, c.ranks), (cluster.rank(), cluster.size()));
            assert!(c.bytes_sent + c.bytes_received > 0, "{c:?}");
            assert!(summary.to_string().contains(&format!("rank {} of", c.rank)));
        }
        None => assert_eq!(cluster.size(), 1),
    }
}

/// The columns of `csv-big/b-{f}.csv`, larger than describe's samples: `a` is uniform (its
/// quartiles lie in the windows the samples place), `b` is 0 exactly where the samples
/// look and in [1, 2) elsewhere (its windows miss, and the bins find the quartiles).
fn big_columns(f: u64) -> (Vec<f64>, Vec<f64>) {
    let (rows, sample) = (100_000usize, 1usize << 14);
    let mut trap = vec![false; rows];
    for k in 0..sample {
        trap[(2 * k + 1) * rows / (2 * sample)] = true;
    }
    let mut x = f + 1;
    let a: Vec<f64> = (0..rows)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect();
    let b = a
        .iter()
        .zip(&trap)
        .map(|(u, &t)| if t { 0.0 } else { 1.0 + u })
        .collect();
    (a, b)
}

/// Files every rank reads, written by rank 0.
fn data_dir(cluster: &Cluster) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("distributed");
    if cluster.rank() == 0 {
        std::fs::create_dir_all(dir.join("text")).unwrap();
        std::fs::create_dir_all(dir.join("csv")).unwrap();
        let words = ["the", "of", "Rust", "rank", "MPI,", "dask", "graph.", "x"];
        for f in 0..7 {
            let mut text = String::new();
            for line in 0..(50 + 13 * f) {
                for w in 0..(line % 9) {
                    text.push_str(words[(f * 31 + line * 7 + w * 3) % words.len()]);
                    text.push(' ');
                }
                text.push('\n');
            }
            std::fs::write(dir.join(format!("text/part-{f}.txt")), text).unwrap();
        }
        for f in 0..5 {
            let mut csv = String::from("id,name,score\n");
            for r in 0..(40 + 17 * f) {
                let k = f * 1000 + r;
                csv.push_str(&format!("{k},n{},{}\n", k % 7, (k * 37 % 101) as f64 / 4.0));
            }
            std::fs::write(dir.join(format!("csv/t-{f}.csv")), csv).unwrap();
        }
        std::fs::create_dir_all(dir.join("csv-big")).unwrap();
        for f in 0..3 {
            let (a, b) = big_columns(f);
            let mut csv = String::from("a,b\n");
            for (x, y) in a.iter().zip(&b) {
                csv.push_str(&format!("{x},{y}\n"));
            }
            std::fs::write(dir.join(format!("csv-big/b-{f}.csv")), csv).unwrap();
        }
    }
    cluster.barrier();
    dir
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Reading {
    station: String,
    celsius: f64,
}

fn bag_cases(cluster: &Cluster, dir: &std::path::Path) {
    let s = cluster.scheduler();
    let t = Scheduler::threads(2);
    // items of the user's own type cross once registered
    dagr::wire::register::<Reading>();
    let readings = db::from_sequence(
        (0..200)
            .map(|i| Reading {
                station: format!("s{}", i % 7),
                celsius: (i * 37 % 50) as f64 - 10.0,
            })
            .collect::<Vec<_>>(),
        9,
    )
    .unwrap();
    let warm = readings.filter(|r| r.celsius > 20.0);
    assert_eq!(
        warm.compute_with(s.clone()).unwrap(),
        warm.compute_with(t.clone()).unwrap()
    );
    let hottest = readings.map(|r| r.celsius).max();
    assert_eq!(hottest.compute_with(s.clone()).unwrap(), 39.0);
    let text = db::read_text(&format!("{}/text/*.txt", dir.display())).unwrap();
    let words = text.str().split().flatten();
    let top = words.frequencies().topk(5, |(_, n)| *n);
    assert_eq!(
        top.compute_with(s.clone()).unwrap(),
        top.compute_with(t.clone()).unwrap()
    );
    let clean = text
        .str()
        .strip_punctuation()
        .str()
        .lower()
        .str()
        .split()
        .flatten();
    let f = clean.frequencies();
    let mut a = f.compute_with(s.clone()).unwrap();
    let mut b = f.compute_with(t.clone()).unwrap();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert_eq!(
        words.count().compute_with(s.clone()).unwrap(),
        words.count().compute_with(t.clone()).unwrap()
    );
    let lens = words.map(|w| w.len() as f64);
    assert_eq!(
        lens.mean().compute_with(s.clone()).unwrap().to_bits(),
        lens.mean().compute_with(t.clone()).unwrap().to_bits()
    );
    let d = words.distinct();
    assert_eq!(
        d.compute_with(s.clone()).unwrap(),
        d.compute_with(t.clone()).unwrap()
    );
    let nums = db::from_sequence((0..1000_i64).collect::<Vec<_>>(), 13).unwrap();
    let odd = nums.filter(|x| x % 2 == 1).map(|x| x * 3);
    assert_eq!(
        odd.sum().compute_with(s.clone()).unwrap(),
        odd.sum().compute_with(t.clone()).unwrap()
    );
    assert_eq!(
        odd.compute_with(s.clone()).unwrap(),
        odd.compute_with(t.clone()).unwrap()
    );
    // float keys for topk; bags through dagr::compute with another output
    let warmest = readings.topk(3, |r| r.celsius);
    assert_eq!(
        warmest.compute_with(s.clone()).unwrap(),
        warmest.compute_with(t.clone()).unwrap()
    );
    let both = (&odd, &odd.count());
    assert_eq!(
        dagr::compute_with(both, s.clone()).unwrap(),
        dagr::compute_with(both, t).unwrap()
    );
    // each rank writes its own partitions; every rank then reads them all back
    let out = dir.join("words-out");
    let paths = words
        .to_textfiles_with(&format!("{}/*.txt", out.display()), s)
        .unwrap();
    cluster.barrier();
    let back = db::read_text(&format!("{}/*.txt", out.display())).unwrap();
    assert_eq!(back.compute().unwrap(), words.compute().unwrap());
    assert_eq!(paths.len(), words.npartitions());
}

fn dataframe_cases(cluster: &Cluster, dir: &std::path::Path) {
    use dagr::dataframe::{self as dd, col};
    let s = cluster.scheduler();
    let t = Scheduler::threads(2);
    let df = dd::read_csv(
        &format!("{}/csv/*.csv", dir.display()),
        dd::CsvOptions::default(),
    )
    .unwrap();
    let d = df.describe();
    assert_eq!(
        d.compute_with(s.clone()).unwrap(),
        d.compute_with(t.clone()).unwrap()
    );
    // persisted on the cluster: each partition stays on the rank that computed it
    let before = cluster.stats();
    let held = df.persist_with(s.clone()).unwrap();
    let sent = cluster.stats().bytes_sent - before.bytes_sent;
    assert!(sent < 1000, "{sent} bytes sent to persist");
    assert_eq!(
        held.describe().compute_with(s.clone()).unwrap(),
        d.compute_with(t.clone()).unwrap()
    );
    assert_eq!(
        held.compute_with(s.clone()).unwrap(),
        df.compute_with(t.clone()).unwrap()
    );
    if cluster.size() > 1 {
        // on another scheduler a rank has only the partitions it holds
        let e = held.compute_with(t.clone()).unwrap_err();
        assert!(e.to_string().contains("persisted on rank"), "{e}");
    }
    let words = db::read_text(&format!("{}/text/*.txt", dir.display()))
        .unwrap()
        .str()
        .split()
        .flatten();
    let counted = words.frequencies().topk(3, |(_, n)| *n);
    let (held_words, held_x) = dagr::persist_with(
        (
            &words,
            &dagr::array::random::random(&[40, 30], &[10, 30], 5).unwrap(),
        ),
        s.clone(),
    )
    .unwrap();
    assert_eq!(
        held_words
            .frequencies()
            .topk(3, |(_, n)| *n)
            .compute_with(s.clone())
            .unwrap(),
        counted.compute_with(t.clone()).unwrap()
    );
    assert_eq!(
        held_x.sum().compute_with(s.clone()).unwrap().to_bits(),
        dagr::array::random::random(&[40, 30], &[10, 30], 5)
            .unwrap()
            .sum()
            .compute_with(t.clone())
            .unwrap()
            .to_bits()
    );
    // joins and shuffles: pieces cross to their output partition's rank
    let names = db::from_sequence(
        (0..30_i64)
            .map(|i| (i % 11, format!("n{i}")))
            .collect::<Vec<_>>(),
        4,
    )
    .unwrap()
    .to_dataframe(&["id", "label"])
    .unwrap();
    for how in [
        dd::How::Inner,
        dd::How::Left,
        dd::How::Right,
        dd::How::Outer,
    ] {
        let m = df
            .merge(&names, "id", how)
            .unwrap()
            .sort_values(["id", "label"], true);
        assert_eq!(
            m.compute_with(s.clone()).unwrap(),
            m.compute_with(t.clone()).unwrap()
        );
    }
    // set_index (its sample computed on each rank alike), joins on the index range by
    // range, a staged shuffle and a groupby over many groups: the threads scheduler's tables
    let same = |a: &dd::DataFrame| {
        let parts = a.to_delayed();
        assert_eq!(
            format!("{:?}", dagr::compute_with(&parts, s.clone()).unwrap()),
            format!("{:?}", dagr::compute_with(&parts, t.clone()).unwrap())
        );
    };
    let by_id = df.set_index("id").unwrap();
    let names_by_id = names.set_index("id").unwrap();
    same(&by_id);
    for how in [dd::How::Left, dd::How::Right, dd::How::Outer] {
        same(&by_id.join(&names_by_id, how).unwrap());
    }
    same(
        &df.shuffle_with("name", 40, dd::ShuffleMethod::Staged)
            .unwrap(),
    );
    same(
        &df.groupby("name")
            .shuffle_above(0)
            .agg(&[("score", dd::Agg::Mean)]),
    );
    // the same shuffles spilling every piece: each rank writes and reads its own files, and
    // a piece another rank needs crosses as its rows; the in-memory tables on threads
    let spilling = || {
        (
            df.merge(&names, "id", dd::How::Outer).unwrap(),
            df.set_index("id").unwrap(),
            df.shuffle_with("name", 40, dd::ShuffleMethod::Staged)
                .unwrap(),
            df.groupby("name")
                .shuffle_above(0)
                .agg(&[("score", dd::Agg::Mean)]),
        )
    };
    let old = dd::set_shuffle_spill(dd::ShuffleSpill {
        budget: Some(0),
        dir: None,
    });
    let on_disk = spilling();
    dd::set_shuffle_spill(dd::ShuffleSpill {
        budget: Some(u64::MAX),
        dir: None,
    });
    let in_memory = spilling();
    dd::set_shuffle_spill(old);
    for (a, b) in [
        (&on_disk.0, &in_memory.0),
        (&on_disk.1, &in_memory.1),
        (&on_disk.2, &in_memory.2),
        (&on_disk.3, &in_memory.3),
    ] {
        assert_eq!(
            format!(
                "{:?}",
                dagr::compute_with(&a.to_delayed(), s.clone()).unwrap()
            ),
            format!(
                "{:?}",
                dagr::compute_with(&b.to_delayed(), t.clone()).unwrap()
            )
        );
    }
    let shuffled = df.shuffle("name", 3).unwrap();
    let parts: Vec<_> = shuffled.to_delayed();
    assert_eq!(
        dagr::compute_with(&parts, s.clone()).unwrap(),
        dagr::compute_with(&parts, t.clone()).unwrap()
    );
    // the values too many for the budget are read again
    let d = df.describe_with(30);
    assert_eq!(
        d.compute_with(s.clone()).unwrap(),
        d.compute_with(t.clone()).unwrap()
    );
    let wide = dd::read_csv(
        &format!("{}/csv-big/*.csv", dir.display()),
        dd::CsvOptions::default(),
    )
    .unwrap();
    let d = wide.describe();
    let got = d.compute_with(s.clone()).unwrap();
    assert_eq!(got, d.compute_with(t.clone()).unwrap());
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for f in 0..3 {
        let (x, y) = big_columns(f);
        a.extend(x);
        b.extend(y);
    }
    for (name, mut v) in [("a", a), ("b", b)] {
        v.sort_by(f64::total_cmp);
        for (stat, q) in [("25%", 0.25), ("50%", 0.5), ("75%", 0.75)] {
            // numpy's linear quantile
            let pos = (v.len() - 1) as f64 * q;
            let (lo, t) = (pos.floor() as usize, pos.fract());
            let want = v[lo] + (v[lo + 1] - v[lo]) * t;
            let got = got.get(stat, name).unwrap();
            assert!(
                (got - want).abs() <= 1e-15,
                "{name} {stat}: {got}, want {want}"
            );
        }
        assert_eq!(got.get("min", name).unwrap(), v[0]);
    }
    // any quantiles, in describe's passes: the same bits on every rank as on threads
    let q = wide.quantiles("b", &[0.01, 0.5, 0.999]);
    assert_eq!(
        q.compute_with(s.clone()).unwrap(),
        q.compute_with(t.clone()).unwrap()
    );
    let d = wide.describe_percentiles(&[0.1, 0.9]);
    assert_eq!(
        d.compute_with(s.clone()).unwrap(),
        d.compute_with(t.clone()).unwrap()
    );
    let big = df.filter(col("score").gt(12.5));
    assert_eq!(
        big.compute_with(s.clone()).unwrap(),
        big.compute_with(t.clone()).unwrap()
    );
    let sorted = df.sort_values("score", false);
    assert_eq!(
        sorted.compute_with(s.clone()).unwrap(),
        sorted.compute_with(t.clone()).unwrap()
    );
    // several keys, booleans, std; several sort columns; the n best rows; missing values
    let flagged = df
        .with_column("high", col("id").gt(2000))
        .with_column("half", col("score").gt(12.5).not());
    let grouped = flagged.groupby(["name", "high"]).agg(&[
        ("score", dd::Agg::Std),
        ("score", dd::Agg::Mean),
        ("half", dd::Agg::Mean),
    ]);
    let by_two = flagged.sort_values_each(&[("name", true), ("score", false)]);
    let best = df.nlargest(7, "score");
    let gaps = df
        .with_column("gap", col("score") / (col("id") - 1000))
        .dropna()
        .fillna(0);
    for frame in [&grouped, &by_two, &best, &gaps] {
        assert_eq!(
            frame.compute_with(s.clone()).unwrap(),
            frame.compute_with(t.clone()).unwrap()
        );
    }
    assert_eq!(
        df.tail(3).unwrap(),
        df.compute().unwrap().take(&[
            df.len().unwrap() - 3,
            df.len().unwrap() - 2,
            df.len().unwrap() - 1
        ])
    );
    // dataframes and bags through dagr::compute
    let (a, b) = dagr::compute_with((&best, &grouped), s.clone()).unwrap();
    assert_eq!((a, b), dagr::compute_with((&best, &grouped), t).unwrap());
    let out = dir.join("csv-out");
    big.to_csv_with(&format!("{}/*.csv", out.display()), s)
        .unwrap();
    cluster.barrier();
    let back = dd::read_csv(
        &format!("{}/*.csv", out.display()),
        dd::CsvOptions::default(),
    );
    assert_eq!(back.unwrap().compute().unwrap(), big.compute().unwrap());
}

fn main() {
    if std::env::var_os("PMI_RANK").is_some() || std::env::var_os("PMI_SIZE").is_some() {
        let cluster = Cluster::init().expect("MPI");
        delayed_cases(&cluster);
        array_cases(&cluster);
        diagnostics_cases(&cluster);
        let dir = data_dir(&cluster);
        bag_cases(&cluster, &dir);
        store_cases(&cluster, &dir);
        dataframe_cases(&cluster, &dir);
        println!(
            "rank {}/{}: ok {:?}",
            cluster.rank(),
            cluster.size(),
            cluster.stats()
        );
        return;
    }
    let exe = std::env::current_exe().expect("test binary");
    for n in [1, 2, 3] {
        let out = Command::new("mpiexec")
            .args(["-n", &n.to_string()])
            .arg(&exe)
            .output()
            .expect("mpiexec (Debian: apt-get install mpich)");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "mpiexec -n {n} failed: {}\n{text}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(text.matches(": ok").count(), n, "{text}");
        println!("mpiexec -n {n}: ok");
    }
}
