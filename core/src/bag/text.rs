//! Text files in and out: `read_text` (one item per line) and `to_textfiles`.

use super::{layer_name, Bag, ErrSlot, Gen, PartIter};
use crate::atomic_file::write_atomic;
use crate::delayed::Delayed;
use crate::node::{new_wired_node, Deps, NodeKind};
use crate::Error;
use crate::Wired;
use dagr_runtime::{Inputs, Key, TaskError, TaskResult};
use std::fmt::Display;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How [`read_text_with`] reads files.
///
/// ```
/// use dagr_core::bag::TextOptions;
/// let opts = TextOptions::default().blocksize(64 << 20).lossy(true);
/// # drop(opts);
/// ```
#[derive(Clone, Debug, Default)]
pub struct TextOptions {
    blocksize: Option<u64>,
    lossy: bool,
}

impl TextOptions {
    /// Splits each uncompressed file into partitions of about `bytes` bytes, cut at line
    /// boundaries (Dask's `blocksize`). Default: one partition per file.
    pub fn blocksize(mut self, bytes: u64) -> Self {
        self.blocksize = Some(bytes.max(1));
        self
    }

    /// Replaces bytes that are not UTF-8 with U+FFFD instead of failing.
    pub fn lossy(mut self, lossy: bool) -> Self {
        self.lossy = lossy;
        self
    }
}

/// One partition's share of a file: a byte range of a plain file, or a whole `.gz` file.
#[derive(Clone, Debug)]
struct Block {
    path: Arc<Path>,
    start: u64,
    end: Option<u64>,
    gz: bool,
}

/// Lines of the files matching `pattern` (a path or a glob), one item per line with the
/// line ending (`\n` or `\r\n`) removed; `.gz` files are decompressed (Dask:
/// `db.read_text`). Files are taken in sorted order, one partition per file.
///
/// ```no_run
/// let lines = dagr_core::bag::read_text("data/wiki/AA/*")?;
/// println!("{} lines", lines.count().compute()?);
/// # Ok::<(), dagr_core::Error>(())
/// ```
pub fn read_text(pattern: &str) -> Result<Bag<String>, Error> {
    read_text_with(pattern, TextOptions::default())
}

/// [`read_text`] with options (block size, lossy decoding).
pub fn read_text_with(pattern: &str, opts: TextOptions) -> Result<Bag<String>, Error> {
    let paths = expand(pattern)?;
    let mut blocks = Vec::new();
    for path in paths {
        let gz = path.extension().is_some_and(|e| e == "gz");
        let meta = std::fs::metadata(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let path: Arc<Path> = path.into();
        match opts.blocksize {
            Some(bs) if !gz && meta.len() > bs => {
                let mut start = 0;
                while start < meta.len() {
                    blocks.push(Block {
                        path: path.clone(),
                        start,
                        end: Some((start + bs).min(meta.len())),
                        gz,
                    });
                    start += bs;
                }
            }
            _ => blocks.push(Block {
                path,
                start: 0,
                end: None,
                gz,
            }),
        }
    }
    let blocks: Arc<[Block]> = blocks.into();
    let lossy = opts.lossy;
    let n = blocks.len();
    let gen: Gen<String> = Arc::new(move |i, _, err| lines(&blocks[i], lossy, err));
    Ok(Bag {
        name: layer_name("read-text"),
        inputs: vec![None; n].into(),
        gen,
    })
}

/// The files a pattern names, sorted; an error when there are none.
pub(crate) fn expand(pattern: &str) -> Result<Vec<PathBuf>, Error> {
    let bad = |message: String| Error::BadPattern {
        pattern: pattern.to_owned(),
        message,
    };
    let mut paths = Vec::new();
    for entry in glob::glob(pattern).map_err(|e| bad(e.to_string()))? {
        let path = entry.map_err(|e| Error::Io {
            path: e.path().to_owned(),
            source: e.into(),
        })?;
        if path.is_file() {
            paths.push(path);
        }
    }
    if paths.is_empty() {
        return Err(Error::NoFiles {
            pattern: pattern.to_owned(),
        });
    }
    paths.sort();
    Ok(paths)
}

fn io_err(path: &Path, source: std::io::Error) -> TaskError {
    TaskError::new(Error::Io {
        path: path.to_owned(),
        source,
    })
}

/// Opens a block and streams its lines.
fn lines(block: &Block, lossy: bool, err: &ErrSlot) -> Result<PartIter<String>, TaskError> {
    let path = &block.path;
    let mut file = File::open(path).map_err(|e| io_err(path, e))?;
    let (reader, first): (Box<dyn BufRead>, u64) = if block.gz {
        let gz = flate2::read::MultiGzDecoder::new(file);
        (Box::new(BufReader::with_capacity(1 << 16, gz)), 0)
    } else if block.start > 0 {
        // A line belongs to the block its first byte lies in: begin after the first line
        // break at or after `start - 1`.
        file.seek(SeekFrom::Start(block.start - 1))
            .map_err(|e| io_err(path, e))?;
        let mut r = BufReader::with_capacity(1 << 16, file);
        let skipped = r
            .read_until(b'\n', &mut Vec::new())
            .map_err(|e| io_err(path, e))?;
        (Box::new(r), block.start - 1 + skipped as u64)
    } else {
        (Box::new(BufReader::with_capacity(1 << 16, file)), 0)
    };
    Ok(Box::new(Lines {
        reader,
        block: block.clone(),
        first,
        pos: first,
        line_in_block: 0,
        lossy,
        err: err.clone(),
        buf: Vec::with_capacity(256),
        done: false,
    }))
}

struct Lines {
    reader: Box<dyn BufRead>,
    block: Block,
    /// Offset of the block's first line.
    first: u64,
    /// Offset of the next line.
    pos: u64,
    line_in_block: u64,
    lossy: bool,
    err: ErrSlot,
    buf: Vec<u8>,
    done: bool,
}

impl Lines {
    fn fail(&mut self, e: TaskError) -> Option<String> {
        *self.err.borrow_mut() = Some(e);
        self.done = true;
        None
    }

    /// The 1-based line number in the whole file of the current line (the lines before
    /// the block are counted only now, on the error path).
    fn file_line(&self) -> u64 {
        let before = File::open(&self.block.path)
            .map(|f| {
                BufReader::new(f)
                    .take(self.first)
                    .bytes()
                    .filter(|b| matches!(b, Ok(b'\n')))
                    .count() as u64
            })
            .unwrap_or(0);
        before + self.line_in_block
    }
}

impl Iterator for Lines {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        if self.done || self.block.end.is_some_and(|end| self.pos >= end) {
            return None;
        }
        self.buf.clear();
        let n = match self.reader.read_until(b'\n', &mut self.buf) {
            Ok(0) => {
                self.done = true;
                return None;
            }
            Ok(n) => n,
            Err(e) => {
                let e = io_err(&self.block.path, e);
                return self.fail(e);
            }
        };
        self.pos += n as u64;
        self.line_in_block += 1;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
        }
        match std::str::from_utf8(&self.buf) {
            Ok(s) => Some(s.to_owned()),
            Err(_) if self.lossy => Some(String::from_utf8_lossy(&self.buf).into_owned()),
            Err(_) => {
                let e = TaskError::new(Error::InvalidUtf8 {
                    path: self.block.path.to_path_buf(),
                    line: self.file_line(),
                });
                self.fail(e)
            }
        }
    }
}

