//! Reductions of every column to one value (pandas / Dask: `df.sum()`, `df.mean()`,
//! `df.min()`, `df.max()`, `df.count()`, `df.std()`) and the quantile of one column.
//!
//! A task per partition reduces each column of its table to a partial result, computed as
//! pandas computes the whole column (numpy's pairwise sum with nulls as zero, the two-pass
//! variance); partial results combine in the fixed tree, so a frame of one partition gives
//! pandas' bits and any frame gives the same result on every scheduler. The answer is a
//! table of one row with the frame's columns (pandas returns a `Series` indexed by them).

use super::table::{Column, DType, Table};
use super::DataFrame;
use crate::bag::layer_name;
use crate::delayed::Delayed;
use crate::tree::{combine_tree, then};
use crate::Error;
use dagr_runtime::TaskError;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::sync::Arc;

/// Which reduction.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Sum,
    Mean,
    Min,
    Max,
    Count,
    Std(u32),
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Sum => "sum",
            Op::Mean => "mean",
            Op::Min => "min",
            Op::Max => "max",
            Op::Count => "count",
            Op::Std(_) => "std",
        }
    }
}

/// One value of any column type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Cell {
    Bool(bool),
    I64(i64),
    F64(f64),
    Str(String),
}

/// A column's partial result.
#[derive(Clone, Debug, Serialize, Deserialize)]
enum Part {
    /// Non-null values, and the sum of integers and booleans (wrapping, as numpy's int64).
    Int { n: u64, sum: i64 },
    /// Non-null values and their sum (numpy's pairwise order, nulls as zero).
    Float { n: u64, sum: f64 },
    /// Non-null strings concatenated (pandas sums text so).
    Text { n: u64, cat: String },
    /// Count, mean and sum of squared deviations from it (the variance's pieces).
    Moments { n: u64, mean: f64, m2: f64 },
    /// The smallest (or largest) non-null value so far.
    Extreme(Option<Cell>),
}

/// numpy's pairwise sum of `v` with NaN read as zero (pandas' `nansum`): blocks of up to
/// 128 values summed in eight interleaved lanes, larger ranges halved, from zero.
fn pairwise_nansum(v: &[f64]) -> f64 {
    0.0 + pairwise(v)
}

