//! Dataframes against plain single-threaded computations on the same data, known pandas
//! values, and every bad-input error.

use dagr::bag as db;
use dagr::dataframe::{self as dd, col, Agg, Column, CsvOptions, DType};
use dagr::prelude::*;
use proptest::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dagr-df-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn pat(d: &Path, p: &str) -> String {
    format!("{}/{p}", d.display())
}

/// pandas' describe of one column, computed the plain way (sort everything).
fn oracle_describe(xs: &[f64]) -> [f64; 8] {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let q = |q: f64| {
        let pos = q * (n - 1.0);
        let lo = pos.floor() as usize;
        let hi = (lo + 1).min(v.len() - 1);
        v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
    };
    [n, mean, std, v[0], q(0.25), q(0.5), q(0.75), v[v.len() - 1]]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs())) || (a.is_nan() && b.is_nan())
}

#[test]
fn describe_matches_hand_checked_pandas_values() {
    let b = db::from_sequence(
        vec![(1_i64, 0.5_f64), (2, 1.5), (3, 10.0), (4, f64::NAN)],
        3,
    )
    .unwrap();
    let df = b.to_dataframe(&["a", "b"]).unwrap();
    let d = df.describe().compute().unwrap();
    // pd.DataFrame({"a": [1, 2, 3, 4], "b": [0.5, 1.5, 10.0, None]}).describe()
    let a = [4.0, 2.5, 1.2909944487358056, 1.0, 1.75, 2.5, 3.25, 4.0];
    let bb = [3.0, 4.0, 5.220153254455275, 0.5, 1.0, 1.5, 5.75, 10.0];
    for (i, stat) in dd::describe_rows().iter().enumerate() {
        assert!(close(d.get(stat, "a").unwrap(), a[i]), "a {stat}");
        assert!(
            close(d.get(stat, "b").unwrap(), bb[i]),
            "b {stat}: {}",
            d.get(stat, "b").unwrap()
        );
    }
    let text = d.to_string();
    assert!(text.lines().next().unwrap().trim_end().ends_with('b'));
    assert!(
        text.contains("count") && text.contains("75%") && text.contains("5.220153"),
        "{text}"
    );
    assert!(d.get("median", "a").is_err());
    assert!(d.get("mean", "zz").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn results_do_not_depend_on_partitioning_or_scheduler(
        rows in proptest::collection::vec((-1000i64..1000, -1e3f64..1e3, 0u8..5), 2..120),
        parts in 1usize..9,
    ) {
        let b = db::from_sequence(rows.clone(), parts).unwrap()
            .map(|(i, x, k)| (i, x, format!("k{k}")));
        let df = b.to_dataframe(&["i", "x", "k"]).unwrap();
        let xs: Vec<f64> = rows.iter().map(|r| r.1).collect();
        let is: Vec<f64> = rows.iter().map(|r| r.0 as f64).collect();
        for s in [Scheduler::sync(), Scheduler::threads(2)] {
            let d = df.describe().compute_with(s.clone()).unwrap();
            for (i, stat) in dd::describe_rows().iter().enumerate() {
                prop_assert!(close(d.get(stat, "x").unwrap(), oracle_describe(&xs)[i]), "{} {}", stat, d.get(stat, "x").unwrap());
                prop_assert!(close(d.get(stat, "i").unwrap(), oracle_describe(&is)[i]));
            }
            prop_assert_eq!(d.columns(), ["i", "x"]);
            // over budget: three passes, same quartiles exactly, moments to rounding
            for budget in [0, 7, 50] {
                let small = df.describe_with(budget).compute_with(s.clone()).unwrap();
                for (i, stat) in dd::describe_rows().iter().enumerate() {
                    let (got, want) = (small.get(stat, "x").unwrap(), oracle_describe(&xs)[i]);
                    if ["mean", "std"].contains(stat) {
                        prop_assert!((got - want).abs() <= 1e-9 * (1.0 + want.abs()), "{} {} {}", stat, got, want);
                    } else {
                        prop_assert!(close(got, want), "budget {} {}: {} vs {}", budget, stat, got, want);
                    }
                    prop_assert!(close(small.get(stat, "i").unwrap(), oracle_describe(&is)[i]) || ["mean", "std"].contains(stat));
                }
            }
            let t = df.compute_with(s.clone()).unwrap();
            prop_assert_eq!(t.len(), rows.len());
            // sort: stable, descending
            let sorted = df.sort_values("i", false).compute_with(s.clone()).unwrap();
            let mut want: Vec<(i64, f64)> = rows.iter().map(|r| (r.0, r.1)).collect();
            want.sort_by_key(|r| std::cmp::Reverse(r.0));
            let got: Vec<(i64, f64)> = (0..sorted.len()).map(|r| (sorted.column("i").unwrap().f64(r).unwrap() as i64, sorted.column("x").unwrap().f64(r).unwrap())).collect();
            prop_assert_eq!(got, want);
            // filter + expressions
            let f = df.filter(col("x").gt(0.0).and(col("i").lt(500.0))).with_column("y", col("x") * 2.0 + col("i"));
            let t = f.compute_with(s.clone()).unwrap();
            let want: Vec<f64> = rows.iter().filter(|r| r.1 > 0.0 && (r.0 as f64) < 500.0).map(|r| r.1 * 2.0 + r.0 as f64).collect();
            prop_assert_eq!(t.column("y").unwrap().to_f64().unwrap(), want);
            // groupby
            let g = df.groupby("k").agg(&[("i", Agg::Sum), ("x", Agg::Mean), ("x", Agg::Count)]).compute_with(s.clone()).unwrap();
            let mut keys: Vec<u8> = rows.iter().map(|r| r.2).collect();
            keys.sort();
            keys.dedup();
            prop_assert_eq!(g.len(), keys.len());
            for (row, k) in keys.iter().enumerate() {
                let members: Vec<&(i64, f64, u8)> = rows.iter().filter(|r| r.2 == *k).collect();
                prop_assert_eq!(g.column("k").unwrap().text(row), Some(format!("k{k}")));
                prop_assert_eq!(g.column("i").unwrap().f64(row).unwrap() as i64, members.iter().map(|r| r.0).sum::<i64>());
                let mean = members.iter().map(|r| r.1).sum::<f64>() / members.len() as f64;
                prop_assert!(close(g.column("x_mean").unwrap().f64(row).unwrap(), mean) || (g.column("x_mean").unwrap().f64(row).unwrap() - mean).abs() < 1e-9);
                prop_assert_eq!(g.column("x_count").unwrap().f64(row).unwrap() as usize, members.len());
            }
        }
        prop_assert_eq!(df.len().unwrap(), rows.len());
        let h = df.head(5).unwrap();
        prop_assert_eq!(h.len(), rows.len().min(5));
        prop_assert_eq!(h.column("i").unwrap().f64(0).unwrap() as i64, rows[0].0);
    }
}

fn write(d: &Path, name: &str, text: &str) {
    std::fs::write(d.join(name), text).unwrap();
}

#[test]
fn describe_over_budget_handles_constant_and_skewed_columns() {
    let rows: Vec<(f64, f64)> = (0..5000)
        .map(|i| (7.5, if i % 100 == 0 { 1e9 } else { (i % 7) as f64 }))
        .collect();
    let df = db::from_sequence(rows.clone(), 6)
        .unwrap()
        .to_dataframe(&["c", "s"])
        .unwrap();
    let exact = df.describe().compute().unwrap();
    let passes = df.describe_with(10).compute().unwrap();
    for stat in dd::describe_rows() {
        for c in ["c", "s"] {
            let (a, b) = (exact.get(stat, c).unwrap(), passes.get(stat, c).unwrap());
            assert!(
                (a - b).abs() <= 1e-9 * (1.0 + a.abs()),
                "{stat} {c}: {a} vs {b}"
            );
        }
    }
    assert_eq!(passes.get("50%", "c").unwrap(), 7.5);
}

#[test]
fn read_csv_infers_agrees_and_reads() {
    let d = scratch("read");
    write(
        &d,
        "a1.csv",
        "id,x,name,flag\n1,2,ann,True\n2,3,bob,False\n",
    );
    write(&d, "a2.csv", "id,x,name,flag\n3,4.5,,true\n4,,dan,False\n"); // x widens to float; nulls
    let df = dd::read_csv(&pat(&d, "a*.csv"), CsvOptions::default()).unwrap();
    assert_eq!(df.columns(), ["id", "x", "name", "flag"]);
    let types: Vec<DType> = df.dtypes().into_iter().map(|(_, t)| t).collect();
    assert_eq!(types, [DType::I64, DType::F64, DType::Str, DType::Bool]);
    let t = df.compute().unwrap();
    assert_eq!(t.column("id").unwrap(), &Column::I64(vec![1, 2, 3, 4]));
    let x = t.column("x").unwrap().to_f64().unwrap();
    assert_eq!(&x[..3], &[2.0, 3.0, 4.5]);
    assert!(x[3].is_nan());
    assert_eq!(
        t.column("name").unwrap(),
        &Column::Str(vec![
            Some("ann".into()),
            Some("bob".into()),
            None,
            Some("dan".into())
        ])
    );
    assert_eq!(
        t.column("flag").unwrap(),
        &Column::Bool(vec![true, false, true, false])
    );
    assert_eq!(
        df.describe().compute().unwrap().get("count", "x").unwrap(),
        3.0
    );

    // no header: columns "0", "1", …; other delimiters; gzip
    write(&d, "n.csv", "1;2.5\n3;4.5\n");
    let df = dd::read_csv(
        &pat(&d, "n.csv"),
        CsvOptions::default().header(false).delimiter(b';'),
    )
    .unwrap();
    assert_eq!(df.columns(), ["0", "1"]);
    assert_eq!(
        df.describe().compute().unwrap().get("mean", "1").unwrap(),
        3.5
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"a,b\n1,2\n3,4\n").unwrap();
    std::fs::write(d.join("z.csv.gz"), gz.finish().unwrap()).unwrap();
    let z = dd::read_csv(&pat(&d, "z.csv.gz"), CsvOptions::default()).unwrap();
    assert_eq!(
        z.compute().unwrap().column("b").unwrap(),
        &Column::I64(vec![2, 4])
    );
    // explicit names and dtypes
    let named = dd::read_csv(
        &pat(&d, "n.csv"),
        CsvOptions::default()
            .header(false)
            .delimiter(b';')
            .names(&["p", "q"])
            .dtype("p", DType::F64),
    )
    .unwrap();
    assert_eq!(
        named.dtypes(),
        vec![("p".to_string(), DType::F64), ("q".to_string(), DType::F64)]
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn blocks_give_the_same_table() {
    let d = scratch("blocks");
    let mut text = String::from("a,b\n");
    for i in 0..2000 {
        text.push_str(&format!("{i},{}\n", i as f64 * 0.25));
    }
    write(&d, "big.csv", &text);
    let whole = dd::read_csv(&pat(&d, "big.csv"), CsvOptions::default().blocksize(None)).unwrap();
    let want = whole.compute().unwrap();
    for bs in [10, 100, 1000, 7777] {
        let df = dd::read_csv(
            &pat(&d, "big.csv"),
            CsvOptions::default().blocksize(Some(bs)),
        )
        .unwrap();
        assert!(df.npartitions() > 1);
        assert_eq!(
            df.compute_with(Scheduler::threads(2)).unwrap(),
            want,
            "blocksize {bs}"
        );
        assert_eq!(df.head(3).unwrap(), want.head(3));
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_csv_is_an_error_naming_file_line_and_column() {
    let d = scratch("bad");
    write(&d, "ragged.csv", "a,b\n1,2\n3\n");
    let e = dd::read_csv(&pat(&d, "ragged.csv"), CsvOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("ragged.csv:3") && e.contains("expected 2 fields"),
        "{e}"
    );
    // past the sample: found at compute
    let mut long = String::from("a,b\n");
    for i in 0..40_000 {
        long.push_str(&format!("{i},{i}\n"));
    }
    long.push_str("1,2,3\n");
    write(&d, "late.csv", &long);
    let e = dd::read_csv(
        &pat(&d, "late.csv"),
        CsvOptions::default().blocksize(Some(100_000)),
    )
    .unwrap()
    .compute()
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("late.csv:40002") && e.contains("expected 2 fields"),
        "{e}"
    );
    // a value that does not fit the declared type
    write(&d, "typed.csv", "a,b\n1,2\n3,oops\n");
    let e = dd::read_csv(
        &pat(&d, "typed.csv"),
        CsvOptions::default().dtype("b", DType::I64),
    )
    .unwrap()
    .compute()
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("typed.csv:3") && e.contains("\"b\"") && e.contains("oops"),
        "{e}"
    );
    // ... or widened on request
    let t = dd::read_csv(
        &pat(&d, "typed.csv"),
        CsvOptions::default().dtype("b", DType::I64).widen(true),
    )
    .unwrap()
    .compute()
    .unwrap();
    assert_eq!(t.column("b").unwrap().text(1).as_deref(), Some("oops"));
    // a late value that does not fit the inferred type
    let mut late = String::from("a\n");
    for i in 0..100_000 {
        late.push_str(&format!("{i}\n"));
    }
    late.push_str("1.5\n");
    write(&d, "latefloat.csv", &late);
    let e = dd::read_csv(&pat(&d, "latefloat.csv"), CsvOptions::default())
        .unwrap()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("latefloat.csv:100002") && e.contains("int64"),
        "{e}"
    );
    // no files; unknown columns
    assert!(matches!(
        dd::read_csv(&pat(&d, "none*.csv"), CsvOptions::default()),
        Err(Error::NoFiles { .. })
    ));
    let df = dd::read_csv(
        &pat(&d, "ragged.csv"),
        CsvOptions::default().blocksize(Some(4)),
    )
    .map(|_| ())
    .unwrap_err();
    drop(df);
    let ok = dd::read_csv(&pat(&d, "typed.csv"), CsvOptions::default().widen(true)).unwrap();
    assert!(matches!(
        ok.select(&["zz"]),
        Err(Error::UnknownColumn { .. })
    ));
    assert!(ok
        .sort_values("zz", true)
        .compute()
        .unwrap_err()
        .to_string()
        .contains("zz"));
    assert!(ok.groupby("zz").sum().compute().is_err());
    assert!(ok.filter(col("zz").gt(1.0)).compute().is_err());
    assert_eq!(
        ok.with_column("c", col("b") * 2.0)
            .compute()
            .unwrap_err()
            .to_string(),
        r#"column "b" is string, but arithmetic needs a number"#
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn csv_round_trip_and_bag_to_dataframe() {
    let d = scratch("rt");
    let b = db::from_sequence((0..50).map(|i| (format!("w{i}"), i as u64 * 3)), 3).unwrap();
    let df = b.to_dataframe(&["word", "n"]).unwrap();
    let files = df.to_csv(&pat(&d, "out/*.csv")).unwrap();
    assert_eq!(files.len(), 3);
    let back = dd::read_csv(&pat(&d, "out/*.csv"), CsvOptions::default()).unwrap();
    assert_eq!(back.compute().unwrap(), df.compute().unwrap());
    let top = df.sort_values("word", false).head(2).unwrap();
    assert_eq!(top.column("word").unwrap().text(0).as_deref(), Some("w9"));
    assert_eq!(df.select(&["n"]).unwrap().compute().unwrap().names(), ["n"]);
    assert!(b.to_dataframe(&["only-one"]).is_err());
    std::fs::remove_dir_all(&d).unwrap();
}

/// A float field as files spell them (some are not floats: the column is then read as text).
fn float_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<f64>().prop_map(|x| x.to_string()),
        2 => (-1e6f64..1e6).prop_map(|x| x.to_string()),
        1 => any::<f64>().prop_map(|x| format!("{x:e}")),
        1 => (-1e3f64..1e3).prop_map(|x| format!("{x:.3}")),
        2 => proptest::sample::select(vec![
            "", " 1.5", "2.5 ", "inf", "-inf", "NaN", "nan", "1e5", ".5", "5.", "+2.5", "-0",
            "1E-7", "123456789012345678901234567890", "NA", "N/A", "null", "-1.#IND",
        ])
        .prop_map(String::from),
    ]
}

/// An integer field (19-digit values and signs included).
fn int_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<i64>().prop_map(|x| x.to_string()),
        2 => (-1000i64..1000).prop_map(|x| x.to_string()),
        1 => proptest::sample::select(vec!["+7", "0007", "-0", " 12", "9223372036854775807"])
            .prop_map(String::from),
    ]
}

