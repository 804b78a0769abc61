//! CSV in and out: `read_csv` with dtype inference, `to_csv`.

use super::table::{Column, DType, Table};
use super::{DataFrame, Schema};
use crate::atomic_file::write_atomic;
use crate::bag::layer_name;
use crate::bag::text::expand;
use crate::Error;
use dagr_runtime::TaskError;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bytes read from the start of each file to infer column types (as Dask's `sample`).
const SAMPLE_BYTES: u64 = 256 << 10;

/// How [`read_csv`] reads files (Dask / pandas `read_csv` keywords).
///
/// ```
/// use dagr_core::dataframe::{CsvOptions, DType};
/// let opts = CsvOptions::default()
///     .header(false)                       // header=None: columns "0", "1", …
///     .delimiter(b';')
///     .dtype("0", DType::F64)
///     .blocksize(Some(32 << 20));
/// # drop(opts);
/// ```
#[derive(Clone, Debug)]
pub struct CsvOptions {
    header: bool,
    delimiter: u8,
    names: Option<Vec<String>>,
    dtypes: Vec<(String, DType)>,
    blocksize: Option<u64>,
    widen: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            header: true,
            delimiter: b',',
            names: None,
            dtypes: Vec::new(),
            blocksize: Some(64 << 20),
            widen: false,
        }
    }
}

impl CsvOptions {
    /// Whether each file starts with a header line (default true). Without one, columns are
    /// named `"0"`, `"1"`, … as pandas' `header=None` does, unless [`CsvOptions::names`].
    pub fn header(mut self, yes: bool) -> Self {
        self.header = yes;
        self
    }

    /// The field separator (default `,`).
    pub fn delimiter(mut self, d: u8) -> Self {
        self.delimiter = d;
        self
    }

    /// Column names (replacing the header's, if any).
    pub fn names(mut self, names: &[&str]) -> Self {
        self.names = Some(names.iter().map(|s| s.to_string()).collect());
        self
    }

    /// Declares a column's type instead of inferring it.
    pub fn dtype(mut self, column: &str, dtype: DType) -> Self {
        self.dtypes.push((column.to_owned(), dtype));
        self
    }

    /// Splits uncompressed files into partitions of about this many bytes, at line
    /// boundaries (default 64 MiB, as Dask); `None`: one partition per file. Quoted fields
    /// must not contain line breaks when files are split.
    pub fn blocksize(mut self, bytes: Option<u64>) -> Self {
        self.blocksize = bytes.map(|b| b.max(1));
        self
    }

    /// When a value does not fit the inferred type, widen the column (int → float →
    /// string) instead of failing.
    pub fn widen(mut self, yes: bool) -> Self {
        self.widen = yes;
        self
    }
}

