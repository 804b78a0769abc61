//! Parquet files and Arrow record batches (feature `parquet`, through arrow-rs): Dask's
//! `dd.read_parquet` and `df.to_parquet`, and [`Table`] ↔ `RecordBatch`.
//!
//! Reading is planned from the files' footers before anything is computed: the column
//! types (a column with nulls in its statistics is read as pandas reads it: integers as
//! floats with NaN, booleans as strings), one partition per row group (or per file), and
//! the row groups whose statistics show that no row can pass the filters, which are never
//! read (a file with no row group, as `to_parquet` writes an empty partition, is one empty
//! partition). Each partition's task reads only its row groups and only the columns asked
//! for (and those the filters need), then keeps the rows that pass the filters, as pandas'
//! `read_parquet(columns=…, filters=…)` returns them.
//!
//! | Arrow / Parquet | dagr |
//! |---|---|
//! | `int8` … `int64`, `uint8` … `uint64` | int64 (float64 with NaN when nulls) |
//! | `float`, `double` | float64 (null: NaN) |
//! | `bool` | bool (string with `None` when nulls) |
//! | `string`, `large_string`, `string_view` | string |
//! | `null` | float64, all NaN |
//!
//! Any other type in a column that is read is an error naming the file, the column and the
//! type. Writing maps int64, float64 (NaN as null, as pandas writes it), bool and string
//! to the matching Arrow types, snappy-compressed.

use super::expr::{col, Expr};
use super::table::{position, Column, DType, Table};
use super::{DataFrame, Scalar, Schema};
use crate::atomic_file::write_parts;
use crate::bag::layer_name;
use crate::Error;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use arrow_schema::{DataType, Field};
use dagr_runtime::TaskError;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::Compression;
use parquet::file::metadata::RowGroupMetaData;
use parquet::file::properties::WriterProperties;
use parquet::file::statistics::Statistics;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use arrow_array::RecordBatch;

/// A comparison of [`ParquetOptions::filter`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// What [`read_parquet_with`] reads: which columns, which rows, how partitioned (Dask's
/// `read_parquet(columns=…, filters=…, split_row_groups=…)`).
#[derive(Clone, Debug, Default)]
pub struct ParquetOptions {
    columns: Option<Vec<String>>,
    filters: Vec<(String, String, Scalar)>,
    per_file: bool,
}

impl ParquetOptions {
    /// Reads only these columns, in this order (Dask: `columns=[…]`).
    pub fn columns(mut self, columns: &[&str]) -> Self {
        self.columns = Some(columns.iter().map(|c| c.to_string()).collect());
        self
    }

    /// Keeps only the rows where `column op value` holds, `op` one of `==`, `!=`, `<`,
    /// `<=`, `>`, `>=` (Dask: `filters=[(column, op, value)]`; several filters must all
    /// hold). Row groups whose statistics show that no row passes are not read; a null
    /// passes no filter.
    pub fn filter(mut self, column: &str, op: &str, value: impl Into<Scalar>) -> Self {
        self.filters
            .push((column.to_owned(), op.to_owned(), value.into()));
        self
    }

    /// One partition per file instead of one per row group (Dask:
    /// `split_row_groups=False`).
    pub fn per_file(mut self, per_file: bool) -> Self {
        self.per_file = per_file;
        self
    }
}

/// Reads the Parquet files a glob names, or the `*.parquet` files of a directory, as one
/// frame (Dask: `dd.read_parquet(path)`); see [`read_parquet_with`].
///
/// ```
/// use dagr::{bag as db, dataframe as dd};
/// let dir = std::env::temp_dir().join(format!("dagr-doc-parquet-{}", std::process::id()));
/// let df = db::from_sequence(vec![(1_i64, 0.5, "a"), (2, -1.0, "b"), (3, 2.5, "c")], 2)?
///     .to_dataframe(&["n", "x", "s"])?;
/// df.to_parquet(&dir)?;
/// let back = dd::read_parquet(&dir.display().to_string())?;
/// assert_eq!(back.npartitions(), 2);
/// assert_eq!(back.compute()?, df.compute()?);
/// let some = dd::read_parquet_with(
///     &dir.display().to_string(),
///     dd::ParquetOptions::default().columns(&["s", "n"]).filter("n", ">", 1),
/// )?;
/// let t = some.compute()?;
/// assert_eq!(t.names(), ["s", "n"]);
/// assert_eq!(t.column("n")?, &dd::Column::I64(vec![2, 3]));
/// # std::fs::remove_dir_all(dir).unwrap();
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn read_parquet(path: &str) -> Result<DataFrame, Error> {
    read_parquet_with(path, ParquetOptions::default())
}

