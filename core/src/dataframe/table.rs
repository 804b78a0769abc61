//! The partition type of dataframes: a small columnar table.
//!
//! Columns are typed vectors. Nulls follow pandas: a missing float is NaN; an integer or
//! boolean column with a missing value is read as floats (NaN) or strings, as pandas does;
//! a missing string is `None`. Everything about the in-memory layout lives in this module,
//! so it can be replaced (by Arrow arrays, say) without touching the operators.

use std::fmt;
use std::sync::Arc;

/// The type of a column.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum DType {
    /// `bool`.
    Bool,
    /// 64-bit signed integers.
    I64,
    /// 64-bit floats; NaN is null.
    F64,
    /// Strings; `None` is null.
    Str,
}

impl DType {
    /// The type both `self` and `other` values fit in (int → float → string).
    pub fn widen(self, other: DType) -> DType {
        use DType::*;
        match (self, other) {
            (a, b) if a == b => a,
            (I64, F64) | (F64, I64) => F64,
            _ => Str,
        }
    }

    /// Whether `describe` and arithmetic treat it as a number.
    pub fn is_numeric(self) -> bool {
        matches!(self, DType::I64 | DType::F64)
    }

    /// The type's name: pandas' (`bool`, `int64`, `float64`), and `string` for text (which
    /// pandas stores as `object`, or as `string` when asked to).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I64 => "int64",
            DType::F64 => "float64",
            DType::Str => "string",
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One column of a [`Table`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Column {
    /// Booleans.
    Bool(Vec<bool>),
    /// Integers.
    I64(#[serde(with = "crate::wire::raw_i64")] Vec<i64>),
    /// Floats (NaN is null).
    F64(#[serde(with = "crate::wire::raw_f64")] Vec<f64>),
    /// Strings (`None` is null).
    Str(Vec<Option<String>>),
}

impl Column {
    /// An empty column of `dtype`.
    pub fn empty(dtype: DType, capacity: usize) -> Column {
        match dtype {
            DType::Bool => Column::Bool(Vec::with_capacity(capacity)),
            DType::I64 => Column::I64(Vec::with_capacity(capacity)),
            DType::F64 => Column::F64(Vec::with_capacity(capacity)),
            DType::Str => Column::Str(Vec::with_capacity(capacity)),
        }
    }

    /// The column's type.
    pub fn dtype(&self) -> DType {
        match self {
            Column::Bool(_) => DType::Bool,
            Column::I64(_) => DType::I64,
            Column::F64(_) => DType::F64,
            Column::Str(_) => DType::Str,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Bool(v) => v.len(),
            Column::I64(v) => v.len(),
            Column::F64(v) => v.len(),
            Column::Str(v) => v.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps the first `n` rows.
    pub(crate) fn truncate(&mut self, n: usize) {
        match self {
            Column::Bool(v) => v.truncate(n),
            Column::I64(v) => v.truncate(n),
            Column::F64(v) => v.truncate(n),
            Column::Str(v) => v.truncate(n),
        }
    }

    /// Makes room for `extra` more rows.
    pub(crate) fn reserve(&mut self, extra: usize) {
        match self {
            Column::Bool(v) => v.reserve(extra),
            Column::I64(v) => v.reserve(extra),
            Column::F64(v) => v.reserve(extra),
            Column::Str(v) => v.reserve(extra),
        }
    }

    /// Whether value `i` is null (NaN or `None`).
    pub fn is_null(&self, i: usize) -> bool {
        match self {
            Column::F64(v) => v[i].is_nan(),
            Column::Str(v) => v[i].is_none(),
            _ => false,
        }
    }

    /// Value `i` as a float, if the column is numeric (NaN for null).
    pub fn f64(&self, i: usize) -> Option<f64> {
        match self {
            Column::I64(v) => v.get(i).map(|&x| x as f64),
            Column::F64(v) => v.get(i).copied(),
            _ => None,
        }
    }

    /// The numeric values as floats, nulls (NaN) included.
    pub fn to_f64(&self) -> Option<Vec<f64>> {
        match self {
            Column::I64(v) => Some(v.iter().map(|&x| x as f64).collect()),
            Column::F64(v) => Some(v.clone()),
            _ => None,
        }
    }

    /// The column converted to a wider type (see [`DType::widen`]).
    pub fn cast(self, to: DType) -> Column {
        match (self, to) {
            (c, t) if c.dtype() == t => c,
            (Column::I64(v), DType::F64) => Column::F64(v.into_iter().map(|x| x as f64).collect()),
            (c, DType::Str) => {
                let n = c.len();
                Column::Str((0..n).map(|i| c.text(i)).collect())
            }
            (c, _) => c,
        }
    }

    /// Value `i` as text (`None` for null), as `to_csv` writes it.
    pub fn text(&self, i: usize) -> Option<String> {
        match self {
            Column::Bool(v) => Some(if v[i] { "True" } else { "False" }.to_owned()),
            Column::I64(v) => Some(v[i].to_string()),
            Column::F64(v) => (!v[i].is_nan()).then(|| format_float(v[i])),
            Column::Str(v) => v[i].clone(),
        }
    }

    /// Rows `idx`, in that order.
    pub fn take(&self, idx: &[usize]) -> Column {
        match self {
            Column::Bool(v) => Column::Bool(idx.iter().map(|&i| v[i]).collect()),
            Column::I64(v) => Column::I64(idx.iter().map(|&i| v[i]).collect()),
            Column::F64(v) => Column::F64(idx.iter().map(|&i| v[i]).collect()),
            Column::Str(v) => Column::Str(idx.iter().map(|&i| v[i].clone()).collect()),
        }
    }

    /// Appends `other` (same type) at the end.
    pub fn append(&mut self, other: Column) {
        match (self, other) {
            (Column::Bool(a), Column::Bool(b)) => a.extend(b),
            (Column::I64(a), Column::I64(b)) => a.extend(b),
            (Column::F64(a), Column::F64(b)) => a.extend(b),
            (Column::Str(a), Column::Str(b)) => a.extend(b),
            (a, b) => {
                let to = a.dtype().widen(b.dtype());
                let mut wide = std::mem::replace(a, Column::Bool(Vec::new())).cast(to);
                wide.append(b.cast(to));
                *a = wide;
            }
        }
    }
}

/// Floats as Python prints them: shortest round-trip, with `.0` on integral values.
pub(crate) fn format_float(x: f64) -> String {
    if x.is_finite() && x == x.trunc() && x.abs() < 1e16 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

/// A partition of a dataframe: named, typed columns of equal length.
///
/// ```
/// use dagr::dataframe::{Column, Table};
/// let t = Table::new(vec!["x".into(), "y".into()], vec![
///     Column::I64(vec![1, 2]),
///     Column::F64(vec![0.5, f64::NAN]),
/// ])?;
/// assert_eq!(t.len(), 2);
/// assert_eq!(t.column("y")?.f64(0), Some(0.5));
/// # Ok::<(), dagr::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Table {
    names: Arc<[String]>,
    columns: Vec<Column>,
}

impl Table {
    /// A table from names and columns of equal length.
    pub fn new(names: Vec<String>, columns: Vec<Column>) -> Result<Table, crate::Error> {
        if names.len() != columns.len() {
            return Err(crate::Error::InvalidArgument {
                what: "Table::new",
                message: format!("{} names for {} columns", names.len(), columns.len()),
            });
        }
        if let Some(c) = columns.iter().find(|c| c.len() != columns[0].len()) {
            return Err(crate::Error::InvalidArgument {
                what: "Table::new",
                message: format!(
                    "columns of different lengths ({} and {})",
                    columns[0].len(),
                    c.len()
                ),
            });
        }
        Ok(Table {
            names: names.into(),
            columns,
        })
    }

    pub(crate) fn from_parts(names: Arc<[String]>, columns: Vec<Column>) -> Table {
        Table { names, columns }
    }

    /// An empty table with these names and types.
    pub fn empty(names: Arc<[String]>, dtypes: &[DType]) -> Table {
        Table {
            names,
            columns: dtypes.iter().map(|&d| Column::empty(d, 0)).collect(),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.columns.first().map_or(0, Column::len)
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Column names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The columns, in order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    pub(crate) fn into_columns(self) -> Vec<Column> {
        self.columns
    }

    /// Position of column `name`.
    pub fn position(&self, name: &str) -> Result<usize, crate::Error> {
        position(&self.names, name)
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Result<&Column, crate::Error> {
        Ok(&self.columns[self.position(name)?])
    }

    /// Rows `idx`, in that order.
    pub fn take(&self, idx: &[usize]) -> Table {
        Table {
            names: self.names.clone(),
            columns: self.columns.iter().map(|c| c.take(idx)).collect(),
        }
    }

    /// The first `n` rows.
    pub fn head(&self, n: usize) -> Table {
        let idx: Vec<usize> = (0..n.min(self.len())).collect();
        self.take(&idx)
    }

    /// Appends the rows of `other` (same columns; types widen where they differ).
    pub fn append(&mut self, other: Table) {
        for (a, b) in self.columns.iter_mut().zip(other.columns) {
            a.append(b);
        }
    }

    /// Concatenates tables with the same columns.
    pub fn concat(parts: Vec<Table>) -> Option<Table> {
        let mut it = parts.into_iter();
        let mut first = it.next()?;
        for t in it {
            first.append(t);
        }
        Some(first)
    }
}

pub(crate) fn position(names: &[String], name: &str) -> Result<usize, crate::Error> {
    names
        .iter()
        .position(|n| n == name)
        .ok_or_else(|| crate::Error::UnknownColumn {
            name: name.to_owned(),
            columns: names.to_vec(),
        })
}

impl fmt::Display for Table {
    /// Aligned like pandas' `DataFrame.__repr__`: an index column, then each column right
    /// aligned under its name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.len();
        let index: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        let cells: Vec<Vec<String>> = self
            .columns
            .iter()
            .map(|c| match c {
                Column::F64(v) => format_floats(v),
                _ => (0..n)
                    .map(|i| c.text(i).unwrap_or_else(|| "None".into()))
                    .collect(),
            })
            .collect();
        write_grid(f, &index, &self.names, &cells)
    }
}

/// Formats floats as pandas does in a column: a common number of decimals (up to 6).
pub(crate) fn format_floats(v: &[f64]) -> Vec<String> {
    let decimals = v
        .iter()
        .filter(|x| x.is_finite())
        .map(|x| {
            let s = format!("{:.6}", x);
            let trimmed = s.trim_end_matches('0');
            trimmed.len() - trimmed.find('.').map_or(trimmed.len(), |p| p + 1)
        })
        .max()
        .unwrap_or(1)
        .max(1);
    v.iter()
        .map(|x| {
            if x.is_nan() {
                "NaN".to_owned()
            } else {
                format!("{x:.decimals$}")
            }
        })
        .collect()
}

pub(crate) fn write_grid(
    f: &mut fmt::Formatter<'_>,
    index: &[String],
    names: &[String],
    cells: &[Vec<String>],
) -> fmt::Result {
    let iw = index.iter().map(String::len).max().unwrap_or(0);
    let widths: Vec<usize> = names
        .iter()
        .zip(cells)
        .map(|(n, c)| c.iter().map(String::len).max().unwrap_or(0).max(n.len()))
        .collect();
    write!(f, "{:iw$}", "")?;
    for (n, w) in names.iter().zip(&widths) {
        write!(f, "  {n:>w$}")?;
    }
    writeln!(f)?;
    for (r, label) in index.iter().enumerate() {
        write!(f, "{label:<iw$}")?;
        for (c, w) in cells.iter().zip(&widths) {
            write!(f, "  {:>w$}", c[r])?;
        }
        writeln!(f)?;
    }
    Ok(())
}