/// A text field, sometimes quoted (with the delimiter inside).
fn word_text() -> impl Strategy<Value = String> {
    proptest::sample::select(vec![
        "a",
        "bé",
        "",
        "x y",
        "True",
        "7",
        "\"q,uo\"",
        "\"say \"\"hi\"\"\"",
        "NA",
        "None",
        "<NA>",
        "na",
    ])
    .prop_map(String::from)
}

/// pandas' default `na_values`: texts `read_csv` reads as missing (as the empty field).
const PANDAS_NA: [&str; 19] = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
];

/// The values of a field as `read_csv` documents them, from the csv crate's unquoted field.
fn oracle_column(dtype: DType, fields: &[String]) -> Column {
    let missing = |f: &String| PANDAS_NA.contains(&f.as_str());
    let num = |f: &String| f.trim().to_owned();
    match dtype {
        DType::F64 => Column::F64(
            fields
                .iter()
                .map(|f| {
                    if missing(f) {
                        f64::NAN
                    } else {
                        num(f).parse().unwrap()
                    }
                })
                .collect(),
        ),
        DType::I64 => Column::I64(fields.iter().map(|f| num(f).parse().unwrap()).collect()),
        DType::Bool => Column::Bool(
            fields
                .iter()
                .map(|f| ["True", "true", "TRUE"].contains(&num(f).as_str()))
                .collect(),
        ),
        DType::Str => Column::Str(
            fields
                .iter()
                .map(|f| (!missing(f)).then(|| f.clone()))
                .collect(),
        ),
    }
}

