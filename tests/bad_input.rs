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
