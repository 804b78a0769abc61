//! The benchmark CSV files: headerless, five uniform random float columns, one file per
//! seed, written once per row count (a marker file remembers which).

use dagr::bag as db;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::Path;

/// Columns of each file.
pub const COLS: usize = 5;

/// Writes `files` files `x000.csv`, … of `rows` rows into `dir`, unless they are there.
pub fn generate(dir: &str, files: usize, rows: usize) -> Result<(), dagr::Error> {
    let marker = format!("{dir}/.rows-{rows}");
    if Path::new(&marker).exists() {
        return Ok(());
    }
    let io = |source| dagr::Error::Io {
        path: dir.into(),
        source,
    };
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(io)?;
    let dir2 = dir.to_owned();
    let written = db::from_sequence(0..files, files)?
        .map(move |f| {
            let mut rng = StdRng::seed_from_u64(f as u64);
            let mut text = String::with_capacity(rows * COLS * 20);
            for _ in 0..rows {
                for c in 0..COLS {
                    if c > 0 {
                        text.push(',');
                    }
                    text.push_str(&rng.random::<f64>().to_string());
                }
                text.push('\n');
            }
            std::fs::write(format!("{dir2}/x{f:03}.csv"), text).is_ok()
        })
        .compute()?;
    if !written.iter().all(|&ok| ok) {
        return Err(io(std::io::Error::other("could not write the CSV files")));
    }
    std::fs::write(&marker, "").map_err(io)
}
