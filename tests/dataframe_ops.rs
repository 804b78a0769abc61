//! Dataframe expressions, group aggregations, sorting, selection of rows and missing values,
//! against plain iterators over the same rows and pandas' documented results.

use dagr::bag as db;
use dagr::dataframe::{self as dd, col, lit, Agg, Column, DType, Scalar, Table};
use dagr::prelude::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

type Row = (f64, i64, Option<String>, bool);

fn frame(rows: &[Row], parts: usize) -> dd::DataFrame {
    db::from_sequence(rows.to_vec(), parts)
        .unwrap()
        .to_dataframe(&["x", "n", "s", "b"])
        .unwrap()
}

fn sample_rows() -> Vec<Row> {
    vec![
        (1.5, 20, Some("Paris".into()), true),
        (f64::NAN, 31, Some("Lyon".into()), false),
        (-2.0, 20, None, true),
        (0.0, 45, Some("Nice".into()), false),
        (7.25, -3, Some("Paris".into()), true),
    ]
}

fn texts(t: &Table, c: &str) -> Vec<Option<String>> {
    let c = t.column(c).unwrap();
    (0..c.len()).map(|i| c.text(i)).collect()
}

#[test]
fn literals_of_every_type_and_pandas_missing_value_rules() {
    let df = frame(&sample_rows(), 2);
    let count = |e: dd::Expr| df.filter(e).len().unwrap();
    // strings: a missing string equals nothing and differs from everything
    assert_eq!(count(col("s").eq("Paris")), 2);
    assert_eq!(count(col("s").ne("Paris")), 3);
    assert_eq!(count(col("s").gt("M")), 3); // Nice, Paris, Paris
                                            // integers compare exactly, with integer literals
    assert_eq!(count(col("n").eq(20)), 2);
    assert_eq!(count(col("n").between(20, 31)), 3);
    assert_eq!(count(col("n").gt(i64::MAX - 1)), 0);
    // NaN: every comparison but `ne` fails
    assert_eq!(count(col("x").ne(1.5)), 4);
    assert_eq!(count(col("x").le(100)), 4);
    assert_eq!(count(col("x").between(-2, 1.5)), 3);
    assert_eq!(count(!col("x").le(100)), 1);
    // booleans
    assert_eq!(count(col("b")), 3);
    assert_eq!(count(col("b").eq(false)), 2);
    assert_eq!(count(col("b").not() & col("n").gt(40)), 1);
    assert_eq!(count(col("b") | col("s").isna()), 3);
    // isna / notna
    assert_eq!(count(col("x").isna()), 1);
    assert_eq!(count(col("s").notna()), 4);
    assert_eq!(count(col("n").isna()), 0);
    // isin: numbers by value across types, NaN only when asked for
    assert_eq!(count(col("s").isin(["Paris", "Nice", "Rome"])), 3);
    assert_eq!(count(col("n").isin([20.0, 45.0])), 3);
    assert_eq!(count(col("x").isin([1.5, 0.0])), 2);
    assert_eq!(count(col("x").isin([f64::NAN])), 1);
    assert_eq!(count(col("x").isin([-2])), 1);
    assert_eq!(count(col("n").isin(["20"])), 0);
}

#[test]
fn arithmetic_keeps_integers_as_pandas_does() {
    let df = frame(&sample_rows(), 3);
    let with = |e: dd::Expr| df.with_column("y", e);
    let dtype = |e: dd::Expr| with(e).dtypes()[4].1;
    assert_eq!(dtype(col("n") + 1), DType::I64);
    assert_eq!(dtype(col("n") * col("n") - 2), DType::I64);
    assert_eq!(dtype(col("n") / 2), DType::F64);
    assert_eq!(dtype(col("n") + 0.5), DType::F64);
    assert_eq!(dtype(col("n").gt(1)), DType::Bool);
    assert_eq!(dtype(lit("k")), DType::Str);
    let t = with(col("n") * 2 + 1).compute().unwrap();
    assert_eq!(
        t.column("y").unwrap(),
        &Column::I64(vec![41, 63, 41, 91, -5])
    );
    let t = with(col("n") / 8).compute().unwrap();
    assert_eq!(t.column("y").unwrap().f64(0), Some(2.5));
    // NumPy's int64 wraps
    let t = with(col("n") + i64::MAX).compute().unwrap();
    assert_eq!(
        t.column("y").unwrap().text(4),
        Some((i64::MAX - 3).to_string())
    );
    let t = with(lit("k")).compute().unwrap();
    assert_eq!(t.column("y").unwrap().text(2).as_deref(), Some("k"));
}

