//! pandas parity: column reductions of whole frames (sum, mean, min, max, count, std),
//! quantiles and describe's percentiles against plain iterators and values pandas gives,
//! on every scheduler; empty headerless CSV files; boolean arithmetic; nulls in string sorts.

use dagr::bag as db;
use dagr::dataframe::{self as dd, col, Column, CsvOptions, DType, Table};
use dagr::prelude::*;
use proptest::prelude::*;

fn schedulers() -> [Scheduler; 3] {
    [
        Scheduler::sync(),
        Scheduler::threads(2),
        Scheduler::threads(3),
    ]
}

type Row = (i64, f64, bool, Option<String>);

fn frame(rows: &[Row], parts: usize) -> dd::DataFrame {
    db::from_sequence(rows.to_vec(), parts)
        .unwrap()
        .to_dataframe(&["i", "f", "b", "s"])
        .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs())) || (a.is_nan() && b.is_nan())
}

fn float(t: &Table, c: &str) -> f64 {
    t.column(c).unwrap().f64(0).unwrap_or(f64::NAN)
}

/// numpy's linear quantile of the sorted non-null values.
fn oracle_quantile(xs: &[f64], q: f64) -> f64 {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let pos = (v.len() - 1) as f64 * q;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    let t = pos - lo as f64;
    let d = v[hi] - v[lo];
    if t >= 0.5 {
        v[hi] - d * (1.0 - t)
    } else {
        v[lo] + d * t
    }
}

fn row() -> impl Strategy<Value = Row> {
    (
        -1000i64..1000,
        prop_oneof![4 => -1e3f64..1e3, 1 => Just(f64::NAN)],
        any::<bool>(),
        proptest::option::weighted(0.8, "[a-c]{0,2}"),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn reductions_match_plain_iterators(rows in proptest::collection::vec(row(), 0..80), parts in 1usize..6) {
        let df = frame(&rows, parts);
        let nums = df.select(&["i", "f", "b"]).unwrap();
        let fs: Vec<f64> = rows.iter().map(|r| r.1).filter(|x| !x.is_nan()).collect();
        let is: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let trues = rows.iter().filter(|r| r.2).count();
        let texts: Vec<&str> = rows.iter().filter_map(|r| r.3.as_deref()).collect();
        let n = rows.len() as f64;
        for s in schedulers() {
            let sum = df.sum().compute_with(s.clone()).unwrap();
            prop_assert_eq!(sum.column("i").unwrap(), &Column::I64(vec![is.iter().sum()]));
            prop_assert!(close(float(&sum, "f"), fs.iter().sum::<f64>()));
            prop_assert_eq!(sum.column("b").unwrap(), &Column::I64(vec![trues as i64]));
            prop_assert_eq!(sum.column("s").unwrap().text(0).unwrap(), texts.concat());

            let count = df.count().compute_with(s.clone()).unwrap();
            let counts = [rows.len(), fs.len(), rows.len(), texts.len()];
            for (c, want) in ["i", "f", "b", "s"].iter().zip(counts) {
                prop_assert_eq!(count.column(c).unwrap(), &Column::I64(vec![want as i64]));
            }

            let mean = nums.mean().compute_with(s.clone()).unwrap();
            prop_assert!(close(float(&mean, "i"), is.iter().sum::<i64>() as f64 / n));
            prop_assert!(close(float(&mean, "f"), fs.iter().sum::<f64>() / fs.len() as f64));
            prop_assert!(close(float(&mean, "b"), trues as f64 / n));

            let (min, max) = (df.min().compute_with(s.clone()).unwrap(), df.max().compute_with(s.clone()).unwrap());
            match is.iter().min() {
                Some(m) => prop_assert_eq!(min.column("i").unwrap(), &Column::I64(vec![*m])),
                None => prop_assert!(float(&min, "i").is_nan()),
            }
            prop_assert_eq!(float(&max, "f").to_bits(), fs.iter().copied().reduce(f64::max).unwrap_or(f64::NAN).to_bits());
            prop_assert_eq!(float(&min, "f").to_bits(), fs.iter().copied().reduce(f64::min).unwrap_or(f64::NAN).to_bits());
            if !rows.is_empty() {
                prop_assert_eq!(max.column("b").unwrap(), &Column::Bool(vec![trues > 0]));
            }
            prop_assert_eq!(min.column("s").unwrap().text(0), texts.iter().min().map(|s| s.to_string()));
            prop_assert_eq!(max.column("s").unwrap().text(0), texts.iter().max().map(|s| s.to_string()));

            // the two-pass variance of the non-null values
            let std = nums.std().compute_with(s.clone()).unwrap();
            let var = |xs: &[f64], ddof: f64| {
                let m = xs.iter().sum::<f64>() / xs.len() as f64;
                let d = xs.len() as f64 - ddof;
                if d > 0.0 { (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / d).sqrt() } else { f64::NAN }
            };
            prop_assert!(close(float(&std, "f"), var(&fs, 1.0)));
            let ifs: Vec<f64> = is.iter().map(|&x| x as f64).collect();
            let bfs: Vec<f64> = rows.iter().map(|r| if r.2 { 1.0 } else { 0.0 }).collect();
            prop_assert!(close(float(&std, "b"), var(&bfs, 1.0)));
            prop_assert!(close(float(&std, "i"), var(&ifs, 1.0)));
            prop_assert!(close(float(&nums.std_ddof(0).compute_with(s.clone()).unwrap(), "i"), var(&ifs, 0.0)));

            for q in [0.0, 0.1, 0.25, 0.5, 0.9, 1.0] {
                let got = df.quantile("f", q).compute_with(s.clone()).unwrap();
                let want = oracle_quantile(&fs, q);
                prop_assert!(got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()), "{} {} {}", q, got, want);
                prop_assert_eq!(df.quantile("i", q).compute_with(s.clone()).unwrap().to_bits(), oracle_quantile(&ifs, q).to_bits());
            }
        }
    }
}