/// The files of a path: a directory's `*.parquet` files (not hidden ones), else a glob.
/// A commit a killed [`DataFrame::to_parquet`] left is finished first (as `read_csv` does
/// through the glob), so no mix of an old and a new output is read.
fn files(path: &str) -> Result<Vec<PathBuf>, Error> {
    let p = Path::new(path);
    if !p.is_dir() {
        return crate::bag::text::expand(path);
    }
    crate::atomic_file::finish_commits_in(p);
    let io = |source| Error::Io {
        path: p.to_owned(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(p).map_err(io)? {
        let f = entry.map_err(io)?.path();
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned());
        let visible = name.is_some_and(|n| !n.starts_with('.') && !n.starts_with('_'));
        if visible && f.is_file() && f.extension().is_some_and(|e| e == "parquet") {
            out.push(f);
        }
    }
    if out.is_empty() {
        return Err(Error::NoFiles {
            pattern: format!("{path}/*.parquet"),
        });
    }
    out.sort();
    Ok(out)
}

fn pq_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Parquet {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// The dagr type of an Arrow type (`nulls`: the column may hold nulls).
fn dtype_of(t: &DataType, nulls: bool) -> Option<DType> {
    use DataType::*;
    Some(match t {
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 if nulls => DType::F64,
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => DType::I64,
        Float32 | Float64 | Null => DType::F64,
        Boolean if nulls => DType::Str,
        Boolean => DType::Bool,
        Utf8 | LargeUtf8 | Utf8View => DType::Str,
        _ => return None,
    })
}

fn unsupported(path: &Path, column: &str, t: &DataType) -> Error {
    Error::Parquet {
        path: path.to_owned(),
        message: format!(
            "column {column:?} is of type {t}, which dagr has no column for (it reads \
             integers, floats, booleans, strings and nulls)"
        ),
    }
}

/// A part of a file one partition reads.
#[derive(Debug)]
struct Part {
    path: PathBuf,
    row_groups: Vec<usize>,
}

/// The leaf column of `name` in a file (its statistics' index).
fn leaf(meta: &ArrowReaderMetadata, name: &str) -> Option<usize> {
    meta.metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .position(|c| c.path().parts() == [name.to_owned()])
}

/// Whether the statistics of a row group's column leave no row passing `op value`.
fn prunes(stats: Option<&Statistics>, op: Op, value: &Scalar) -> bool {
    use std::cmp::Ordering::*;
    let Some(stats) = stats else { return false };
    // the (min, max) comparisons with the value, when both are known
    let cmp = |min: Option<std::cmp::Ordering>, max: Option<std::cmp::Ordering>| {
        let (Some(lo), Some(hi)) = (min, max) else {
            return false;
        };
        match op {
            Op::Gt => hi != Greater,
            Op::Ge => hi == Less,
            Op::Lt => lo != Less,
            Op::Le => lo == Greater,
            Op::Eq => lo == Greater || hi == Less,
            Op::Ne => lo == Equal && hi == Equal,
        }
    };
    let num = |x: f64| match value {
        Scalar::I64(v) => x.partial_cmp(&(*v as f64)),
        Scalar::F64(v) => x.partial_cmp(v),
        _ => None,
    };
    let int = |x: i64| match value {
        Scalar::I64(v) => Some(x.cmp(v)),
        Scalar::F64(v) => (x as f64).partial_cmp(v),
        _ => None,
    };
    match stats {
        Statistics::Int32(s) => cmp(
            s.min_opt().and_then(|&x| int(x.into())),
            s.max_opt().and_then(|&x| int(x.into())),
        ),
        Statistics::Int64(s) => cmp(
            s.min_opt().and_then(|&x| int(x)),
            s.max_opt().and_then(|&x| int(x)),
        ),
        Statistics::Float(s) => cmp(
            s.min_opt().and_then(|&x| num(x.into())),
            s.max_opt().and_then(|&x| num(x.into())),
        ),
        Statistics::Double(s) => cmp(
            s.min_opt().and_then(|&x| num(x)),
            s.max_opt().and_then(|&x| num(x)),
        ),
        Statistics::ByteArray(s) => match value {
            Scalar::Str(v) => {
                let c = |b: &parquet::data_type::ByteArray| {
                    std::str::from_utf8(b.data())
                        .ok()
                        .map(|x| x.cmp(v.as_str()))
                };
                cmp(s.min_opt().and_then(c), s.max_opt().and_then(c))
            }
            _ => false,
        },
        _ => false,
    }
}

/// Whether any row group of `meta` may hold a null in column `leaf`.
fn may_hold_nulls(meta: &ArrowReaderMetadata, leaf: usize) -> bool {
    meta.metadata()
        .row_groups()
        .iter()
        .any(|rg: &RowGroupMetaData| {
            rg.num_rows() > 0
                && rg
                    .column(leaf)
                    .statistics()
                    .and_then(|s| s.null_count_opt())
                    .is_none_or(|n| n > 0)
        })
}

/// Reads Parquet files (a glob, or a directory's `*.parquet` files) as a frame, as `opts`
/// says (Dask: `dd.read_parquet(path, columns=…, filters=…)`). The files must have the same
/// columns; their footers are read at once, the rows when computing. See the
/// [module docs](self) for the types.
pub fn read_parquet_with(path: &str, opts: ParquetOptions) -> Result<DataFrame, Error> {
    let ops = opts
        .filters
        .iter()
        .map(|(c, op, _)| match op.as_str() {
            "==" | "=" => Ok(Op::Eq),
            "!=" => Ok(Op::Ne),
            "<" => Ok(Op::Lt),
            "<=" => Ok(Op::Le),
            ">" => Ok(Op::Gt),
            ">=" => Ok(Op::Ge),
            _ => Err(Error::InvalidArgument {
                what: "read_parquet",
                message: format!(
                    "filter on {c:?}: unknown comparison {op:?} (expected ==, !=, <, <=, >, >=)"
                ),
            }),
        })
        .collect::<Result<Vec<Op>, Error>>()?;
    let paths = files(path)?;
    let mut names: Option<Vec<String>> = None;
    let mut dtypes: Vec<Option<DType>> = Vec::new();
    let mut wanted: Vec<usize> = Vec::new();
    let mut parts = Vec::new();
    for p in &paths {
        let file = std::fs::File::open(p).map_err(|source| Error::Io {
            path: p.clone(),
            source,
        })?;
        let meta =
            ArrowReaderMetadata::load(&file, Default::default()).map_err(|e| pq_err(p, e))?;
        let fields: Vec<String> = meta
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let n = match &names {
            None => {
                let read: Vec<String> = match &opts.columns {
                    Some(c) => c.clone(),
                    None => fields.clone(),
                };
                for c in read.iter().chain(opts.filters.iter().map(|f| &f.0)) {
                    let i = position(&fields, c)?;
                    if !wanted.contains(&i) {
                        wanted.push(i);
                    }
                }
                dtypes = vec![None; wanted.len()];
                names.insert(fields.clone())
            }
            Some(n) => n,
        };
        if *n != fields {
            return Err(pq_err(
                p,
                format!(
                    "columns {} differ from {} of the first file",
                    crate::error::quoted_list(&fields),
                    crate::error::quoted_list(n)
                ),
            ));
        }
        for (slot, &i) in wanted.iter().enumerate() {
            let field: &Field = &meta.schema().fields()[i];
            let nulls = field.is_nullable()
                && leaf(&meta, field.name()).is_none_or(|l| may_hold_nulls(&meta, l));
            let d = dtype_of(field.data_type(), nulls)
                .ok_or_else(|| unsupported(p, field.name(), field.data_type()))?;
            dtypes[slot] = Some(dtypes[slot].map_or(d, |e: DType| e.widen(d)));
        }
        let mut kept = Vec::new();
        for (g, rg) in meta.metadata().row_groups().iter().enumerate() {
            let pruned = opts.filters.iter().zip(&ops).any(|((c, _, v), &op)| {
                leaf(&meta, c).is_some_and(|l| prunes(rg.column(l).statistics(), op, v))
            });
            if !pruned {
                kept.push(g);
            }
        }
        if opts.per_file || meta.metadata().num_row_groups() == 0 {
            // a file with no row group (an empty partition written by `to_parquet`) is one
            // empty partition, so a frame's partitions read back as they were written
            parts.push(Part {
                path: p.clone(),
                row_groups: kept,
            });
        } else {
            parts.extend(kept.into_iter().map(|g| Part {
                path: p.clone(),
                row_groups: vec![g],
            }));
        }
    }
    let fields = names.unwrap_or_default();
    let read_schema = Arc::new(Schema {
        names: wanted.iter().map(|&i| fields[i].clone()).collect(),
        dtypes: dtypes
            .into_iter()
            .map(|d| d.unwrap_or(DType::F64))
            .collect(),
    });
    let predicate: Option<Expr> = opts
        .filters
        .iter()
        .zip(&ops)
        .map(|((c, _, v), op)| {
            let (c, v) = (col(c), v.clone());
            match op {
                Op::Eq => c.eq(v),
                Op::Ne => c.ne(v),
                Op::Lt => c.lt(v),
                Op::Le => c.le(v),
                Op::Gt => c.gt(v),
                Op::Ge => c.ge(v),
            }
        })
        .reduce(|a, b| a.and(b));
    if let Some(p) = &predicate {
        p.check(&read_schema, Some("read_parquet filters"))?;
    }
    let shown = match &opts.columns {
        Some(c) => c.len(),
        None => fields.len(),
    };
    let schema = Arc::new(Schema {
        names: read_schema.names[..shown].into(),
        dtypes: read_schema.dtypes[..shown].to_vec(),
    });
    let nparts = parts.len();
    let parts: Arc<[Part]> = parts.into();
    let wanted: Arc<[usize]> = wanted.into();
    let (s2, r2) = (schema.clone(), read_schema.clone());
    let gen: super::layer::TableGen = Arc::new(move |i, _| {
        let part = &parts[i];
        let t = read_part(part, &wanted, &r2).map_err(TaskError::new)?;
        let t = match &predicate {
            Some(p) => {
                let mask = p.eval_mask(&t).map_err(TaskError::new)?;
                let idx: Vec<usize> = (0..t.len()).filter(|&r| mask[r]).collect();
                t.take(&idx)
            }
            None => t,
        };
        let mut cols = t.into_columns();
        cols.truncate(s2.names.len());
        Ok(Table::from_parts(s2.names.clone(), cols))
    });
    Ok(DataFrame::from_source(
        layer_name("read-parquet"),
        schema,
        vec![None; nparts].into(),
        gen,
        false,
    ))
}

/// The rows of a part's row groups, its columns `wanted` (file positions) as `schema` says.
fn read_part(part: &Part, wanted: &[usize], schema: &Schema) -> Result<Table, Error> {
    let path = &part.path;
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| pq_err(path, e))?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), wanted.iter().copied());
    let reader = builder
        .with_projection(mask)
        .with_row_groups(part.row_groups.clone())
        .build()
        .map_err(|e| pq_err(path, e))?;
    let mut out = Table::empty(schema.names.clone(), &schema.dtypes);
    for batch in reader {
        let batch = batch.map_err(|e| pq_err(path, e))?;
        let mut cols = Vec::with_capacity(schema.names.len());
        for (name, &d) in schema.names.iter().zip(&schema.dtypes) {
            let a = batch
                .column_by_name(name)
                .ok_or_else(|| pq_err(path, format!("column {name:?} is missing")))?;
            let c = column_of(a, name).map_err(|m| pq_err(path, m))?;
            cols.push(c.cast(d));
        }
        out.append(Table::from_parts(schema.names.clone(), cols));
    }
    Ok(out)
}