fn pairwise(v: &[f64]) -> f64 {
    let at = |i: usize| if v[i].is_nan() { 0.0 } else { v[i] };
    let n = v.len();
    if n < 8 {
        let mut res = 0.0;
        for i in 0..n {
            res += at(i);
        }
        res
    } else if n <= 128 {
        let mut r = [0.0; 8];
        for (j, r) in r.iter_mut().enumerate() {
            *r = at(j);
        }
        let mut i = 8;
        while i < n - n % 8 {
            for (j, r) in r.iter_mut().enumerate() {
                *r += at(i + j);
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += at(i);
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise(&v[..n2]) + pairwise(&v[n2..])
    }
}

/// The partial result of `op` over one column.
fn part_of(op: Op, c: &Column) -> Part {
    let n = (c.len() - (0..c.len()).filter(|&i| c.is_null(i)).count()) as u64;
    match (op, c) {
        (Op::Count, _) => Part::Int { n, sum: 0 },
        (Op::Sum | Op::Mean, Column::Bool(v)) => Part::Int {
            n,
            sum: v.iter().filter(|&&b| b).count() as i64,
        },
        (Op::Sum | Op::Mean, Column::I64(v)) => Part::Int {
            n,
            sum: v.iter().fold(0i64, |a, &x| a.wrapping_add(x)),
        },
        (Op::Sum | Op::Mean, Column::F64(v)) => Part::Float {
            n,
            sum: pairwise_nansum(v),
        },
        (_, Column::Str(v)) if op != Op::Min && op != Op::Max => Part::Text {
            n,
            cat: v.iter().flatten().map(String::as_str).collect(),
        },
        (Op::Std(_), _) => {
            // pandas' two passes: the mean, then the squared deviations from it
            let v: Vec<f64> = match c {
                Column::Bool(b) => b.iter().map(|&x| f64::from(u8::from(x))).collect(),
                c => c.to_f64().unwrap_or_default(),
            };
            if n == 0 {
                return Part::Moments {
                    n,
                    mean: 0.0,
                    m2: 0.0,
                };
            }
            let mean = pairwise_nansum(&v) / n as f64;
            let sq: Vec<f64> = v.iter().map(|x| (mean - x) * (mean - x)).collect();
            Part::Moments {
                n,
                mean,
                m2: pairwise_nansum(&sq),
            }
        }
        (_, c) => Part::Extreme(extreme(c, op == Op::Max)),
    }
}

/// The smallest (largest, with `max`) non-null value of a column.
fn extreme(c: &Column, max: bool) -> Option<Cell> {
    let keep = |o: Ordering| if max { o.is_gt() } else { o.is_lt() };
    match c {
        Column::Bool(v) => v
            .iter()
            .copied()
            .reduce(|a, b| if keep(b.cmp(&a)) { b } else { a })
            .map(Cell::Bool),
        Column::I64(v) => v
            .iter()
            .copied()
            .reduce(|a, b| if keep(b.cmp(&a)) { b } else { a })
            .map(Cell::I64),
        Column::F64(v) => v
            .iter()
            .copied()
            .filter(|x| !x.is_nan())
            .reduce(|a, b| {
                if keep(b.total_cmp(&a)) && b != a {
                    b
                } else {
                    a
                }
            })
            .map(Cell::F64),
        Column::Str(v) => v
            .iter()
            .flatten()
            .reduce(|a, b| if keep(b.cmp(a)) { b } else { a })
            .map(|s| Cell::Str(s.clone())),
    }
}

fn cell_cmp(a: &Cell, b: &Cell) -> Ordering {
    match (a, b) {
        (Cell::Bool(a), Cell::Bool(b)) => a.cmp(b),
        (Cell::I64(a), Cell::I64(b)) => a.cmp(b),
        (Cell::F64(a), Cell::F64(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
        (Cell::Str(a), Cell::Str(b)) => a.cmp(b),
        _ => Ordering::Equal,
    }
}

/// Two partial results of one column combined (`a` from the earlier partitions).
fn merge(op: Op, a: Part, b: Part) -> Part {
    match (a, b) {
        (Part::Int { n, sum }, Part::Int { n: m, sum: s }) => Part::Int {
            n: n + m,
            sum: sum.wrapping_add(s),
        },
        (Part::Float { n, sum }, Part::Float { n: m, sum: s }) => Part::Float {
            n: n + m,
            sum: sum + s,
        },
        (Part::Text { n, cat }, Part::Text { n: m, cat: c }) => Part::Text {
            n: n + m,
            cat: cat + &c,
        },
        (
            Part::Moments { n, mean, m2 },
            Part::Moments {
                n: m,
                mean: mean2,
                m2: m22,
            },
        ) => {
            // Chan, Golub and LeVeque's combination of two partitions' moments
            if n == 0 {
                return Part::Moments {
                    n: m,
                    mean: mean2,
                    m2: m22,
                };
            }
            if m == 0 {
                return Part::Moments { n, mean, m2 };
            }
            let (nf, mf) = (n as f64, m as f64);
            let t = nf + mf;
            let d = mean2 - mean;
            Part::Moments {
                n: n + m,
                mean: mean + d * mf / t,
                m2: m2 + m22 + d * d * nf * mf / t,
            }
        }
        (Part::Extreme(a), Part::Extreme(b)) => Part::Extreme(match (a, b) {
            (Some(a), Some(b)) => {
                let o = cell_cmp(&b, &a);
                let better = if op == Op::Max { o.is_gt() } else { o.is_lt() };
                Some(if better { b } else { a })
            }
            (a, b) => a.or(b),
        }),
        (a, _) => a,
    }
}

/// The answer for one column from its combined partial result.
fn finish(op: Op, column: &str, dtype: DType, p: Part) -> Result<Column, TaskError> {
    Ok(match (op, p) {
        (Op::Count, Part::Int { n, .. }) => Column::I64(vec![n as i64]),
        (Op::Sum, Part::Int { sum, .. }) => Column::I64(vec![sum]),
        (Op::Sum, Part::Float { sum, .. }) => Column::F64(vec![sum]),
        (Op::Sum, Part::Text { cat, .. }) => Column::Str(vec![Some(cat)]),
        (Op::Mean, Part::Int { n, sum }) => Column::F64(vec![sum as f64 / n as f64]),
        (Op::Mean, Part::Float { n, sum }) => Column::F64(vec![sum / n as f64]),
        (Op::Std(ddof), Part::Moments { n, m2, .. }) => {
            let d = n as f64 - f64::from(ddof);
            Column::F64(vec![if d > 0.0 { (m2 / d).sqrt() } else { f64::NAN }])
        }
        (Op::Min | Op::Max, Part::Extreme(x)) => match x {
            Some(Cell::Bool(b)) => Column::Bool(vec![b]),
            Some(Cell::I64(i)) => Column::I64(vec![i]),
            Some(Cell::F64(f)) => Column::F64(vec![f]),
            Some(Cell::Str(s)) => Column::Str(vec![Some(s)]),
            // no value: NaN (a float), as pandas; a string column gives a null
            None if dtype == DType::Str => Column::Str(vec![None]),
            None => Column::F64(vec![f64::NAN]),
        },
        (op, _) => {
            return Err(TaskError::new(format!(
                "{}: column {column:?} combined from partial results of another kind",
                op.name()
            )))
        }
    })
}

impl DataFrame {
    /// One reduction of every column, as a table of one row.
    fn reduce_columns(&self, op: Op) -> Delayed<Table> {
        if matches!(op, Op::Mean | Op::Std(_)) {
            if let Some(i) = self.schema.dtypes.iter().position(|&d| d == DType::Str) {
                // pandas raises TypeError for text (numeric_only=False)
                let e = Error::ColumnType {
                    column: self.schema.names[i].clone(),
                    dtype: DType::Str,
                    what: op.name(),
                    expected: "number or boolean columns (select them first)",
                };
                return self.failing(e).reduce_columns(Op::Count);
            }
        }
        let name = op.name();
        let parts = self.partition_nodes_with(&layer_name(&format!("{name}-part")), move |_, t| {
            Ok(t.columns()
                .iter()
                .map(|c| part_of(op, c))
                .collect::<Vec<Part>>())
        });
        let root = combine_tree(
            parts,
            &layer_name(&format!("{name}-agg")),
            &[],
            false,
            Some(crate::wire_of::<Vec<Part>>()),
            Arc::new(move |parts: Vec<Vec<Part>>| {
                let mut it = parts.into_iter();
                let first = it.next().unwrap_or_default();
                Ok(it.fold(first, |acc, p| {
                    acc.into_iter()
                        .zip(p)
                        .map(|(a, b)| merge(op, a, b))
                        .collect()
                }))
            }),
        );
        let schema = self.schema.clone();
        Delayed::from_node(then(
            root,
            layer_name(name),
            Some(crate::wire_of::<Table>()),
            move |parts: Vec<Part>| {
                let columns = parts
                    .into_iter()
                    .enumerate()
                    .map(|(i, p)| finish(op, &schema.names[i], schema.dtypes[i], p))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Table::from_parts(schema.names.clone(), columns))
            },
        ))
    }

    /// The sum of each column, as a table of one row (pandas / Dask: `df.sum()`): nulls
    /// skipped (an all-null column sums to 0), integers and booleans summed as integers
    /// (`true` counts one), floats in numpy's pairwise order within each partition, strings
    /// concatenated as pandas does (nulls skipped; `""` for none).
    ///
    /// ```
    /// use dagr::bag as db;
    /// let df = db::from_sequence(vec![(1_i64, 0.5, true), (2, f64::NAN, true), (4, 1.0, false)], 2)?
    ///     .to_dataframe(&["a", "b", "c"])?;
    /// let s = df.sum().compute()?;
    /// assert_eq!(s.column("a")?.f64(0), Some(7.0));
    /// assert_eq!(s.column("b")?.f64(0), Some(1.5));
    /// assert_eq!(s.column("c")?.f64(0), Some(2.0));
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn sum(&self) -> Delayed<Table> {
        self.reduce_columns(Op::Sum)
    }

    /// The mean of each column, as a table of one row of floats (pandas / Dask:
    /// `df.mean()`): nulls skipped, booleans as the fraction true, NaN for a column without
    /// values. A string column is an error (pandas raises `TypeError`): select the number
    /// columns first.
    ///
    /// ```
    /// use dagr::bag as db;
    /// let df = db::from_sequence(vec![(1_i64, 0.5), (2, f64::NAN), (4, 1.0)], 2)?.to_dataframe(&["a", "b"])?;
    /// let m = df.mean().compute()?;
    /// assert_eq!(m.column("a")?.f64(0), Some(7.0 / 3.0));
    /// assert_eq!(m.column("b")?.f64(0), Some(0.75));
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn mean(&self) -> Delayed<Table> {
        self.reduce_columns(Op::Mean)
    }

    /// The smallest value of each column, as a table of one row (pandas / Dask: `df.min()`):
    /// nulls skipped; a column without values gives NaN (a null for strings). Columns keep
    /// their types.
    ///
    /// ```
    /// use dagr::bag as db;
    /// let df = db::from_sequence(vec![(3_i64, Some("b")), (1, None), (2, Some("a"))], 2)?.to_dataframe(&["n", "s"])?;
    /// let m = df.min().compute()?;
    /// assert_eq!(m.column("n")?.f64(0), Some(1.0));
    /// assert_eq!(m.column("s")?.text(0).as_deref(), Some("a"));
    /// assert_eq!(df.max().compute()?.column("s")?.text(0).as_deref(), Some("b"));
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn min(&self) -> Delayed<Table> {
        self.reduce_columns(Op::Min)
    }

    /// The largest value of each column (pandas / Dask: `df.max()`); see [`DataFrame::min`].
    pub fn max(&self) -> Delayed<Table> {
        self.reduce_columns(Op::Max)
    }

    /// The number of non-null values of each column, as a table of one row of integers
    /// (pandas / Dask: `df.count()`).
    ///
    /// ```
    /// use dagr::bag as db;
    /// let df = db::from_sequence(vec![(1.0, Some("x")), (f64::NAN, None), (3.0, None)], 2)?.to_dataframe(&["x", "s"])?;
    /// let c = df.count().compute()?;
    /// assert_eq!((c.column("x")?.f64(0), c.column("s")?.f64(0)), (Some(2.0), Some(1.0)));
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn count(&self) -> Delayed<Table> {
        self.reduce_columns(Op::Count)
    }

    /// The standard deviation of each column with `ddof = 1`, as a table of one row of
    /// floats (pandas / Dask: `df.std()`); see [`DataFrame::std_ddof`].
    pub fn std(&self) -> Delayed<Table> {
        self.reduce_columns(Op::Std(1))
    }

    /// The standard deviation of each column with `ddof` delta degrees of freedom (pandas:
    /// `df.std(ddof=...)`): nulls skipped, NaN when there are at most `ddof` values. Each
    /// partition takes pandas' two passes over its values (the mean, then the squared
    /// deviations from it), and partitions combine by Chan's formula, so one partition gives
    /// pandas' bits and more stay within a few units in the last place. A string column is
    /// an error, as for [`DataFrame::mean`].
    ///
    /// ```
    /// use dagr::bag as db;
    /// let df = db::from_sequence(vec![(1.0,), (2.0,), (3.0,), (4.0,)], 1)?.to_dataframe(&["x"])?;
    /// assert_eq!(df.std().compute()?.column("x")?.f64(0), Some(1.2909944487358056));
    /// assert_eq!(df.std_ddof(0).compute()?.column("x")?.f64(0), Some(1.118033988749895));
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn std_ddof(&self, ddof: u32) -> Delayed<Table> {
        self.reduce_columns(Op::Std(ddof))
    }

    /// The quantile `q` of a number column by linear interpolation between the order
    /// statistics, nulls skipped (pandas: `df["x"].quantile(q)`, its default
    /// `interpolation="linear"`); NaN for a column without values. Exact, so the result is
    /// pandas' to the bit (Dask's is an approximation), and in bounded memory as
    /// [`DataFrame::describe`]: samples of the partitions place a window of values around
    /// the wanted order statistics, a second pass keeps only the values in it (the column's
    /// values stay in memory between the passes up to `describe`'s budget, else the
    /// partitions are read again). A `q` outside `[0, 1]`, an unknown column or a string
    /// column is an error from `compute`.
    ///
    /// ```
    /// use dagr::bag as db;
    /// let df = db::from_sequence(vec![(1_i64,), (2,), (3,), (4,)], 2)?.to_dataframe(&["x"])?;
    /// assert_eq!(df.quantile("x", 0.25).compute()?, 1.75);
    /// assert_eq!(df.quantile("x", 0.5).compute()?, 2.5);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn quantile(&self, column: &str, q: f64) -> Delayed<f64> {
        Delayed::from_node(then(
            self.column_quantiles(column, &[q]).node,
            layer_name("quantile"),
            Some(crate::wire_of::<f64>()),
            |d: super::Description| {
                d.quantiles_of(0)
                    .and_then(|v| v.first().copied())
                    .ok_or_else(|| TaskError::new("quantile: no result"))
            },
        ))
    }

    /// The quantiles `qs` of a number column, in the order asked (pandas:
    /// `df["x"].quantile([0.1, 0.9])`), computed together in one pass over the data as
    /// [`DataFrame::quantile`] computes one.
    ///
    /// ```
    /// use dagr::bag as db;
    /// let df = db::from_sequence((1..=101).map(|i| (i as f64,)), 3)?.to_dataframe(&["x"])?;
    /// assert_eq!(df.quantiles("x", &[0.9, 0.1, 0.5]).compute()?, vec![91.0, 11.0, 51.0]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn quantiles(&self, column: &str, qs: &[f64]) -> Delayed<Vec<f64>> {
        Delayed::from_node(then(
            self.column_quantiles(column, qs).node,
            layer_name("quantile"),
            Some(crate::wire_of::<Vec<f64>>()),
            |d: super::Description| {
                d.quantiles_of(0)
                    .ok_or_else(|| TaskError::new("quantile: no result"))
            },
        ))
    }

    /// The position of `column` if `qs` are quantiles of it.
    fn quantile_column(&self, column: &str, qs: &[f64]) -> Result<usize, Error> {
        if let Some(q) = qs.iter().find(|q| !(0.0..=1.0).contains(*q)) {
            return Err(Error::InvalidArgument {
                what: "quantile",
                message: format!("quantile({column:?}, {q}): q must be in [0, 1]"),
            });
        }
        let i = super::table::position(&self.schema.names, column)?;
        let dtype = self.schema.dtypes[i];
        if !dtype.is_numeric() {
            return Err(Error::ColumnType {
                column: column.to_owned(),
                dtype,
                what: "quantile",
                expected: "a number column",
            });
        }
        Ok(i)
    }

    /// The statistics of `column` with quantiles `qs` (of no column, failing, when `column`
    /// or `qs` is not valid).
    fn column_quantiles(&self, column: &str, qs: &[f64]) -> Delayed<super::Description> {
        let (df, cols) = match self.quantile_column(column, qs) {
            Ok(i) => (self.clone(), vec![i]),
            Err(e) => (self.failing(e), Vec::new()),
        };
        let wanted = super::describe::Wanted {
            prefix: "quantile",
            cols,
            qs: qs.into(),
            rows: super::describe::rows_for(qs),
        };
        super::describe::stats_of(&df, wanted, super::describe::DEFAULT_BUDGET)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_matches_numpy_on_known_sums() {
        // np.sum over 1000 values: 1658.399999999995 (a sequential sum: 1658.3999999999962)
        let v: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.7) % 3.3).collect();
        assert_eq!(pairwise_nansum(&v), 1658.399999999995);
        // np.sum([0.1] * 10) == 1.0 (eight lanes, then two); a sequential sum gives 0.9999999999999999
        assert_eq!(pairwise_nansum(&[0.1; 10]), 1.0);
        assert_eq!(pairwise_nansum(&[-0.0]).to_bits(), 0.0f64.to_bits());
    }
}
