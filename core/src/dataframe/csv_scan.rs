//! Parsing one block of a CSV file straight from its bytes into typed columns.
//!
//! The block's bytes are read in chunks into one reused buffer (so they stay in cache and
//! nothing the size of the block is allocated but the columns themselves). Each chunk is cut
//! after its last line break and its rows are parsed in place:
//!
//! 1. **Fast path**, per row: each field is parsed for its column's type where it starts: a
//!    float by `fast_float2::parse_partial` (correctly rounded, so bit-identical to
//!    `str::parse`), which also says where the number ends; an integer by a digit loop; a
//!    string or boolean up to the next delimiter found by `memchr`. The byte after each field
//!    must be the delimiter (or the line's end after the last field). No `String` is made
//!    for a number and no record is built.
//! 2. **Row fallback**: anything else in a row (spaces around a number, `inf` or `NaN`
//!    spelled out, a long integer, too few or too many fields, a value of the wrong type)
//!    undoes the row's values and parses its line the general way, field by field with
//!    `str::parse`, which either stores the values (widening a column on request) or returns
//!    the error naming file, line and column. The fast path never decides a value the general
//!    path would decide differently; it only gives up.
//! 3. **Block fallback**: from the first chunk holding a quote character on, the rest of the
//!    block is read by the `csv` crate, which knows quoting.
//!
//! Line numbers count the lines of the block as they go; the lines before the block in its
//! file are counted only when an error needs them.

use super::table::{Column, DType};
use super::Schema;
use crate::Error;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Bytes read at a time: large enough that a read is cheap, small enough to stay in cache.
const CHUNK: usize = 512 << 10;

/// Where the lines of a block are counted from, and how to count the lines before it.
pub(super) struct LineBase<'a> {
    /// The file (for errors).
    pub(super) path: &'a Path,
    /// Byte offset of the block's first line in the file.
    pub(super) first: u64,
}

impl LineBase<'_> {
    /// Lines of the file before the block (read only on error paths).
    fn lines_before(&self) -> u64 {
        if self.first == 0 {
            return 0;
        }
        std::fs::File::open(self.path)
            .map(|f| {
                let mut r = BufReader::with_capacity(1 << 16, f).take(self.first);
                let mut n = 0u64;
                loop {
                    let buf = match r.fill_buf() {
                        Ok(b) if !b.is_empty() => b,
                        _ => break,
                    };
                    n += memchr::memchr_iter(b'\n', buf).count() as u64;
                    let len = buf.len();
                    r.consume(len);
                }
                n
            })
            .unwrap_or(0)
    }
}

