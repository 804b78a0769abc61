//! CSV in and out: `read_csv` with dtype inference, `to_csv`.

use super::csv_scan::{ragged, LineBase, Scanner};
use super::table::{DType, Table};
use super::{DataFrame, Schema};
use crate::atomic_file::write_parts;
use crate::bag::layer_name;
use crate::bag::text::expand;
use crate::line_scan::{block_stop, first_line_start, too_long, too_long_at, LineLimited};
use crate::Error;
use dagr_runtime::TaskError;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bytes read from the start of each file to infer column types (as Dask's `sample`).
const SAMPLE_BYTES: u64 = 256 << 10;

/// How [`read_csv`] reads files (Dask / pandas `read_csv` keywords).
///
/// ```
/// use dagr::dataframe::{CsvOptions, DType};
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
    max_line: u64,
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
            max_line: crate::line_scan::DEFAULT_MAX_LINE,
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

    /// Infer column types from every value of every file, as pandas does (the files are
    /// read once more for it), instead of from the first 256 KiB of each: an integer column
    /// with an empty cell anywhere is then float64 with NaN, and [`DataFrame::dtypes`] says
    /// what the columns hold. Without it, a value past the first 256 KiB that does not fit
    /// the inferred type is an error naming file, line and column.
    ///
    /// ```
    /// use dagr::dataframe::{self as dd, CsvOptions, DType};
    /// let dir = std::env::temp_dir().join(format!("dagr-doc-widen-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("n.csv");
    /// let mut text = String::from("n\n");
    /// text.push_str(&"1\n".repeat(200_000));
    /// text.push_str("2.5\n");
    /// std::fs::write(&path, text).unwrap();
    /// let strict = dd::read_csv(path.to_str().unwrap(), CsvOptions::default())?;
    /// assert_eq!(strict.dtypes()[0].1, DType::I64); // from the first 256 KiB
    /// assert!(strict.compute().is_err());
    /// let df = dd::read_csv(path.to_str().unwrap(), CsvOptions::default().widen(true))?;
    /// assert_eq!(df.dtypes()[0].1, DType::F64);
    /// assert_eq!(df.compute()?.column("n")?.f64(200_000), Some(2.5));
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn widen(mut self, yes: bool) -> Self {
        self.widen = yes;
        self
    }

    /// The longest line read, in bytes before its `\n` (default
    /// [`DEFAULT_MAX_LINE`](crate::bag::DEFAULT_MAX_LINE), 256 MiB): a longer line is
    /// [`Error::LineTooLong`] naming the file and the byte offset where the line starts,
    /// found before more than this is held for it.
    ///
    /// ```
    /// use dagr::dataframe::{self as dd, CsvOptions};
    /// let dir = std::env::temp_dir().join(format!("dagr-doc-csv-max-line-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("long.csv");
    /// std::fs::write(&path, format!("a,b\n1,2\n3,{}\n", "9".repeat(100))).unwrap();
    /// let opts = CsvOptions::default().max_line(64);
    /// // found while the column types are inferred, here; else by the block reading it
    /// let err = dd::read_csv(path.to_str().unwrap(), opts).and_then(|df| df.compute());
    /// let message = err.unwrap_err().to_string();
    /// assert!(message.contains("long.csv: the line at byte 8 is longer than 64 bytes"));
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn max_line(mut self, bytes: u64) -> Self {
        self.max_line = bytes;
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
/// every file (all of it with [`CsvOptions::widen`]) and agreed before anything is computed,
/// as pandas infers them: empty cells and pandas' default missing-value texts (`NA`, `N/A`,
/// `NULL`, `null`, `NaN`, `nan`, `None`, `#N/A`, `<NA>`, …) are missing values, so a column
/// of whole numbers with a missing value is float64 with NaN (a boolean one, strings, with
/// `None` for the missing ones); files that disagree agree on
/// a type that holds every file's values (int → float → string); a column with no value is
/// float64. A value that does not fit its column's type is an error naming file, line and
/// column.
///
/// ```no_run
/// use dagr::dataframe as dd;
/// let df = dd::read_csv("data/x*.csv", dd::CsvOptions::default().header(false))?;
/// println!("{}", df.describe().compute()?);
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn read_csv(pattern: &str, opts: CsvOptions) -> Result<DataFrame, Error> {
    let paths = expand(pattern)?;
    let mut names: Option<Vec<String>> = None;
    let mut inferred: Vec<Option<DType>> = Vec::new();
    let mut nulls: Vec<bool> = Vec::new();
    let mut blocks = Vec::new();
    for path in &paths {
        let gz = path.extension().is_some_and(|e| e == "gz");
        // with `widen`, every value; otherwise a sample: the header and the first rows
        let limited =
            || -> Result<_, Error> { Ok(LineLimited::new(open(path, gz)?, 0, opts.max_line)) };
        let src: Box<dyn Read> = if opts.widen {
            Box::new(BufReader::with_capacity(1 << 16, limited()?))
        } else {
            let mut sample = Vec::new();
            let mut src = limited()?;
            let mut want = SAMPLE_BYTES;
            loop {
                let n = (&mut src)
                    .take(want)
                    .read_to_end(&mut sample)
                    .map_err(|e| read_error(path, e))?;
                // a first line longer than the sample is read whole (up to the line limit)
                if n as u64 == want && memchr::memchr(b'\n', &sample).is_none() {
                    want = 1 << 16;
                    continue;
                }
                break;
            }
            if sample.len() as u64 >= SAMPLE_BYTES {
                // drop the partial last line
                let cut = sample
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1);
                sample.truncate(cut);
            }
            Box::new(std::io::Cursor::new(sample))
        };
        let mut rdr = reader(&opts, src);
        let mut records = rdr.byte_records().peekable();
        if records.peek().is_none()
            && std::fs::metadata(path).map_err(io(path))?.len() < SAMPLE_BYTES
        {
            // an empty file (not even a header): zero rows, as pandas and Dask read it,
            // whatever the other files' columns
            blocks.push(Block {
                path: path.as_path().into(),
                start: 0,
                end: None,
                gz,
                header: false,
            });
            continue;
        }
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
                let width = records
                    .peek()
                    .map_or(0, |r| r.as_ref().map_or(0, |r| r.len()));
                (0..width).map(|i| i.to_string()).collect()
            }
        };
        match &names {
            None => {
                inferred = vec![None; file_names.len()];
                nulls = vec![false; file_names.len()];
                names = Some(file_names);
            }
            Some(n) if *n != file_names => {
                return Err(Error::Csv {
                    path: path.clone(),
                    line: 1,
                    message: format!(
                        "columns {} differ from {} of the first file",
                        crate::error::quoted_list(&file_names),
                        crate::error::quoted_list(n)
                    ),
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
                match infer(field) {
                    Some(t) => inferred[c] = Some(inferred[c].map_or(t, |p| p.widen(t))),
                    None => nulls[c] = true,
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
    // declared types win; columns with no value in any sample are floats (all NaN), and
    // integers or booleans with a missing value are floats or text, as in pandas
    let mut dtypes: Vec<DType> = inferred
        .iter()
        .zip(&nulls)
        .map(|(d, &null)| match (d, null) {
            (None, _) => DType::F64,
            (Some(DType::I64), true) => DType::F64,
            (Some(DType::Bool), true) => DType::Str,
            (Some(d), _) => *d,
        })
        .collect();
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
    Ok(DataFrame::from_source(
        layer_name("read-csv"),
        schema,
        vec![None; n].into(),
        Arc::new(move |i, _| {
            parse_block(&blocks[i], &opts, &schema2, widen).map_err(TaskError::new)
        }),
        false,
    ))
}

fn reader<R: Read>(opts: &CsvOptions, r: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(opts.delimiter)
        .buffer_capacity(1 << 16)
        .from_reader(r)
}

/// The texts pandas' `read_csv` reads as a missing value by default (its `na_values`),
/// besides the empty field.
const NA_TEXTS: [&[u8]; 18] = [
    b"-1.#IND",
    b"1.#QNAN",
    b"1.#IND",
    b"-1.#QNAN",
    b"#N/A N/A",
    b"#N/A",
    b"N/A",
    b"n/a",
    b"NA",
    b"<NA>",
    b"#NA",
    b"NULL",
    b"null",
    b"NaN",
    b"-NaN",
    b"nan",
    b"-nan",
    b"None",
];

/// Whether a field is a missing value as pandas reads it: empty, or one of [`NA_TEXTS`].
#[inline]
pub(super) fn is_na(field: &[u8]) -> bool {
    match field.first() {
        None => true,
        // the first bytes of the texts: most fields are ruled out by one comparison
        Some(b'-' | b'1' | b'#' | b'N' | b'n' | b'<') => {
            field.len() <= 8 && NA_TEXTS.contains(&field)
        }
        Some(_) => false,
    }
}

/// The narrowest type a field fits; `None` for a missing value ([`is_na`]).
pub(super) fn infer(field: &[u8]) -> Option<DType> {
    if is_na(field) {
        return None;
    }
    let Ok(s) = std::str::from_utf8(field) else {
        return Some(DType::Str); // kept as text, with the bad bytes replaced
    };
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

pub(super) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "True" | "true" | "TRUE" => Some(true),
        "False" | "false" | "FALSE" => Some(false),
        _ => None,
    }
}

pub(super) fn csv_error(path: &Path, e: &csv::Error) -> Error {
    if let csv::ErrorKind::Io(io) = e.kind() {
        if let Some((offset, limit)) = too_long_at(io) {
            return too_long(path, offset, limit);
        }
    }
    Error::Csv {
        path: path.to_owned(),
        line: e.position().map_or(0, |p| p.line()),
        message: e.to_string(),
    }
}

/// An error reading a file: [`Error::LineTooLong`] from a [`LineLimited`] reader, else
/// [`Error::Io`].
pub(super) fn read_error(path: &Path, e: std::io::Error) -> Error {
    match too_long_at(&e) {
        Some((offset, limit)) => too_long(path, offset, limit),
        None => io(path)(e),
    }
}

/// Parses one block into a table of the agreed schema (see [`csv_scan`](super::csv_scan)):
/// the bytes from the block's first line to the end of its last (see
/// [`line_scan`](crate::line_scan)), through a reader that bounds line lengths.
fn parse_block(
    block: &Block,
    opts: &CsvOptions,
    schema: &Schema,
    widen: bool,
) -> Result<Table, Error> {
    let path = &*block.path;
    let max_line = opts.max_line;
    let (src, len, first): (Box<dyn Read>, Option<u64>, u64) = if block.gz {
        let src = LineLimited::new(open(path, true)?, 0, max_line);
        (Box::new(src), None, 0)
    } else {
        let mut f = File::open(path).map_err(io(path))?;
        let file_len = f.metadata().map_err(io(path))?.len();
        let end = block.end.map_or(file_len, |e| e.min(file_len));
        let Some(first) = first_line_start(&mut f, block.start, end).map_err(io(path))? else {
            // inside a line that began in an earlier block: no row starts here
            let scanner = Scanner::new(LineBase { path, first: 0 }, schema, 0, false, false);
            return Ok(Table::from_parts(
                schema.names.clone(),
                scanner.into_columns(),
            ));
        };
        let last = match block.end {
            Some(end) if end < file_len => block_stop(path, &mut f, first, end, max_line)?,
            _ => file_len,
        };
        f.seek(SeekFrom::Start(first)).map_err(io(path))?;
        let len = last.saturating_sub(first);
        let src = LineLimited::new(f.take(len), first, max_line);
        (Box::new(src), Some(len), first)
    };
    let base = LineBase { path, first };
    let mut scanner = Scanner::new(base, schema, opts.delimiter, widen, block.header);
    scanner.read(src, len)?;
    Ok(Table::from_parts(
        schema.names.clone(),
        scanner.into_columns(),
    ))
}

impl DataFrame {
    /// Writes one CSV file per partition, with a header line (Dask: `to_csv`). The `*` in
    /// `pattern` becomes the partition number. As [`Bag::to_textfiles`](crate::bag::Bag::to_textfiles):
    /// the files are written under temporary names and renamed into place only when every
    /// one is written, files of an older, longer output the pattern names are removed, a
    /// failed write leaves the old files, and an existing target that is not a regular
    /// file is an error. Returns the paths.
    pub fn to_csv(&self, pattern: &str) -> Result<Vec<PathBuf>, Error> {
        self.to_csv_with(pattern, crate::Scheduler::default())
    }

    /// [`DataFrame::to_csv`] on the given scheduler (on a cluster's, each rank writes its own
    /// partitions).
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("dagr-doc-to-csv-with-{}", std::process::id()));
    /// let df = dagr::bag::from_sequence(vec![(1_i64, 0.5), (2, 1.5)], 1)?.to_dataframe(&["n", "x"])?;
    /// let files = df.to_csv_with(&format!("{}/*.csv", dir.display()), dagr::Scheduler::sync())?;
    /// assert_eq!(std::fs::read_to_string(&files[0]).unwrap(), "n,x\n1,0.5\n2,1.5\n");
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn to_csv_with(
        &self,
        pattern: &str,
        scheduler: crate::Scheduler,
    ) -> Result<Vec<PathBuf>, Error> {
        let paths = crate::bag::text::output_paths(pattern, self.npartitions())?;
        write_parts(pattern, paths.clone(), scheduler.clone(), |parts| {
            let parts = parts.clone();
            let writes = self.map_partitions_to(move |i, t| {
                let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
                let io_err = |e: csv::Error| TaskError::new(e.to_string());
                w.write_record(t.names()).map_err(io_err)?;
                for r in 0..t.len() {
                    w.write_record(t.columns().iter().map(|c| c.text(r).unwrap_or_default()))
                        .map_err(io_err)?;
                }
                let bytes = w.into_inner().map_err(|e| TaskError::new(e.to_string()))?;
                parts.write(i, &bytes).map_err(TaskError::new)?;
                Ok(())
            });
            crate::compute_with(&writes, scheduler).map(drop)
        })?;
        Ok(paths)
    }
}