/// An Arrow array as a dagr column, typed as [`dtype_of`] says for its nulls.
fn column_of(a: &ArrayRef, name: &str) -> Result<Column, String> {
    let nulls = a.null_count() > 0;
    macro_rules! ints {
        ($t:ty) => {{
            let v = a.as_primitive::<$t>();
            if nulls {
                Column::F64(
                    (0..v.len())
                        .map(|i| {
                            if v.is_null(i) {
                                f64::NAN
                            } else {
                                v.value(i) as f64
                            }
                        })
                        .collect(),
                )
            } else {
                Column::I64(v.values().iter().map(|&x| x as i64).collect())
            }
        }};
    }
    Ok(match a.data_type() {
        DataType::Int8 => ints!(Int8Type),
        DataType::Int16 => ints!(Int16Type),
        DataType::Int32 => ints!(Int32Type),
        DataType::Int64 => ints!(Int64Type),
        DataType::UInt8 => ints!(UInt8Type),
        DataType::UInt16 => ints!(UInt16Type),
        DataType::UInt32 => ints!(UInt32Type),
        DataType::UInt64 => {
            let v = a.as_primitive::<UInt64Type>();
            if let Some(big) = v.iter().flatten().find(|&x| x > i64::MAX as u64) {
                return Err(format!(
                    "column {name:?} (uint64) holds {big}, beyond the int64 dagr holds"
                ));
            }
            ints!(UInt64Type)
        }
        DataType::Float32 => {
            let v = a.as_primitive::<Float32Type>();
            Column::F64(
                (0..v.len())
                    .map(|i| {
                        if v.is_null(i) {
                            f64::NAN
                        } else {
                            f64::from(v.value(i))
                        }
                    })
                    .collect(),
            )
        }
        DataType::Float64 => {
            let v = a.as_primitive::<Float64Type>();
            if nulls {
                Column::F64(
                    (0..v.len())
                        .map(|i| if v.is_null(i) { f64::NAN } else { v.value(i) })
                        .collect(),
                )
            } else {
                Column::F64(v.values().to_vec())
            }
        }
        DataType::Null => Column::F64(vec![f64::NAN; a.len()]),
        DataType::Boolean => {
            let v = a.as_boolean();
            if nulls {
                Column::Str(
                    v.iter()
                        .map(|b| b.map(|b| if b { "True" } else { "False" }.to_owned()))
                        .collect(),
                )
            } else {
                Column::Bool(v.values().iter().collect())
            }
        }
        DataType::Utf8 => Column::Str(
            a.as_string::<i32>()
                .iter()
                .map(|s| s.map(str::to_owned))
                .collect(),
        ),
        DataType::LargeUtf8 => Column::Str(
            a.as_string::<i64>()
                .iter()
                .map(|s| s.map(str::to_owned))
                .collect(),
        ),
        DataType::Utf8View => Column::Str(
            a.as_string_view()
                .iter()
                .map(|s| s.map(str::to_owned))
                .collect(),
        ),
        t => {
            return Err(format!(
                "column {name:?} is of type {t}, which dagr has no column for (it reads \
                 integers, floats, booleans, strings and nulls)"
            ))
        }
    })
}