#[test]
fn errors_show_what_the_user_wrote() {
    let df = frame(&sample_rows(), 2);
    let err = |d: dd::DataFrame| d.compute().unwrap_err();
    let e = err(df.filter(col("s").gt(2)));
    assert_eq!(
        e.to_string(),
        r#"comparison: cannot compare `col("s")` (string) with `2` (int64)"#
    );
    let e = err(df.filter(col("n") * 2.0));
    assert_eq!(
        e.to_string(),
        r#"`col("n") * 2.0` is float64, but filter needs a boolean expression"#
    );
    let e = err(df.filter(col("n")));
    assert_eq!(
        e.to_string(),
        r#"column "n" is int64, but filter needs a boolean expression"#
    );
    let e = err(df.filter(col("b").and(col("n").between(1, 2) + 1)));
    assert_eq!(
        e.to_string(),
        r#"`col("n").between(1, 2) + 1` is int64, but and needs a boolean expression"#
    );
    let e = err(df.filter(col("ok").and(col("b"))));
    assert!(
        matches!(e, Error::UnknownColumn { ref name, .. } if name == "ok"),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        r#"no column "ok" (columns: ["x", "n", "s", "b"])"#
    );
    let e = err(df.with_column("z", col("s") + 1));
    assert_eq!(
        e.to_string(),
        r#"column "s" is string, but arithmetic needs a number"#
    );
    // no internal key, whatever computes the frame
    let e = df.filter(col("zz").gt(1)).len().unwrap_err();
    assert!(matches!(e, Error::UnknownColumn { .. }), "{e}");
    let e = df.sort_values("zz", true).head(1).unwrap_err();
    assert!(matches!(e, Error::UnknownColumn { .. }), "{e}");
    let e = df
        .groupby("s")
        .agg(&[("s", Agg::Sum)])
        .compute()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"column "s" is string, but groupby sum needs a number or boolean column"#
    );
    assert_eq!(DType::Str.to_string(), "string");
}

