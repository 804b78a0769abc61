//! A generated text corpus standing in for the notebook's Wikipedia dump: lines of
//! sentences over a Zipf-distributed vocabulary, with capitals and punctuation.

use dagr::bag as db;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::fmt::Write as _;
use std::path::Path;

const COMMON: &[&str] = &[
    "the",
    "of",
    "and",
    "in",
    "to",
    "a",
    "was",
    "is",
    "for",
    "as",
    "on",
    "by",
    "with",
    "he",
    "that",
    "at",
    "from",
    "his",
    "it",
    "an",
    "were",
    "are",
    "which",
    "this",
    "also",
    "be",
    "or",
    "has",
    "had",
    "first",
    "one",
    "their",
    "its",
    "new",
    "after",
    "but",
    "who",
    "not",
    "they",
    "have",
    "her",
    "she",
    "two",
    "been",
    "other",
    "when",
    "there",
    "all",
    "during",
    "into",
    "school",
    "time",
    "may",
    "years",
    "more",
    "most",
    "only",
    "over",
    "city",
    "some",
    "world",
    "would",
    "where",
    "later",
    "up",
    "such",
    "used",
    "many",
    "can",
    "state",
    "about",
    "national",
    "out",
    "known",
    "university",
    "united",
    "then",
    "made",
    "team",
    "music",
    "river",
    "war",
    "film",
];

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ren", "sta", "tor", "vel", "an", "qui", "dor", "mar", "el", "is", "on",
    "ber", "gen", "hal", "ith", "nor", "pe", "ral", "sen", "tha", "ul", "wen", "yor", "zel",
];

/// The vocabulary: common words first, then made-up words for a long tail.
fn vocabulary(size: usize) -> Vec<String> {
    let mut v: Vec<String> = COMMON.iter().map(|s| s.to_string()).collect();
    let mut i = 0usize;
    while v.len() < size {
        let mut w = String::new();
        let mut k = i;
        loop {
            w.push_str(SYLLABLES[k % SYLLABLES.len()]);
            k /= SYLLABLES.len();
            if k == 0 {
                break;
            }
        }
        v.push(w);
        i += 1;
    }
    v
}

/// A Zipf(1) sample over `n` ranks by inverting the harmonic CDF approximately.
fn zipf(rng: &mut StdRng, n: usize) -> usize {
    let h = (n as f64).ln() + 0.5772;
    let u: f64 = rng.random::<f64>() * h;
    ((u - 0.5772).exp() as usize).min(n - 1)
}

fn file_text(seed: u64, bytes: usize, vocab: &[String]) -> String {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut s = String::with_capacity(bytes + 256);
    while s.len() < bytes {
        let sentences = rng.random_range(1..6);
        for _ in 0..sentences {
            let words = rng.random_range(4..18);
            for w in 0..words {
                let word = &vocab[zipf(&mut rng, vocab.len())];
                if w == 0 || rng.random_ratio(1, 12) {
                    let mut c = word.chars();
                    if let Some(f) = c.next() {
                        s.extend(f.to_uppercase());
                        s.push_str(c.as_str());
                    }
                } else {
                    s.push_str(word);
                }
                if w + 1 < words {
                    match rng.random_range(0..40) {
                        0..=2 => s.push_str(", "),
                        3 => s.push_str("; "),
                        4 => s.push_str(" - "),
                        _ => s.push(' '),
                    }
                }
            }
            let _ = write!(s, "{} ", [".", ".", ".", "!", "?"][rng.random_range(0..5)]);
        }
        s.pop();
        s.push('\n');
    }
    s
}

/// Writes `files` files of about `bytes_each` bytes into `dir` (skipped when a corpus of
/// that size is already there), in parallel with dagr itself. Returns the total size.
pub fn generate(dir: &Path, files: usize, bytes_each: usize) -> Result<u64, dagr::Error> {
    let io = |e: std::io::Error| dagr::Error::Io {
        path: dir.to_owned(),
        source: e,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let name = |i: usize| dir.join(format!("wiki_{i:02}"));
    let existing: u64 = (0..files)
        .filter_map(|i| std::fs::metadata(name(i)).ok())
        .map(|m| m.len())
        .sum();
    let stray = std::fs::read_dir(dir).map_err(io)?.count() != files;
    if !stray && existing >= (files * bytes_each) as u64 {
        return Ok(existing);
    }
    for e in std::fs::read_dir(dir).map_err(io)?.flatten() {
        let _ = std::fs::remove_file(e.path());
    }
    let vocab = std::sync::Arc::new(vocabulary(60_000));
    let dir2 = dir.to_owned();
    let sizes = db::from_sequence(0..files, files)?
        .map(move |i| {
            let path = dir2.join(format!("wiki_{i:02}"));
            let text = file_text(i as u64 + 1, bytes_each, &vocab);
            std::fs::write(&path, &text)
                .map(|()| text.len() as u64)
                .map_err(|e| (path, e.to_string()))
        })
        .compute()?;
    let mut total = 0;
    for r in sizes {
        match r {
            Ok(n) => total += n,
            Err((path, e)) => {
                return Err(dagr::Error::Io {
                    path,
                    source: std::io::Error::other(e),
                });
            }
        }
    }
    Ok(total)
}