#[test]
fn one_partition_gives_pandas_bits() {
    // v = [(i * 0.7) % 3.3 for i in range(1000)]; s = pd.Series(v)
    let rows: Vec<(f64,)> = (0..1000).map(|i| ((i as f64 * 0.7) % 3.3,)).collect();
    let df = db::from_sequence(rows, 1)
        .unwrap()
        .to_dataframe(&["x"])
        .unwrap();
    for s in schedulers() {
        assert_eq!(
            float(&df.sum().compute_with(s.clone()).unwrap(), "x"),
            1658.399999999995
        );
        assert_eq!(
            float(&df.mean().compute_with(s.clone()).unwrap(), "x"),
            1.658399999999995
        );
        assert_eq!(
            float(&df.std().compute_with(s.clone()).unwrap(), "x"),
            0.9544844055721814
        );
    }
    // pd.DataFrame({"a": [1, 2, 4], "b": [0.5, nan, 1.0], "c": [True, True, False]})
    let df = db::from_sequence(
        vec![(1_i64, 0.5, true), (2, f64::NAN, true), (4, 1.0, false)],
        1,
    )
    .unwrap()
    .to_dataframe(&["a", "b", "c"])
    .unwrap();
    let m = df.mean().compute().unwrap();
    assert_eq!(
        [float(&m, "a"), float(&m, "b"), float(&m, "c")],
        [2.3333333333333335, 0.75, 0.6666666666666666]
    );
    assert_eq!(float(&df.std().compute().unwrap(), "c"), 0.5773502691896258);
    // empty columns: sum 0 (strings ""), min NaN (strings null), std NaN
    let empty = frame(&[], 1);
    let s = empty.sum().compute().unwrap();
    assert_eq!((float(&s, "i"), float(&s, "f")), (0.0, 0.0));
    assert_eq!(s.column("s").unwrap().text(0).as_deref(), Some(""));
    let m = empty.min().compute().unwrap();
    assert!(
        float(&m, "i").is_nan()
            && float(&m, "b").is_nan()
            && m.column("s").unwrap().text(0).is_none()
    );
    assert!(float(
        &frame(&[(1, 1.0, true, None)], 1)
            .select(&["f"])
            .unwrap()
            .std()
            .compute()
            .unwrap(),
        "f"
    )
    .is_nan());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Columns larger than a partition's sample (2^14 points), so the quantiles come from the
    /// windows pass, not from the sample alone; few distinct values or sorted data as well.
    #[test]
    fn quantiles_of_large_columns_are_the_sorted_values(
        n in 0usize..40_000,
        seed in any::<u64>(),
        distinct in prop_oneof![Just(0u64), 1u64..50],
        sorted in any::<bool>(),
        nan_every in prop_oneof![Just(0usize), 2usize..50],
        parts in 1usize..5,
        qs in proptest::collection::vec(0.0f64..=1.0, 1..6),
    ) {
        let mut x = seed | 1;
        let mut xs: Vec<f64> = (0..n).map(|i| {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            if nan_every > 0 && i % nan_every == 0 { f64::NAN }
            else if distinct > 0 { (x % distinct) as f64 - 3.0 }
            else { (x >> 11) as f64 / (1u64 << 53) as f64 * 2e3 - 1e3 }
        }).collect();
        if sorted { xs.sort_by(f64::total_cmp); }
        let df = db::from_sequence(xs.iter().map(|&x| (x,)).collect::<Vec<_>>(), parts)
            .unwrap()
            .to_dataframe(&["x"])
            .unwrap();
        let want: Vec<u64> = qs.iter().map(|&q| oracle_quantile(&xs, q).to_bits()).collect();
        for s in [Scheduler::sync(), Scheduler::threads(2)] {
            let got: Vec<u64> = df.quantiles("x", &qs).compute_with(s.clone()).unwrap().iter().map(|x| x.to_bits()).collect();
            prop_assert_eq!(&got, &want);
            prop_assert_eq!(df.quantile("x", qs[0]).compute_with(s).unwrap().to_bits(), want[0]);
        }
    }
}

