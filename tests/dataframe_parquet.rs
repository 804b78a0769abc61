//! Parquet files and Arrow record batches (feature `parquet`): frames written and read back
//! unchanged, files written by pyarrow and pandas (`tests/data/parquet`), projection, filters
//! against plain iterators, row groups pruned by their statistics, clear errors.

use dagr::bag as db;
use dagr::dataframe::{self as dd, Column, Table};
use dagr::prelude::*;
use proptest::prelude::*;
use std::path::PathBuf;

fn fixture(name: &str) -> String {
    format!("{}/tests/data/parquet/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dagr-test-parquet-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

type Row = (i64, f64, bool, Option<String>);

fn frame(rows: &[Row], parts: usize) -> dd::DataFrame {
    db::from_sequence(rows.to_vec(), parts)
        .unwrap()
        .to_dataframe(&["i", "x", "b", "s"])
        .unwrap()
}

/// Tables equal value for value, NaN equal to NaN.
fn same(a: &Table, b: &Table) -> bool {
    a.names() == b.names()
        && a.columns()
            .iter()
            .zip(b.columns())
            .all(|(x, y)| match (x, y) {
                (Column::F64(x), Column::F64(y)) => {
                    x.len() == y.len()
                        && x.iter()
                            .zip(y)
                            .all(|(p, q)| p == q || (p.is_nan() && q.is_nan()))
                }
                _ => x == y,
            })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// What to_parquet writes, read_parquet reads back unchanged (one partition per file),
    /// and a filter keeps the rows a plain filter keeps; on every scheduler.
    #[test]
    fn written_frames_read_back_unchanged(
        rows in proptest::collection::vec((
            -1000i64..1000,
            prop_oneof![Just(f64::NAN), -1e6f64..1e6],
            any::<bool>(),
            proptest::option::weighted(0.8, "[a-zé ]{0,6}"),
        ), 0..60),
        parts in 1usize..4,
        cut in -1000i64..1000,
    ) {
        let dir = scratch("roundtrip");
        let df = frame(&rows, parts);
        let files = df.to_parquet(&dir).unwrap();
        prop_assert_eq!(files.len(), df.npartitions());
        let back = dd::read_parquet(&dir.display().to_string()).unwrap();
        prop_assert_eq!(back.dtypes(), df.dtypes());
        let want = df.compute().unwrap();
        let opts = dd::ParquetOptions::default().columns(&["s", "i"]).filter("i", ">=", cut);
        let some = dd::read_parquet_with(&dir.display().to_string(), opts).unwrap();
        let plain: Vec<(Option<String>, i64)> = rows.iter().filter(|r| r.0 >= cut).map(|r| (r.3.clone(), r.0)).collect();
        for s in [Scheduler::sync(), Scheduler::threads(2)] {
            prop_assert!(same(&back.compute_with(s.clone()).unwrap(), &want));
            let t = some.compute_with(s).unwrap();
            prop_assert_eq!(t.names(), ["s", "i"]);
            let got: Vec<(Option<String>, i64)> = (0..t.len())
                .map(|r| (t.column("s").unwrap().text(r), t.column("i").unwrap().f64(r).unwrap() as i64))
                .collect();
            prop_assert_eq!(&got, &plain);
        }
        let batch = want.to_record_batch().unwrap();
        prop_assert!(same(&Table::from_record_batch(&batch).unwrap(), &want));
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn files_written_by_pyarrow_read_with_their_types() {
    let df = dd::read_parquet(&fixture("mixed.parquet")).unwrap();
    assert_eq!(df.npartitions(), 3, "one partition per row group");
    let types: Vec<String> = df
        .dtypes()
        .iter()
        .map(|(n, d)| format!("{n}:{d}"))
        .collect();
    assert_eq!(
        types,
        [
            "i:int64",
            "f:float64",
            "b:bool",
            "s:string",
            "n:float64",
            "bn:string",
            "g:float64",
            "z:float64"
        ]
    );
    for s in [Scheduler::sync(), Scheduler::threads(2)] {
        let t = df.compute_with(s).unwrap();
        assert_eq!(t.column("i").unwrap(), &Column::I64((0..10).collect()));
        let f = t.column("f").unwrap();
        assert_eq!(f.f64(1), Some(1.5));
        assert!(f.f64(2).unwrap().is_nan());
        assert_eq!(
            t.column("b").unwrap(),
            &Column::Bool((0..10).map(|i| i % 3 == 0).collect())
        );
        assert_eq!(t.column("s").unwrap().text(3), None);
        assert_eq!(t.column("s").unwrap().text(9).as_deref(), Some("j"));
        let n = t.column("n").unwrap();
        assert_eq!(n.f64(8), Some(18.0));
        assert!(n.f64(9).unwrap().is_nan());
        let bn = t.column("bn").unwrap();
        assert_eq!((bn.text(0).as_deref(), bn.text(1)), (Some("True"), None));
        assert_eq!(t.column("g").unwrap().f64(5), Some(1.25));
        assert!(t.column("z").unwrap().f64(0).unwrap().is_nan());
    }
    let whole = dd::read_parquet_with(
        &fixture("mixed.parquet"),
        dd::ParquetOptions::default().per_file(true),
    )
    .unwrap();
    assert_eq!(whole.npartitions(), 1);
    assert_eq!(whole.len().unwrap(), 10);

    let pandas = dd::read_parquet(&fixture("pandas.parquet")).unwrap();
    let t = pandas.compute().unwrap();
    assert_eq!(t.names(), ["k", "v", "c"]);
    assert_eq!(t.column("v").unwrap(), &Column::F64(vec![1.25, -2.0, 3.0]));
    assert_eq!(t.column("c").unwrap(), &Column::I64(vec![3, 2, 1]));
    assert_eq!(t.column("k").unwrap().text(1).as_deref(), Some("y"));
}

/// Filters read only the row groups whose statistics allow a passing row, and keep only
/// the passing rows, as a plain filter does.
#[test]
fn filters_prune_row_groups_by_their_statistics() {
    let path = fixture("mixed.parquet");
    let read = |o: dd::ParquetOptions| dd::read_parquet_with(&path, o).unwrap();
    let o = || dd::ParquetOptions::default();
    // row groups hold i in 0..4, 4..8, 8..10
    let cases: Vec<(dd::DataFrame, usize, Vec<i64>)> = vec![
        (read(o().filter("i", ">", 5)), 2, (6..10).collect()),
        (read(o().filter("i", ">=", 8)), 1, vec![8, 9]),
        (read(o().filter("i", "<", 4)), 1, (0..4).collect()),
        (read(o().filter("i", "<=", 4)), 2, (0..5).collect()),
        (read(o().filter("i", "==", 5)), 1, vec![5]),
        (
            read(o().filter("i", "!=", 5)),
            3,
            vec![0, 1, 2, 3, 4, 6, 7, 8, 9],
        ),
        (read(o().filter("f", ">", 7.0)), 2, vec![7, 8, 9]),
        (read(o().filter("s", ">=", "h")), 2, vec![7, 8, 9]),
        (
            read(o().filter("n", "<", 12.5).filter("i", ">", 0)),
            1,
            vec![1, 2],
        ),
        (read(o().filter("i", ">", 100)), 0, vec![]),
    ];
    for (df, parts, want) in cases {
        assert_eq!(df.npartitions(), parts);
        let t = df.compute().unwrap();
        assert_eq!(t.column("i").unwrap(), &Column::I64(want));
    }
    // a filter on a column not shown
    let t = read(o().columns(&["s"]).filter("i", "==", 1))
        .compute()
        .unwrap();
    assert_eq!(t.names(), ["s"]);
    assert_eq!(t.column("s").unwrap().text(0).as_deref(), Some("b"));
}

#[test]
fn errors_name_the_file_column_and_type() {
    let path = fixture("timestamps.parquet");
    let e = dd::read_parquet(&path).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("timestamps.parquet"), "{msg}");
    assert!(msg.contains(r#"column "t" is of type Timestamp"#), "{msg}");
    // a column that is not read may be of any type
    let t = dd::read_parquet_with(&path, dd::ParquetOptions::default().columns(&["i"]))
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(t.column("i").unwrap(), &Column::I64(vec![1, 2]));
    let e =
        dd::read_parquet_with(&path, dd::ParquetOptions::default().columns(&["nope"])).unwrap_err();
    assert!(matches!(e, Error::UnknownColumn { .. }), "{e}");
    let e = dd::read_parquet_with(
        &fixture("mixed.parquet"),
        dd::ParquetOptions::default().filter("i", "~", 1),
    )
    .unwrap_err();
    assert!(e.to_string().contains(r#"unknown comparison "~""#), "{e}");
    let e = dd::read_parquet_with(
        &fixture("mixed.parquet"),
        dd::ParquetOptions::default().filter("s", ">", 1),
    )
    .unwrap_err();
    assert!(e.to_string().contains("cannot compare"), "{e}");
    let e = dd::read_parquet(&fixture("nothing*.parquet")).unwrap_err();
    assert!(matches!(e, Error::NoFiles { .. }), "{e}");
}

/// A write that fails leaves the good file in place and no temporary file behind.
#[test]
fn a_failed_write_leaves_the_good_output() {
    let dir = scratch("atomic");
    let rows: Vec<Row> = vec![(1, 0.5, true, Some("a".into()))];
    frame(&rows, 1).to_parquet(&dir).unwrap();
    let good = std::fs::read(dir.join("part.0.parquet")).unwrap();
    let bad = frame(&rows, 1).filter(dd::col("nope").gt(1));
    assert!(bad.to_parquet(&dir).is_err());
    assert_eq!(std::fs::read(dir.join("part.0.parquet")).unwrap(), good);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["part.0.parquet"]);
    std::fs::remove_dir_all(dir).unwrap();
}
