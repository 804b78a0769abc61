//! Text files in and out: `read_text` (one item per line) and `to_textfiles`.

use super::col_layer::ColPieces;
use super::column::TextColumn;
use super::repr::{Col, ColKind, ColPart};
use super::{layer_name, Bag, ErrSlot, Gen, PartIter};
use crate::atomic_file::write_parts;
use crate::delayed::Delayed;
pub use crate::line_scan::{bytes_read_on_this_thread, DEFAULT_MAX_LINE};
use crate::line_scan::{finish_line, first_line_start, read_checked, too_long, LineCheck};
use crate::node::{new_wired_node, Deps, NodeKind};
use crate::Data;
use crate::Error;
use dagr_runtime::{Inputs, Key, TaskError, TaskResult, Value};
use std::fmt::Display;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How [`read_text_with`] reads files.
///
/// ```
/// use dagr::bag::TextOptions;
/// let opts = TextOptions::default().blocksize(64 << 20).lossy(true);
/// # drop(opts);
/// ```
#[derive(Clone, Debug)]
pub struct TextOptions {
    blocksize: Option<u64>,
    lossy: bool,
    max_line: u64,
}

/// The default [`TextOptions::blocksize`]: 32 MiB. Small files stay one partition each; a
/// large file is cut into enough partitions to keep every worker busy (a 2 GB file gives
/// 64), while a partition and its word-count table stay a few tens of MB.
pub const DEFAULT_BLOCKSIZE: u64 = 32 << 20;

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            blocksize: Some(DEFAULT_BLOCKSIZE),
            lossy: false,
            max_line: DEFAULT_MAX_LINE,
        }
    }
}

impl TextOptions {
    /// Splits each uncompressed file into partitions of about `bytes` bytes, cut at line
    /// boundaries (Dask's `blocksize`); a line belongs to the partition its first byte lies
    /// in. Default: [`DEFAULT_BLOCKSIZE`].
    pub fn blocksize(mut self, bytes: u64) -> Self {
        self.blocksize = Some(bytes.max(1));
        self
    }

    /// One partition per file, whatever its size (Dask's `blocksize=None`).
    ///
    /// ```
    /// let opts = dagr::bag::TextOptions::default().whole_files();
    /// # drop(opts);
    /// ```
    pub fn whole_files(mut self) -> Self {
        self.blocksize = None;
        self
    }

    /// Replaces bytes that are not UTF-8 with U+FFFD instead of failing.
    pub fn lossy(mut self, lossy: bool) -> Self {
        self.lossy = lossy;
        self
    }

