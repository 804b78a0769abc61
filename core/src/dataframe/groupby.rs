//! `groupby(col).agg(…)`: per-partition tables of partial aggregates, merged in a tree.

use super::table::{position, Column, DType, Table};
use super::{DataFrame, Schema};
use crate::bag::layer_name;
use crate::hash::FastMap;
use crate::node::{Deps, NodeKind, NodeRef};
use crate::tree::combine_tree;
use crate::Error;
use dagr_runtime::{Inputs, Key, TaskError, TaskResult};
use std::cmp::Ordering;
use std::sync::Arc;

/// An aggregation of a column within each group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agg {
    /// Sum of non-null values (integers stay integers).
    Sum,
    /// Mean of non-null values.
    Mean,
    /// Number of non-null values.
    Count,
    /// Smallest non-null value.
    Min,
    /// Largest non-null value.
    Max,
}

impl Agg {
    fn name(self) -> &'static str {
        match self {
            Agg::Sum => "sum",
            Agg::Mean => "mean",
            Agg::Count => "count",
            Agg::Min => "min",
            Agg::Max => "max",
        }
    }
}

/// Rows grouped by a column's values (Dask: `df.groupby(by)`); groups come out sorted by
/// key and rows whose key is null are dropped, as pandas does by default.
///
/// ```
/// use dagr_core::{bag as db, dataframe::Agg};
/// let df = db::from_sequence(vec![("b", 1_i64, 2.0), ("a", 2, 4.0), ("b", 3, 6.0)], 2)?
///     .to_dataframe(&["k", "x", "y"])?;
/// let t = df.groupby("k").agg(&[("x", Agg::Sum), ("y", Agg::Mean)]).compute()?;
/// assert_eq!(t.column("k")?.text(0).as_deref(), Some("a"));
/// assert_eq!(t.column("x")?.f64(1), Some(4.0));
/// assert_eq!(t.column("y")?.f64(1), Some(4.0));
/// # Ok::<(), dagr_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct GroupBy {
    df: DataFrame,
    by: String,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
enum KeyVal {
    Bool(bool),
    I64(i64),
    F64(f64),
    Str(String),
}

impl Eq for KeyVal {}

impl std::hash::Hash for KeyVal {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        match self {
            KeyVal::Bool(b) => b.hash(h),
            KeyVal::I64(i) => i.hash(h),
            KeyVal::F64(f) => f.to_bits().hash(h),
            KeyVal::Str(s) => s.hash(h),
        }
    }
}

impl Ord for KeyVal {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (KeyVal::Bool(a), KeyVal::Bool(b)) => a.cmp(b),
            (KeyVal::I64(a), KeyVal::I64(b)) => a.cmp(b),
            (KeyVal::F64(a), KeyVal::F64(b)) => a.total_cmp(b),
            (KeyVal::Str(a), KeyVal::Str(b)) => a.cmp(b),
            _ => Ordering::Equal,
        }
    }
}

impl PartialOrd for KeyVal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn key_at(c: &Column, i: usize) -> Option<KeyVal> {
    match c {
        Column::Bool(v) => Some(KeyVal::Bool(v[i])),
        Column::I64(v) => Some(KeyVal::I64(v[i])),
        // + 0.0 folds -0.0 into 0.0, which compare equal and must hash alike
        Column::F64(v) => (!v[i].is_nan()).then_some(KeyVal::F64(v[i] + 0.0)),
        Column::Str(v) => v[i].clone().map(KeyVal::Str),
    }
}

/// Partial aggregate of one column in one group.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
struct Acc {
    count: u64,
    sum: f64,
    isum: i128,
    min: f64,
    max: f64,
}

