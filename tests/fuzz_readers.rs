//! The readers fed arbitrary bytes and mutations of valid files (`read_text`, `read_csv`,
//! gzip): every outcome is a result or an `Error`, never a panic (a panicking parser would
//! surface as `Error::TaskPanicked`) and never an error message of unbounded size.
//! `PROPTEST_CASES` raises the number of cases (CI runs the default below).

use dagr::bag as db;
use dagr::dataframe as dd;
use proptest::prelude::*;
use std::io::Write;
use std::path::PathBuf;

/// Cases per property: 48, or `PROPTEST_CASES`.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(48)
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "dagr-fuzz-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// Reads `bytes` as a file named `name` with every reader and blocksize; fails on a panic.
fn read_all(name: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    let d = dir();
    let path = d.join(name);
    std::fs::write(&path, bytes).unwrap();
    let pattern = path.to_str().unwrap().to_owned();
    let mut outcomes: Vec<Result<(), dagr::Error>> = Vec::new();
    for blocksize in [7, 64, 1 << 20] {
        let opts = db::TextOptions::default().blocksize(blocksize);
        outcomes.push(
            db::read_text_with(&pattern, opts)
                .and_then(|b| b.count().compute())
                .map(drop),
        );
        let opts = dd::CsvOptions::default().blocksize(Some(blocksize));
        outcomes.push(
            dd::read_csv(&pattern, opts)
                .and_then(|df| df.compute())
                .map(drop),
        );
    }
    let opts = dd::CsvOptions::default().header(false).widen(true);
    outcomes.push(
        dd::read_csv(&pattern, opts)
            .and_then(|df| df.describe().compute())
            .map(drop),
    );
    for e in outcomes.into_iter().filter_map(Result::err) {
        let m = e.to_string();
        prop_assert!(!matches!(e, dagr::Error::TaskPanicked { .. }), "{m}");
        prop_assert!(m.len() < 2000, "an error message of {} bytes", m.len());
    }
    Ok(())
}

/// A small valid CSV file.
fn valid_csv() -> Vec<u8> {
    let mut s = String::from("a,b,c\n");
    for i in 0..40 {
        s += &format!("{i},{}.5,\"w {i}, \"\"q\"\"\"\n", i * 3);
    }
    s.into_bytes()
}

/// A mutation: flip, insert or delete a byte at a position.
fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(at, byte, op) in edits {
        if bytes.is_empty() {
            bytes.push(byte);
            continue;
        }
        let at = at % bytes.len();
        match op % 3 {
            0 => bytes[at] ^= byte | 1,
            1 => bytes.insert(at, byte),
            _ => {
                bytes.remove(at);
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        read_all("x.csv", &bytes)?;
        read_all("x.csv.gz", &gzip(&bytes))?;
        read_all("y.gz", &bytes)?;
    }

    #[test]
    fn mutated_valid_files(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6)) {
        let csv = valid_csv();
        read_all("m.csv", &mutate(csv.clone(), &edits))?;
        read_all("m.csv.gz", &mutate(gzip(&csv), &edits))?;
    }
}