    /// The longest line read, in bytes without its line break (default
    /// [`DEFAULT_MAX_LINE`], 256 MiB): a longer line is [`Error::LineTooLong`] naming the
    /// file and the byte offset where the line starts, found before more than this is held
    /// for it (a partition takes its block plus at most this much memory).
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("dagr-doc-max-line-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("long.txt");
    /// std::fs::write(&path, format!("short\n{}\n", "x".repeat(100))).unwrap();
    /// let opts = dagr::bag::TextOptions::default().max_line(64);
    /// let err = dagr::bag::read_text_with(path.to_str().unwrap(), opts)?.count().compute();
    /// let message = err.unwrap_err().to_string();
    /// assert!(message.contains("long.txt: the line at byte 6 is longer than 64 bytes"));
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn max_line(mut self, bytes: u64) -> Self {
        self.max_line = bytes;
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
/// `db.read_text`). Files are taken in sorted order, one partition per file or, for files
/// larger than [`TextOptions::blocksize`], per block of the file.
///
/// Each partition is read in one go into one buffer (a [`TextColumn`]) when the `.str()`
/// methods, `split`, `count`, `frequencies`, `distinct` or `to_textfiles` need it, and
/// streamed line by line when user code asks for items (`map`, `filter`, `take`, ...).
///
/// ```no_run
/// let lines = dagr::bag::read_text("data/wiki/AA/*")?;
/// println!("{} lines", lines.count().compute()?);
/// # Ok::<(), dagr::Error>(())
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
    let max_line = opts.max_line;
    let n = blocks.len();
    let blocks2 = blocks.clone();
    let blocks3 = blocks.clone();
    let blocks4 = blocks.clone();
    let gen: Gen<String> = Arc::new(move |i, _, err| lines(&blocks[i], lossy, max_line, err));
    let pieces: ColPieces =
        Arc::new(move |i, sink| read_pieces(&blocks4[i], lossy, max_line, PIECE_BYTES, sink));
    let col = Col::source(
        "read-text-column",
        ColKind::Text,
        move |i, _, _| Ok(ColPart::Text(read_block(&blocks2[i], lossy, max_line)?)),
        Some(pieces),
    );
    let lines: super::LineOf = Arc::new(move |i, j| match blocks3.get(i) {
        Some(b) => format!("{}, line {}", b.path.display(), first_line(b) + j + 1),
        None => format!("item {j} of partition {i}"),
    });
    let mut b = Bag::source(layer_name("read-text"), vec![None; n].into(), gen, false);
    b.col = Some(col);
    b.lines = Some(lines);
    Ok(b)
}

/// The files a pattern names, sorted; an error when there are none.
pub(crate) fn expand(pattern: &str) -> Result<Vec<PathBuf>, Error> {
    let bad = |message: String| Error::BadPattern {
        pattern: pattern.to_owned(),
        message,
    };
    let files = || -> Result<Vec<PathBuf>, Error> {
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
        Ok(paths)
    };
    let mut paths = files()?;
    // a writer killed while it moved its parts into place left a journal: finish its
    // commit first, so that no mix of old and new parts is read
    let mut dirs: Vec<&Path> = paths
        .iter()
        .map(|p| crate::atomic_file::parent_dir(p))
        .collect();
    let literal = Path::new(pattern)
        .parent()
        .filter(|d| !d.to_string_lossy().contains(['*', '?', '[']));
    dirs.extend(literal.map(|d| match d.as_os_str().is_empty() {
        true => Path::new("."),
        false => d,
    }));
    dirs.sort();
    dirs.dedup();
    let finished = dirs.into_iter().fold(false, |any, d| {
        crate::atomic_file::finish_commits_in(d) | any
    });
    if finished {
        paths = files()?;
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

/// Bytes of a block a piece of it holds (see [`read_pieces`]).
const PIECE_BYTES: u64 = 1 << 20;

/// Reads a block's lines in pieces of about `piece` bytes ([`PIECE_BYTES`]), each a column
/// of whole lines, in order, handed to `sink`: the same lines as [`read_block`], a piece at
/// a time, so a consumer folding them (a word count) holds one piece of the partition, not
/// all of it. A `.gz` file, or a block of a few pieces, is one piece.
fn read_pieces(
    block: &Block,
    lossy: bool,
    max_line: u64,
    piece: u64,
    sink: &mut super::col_layer::PieceSink<'_>,
) -> Result<(), TaskError> {
    let end = match block.end {
        Some(end) => end,
        None => std::fs::metadata(&block.path).map_or(0, |m| m.len()),
    };
    if block.gz || end.saturating_sub(block.start) <= 2 * piece {
        return sink(ColPart::Text(read_block(block, lossy, max_line)?));
    }
    // where the next piece's first line starts, when the last piece ended on it
    let mut first = None;
    let mut at = block.start;
    loop {
        // the last piece reads to the block's own end (to the end of the file for a whole
        // file), the others to a piece's length and then the rest of their last line
        let last = at + piece >= end;
        let part = Block {
            path: block.path.clone(),
            start: at,
            end: if last { block.end } else { Some(at + piece) },
            gz: false,
        };
        let (col, next) = read_lines(&part, first, lossy, max_line)?;
        sink(ColPart::Text(col))?;
        // no line starts in a piece inside one long line: look again in the next piece
        let next_at = next.unwrap_or(at + piece);
        if last || next_at >= end {
            return Ok(());
        }
        (first, at) = (next, next_at);
    }
}

/// Reads a block's lines into one column: the block's bytes from its first line (see
/// [`line_scan`](crate::line_scan)) in one read, then the rest of its last line, checking
/// line lengths as they come.
fn read_block(block: &Block, lossy: bool, max_line: u64) -> Result<TextColumn, TaskError> {
    Ok(read_lines(block, None, lossy, max_line)?.0)
}

/// [`read_block`] starting at `known_first` when the offset of the block's first line is
/// known; with the offset just past the bytes read (none when no line starts in the block).
fn read_lines(
    block: &Block,
    known_first: Option<u64>,
    lossy: bool,
    max_line: u64,
) -> Result<(TextColumn, Option<u64>), TaskError> {
    let path = &block.path;
    let io = |e| io_err(path, e);
    let mut file = File::open(path).map_err(io)?;
    let mut buf = Vec::new();
    let mut check = LineCheck::new(max_line);
    let mut first = known_first.unwrap_or(0);
    let checked = if block.gz {
        read_checked(
            &mut flate2::read::MultiGzDecoder::new(file),
            &mut buf,
            &mut check,
        )
        .map_err(io)?
    } else {
        let known = |file: &mut File, end| match known_first {
            Some(f) => Ok(Some(f)),
            None => first_line_start(file, block.start, end),
        };
        match block.end {
            // to the end of the file, from its start or from a known line's
            None => {
                let len = file.metadata().map(|m| m.len()).unwrap_or(0);
                file.seek(SeekFrom::Start(first)).map_err(io)?;
                buf.reserve_exact(len.saturating_sub(first) as usize + 1);
                read_checked(&mut file, &mut buf, &mut check).map_err(io)?
            }
            Some(end) => match known(&mut file, end).map_err(io)? {
                None => return Ok((TextColumn::from_lines(String::new()), None)),
                Some(f) => {
                    first = f;
                    file.seek(SeekFrom::Start(first)).map_err(io)?;
                    // room for the block and a typical line past its end, with no regrowth
                    buf.reserve_exact((end - first) as usize + (1 << 16));
                    let n = (&mut file)
                        .take(end - first)
                        .read_to_end(&mut buf)
                        .map_err(io)?;
                    crate::line_scan::count(n);
                    // lines inside a block no longer than the limit are short enough
                    let fed = if end - first <= max_line {
                        check.feed_short(&buf)
                    } else {
                        check.feed(&buf)
                    };
                    match fed {
                        Ok(()) if n as u64 == end - first && !check.at_line_start() => {
                            finish_line(&mut file, &mut buf, &mut check).map_err(io)?
                        }
                        other => other,
                    }
                }
            },
        }
    };
    if let Err(at) = checked {
        return Err(TaskError::new(too_long(path, first + at as u64, max_line)));
    }
    let next = Some(first + buf.len() as u64);
    let text = match String::from_utf8(buf) {
        Ok(text) => text,
        Err(e) if lossy => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        Err(e) => {
            let bad = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let in_block = memchr::memchr_iter(b'\n', &bytes[..bad]).count() as u64 + 1;
            return Err(TaskError::new(Error::InvalidUtf8 {
                path: path.to_path_buf(),
                line: lines_before(path, first) + in_block,
            }));
        }
    };
    Ok((TextColumn::from_lines(text), next))
}

/// Number of lines of the file before a block's first line (for error messages): a block
/// begins after the first line break at or after its start's previous byte.
fn first_line(b: &Block) -> u64 {
    if b.start == 0 {
        return 0;
    }
    let before = lines_before(&b.path, b.start);
    let mut byte = [0u8; 1];
    let at_break = File::open(&b.path)
        .and_then(|mut f| {
            f.seek(SeekFrom::Start(b.start - 1))?;
            f.read_exact(&mut byte)
        })
        .is_ok_and(|()| byte[0] == b'\n');
    before + u64::from(!at_break)
}

/// Number of line breaks in the first `bytes` bytes of a file (for error messages).
fn lines_before(path: &Path, bytes: u64) -> u64 {
    File::open(path)
        .map(|f| {
            let mut r = BufReader::new(f).take(bytes);
            let mut n = 0;
            let mut chunk = vec![0u8; 1 << 16];
            while let Ok(k) = r.read(&mut chunk) {
                if k == 0 {
                    break;
                }
                n += memchr::memchr_iter(b'\n', &chunk[..k]).count() as u64;
            }
            n
        })
        .unwrap_or(0)
}

/// Opens a block and streams its lines.
fn lines(
    block: &Block,
    lossy: bool,
    max_line: u64,
    err: &ErrSlot,
) -> Result<PartIter<String>, TaskError> {
    let path = &block.path;
    let io = |e| io_err(path, e);
    let mut file = File::open(path).map_err(io)?;
    let (reader, first): (Box<dyn BufRead>, u64) = if block.gz {
        let gz = flate2::read::MultiGzDecoder::new(file);
        (Box::new(BufReader::with_capacity(1 << 16, gz)), 0)
    } else {
        let first = match block.end {
            Some(end) => first_line_start(&mut file, block.start, end).map_err(io)?,
            None => Some(0),
        };
        let Some(first) = first else {
            return Ok(Box::new(std::iter::empty()));
        };
        file.seek(SeekFrom::Start(first)).map_err(io)?;
        (Box::new(BufReader::with_capacity(1 << 16, file)), first)
    };
    Ok(Box::new(Lines {
        reader,
        block: block.clone(),
        first,
        pos: first,
        line_in_block: 0,
        lossy,
        max_line,
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
    max_line: u64,
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
        lines_before(&self.block.path, self.first) + self.line_in_block
    }

    /// Reads the next line with its line break into `buf`: its length in bytes (0 at the
    /// end), or `Err(())` when it is longer than the limit (nothing past the limit is held).
    fn read_line(&mut self) -> std::io::Result<Result<usize, ()>> {
        let mut n = 0;
        loop {
            let avail = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                return Ok(Ok(n));
            }
            let (take, done) = match memchr::memchr(b'\n', avail) {
                Some(i) => (i + 1, true),
                None => (avail.len(), false),
            };
            let body = n + take - usize::from(done);
            if body as u64 > self.max_line {
                return Ok(Err(()));
            }
            self.buf.extend_from_slice(&avail[..take]);
            self.reader.consume(take);
            crate::line_scan::count(take);
            n += take;
            if done {
                return Ok(Ok(n));
            }
        }
    }
}

impl Iterator for Lines {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        if self.done || self.block.end.is_some_and(|end| self.pos >= end) {
            return None;
        }
        self.buf.clear();
        let n = match self.read_line() {
            Ok(Ok(0)) => {
                self.done = true;
                return None;
            }
            Ok(Ok(n)) => n,
            Ok(Err(())) => {
                let e = too_long(&self.block.path, self.pos, self.max_line);
                return self.fail(TaskError::new(e));
            }
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
    let paths = pattern_paths(pattern, n);
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

/// The files `pattern` (with one `*`) names for partitions `0..n`.
pub(crate) fn pattern_paths(pattern: &str, n: usize) -> Vec<PathBuf> {
    (0..n)
        .map(|i| PathBuf::from(pattern.replacen('*', &i.to_string(), 1)))
        .collect()
}

/// The files that exist and that `pattern` names with a partition number `n` or more (the
/// rest of an older, longer output). Only when the `*` is in the file name: a `*` in a
/// directory is not searched.
pub(crate) fn parts_past(pattern: &str, n: usize) -> Vec<PathBuf> {
    let path = Path::new(pattern);
    let Ok(entries) = std::fs::read_dir(crate::atomic_file::parent_dir(path)) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .and_then(|f| part_number(pattern, f))
                .is_some_and(|i| i >= n)
        })
        .map(|e| path.with_file_name(e.file_name()))
        .collect()
}

/// The partition number of the file named `file` (in the pattern's directory) if `pattern`
/// names it: exactly the digits `i.to_string()` gives (no sign, no leading zero) where the
/// pattern's file name has its `*`. `None` when the `*` is not in the file name.
pub(crate) fn part_number(pattern: &str, file: &str) -> Option<usize> {
    let name = Path::new(pattern).file_name()?.to_str()?;
    let (before, after) = name.split_once('*')?;
    let digits = file.strip_prefix(before)?.strip_suffix(after)?;
    let i: usize = digits.parse().ok()?;
    (i.to_string() == digits).then_some(i)
}

impl<T: Data + Display> Bag<T> {
    /// Writes one text file per partition, one item per line (Dask: `Bag.to_textfiles`).
    /// The `*` in `pattern` becomes the partition number; missing directories are created.
    /// Each file is written under a temporary name; only when every one is written are they
    /// renamed into place, in one short step, and files of an older, longer output the
    /// pattern names (`3.txt` after a write of three partitions) removed. A failed write
    /// leaves the old files as they were; a write killed during the renames is finished by
    /// the next write to the same pattern or the next read of its files through dagr
    /// ([`read_text`], [`read_csv`](crate::dataframe::read_csv)), and the next successful
    /// write removes the temporary files (`.{name}.tmp-…`) killed writes left. An existing target that is not a regular file
    /// (a directory, a device) is an error, and nothing is written. Returns the paths
    /// written.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("dagr-doc-textfiles-{}", std::process::id()));
    /// let b = dagr::bag::from_sequence(["a", "b", "c"], 2)?;
    /// let files = b.to_textfiles(&format!("{}/*.txt", dir.display()))?;
    /// assert_eq!(files.len(), 2);
    /// assert_eq!(std::fs::read_to_string(&files[0]).unwrap(), "a\nb\n");
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn to_textfiles(&self, pattern: &str) -> Result<Vec<PathBuf>, Error> {
        self.to_textfiles_with(pattern, crate::Scheduler::default())
    }

    /// [`Bag::to_textfiles`] on the given scheduler (on a cluster's, each rank writes its own
    /// partitions).
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("dagr-doc-textfiles-with-{}", std::process::id()));
    /// let b = dagr::bag::from_sequence(vec![1, 2, 3], 3)?;
    /// let files = b.to_textfiles_with(&format!("{}/*.txt", dir.display()), dagr::Scheduler::sync())?;
    /// assert_eq!(std::fs::read_to_string(&files[2]).unwrap(), "3\n");
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn to_textfiles_with(
        &self,
        pattern: &str,
        scheduler: crate::Scheduler,
    ) -> Result<Vec<PathBuf>, Error> {
        let paths = output_paths(pattern, self.npartitions())?;
        let name = layer_name("to-textfiles");
        let written = match self.col_of(&[ColKind::Text, ColKind::Words]) {
            // a text column's buffer is already the file: every item followed by '\n'
            Some(col) => self.col_nodes_with(col, &name, |_, p| Ok(p.into_text()?.text)),
            None => self.partition_nodes_with(&name, |it| {
                use std::fmt::Write;
                let mut text = String::new();
                for x in it {
                    let _ = writeln!(text, "{x}");
                }
                text
            }),
        };
        write_parts(pattern, paths.clone(), scheduler.clone(), |parts| {
            let writes: Vec<Delayed<()>> = written
                .into_iter()
                .enumerate()
                .map(|(i, text)| {
                    let parts = parts.clone();
                    let body = move |inp: &mut Inputs<'_>| -> TaskResult {
                        let text = inp.get::<String>(0)?;
                        parts.write(i, text.as_bytes()).map_err(TaskError::new)?;
                        Ok(Value::new(()))
                    };
                    Delayed::from_node(new_wired_node(
                        Key::index(layer_name("write"), &[i as u64]),
                        Deps::one(text),
                        NodeKind::Call,
                        false,
                        Some(crate::wire_of::<()>()),
                        body,
                    ))
                })
                .collect();
            crate::compute_with(&writes, scheduler.clone()).map(drop)
        })?;
        Ok(paths)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block read in pieces is the block read whole: every line once, in order, whatever
    /// the piece size, with lines longer than a piece, CRLF, empty lines and no final
    /// line break.
    #[test]
    fn a_block_in_pieces_has_the_lines_of_the_block_read_whole() {
        let dir = std::env::temp_dir().join(format!("dagr-pieces-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path: Arc<Path> = dir.join("t.txt").into();
        let mut text = String::new();
        for i in 0..300 {
            let line = match i % 7 {
                0 => String::new(),
                1 => "x".repeat(i * 3),
                2 => format!("crlf {i}\r"),
                _ => format!("line {i} with words"),
            };
            text.push_str(&line);
            text.push('\n');
        }
        text.push_str("no final break");
        std::fs::write(&path, &text).unwrap();
        let len = text.len() as u64;
        for bs in [100, 997, len] {
            let mut start = 0;
            while start < len {
                let end = (start + bs).min(len);
                for (block_end, whole_file) in [(Some(end), false), (None, true)] {
                    if whole_file && start > 0 {
                        continue;
                    }
                    let block = Block {
                        path: path.clone(),
                        start,
                        end: block_end,
                        gz: false,
                    };
                    let lines = |c: TextColumn| c.iter().map(str::to_owned).collect::<Vec<_>>();
                    let whole = lines(read_block(&block, false, DEFAULT_MAX_LINE).unwrap());
                    for piece in [1, 5, 64, 333] {
                        let mut got = Vec::new();
                        read_pieces(&block, false, DEFAULT_MAX_LINE, piece, &mut |p| {
                            got.extend(lines(p.into_text()?));
                            Ok(())
                        })
                        .unwrap();
                        assert_eq!(got, whole, "blocks of {bs} from {start}, pieces of {piece}");
                    }
                }
                start += bs;
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
