//! `set_index`, joins on the index and the staged shuffle, against plain iterators over the
//! same rows (a stable sort, nested loops in pandas' orders) on every scheduler.

use dagr::bag as db;
use dagr::dataframe::{self as dd, Agg, Column, Scalar, ShuffleMethod, Table};
use dagr::prelude::*;
use proptest::prelude::*;

fn schedulers() -> [Scheduler; 2] {
    [Scheduler::sync(), Scheduler::threads(2)]
}

/// A key as the oracle compares it: `None` is null (NaN), ordered last.
type K = Option<i64>;

fn key_order(a: &K, b: &K) -> std::cmp::Ordering {
    match (a, b) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, _) => std::cmp::Ordering::Greater,
        (_, None) => std::cmp::Ordering::Less,
        (Some(x), Some(y)) => x.cmp(y),
    }
}

fn stable_sorted<T: Clone>(rows: &[(K, T)]) -> Vec<(K, T)> {
    let mut v = rows.to_vec();
    v.sort_by(|a, b| key_order(&a.0, &b.0));
    v
}

fn float_key(k: &K) -> f64 {
    k.map_or(f64::NAN, |k| k as f64)
}

fn keys(t: &Table, c: &str) -> Vec<K> {
    let c = t.column(c).unwrap();
    (0..c.len())
        .map(|i| c.f64(i).filter(|x| !x.is_nan()).map(|x| x as i64))
        .collect()
}

/// A joined row: key, left value, right value.
type Joined = (K, Option<i64>, Option<String>);

/// pandas' `join` of two frames indexed (and so sorted, nulls last) by their keys, in
/// pandas' row order.
fn join_oracle(l: &[(K, i64)], r: &[(K, String)], how: dd::How) -> Vec<Joined> {
    let (l, r) = (stable_sorted(l), stable_sorted(r));
    let mut out = Vec::new();
    match how {
        dd::How::Right => {
            for (rk, b) in &r {
                let hits: Vec<_> = l.iter().filter(|(lk, _)| lk == rk).collect();
                for (_, a) in &hits {
                    out.push((*rk, Some(*a), Some(b.clone())));
                }
                if hits.is_empty() {
                    out.push((*rk, None, Some(b.clone())));
                }
            }
        }
        _ => {
            for (lk, a) in &l {
                let hits: Vec<_> = r.iter().filter(|(rk, _)| lk == rk).collect();
                for (_, b) in &hits {
                    out.push((*lk, Some(*a), Some(b.clone())));
                }
                if hits.is_empty() && how != dd::How::Inner {
                    out.push((*lk, Some(*a), None));
                }
            }
            if how == dd::How::Outer {
                for (rk, b) in &r {
                    if !l.iter().any(|(lk, _)| lk == rk) {
                        out.push((*rk, None, Some(b.clone())));
                    }
                }
                out.sort_by(|a, b| key_order(&a.0, &b.0));
            }
        }
    }
    out
}

fn joined_rows(t: &Table) -> Vec<Joined> {
    let a = t.column("a").unwrap();
    let b = t.column("b").unwrap();
    keys(t, "k")
        .into_iter()
        .enumerate()
        .map(|(i, k)| {
            (
                k,
                a.f64(i).filter(|x| !x.is_nan()).map(|x| x as i64),
                b.text(i),
            )
        })
        .collect()
}

fn left_frame(l: &[(K, i64)], parts: usize) -> dd::DataFrame {
    let rows: Vec<(i64, f64)> = l.iter().map(|(k, a)| (*a, float_key(k))).collect();
    db::from_sequence(rows, parts)
        .unwrap()
        .to_dataframe(&["a", "k"])
        .unwrap()
}

fn right_frame(r: &[(K, String)], parts: usize) -> dd::DataFrame {
    let rows: Vec<(f64, String)> = r.iter().map(|(k, b)| (float_key(k), b.clone())).collect();
    db::from_sequence(rows, parts)
        .unwrap()
        .to_dataframe(&["k", "b"])
        .unwrap()
}