#[derive(Clone, Debug)]
struct Block {
    path: Arc<Path>,
    start: u64,
    end: Option<u64>,
    gz: bool,
    /// Whether this block starts with the file's header line.
    header: bool,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

fn open(path: &Path, gz: bool) -> Result<Box<dyn Read>, Error> {
    let f = File::open(path).map_err(io(path))?;
    Ok(if gz {
        Box::new(flate2::read::MultiGzDecoder::new(f))
    } else {
        Box::new(f)
    })
}

/// Reads the CSV files matching `pattern` (a path or glob) as a dataframe with one or more
/// partitions per file (Dask: `dd.read_csv`). Column types are inferred from the start of
/// every file and agreed before anything is computed (int → float → string); a value that
/// does not fit its column's type is an error naming file, line and column.
///
/// ```no_run
/// use dagr_core::dataframe as dd;
/// let df = dd::read_csv("data/x*.csv", dd::CsvOptions::default().header(false))?;
/// println!("{}", df.describe().compute()?);
/// # Ok::<(), dagr_core::Error>(())
/// ```
pub fn read_csv(pattern: &str, opts: CsvOptions) -> Result<DataFrame, Error> {
    let paths = expand(pattern)?;
    let mut names: Option<Vec<String>> = None;
    let mut inferred: Vec<Option<DType>> = Vec::new();
    let mut blocks = Vec::new();
    for path in &paths {
        let gz = path.extension().is_some_and(|e| e == "gz");
        // sample: header + first rows
        let mut sample = Vec::new();
        open(path, gz)?
            .take(SAMPLE_BYTES)
            .read_to_end(&mut sample)
            .map_err(io(path))?;
        let complete = sample.len() < SAMPLE_BYTES as usize;
        if !complete {
            // drop the partial last line
            let cut = sample
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            sample.truncate(cut);
        }
        let mut rdr = reader(&opts, &sample[..]);
        let mut records = rdr.byte_records();
        let header: Option<Vec<String>> = if opts.header {
            match records.next() {
                Some(r) => {
                    let r = r.map_err(|e| csv_error(path, &e))?;
                    Some(
                        r.iter()
                            .map(|f| String::from_utf8_lossy(f).into_owned())
                            .collect(),
                    )
                }
                None => None,
            }
        } else {
            None
        };
        let file_names: Vec<String> = match (&opts.names, &header) {
            (Some(n), _) => n.clone(),
            (None, Some(h)) => h.clone(),
            (None, None) => {
                // width from the first row
                let width = reader(&opts, &sample[..])
                    .byte_records()
                    .next()
                    .map_or(0, |r| r.map_or(0, |r| r.len()));
                (0..width).map(|i| i.to_string()).collect()
            }
        };
        match &names {
            None => {
                inferred = vec![None; file_names.len()];
                names = Some(file_names);
            }
            Some(n) if *n != file_names => {
                return Err(Error::Csv {
                    path: path.clone(),
                    line: 1,
                    message: format!("columns {file_names:?} differ from {n:?} of the first file"),
                });
            }
            Some(_) => {}
        }
        let ncols = inferred.len();
        let first_data_line = if opts.header { 2 } else { 1 };
        for (row, rec) in records.enumerate() {
            let rec = rec.map_err(|e| csv_error(path, &e))?;
            if rec.len() != ncols {
                return Err(ragged(path, first_data_line + row as u64, ncols, rec.len()));
            }
            for (c, field) in rec.iter().enumerate() {
                if let Some(t) = infer(field) {
                    inferred[c] = Some(inferred[c].map_or(t, |p| p.widen(t)));
                }
            }
        }
        let len = std::fs::metadata(path).map_err(io(path))?.len();
        let path: Arc<Path> = path.as_path().into();
        match opts.blocksize {
            Some(bs) if !gz && len > bs => {
                let mut start = 0;
                while start < len {
                    blocks.push(Block {
                        path: path.clone(),
                        start,
                        end: Some((start + bs).min(len)),
                        gz,
                        header: opts.header && start == 0,
                    });
                    start += bs;
                }
            }
            _ => blocks.push(Block {
                path,
                start: 0,
                end: None,
                gz,
                header: opts.header,
            }),
        }
    }
    let names = names.unwrap_or_default();
    // declared types win; columns with no value in any sample are floats (all NaN), as in pandas
    let mut dtypes: Vec<DType> = inferred.iter().map(|d| d.unwrap_or(DType::F64)).collect();
    for (col, d) in &opts.dtypes {
        let i = super::table::position(&names, col)?;
        dtypes[i] = *d;
    }
    let schema = Arc::new(Schema {
        names: names.into(),
        dtypes,
    });
    let blocks: Arc<[Block]> = blocks.into();
    let n = blocks.len();
    let schema2 = schema.clone();
    let widen = opts.widen;
    Ok(DataFrame {
        name: layer_name("read-csv"),
        schema,
        inputs: vec![None; n].into(),
        gen: Arc::new(move |i, _| {
            parse_block(&blocks[i], &opts, &schema2, widen).map_err(TaskError::new)
        }),
    })
}

fn reader<R: Read>(opts: &CsvOptions, r: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(opts.delimiter)
        .buffer_capacity(1 << 16)
        .from_reader(r)
}

/// The narrowest type a field fits; `None` for an empty (null) field.
fn infer(field: &[u8]) -> Option<DType> {
    if field.is_empty() {
        return None;
    }
    let s = std::str::from_utf8(field).ok()?;
    Some(if s.parse::<i64>().is_ok() {
        DType::I64
    } else if s.parse::<f64>().is_ok() {
        DType::F64
    } else if parse_bool(s).is_some() {
        DType::Bool
    } else {
        DType::Str
    })
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "True" | "true" | "TRUE" => Some(true),
        "False" | "false" | "FALSE" => Some(false),
        _ => None,
    }
}

fn csv_error(path: &Path, e: &csv::Error) -> Error {
    Error::Csv {
        path: path.to_owned(),
        line: e.position().map_or(0, |p| p.line()),
        message: e.to_string(),
    }
}

fn ragged(path: &Path, line: u64, want: usize, got: usize) -> Error {
    Error::Csv {
        path: path.to_owned(),
        line,
        message: format!("expected {want} fields, found {got}"),
    }
}

/// Lines before byte `offset` of a file (only on error paths).
fn lines_before(path: &Path, offset: u64) -> u64 {
    File::open(path)
        .map(|f| {
            BufReader::new(f)
                .take(offset)
                .bytes()
                .filter(|b| matches!(b, Ok(b'\n')))
                .count() as u64
        })
        .unwrap_or(0)
}