/// pandas' results for `df.groupby("k").agg(…)` on this frame, worked by hand.
#[test]
fn groupby_matches_pandas_on_a_known_frame() {
    let rows = vec![
        ("a", true, 1_i64, 1.0),
        ("b", false, 2, f64::NAN),
        ("a", false, 3, 4.0),
        ("a", true, 5, 7.0),
        ("b", false, 6, 10.0),
        ("c", true, 7, f64::NAN),
    ];
    let df = db::from_sequence(rows, 4)
        .unwrap()
        .to_dataframe(&["k", "ok", "n", "x"])
        .unwrap();
    // pandas: df.groupby("k").mean() -> ok: a 2/3, b 0, c 1; n: 3, 4, 7; x: 4, 10, NaN
    let m = df.groupby("k").mean().compute().unwrap();
    assert_eq!(m.columns().len(), 4);
    assert_eq!(
        m.column("ok").unwrap().to_f64().unwrap(),
        vec![2.0 / 3.0, 0.0, 1.0]
    );
    assert_eq!(
        m.column("n").unwrap().to_f64().unwrap(),
        vec![3.0, 4.0, 7.0]
    );
    let x = m.column("x").unwrap().to_f64().unwrap();
    assert_eq!(&x[..2], &[4.0, 10.0]);
    assert!(x[2].is_nan());
    // sum of a boolean column: the number true (int64); min / max stay booleans
    let s = df.groupby("k").sum().compute().unwrap();
    assert_eq!(s.column("ok").unwrap(), &Column::I64(vec![2, 0, 1]));
    assert_eq!(s.column("x").unwrap(), &Column::F64(vec![12.0, 10.0, 0.0]));
    let mx = df.groupby("k").max().compute().unwrap();
    assert_eq!(
        mx.column("ok").unwrap(),
        &Column::Bool(vec![true, false, true])
    );
    // var / std with ddof = 1: a's n = 1, 3, 5 -> var 4; b's x has one value -> NaN
    let v = df.groupby("k").var().compute().unwrap();
    assert_eq!(v.column("n").unwrap().f64(0), Some(4.0));
    assert_eq!(v.column("n").unwrap().f64(1), Some(8.0));
    assert!(v.column("n").unwrap().f64(2).unwrap().is_nan());
    assert_eq!(v.column("x").unwrap().f64(0), Some(9.0));
    assert!(v.column("x").unwrap().f64(1).unwrap().is_nan());
    let sd = df
        .groupby("k")
        .agg(&[("x", Agg::Std), ("ok", Agg::Var)])
        .compute()
        .unwrap();
    assert_eq!(sd.column("x").unwrap().f64(0), Some(3.0));
    assert!((sd.column("ok").unwrap().f64(0).unwrap() - 1.0 / 3.0).abs() < 1e-15);
    // integer min / max are exact past 2^53
    let big = db::from_sequence(vec![("a", i64::MAX), ("a", i64::MAX - 1)], 2)
        .unwrap()
        .to_dataframe(&["k", "n"])
        .unwrap();
    let t = big
        .groupby("k")
        .agg(&[("n", Agg::Min), ("n", Agg::Max)])
        .compute()
        .unwrap();
    assert_eq!(t.column("n_min").unwrap(), &Column::I64(vec![i64::MAX - 1]));
    assert_eq!(t.column("n_max").unwrap(), &Column::I64(vec![i64::MAX]));
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

fn key_strategy() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        1 => Just(None),
        6 => prop::sample::select(vec!["a", "b", "c"]).prop_map(|s| Some(s.to_string())),
    ]
}