impl Default for Acc {
    fn default() -> Self {
        Acc {
            count: 0,
            sum: 0.0,
            isum: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

impl Acc {
    fn merge(&mut self, o: &Acc) {
        self.count += o.count;
        self.sum += o.sum;
        self.isum += o.isum;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }
}

type Partial = FastMap<KeyVal, Vec<Acc>>;

impl GroupBy {
    pub(super) fn new(df: DataFrame, by: &str) -> GroupBy {
        GroupBy {
            df,
            by: by.to_owned(),
        }
    }

    fn numeric_columns(&self, agg: Agg) -> Vec<(String, Agg)> {
        self.df
            .dtypes()
            .into_iter()
            .filter(|(n, d)| *n != self.by && d.is_numeric())
            .map(|(n, _)| (n, agg))
            .collect()
    }

    /// Sum of every numeric column per group.
    pub fn sum(&self) -> DataFrame {
        self.agg_owned(self.numeric_columns(Agg::Sum))
    }
    /// Mean of every numeric column per group.
    pub fn mean(&self) -> DataFrame {
        self.agg_owned(self.numeric_columns(Agg::Mean))
    }
    /// Non-null count of every numeric column per group.
    pub fn count(&self) -> DataFrame {
        self.agg_owned(self.numeric_columns(Agg::Count))
    }
    /// Minimum of every numeric column per group.
    pub fn min(&self) -> DataFrame {
        self.agg_owned(self.numeric_columns(Agg::Min))
    }
    /// Maximum of every numeric column per group.
    pub fn max(&self) -> DataFrame {
        self.agg_owned(self.numeric_columns(Agg::Max))
    }

    /// The given aggregations, one output column each, named after the input column (or
    /// `column_agg` when a column is aggregated more than once). Unknown or non-numeric
    /// columns fail at compute.
    pub fn agg(&self, aggs: &[(&str, Agg)]) -> DataFrame {
        self.agg_owned(aggs.iter().map(|(c, a)| (c.to_string(), *a)).collect())
    }

    fn agg_owned(&self, aggs: Vec<(String, Agg)>) -> DataFrame {
        match self.plan(&aggs) {
            Ok(df) => df,
            Err(e) => self.df.failing(e),
        }
    }

    fn plan(&self, aggs: &[(String, Agg)]) -> Result<DataFrame, Error> {
        let schema = &self.df.schema;
        let key = position(&schema.names, &self.by)?;
        let mut cols = Vec::new();
        for (c, _) in aggs {
            let i = position(&schema.names, c)?;
            if !schema.dtypes[i].is_numeric() {
                return Err(Error::ColumnType {
                    column: c.clone(),
                    dtype: schema.dtypes[i],
                    what: "groupby aggregation",
                    expected: "a numeric column",
                });
            }
            cols.push(i);
        }
        let mut names = vec![self.by.clone()];
        let mut dtypes = vec![schema.dtypes[key]];
        for ((c, a), &i) in aggs.iter().zip(&cols) {
            let repeated = aggs.iter().filter(|(d, _)| d == c).count() > 1;
            names.push(if repeated {
                format!("{c}_{}", a.name())
            } else {
                c.clone()
            });
            dtypes.push(match a {
                Agg::Count => DType::I64,
                Agg::Mean => DType::F64,
                _ => schema.dtypes[i],
            });
        }
        let out_schema = Arc::new(Schema {
            names: names.into(),
            dtypes,
        });
        let part_name = layer_name("groupby-part");
        let cols2 = cols.clone();
        let level: Vec<NodeRef> = self.df.partition_nodes_with(&part_name, move |_, t| {
            let kc = &t.columns()[key];
            let mut groups: Partial = FastMap::default();
            for r in 0..t.len() {
                let Some(k) = key_at(kc, r) else { continue };
                let accs = groups
                    .entry(k)
                    .or_insert_with(|| vec![Acc::default(); cols2.len()]);
                for (acc, &c) in accs.iter_mut().zip(&cols2) {
                    let col = &t.columns()[c];
                    let x = col.f64(r).unwrap_or(f64::NAN);
                    if x.is_nan() {
                        continue;
                    }
                    acc.count += 1;
                    acc.sum += x;
                    if let Column::I64(v) = col {
                        acc.isum += i128::from(v[r]);
                    }
                    acc.min = acc.min.min(x);
                    acc.max = acc.max.max(x);
                }
            }
            Ok(groups)
        });
        let merge = |parts: Vec<Partial>| -> Result<Partial, TaskError> {
            let mut it = parts.into_iter();
            let mut acc = it.next().unwrap_or_default();
            for next in it {
                for (key, accs) in next {
                    match acc.get_mut(&key) {
                        Some(mine) => mine.iter_mut().zip(&accs).for_each(|(a, b)| a.merge(b)),
                        None => {
                            acc.insert(key, accs);
                        }
                    }
                }
            }
            Ok(acc)
        };
        let merged = combine_tree(
            level,
            &layer_name("groupby-agg"),
            &[],
            false,
            Some(crate::wire_of::<Partial>()),
            Arc::new(merge),
        );
        let aggs: Vec<Agg> = aggs.iter().map(|(_, a)| *a).collect();
        let s2 = out_schema.clone();
        let body = move |inp: &mut Inputs<'_>| -> TaskResult {
            let groups: Partial = inp.take(0)?;
            let mut rows: Vec<(KeyVal, Vec<Acc>)> = groups.into_iter().collect();
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            let mut out: Vec<Column> = s2
                .dtypes
                .iter()
                .map(|&d| Column::empty(d, rows.len()))
                .collect();
            for (k, accs) in rows {
                match (&mut out[0], k) {
                    (Column::Bool(v), KeyVal::Bool(x)) => v.push(x),
                    (Column::I64(v), KeyVal::I64(x)) => v.push(x),
                    (Column::F64(v), KeyVal::F64(x)) => v.push(x),
                    (Column::Str(v), KeyVal::Str(x)) => v.push(Some(x)),
                    _ => return Err(TaskError::new("group key of an unexpected type")),
                }
                for ((col, acc), agg) in out[1..].iter_mut().zip(&accs).zip(&aggs) {
                    let empty = acc.count == 0;
                    match (col, agg) {
                        (Column::I64(v), Agg::Count) => v.push(acc.count as i64),
                        (Column::I64(v), Agg::Sum) => v.push(acc.isum as i64),
                        (Column::I64(v), Agg::Min) => v.push(acc.min as i64),
                        (Column::I64(v), Agg::Max) => v.push(acc.max as i64),
                        (Column::F64(v), Agg::Sum) => v.push(acc.sum),
                        (Column::F64(v), Agg::Mean) => v.push(if empty {
                            f64::NAN
                        } else {
                            acc.sum / acc.count as f64
                        }),
                        (Column::F64(v), Agg::Min) => {
                            v.push(if empty { f64::NAN } else { acc.min })
                        }
                        (Column::F64(v), Agg::Max) => {
                            v.push(if empty { f64::NAN } else { acc.max })
                        }
                        _ => return Err(TaskError::new("aggregate of an unexpected type")),
                    }
                }
            }
            Ok(Arc::new(Table::from_parts(s2.names.clone(), out)))
        };
        let node = crate::node::new_wired_node(
            Key::index(layer_name("groupby"), &[0]),
            Deps::One([merged]),
            NodeKind::Call,
            false,
            Some(crate::wire_of::<Table>()),
            body,
        );
        Ok(DataFrame::from_nodes(
            layer_name("grouped"),
            out_schema,
            vec![node],
        ))
    }
}