/// Reads a block's bytes: from its first row start to the end of the last row that starts
/// before the block's end (or the whole file). Returns the bytes and their file offset.
fn block_bytes(block: &Block) -> Result<(Vec<u8>, u64), Error> {
    let path = &*block.path;
    let mut buf = Vec::new();
    if block.start == 0 {
        let mut src = open(path, block.gz)?;
        match block.end {
            None => {
                src.read_to_end(&mut buf).map_err(io(path))?;
            }
            Some(end) => {
                let mut r = BufReader::with_capacity(1 << 16, src);
                (&mut r).take(end).read_to_end(&mut buf).map_err(io(path))?;
                if buf.last().is_some_and(|&b| b != b'\n') {
                    r.read_until(b'\n', &mut buf).map_err(io(path))?;
                }
            }
        }
        return Ok((buf, 0));
    }
    // A row belongs to the block its first byte lies in: begin after the first line break
    // at or after `start - 1`.
    let mut f = File::open(path).map_err(io(path))?;
    f.seek(SeekFrom::Start(block.start - 1)).map_err(io(path))?;
    let mut r = BufReader::with_capacity(1 << 16, f);
    let skipped = r.read_until(b'\n', &mut Vec::new()).map_err(io(path))? as u64;
    let first = block.start - 1 + skipped;
    let end = block.end.unwrap_or(u64::MAX);
    if first < end {
        (&mut r)
            .take(end - first)
            .read_to_end(&mut buf)
            .map_err(io(path))?;
        if buf.last().is_some_and(|&b| b != b'\n') {
            r.read_until(b'\n', &mut buf).map_err(io(path))?;
        }
    }
    Ok((buf, first))
}

/// Parses one block into a table of the agreed schema.
fn parse_block(
    block: &Block,
    opts: &CsvOptions,
    schema: &Schema,
    widen: bool,
) -> Result<Table, Error> {
    let path = &*block.path;
    let (bytes, first) = block_bytes(block)?;
    let line_base = || {
        if first == 0 {
            0
        } else {
            lines_before(path, first)
        }
    };
    let ncols = schema.dtypes.len();
    let rows_hint = bytes.len() / (8 * ncols.max(1)) + 16;
    let mut cols: Vec<Column> = schema
        .dtypes
        .iter()
        .map(|&d| Column::empty(d, rows_hint))
        .collect();
    let store = |cols: &mut Vec<Column>,
                 c: usize,
                 field: &[u8],
                 line: &dyn Fn() -> u64|
     -> Result<(), Error> {
        if let Err(bad) = push(&mut cols[c], field) {
            if !widen {
                return Err(Error::CsvValue {
                    path: path.to_owned(),
                    line: line(),
                    column: schema.names[c].clone(),
                    value: String::from_utf8_lossy(field).into_owned(),
                    dtype: bad,
                });
            }
            let to = bad.widen(infer(field).unwrap_or(DType::F64));
            let col = std::mem::replace(&mut cols[c], Column::Bool(Vec::new()));
            cols[c] = col.cast(to);
            if push(&mut cols[c], field).is_err() {
                let col = std::mem::replace(&mut cols[c], Column::Bool(Vec::new()));
                cols[c] = col.cast(DType::Str);
                let _ = push(&mut cols[c], field);
            }
        }
        Ok(())
    };
    let store_str = |cols: &mut Vec<Column>,
                     c: usize,
                     field: &str,
                     line: &dyn Fn() -> u64|
     -> Result<(), Error> {
        if push_str(&mut cols[c], field).is_ok() {
            return Ok(());
        }
        store(cols, c, field.as_bytes(), line)
    };
    let text = if bytes.contains(&b'"') {
        None
    } else {
        std::str::from_utf8(&bytes).ok()
    };
    if let Some(text) = text {
        // Fast path: valid UTF-8 (checked once for the block) and no quoting anywhere, so
        // rows are lines and fields are split on the delimiter, in one pass over the bytes.
        let b = text.as_bytes();
        let delim = opts.delimiter;
        let mut lineno = 0u64;
        let mut skip_header = block.header;
        let mut pos = 0;
        while pos < b.len() {
            lineno += 1;
            let line_start = pos;
            let mut c = 0;
            let mut field_start = pos;
            let skip = std::mem::take(&mut skip_header);
            loop {
                let at_end = pos == b.len();
                let byte = if at_end { b'\n' } else { b[pos] };
                if byte == delim || byte == b'\n' {
                    let mut field = &text[field_start..pos];
                    if byte == b'\n' {
                        field = field.strip_suffix('\r').unwrap_or(field);
                    }
                    let blank = byte == b'\n' && c == 0 && field.is_empty();
                    if !skip && !blank {
                        let at = || line_base() + lineno;
                        if c == ncols {
                            let found = text[line_start..pos].split(delim as char).count();
                            return Err(ragged(path, at(), ncols, found));
                        }
                        store_str(&mut cols, c, field, &at)?;
                    }
                    c += 1;
                    pos += 1;
                    field_start = pos;
                    if byte == b'\n' {
                        if !skip && !blank && c != ncols {
                            return Err(ragged(path, line_base() + lineno, ncols, c));
                        }
                        break;
                    }
                } else {
                    pos += 1;
                }
            }
        }
    } else {
        let mut rdr = reader(opts, &bytes[..]);
        let mut rec = csv::ByteRecord::new();
        let mut skip_header = block.header;
        loop {
            match rdr.read_byte_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let mut err = csv_error(path, &e);
                    if let Error::Csv { line, .. } = &mut err {
                        *line += line_base();
                    }
                    return Err(err);
                }
            }
            if std::mem::take(&mut skip_header) {
                continue;
            }
            let at = || line_base() + rec.position().map_or(0, |p| p.line());
            if rec.len() != ncols {
                return Err(ragged(path, at(), ncols, rec.len()));
            }
            for (c, field) in rec.iter().enumerate() {
                store(&mut cols, c, field, &at)?;
            }
        }
    }
    Ok(Table::from_parts(schema.names.clone(), cols))
}

