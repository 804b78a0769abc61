//! Bags against the same computation on a plain `Vec`, for every operator, partitioning and
//! scheduler; text files in and out; errors.

use dagr::bag as db;
use dagr::prelude::*;
use proptest::prelude::*;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

fn schedulers() -> [Scheduler; 3] {
    [
        Scheduler::sync(),
        Scheduler::threads(2),
        Scheduler::threads(3),
    ]
}

/// Frequencies in order of first appearance, the oracle way.
fn freqs<T: Clone + Eq + std::hash::Hash>(xs: &[T]) -> Vec<(T, u64)> {
    let mut order: Vec<T> = Vec::new();
    let mut n: HashMap<T, u64> = HashMap::new();
    for x in xs {
        if !n.contains_key(x) {
            order.push(x.clone());
        }
        *n.entry(x.clone()).or_default() += 1;
    }
    order
        .into_iter()
        .map(|k| {
            let c = n[&k];
            (k, c)
        })
        .collect()
}

/// Stable sort by key descending, take k: heapq.nlargest semantics.
fn topk<T: Clone, K: Ord>(xs: &[T], k: usize, key: impl Fn(&T) -> K) -> Vec<T> {
    let mut v: Vec<(usize, T)> = xs.iter().cloned().enumerate().collect();
    v.sort_by(|a, b| key(&b.1).cmp(&key(&a.1)).then(a.0.cmp(&b.0)));
    v.into_iter().take(k).map(|(_, x)| x).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, ..ProptestConfig::default() })]

    #[test]
    fn operators_match_plain_iterators(xs in proptest::collection::vec(-50i64..50, 0..200), parts in 1usize..12) {
        let b = db::from_sequence(xs.clone(), parts).unwrap();
        for s in schedulers() {
            prop_assert_eq!(b.compute_with(s.clone()).unwrap(), xs.clone());
            let m = b.map(|x| x * 3 - 1).filter(|x| x % 2 == 0);
            let want: Vec<i64> = xs.iter().map(|x| x * 3 - 1).filter(|x| x % 2 == 0).collect();
            prop_assert_eq!(m.compute_with(s.clone()).unwrap(), want);
            let fm = b.flat_map(|x| vec![x; (x.rem_euclid(3)) as usize]);
            let want: Vec<i64> = xs.iter().flat_map(|&x| vec![x; x.rem_euclid(3) as usize]).collect();
            prop_assert_eq!(fm.compute_with(s.clone()).unwrap(), want);
            prop_assert_eq!(b.count().compute_with(s.clone()).unwrap(), xs.len() as u64);
            prop_assert_eq!(b.sum().compute_with(s.clone()).unwrap(), xs.iter().sum::<i64>());
            match xs.iter().min() {
                Some(m) => prop_assert_eq!(b.min().compute_with(s.clone()).unwrap(), *m),
                None => prop_assert!(b.min().compute_with(s.clone()).is_err()),
            }
            if let Some(m) = xs.iter().max() {
                prop_assert_eq!(b.max().compute_with(s.clone()).unwrap(), *m);
            }
            if !xs.is_empty() {
                let mean = b.map(|x| x as f64).mean().compute_with(s.clone()).unwrap();
                let want = xs.iter().sum::<i64>() as f64 / xs.len() as f64;
                prop_assert!((mean - want).abs() < 1e-9);
            }
            prop_assert_eq!(b.frequencies().compute_with(s.clone()).unwrap(), freqs(&xs));
            let mut seen = std::collections::HashSet::new();
            let distinct: Vec<i64> = xs.iter().copied().filter(|x| seen.insert(*x)).collect();
            prop_assert_eq!(b.distinct().compute_with(s.clone()).unwrap(), distinct);
            for k in [1, 3, 500] {
                prop_assert_eq!(b.topk(k, |x| x.abs()).compute_with(s.clone()).unwrap(), topk(&xs, k, |x| x.abs()));
                let f = freqs(&xs);
                prop_assert_eq!(b.frequencies().topk(k, |(_, n)| *n).compute_with(s.clone()).unwrap(), topk(&f, k, |(_, n)| *n));
            }
            let folded = b.fold(|acc, x| acc + x.abs(), |a, c| a + c, 0).compute_with(s.clone()).unwrap();
            prop_assert_eq!(folded, xs.iter().map(|x| x.abs()).sum::<i64>());
            let by = b.foldby(|x| x.rem_euclid(4), |acc, x| acc + x, 0, |a, c| a + c).compute_with(s.clone()).unwrap();
            let mut want: Vec<(i64, i64)> = Vec::new();
            for &x in &xs {
                match want.iter_mut().find(|(k, _)| *k == x.rem_euclid(4)) {
                    Some((_, a)) => *a += x,
                    None => want.push((x.rem_euclid(4), x)),
                }
            }
            prop_assert_eq!(by, want);
            let groups = b.groupby(|x| x.rem_euclid(3)).compute_with(s.clone()).unwrap();
            for (k, members) in groups {
                let want: Vec<i64> = xs.iter().copied().filter(|x| x.rem_euclid(3) == k).collect();
                prop_assert_eq!(members, want);
            }
        }
        for n in [1, 2, 5, 17] {
            let r = b.repartition(n);
            prop_assert_eq!(r.npartitions(), n);
            prop_assert_eq!(r.compute().unwrap(), xs.clone());
        }
        prop_assert_eq!(b.take(7).unwrap(), xs.iter().copied().take(7).collect::<Vec<_>>());
    }

    #[test]
    fn string_methods_match_std(lines in proptest::collection::vec("[ a-zA-Z,.!?'-]{0,30}", 0..40), parts in 1usize..6) {
        let b = db::from_sequence(lines.clone(), parts).unwrap();
        let words: Vec<String> = lines.iter().flat_map(|l| l.split_whitespace().map(str::to_owned)).collect();
        prop_assert_eq!(b.str().split().flatten().compute().unwrap(), words.clone());
        let clean: Vec<String> = lines.iter().map(|l| l.chars().filter(|c| !c.is_ascii_punctuation()).collect::<String>().to_lowercase()).collect();
        prop_assert_eq!(b.str().strip_punctuation().str().lower().compute().unwrap(), clean);
        prop_assert_eq!(b.str().upper().compute().unwrap(), lines.iter().map(|l| l.to_uppercase()).collect::<Vec<_>>());
        prop_assert_eq!(b.str().strip().compute().unwrap(), lines.iter().map(|l| l.trim().to_owned()).collect::<Vec<_>>());
        prop_assert_eq!(b.str().split_on(",").compute().unwrap(), lines.iter().map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>()).collect::<Vec<_>>());
        prop_assert_eq!(b.str().replace("a", "xy").compute().unwrap(), lines.iter().map(|l| l.replace('a', "xy")).collect::<Vec<_>>());
        prop_assert_eq!(b.str().contains("e").compute().unwrap(), lines.iter().map(|l| l.contains('e')).collect::<Vec<_>>());
        let top = b.str().split().flatten().frequencies().topk(5, |(_, n)| *n).compute().unwrap();
        prop_assert_eq!(top, topk(&freqs(&words), 5, |(_, n)| *n));
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dagr-bag-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn read_text_line_endings_empty_files_and_gzip() {
    let d = scratch("read");
    std::fs::write(d.join("a.txt"), "one\ntwo\n").unwrap();
    std::fs::write(d.join("b.txt"), "three\r\nfour").unwrap(); // CRLF, no trailing newline
    std::fs::write(d.join("c.txt"), "").unwrap();
    std::fs::write(d.join("d.txt"), "\n\nlast\n").unwrap(); // empty lines are items
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"five\nsix\n").unwrap();
    std::fs::write(d.join("e.txt.gz"), gz.finish().unwrap()).unwrap();
    let b = db::read_text(&format!("{}/*", d.display())).unwrap();
    assert_eq!(b.npartitions(), 5);
    let want = ["one", "two", "three", "four", "", "", "last", "five", "six"];
    for s in schedulers() {
        assert_eq!(b.compute_with(s).unwrap(), want);
    }
    // a single path works too
    assert_eq!(
        db::read_text(d.join("a.txt").to_str().unwrap())
            .unwrap()
            .compute()
            .unwrap(),
        ["one", "two"]
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn blocks_split_at_line_boundaries() {
    let d = scratch("blocks");
    let mut text = String::new();
    for i in 0..500 {
        text.push_str(&"x".repeat(i % 37));
        text.push_str(&format!(" line {i}"));
        text.push_str(if i % 3 == 0 { "\r\n" } else { "\n" });
    }
    std::fs::write(d.join("big.txt"), &text).unwrap();
    let path = d.join("big.txt");
    let whole = db::read_text(path.to_str().unwrap())
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(whole.len(), 500);
    for bs in [1, 7, 64, 100, 1000, 5000, 1 << 20] {
        let b = db::read_text_with(
            path.to_str().unwrap(),
            db::TextOptions::default().blocksize(bs),
        )
        .unwrap();
        assert_eq!(
            b.compute_with(Scheduler::threads(2)).unwrap(),
            whole,
            "blocksize {bs}"
        );
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn invalid_utf8_names_file_and_line() {
    let d = scratch("utf8");
    let path = d.join("bad.txt");
    std::fs::write(&path, b"fine\nalso fine\nbad \xff byte\nok\n").unwrap();
    let err = db::read_text(path.to_str().unwrap())
        .unwrap()
        .compute()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("bad.txt:3") && text.contains("UTF-8"),
        "{text}"
    );
    // the same with blocks: the line number counts lines of earlier blocks
    let b = db::read_text_with(
        path.to_str().unwrap(),
        db::TextOptions::default().blocksize(10),
    )
    .unwrap();
    let text = b.compute().unwrap_err().to_string();
    assert!(text.contains("bad.txt:3"), "{text}");
    let lossy = db::read_text_with(
        path.to_str().unwrap(),
        db::TextOptions::default().lossy(true),
    )
    .unwrap();
    assert_eq!(lossy.compute().unwrap()[2], "bad \u{fffd} byte");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let err = db::read_text("/nonexistent-dagr/*.txt").unwrap_err();
    assert!(matches!(err, Error::NoFiles { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent-dagr/*.txt"));
    assert!(db::read_text("[").is_err());
    assert!(db::from_sequence(vec![1], 0).is_err());
    assert!(db::from_delayed::<i32>(vec![]).is_err());
    let b = db::from_sequence(vec![1, 2, 3], 2).unwrap();
    let e = b.topk(0, |x| *x).compute().unwrap_err();
    assert!(e.to_string().contains("topk(0)"), "{e}");
    let e = b.repartition(0).compute().unwrap_err();
    assert!(e.to_string().contains("repartition(0)"), "{e}");
    let empty = db::from_sequence(Vec::<i64>::new(), 3).unwrap();
    assert!(empty
        .max()
        .compute()
        .unwrap_err()
        .to_string()
        .contains("empty"));
    assert!(empty.mean().compute().is_err());
    assert_eq!(empty.count().compute().unwrap(), 0);
    assert!(b.to_textfiles("out/no-star.txt").is_err());
}

#[test]
fn textfiles_round_trip() {
    let d = scratch("out");
    let b = db::from_sequence((0..100).map(|i| format!("item {i}")), 4).unwrap();
    let files = b
        .to_textfiles(&format!("{}/sub/*.txt", d.display()))
        .unwrap();
    assert_eq!(files.len(), 4);
    let back = db::read_text(&format!("{}/sub/*.txt", d.display())).unwrap();
    assert_eq!(back.compute().unwrap(), b.compute().unwrap());
    // nothing but the outputs is left behind
    assert_eq!(std::fs::read_dir(d.join("sub")).unwrap().count(), 4);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn from_delayed_and_to_delayed() {
    let parts = vec![dagr::value(vec![1, 2]), dagr::value(vec![3, 4, 5])];
    let b = db::from_delayed(parts).unwrap();
    let doubled = b.map(|x| x * 2).to_delayed();
    assert_eq!(doubled.len(), 2);
    assert_eq!(
        dagr::compute(&doubled).unwrap(),
        vec![vec![2, 4], vec![6, 8, 10]]
    );
    assert_eq!(dagr::compute((&b.sum(), &b.count())).unwrap(), (15, 5));
}

#[test]
fn from_sequence_partitions_like_dask() {
    // partition_size = ceil(len / npartitions)
    assert_eq!(db::from_sequence(0..10, 4).unwrap().npartitions(), 4);
    assert_eq!(db::from_sequence(0..10, 6).unwrap().npartitions(), 5);
    assert_eq!(db::from_sequence(0..3, 10).unwrap().npartitions(), 3);
    assert_eq!(
        db::from_sequence(Vec::<u8>::new(), 10)
            .unwrap()
            .npartitions(),
        1
    );
}