/// Columns equal, floats compared bit for bit (so NaN equals NaN).
fn same_column(a: &Column, b: &Column) -> bool {
    match (a, b) {
        (Column::F64(x), Column::F64(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(p, q)| p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()))
        }
        _ => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The fast path against the csv crate: every field typed as the inferred dtype says,
    /// whatever the line endings, blank lines, quoting and block boundaries.
    #[test]
    fn read_csv_matches_the_csv_crate(
        rows in proptest::collection::vec((float_text(), int_text(), word_text()), 1..60),
        crlf in any::<bool>(),
        blank_every in 0usize..7,
        blocksize in proptest::option::of(8u64..400),
        delim in proptest::sample::select(vec![',', ';', '\t', '|']),
    ) {
        let d = scratch("oracle");
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut text = format!("f{delim}i{delim}s{eol}");
        for (k, (f, i, s)) in rows.iter().enumerate() {
            text.push_str(&format!("{f}{delim}{i}{delim}{s}{eol}"));
            if blank_every > 0 && k % blank_every == 0 {
                text.push_str(eol);
            }
        }
        write(&d, "t.csv", &text);
        let mut rdr = csv::ReaderBuilder::new().delimiter(delim as u8).from_reader(text.as_bytes());
        let records: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
        let opts = CsvOptions::default().blocksize(blocksize).delimiter(delim as u8);
        let df = dd::read_csv(&pat(&d, "t.csv"), opts).unwrap();
        let t = df.compute_with(Scheduler::threads(2)).unwrap();
        prop_assert_eq!(t.len(), records.len());
        for (c, (name, dtype)) in df.dtypes().into_iter().enumerate() {
            let fields: Vec<String> = records.iter().map(|r| r[c].to_owned()).collect();
            let want = oracle_column(dtype, &fields);
            let got = t.column(&name).unwrap();
            prop_assert!(same_column(got, &want), "{}: {:?} vs {:?}", name, got, want);
            if dtype == DType::F64 {
                let xs = want.to_f64().unwrap();
                if xs.iter().filter(|x| !x.is_nan()).count() > 1 && xs.iter().all(|x| x.is_nan() || x.abs() < 1e12) {
                    let desc = df.describe().compute().unwrap();
                    for (s, stat) in dd::describe_rows().iter().enumerate() {
                        let (g, w) = (desc.get(stat, &name).unwrap(), oracle_describe(&xs)[s]);
                        prop_assert!(close(g, w) || (["mean", "std"].contains(stat) && (g - w).abs() <= 1e-9 * w.abs()), "{} {}: {} vs {}", name, stat, g, w);
                    }
                }
            }
        }
        std::fs::remove_dir_all(&d).unwrap();
    }
}