/// The files an output pattern names for `n` partitions: its one `*` replaced by the
/// partition number. Creates the directories they go in.
pub(crate) fn output_paths(pattern: &str, n: usize) -> Result<Vec<PathBuf>, Error> {
    if pattern.matches('*').count() != 1 {
        return Err(Error::BadPattern {
            pattern: pattern.to_owned(),
            message: "expected exactly one `*`, replaced by the partition number".into(),
        });
    }
    let paths: Vec<PathBuf> = (0..n)
        .map(|i| PathBuf::from(pattern.replacen('*', &i.to_string(), 1)))
        .collect();
    for dir in paths.iter().filter_map(|p| p.parent()) {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                path: dir.to_owned(),
                source,
            })?;
        }
    }
    Ok(paths)
}

impl<T: Wired + Display> Bag<T> {
    /// Writes one text file per partition, one item per line (Dask: `Bag.to_textfiles`).
    /// The `*` in `pattern` becomes the partition number; missing directories are created;
    /// each file is written under a temporary name and renamed into place when complete.
    /// Returns the paths written.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("dagr-doc-textfiles-{}", std::process::id()));
    /// let b = dagr_core::bag::from_sequence(["a", "b", "c"], 2)?;
    /// let files = b.to_textfiles(&format!("{}/*.txt", dir.display()))?;
    /// assert_eq!(files.len(), 2);
    /// assert_eq!(std::fs::read_to_string(&files[0]).unwrap(), "a\nb\n");
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # Ok::<(), dagr_core::Error>(())
    /// ```
    pub fn to_textfiles(&self, pattern: &str) -> Result<Vec<PathBuf>, Error> {
        self.to_textfiles_with(pattern, crate::Scheduler::default())
    }

    /// [`Bag::to_textfiles`] on the given scheduler (on a cluster's, each rank writes its own
    /// partitions).
    pub fn to_textfiles_with(
        &self,
        pattern: &str,
        scheduler: crate::Scheduler,
    ) -> Result<Vec<PathBuf>, Error> {
        let paths = output_paths(pattern, self.npartitions())?;
        let name = layer_name("to-textfiles");
        let paths2 = paths.clone();
        let written = self.partition_nodes_with(&name, |it| {
            use std::fmt::Write;
            let mut text = String::new();
            for x in it {
                let _ = writeln!(text, "{x}");
            }
            text
        });
        let writes: Vec<Delayed<()>> = written
            .into_iter()
            .zip(paths2)
            .enumerate()
            .map(|(i, (text, path))| {
                let body = move |inp: &mut Inputs<'_>| -> TaskResult {
                    let text = inp.get::<String>(0)?;
                    write_atomic(&path, text.as_bytes()).map_err(TaskError::new)?;
                    Ok(Arc::new(()))
                };
                Delayed::from_node(new_wired_node(
                    Key::index(layer_name("write"), &[i as u64]),
                    Deps::One([text]),
                    NodeKind::Call,
                    false,
                    Some(crate::wire_of::<()>()),
                    body,
                ))
            })
            .collect();
        crate::compute_with(&writes, scheduler)?;
        Ok(paths)
    }
}