/// Parses rows into the columns of a schema.
pub(super) struct Scanner<'a> {
    base: LineBase<'a>,
    schema: &'a Schema,
    delimiter: u8,
    /// Whether a number's end can be told by the parser: not when the delimiter could be
    /// part of a number (`.`, `e`, a digit…), where fields are split first.
    numbers_in_place: bool,
    widen: bool,
    cols: Vec<Column>,
    rows: usize,
    /// Lines of the block consumed so far.
    lineno: u64,
    skip_header: bool,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(
        base: LineBase<'a>,
        schema: &'a Schema,
        delimiter: u8,
        widen: bool,
        skip_header: bool,
    ) -> Self {
        Scanner {
            base,
            schema,
            delimiter,
            numbers_in_place: !(delimiter.is_ascii_alphanumeric() || b".+-_".contains(&delimiter)),
            widen,
            cols: schema.dtypes.iter().map(|&d| Column::empty(d, 0)).collect(),
            rows: 0,
            lineno: 0,
            skip_header,
        }
    }

    /// The parsed columns.
    pub(super) fn into_columns(self) -> Vec<Column> {
        self.cols
    }

    /// Reads `src` (the block's bytes, `len` of them if known) to its end.
    pub(super) fn read(&mut self, mut src: impl Read, len: Option<u64>) -> Result<(), Error> {
        let path = self.base.path;
        let io = |source| super::csv::read_error(path, source);
        let mut buf = vec![0u8; CHUNK];
        let mut filled = 0;
        let mut eof = false;
        let mut consumed = 0u64;
        let mut reserved = false;
        loop {
            while filled < buf.len() && !eof {
                match src.read(&mut buf[filled..]) {
                    Ok(0) => eof = true,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(io(e)),
                }
            }
            if memchr::memchr(b'"', &buf[..filled]).is_some() {
                let rest = std::io::Cursor::new(buf[..filled].to_vec());
                return self.read_quoted(rest.chain(src));
            }
            let upto = if eof {
                filled
            } else {
                match memchr::memrchr(b'\n', &buf[..filled]) {
                    Some(i) => i + 1,
                    None => {
                        // a line longer than the buffer
                        let n = buf.len();
                        buf.resize(2 * n, 0);
                        continue;
                    }
                }
            };
            self.lines(&buf[..upto])?;
            consumed += upto as u64;
            if !reserved && self.rows > 0 {
                // size the columns from the first chunk's rows per byte, once
                reserved = true;
                if let Some(len) = len {
                    // a row takes at least a byte a field: the block holds no more rows
                    let most = len / self.cols.len().max(1) as u64 + 1;
                    let want = (self.rows as u64).saturating_mul(len) / consumed.max(1);
                    let want = (want + want / 16 + 16).min(most) as usize;
                    let extra = want.saturating_sub(self.rows);
                    self.cols.iter_mut().for_each(|c| c.reserve(extra));
                }
            }
            buf.copy_within(upto..filled, 0);
            filled -= upto;
            if eof && filled == 0 {
                return Ok(());
            }
        }
    }

    /// Parses whole lines (the last one may lack its line break only at the end of input).
    fn lines(&mut self, b: &[u8]) -> Result<(), Error> {
        let mut p = 0;
        while p < b.len() {
            self.lineno += 1;
            match (b[p], b.get(p + 1)) {
                (b'\n', _) => {
                    p += 1; // blank line
                    continue;
                }
                (b'\r', Some(b'\n') | None) => {
                    p += 2;
                    continue;
                }
                _ => {}
            }
            if std::mem::take(&mut self.skip_header) {
                p = memchr::memchr(b'\n', &b[p..]).map_or(b.len(), |i| p + i + 1);
                continue;
            }
            if let Some(next) = self.fast_row(b, p) {
                self.rows += 1;
                p = next;
                continue;
            }
            self.cols.iter_mut().for_each(|c| c.truncate(self.rows));
            let end = memchr::memchr(b'\n', &b[p..]).map_or(b.len(), |i| p + i);
            if self.line(&b[p..end])? {
                self.rows += 1;
            }
            p = end + 1;
        }
        Ok(())
    }

    /// Parses the row starting at `p` for the common case, returning where the next row
    /// starts; `None` when the row needs the general path (its values may be half stored).
    #[inline]
    fn fast_row(&mut self, b: &[u8], mut p: usize) -> Option<usize> {
        let delim = self.delimiter;
        if !self.numbers_in_place {
            return None;
        }
        let n = self.cols.len();
        for (c, col) in self.cols.iter_mut().enumerate() {
            let last = c + 1 == n;
            match col {
                Column::F64(v) => {
                    let x = match b.get(p) {
                        None => f64::NAN,
                        Some(&ch) if ch == delim || ch == b'\n' || ch == b'\r' => f64::NAN,
                        Some(_) => {
                            let (x, k) = fast_float2::parse_partial::<f64, _>(&b[p..]).ok()?;
                            if !x.is_finite() {
                                return None; // spelled-out inf / NaN: str::parse decides
                            }
                            p += k;
                            x
                        }
                    };
                    v.push(x);
                }
                Column::I64(v) => {
                    let (x, k) = parse_i64_prefix(&b[p..])?;
                    p += k;
                    v.push(x);
                }
                Column::Bool(v) => {
                    let (field, end) = field_at(b, p, delim, last);
                    let s = std::str::from_utf8(field).ok()?;
                    v.push(super::csv::parse_bool(trim_spaces(s))?);
                    p = end;
                }
                Column::Str(v) => {
                    let (field, end) = field_at(b, p, delim, last);
                    v.push(if super::csv::is_na(field) {
                        None
                    } else {
                        Some(std::str::from_utf8(field).ok()?.to_owned())
                    });
                    p = end;
                }
            }
            if !last {
                if b.get(p) != Some(&delim) {
                    return None;
                }
                p += 1;
            } else {
                match b.get(p) {
                    None => {}
                    Some(b'\n') => p += 1,
                    Some(b'\r') if b.get(p + 1) == Some(&b'\n') => p += 2,
                    Some(_) => return None,
                }
            }
        }
        (n > 0).then_some(p)
    }

    /// Parses one line (without its line break) field by field; `false` for a blank line.
    fn line(&mut self, line: &[u8]) -> Result<bool, Error> {
        let body = line.strip_suffix(b"\r").unwrap_or(line);
        if body.is_empty() {
            return Ok(false);
        }
        let ncols = self.cols.len();
        let found = memchr::memchr_iter(self.delimiter, body).count() + 1;
        if found != ncols {
            return Err(ragged(self.base.path, self.line_no(0), ncols, found));
        }
        let delim = self.delimiter;
        for (c, field) in body.split(|&x| x == delim).enumerate() {
            self.store(c, field, 0)?;
        }
        Ok(true)
    }

    /// The file line of line `k` of the block (1-based), or of the current one for 0.
    fn line_no(&self, k: u64) -> u64 {
        self.base.lines_before() + if k == 0 { self.lineno } else { k }
    }

    /// Stores `field` in column `c`, widening the column on request; `at` is the block line
    /// (0: the current one).
    fn store(&mut self, c: usize, field: &[u8], at: u64) -> Result<(), Error> {
        if let Err(bad) = push(&mut self.cols[c], field) {
            if !self.widen && super::csv::is_na(field) {
                let column = crate::error::quoted(&self.schema.names[c]);
                return Err(Error::Csv {
                    path: self.base.path.to_owned(),
                    line: self.line_no(at),
                    message: format!(
                        "column {column} has a missing value, but the column is {bad} \
                         (inferred from the start of each file unless declared): read with \
                         `CsvOptions::widen(true)` to infer from every value, as pandas does, \
                         or declare `.dtype({column}, DType::F64)` for floats with NaN"
                    ),
                });
            }
            if !self.widen {
                return Err(Error::CsvValue {
                    path: self.base.path.to_owned(),
                    line: self.line_no(at),
                    column: self.schema.names[c].clone(),
                    value: crate::error::start_of(field),
                    dtype: bad,
                });
            }
            let to = bad.widen(super::csv::infer(field).unwrap_or(DType::F64));
            let col = &mut self.cols[c];
            let taken = std::mem::replace(col, Column::Bool(Vec::new()));
            *col = taken.cast(to);
            if push(col, field).is_err() {
                let taken = std::mem::replace(col, Column::Bool(Vec::new()));
                *col = taken.cast(DType::Str);
                if let Column::Str(v) = col {
                    // text that is not UTF-8, kept readable
                    v.push(Some(String::from_utf8_lossy(field).into_owned()));
                }
            }
        }
        Ok(())
    }

    /// Reads the rest of the block with the `csv` crate (quoted fields).
    fn read_quoted(&mut self, src: impl Read) -> Result<(), Error> {
        let before = self.lineno;
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .buffer_capacity(1 << 16)
            .from_reader(src);
        let mut rec = csv::ByteRecord::new();
        loop {
            match rdr.read_byte_record(&mut rec) {
                Ok(false) => return Ok(()),
                Ok(true) => {}
                Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                    return Err(super::csv::csv_error(self.base.path, &e));
                }
                Err(e) => {
                    let line = before + e.position().map_or(0, |p| p.line());
                    return Err(Error::Csv {
                        path: self.base.path.to_owned(),
                        line: self.base.lines_before() + line,
                        message: e.to_string(),
                    });
                }
            }
            if std::mem::take(&mut self.skip_header) {
                continue;
            }
            let at = before + rec.position().map_or(0, |p| p.line());
            let ncols = self.cols.len();
            if rec.len() != ncols {
                return Err(ragged(
                    self.base.path,
                    self.line_no(at.max(1)),
                    ncols,
                    rec.len(),
                ));
            }
            for (c, field) in rec.iter().enumerate() {
                self.store(c, field, at.max(1))?;
            }
        }
    }
}