/// Each partition's keys lie in its range of the divisions (null keys in the last).
fn check_divisions(df: &dd::DataFrame, s: Scheduler) {
    let d = df.divisions().expect("known divisions");
    assert_eq!(d.len(), df.npartitions() + 1);
    let k = df.index_name().unwrap().to_owned();
    let bound = |x: &Scalar| match x {
        Scalar::F64(v) => *v,
        Scalar::I64(v) => *v as f64,
        other => panic!("{other:?}"),
    };
    let parts = dagr::compute_with(&df.to_delayed(), s).unwrap();
    for (i, t) in parts.iter().enumerate() {
        let (lo, hi) = (bound(&d[i]), bound(&d[i + 1]));
        let last = i + 1 == parts.len();
        for x in keys(t, &k) {
            match x {
                None => assert!(last, "a null key outside the last partition"),
                Some(x) => {
                    let x = x as f64;
                    assert!(
                        lo <= x && (x < hi || (last && x <= hi)),
                        "{x} in [{lo}, {hi})"
                    );
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// set_index sorts stably by the key (nulls last) across partitions, each within its
    /// divisions; joins of indexed frames equal pandas' in pandas' row order, whether the
    /// two sides' divisions agree or not, and merge on the index agrees with them.
    #[test]
    fn set_index_and_join_equal_plain_iterators(
        l in proptest::collection::vec((proptest::option::weighted(0.9, 0i64..12), -50i64..50), 0..50),
        r in proptest::collection::vec((proptest::option::weighted(0.9, 0i64..12), "[a-z]{1,3}"), 0..50),
        lparts in 1usize..6,
        rparts in 1usize..5,
    ) {
        let left = left_frame(&l, lparts).set_index("k").unwrap();
        let right = right_frame(&r, rparts).set_index("k").unwrap();
        prop_assert_eq!(left.columns(), ["k", "a"]);
        prop_assert!(left.npartitions() <= lparts);
        let sorted = stable_sorted(&l);
        for s in schedulers() {
            let t = left.compute_with(s.clone()).unwrap();
            prop_assert_eq!(keys(&t, "k"), sorted.iter().map(|x| x.0).collect::<Vec<_>>());
            prop_assert_eq!(t.column("a").unwrap(), &Column::I64(sorted.iter().map(|x| x.1).collect()));
            if !l.iter().all(|x| x.0.is_none()) {
                check_divisions(&left, s.clone());
            }
        }
        for how in [dd::How::Inner, dd::How::Left, dd::How::Right, dd::How::Outer] {
            let want = join_oracle(&l, &r, how);
            let j = left.join(&right, how).unwrap();
            prop_assert_eq!(j.columns(), ["k", "a", "b"]);
            prop_assert_eq!(j.index_name(), Some("k"));
            let m = left.merge(&right, "k", how).unwrap();
            for s in schedulers() {
                prop_assert_eq!(&joined_rows(&j.compute_with(s.clone()).unwrap()), &want, "{:?}", how);
                if j.divisions().is_some() {
                    check_divisions(&j, s.clone());
                }
                let mut got = joined_rows(&m.compute_with(s.clone()).unwrap());
                let mut want = want.clone();
                got.sort();
                want.sort();
                prop_assert_eq!(got, want);
            }
        }
    }

    /// The two-level shuffle gives the partitions of the one-level shuffle, row for row,
    /// and every row lands with the others of its key.
    #[test]
    fn staged_shuffle_equals_one_level(
        rows in proptest::collection::vec((0i64..30, -100i64..100), 0..200),
        parts in 1usize..12,
        out in 1usize..40,
    ) {
        let df = db::from_sequence(rows.clone(), parts).unwrap().to_dataframe(&["k", "v"]).unwrap();
        let one = df.shuffle_with("k", out, ShuffleMethod::OneLevel).unwrap();
        let two = df.shuffle_with("k", out, ShuffleMethod::Staged).unwrap();
        prop_assert_eq!(two.npartitions(), out);
        let want = dagr::compute_with(&one.to_delayed(), Scheduler::sync()).unwrap();
        for s in schedulers() {
            let got = dagr::compute_with(&two.to_delayed(), s).unwrap();
            prop_assert_eq!(&got, &want);
        }
        // against plain iterators: every row once, a key in one partition, input order kept
        let mut home = std::collections::HashMap::new();
        let mut seen = Vec::new();
        for (p, t) in want.iter().enumerate() {
            let (k, v) = (t.column("k").unwrap(), t.column("v").unwrap());
            for i in 0..t.len() {
                let key = k.f64(i).unwrap() as i64;
                prop_assert_eq!(*home.entry(key).or_insert(p), p);
                seen.push((key, v.f64(i).unwrap() as i64));
            }
        }
        let mut all = rows.clone();
        all.sort();
        seen.sort();
        prop_assert_eq!(seen, all);
        for t in &want {
            let (k, v) = (t.column("k").unwrap(), t.column("v").unwrap());
            let got: Vec<(i64, i64)> = (0..t.len()).map(|i| (k.f64(i).unwrap() as i64, v.f64(i).unwrap() as i64)).collect();
            let keys: std::collections::HashSet<i64> = got.iter().map(|x| x.0).collect();
            let plain: Vec<(i64, i64)> = rows.iter().filter(|x| keys.contains(&x.0)).copied().collect();
            prop_assert_eq!(got, plain);
        }
    }
}

/// Tables equal value for value, floats bit for bit (NaN equal to NaN).
fn same_bits(a: &Table, b: &Table) -> bool {
    a.names() == b.names()
        && a.columns()
            .iter()
            .zip(b.columns())
            .all(|(x, y)| match (x, y) {
                (Column::F64(x), Column::F64(y)) => x
                    .iter()
                    .map(|v| v.to_bits())
                    .eq(y.iter().map(|v| v.to_bits())),
                _ => x == y,
            })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// groupby(..).agg(..) left to choose gives the single tree's groups and values, bit
    /// for bit, whether it finds few groups (all in the first partition) or many (buckets
    /// by hash, each group in one); on every scheduler.
    #[test]
    fn groupby_shuffles_many_groups_with_the_tree_results(
        rows in proptest::collection::vec((0i64..40, -100i64..100, -1e3f64..1e3), 0..120),
        parts in 1usize..40,
    ) {
        let df = db::from_sequence(rows.clone(), parts).unwrap().to_dataframe(&["k", "n", "x"]).unwrap();
        let aggs = [("n", Agg::Sum), ("x", Agg::Mean), ("x", Agg::Std), ("x", Agg::Count), ("n", Agg::Max)];
        let tree = df.groupby("k").split_out(1).agg(&aggs);
        let few = df.groupby("k").agg(&aggs);
        let many = df.groupby("k").shuffle_above(0).agg(&aggs);
        let buckets = if df.npartitions() > 1 { df.npartitions().div_ceil(15).max(2) } else { 1 };
        prop_assert_eq!(many.npartitions(), buckets);
        prop_assert_eq!(few.npartitions(), buckets);
        let want = tree.compute_with(Scheduler::sync()).unwrap();
        // the plain way: the distinct keys, sorted
        let mut distinct: Vec<i64> = rows.iter().map(|r| r.0).collect();
        distinct.sort();
        distinct.dedup();
        prop_assert_eq!(want.column("k").unwrap(), &Column::I64(distinct));
        for s in schedulers() {
            prop_assert!(same_bits(&few.compute_with(s.clone()).unwrap(), &want));
            let parts = dagr::compute_with(&many.to_delayed(), s.clone()).unwrap();
            for p in &parts {
                let k = keys(p, "k");
                prop_assert!(k.windows(2).all(|w| w[0] < w[1]));
            }
            let got = many.sort_values("k", true).compute_with(s.clone()).unwrap();
            prop_assert!(same_bits(&got, &want));
        }
    }
}

/// The frames of pandas' documentation-style example: keys with repeats and a null.
#[test]
fn join_matches_pandas_on_a_known_frame() {
    let l = left_frame(
        &[
            (Some(1), 1),
            (Some(1), 2),
            (Some(2), 3),
            (Some(4), 4),
            (None, 5),
            (Some(5), 6),
        ],
        2,
    )
    .set_index("k")
    .unwrap();
    let r = right_frame(
        &[
            (Some(1), "r1".into()),
            (Some(1), "r2".into()),
            (Some(3), "r3".into()),
            (Some(4), "r4".into()),
            (None, "r5".into()),
            (Some(6), "r6".into()),
        ],
        3,
    )
    .set_index("k")
    .unwrap();
    // pandas 3: L.join(R, how=...).reset_index()
    let t = l.join(&r, dd::How::Right).unwrap().compute().unwrap();
    assert_eq!(
        keys(&t, "k"),
        [
            Some(1),
            Some(1),
            Some(1),
            Some(1),
            Some(3),
            Some(4),
            Some(6),
            None
        ]
    );
    assert_eq!(
        keys(&t, "a"),
        [
            Some(1),
            Some(2),
            Some(1),
            Some(2),
            None,
            Some(4),
            None,
            Some(5)
        ]
    );
    let t = l.join(&r, dd::How::Outer).unwrap().compute().unwrap();
    assert_eq!(
        keys(&t, "k"),
        [
            Some(1),
            Some(1),
            Some(1),
            Some(1),
            Some(2),
            Some(3),
            Some(4),
            Some(5),
            Some(6),
            None
        ]
    );
    let b: Vec<_> = (0..t.len())
        .map(|i| t.column("b").unwrap().text(i))
        .collect();
    assert_eq!(
        b[..4],
        [
            Some("r1".into()),
            Some("r2".into()),
            Some("r1".into()),
            Some("r2".into())
        ]
    );
    assert_eq!(b[9].as_deref(), Some("r5"));
    // the same divisions: partition by partition
    let self_join = l.join_suffixed(&l, dd::How::Inner, "_l", "_r").unwrap();
    assert_eq!(self_join.columns(), ["k", "a_l", "a_r"]);
    assert_eq!(self_join.npartitions(), l.npartitions());
    assert_eq!(self_join.len().unwrap(), 4 + 1 + 1 + 1 + 1);
}

#[test]
fn join_errors_name_the_problem() {
    let plain = left_frame(&[(Some(1), 1)], 1);
    let indexed = plain.set_index("k").unwrap();
    let e = plain.join(&indexed, dd::How::Left).unwrap_err();
    assert!(e.to_string().contains("left frame has no index"), "{e}");
    let e = indexed.join(&indexed, dd::How::Left).unwrap_err();
    assert!(e.to_string().contains(r#"columns overlap"#), "{e}");
    assert!(e.to_string().contains(r#""a""#), "{e}");
    let e = plain.set_index("nope").unwrap_err();
    assert!(matches!(e, Error::UnknownColumn { .. }), "{e}");
    let s = db::from_sequence(vec![("x".to_string(), 1_i64)], 1)
        .unwrap()
        .to_dataframe(&["k", "b"])
        .unwrap()
        .set_index("k")
        .unwrap();
    let e = indexed.join(&s, dd::How::Inner).unwrap_err();
    assert!(e.to_string().contains("float64"), "{e}");
}

/// Index keys of every type: strings sort as text, nulls last; an empty frame and a frame
/// of null keys keep one partition.
#[test]
fn set_index_on_strings_and_empty_frames() {
    let rows = vec![
        (Some("pear".to_string()), 1_i64),
        (None, 2),
        (Some("apple".into()), 3),
        (Some("fig".into()), 4),
        (Some("apple".into()), 5),
    ];
    let df = db::from_sequence(rows, 3)
        .unwrap()
        .to_dataframe(&["s", "n"])
        .unwrap();
    let s = df.set_index("s").unwrap();
    for sch in schedulers() {
        let t = s.compute_with(sch).unwrap();
        let names: Vec<_> = (0..t.len())
            .map(|i| t.column("s").unwrap().text(i))
            .collect();
        assert_eq!(
            names,
            [
                Some("apple".into()),
                Some("apple".into()),
                Some("fig".into()),
                Some("pear".into()),
                None
            ]
        );
        assert_eq!(t.column("n").unwrap(), &Column::I64(vec![3, 5, 4, 1, 2]));
    }
    let d = s.divisions().unwrap();
    assert_eq!(d.first(), Some(&Scalar::Str("apple".into())));
    assert_eq!(d.last(), Some(&Scalar::Str("pear".into())));
    let empty = left_frame(&[], 2).set_index("k").unwrap();
    assert_eq!(empty.len().unwrap(), 0);
    assert_eq!(empty.divisions(), None);
    let nulls = left_frame(&[(None, 1), (None, 2)], 2)
        .set_index("k")
        .unwrap();
    assert_eq!(
        nulls.compute().unwrap().column("a").unwrap(),
        &Column::I64(vec![1, 2])
    );
}

/// A filtered or persisted indexed frame keeps its index and divisions and joins range by
/// range as before.
#[test]
fn filter_and_persist_keep_the_divisions() {
    let l: Vec<(K, i64)> = (0..40).map(|i| (Some((i * 7) % 13), i - 20)).collect();
    let r: Vec<(K, String)> = (0..30).map(|i| (Some(i % 17), format!("r{i}"))).collect();
    let left = left_frame(&l, 3).set_index("k").unwrap();
    let right = right_frame(&r, 2).set_index("k").unwrap();
    let kept = left.filter(dd::col("a").gt(0));
    assert_eq!(kept.divisions(), left.divisions());
    let held = right.persist().unwrap();
    assert_eq!(held.divisions(), right.divisions());
    let positive: Vec<(K, i64)> = l.iter().filter(|x| x.1 > 0).cloned().collect();
    for how in [dd::How::Left, dd::How::Outer] {
        let j = kept.join(&held, how).unwrap();
        assert!(j.divisions().is_some());
        for s in schedulers() {
            let got = joined_rows(&j.compute_with(s).unwrap());
            assert_eq!(got, join_oracle(&positive, &r, how), "{how:?}");
        }
    }
}

/// Steps that keep each partition's rows in order and the index column's values keep the
/// index and divisions (and still join range by range, equal to the oracle); steps that
/// replace or may fill the index column, or drop it, give a frame without an index.
#[test]
fn row_preserving_steps_keep_the_index_and_the_others_drop_it() {
    let l: Vec<(K, i64)> = (0..40).map(|i| (Some((i * 7) % 13), i - 20)).collect();
    let r: Vec<(K, String)> = (0..30).map(|i| (Some(i % 17), format!("r{i}"))).collect();
    let left = left_frame(&l, 3).set_index("k").unwrap(); // a float index
    let right = right_frame(&r, 2).set_index("k").unwrap();
    let divs = left.divisions();
    assert!(divs.is_some());
    let keeps = [
        ("with_column", left.with_column("c", dd::col("a") * 2)),
        ("replace another", left.with_column("a", dd::col("a") + 0)),
        ("select", left.select(&["a", "k"]).unwrap()),
        ("fillna_each", left.fillna_each(&[("a", 1.into())])),
        ("dropna", left.dropna()),
        ("dropna_subset", left.dropna_subset("a")),
    ];
    let want_keys = keys(&left.compute().unwrap(), "k");
    for (what, df) in &keeps {
        assert_eq!(df.index_name(), Some("k"), "{what}");
        assert_eq!(df.divisions(), divs, "{what}");
        for s in schedulers() {
            let t = df.compute_with(s.clone()).unwrap();
            assert_eq!(keys(&t, "k"), want_keys, "{what}");
            let j = df.join(&right, dd::How::Left).unwrap();
            assert!(j.divisions().is_some(), "{what}");
            assert_eq!(
                joined_rows(&j.compute_with(s).unwrap()),
                join_oracle(&l, &r, dd::How::Left),
                "{what}"
            );
        }
    }
    let drops = [
        ("replace the index", left.with_column("k", dd::col("a"))),
        ("select without it", left.select(&["a"]).unwrap()),
        ("fillna of a float index", left.fillna(5.0)),
        ("fillna_each of it", left.fillna_each(&[("k", 5.0.into())])),
        ("sort_values", left.sort_values("a", true)),
        ("nlargest", left.nlargest(3, "a")),
    ];
    for (what, df) in &drops {
        assert_eq!(df.index_name(), None, "{what}");
        assert_eq!(df.divisions(), None, "{what}");
    }
    // an integer index holds no null: fillna cannot change it
    let ints = db::from_sequence(
        (0..30_i64).map(|i| (i % 7, i as f64)).collect::<Vec<_>>(),
        3,
    )
    .unwrap()
    .to_dataframe(&["k", "x"])
    .unwrap()
    .set_index("k")
    .unwrap();
    let filled = ints.fillna(0.0);
    assert_eq!(filled.divisions(), ints.divisions());
    assert!(ints.divisions().is_some());
    for s in schedulers() {
        assert_eq!(
            filled.compute_with(s.clone()).unwrap(),
            ints.compute_with(s).unwrap()
        );
    }
}
