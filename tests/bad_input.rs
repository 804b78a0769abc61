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
fn a_block_needing_more_memory_than_the_machine() {
    // a sparse file of 1 TiB, more than the machine's memory: nothing of it is written
    let d = tmp("huge-block");
    let p = d.join("x.dat");
    let n: usize = 1 << 37;
    std::fs::File::create(&p).unwrap().set_len(8 << 37).unwrap();
    let x = da::from_memmap::<f64>(&p, &[n], &[n]).unwrap();
    for s in schedulers() {
        // the error comes before anything is allocated: no abort
        let e = err_naming(x.compute_with(s.clone()), "1099511627776 bytes");
        assert!(e.contains(&format!("[{n}]")), "names the shape: {e}");
        let e = err_naming(
            x.map(|v| v as f32).sum().compute_with(s.clone()),
            "549755813888",
        );
        assert!(
            e.contains("a block") && e.contains(&format!("[{n}]")),
            "{e}"
        );
        err_naming(
            x.cumsum(0).unwrap().sum().compute_with(s.clone()),
            "1099511627776",
        );
        let halves = da::from_memmap::<f64>(&p, &[n], &[n / 2]).unwrap();
        let merged = halves.rechunk(&[n]).unwrap().sum().compute_with(s.clone());
        // the two halves are blocks to hold whole, too
        err_naming(merged, "more than the machine's");
        let big = da::random::normal(0.0, 1.0, &[n], &[n], 7).unwrap();
        err_naming(big.mean().compute_with(s.clone()), "1099511627776");
        err_naming(
            da::zeros::<f64>(&[n], &[n])
                .unwrap()
                .max()
                .compute_with(s.clone()),
            "1099511627776",
        );
    }
    let out = d.join("y.dat");
    err_naming((&x * 2.0).to_memmap(&out), "1099511627776");
    assert!(!out.exists(), "nothing written");
    std::fs::remove_dir_all(&d).unwrap();
}

/// The machine's memory a child test process is told it has.
const SMALL_MEMORY: &str = "1048576";

