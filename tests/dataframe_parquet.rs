//! Parquet files and Arrow record batches (feature `parquet`): frames written and read back
//! unchanged (empty partitions too), files written by pyarrow and pandas
//! (`tests/data/parquet`), projection, filters against plain iterators, row groups pruned by
//! their statistics, clear errors; `to_parquet` writes its parts as `to_csv` does (a failed
//! write keeps the old output, a shorter output removes the rest of a longer one, a commit
//! a killed write left is finished by `read_parquet`).

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
        prop_assert_eq!(back.npartitions(), df.npartitions());
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

/// The names in `dir`, sorted.
fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

/// The contents of every file in `dir`, by name.
fn snapshot(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    names(dir)
        .into_iter()
        .map(|n| {
            let b = std::fs::read(dir.join(&n)).unwrap();
            (n, b)
        })
        .collect()
}

/// Rows `(i, i / 2, i even, "s{i}")` for `i` in `0..n`.
fn rows(n: i64) -> Vec<Row> {
    (0..n)
        .map(|i| (i, i as f64 / 2.0, i % 2 == 0, Some(format!("s{i}"))))
        .collect()
}

/// A task failing (a panic after the other partitions are written, or an `Err`) leaves the
/// complete old output, whether the new one has fewer, as many or more partitions.
#[test]
fn a_failing_partition_leaves_the_old_parts() {
    for (k, s) in [
        Scheduler::sync(),
        Scheduler::threads(1),
        Scheduler::threads(2),
    ]
    .into_iter()
    .enumerate()
    {
        let dir = scratch(&format!("failing-{k}"));
        frame(&rows(30), 3)
            .to_parquet_with(&dir, s.clone())
            .unwrap();
        let old = snapshot(&dir);
        for parts in [2, 3, 4] {
            let failing = db::from_sequence(rows(40), parts)
                .unwrap()
                .map(|r| {
                    if r.0 == 39 {
                        panic!("injected failure");
                    }
                    r
                })
                .to_dataframe(&["i", "x", "b", "s"])
                .unwrap();
            let err = failing.to_parquet_with(&dir, s.clone()).unwrap_err();
            assert!(err.to_string().contains("injected failure"), "{err}");
            assert_eq!(snapshot(&dir), old, "scheduler {k}, {parts} parts");
        }
        let err = db::from_sequence(rows(40), 4)
            .unwrap()
            .try_map(|r| if r.0 == 12 { Err("bad row") } else { Ok(r) })
            .to_dataframe(&["i", "x", "b", "s"])
            .unwrap()
            .to_parquet_with(&dir, s.clone())
            .unwrap_err();
        assert!(err.to_string().contains("bad row"), "{err}");
        assert_eq!(snapshot(&dir), old, "scheduler {k}");
        let back = dd::read_parquet(&dir.display().to_string()).unwrap();
        assert!(same(
            &back.compute().unwrap(),
            &frame(&rows(30), 3).compute().unwrap()
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }
}

/// As `to_csv`: a write with fewer partitions removes the `part.{i}.parquet` files past its
/// own and nothing else, so the directory reads back as the new frame.
#[test]
fn a_shorter_output_removes_the_rest_of_the_longer_one() {
    let dir = scratch("shorter");
    std::fs::create_dir_all(&dir).unwrap();
    // other files stay, even ones that look almost like parts
    let others = [
        "notes.txt",
        "part.01.parquet",
        "part.x.parquet",
        "part.3.parquet.bak",
    ];
    for keep in others {
        std::fs::write(dir.join(keep), "keep").unwrap();
    }
    frame(&rows(50), 5).to_parquet(&dir).unwrap();
    let short = frame(&rows(7), 2);
    let files = short.to_parquet(&dir).unwrap();
    assert_eq!(
        files,
        [dir.join("part.0.parquet"), dir.join("part.1.parquet")]
    );
    let mut expect: Vec<&str> = others.to_vec();
    expect.extend(["part.0.parquet", "part.1.parquet"]);
    expect.sort();
    assert_eq!(names(&dir), expect);
    for keep in others {
        std::fs::remove_file(dir.join(keep)).unwrap();
    }
    let back = dd::read_parquet(&dir.display().to_string()).unwrap();
    assert_eq!(back.npartitions(), 2);
    assert!(same(&back.compute().unwrap(), &short.compute().unwrap()));
    std::fs::remove_dir_all(dir).unwrap();
}

/// A write killed while it moved its parts into place leaves a journal; `read_parquet`
/// finishes that commit before it lists the files (of a directory or a glob), so it reads
/// the new output whole, never a mix. The killed state is built by hand as the protocol in
/// `core/src/atomic_file.rs` leaves it: the journal `.part.0.parquet.dagr-commit` (count,
/// tag, pattern), part 0 already moved, part 1 still at its temporary name, the old part 2
/// not yet removed.
#[test]
fn a_pending_commit_is_finished_by_read_parquet() {
    let new = frame(&rows(20), 2);
    let staged = scratch("pending-new");
    new.to_parquet(&staged).unwrap();
    for glob in [false, true] {
        let dir = scratch(&format!("pending-{glob}"));
        frame(&rows(30), 3).to_parquet(&dir).unwrap();
        let tag = "c7e57";
        std::fs::copy(staged.join("part.0.parquet"), dir.join("part.0.parquet")).unwrap();
        std::fs::copy(
            staged.join("part.1.parquet"),
            dir.join(format!(".part.1.parquet.tmp-{tag}")),
        )
        .unwrap();
        let pattern = format!("{}/part.*.parquet", dir.display());
        std::fs::write(
            dir.join(".part.0.parquet.dagr-commit"),
            format!("dagr commit\n2\n{tag}\n{pattern}\n"),
        )
        .unwrap();
        let path = match glob {
            false => dir.display().to_string(),
            true => format!("{}/*.parquet", dir.display()),
        };
        let back = dd::read_parquet(&path).unwrap();
        assert_eq!(names(&dir), ["part.0.parquet", "part.1.parquet"]);
        assert_eq!(back.npartitions(), 2);
        assert!(same(&back.compute().unwrap(), &new.compute().unwrap()));
        std::fs::remove_dir_all(dir).unwrap();
    }
    std::fs::remove_dir_all(staged).unwrap();
}

/// An empty partition is written as a file with the columns and no row group, and read back
/// as one empty partition with the columns' types; so is a frame with no row at all.
#[test]
fn empty_partitions_round_trip() {
    // partition 0 holds i = 0..4, all filtered out, partitions 1 and 2 keep theirs; then
    // every row is filtered out
    for (cut, nonempty) in [(4, 2), (100, 0)] {
        let dir = scratch(&format!("empty-{cut}"));
        let df = frame(&rows(12), 3).filter(dd::col("i").ge(cut));
        df.to_parquet(&dir).unwrap();
        assert_eq!(names(&dir).len(), 3);
        let back = dd::read_parquet(&dir.display().to_string()).unwrap();
        assert_eq!(back.npartitions(), 3);
        assert_eq!(back.dtypes(), df.dtypes());
        let lens: Vec<usize> = back
            .to_delayed()
            .into_iter()
            .map(|p| p.compute().unwrap().len())
            .collect();
        assert_eq!(
            lens.iter().filter(|&&n| n > 0).count(),
            nonempty,
            "{lens:?}"
        );
        assert_eq!(lens[0], 0);
        let (got, want) = (back.compute().unwrap(), df.compute().unwrap());
        assert!(same(&got, &want), "{got}\n{want}");
        let per_file = dd::read_parquet_with(
            &dir.display().to_string(),
            dd::ParquetOptions::default().per_file(true),
        )
        .unwrap();
        assert_eq!(per_file.npartitions(), 3);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
