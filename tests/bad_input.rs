//! What dagr does with bad input: one test per line of the README's catalogue ("What dagr
//! does with bad input"). Every case is an `Error` naming the file (and the position where
//! there is one): no panic, no abort, no hang.

use dagr::array as da;
use dagr::bag as db;
use dagr::dataframe as dd;
use std::io::Write;
use std::path::PathBuf;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dagr-bad-input-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The error's message, which must name `what`.
fn err_naming<T: std::fmt::Debug>(r: Result<T, dagr::Error>, what: &str) -> String {
    let e = r.expect_err("bad input must be an error").to_string();
    assert!(e.contains(what), "{e:?} does not name {what:?}");
    assert!(e.len() < 1000, "an error message of bounded size: {e}");
    e
}

#[test]
fn memmap_file_shorter_or_longer_than_its_shape() {
    let d = tmp("memmap-size");
    let p = d.join("x.dat");
    std::fs::write(&p, vec![0u8; 8 * 9]).unwrap();
    let e = err_naming(da::from_memmap::<f64>(&p, &[10], &[5]), "x.dat");
    assert!(e.contains("80") && e.contains("72"), "{e}");
    std::fs::write(&p, vec![0u8; 8 * 11]).unwrap();
    err_naming(da::from_memmap::<f64>(&p, &[10], &[5]), "x.dat");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn memmap_shape_whose_size_overflows() {
    let d = tmp("memmap-overflow");
    let p = d.join("x.dat");
    std::fs::write(&p, vec![0u8; 16]).unwrap();
    let huge = usize::MAX / 2 + 1;
    // checked before anything is allocated from the shape
    err_naming(
        da::from_memmap::<f64>(&p, &[huge, 4], &[1, 1]),
        "more elements",
    );
    err_naming(da::from_memmap::<f64>(&p, &[0, huge], &[1, 1]), "blocks");
    err_naming(da::zeros::<f64>(&[1 << 20, 1 << 20], &[1, 1]), "blocks");
    // a size that fits a usize but not the file (its byte count overflows)
    err_naming(da::from_memmap::<f64>(&p, &[huge], &[huge]), "x.dat");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn zero_sized_axes_are_empty_arrays() {
    let d = tmp("memmap-empty");
    let p = d.join("x.dat");
    std::fs::write(&p, b"").unwrap();
    let x = da::from_memmap::<f64>(&p, &[0, 5], &[1, 5]).unwrap();
    assert_eq!(x.compute().unwrap().shape(), &[0, 5]);
    assert_eq!(x.sum().compute().unwrap(), 0.0);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn gzip_truncated_or_with_a_bad_checksum() {
    let d = tmp("gzip");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for i in 0..10_000 {
        writeln!(gz, "line {i}").unwrap();
    }
    let bytes = gz.finish().unwrap();
    std::fs::write(d.join("cut.gz"), &bytes[..bytes.len() / 2]).unwrap();
    let r = db::read_text(&format!("{}/cut.gz", d.display())).and_then(|b| b.count().compute());
    err_naming(r, "cut.gz");
    let mut bad = bytes.clone();
    let n = bad.len();
    bad[n - 8] ^= 0xff; // the CRC-32 of the trailer
    std::fs::write(d.join("crc.gz"), &bad).unwrap();
    let r = db::read_text(&format!("{}/crc.gz", d.display())).and_then(|b| b.count().compute());
    err_naming(r, "crc.gz");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_glob_matching_nothing() {
    let d = tmp("glob");
    let pattern = format!("{}/*.csv", d.display());
    err_naming(db::read_text(&pattern), &pattern);
    err_naming(dd::read_csv(&pattern, dd::CsvOptions::default()), &pattern);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_directory_where_a_file_is_expected() {
    let d = tmp("dir");
    std::fs::create_dir(d.join("x.dat")).unwrap();
    err_naming(da::from_memmap::<f64>(d.join("x.dat"), &[1], &[1]), "x.dat");
    let pattern = format!("{}/x.dat", d.display());
    err_naming(db::read_text(&pattern), "x.dat");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn csv_with_ragged_rows() {
    let d = tmp("ragged");
    std::fs::write(d.join("a.csv"), "x,y\n1,2\n3\n4,5\n").unwrap();
    let r = dd::read_csv(&format!("{}/a.csv", d.display()), dd::CsvOptions::default())
        .and_then(|df| df.describe().compute());
    let e = err_naming(r, "a.csv");
    assert!(e.contains('3'), "names the line: {e}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn csv_empty_and_header_only_files() {
    let d = tmp("empty-csv");
    std::fs::write(d.join("a.csv"), "x,y\n1,2\n").unwrap();
    std::fs::write(d.join("b.csv"), "x,y\n").unwrap();
    let df = dd::read_csv(&format!("{}/*.csv", d.display()), dd::CsvOptions::default()).unwrap();
    let t = df.compute().unwrap();
    assert_eq!(t.len(), 1);
    std::fs::write(d.join("c.csv"), "").unwrap();
    let r = dd::read_csv(&format!("{}/*.csv", d.display()), dd::CsvOptions::default())
        .and_then(|df| df.compute());
    if let Err(e) = &r {
        assert!(e.to_string().contains("c.csv"), "{e}");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn invalid_utf8_in_a_later_block() {
    let d = tmp("utf8");
    let mut bytes = Vec::new();
    for i in 0..5000 {
        writeln!(bytes, "line {i}").unwrap();
    }
    bytes.extend_from_slice(b"bad \xff byte\n");
    for i in 0..100 {
        writeln!(bytes, "after {i}").unwrap();
    }
    std::fs::write(d.join("a.txt"), bytes).unwrap();
    let opts = db::TextOptions::default().blocksize(4096);
    let r = db::read_text_with(&format!("{}/a.txt", d.display()), opts)
        .and_then(|b| b.count().compute());
    let e = err_naming(r, "a.txt");
    assert!(e.contains("5001"), "names the line: {e}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_line_longer_than_the_blocksize() {
    let d = tmp("long-line");
    let long = "x".repeat(100_000);
    std::fs::write(d.join("a.txt"), format!("a\n{long}\nb\n")).unwrap();
    let opts = db::TextOptions::default().blocksize(1024);
    let lines = db::read_text_with(&format!("{}/a.txt", d.display()), opts)
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(lines, vec!["a".to_string(), long, "b".to_string()]);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn csv_with_a_byte_order_mark_crlf_and_quoted_fields() {
    let d = tmp("csv-quoted");
    std::fs::write(
        d.join("a.csv"),
        "\u{feff}x,y\r\n1,\"a,b\"\r\n2,\"two\nlines\"\r\n",
    )
    .unwrap();
    let df = dd::read_csv(&format!("{}/a.csv", d.display()), dd::CsvOptions::default()).unwrap();
    assert_eq!(df.columns(), ["x", "y"]);
    let t = df.compute().unwrap();
    assert_eq!(t.len(), 2);
    assert_eq!(t.column("y").unwrap().text(0).as_deref(), Some("a,b"));
    assert_eq!(
        t.column("y").unwrap().text(1).as_deref(),
        Some("two\nlines")
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn csv_nan_and_inf_text_are_floats() {
    let d = tmp("csv-nan");
    std::fs::write(d.join("a.csv"), "x\n1.5\nnan\ninf\n-inf\n").unwrap();
    let df = dd::read_csv(&format!("{}/a.csv", d.display()), dd::CsvOptions::default()).unwrap();
    let t = df.compute().unwrap();
    let x = t.column("x").unwrap();
    assert!(x.f64(1).unwrap().is_nan());
    assert_eq!(x.f64(2), Some(f64::INFINITY));
    assert_eq!(x.f64(3), Some(f64::NEG_INFINITY));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn csv_column_whose_type_changes_in_the_last_file() {
    let d = tmp("csv-type");
    std::fs::write(d.join("a.csv"), "x,y\n1,2\n").unwrap();
    std::fs::write(d.join("b.csv"), "x,y\n3,hello\n").unwrap();
    let df = dd::read_csv(&format!("{}/*.csv", d.display()), dd::CsvOptions::default()).unwrap();
    match df.describe().compute() {
        // strict: an error naming the file, line and column
        Err(e) => {
            println!("strict: {e}");
            assert!(e.to_string().contains("b.csv"), "{e}")
        }
        // or one type for the whole column, said by dtypes: never a column that is numeric
        // in dtypes and missing from describe
        Ok(desc) => {
            let numeric = df
                .dtypes()
                .iter()
                .filter(|(_, t)| matches!(t, dd::DType::I64 | dd::DType::F64))
                .count();
            println!("dtypes {:?}, describe {:?}", df.dtypes(), desc.columns());
            assert_eq!(desc.columns().len(), numeric, "{:?}", df.dtypes());
        }
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[cfg(feature = "hdf5")]
#[test]
fn hdf5_wrong_dtype_missing_group_other_rank_or_not_hdf5() {
    let d = tmp("hdf5");
    let p = d.join("x.h5");
    da::ones::<f64>(&[4, 6], &[2, 3])
        .unwrap()
        .to_hdf5(&p, "/g/x")
        .unwrap();
    err_naming(da::from_hdf5::<i32>(&p, "/g/x", &[2, 3]), "x.h5");
    err_naming(da::from_hdf5::<f64>(&p, "/nope/x", &[2, 3]), "/nope/x");
    err_naming(da::from_hdf5::<f64>(&p, "/g/x", &[2]), "x.h5");
    std::fs::write(d.join("text.h5"), "not hdf5\n").unwrap();
    err_naming(
        da::from_hdf5::<f64>(d.join("text.h5"), "/g/x", &[2, 3]),
        "text.h5",
    );
    std::fs::remove_dir_all(&d).unwrap();
}