#[test]
fn fused_reductions_read_blocks_larger_than_memory_in_pieces() {
    // run in a child told the machine has 1 MiB (`DAGR_MEMORY_BYTES`), with 4 MiB blocks
    if std::env::var("DAGR_MEMORY_BYTES").as_deref() != Ok(SMALL_MEMORY) {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "fused_reductions_read_blocks_larger_than_memory_in_pieces",
            ])
            .env("DAGR_MEMORY_BYTES", SMALL_MEMORY)
            .status()
            .unwrap();
        assert!(status.success(), "the child run failed: {status}");
        return;
    }
    let d = tmp("pieces");
    let p = d.join("x.dat");
    let n = 1 << 19;
    let xs: Vec<f64> = (0..n).map(|i| (i % 1000) as f64 * 0.5).collect();
    let bytes: Vec<u8> = xs.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(&p, bytes).unwrap();
    let x = da::from_memmap::<f64>(&p, &[n], &[n]).unwrap();
    let sum: f64 = xs.iter().sum();
    let mean = sum / n as f64;
    let var = xs.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
    for s in schedulers() {
        assert!(close(x.sum().compute_with(s.clone()).unwrap(), sum));
        assert!(close(x.mean().compute_with(s.clone()).unwrap(), mean));
        let fused = ((&x * 2.0) + 1.0).sum().compute_with(s.clone()).unwrap();
        assert!(close(fused, 2.0 * sum + n as f64));
        assert!(close(x.var().compute_with(s.clone()).unwrap(), var));
        assert!(close(x.std().compute_with(s.clone()).unwrap(), var.sqrt()));
        let u = da::random::random(&[n], &[n], 3).unwrap();
        let m = u.mean().compute_with(s.clone()).unwrap();
        assert!((m - 0.5).abs() < 0.01, "{m}");
        assert!(u.var().compute_with(s.clone()).is_ok());
        // what needs the whole block is refused, naming it
        err_naming(x.compute_with(s.clone()), "4194304 bytes");
        err_naming(
            x.map(|v| v as f32).sum().compute_with(s.clone()),
            "2097152 bytes",
        );
        err_naming((&x * 2.0).max().compute_with(s.clone()), "4194304 bytes");
    }
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
fn an_unreadable_file_where_a_file_is_expected() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // the child: a user the file's permission bits shut out
    if let Ok(dir) = std::env::var("DAGR_UNREADABLE_DIR") {
        for name in ["a.txt", "a.csv", "x.dat"] {
            let path = format!("{dir}/{name}");
            assert!(std::fs::read(&path).is_err(), "{path} is readable");
        }
        let lines = db::read_text(&format!("{dir}/a.txt")).and_then(|b| b.count().compute());
        err_naming(lines, "a.txt");
        err_naming(
            dd::read_csv(&format!("{dir}/a.csv"), dd::CsvOptions::default()).map(drop),
            "a.csv",
        );
        err_naming(
            da::from_memmap::<f64>(format!("{dir}/x.dat"), &[2], &[1]).map(drop),
            "x.dat",
        );
        return;
    }
    let d = tmp("unreadable");
    for (name, text) in [
        ("a.txt", "a\nb\n"),
        ("a.csv", "x,y\n1,2\n"),
        ("x.dat", "0123456789abcdef"),
    ] {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child
        .args(["--exact", "an_unreadable_file_where_a_file_is_expected"])
        .env("DAGR_UNREADABLE_DIR", &d);
    // permission bits do not stop root: run the child as the unprivileged `nobody`
    if std::fs::metadata("/proc/self").unwrap().uid() == 0 {
        use std::os::unix::process::CommandExt;
        child.uid(65534).gid(65534);
    }
    let status = child.status().unwrap();
    std::fs::remove_dir_all(&d).unwrap();
    assert!(status.success(), "the unprivileged run failed: {status}");
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

/// Every scheduler the readers are run on: results and errors must agree.
fn schedulers() -> [dagr::Scheduler; 2] {
    [dagr::Scheduler::sync(), dagr::Scheduler::threads(2)]
}

#[test]
fn a_line_longer_than_the_line_limit() {
    let d = tmp("line-limit");
    let long = "x".repeat(5000);
    // the long line starts at byte 6 of each file
    std::fs::write(d.join("a.txt"), format!("a\nbcd\n{long}\nb\n")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    write!(gz, "a\nbcd\n{long}\nb\n").unwrap();
    std::fs::write(d.join("a.txt.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(d.join("q.csv"), format!("a,b\n1,2\n3,\"{long}\"\n")).unwrap();
    std::fs::write(d.join("n.csv"), format!("a,b\n1,2\n3,{long}\n")).unwrap();
    for s in schedulers() {
        for file in ["a.txt", "a.txt.gz"] {
            let pattern = format!("{}/{file}", d.display());
            for blocksize in [7, 1000, 1 << 20] {
                let opts = db::TextOptions::default()
                    .blocksize(blocksize)
                    .max_line(1000);
                let b = db::read_text_with(&pattern, opts).unwrap();
                // through the column (count) and line by line (compute)
                for r in [
                    b.count().compute_with(s.clone()).map(drop),
                    b.compute_with(s.clone()).map(drop),
                ] {
                    let e = err_naming(r, file);
                    assert!(e.contains("byte 6 ") && e.contains("1000 bytes"), "{e}");
                }
                // the default limit reads it
                let b =
                    db::read_text_with(&pattern, db::TextOptions::default().blocksize(blocksize));
                assert_eq!(b.unwrap().count().compute_with(s.clone()).unwrap(), 4);
            }
        }
        for file in ["q.csv", "n.csv"] {
            let pattern = format!("{}/{file}", d.display());
            for blocksize in [Some(5), Some(1000), None] {
                let opts = dd::CsvOptions::default()
                    .blocksize(blocksize)
                    .max_line(1000);
                let r = dd::read_csv(&pattern, opts).and_then(|df| df.compute_with(s.clone()));
                let e = err_naming(r, file);
                assert!(e.contains("byte 8 ") && e.contains("1000 bytes"), "{e}");
                let opts = dd::CsvOptions::default().blocksize(blocksize);
                let t = dd::read_csv(&pattern, opts).and_then(|df| df.compute_with(s.clone()));
                assert_eq!(t.unwrap().len(), 2);
            }
            // inferring types from every value reads the long line too
            let opts = dd::CsvOptions::default().widen(true).max_line(1000);
            let e = err_naming(dd::read_csv(&pattern, opts).map(drop), file);
            assert!(e.contains("byte 8 "), "{e}");
        }
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_line_spanning_many_blocks_is_read_once() {
    // one 4 MB line over 4 096 blocks of 1 KiB: each block looks at its own bytes to find
    // its first line, and only the block the line starts in reads it (reading it once per
    // block it spans would read 8 GB)
    let d = tmp("spanning-line");
    let long = "y".repeat(4 << 20);
    let text = format!("a\n{long}\nb\nc\n");
    std::fs::write(d.join("a.txt"), &text).unwrap();
    let csv = format!("k,v\n1,a\n2,{long}\n3,c\n");
    std::fs::write(d.join("a.csv"), &csv).unwrap();
    // each block scans its own bytes for its first line (the file once), the block the
    // long line starts in finds where it ends (once more, for CSV) and reads it (once more)
    let bound = |len: usize| 4 * len as u64 + (64 << 10);
    let pattern = format!("{}/a.txt", d.display());
    let b = db::read_text_with(&pattern, db::TextOptions::default().blocksize(1024)).unwrap();
    let before = db::bytes_read_on_this_thread();
    assert_eq!(b.count().compute_with(dagr::Scheduler::sync()).unwrap(), 4);
    let read = db::bytes_read_on_this_thread() - before;
    println!(
        "read_text count: {read} bytes read for a {} byte file",
        text.len()
    );
    assert!(
        read <= bound(text.len()),
        "read_text read {read} bytes of a {} byte file",
        text.len()
    );
    let before = db::bytes_read_on_this_thread();
    let lines = b.compute_with(dagr::Scheduler::sync()).unwrap();
    let read = db::bytes_read_on_this_thread() - before;
    println!("read_text streamed: {read} bytes read");
    let oracle: Vec<String> = text.lines().map(str::to_owned).collect();
    assert_eq!(lines, oracle);
    assert!(
        read <= bound(text.len()),
        "streamed lines read {read} bytes"
    );
    assert_eq!(b.compute_with(dagr::Scheduler::threads(2)).unwrap(), oracle);
    let pattern = format!("{}/a.csv", d.display());
    let df = dd::read_csv(&pattern, dd::CsvOptions::default().blocksize(Some(1024))).unwrap();
    let before = db::bytes_read_on_this_thread();
    let t = df.compute_with(dagr::Scheduler::sync()).unwrap();
    let read = db::bytes_read_on_this_thread() - before;
    println!("read_csv: {read} bytes read for a {} byte file", csv.len());
    assert!(
        read <= bound(csv.len()),
        "read_csv read {read} bytes of a {} byte file",
        csv.len()
    );
    assert_eq!(t.len(), 3);
    assert_eq!(t.column("v").unwrap().text(1), Some(long.clone()));
    assert_eq!(
        df.compute_with(dagr::Scheduler::threads(2)).unwrap().len(),
        3
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn an_error_quotes_only_the_start_of_a_huge_field() {
    let d = tmp("huge-field");
    let huge = "z".repeat(1 << 20);
    // an integer column (inferred from the first 256 KiB) meets a 1 MB text field later,
    // plain and quoted; the column's name is 1 MB of header too
    let rows = "1,2\n".repeat(100_000);
    std::fs::write(d.join("a.csv"), format!("{huge},b\n{rows}{huge},3\n")).unwrap();
    std::fs::write(d.join("q.csv"), format!("{huge},b\n{rows}\"{huge}\",3\n")).unwrap();
    for file in ["a.csv", "q.csv"] {
        for s in schedulers() {
            let pattern = format!("{}/{file}", d.display());
            let r =
                dd::read_csv(&pattern, dd::CsvOptions::default()).and_then(|df| df.compute_with(s));
            let e = err_naming(r, file);
            assert!(e.contains("1048576 bytes") && e.contains("100002"), "{e}");
        }
    }
    // files whose 1 MB column names differ; a column asked for that is not there
    std::fs::write(d.join("b.csv"), format!("{huge}y,b\n1,2\n")).unwrap();
    let r = dd::read_csv(
        &format!("{}/[ab].csv", d.display()),
        dd::CsvOptions::default(),
    );
    err_naming(r.map(drop), "b.csv");
    let df = dd::read_csv(&format!("{}/b.csv", d.display()), dd::CsvOptions::default()).unwrap();
    err_naming(df.select(&[huge.as_str()]).map(drop), "1048576 bytes");
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