/// The field starting at `p` (up to the delimiter or the line's end; a `\r` before the
/// line break is not part of the last field) and where it ends.
#[inline]
fn field_at(b: &[u8], p: usize, delim: u8, last: bool) -> (&[u8], usize) {
    let mut end = memchr::memchr2(delim, b'\n', &b[p..]).map_or(b.len(), |i| p + i);
    if last && end > p && b[end - 1] == b'\r' && b.get(end) == Some(&b'\n') {
        end -= 1;
    }
    (&b[p..end], end)
}

/// An integer at the start of `b` as `str::parse::<i64>` reads it, and its length; `None`
/// for anything else, including more than 18 digits (left to `str::parse`).
#[inline]
pub(super) fn parse_i64_prefix(b: &[u8]) -> Option<(i64, usize)> {
    let (neg, start) = match b.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let mut x: i64 = 0;
    let mut i = start;
    while let Some(&d) = b.get(i) {
        let d = d.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        if i - start == 18 {
            return None;
        }
        x = x * 10 + d as i64;
        i += 1;
    }
    (i > start).then_some((if neg { -x } else { x }, i))
}

pub(super) fn ragged(path: &Path, line: u64, want: usize, got: usize) -> Error {
    Error::Csv {
        path: path.to_owned(),
        line,
        message: format!("expected {want} fields, found {got}"),
    }
}

