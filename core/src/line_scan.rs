//! Line boundaries in files cut into blocks, shared by `read_text` and `read_csv`.
//!
//! A file of `len` bytes is cut into blocks `[start, end)`; a line belongs to the block its
//! first byte lies in. So:
//!
//! 1. A block's first line starts just after the first line break in `[start - 1, end - 1)`
//!    (at 0 for the first block). A block with no line break there holds no line: it lies
//!    inside a line that began in an earlier block. Finding this looks at the block's own
//!    bytes only, never further: a line spanning many blocks is not scanned once per block.
//! 2. A block's last line runs past `end` to its line break (or the end of the file); the
//!    block it starts in reads it, once.
//! 3. No line is longer than a limit (`max_line`, [`DEFAULT_MAX_LINE`] unless raised): a
//!    longer one is [`Error::LineTooLong`] naming the file and the byte offset where the line
//!    starts, found before more than the limit is held for it. Memory for a partition is
//!    therefore its block plus at most one limit.
//!
//! Every byte these helpers read is counted on the reading thread
//! ([`bytes_read_on_this_thread`]): the tests bound the bytes a read examines.

use crate::Error;
use std::cell::Cell;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// The default longest line `read_text` and `read_csv` read: 256 MiB. A longer line is
/// [`Error::LineTooLong`]; raise it with
/// [`TextOptions::max_line`](crate::bag::TextOptions::max_line) or
/// [`CsvOptions::max_line`](crate::dataframe::CsvOptions::max_line).
///
/// ```
/// assert_eq!(dagr::bag::DEFAULT_MAX_LINE, 256 << 20);
/// ```
pub const DEFAULT_MAX_LINE: u64 = 256 << 20;

/// Bytes read at a time when scanning for a line break.
const SCAN_CHUNK: usize = 1 << 14;

thread_local! {
    static BYTES_READ: Cell<u64> = const { Cell::new(0) };
}

/// Counts bytes read from a file by the text and CSV readers on this thread.
pub(crate) fn count(n: usize) {
    BYTES_READ.with(|c| c.set(c.get() + n as u64));
}

/// Bytes the text and CSV readers have read from files on the calling thread (with the
/// sync scheduler, every task runs there). For tests that bound the work of a read.
///
/// ```
/// let before = dagr::bag::bytes_read_on_this_thread();
/// assert!(dagr::bag::bytes_read_on_this_thread() >= before);
/// ```
#[doc(hidden)]
pub fn bytes_read_on_this_thread() -> u64 {
    BYTES_READ.with(Cell::get)
}

/// The first line start in `[start, end)` (rule 1), or `None` when no line starts there.
pub(crate) fn first_line_start(
    file: &mut File,
    start: u64,
    end: u64,
) -> std::io::Result<Option<u64>> {
    if start == 0 {
        return Ok((end > 0).then_some(0));
    }
    if start >= end {
        return Ok(None);
    }
    file.seek(SeekFrom::Start(start - 1))?;
    Ok(find_break(file, start - 1, end - start)?.map(|p| p + 1))
}

/// The offset of the first line break in the `limit` bytes from `pos` (the file's current
/// position), or `None` if there is none there.
fn find_break(file: &mut File, mut pos: u64, mut limit: u64) -> std::io::Result<Option<u64>> {
    let mut chunk = vec![0u8; SCAN_CHUNK];
    while limit > 0 {
        let want = (limit as usize).min(SCAN_CHUNK);
        let n = match file.read(&mut chunk[..want]) {
            Ok(0) => return Ok(None),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        count(n);
        if let Some(i) = memchr::memchr(b'\n', &chunk[..n]) {
            return Ok(Some(pos + i as u64));
        }
        pos += n as u64;
        limit -= n as u64;
    }
    Ok(None)
}

/// Where the line holding byte `end - 1` ends (just past its line break, or the file's
/// length), for a block ending at `end` whose first line starts at `first` (rule 2): the
/// rest of that line past `end` is bounded by `max_line`, and a longer one is
/// [`Error::LineTooLong`] naming where the line starts.
pub(crate) fn block_stop(
    path: &Path,
    file: &mut File,
    first: u64,
    end: u64,
    max_line: u64,
) -> Result<u64, Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    file.seek(SeekFrom::Start(end - 1)).map_err(io)?;
    if let Some(p) = find_break(file, end - 1, max_line.saturating_add(2)).map_err(io)? {
        return Ok(p + 1);
    }
    let len = file.metadata().map_err(io)?.len();
    if len.saturating_sub(end) <= max_line {
        return Ok(len);
    }
    // the error path: the line starts after the block's last line break
    file.seek(SeekFrom::Start(first)).map_err(io)?;
    let mut start = first;
    let mut pos = first;
    let mut chunk = vec![0u8; SCAN_CHUNK];
    while pos < end {
        let want = ((end - pos) as usize).min(SCAN_CHUNK);
        let n = file.read(&mut chunk[..want]).map_err(io)?;
        if n == 0 {
            break;
        }
        if let Some(i) = memchr::memrchr(b'\n', &chunk[..n]) {
            start = pos + i as u64 + 1;
        }
        pos += n as u64;
    }
    Err(too_long(path, start, max_line))
}

/// The error for a line longer than `limit` bytes at `offset`.
pub(crate) fn too_long(path: &Path, offset: u64, limit: u64) -> Error {
    Error::LineTooLong {
        path: path.to_owned(),
        offset,
        limit,
    }
}

/// Checks line lengths in a growing buffer, each byte once (rule 3).
pub(crate) struct LineCheck {
    /// Where the current, unfinished line starts in the buffer.
    start: usize,
    /// Bytes of the buffer already looked at.
    seen: usize,
    max: u64,
}