#[test]
fn blank_lines_spaces_and_bytes_that_are_not_text() {
    let d = scratch("odd");
    // blank lines (either ending) are skipped, also in one-column files
    write(&d, "one.csv", "a\r\n1.5\r\n\r\n2\r\n\n");
    let t = dd::read_csv(&pat(&d, "one.csv"), CsvOptions::default())
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(t.column("a").unwrap(), &Column::F64(vec![1.5, 2.0]));
    write(&d, "words.csv", "s\r\nx\r\n\r\ny");
    let t = dd::read_csv(&pat(&d, "words.csv"), CsvOptions::default())
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(
        t.column("s").unwrap(),
        &Column::Str(vec![Some("x".into()), Some("y".into())])
    );
    // spaces around numbers and booleans are dropped; other whitespace is not
    write(&d, "sp.csv", "x,b\n 1.5 , True\n2,False\n");
    let declared = CsvOptions::default()
        .dtype("x", DType::F64)
        .dtype("b", DType::Bool);
    let t = dd::read_csv(&pat(&d, "sp.csv"), declared)
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(t.column("x").unwrap(), &Column::F64(vec![1.5, 2.0]));
    assert_eq!(t.column("b").unwrap(), &Column::Bool(vec![true, false]));
    write(&d, "tab.csv", "b\nTrue\n\tTrue\n");
    let e = dd::read_csv(
        &pat(&d, "tab.csv"),
        CsvOptions::default().dtype("b", DType::Bool),
    )
    .unwrap()
    .compute()
    .unwrap_err()
    .to_string();
    assert!(e.contains("tab.csv:3") && e.contains("\"b\""), "{e}");
    // a delimiter that could be part of a number splits fields first
    write(&d, "dot.csv", "1.5.x\n2.25.y\n");
    let t = dd::read_csv(
        &pat(&d, "dot.csv"),
        CsvOptions::default().header(false).delimiter(b'.'),
    )
    .unwrap()
    .compute()
    .unwrap();
    assert_eq!(t.column("0").unwrap(), &Column::I64(vec![1, 2]));
    assert_eq!(t.column("1").unwrap(), &Column::I64(vec![5, 25]));
    // bytes that are not UTF-8: an error naming the line, or readable text when widening
    std::fs::write(d.join("bin.csv"), b"n,s\n1,ok\n2,\xff\xfe\n").unwrap();
    let e = dd::read_csv(&pat(&d, "bin.csv"), CsvOptions::default())
        .unwrap()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(e.contains("bin.csv:3") && e.contains("\"s\""), "{e}");
    let t = dd::read_csv(&pat(&d, "bin.csv"), CsvOptions::default().widen(true))
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(t.len(), 2);
    assert_eq!(
        t.column("s").unwrap().text(1).as_deref(),
        Some("\u{fffd}\u{fffd}")
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn quoted_files_read_and_fail_by_line_after_the_fast_path_hands_over() {
    let d = scratch("quoted");
    // quotes from the start: the csv crate reads the block
    write(&d, "q.csv", "a,b\n\"x,y\",1\n\"say \"\"hi\"\"\",2\n");
    let t = dd::read_csv(&pat(&d, "q.csv"), CsvOptions::default())
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(t.column("a").unwrap().text(0).as_deref(), Some("x,y"));
    assert_eq!(
        t.column("a").unwrap().text(1).as_deref(),
        Some("say \"hi\"")
    );
    assert_eq!(t.column("b").unwrap(), &Column::I64(vec![1, 2]));
    // the first quote far into the file (past the first read): rows before it are read by
    // the fast path, and errors after it still name the right line
    let mut long = String::from("a,b\n");
    for i in 0..100_000 {
        long.push_str(&format!("{i},{}\n", i * 2));
    }
    let ok = format!("{long}\"7\",8\n");
    write(&d, "late-ok.csv", &ok);
    let t = dd::read_csv(&pat(&d, "late-ok.csv"), CsvOptions::default())
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(t.len(), 100_001);
    assert_eq!(t.column("a").unwrap().f64(100_000), Some(7.0));
    write(&d, "late-ragged.csv", &format!("{long}\"7\",8\n1,2,3\n"));
    for bs in [None, Some(1 << 20)] {
        let e = dd::read_csv(
            &pat(&d, "late-ragged.csv"),
            CsvOptions::default().blocksize(bs),
        )
        .unwrap()
        .compute()
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("late-ragged.csv:100003") && e.contains("expected 2 fields"),
            "{e}"
        );
    }
    write(&d, "late-type.csv", &format!("{long}\"7\",8\n9,\"oops\"\n"));
    let e = dd::read_csv(&pat(&d, "late-type.csv"), CsvOptions::default())
        .unwrap()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("late-type.csv:100003") && e.contains("\"b\"") && e.contains("oops"),
        "{e}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

fn texts(t: &dd::Table, c: &str) -> Vec<Option<String>> {
    let c = t.column(c).unwrap();
    (0..c.len()).map(|i| c.text(i)).collect()
}

#[test]
fn read_csv_types_hold_every_value_as_pandas_reads_them() {
    let d = scratch("types");
    let p = |name: &str| pat(&d, name);
    // files that disagree: each column's type holds every file's values
    std::fs::write(d.join("a1.csv"), "e,i,b,f\n,1,True,1\n,2,False,2\n").unwrap();
    std::fs::write(d.join("a2.csv"), "e,i,b,f\n5,,1,2.5\n6,3,0,\n").unwrap();
    let df = dd::read_csv(&p("a*.csv"), CsvOptions::default()).unwrap();
    let types: Vec<DType> = df.dtypes().into_iter().map(|(_, t)| t).collect();
    assert_eq!(types, [DType::F64, DType::F64, DType::Str, DType::F64]);
    let t = df.compute().unwrap();
    let got: Vec<DType> = t.columns().iter().map(Column::dtype).collect();
    assert_eq!(got, types);
    let e = t.column("e").unwrap().to_f64().unwrap();
    assert!(e[0].is_nan() && e[1].is_nan());
    assert_eq!(&e[2..], &[5.0, 6.0]);
    assert_eq!(texts(&t, "b")[0].as_deref(), Some("True"));
    assert_eq!(texts(&t, "b")[3].as_deref(), Some("0"));
    assert!(t.column("i").unwrap().f64(2).unwrap().is_nan());

    // pandas' missing-value texts: an int column with "NA" is float64, a text column's
    // "None" and "n/a" are missing, "na" is text
    std::fs::write(
        d.join("na.csv"),
        "i,s,b\n1,x,True\nNA,None,NULL\n3,n/a,False\n4,na,<NA>\n",
    )
    .unwrap();
    let df = dd::read_csv(&p("na.csv"), CsvOptions::default()).unwrap();
    let types: Vec<DType> = df.dtypes().into_iter().map(|(_, t)| t).collect();
    assert_eq!(types, [DType::F64, DType::Str, DType::Str]);
    let t = df.compute().unwrap();
    let i = t.column("i").unwrap().to_f64().unwrap();
    assert!(i[1].is_nan() && i[3] == 4.0);
    assert_eq!(
        texts(&t, "s"),
        [Some("x".to_string()), None, None, Some("na".to_string())]
    );
    assert_eq!(
        texts(&t, "b"),
        [
            Some("True".to_string()),
            None,
            Some("False".to_string()),
            None
        ]
    );

    // an empty cell past the sample: an error that says what to do; widen(true) reads it as
    // pandas does, and dtypes() says so before computing
    let mut text = String::from("n,s\n");
    for i in 0..60_000 {
        text.push_str(&format!("{i},{}\n", i % 7));
    }
    text.push_str(",x\n7,8\n");
    std::fs::write(d.join("late.csv"), text).unwrap();
    let strict = dd::read_csv(&p("late.csv"), CsvOptions::default()).unwrap();
    assert_eq!(strict.dtypes()[0].1, DType::I64);
    let e = strict.compute().unwrap_err().to_string();
    assert!(
        e.contains("late.csv:60002")
            && e.contains("\"n\" has a missing value")
            && e.contains("widen(true)"),
        "{e}"
    );
    let wide = dd::read_csv(
        &p("late.csv"),
        CsvOptions::default().widen(true).blocksize(Some(100_000)),
    )
    .unwrap();
    assert!(wide.npartitions() > 1);
    assert_eq!(
        wide.dtypes(),
        vec![("n".to_string(), DType::F64), ("s".to_string(), DType::Str)]
    );
    let t = wide.compute().unwrap();
    assert_eq!(t.column("n").unwrap().dtype(), DType::F64);
    assert!(t.column("n").unwrap().f64(60_000).unwrap().is_nan());
    assert_eq!(t.column("n").unwrap().f64(60_001), Some(7.0));
    assert_eq!(texts(&t, "s")[0].as_deref(), Some("0"));
    assert_eq!(texts(&t, "s")[60_000].as_deref(), Some("x"));
    // every partition has the announced types, including those with no odd value
    for part in wide.to_delayed() {
        let part = part.compute().unwrap();
        let got: Vec<DType> = part.columns().iter().map(Column::dtype).collect();
        assert_eq!(got, [DType::F64, DType::Str]);
    }
    std::fs::remove_dir_all(&d).unwrap();
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
fn analyses_of_one_read_csv_computed_together_read_each_file_once() {
    use std::sync::atomic::Ordering;
    use std::sync::Arc;
    let d = scratch("shared-read");
    for f in 0..3 {
        let mut w = std::fs::File::create(d.join(format!("x{f}.csv"))).unwrap();
        writeln!(w, "k,x").unwrap();
        for r in 0..50 {
            writeln!(w, "{},{}", r % 4, (f * 50 + r) as f64 * 0.5).unwrap();
        }
    }
    for s in [Scheduler::sync(), Scheduler::threads(2)] {
        let df = dd::read_csv(&pat(&d, "x*.csv"), CsvOptions::default()).unwrap();
        let desc = df.describe();
        let sums = df.groupby("k").sum();
        let big = df.filter(col("x").gt(20.0));
        let sorted = df.sort_values("x", false);
        // computed alone, each output parses the files inside its own tasks
        let parsed = Arc::new(Started("read-csv", Default::default()));
        let alone = (
            desc.compute_with(s.clone().observe(parsed.clone()))
                .unwrap(),
            sums.compute_with(s.clone()).unwrap(),
            big.compute_with(s.clone()).unwrap(),
            sorted.compute_with(s.clone()).unwrap(),
        );
        assert_eq!(parsed.1.load(Ordering::Relaxed), 0);
        // together, each of the 3 partitions is parsed by one task the four analyses read
        let parsed = Arc::new(Started("read-csv", Default::default()));
        let (a, b, c, e) = dagr::compute_with(
            (&desc, &sums, &big, &sorted),
            s.clone().observe(parsed.clone()),
        )
        .unwrap();
        assert_eq!(parsed.1.load(Ordering::Relaxed), 3);
        assert_eq!(a, alone.0);
        assert_eq!((b, c, e), (alone.1, alone.2, alone.3));
        // a step read by one analysis only stays fused into its tasks
        let parsed = Arc::new(Started("read-csv", Default::default()));
        big.compute_with(s.clone().observe(parsed.clone())).unwrap();
        assert_eq!(parsed.1.load(Ordering::Relaxed), 0);
    }
}