/// A number or boolean with spaces around it is read without them (then without any
/// surrounding whitespace, as pandas does).
#[inline]
fn trim_spaces(s: &str) -> &str {
    if s.starts_with(' ') || s.ends_with(' ') {
        s.trim()
    } else {
        s
    }
}

/// Appends a field to a column as `str::parse` reads it (surrounding spaces trimmed for
/// numbers and booleans); on failure, the column's type.
fn push(col: &mut Column, field: &[u8]) -> Result<(), DType> {
    let s = std::str::from_utf8(field)
        .map_err(|_| col.dtype())
        .map(trim_spaces);
    match col {
        Column::F64(v) => {
            let x = if super::csv::is_na(field) {
                f64::NAN
            } else {
                s?.parse::<f64>().map_err(|_| DType::F64)?
            };
            v.push(x);
        }
        Column::I64(v) => v.push(s?.parse::<i64>().map_err(|_| DType::I64)?),
        Column::Bool(v) => v.push(super::csv::parse_bool(s?).ok_or(DType::Bool)?),
        Column::Str(v) => v.push(if super::csv::is_na(field) {
            None
        } else {
            Some(
                std::str::from_utf8(field)
                    .map_err(|_| DType::Str)?
                    .to_owned(),
            )
        }),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn missing_value_texts_are_pandas_defaults() {
        for t in [
            "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
            "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
        ] {
            assert!(super::super::csv::is_na(t.as_bytes()), "{t:?}");
        }
        for t in [
            "na", "Null", "none", "-", "1", "NAN", "N", "#", "<NA", "x", " NA", "NA ",
        ] {
            assert!(!super::super::csv::is_na(t.as_bytes()), "{t:?}");
        }
    }

    #[test]
    fn integers_read_as_str_parse_reads_them() {
        for s in [
            "0",
            "-0",
            "+7",
            "007",
            "999999999999999999",
            "-999999999999999999",
        ] {
            assert_eq!(
                parse_i64_prefix(s.as_bytes()),
                Some((s.parse().unwrap(), s.len()))
            );
        }
        for s in ["-", "+", "", "x1", "1234567890123456789"] {
            assert_eq!(parse_i64_prefix(s.as_bytes()), None, "{s:?}");
        }
        assert_eq!(parse_i64_prefix(b"12,3"), Some((12, 2)));
    }

    proptest! {
        #[test]
        fn floats_read_bit_identical_to_str_parse(x in any::<f64>(), s in "[-+]?[0-9]{0,22}(\\.[0-9]{0,22})?([eE][-+]?[0-9]{1,3})?") {
            for text in [x.to_string(), format!("{x:e}"), s] {
                if let Ok((y, k)) = fast_float2::parse_partial::<f64, _>(text.as_bytes()) {
                    if k == text.len() && y.is_finite() {
                        prop_assert_eq!(Ok(y.to_bits()), text.parse::<f64>().map(f64::to_bits), "{}", text);
                    }
                }
            }
        }

        #[test]
        fn integers_read_identical_to_str_parse(x in any::<i64>(), s in "[-+]?[0-9]{0,20}") {
            for text in [x.to_string(), s] {
                if let Some((y, k)) = parse_i64_prefix(text.as_bytes()) {
                    if k == text.len() {
                        prop_assert_eq!(Ok(y), text.parse::<i64>(), "{}", text);
                    }
                }
            }
        }
    }
}