#[test]
fn quantiles_of_empty_and_all_null_columns_are_nan() {
    let nulls = db::from_sequence(vec![(f64::NAN, 1_i64); 5], 2)
        .unwrap()
        .to_dataframe(&["x", "i"])
        .unwrap();
    let none = nulls.filter(col("i").gt(5.0));
    for s in schedulers() {
        for df in [&nulls, &none] {
            let q = df
                .quantiles("x", &[0.0, 0.5, 1.0])
                .compute_with(s.clone())
                .unwrap();
            assert!(q.len() == 3 && q.iter().all(|x| x.is_nan()), "{q:?}");
            assert!(df
                .quantile("x", 0.3)
                .compute_with(s.clone())
                .unwrap()
                .is_nan());
        }
        assert_eq!(
            none.quantiles("i", &[]).compute_with(s.clone()).unwrap(),
            Vec::<f64>::new()
        );
        // pd.Series([1, 1, 1, 1, 1]).quantile([0.5, 0.99])
        assert_eq!(
            nulls
                .quantiles("i", &[0.5, 0.99])
                .compute_with(s.clone())
                .unwrap(),
            vec![1.0, 1.0]
        );
    }
}

#[test]
fn describe_with_percentiles_labels_as_pandas() {
    // pd.DataFrame({"x": range(11)}).describe(percentiles=[0.1, 0.333, 0.95])
    let df = db::from_sequence((0..=10).map(|i| (i as f64,)).collect::<Vec<_>>(), 3)
        .unwrap()
        .to_dataframe(&["x"])
        .unwrap();
    for s in schedulers() {
        let d = df
            .describe_percentiles(&[0.95, 0.1, 0.333])
            .compute_with(s.clone())
            .unwrap();
        let rows = [
            "count", "mean", "std", "min", "10%", "33.3%", "50%", "95%", "max",
        ];
        assert_eq!(d.rows(), rows);
        let want = [11.0, 5.0, 3.3166247903554, 0.0, 1.0, 3.33, 5.0, 9.5, 10.0];
        for (r, w) in rows.iter().zip(want) {
            assert!(
                close(d.get(r, "x").unwrap(), w),
                "{r}: {}",
                d.get(r, "x").unwrap()
            );
        }
        assert_eq!(
            d.get("33.3%", "x").unwrap(),
            df.quantile("x", 0.333).compute_with(s.clone()).unwrap()
        );
        // the default percentiles give describe's rows and values
        let quartiles = df
            .describe_percentiles(&[0.25, 0.75])
            .compute_with(s.clone())
            .unwrap();
        assert_eq!(quartiles, df.describe().compute_with(s.clone()).unwrap());
    }
    let e = df
        .describe_percentiles(&[0.5, 1.2])
        .compute()
        .unwrap_err()
        .to_string();
    assert!(e.contains("1.2") && e.contains("[0, 1]"), "{e}");
    let e = df
        .describe_percentiles(&[0.2, 0.2])
        .compute()
        .unwrap_err()
        .to_string();
    assert!(e.contains("0.2") && e.contains("twice"), "{e}");
}

#[test]
fn reduction_errors_name_what_was_written() {
    let df = frame(&[(1, 1.0, true, Some("a".into()))], 1);
    let e = df.mean().compute().unwrap_err().to_string();
    assert!(e.contains("\"s\"") && e.contains("mean"), "{e}");
    let e = df.std().compute().unwrap_err().to_string();
    assert!(e.contains("\"s\"") && e.contains("std"), "{e}");
    let e = df.quantile("s", 0.5).compute().unwrap_err().to_string();
    assert!(e.contains("\"s\"") && e.contains("quantile"), "{e}");
    let e = df.quantile("nope", 0.5).compute().unwrap_err().to_string();
    assert!(e.contains("nope"), "{e}");
    let e = df.quantile("f", 1.5).compute().unwrap_err().to_string();
    assert!(e.contains("1.5") && e.contains("[0, 1]"), "{e}");
    let e = df
        .quantile("f", f64::NAN)
        .compute()
        .unwrap_err()
        .to_string();
    assert!(e.contains("NaN") && e.contains("[0, 1]"), "{e}");
    let e = df
        .quantiles("f", &[0.5, -0.1])
        .compute()
        .unwrap_err()
        .to_string();
    assert!(e.contains("-0.1") && e.contains("[0, 1]"), "{e}");
    let e = df.quantiles("s", &[0.5]).compute().unwrap_err().to_string();
    assert!(e.contains("\"s\"") && e.contains("quantile"), "{e}");
}