/// Appends a field known to be UTF-8 to a column; on failure, the column's type.
#[inline]
fn push_str(col: &mut Column, s: &str) -> Result<(), DType> {
    let t = if s.starts_with(' ') || s.ends_with(' ') {
        s.trim()
    } else {
        s
    };
    match col {
        Column::F64(v) => v.push(if s.is_empty() {
            f64::NAN
        } else {
            t.parse::<f64>().map_err(|_| DType::F64)?
        }),
        Column::I64(v) => v.push(t.parse::<i64>().map_err(|_| DType::I64)?),
        Column::Bool(v) => v.push(parse_bool(t).ok_or(DType::Bool)?),
        Column::Str(v) => v.push(if s.is_empty() {
            None
        } else {
            Some(s.to_owned())
        }),
    }
    Ok(())
}

/// Appends a field to a column; on failure, the column's type.
#[inline]
fn push(col: &mut Column, field: &[u8]) -> Result<(), DType> {
    let s = std::str::from_utf8(field)
        .map_err(|_| col.dtype())
        .map(|s| {
            if s.starts_with(' ') || s.ends_with(' ') {
                s.trim()
            } else {
                s
            }
        });
    match col {
        Column::F64(v) => {
            let x = if field.is_empty() {
                f64::NAN
            } else {
                s?.parse::<f64>().map_err(|_| DType::F64)?
            };
            v.push(x);
        }
        Column::I64(v) => v.push(s?.parse::<i64>().map_err(|_| DType::I64)?),
        Column::Bool(v) => v.push(parse_bool(s?).ok_or(DType::Bool)?),
        Column::Str(v) => v.push(if field.is_empty() {
            None
        } else {
            Some(s?.to_owned())
        }),
    }
    Ok(())
}

impl DataFrame {
    /// Writes one CSV file per partition, with a header line (Dask: `to_csv`). The `*` in
    /// `pattern` becomes the partition number; files are written under a temporary name
    /// and renamed when complete. Returns the paths.
    pub fn to_csv(&self, pattern: &str) -> Result<Vec<PathBuf>, Error> {
        self.to_csv_with(pattern, crate::Scheduler::default())
    }

    /// [`DataFrame::to_csv`] on the given scheduler (on a cluster's, each rank writes its own
    /// partitions).
    pub fn to_csv_with(
        &self,
        pattern: &str,
        scheduler: crate::Scheduler,
    ) -> Result<Vec<PathBuf>, Error> {
        let paths = crate::bag::text::output_paths(pattern, self.npartitions())?;
        let targets = paths.clone();
        let writes = self.map_partitions_to(move |i, t| {
            let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
            let io_err = |e: csv::Error| TaskError::new(e.to_string());
            w.write_record(t.names()).map_err(io_err)?;
            for r in 0..t.len() {
                w.write_record(t.columns().iter().map(|c| c.text(r).unwrap_or_default()))
                    .map_err(io_err)?;
            }
            let bytes = w.into_inner().map_err(|e| TaskError::new(e.to_string()))?;
            write_atomic(&targets[i], &bytes).map_err(TaskError::new)?;
            Ok(())
        });
        crate::compute_with(&writes, scheduler)?;
        Ok(paths)
    }
}