impl LineCheck {
    pub(crate) fn new(max_line: u64) -> Self {
        LineCheck {
            start: 0,
            seen: 0,
            max: max_line,
        }
    }

    /// Looks at the bytes added to `buf` since the last call: `Err(start)` when a line
    /// (finished or not, without its line break) is longer than the limit, with the offset in
    /// `buf` where it starts.
    pub(crate) fn feed(&mut self, buf: &[u8]) -> Result<(), usize> {
        for nl in memchr::memchr_iter(b'\n', &buf[self.seen..]) {
            let nl = self.seen + nl;
            if (nl - self.start) as u64 > self.max {
                return Err(self.start);
            }
            self.start = nl + 1;
        }
        self.seen = buf.len();
        if (buf.len() - self.start) as u64 > self.max {
            return Err(self.start);
        }
        Ok(())
    }

    /// [`LineCheck::feed`] for a buffer of at most the limit, whose finished lines are
    /// therefore short enough: only its last, unfinished line is looked at (found from the
    /// end), so a block no longer than the limit is not scanned twice.
    pub(crate) fn feed_short(&mut self, buf: &[u8]) -> Result<(), usize> {
        debug_assert!(buf.len() as u64 <= self.max && self.seen == 0);
        self.start = memchr::memrchr(b'\n', buf).map_or(0, |i| i + 1);
        self.seen = buf.len();
        Ok(())
    }

    /// Whether the bytes seen end with a line break (or are none).
    pub(crate) fn at_line_start(&self) -> bool {
        self.start == self.seen
    }
}

/// Appends `src` to `buf` to its end in pieces, checking each piece's lines as it comes
/// (memory stays within a line limit past the last good line, even for a stream of unknown
/// length such as a `.gz` file's).
pub(crate) fn read_checked(
    src: &mut impl Read,
    buf: &mut Vec<u8>,
    check: &mut LineCheck,
) -> std::io::Result<Result<(), usize>> {
    const PIECE: u64 = 1 << 20;
    loop {
        let n = src.take(PIECE).read_to_end(buf)?;
        count(n);
        if let Err(at) = check.feed(buf) {
            return Ok(Err(at));
        }
        if n == 0 {
            return Ok(Ok(()));
        }
    }
}

/// Appends the rest of the current line (through its line break) to `buf`, checking its
/// length as it grows.
pub(crate) fn finish_line(
    file: &mut File,
    buf: &mut Vec<u8>,
    check: &mut LineCheck,
) -> std::io::Result<Result<(), usize>> {
    let mut chunk = vec![0u8; SCAN_CHUNK];
    loop {
        let n = match file.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(Ok(()));
        }
        count(n);
        let (piece, done) = match memchr::memchr(b'\n', &chunk[..n]) {
            Some(i) => (&chunk[..=i], true),
            None => (&chunk[..n], false),
        };
        buf.extend_from_slice(piece);
        if let Err(at) = check.feed(buf) {
            return Ok(Err(at));
        }
        if done {
            return Ok(Ok(()));
        }
    }
}

/// A reader that fails with [`TooLong`] when a line (the bytes between two line breaks,
/// counted as they pass) grows past a limit, so that a parser reading through it holds at
/// most a limit and its own buffer for one line. Counts the bytes it passes.
pub(crate) struct LineLimited<R> {
    inner: R,
    /// File offset of the next byte.
    pos: u64,
    /// File offset where the current line starts.
    line_start: u64,
    max: u64,
}

impl<R> LineLimited<R> {
    /// Reads `inner`, whose first byte is at file offset `offset`, a line start.
    pub(crate) fn new(inner: R, offset: u64, max_line: u64) -> Self {
        LineLimited {
            inner,
            pos: offset,
            line_start: offset,
            max: max_line,
        }
    }
}

impl<R: Read> Read for LineLimited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        count(n);
        let max = self.max;
        let too_long = |offset| std::io::Error::other(TooLong { offset, limit: max });
        for nl in memchr::memchr_iter(b'\n', &buf[..n]) {
            let at = self.pos + nl as u64;
            if at - self.line_start > self.max {
                return Err(too_long(self.line_start));
            }
            self.line_start = at + 1;
        }
        self.pos += n as u64;
        if self.pos - self.line_start > self.max {
            return Err(too_long(self.line_start));
        }
        Ok(n)
    }
}

/// The error [`LineLimited`] reads fail with.
#[derive(Debug)]
pub(crate) struct TooLong {
    /// File offset where the long line starts.
    offset: u64,
    /// The limit.
    limit: u64,
}

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the line at byte {} is too long", self.offset)
    }
}

impl std::error::Error for TooLong {}

/// The offset of the long line and the limit, if `e` is a [`LineLimited`] reader's
/// [`TooLong`].
pub(crate) fn too_long_at(e: &std::io::Error) -> Option<(u64, u64)> {
    e.get_ref()?
        .downcast_ref::<TooLong>()
        .map(|t| (t.offset, t.limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_longer_than_the_limit_is_found_where_it_starts() {
        let mut c = LineCheck::new(3);
        assert_eq!(c.feed(b"ab\nabc\n"), Ok(()));
        assert!(c.at_line_start());
        assert_eq!(c.feed(b"ab\nabc\nab"), Ok(()));
        assert!(!c.at_line_start());
        assert_eq!(c.feed(b"ab\nabc\nabcd"), Err(7));
        let mut c = LineCheck::new(3);
        assert_eq!(c.feed(b"abcd\n"), Err(0));
        let mut c = LineCheck::new(5);
        assert_eq!(c.feed_short(b"ab\nab"), Ok(()));
        assert!(!c.at_line_start());
        assert_eq!(c.feed(b"ab\nabc"), Ok(()));
        assert_eq!(c.feed(b"ab\nabcdef"), Err(3));
    }
}