#[test]
fn empty_headerless_csv_reads_zero_rows() {
    let d = std::env::temp_dir().join(format!("dagr-df-reduce-empty-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("a.csv"), "").unwrap();
    let alone = dd::read_csv(
        &format!("{}/a.csv", d.display()),
        CsvOptions::default().header(false),
    )
    .unwrap();
    for s in schedulers() {
        assert_eq!(alone.compute_with(s).unwrap().len(), 0);
    }
    std::fs::write(d.join("b.csv"), "1,x\n2,y\n").unwrap();
    std::fs::write(d.join("c.csv"), "").unwrap();
    let df = dd::read_csv(
        &format!("{}/*.csv", d.display()),
        CsvOptions::default().header(false),
    )
    .unwrap();
    assert_eq!(df.columns(), ["0", "1"]);
    for s in schedulers() {
        let t = df.compute_with(s.clone()).unwrap();
        assert_eq!(t.column("0").unwrap(), &Column::I64(vec![1, 2]));
        assert_eq!(float(&df.sum().compute_with(s).unwrap(), "0"), 3.0);
    }
    // an empty file among files with a header line: zero rows too
    std::fs::write(d.join("h1.tsv"), "k,v\n1,2\n").unwrap();
    std::fs::write(d.join("h2.tsv"), "").unwrap();
    let df = dd::read_csv(&format!("{}/h*.tsv", d.display()), CsvOptions::default()).unwrap();
    assert_eq!(df.len().unwrap(), 1);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn boolean_arithmetic_as_pandas() {
    // a = pd.Series([True, True, False]); b = pd.Series([True, False, False])
    let df = db::from_sequence(
        vec![
            (true, true, 1_i64, 1.5),
            (true, false, 2, 2.0),
            (false, false, 3, 3.0),
        ],
        2,
    )
    .unwrap()
    .to_dataframe(&["a", "b", "i", "f"])
    .unwrap();
    let cases = [
        (col("a") + col("b"), Column::Bool(vec![true, true, false])),
        (col("a") * col("b"), Column::Bool(vec![true, false, false])),
        (col("a") + 1, Column::I64(vec![2, 2, 1])),
        (col("a") - 1, Column::I64(vec![0, 0, -1])),
        (col("i") + col("a"), Column::I64(vec![2, 3, 3])),
        (col("a") + 1.5, Column::F64(vec![2.5, 2.5, 1.5])),
        (col("f") * col("a"), Column::F64(vec![1.5, 2.0, 0.0])),
        (col("a") / 2, Column::F64(vec![0.5, 0.5, 0.0])),
    ];
    for (e, want) in cases {
        let z = df.with_column("z", e.clone());
        assert_eq!(z.dtypes()[4].1, want.dtype(), "{e:?}");
        for s in schedulers() {
            assert_eq!(
                z.compute_with(s).unwrap().column("z").unwrap(),
                &want,
                "{e:?}"
            );
        }
    }
    for e in [col("a") - col("b"), col("a") / col("b")] {
        let err = df.with_column("z", e).len().unwrap_err().to_string();
        assert!(
            err.contains("booleans cannot be") && err.contains("col(\"a\")"),
            "{err}"
        );
    }
}

#[test]
fn string_nulls_sort_last_both_ways() {
    // pd.DataFrame({"s": ["b", None, "a", "c"]}).sort_values("s"): a, b, c, NaN; descending c, b, a, NaN
    let df = db::from_sequence(
        vec![
            (Some("b"), 1_i64),
            (None, 2),
            (Some("a"), 3),
            (Some("c"), 4),
        ],
        3,
    )
    .unwrap()
    .to_dataframe(&["s", "n"])
    .unwrap();
    let text = |t: &Table| {
        (0..t.len())
            .map(|i| t.column("s").unwrap().text(i))
            .collect::<Vec<_>>()
    };
    let some = |v: &[&str]| {
        v.iter()
            .map(|s| Some(s.to_string()))
            .chain([None])
            .collect::<Vec<_>>()
    };
    for s in schedulers() {
        assert_eq!(
            text(&df.sort_values("s", true).compute_with(s.clone()).unwrap()),
            some(&["a", "b", "c"])
        );
        assert_eq!(
            text(&df.sort_values("s", false).compute_with(s.clone()).unwrap()),
            some(&["c", "b", "a"])
        );
        let t = df
            .sort_values_each(&[("s", false), ("n", true)])
            .compute_with(s)
            .unwrap();
        assert_eq!(t.column("n").unwrap(), &Column::I64(vec![4, 1, 3, 2]));
    }
    assert_eq!(df.dtypes()[0].1, DType::Str);
}