/// A dagr column as an Arrow array and its field.
fn array_of(name: &str, c: &Column) -> (Field, ArrayRef) {
    match c {
        Column::Bool(v) => (
            Field::new(name, DataType::Boolean, false),
            Arc::new(BooleanArray::from(v.clone())),
        ),
        Column::I64(v) => (
            Field::new(name, DataType::Int64, false),
            Arc::new(Int64Array::from(v.clone())),
        ),
        Column::F64(v) => (
            Field::new(name, DataType::Float64, true),
            Arc::new(Float64Array::from_iter(
                v.iter().map(|&x| (!x.is_nan()).then_some(x)),
            )),
        ),
        Column::Str(v) => (
            Field::new(name, DataType::Utf8, true),
            Arc::new(StringArray::from_iter(v.iter().map(|s| s.as_deref()))),
        ),
    }
}

impl Table {
    /// The table as an Arrow record batch, for polars, DataFusion and other Arrow users
    /// (feature `parquet`): int64, float64 (NaN as null), bool and string (`utf8`) arrays.
    ///
    /// ```
    /// use dagr::dataframe::{Column, Table};
    /// let t = Table::new(vec!["n".into(), "s".into()], vec![
    ///     Column::I64(vec![1, 2]),
    ///     Column::Str(vec![Some("a".into()), None]),
    /// ])?;
    /// let batch = t.to_record_batch()?;
    /// assert_eq!((batch.num_rows(), batch.num_columns()), (2, 2));
    /// assert_eq!(Table::from_record_batch(&batch)?, t);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn to_record_batch(&self) -> Result<RecordBatch, Error> {
        let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = self
            .names()
            .iter()
            .zip(self.columns())
            .map(|(n, c)| array_of(n, c))
            .unzip();
        let schema = Arc::new(arrow_schema::Schema::new(fields));
        RecordBatch::try_new(schema, arrays).map_err(|e| Error::InvalidArgument {
            what: "to_record_batch",
            message: e.to_string(),
        })
    }

    /// A table from an Arrow record batch (feature `parquet`), its columns typed as
    /// [`read_parquet`] types them; another Arrow type is an error naming the column.
    pub fn from_record_batch(batch: &RecordBatch) -> Result<Table, Error> {
        let mut names = Vec::new();
        let mut cols = Vec::new();
        for (f, a) in batch.schema().fields().iter().zip(batch.columns()) {
            names.push(f.name().clone());
            cols.push(
                column_of(a, f.name()).map_err(|message| Error::InvalidArgument {
                    what: "from_record_batch",
                    message,
                })?,
            );
        }
        if cols.is_empty() {
            return Ok(Table::empty(names.into(), &[]));
        }
        Table::new(names, cols)
    }
}