fn x_strategy() -> impl Strategy<Value = f64> {
    prop_oneof![1 => Just(f64::NAN), 6 => (-50i32..50).prop_map(|v| f64::from(v) / 4.0)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn groupby_on_several_keys_matches_a_plain_oracle(
        rows in prop::collection::vec((key_strategy(), 0i64..3, x_strategy(), any::<bool>()), 0..60),
        parts in 1usize..6,
    ) {
        let df = db::from_sequence(rows.clone(), parts).unwrap()
            .to_dataframe(&["k", "j", "x", "b"]).unwrap();
        let t = df.groupby(["k", "j"])
            .agg(&[("x", Agg::Mean), ("x", Agg::Std), ("x", Agg::Count), ("b", Agg::Mean), ("b", Agg::Sum)])
            .compute().unwrap();
        // oracle: groups in key order, rows with a missing key dropped
        let mut groups: BTreeMap<(String, i64), (Vec<f64>, Vec<bool>)> = BTreeMap::new();
        for (k, j, x, b) in &rows {
            let Some(k) = k else { continue };
            let g = groups.entry((k.clone(), *j)).or_default();
            if !x.is_nan() { g.0.push(*x); }
            g.1.push(*b);
        }
        prop_assert_eq!(t.len(), groups.len());
        prop_assert_eq!(t.names(), ["k", "j", "x_mean", "x_std", "x_count", "b_mean", "b_sum"]);
        for (i, ((k, j), (xs, bs))) in groups.iter().enumerate() {
            prop_assert_eq!(t.column("k").unwrap().text(i), Some(k.clone()));
            prop_assert_eq!(t.column("j").unwrap().f64(i), Some(*j as f64));
            let n = xs.len() as f64;
            let mean = if xs.is_empty() { f64::NAN } else { xs.iter().sum::<f64>() / n };
            let std = if xs.len() < 2 { f64::NAN } else {
                (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
            };
            prop_assert!(close(t.column("x_mean").unwrap().f64(i).unwrap(), mean));
            prop_assert!(close(t.column("x_std").unwrap().f64(i).unwrap(), std));
            prop_assert_eq!(t.column("x_count").unwrap().f64(i), Some(n));
            let trues = bs.iter().filter(|&&b| b).count();
            prop_assert!(close(t.column("b_mean").unwrap().f64(i).unwrap(), trues as f64 / bs.len() as f64));
            prop_assert_eq!(t.column("b_sum").unwrap().f64(i), Some(trues as f64));
        }
    }

    #[test]
    fn filters_match_a_plain_oracle(
        rows in prop::collection::vec((x_strategy(), -5i64..5, key_strategy(), any::<bool>()), 0..40),
        parts in 1usize..5,
        lo in -5i64..5,
        width in 0i64..6,
        c in x_strategy(),
    ) {
        let df = frame(&rows, parts);
        let hi = lo + width;
        type Pred = Box<dyn Fn(&Row) -> bool>;
        let cases: Vec<(dd::Expr, Pred)> = vec![
            (col("x").ne(c), Box::new(move |r: &Row| r.0 != c)),
            (col("x").eq(c), Box::new(move |r: &Row| r.0 == c)),
            (col("x").ge(c), Box::new(move |r: &Row| r.0 >= c)),
            (col("n").between(lo, hi), Box::new(move |r: &Row| lo <= r.1 && r.1 <= hi)),
            (col("x").between(lo, hi), Box::new(move |r: &Row| lo as f64 <= r.0 && r.0 <= hi as f64)),
            (!col("n").lt(lo), Box::new(move |r: &Row| r.1 >= lo)),
            (col("s").ne("a"), Box::new(|r: &Row| r.2.as_deref() != Some("a"))),
            (col("s").isin(["a", "c"]), Box::new(|r: &Row| matches!(r.2.as_deref(), Some("a" | "c")))),
            (col("x").notna().and(col("b")), Box::new(|r: &Row| !r.0.is_nan() && r.3)),
            (col("s").isna().or(col("n").eq(lo)), Box::new(move |r: &Row| r.2.is_none() || r.1 == lo)),
        ];
        for (e, oracle) in cases {
            let want: Vec<i64> = rows.iter().filter(|r| oracle(r)).map(|r| r.1).collect();
            let text = e.to_string();
            let got = df.filter(e).compute().unwrap();
            prop_assert_eq!(got.column("n").unwrap(), &Column::I64(want), "{}", text);
        }
    }

    #[test]
    fn sorting_and_selecting_rows_match_a_plain_oracle(
        rows in prop::collection::vec((x_strategy(), -3i64..3, key_strategy(), any::<bool>()), 0..40),
        parts in 1usize..5,
        n in 0usize..12,
    ) {
        let df = frame(&rows, parts);
        let keyed: Vec<(usize, &Row)> = rows.iter().enumerate().collect();
        let order = |v: Vec<(usize, &Row)>| v.into_iter().map(|(i, _)| i as f64).collect::<Vec<_>>();
        let ids = db::from_sequence(
            rows.iter().enumerate().map(|(i, r)| (r.0, r.1, r.2.clone(), r.3, i as i64)).collect::<Vec<_>>(),
            parts,
        ).unwrap().to_dataframe(&["x", "n", "s", "b", "id"]).unwrap();
        let id_of = |t: Table| t.column("id").unwrap().to_f64().unwrap();
        // several columns, mixed directions, nulls last in each
        let mut want = keyed.clone();
        want.sort_by(|a, b| {
            let s = match (&a.1.2, &b.1.2) {
                (None, None) => std::cmp::Ordering::Equal,
                (None, _) => std::cmp::Ordering::Greater,
                (_, None) => std::cmp::Ordering::Less,
                (Some(p), Some(q)) => q.cmp(p),
            };
            s.then(a.1.1.cmp(&b.1.1))
        });
        let got = ids.sort_values_each(&[("s", false), ("n", true)]).compute().unwrap();
        prop_assert_eq!(id_of(got), order(want));
        let mut want = keyed.clone();
        want.sort_by(|a, b| a.1.1.cmp(&b.1.1).then(a.1.3.cmp(&b.1.3)));
        prop_assert_eq!(id_of(ids.sort_values(["n", "b"], true).compute().unwrap()), order(want));
        // nlargest / nsmallest: NaN left out, ties keep the earlier row
        let mut want: Vec<(usize, &Row)> = keyed.iter().copied().filter(|r| !r.1.0.is_nan()).collect();
        want.sort_by(|a, b| b.1.0.partial_cmp(&a.1.0).unwrap());
        want.truncate(n);
        prop_assert_eq!(id_of(ids.nlargest(n, "x").compute().unwrap()), order(want));
        let mut want: Vec<(usize, &Row)> = keyed.clone();
        want.sort_by_key(|a| a.1.1);
        want.truncate(n);
        prop_assert_eq!(id_of(ids.nsmallest(n, "n").compute().unwrap()), order(want));
        // tail
        let k = rows.len().saturating_sub(n);
        prop_assert_eq!(id_of(ids.tail(n).unwrap()), (k..rows.len()).map(|i| i as f64).collect::<Vec<_>>());
        // dropna, fillna
        let want: Vec<f64> = keyed.iter().filter(|r| !r.1.0.is_nan() && r.1.2.is_some()).map(|r| r.0 as f64).collect();
        prop_assert_eq!(id_of(ids.dropna().compute().unwrap()), want);
        let want: Vec<f64> = keyed.iter().filter(|r| r.1.2.is_some()).map(|r| r.0 as f64).collect();
        prop_assert_eq!(id_of(ids.dropna_subset("s").compute().unwrap()), want);
        let filled = df.fillna(-1).compute().unwrap();
        let want: Vec<f64> = rows.iter().map(|r| if r.0.is_nan() { -1.0 } else { r.0 }).collect();
        prop_assert_eq!(filled.column("x").unwrap().to_f64().unwrap(), want);
        // pandas fills the string column with the number (an object column); here its text
        prop_assert_eq!(filled.column("s").unwrap(), &Column::Str(rows.iter().map(|r| Some(r.2.clone().unwrap_or_else(|| "-1".into()))).collect()));
    }
}

#[test]
fn fillna_per_column_checks_the_values() {
    let df = frame(&sample_rows(), 2);
    let t = df
        .fillna_each(&[("s", "?".into()), ("x", Scalar::I64(0))])
        .compute()
        .unwrap();
    assert_eq!(texts(&t, "s")[2].as_deref(), Some("?"));
    assert_eq!(t.column("x").unwrap().f64(1), Some(0.0));
    // a string cannot fill a float column's NaN without making it `object`, as pandas would
    for e in [
        df.fillna("none").compute().unwrap_err(),
        df.fillna_each(&[("x", "?".into())]).compute().unwrap_err(),
        df.fillna(true).compute().unwrap_err(),
    ] {
        let e = e.to_string();
        assert!(
            e.contains(r#"column "x" (float64) has a missing value"#)
                && e.contains("cast the column first"),
            "{e}"
        );
    }
    let t = df.fillna_each(&[("s", "none".into())]).compute().unwrap();
    assert_eq!(texts(&t, "s")[2].as_deref(), Some("none"));
    // a column without nulls is left as it is, whatever the value (pandas keeps its type)
    let t = df.select(&["n"]).unwrap().fillna("?").compute().unwrap();
    assert_eq!(t.column("n").unwrap().dtype(), DType::I64);
    let t = df
        .fillna_each(&[("s", Scalar::Bool(true)), ("x", 2.5.into())])
        .compute()
        .unwrap();
    assert_eq!(texts(&t, "s")[2].as_deref(), Some("True"));
}

/// A merged row as the oracle writes it: key, left value, right value (`None`: null).
type Joined = (Option<i64>, Option<i64>, Option<String>);

/// pandas' merge, the plain way: nested loops, null keys matching null keys; sorted.
fn merge_oracle(
    l: &[(Option<i64>, i64)],
    r: &[(Option<i64>, String)],
    how: dd::How,
) -> Vec<Joined> {
    let mut out: Vec<Joined> = Vec::new();
    let mut matched = vec![false; r.len()];
    for (lk, a) in l {
        let mut any = false;
        for (j, (rk, b)) in r.iter().enumerate() {
            if lk == rk {
                out.push((*lk, Some(*a), Some(b.clone())));
                matched[j] = true;
                any = true;
            }
        }
        if !any && matches!(how, dd::How::Left | dd::How::Outer) {
            out.push((*lk, Some(*a), None));
        }
    }
    if matches!(how, dd::How::Right | dd::How::Outer) {
        for (j, (rk, b)) in r.iter().enumerate() {
            if !matched[j] {
                out.push((*rk, None, Some(b.clone())));
            }
        }
    }
    out.sort();
    out
}

fn merged_rows(t: &Table) -> Vec<Joined> {
    let k = t.column("k").unwrap();
    let a = t.column("a").unwrap();
    let b = t.column("b").unwrap();
    let mut out: Vec<Joined> = (0..t.len())
        .map(|i| {
            (
                k.f64(i).filter(|x| !x.is_nan()).map(|x| x as i64),
                a.f64(i).filter(|x| !x.is_nan()).map(|x| x as i64),
                b.text(i),
            )
        })
        .collect();
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Every kind of merge equals the nested-loop oracle, whether the right side is
    /// broadcast (one partition) or both are shuffled, on every scheduler; the left keys
    /// are integers and the right ones floats with nulls (1 matches 1.0, null matches null).
    #[test]
    fn merges_equal_the_nested_loops(
        l in proptest::collection::vec((proptest::option::weighted(0.9, 0i64..6), -50i64..50), 0..40),
        r in proptest::collection::vec((proptest::option::weighted(0.9, 0i64..6), "[a-z]{1,3}"), 0..40),
        lparts in 1usize..5,
        rparts in 1usize..4,
    ) {
        // left keys: int64 when there is no null, else float64 with NaN
        let left = db::from_sequence(l.iter().map(|(k, a)| (k.map_or(f64::NAN, |k| k as f64), *a)).collect::<Vec<_>>(), lparts).unwrap()
            .to_dataframe(&["k", "a"]).unwrap();
        let right = db::from_sequence(r.iter().map(|(k, b)| (k.map_or(f64::NAN, |k| k as f64), b.clone())).collect::<Vec<_>>(), rparts).unwrap()
            .to_dataframe(&["k", "b"]).unwrap();
        for how in [dd::How::Inner, dd::How::Left, dd::How::Right, dd::How::Outer] {
            let want = merge_oracle(&l, &r, how);
            let m = left.merge(&right, "k", how).unwrap();
            prop_assert_eq!(m.columns(), ["k", "a", "b"]);
            for s in [Scheduler::sync(), Scheduler::threads(2)] {
                let got = merged_rows(&m.compute_with(s).unwrap());
                prop_assert_eq!(&got, &want, "{:?}", how);
            }
        }
        // a shuffle keeps every row and puts equal keys together
        let s = left.shuffle("k", 3).unwrap();
        let parts: Vec<Table> = s.to_delayed().iter().map(|p| p.compute().unwrap()).collect();
        prop_assert_eq!(parts.iter().map(Table::len).sum::<usize>(), l.len());
        let mut home = std::collections::HashMap::new();
        for (p, t) in parts.iter().enumerate() {
            let k = t.column("k").unwrap();
            for i in 0..t.len() {
                let key = k.f64(i).map(f64::to_bits);
                prop_assert_eq!(*home.entry(key).or_insert(p), p);
            }
        }
    }
}

#[test]
fn merge_names_clashing_columns_and_rejects_bad_keys() {
    let a = db::from_sequence(vec![(1_i64, 2.0, true)], 1)
        .unwrap()
        .to_dataframe(&["id", "v", "flag"])
        .unwrap();
    let b = db::from_sequence(vec![(1_i64, 5.0), (2, 6.0)], 2)
        .unwrap()
        .to_dataframe(&["id", "v"])
        .unwrap();
    let m = a.merge(&b, "id", dd::How::Outer).unwrap();
    assert_eq!(m.columns(), ["id", "v_x", "flag", "v_y"]);
    // a column that may receive nulls holds floats, as pandas makes it
    assert_eq!(m.dtypes()[2].1, DType::F64);
    let t = m.sort_values("id", true).compute().unwrap();
    assert_eq!(t.column("flag").unwrap().f64(0), Some(1.0));
    assert!(t.column("flag").unwrap().f64(1).unwrap().is_nan());
    let s = db::from_sequence(vec![("1".to_string(), 1.0)], 1)
        .unwrap()
        .to_dataframe(&["id", "w"])
        .unwrap();
    let e = a.merge(&s, "id", dd::How::Inner).unwrap_err();
    assert!(
        e.to_string()
            .contains("key column \"id\" is int64 on the left and string on the right"),
        "{e}"
    );
    assert!(a.merge(&b, "nope", dd::How::Inner).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// drop_duplicates keeps each key's first row, value_counts and nunique count as plain
    /// iterators do, on every scheduler and partitioning.
    #[test]
    fn duplicates_and_counts_equal_plain_iterators(
        rows in proptest::collection::vec((proptest::option::weighted(0.85, 0i64..8), 0i64..1000), 0..60),
        parts in 1usize..6,
    ) {
        let df = db::from_sequence(rows.iter().map(|(k, v)| (k.map_or(f64::NAN, |k| k as f64), *v)).collect::<Vec<_>>(), parts).unwrap()
            .to_dataframe(&["k", "v"]).unwrap();
        let mut seen = std::collections::HashSet::new();
        let mut firsts: Vec<(Option<i64>, i64)> = rows.iter().filter(|(k, _)| seen.insert(*k)).cloned().collect();
        firsts.sort();
        let mut counts: BTreeMap<i64, i64> = BTreeMap::new();
        rows.iter().filter_map(|r| r.0).for_each(|k| *counts.entry(k).or_default() += 1);
        let mut want_counts: Vec<(i64, i64)> = counts.iter().map(|(&k, &n)| (k, n)).collect();
        want_counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for s in [Scheduler::sync(), Scheduler::threads(2)] {
            let t = df.drop_duplicates("k").unwrap().compute_with(s.clone()).unwrap();
            let (k, v) = (t.column("k").unwrap(), t.column("v").unwrap());
            let mut got: Vec<(Option<i64>, i64)> = (0..t.len())
                .map(|i| (k.f64(i).filter(|x| !x.is_nan()).map(|x| x as i64), v.f64(i).unwrap() as i64))
                .collect();
            got.sort();
            prop_assert_eq!(&got, &firsts);
            let vc = df.value_counts("k").unwrap().compute_with(s.clone()).unwrap();
            let got: Vec<(i64, i64)> = (0..vc.len())
                .map(|i| (vc.column("k").unwrap().f64(i).unwrap() as i64, vc.column("count").unwrap().f64(i).unwrap() as i64))
                .collect();
            prop_assert_eq!(&got, &want_counts);
            prop_assert_eq!(df.nunique("k").unwrap().compute_with(s.clone()).unwrap(), counts.len() as u64);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// groupby into several partitions (after a shuffle by key) gives the groups one
    /// partition gives, each group in one partition.
    #[test]
    fn groupby_split_out_equals_one_partition(
        rows in proptest::collection::vec((0i64..30, -100i64..100, -1e3f64..1e3), 0..80),
        parts in 1usize..5,
        split in 2usize..5,
    ) {
        let df = db::from_sequence(rows.clone(), parts).unwrap().to_dataframe(&["k", "n", "x"]).unwrap();
        let aggs = [("n", Agg::Sum), ("x", Agg::Mean), ("x", Agg::Count), ("n", Agg::Max)];
        let one = df.groupby("k").agg(&aggs);
        let many = df.groupby("k").split_out(split).agg(&aggs);
        prop_assert_eq!(many.npartitions(), split);
        for s in [Scheduler::sync(), Scheduler::threads(2)] {
            let a = one.compute_with(s.clone()).unwrap();
            let b = many.sort_values("k", true).compute_with(s.clone()).unwrap();
            prop_assert_eq!(a.len(), b.len());
            for c in ["k", "n_sum", "x_count", "n_max"] {
                prop_assert_eq!(a.column(c).unwrap(), b.column(c).unwrap());
            }
            let (am, bm) = (a.column("x_mean").unwrap(), b.column("x_mean").unwrap());
            for i in 0..a.len() {
                prop_assert!((am.f64(i).unwrap() - bm.f64(i).unwrap()).abs() <= 1e-9 * (1.0 + am.f64(i).unwrap().abs()));
            }
        }
    }
}
