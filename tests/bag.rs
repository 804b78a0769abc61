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

    /// fold counts `initial` once per partition (Dask), var/std follow Dask's formula with
    /// its sums in its order.
    #[test]
    fn fold_and_var_as_dask(xs in proptest::collection::vec(-1e3f64..1e3, 1..200), parts in 1usize..9, ddof in 0u32..2) {
        let b = db::from_sequence(xs.clone(), parts).unwrap();
        let n = b.npartitions();
        let chunks: Vec<&[f64]> = xs.chunks(xs.len().div_ceil(parts)).collect();
        prop_assert_eq!(chunks.len(), n);
        let want_fold: f64 = chunks.iter().map(|c| c.iter().fold(10.0, |a, x| a + x)).fold(None, |acc: Option<f64>, p| Some(acc.map_or(p, |a| a + p))).unwrap();
        let (mut x2, mut x, mut m) = (0.0, 0.0, 0u64);
        for c in &chunks {
            let (mut s, mut t) = (0.0, 0.0);
            for v in c.iter() {
                s += v * v;
                t += v;
            }
            x2 += s;
            x += t;
            m += c.len() as u64;
        }
        let m = m as f64;
        let want_var = (x2 / m - (x / m) * (x / m)) * m / (m - ddof as f64);
        for s in schedulers() {
            prop_assert_eq!(b.fold(|a, x| a + x, |a, b| a + b, 10.0).compute_with(s.clone()).unwrap().to_bits(), want_fold.to_bits());
            let var = b.var(ddof).compute_with(s.clone()).unwrap();
            prop_assert!(var.to_bits() == want_var.to_bits() || (var.is_nan() && want_var.is_nan()));
            let std = b.std(ddof).compute_with(s.clone()).unwrap();
            prop_assert!(std.to_bits() == want_var.sqrt().to_bits() || (std.is_nan() && want_var.is_nan()));
        }
    }

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
    fn string_methods_match_std(lines in proptest::collection::vec("[ a-zA-Z,.!?'\x1c\x1f-]{0,30}", 0..40), parts in 1usize..6) {
        let b = db::from_sequence(lines.clone(), parts).unwrap();
        let words: Vec<String> = words_of(&lines);
        prop_assert_eq!(b.str().split().flatten().compute().unwrap(), words.clone());
        let clean: Vec<String> = lines.iter().map(|l| l.chars().filter(|c| !c.is_ascii_punctuation()).collect::<String>().to_lowercase()).collect();
        prop_assert_eq!(b.str().strip_punctuation().str().lower().compute().unwrap(), clean);
        prop_assert_eq!(b.str().upper().compute().unwrap(), lines.iter().map(|l| l.to_uppercase()).collect::<Vec<_>>());
        prop_assert_eq!(b.str().strip().compute().unwrap(), lines.iter().map(|l| l.trim_matches(python_space).to_owned()).collect::<Vec<_>>());
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
        assert_eq!(b.compute_with(s.clone()).unwrap(), want);
        // the same files read as columns (blocks, CRLF, gzip)
        assert_eq!(b.count().compute_with(s.clone()).unwrap(), 9);
        assert_eq!(
            b.str().upper().compute_with(s.clone()).unwrap(),
            want.map(str::to_uppercase)
        );
        let words = b.str().split().flatten();
        assert_eq!(
            words.compute_with(s.clone()).unwrap(),
            ["one", "two", "three", "four", "last", "five", "six"]
        );
        assert_eq!(words.count().compute_with(s.clone()).unwrap(), 7);
        assert_eq!(
            b.distinct().compute_with(s).unwrap(),
            ["one", "two", "three", "four", "", "last", "five", "six"]
        );
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
    assert_eq!(e.to_string(), "topk: topk(0): k must be at least 1");
    assert!(
        matches!(e, Error::InvalidArgument { what: "topk", .. }),
        "{e:?}"
    );
    let e = b.repartition(0).compute().unwrap_err();
    assert!(e.to_string().contains("repartition(0)"), "{e}");
    assert!(e.key().is_none(), "{e:?}");
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

/// Whitespace as Python's `str.isspace()`: Unicode's, and the separators `\x1c` to `\x1f`.
fn python_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `line.split()`.
fn python_split(line: &str) -> Vec<String> {
    line.split(python_space)
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Python's `str.split()` words of every line.
fn words_of(lines: &[String]) -> Vec<String> {
    lines.iter().flat_map(|l| python_split(l)).collect()
}

fn clean(line: &str) -> String {
    line.chars()
        .filter(|c| !c.is_ascii_punctuation())
        .collect::<String>()
        .to_lowercase()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Text files read as columns (any block size, CRLF or LF, Unicode text and whitespace)
    /// against the same work done with plain iterators over the lines written.
    #[test]
    fn text_columns_match_plain_iterators(
        files in proptest::collection::vec(
            (proptest::collection::vec("[ a-zA-Z0-9éÉßΣς,.!?;'\u{a0}\u{3000}\u{2009}\t\x1c\x1f_-]{0,40}", 0..30), any::<bool>(), any::<bool>()),
            1..4),
        blocksize in prop_oneof![Just(1u64), Just(7), Just(64), Just(1000), Just(1 << 20)],
    ) {
        let d = scratch(&format!("prop-{blocksize}"));
        let mut lines: Vec<String> = Vec::new();
        for (i, (ls, crlf, last_newline)) in files.iter().enumerate() {
            let eol = if *crlf { "\r\n" } else { "\n" };
            let mut text = ls.join(eol);
            if *last_newline && !ls.is_empty() {
                text.push_str(eol);
            }
            // an empty last line without a line break is no line at all
            let mut items = ls.clone();
            if !last_newline && items.last().is_some_and(String::is_empty) {
                items.pop();
            }
            lines.extend(items);
            std::fs::write(d.join(format!("f{i}.txt")), text).unwrap();
        }
        let pattern = format!("{}/*.txt", d.display());
        let b = db::read_text_with(&pattern, db::TextOptions::default().blocksize(blocksize)).unwrap();
        let words = words_of(&lines);
        let cleaned: Vec<String> = lines.iter().map(|l| clean(l)).collect();
        let clean_words = words_of(&cleaned);
        for s in schedulers() {
            prop_assert_eq!(b.compute_with(s.clone()).unwrap(), lines.clone());
            prop_assert_eq!(b.count().compute_with(s.clone()).unwrap(), lines.len() as u64);
            let w = b.str().split().flatten();
            prop_assert_eq!(w.compute_with(s.clone()).unwrap(), words.clone());
            prop_assert_eq!(w.count().compute_with(s.clone()).unwrap(), words.len() as u64);
            prop_assert_eq!(w.frequencies().compute_with(s.clone()).unwrap(), freqs(&words));
            prop_assert_eq!(
                w.frequencies().topk(4, |(_, n)| *n).compute_with(s.clone()).unwrap(),
                topk(&freqs(&words), 4, |(_, n)| *n)
            );
            // a key that is not the count, with ties among many groups of keys
            let by_length = |(w, _): &(String, u64)| w.len();
            prop_assert_eq!(
                w.frequencies().topk(7, by_length).compute_with(s.clone()).unwrap(),
                topk(&freqs(&words), 7, by_length)
            );
            // and the same counts after a step that keeps them whole
            prop_assert_eq!(
                w.frequencies().filter(|_| true).topk(3, |(_, n)| *n).compute_with(s.clone()).unwrap(),
                topk(&freqs(&words), 3, |(_, n)| *n)
            );
            let mut seen = std::collections::HashSet::new();
            let distinct: Vec<String> = words.iter().filter(|x| seen.insert(*x)).cloned().collect();
            prop_assert_eq!(w.distinct().compute_with(s.clone()).unwrap(), distinct);
            let c = b.str().strip_punctuation().str().lower();
            prop_assert_eq!(c.compute_with(s.clone()).unwrap(), cleaned.clone());
            let cw = c.str().split().flatten();
            prop_assert_eq!(
                cw.frequencies().topk(5, |(_, n)| *n).compute_with(s.clone()).unwrap(),
                topk(&freqs(&clean_words), 5, |(_, n)| *n)
            );
            prop_assert_eq!(b.frequencies().compute_with(s.clone()).unwrap(), freqs(&lines));
            let split: Vec<Vec<String>> = lines.iter().map(|l| python_split(l)).collect();
            prop_assert_eq!(b.str().split().compute_with(s.clone()).unwrap(), split);
            prop_assert_eq!(b.str().upper().compute_with(s.clone()).unwrap(), lines.iter().map(|l| l.to_uppercase()).collect::<Vec<_>>());
            // user code on items after column steps
            let lens: Vec<usize> = words.iter().map(|w| w.len()).collect();
            prop_assert_eq!(w.map(|x| x.len()).compute_with(s.clone()).unwrap(), lens);
            // words lowered after splitting, and counted
            let lw: Vec<String> = words.iter().map(|x| x.to_lowercase()).collect();
            prop_assert_eq!(w.str().lower().frequencies().compute_with(s.clone()).unwrap(), freqs(&lw));
        }
        prop_assert_eq!(b.take(3).unwrap(), lines.iter().take(3).cloned().collect::<Vec<_>>());
        let out = b.str().split().flatten().to_textfiles(&format!("{}/out/*.txt", d.display())).unwrap();
        let mut written = String::new();
        for f in out {
            written.push_str(&std::fs::read_to_string(f).unwrap());
        }
        prop_assert_eq!(written, words.iter().map(|w| format!("{w}\n")).collect::<String>());
        std::fs::remove_dir_all(&d).unwrap();
    }
}

#[test]
fn default_blocks_keep_workers_busy_and_lines_whole() {
    let d = scratch("default-blocks");
    // one file larger than the default block: several partitions, every line once
    let line = "a line of text that repeats, with words\n";
    let n = (db::DEFAULT_BLOCKSIZE as usize * 5 / 2) / line.len() + 3;
    std::fs::write(d.join("big.txt"), line.repeat(n)).unwrap();
    let b = db::read_text(d.join("big.txt").to_str().unwrap()).unwrap();
    assert_eq!(b.npartitions(), 3);
    assert_eq!(b.count().compute().unwrap(), n as u64);
    let whole = db::read_text_with(
        d.join("big.txt").to_str().unwrap(),
        db::TextOptions::default().whole_files(),
    )
    .unwrap();
    assert_eq!(whole.npartitions(), 1);
    let top = b.str().split().flatten().frequencies().topk(1, |(_, n)| *n);
    assert_eq!(top.compute().unwrap(), vec![("a".to_string(), n as u64)]);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn invalid_utf8_in_a_column_names_file_and_line() {
    let d = scratch("utf8-col");
    let path = d.join("bad.txt");
    std::fs::write(&path, b"fine\nalso fine\nbad \xff byte\nok\n").unwrap();
    for bs in [4, 10, 1 << 20] {
        let b = db::read_text_with(
            path.to_str().unwrap(),
            db::TextOptions::default().blocksize(bs),
        )
        .unwrap();
        let err = b
            .str()
            .split()
            .flatten()
            .frequencies()
            .compute()
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("bad.txt:3") && text.contains("UTF-8"),
            "{bs}: {text}"
        );
        assert!(b.count().compute().is_err());
    }
    let lossy = db::read_text_with(
        path.to_str().unwrap(),
        db::TextOptions::default().lossy(true),
    )
    .unwrap();
    let words = lossy.str().split().flatten().compute().unwrap();
    assert_eq!(
        words,
        ["fine", "also", "fine", "bad", "\u{fffd}", "byte", "ok"]
    );
    std::fs::remove_dir_all(&d).unwrap();
}

proptest! {
    #[test]
    fn topk_takes_float_keys_with_nan_ranked_as_numpy(
        xs in proptest::collection::vec(prop_oneof![1 => Just(f64::NAN), 1 => Just(-0.0), 6 => (-20i32..20).prop_map(f64::from)], 0..50),
        parts in 1usize..6,
        k in 1usize..12,
    ) {
        let items: Vec<(usize, f64)> = xs.iter().copied().enumerate().collect();
        let b = db::from_sequence(items.clone(), parts).unwrap();
        let got = b.topk(k, |(_, x)| *x).compute().unwrap();
        // oracle: NumPy's order (NaN above every number), largest first, earlier first on ties
        let mut want = items.clone();
        want.sort_by(|a, b| match (a.1.is_nan(), b.1.is_nan()) {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => std::cmp::Ordering::Less,
            (false, true) => std::cmp::Ordering::Greater,
            _ => b.1.partial_cmp(&a.1).unwrap(),
        });
        want.truncate(k);
        let ids = |v: &[(usize, f64)]| v.iter().map(|p| p.0).collect::<Vec<_>>();
        prop_assert_eq!(ids(&got), ids(&want));
    }
}

#[test]
fn try_map_names_the_file_and_line_of_a_bad_item() {
    let dir = std::env::temp_dir().join(format!("dagr-bag-try-map-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut text = String::new();
    for i in 1..=100 {
        if i == 73 {
            text.push_str("{\"n\": oops}\n");
        } else {
            text.push_str(&format!("{{\"n\": {i}}}\n"));
        }
    }
    std::fs::write(dir.join("a.jsonl"), &text).unwrap();
    std::fs::write(dir.join("0.jsonl"), "{\"n\": 0}\n").unwrap();
    #[derive(serde::Deserialize, Clone)]
    struct Row {
        n: i64,
    }
    // small blocks: the bad line is in a block that starts in the middle of the file
    for blocksize in [64, 100, 1 << 20] {
        let b = db::read_text_with(
            &format!("{}/*.jsonl", dir.display()),
            db::TextOptions::default().blocksize(blocksize),
        )
        .unwrap();
        for s in schedulers() {
            let rows = b.try_map(|l| serde_json::from_str::<Row>(&l)).map(|r| r.n);
            let e = rows.sum().compute_with(s.clone()).unwrap_err().to_string();
            assert!(
                e.contains("a.jsonl, line 73: expected value"),
                "{blocksize}: {e}"
            );
            // through a kernel and a map that keep one item per line
            let lowered = b.str().lower().map(|l| l.replace(' ', ""));
            let e = lowered
                .try_map(|l| serde_json::from_str::<Row>(&l))
                .count()
                .compute_with(s.clone())
                .unwrap_err()
                .to_string();
            assert!(e.contains("a.jsonl, line 73"), "{e}");
        }
    }
    let ok = db::from_sequence(vec!["1", "2", "x"], 2).unwrap();
    let e = ok
        .try_map(|s| s.parse::<i64>())
        .sum()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(e.contains("item 0 of partition 1: invalid digit"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Partitions as `from_sequence` cuts them (Dask's rule), for oracles that depend on them.
fn chunks_of<T: Clone>(xs: &[T], parts: usize) -> Vec<Vec<T>> {
    if xs.is_empty() {
        return vec![Vec::new()];
    }
    xs.chunks(xs.len().div_ceil(parts))
        .map(<[T]>::to_vec)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 60, ..ProptestConfig::default() })]

    /// pluck, product, join, accumulate, frequencies_sorted and the comparator and
    /// borrowed-key topk against plain iterators, on every scheduler.
    #[test]
    fn item_and_pair_operators_match_plain_iterators(
        xs in proptest::collection::vec((-20i64..20, "[a-d]{0,3}"), 0..60),
        ys in proptest::collection::vec(-20i64..20, 0..12),
        parts in 1usize..7,
        other_parts in 1usize..4,
    ) {
        let b = db::from_sequence(xs.clone(), parts).unwrap();
        let c = db::from_sequence(ys.clone(), other_parts).unwrap();
        let firsts: Vec<i64> = xs.iter().map(|x| x.0).collect();
        let n = b.npartitions();
        for s in schedulers() {
            prop_assert_eq!(b.pluck::<0>().compute_with(s.clone()).unwrap(), firsts.clone());
            prop_assert_eq!(b.pluck::<1>().compute_with(s.clone()).unwrap(), xs.iter().map(|x| x.1.clone()).collect::<Vec<_>>());
            let as_vecs = b.map(|(a, w)| vec![a, w.len() as i64, -a]);
            prop_assert_eq!(as_vecs.pluck::<2>().compute_with(s.clone()).unwrap(), firsts.iter().map(|a| -a).collect::<Vec<_>>());

            // product: partition pairs (i, j), this bag's item varying slowest within each
            let p = b.pluck::<0>().product(&c);
            prop_assert_eq!(p.npartitions(), n * c.npartitions());
            let mut want = Vec::new();
            for pi in chunks_of(&firsts, parts) {
                for pj in chunks_of(&ys, other_parts) {
                    for x in &pi {
                        for y in &pj {
                            want.push((*x, *y));
                        }
                    }
                }
            }
            prop_assert_eq!(p.compute_with(s.clone()).unwrap(), want);

            // join: for each item in order, the matching items of the other in their order
            let j = b.join(ys.clone(), |x| x.0.rem_euclid(5), |y| y.rem_euclid(5));
            let want: Vec<(i64, (i64, String))> = xs.iter()
                .flat_map(|x| ys.iter().filter(|y| y.rem_euclid(5) == x.0.rem_euclid(5)).map(move |y| (*y, x.clone())))
                .collect();
            prop_assert_eq!(j.compute_with(s.clone()).unwrap(), want);

            // accumulate: itertools.accumulate over the whole sequence
            let mut run = 7i64;
            let mut want = vec![run];
            for x in &firsts {
                run = run * 3 % 1_000_003 + x;
                want.push(run);
            }
            let acc = b.pluck::<0>().accumulate(|a, x| a * 3 % 1_000_003 + x, 7);
            prop_assert_eq!(acc.npartitions(), n);
            prop_assert_eq!(acc.compute_with(s.clone()).unwrap(), want);
            let want: Vec<i64> = firsts.iter().scan(None, |st: &mut Option<i64>, &x| {
                let v = st.map_or(x, |a| a.max(x) - 1);
                *st = Some(v);
                Some(v)
            }).collect();
            prop_assert_eq!(b.pluck::<0>().accumulate_from_first(|a, x| *a.max(&x) - 1).compute_with(s.clone()).unwrap(), want);

            // frequencies(sort=True): stable sort of the first-appearance list by count, descending
            let mut want = freqs(&firsts);
            want.sort_by_key(|e| std::cmp::Reverse(e.1));
            prop_assert_eq!(b.pluck::<0>().frequencies_sorted().compute_with(s.clone()).unwrap(), want);

            for k in [1, 4, 100] {
                // by word (a borrowed key), ties in order of appearance
                let mut want: Vec<(usize, (i64, String))> = xs.iter().cloned().enumerate().collect();
                want.sort_by(|a, b| b.1 .1.cmp(&a.1 .1).then(a.0.cmp(&b.0)));
                let want: Vec<(i64, String)> = want.into_iter().take(k).map(|(_, x)| x).collect();
                prop_assert_eq!(b.topk_by_ref(k, |x| x.1.as_str()).compute_with(s.clone()).unwrap(), want);
                // by a comparator of two parts
                let cmp = |x: &(i64, String), y: &(i64, String)| x.1.len().cmp(&y.1.len()).then(y.0.cmp(&x.0));
                let mut want: Vec<(usize, (i64, String))> = xs.iter().cloned().enumerate().collect();
                want.sort_by(|a, b| cmp(&b.1, &a.1).then(a.0.cmp(&b.0)));
                let want: Vec<(i64, String)> = want.into_iter().take(k).map(|(_, x)| x).collect();
                prop_assert_eq!(b.topk_by(k, cmp).compute_with(s.clone()).unwrap(), want);
            }
        }
    }

    /// random_sample: an ordered subsequence that depends on the seed and the partitioning
    /// only (the same on every scheduler and every run), all or nothing at 1 and 0.
    #[test]
    fn random_sample_is_seeded_and_scheduler_free(n in 0i64..400, parts in 1usize..8, p in 0.0f64..1.0, seed in any::<u64>()) {
        let b = db::from_sequence(0..n, parts).unwrap();
        let first = b.random_sample(p, seed).compute_with(Scheduler::sync()).unwrap();
        prop_assert!(first.windows(2).all(|w| w[0] < w[1]));
        prop_assert!(first.iter().all(|x| (0..n).contains(x)));
        for s in schedulers() {
            prop_assert_eq!(b.random_sample(p, seed).compute_with(s.clone()).unwrap(), first.clone());
            prop_assert_eq!(b.random_sample(1.0, seed).compute_with(s.clone()).unwrap(), (0..n).collect::<Vec<_>>());
            prop_assert_eq!(b.random_sample(0.0, seed).compute_with(s.clone()).unwrap(), Vec::<i64>::new());
        }
        // a pipeline after the sample sees the same items
        prop_assert_eq!(b.random_sample(p, seed).map(|x| x * 2).compute().unwrap(), first.iter().map(|x| x * 2).collect::<Vec<_>>());
    }
}

#[test]
fn random_sample_keeps_about_p_and_seeds_differ() {
    let b = db::from_sequence(0..100_000i64, 8).unwrap();
    let a = b.random_sample(0.3, 1).count().compute().unwrap() as f64;
    // binomial(100000, 0.3): standard deviation about 145; eight of them
    assert!((a - 30_000.0).abs() < 8.0 * 145.0, "{a}");
    let s1 = b.random_sample(0.3, 1).compute().unwrap();
    let s2 = b.random_sample(0.3, 2).compute().unwrap();
    assert_ne!(s1, s2);
    for bad in [-0.1, 1.5, f64::NAN] {
        let err = b.random_sample(bad, 1).compute().unwrap_err().to_string();
        assert!(
            err.contains("random_sample") && err.contains("[0, 1]"),
            "{err}"
        );
    }
}

#[test]
fn pluck_and_accumulate_edges() {
    // an item too short names itself, as Dask's IndexError
    let b = db::from_sequence(vec![vec![1, 2], vec![3]], 2).unwrap();
    let err = b.pluck::<1>().compute().unwrap_err().to_string();
    assert!(
        err.contains("item 0 of partition 1") && err.contains("1 elements"),
        "{err}"
    );
    // arrays and tuples of six
    let arr = db::from_sequence(vec![[1, 2, 3], [4, 5, 6]], 2).unwrap();
    assert_eq!(arr.pluck::<2>().compute().unwrap(), vec![3, 6]);
    let six = db::from_sequence(vec![(1, 'a', 2.5, "s", 3u8, true)], 1).unwrap();
    assert_eq!(six.pluck::<5>().compute().unwrap(), vec![true]);
    // empty partitions before and between: the carry goes through them
    let parts = vec![
        dagr::value(Vec::<i64>::new()),
        dagr::value(vec![1, 2]),
        dagr::value(vec![]),
        dagr::value(vec![3]),
    ];
    let b = db::from_delayed(parts).unwrap();
    for s in schedulers() {
        assert_eq!(
            b.accumulate_from_first(|a, x| a + x)
                .compute_with(s.clone())
                .unwrap(),
            vec![1, 3, 6]
        );
        assert_eq!(
            b.accumulate(|a, x| a + x, 10)
                .compute_with(s.clone())
                .unwrap(),
            vec![10, 11, 13, 16]
        );
        let empty = db::from_sequence(Vec::<i64>::new(), 3).unwrap();
        assert_eq!(
            empty
                .accumulate(|a, x| a + x, 5)
                .compute_with(s.clone())
                .unwrap(),
            vec![5]
        );
        assert!(empty
            .accumulate_from_first(|a, x| a + x)
            .compute_with(s)
            .unwrap()
            .is_empty());
    }
    let b = db::from_sequence(0..4, 2).unwrap();
    assert!(b.topk_by(0, |a, b| a.cmp(b)).compute().is_err());
}

#[test]
fn text_frequencies_sorted_and_topk_by_ref() {
    let b = db::from_sequence(
        vec!["b a b".to_string(), "c a a".to_string(), "d".to_string()],
        2,
    )
    .unwrap();
    let words = b.str().split().flatten();
    for s in schedulers() {
        let sorted = words.frequencies_sorted().compute_with(s.clone()).unwrap();
        let want: Vec<(String, u64)> = vec![
            ("a".into(), 3),
            ("b".into(), 2),
            ("c".into(), 1),
            ("d".into(), 1),
        ];
        assert_eq!(sorted, want);
        let last = words
            .frequencies()
            .topk_by_ref(2, |(w, _)| w.as_str())
            .compute_with(s)
            .unwrap();
        assert_eq!(last, vec![("d".to_string(), 1), ("c".to_string(), 1)]);
    }
}

/// Counts the started tasks whose key starts with a prefix.
struct Started(&'static str, std::sync::atomic::AtomicUsize);

impl dagr::runtime::Observer for Started {
    fn on_event(&self, e: &dagr::runtime::Event<'_>) {
        if e.kind == dagr::runtime::EventKind::Started && e.key.prefix().starts_with(self.0) {
            self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

#[test]
fn outputs_of_one_compute_read_a_shared_bag_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let d = scratch("shared");
    for f in 0..3 {
        let text: String = (0..40)
            .map(|i| format!("{} w{}\n", f * 40 + i, i % 5))
            .collect();
        std::fs::write(d.join(format!("p{f}.txt")), text).unwrap();
    }
    for s in schedulers() {
        let parsed = Arc::new(AtomicUsize::new(0));
        let counter = parsed.clone();
        let rows = db::read_text(&format!("{}/*.txt", d.display()))
            .unwrap()
            .map(move |l| {
                counter.fetch_add(1, Ordering::Relaxed);
                let (n, w) = l.split_once(' ').unwrap();
                (n.parse::<i64>().unwrap(), w.to_string())
            });
        let nums = rows.pluck::<0>();
        let (total, count, words, big) = (
            nums.sum(),
            rows.count(),
            rows.pluck::<1>().frequencies(),
            nums.filter(|n| *n > 100),
        );
        // computed alone, each output parses every line inside its own tasks
        let alone = (
            total.compute_with(s.clone()).unwrap(),
            count.compute_with(s.clone()).unwrap(),
            words.compute_with(s.clone()).unwrap(),
            big.compute_with(s.clone()).unwrap(),
        );
        assert_eq!(parsed.swap(0, Ordering::Relaxed), 4 * 120);
        // together, each line is parsed once: the parsed partitions are tasks the four read
        let mapped = Arc::new(Started("map", Default::default()));
        let together = dagr::compute_with(
            (&total, &count, &words, &big),
            s.clone().observe(mapped.clone()),
        )
        .unwrap();
        assert_eq!(together, alone);
        assert_eq!(parsed.swap(0, Ordering::Relaxed), 120);
        assert_eq!(mapped.1.load(Ordering::Relaxed), 3);
        // a step read by one output stays fused into its tasks
        let mapped = Arc::new(Started("map", Default::default()));
        total
            .compute_with(s.clone().observe(mapped.clone()))
            .unwrap();
        assert_eq!(mapped.1.load(Ordering::Relaxed), 0);
        assert_eq!(parsed.swap(0, Ordering::Relaxed), 120);
    }
    // the picture of the compute shows the shared partitions as tasks of their own
    let rows = db::from_sequence(0..100, 4).unwrap().map(|x| x * 2);
    let (sum, count) = (rows.sum(), rows.count());
    let together = dagr::to_dot((&sum, &count));
    assert!(together.contains("label=\"map"), "{together}");
    assert!(!dagr::to_dot(&sum).contains("label=\"map"));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn accumulate_shares_its_partitions_with_other_outputs() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let xs: Vec<i64> = (0..57).map(|i| (i * 37) % 23 - 11).collect();
    // itertools.accumulate over the mapped values, from 3
    let mapped: Vec<i64> = xs.iter().map(|x| x * 2).collect();
    let mut running = vec![3];
    for x in &mapped {
        running.push(running.last().unwrap() + x);
    }
    for parts in [1, 4, 7] {
        for s in schedulers() {
            let made = Arc::new(AtomicUsize::new(0));
            let counter = made.clone();
            let m = db::from_sequence(xs.clone(), parts).unwrap().map(move |x| {
                counter.fetch_add(1, Ordering::Relaxed);
                x * 2
            });
            let (acc, sum, top) = (
                m.accumulate(|a, x| a + x, 3),
                m.sum(),
                m.accumulate_from_first(|a, x| *a.max(&x)).topk(1, |x| *x),
            );
            let alone = (
                acc.compute_with(s.clone()).unwrap(),
                sum.compute_with(s.clone()).unwrap(),
                top.compute_with(s.clone()).unwrap(),
            );
            assert_eq!(made.swap(0, Ordering::Relaxed), 3 * xs.len());
            let max = *mapped.iter().max().unwrap();
            assert_eq!(alone, (running.clone(), mapped.iter().sum(), vec![max]));
            let together = dagr::compute_with((&acc, &sum, &top), s.clone()).unwrap();
            assert_eq!(together, alone);
            assert_eq!(made.swap(0, Ordering::Relaxed), xs.len());
        }
    }
}

#[test]
fn outputs_of_one_compute_read_shared_text_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let d = scratch("shared-text");
    let mut all = String::new();
    for f in 0..3 {
        let text: String = (0..30)
            .map(|i| format!("Word{} w{} {}\n", i % 4, (i * 7 + f) % 5, f))
            .collect();
        all.push_str(&text);
        std::fs::write(d.join(format!("p{f}.txt")), text).unwrap();
    }
    // the oracle: plain iterators over the files' text
    let words: Vec<String> = all.split_whitespace().map(str::to_lowercase).collect();
    let mut distinct: Vec<String> = Vec::new();
    for w in &words {
        if !distinct.contains(w) {
            distinct.push(w.clone());
        }
    }
    let want_freqs = freqs(&words);
    for s in schedulers() {
        let text = db::read_text(&format!("{}/*.txt", d.display())).unwrap();
        let lowered = text.str().lower();
        let words_bag = lowered.str().split().flatten();
        let (count, frequencies, unique, n_words) = (
            text.count(),
            words_bag.frequencies(),
            words_bag.distinct(),
            words_bag.count(),
        );
        // alone, each output reads the files inside its own tasks
        let reads = Arc::new(Started("read-text-column", Default::default()));
        let alone = (
            count.compute_with(s.clone()).unwrap(),
            frequencies.compute_with(s.clone()).unwrap(),
            unique.compute_with(s.clone()).unwrap(),
            n_words
                .compute_with(s.clone().observe(reads.clone()))
                .unwrap(),
        );
        assert_eq!(reads.1.load(Ordering::Relaxed), 0);
        assert_eq!(
            alone,
            (90, want_freqs.clone(), distinct.clone(), words.len() as u64)
        );
        // together, each file is read once, by a task of its own the outputs read
        let reads = Arc::new(Started("read-text-column", Default::default()));
        let together = dagr::compute_with(
            (&count, &frequencies, &unique, &n_words),
            s.clone().observe(reads.clone()),
        )
        .unwrap();
        assert_eq!(together, alone);
        assert_eq!(reads.1.load(Ordering::Relaxed), 3);
        // the words, read by three outputs, are made once per file too
        let words_made = Arc::new(Started("flatten", Default::default()));
        dagr::compute_with(
            (&frequencies, &unique, &n_words),
            s.clone().observe(words_made.clone()),
        )
        .unwrap();
        assert_eq!(words_made.1.load(Ordering::Relaxed), 3);

        // items gathered into a column (not read from files) are gathered once as well
        let gathered = Arc::new(AtomicUsize::new(0));
        let counter = gathered.clone();
        let lines: Vec<String> = all.lines().map(str::to_owned).collect();
        let items = db::from_sequence(lines, 3).unwrap().map(move |l| {
            counter.fetch_add(1, Ordering::Relaxed);
            l
        });
        let split = items.str().split().flatten();
        let (n, top) = (split.count(), split.frequencies().topk(2, |(_, n)| *n));
        let alone = (
            n.compute_with(s.clone()).unwrap(),
            top.compute_with(s.clone()).unwrap(),
        );
        assert_eq!(gathered.swap(0, Ordering::Relaxed), 2 * 90);
        assert_eq!(dagr::compute_with((&n, &top), s.clone()).unwrap(), alone);
        assert_eq!(gathered.swap(0, Ordering::Relaxed), 90);
    }
    // one output alone keeps the column inside its tasks: no task of its own in its picture
    let text = db::read_text(&format!("{}/*.txt", d.display())).unwrap();
    assert!(!dagr::to_dot(text.count()).contains("label=\"read-text-column"));
    let together = dagr::to_dot((&text.count(), &text.distinct()));
    assert!(together.contains("label=\"read-text-column"), "{together}");
    std::fs::remove_dir_all(&d).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    /// Outputs sharing steps of one bag, computed together (their shared partitions made
    /// once) give what each gives alone, on every scheduler.
    #[test]
    fn shared_steps_computed_together_equal_each_alone(xs in proptest::collection::vec(-30i64..30, 0..80), parts in 1usize..6, k in 1i64..5) {
        let b = db::from_sequence(xs.clone(), parts).unwrap();
        let m = b.map(move |x| x * k);
        let f = m.filter(|x| x % 2 == 0);
        let g = f.flat_map(|x| vec![x, x + 1]);
        let want = (
            xs.iter().map(|x| x * k).sum::<i64>(),
            xs.iter().map(|x| x * k).filter(|x| x % 2 == 0).count() as u64,
            xs.iter().map(|x| x * k).filter(|x| x % 2 == 0).flat_map(|x| [x, x + 1]).collect::<Vec<_>>(),
            freqs(&xs.iter().map(|x| x * k).filter(|x| x % 2 == 0).collect::<Vec<_>>()),
        );
        for s in schedulers() {
            let got = dagr::compute_with((&m.sum(), &f.count(), &g, &f.frequencies()), s.clone()).unwrap();
            prop_assert_eq!(&got, &want);
            let again = dagr::compute_with((&g, &g.sum(), &m.max(), &b), s.clone());
            match xs.iter().map(|x| x * k).max() {
                Some(mx) => {
                    let (items, sum, max, all) = again.unwrap();
                    prop_assert_eq!(&items, &want.2);
                    prop_assert_eq!(sum, want.2.iter().sum::<i64>());
                    prop_assert_eq!(max, mx);
                    prop_assert_eq!(&all, &xs);
                }
                None => prop_assert!(again.is_err()),
            }
        }
    }
}

/// Partitions of several megabytes are counted a piece at a time (the counts hold one
/// piece of the partition, not all of it): `frequencies`, `distinct` and `count` over
/// them, through the `.str()` kernels, equal the counts of the lines read with plain
/// iterators, on every scheduler, with lines crossing the pieces' and blocks' boundaries.
#[test]
fn large_partitions_counted_in_pieces_equal_plain_counts() {
    let dir = scratch("pieces");
    let mut lines = Vec::new();
    let mut bytes = 0;
    let mut i = 0u64;
    while bytes < 9 << 19 {
        // words from a vocabulary of a few thousand, some lines long
        let n = if i.is_multiple_of(997) {
            20_000
        } else {
            1 + i % 13
        };
        let line = (0..n)
            .map(|k| format!("W{}.", (i * 31 + k * 7) % 4099))
            .collect::<Vec<_>>()
            .join(" ");
        bytes += line.len() + 1;
        lines.push(line);
        i += 1;
    }
    std::fs::write(dir.join("big.txt"), lines.join("\n") + "\n").unwrap();
    let words = words_of(&lines);
    let cleaned: Vec<String> = lines.iter().map(|l| clean(l)).collect();
    let clean_words = words_of(&cleaned);
    let pattern = dir.join("big.txt").to_string_lossy().into_owned();
    for opts in [
        db::TextOptions::default(),
        db::TextOptions::default().blocksize(9 << 18),
    ] {
        let text = db::read_text_with(&pattern, opts).unwrap();
        let split = text.str().split().flatten();
        let lowered = text.str().strip_punctuation().str().lower();
        for s in [Scheduler::sync(), Scheduler::threads(2)] {
            assert_eq!(
                split.frequencies().compute_with(s.clone()).unwrap(),
                freqs(&words)
            );
            assert_eq!(
                lowered
                    .str()
                    .split()
                    .flatten()
                    .frequencies()
                    .compute_with(s.clone())
                    .unwrap(),
                freqs(&clean_words)
            );
            assert_eq!(
                text.count().compute_with(s.clone()).unwrap(),
                lines.len() as u64
            );
            assert_eq!(
                split.count().compute_with(s.clone()).unwrap(),
                words.len() as u64
            );
            let distinct: Vec<String> = freqs(&lines).into_iter().map(|(l, _)| l).collect();
            assert_eq!(text.distinct().compute_with(s.clone()).unwrap(), distinct);
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