impl DataFrame {
    /// Writes one Parquet file per partition into the directory `dir` (created if needed),
    /// `part.0.parquet`, `part.1.parquet`, … (Dask: `df.to_parquet(dir)`), snappy-compressed.
    /// As [`to_csv`](DataFrame::to_csv) writes its files: every file is written under a
    /// temporary name and they are renamed into place only when every one is written; the
    /// `part.{i}.parquet` files of an older output with more partitions are then removed
    /// (other files in `dir` stay); a failed write leaves the old files as they were; a
    /// write killed during the renames is finished by the next write to `dir` or the next
    /// [`read_parquet`] of it; an existing target that is not a regular file is an error.
    /// An empty partition is a file with the columns and no row group, which
    /// [`read_parquet`] reads back as one empty partition. Returns the paths.
    pub fn to_parquet(&self, dir: impl AsRef<Path>) -> Result<Vec<PathBuf>, Error> {
        self.to_parquet_with(dir, crate::Scheduler::default())
    }

    /// [`DataFrame::to_parquet`] on the given scheduler (on a cluster's, each rank writes its
    /// own partitions).
    pub fn to_parquet_with(
        &self,
        dir: impl AsRef<Path>,
        scheduler: crate::Scheduler,
    ) -> Result<Vec<PathBuf>, Error> {
        let dir = dir.as_ref();
        let shown = dir.display().to_string();
        if shown.contains('*') {
            return Err(Error::InvalidArgument {
                what: "to_parquet",
                message: format!(
                    "directory {shown:?} contains `*`: dagr names the parts with a pattern \
                     whose one `*` is the partition number"
                ),
            });
        }
        // created even for a frame of no partition, whose commit still writes its journal
        // there (and removes every old part)
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
        let pattern = dir.join("part.*.parquet").display().to_string();
        let paths = crate::bag::text::output_paths(&pattern, self.npartitions())?;
        write_parts(&pattern, paths.clone(), scheduler.clone(), |parts| {
            let (parts, targets) = (parts.clone(), paths.clone());
            let writes = self.map_partitions_to(move |i, t| {
                let bytes = parquet_bytes(&targets[i], &t).map_err(TaskError::new)?;
                parts.write(i, &bytes).map_err(TaskError::new)?;
                Ok(())
            });
            crate::compute_with(&writes, scheduler).map(drop)
        })?;
        Ok(paths)
    }
}

/// A partition as the bytes of the snappy-compressed Parquet file `path` (errors name it);
/// no row group when it has no row, as arrow-rs writes an empty batch.
fn parquet_bytes(path: &Path, t: &Table) -> Result<Vec<u8>, Error> {
    let batch = t.to_record_batch()?;
    let err = |e| pq_err(path, e);
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut w = ArrowWriter::try_new(Vec::new(), batch.schema(), Some(props)).map_err(err)?;
    w.write(&batch).map_err(err)?;
    w.into_inner().map_err(err)
}
