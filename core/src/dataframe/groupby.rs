//! `groupby(cols).agg(…)`: per-partition tables of partial aggregates, merged in a tree.
//!
//! Few groups: one tree over every partition gives one sorted table (Dask's default
//! `split_out=1`). Many groups (by default when the first partition's number of groups,
//! times the number of partitions, passes [`SHUFFLE_ABOVE`]): each partition's partial
//! aggregates are cut by a hash of the key into buckets, and each bucket's pieces merge in
//! a tree of their own, the same shape as the single tree, so that no task holds every
//! group and each group's aggregate is the one the single tree computes, bit for bit. The
//! choice is made while computing (by a task reading the first partition's partial
//! result); the number of output partitions is fixed before, as Dask's `split_out=True`
//! fixes it from the number of partitions and key columns. With few groups every group
//! goes to the first output partition and the others are empty.

use super::table::{position, Column, DType, Table};
use super::{DataFrame, Schema};
use crate::bag::layer_name;
use crate::hash::FastMap;
use crate::node::{Deps, NodeKind, NodeRef};
use crate::tree::combine_tree;
use crate::Error;
use dagr_runtime::{Inputs, Key, TaskError, TaskResult, Value};
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// An aggregation of a column within each group, as pandas computes it. Numbers and
/// booleans can be aggregated; booleans count as 0 and 1 (the mean of a boolean column is
/// the fraction true).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agg {
    /// Sum of non-null values (integers stay integers, booleans give the number true; 0
    /// for a group with no value).
    Sum,
    /// Mean of non-null values.
    Mean,
    /// Number of non-null values.
    Count,
    /// Smallest non-null value.
    Min,
    /// Largest non-null value.
    Max,
    /// Sample standard deviation (ddof = 1, as pandas; NaN for fewer than two values).
    Std,
    /// Sample variance (ddof = 1, as pandas; NaN for fewer than two values).
    Var,
}

impl Agg {
    fn name(self) -> &'static str {
        match self {
            Agg::Sum => "sum",
            Agg::Mean => "mean",
            Agg::Count => "count",
            Agg::Min => "min",
            Agg::Max => "max",
            Agg::Std => "std",
            Agg::Var => "var",
        }
    }
}

/// One or several column names: `"k"`, `["k", "j"]`, `&["k", "j"][..]`, a `Vec`.
pub trait ColumnNames {
    /// The names, in order.
    fn column_names(self) -> Vec<String>;
}

impl ColumnNames for &str {
    fn column_names(self) -> Vec<String> {
        vec![self.to_owned()]
    }
}
impl ColumnNames for &String {
    fn column_names(self) -> Vec<String> {
        vec![self.clone()]
    }
}
impl ColumnNames for String {
    fn column_names(self) -> Vec<String> {
        vec![self]
    }
}
impl ColumnNames for &[&str] {
    fn column_names(self) -> Vec<String> {
        self.iter().map(|s| s.to_string()).collect()
    }
}
impl<const N: usize> ColumnNames for [&str; N] {
    fn column_names(self) -> Vec<String> {
        self.iter().map(|s| s.to_string()).collect()
    }
}
impl<const N: usize> ColumnNames for &[&str; N] {
    fn column_names(self) -> Vec<String> {
        self.iter().map(|s| s.to_string()).collect()
    }
}
impl ColumnNames for Vec<&str> {
    fn column_names(self) -> Vec<String> {
        self.iter().map(|s| s.to_string()).collect()
    }
}
impl ColumnNames for Vec<String> {
    fn column_names(self) -> Vec<String> {
        self
    }
}
impl ColumnNames for &[String] {
    fn column_names(self) -> Vec<String> {
        self.to_vec()
    }
}

/// Rows grouped by the values of one or several key columns (Dask: `df.groupby(by)`).
/// The result has the key columns first, then one column per aggregation; groups come out
/// sorted by key and rows with a null in any key are dropped, as pandas does by default.
///
/// ```
/// use dagr::{bag as db, dataframe::Agg};
/// let df = db::from_sequence(vec![("b", 1_i64, 2.0), ("a", 2, 4.0), ("b", 3, 6.0)], 2)?
///     .to_dataframe(&["k", "x", "y"])?;
/// let t = df.groupby("k").agg(&[("x", Agg::Sum), ("y", Agg::Mean), ("y", Agg::Std)]).compute()?;
/// assert_eq!(t.names(), ["k", "x", "y_mean", "y_std"]);
/// assert_eq!(t.column("k")?.text(0).as_deref(), Some("a"));
/// assert_eq!(t.column("x")?.f64(1), Some(4.0));
/// assert_eq!(t.column("y_mean")?.f64(1), Some(4.0));
/// assert_eq!(t.column("y_std")?.f64(1), Some(8.0_f64.sqrt()));
/// assert!(t.column("y_std")?.f64(0).unwrap().is_nan()); // one value: NaN, as pandas
///
/// let by_two = df.groupby(["k", "x"]).count().compute()?;
/// assert_eq!(by_two.names(), ["k", "x", "y"]);
/// assert_eq!(by_two.len(), 3);
/// # Ok::<(), dagr::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct GroupBy {
    df: DataFrame,
    by: Vec<String>,
    /// Output partitions after a shuffle of rows by key (Dask's `split_out`); 1: one tree
    /// over every partition; `None`: chosen by the number of groups.
    split_out: Option<usize>,
    /// Estimated groups above which the partial aggregates are shuffled.
    shuffle_above: usize,
}

/// The number of groups (estimated from the first partition) above which
/// `groupby(..).agg(..)` aggregates in several partitions by a hash of the key instead of
/// one tree; see [`GroupBy::shuffle_above`].
pub const SHUFFLE_ABOVE: usize = 1 << 20;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) enum KeyVal {
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

pub(super) fn key_at(c: &Column, i: usize) -> Option<KeyVal> {
    match c {
        Column::Bool(v) => Some(KeyVal::Bool(v[i])),
        Column::I64(v) => Some(KeyVal::I64(v[i])),
        // + 0.0 folds -0.0 into 0.0, which compare equal and must hash alike
        Column::F64(v) => (!v[i].is_nan()).then_some(KeyVal::F64(v[i] + 0.0)),
        Column::Str(v) => v[i].clone().map(KeyVal::Str),
    }
}

/// Partial aggregate of one column in one group: enough for every [`Agg`] (integers and
/// booleans also exactly, in `isum`, `imin`, `imax`); `mean` and `m2` are Welford's running
/// mean and sum of squared deviations, merged by Chan's formula.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
struct Acc {
    count: u64,
    sum: f64,
    isum: i128,
    min: f64,
    max: f64,
    imin: i64,
    imax: i64,
    mean: f64,
    m2: f64,
}

impl Default for Acc {
    fn default() -> Self {
        Acc {
            count: 0,
            sum: 0.0,
            isum: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            imin: i64::MAX,
            imax: i64::MIN,
            mean: 0.0,
            m2: 0.0,
        }
    }
}

impl Acc {
    /// Adds a value (`exact`: the value of an integer or boolean column).
    fn push(&mut self, x: f64, exact: Option<i64>) {
        self.count += 1;
        self.sum += x;
        if let Some(i) = exact {
            self.isum += i128::from(i);
            self.imin = self.imin.min(i);
            self.imax = self.imax.max(i);
        }
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
    }

    fn merge(&mut self, o: &Acc) {
        if o.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *o;
            return;
        }
        let (na, nb) = (self.count as f64, o.count as f64);
        let n = na + nb;
        let delta = o.mean - self.mean;
        self.mean += delta * nb / n;
        self.m2 += o.m2 + delta * delta * na * nb / n;
        self.count += o.count;
        self.sum += o.sum;
        self.isum += o.isum;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.imin = self.imin.min(o.imin);
        self.imax = self.imax.max(o.imax);
    }

    /// The sample variance (ddof = 1).
    fn var(&self) -> f64 {
        if self.count < 2 {
            f64::NAN
        } else {
            self.m2 / (self.count - 1) as f64
        }
    }
}

type Partial = FastMap<Vec<KeyVal>, Vec<Acc>>;

/// Whether `agg` can aggregate a column of `dtype`.
fn aggregable(dtype: DType) -> bool {
    dtype.is_numeric() || dtype == DType::Bool
}

impl GroupBy {
    pub(super) fn new(df: DataFrame, by: Vec<String>) -> GroupBy {
        GroupBy {
            df,
            by,
            split_out: None,
            shuffle_above: SHUFFLE_ABOVE,
        }
    }

    /// Aggregates into `n` partitions instead of one (Dask: `split_out`), for many groups:
    /// rows are first shuffled by key, so each output partition aggregates its own groups,
    /// sorted by key within it, and no task holds every group. With `n = 1` the
    /// partitions' partial aggregates combine in the fixed tree into one sorted table. Not
    /// called, the number of groups decides (see [`GroupBy::shuffle_above`]).
    ///
    /// ```
    /// use dagr::{bag as db, dataframe::Agg};
    /// let df = db::from_sequence((0..1000_i64).map(|i| (i % 97, i)).collect::<Vec<_>>(), 8)?
    ///     .to_dataframe(&["k", "v"])?;
    /// let g = df.groupby("k").split_out(4).agg(&[("v", Agg::Sum)]);
    /// assert_eq!(g.npartitions(), 4);
    /// assert_eq!(g.len()?, 97);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn split_out(mut self, n: usize) -> GroupBy {
        self.split_out = Some(n.max(1));
        self
    }

    /// When no [`GroupBy::split_out`] is given, the number of groups above which the
    /// aggregation shuffles its partial aggregates into several partitions by a hash of the
    /// key ([`SHUFFLE_ABOVE`] by default). The number of groups is estimated while
    /// computing, as the first partition's times the number of partitions; the frame has
    /// `⌈npartitions / 15⌉` partitions (at least 2; Dask's rule for `split_out=True`, with
    /// fewer per partition for several key columns) whichever way is taken, each sorted by
    /// key, and the groups and their values are the same either way.
    ///
    /// ```
    /// use dagr::{bag as db, dataframe::Agg};
    /// let df = db::from_sequence((0..1000_i64).map(|i| (i % 300, i as f64)).collect::<Vec<_>>(), 4)?
    ///     .to_dataframe(&["k", "x"])?;
    /// let tree = df.groupby("k").split_out(1).agg(&[("x", Agg::Mean)]);
    /// let shuffled = df.groupby("k").shuffle_above(10).agg(&[("x", Agg::Mean)]);
    /// let few = df.groupby("k").agg(&[("x", Agg::Mean)]);
    /// assert_eq!((shuffled.npartitions(), few.npartitions()), (2, 2));
    /// assert_eq!(shuffled.sort_values("k", true).compute()?, tree.compute()?);
    /// assert_eq!(few.compute()?, tree.compute()?);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn shuffle_above(mut self, groups: usize) -> GroupBy {
        self.shuffle_above = groups;
        self
    }

    /// The numeric and boolean columns that are not keys (pandas' `numeric_only=True`).
    fn numeric_columns(&self, agg: Agg) -> Vec<(String, Agg)> {
        self.df
            .dtypes()
            .into_iter()
            .filter(|(n, d)| !self.by.contains(n) && aggregable(*d))
            .map(|(n, _)| (n, agg))
            .collect()
    }

    /// Sum of every numeric and boolean column per group.
    pub fn sum(&self) -> DataFrame {
        self.agg_owned(self.numeric_columns(Agg::Sum))
    }
    /// Mean of every numeric and boolean column per group (for booleans: the fraction
    /// true).
    pub fn mean(&self) -> DataFrame {
        self.agg_owned(self.numeric_columns(Agg::Mean))
    }
    /// Non-null count of every numeric and boolean column per group.
    pub fn count(&self) -> DataFrame {
        self.agg_owned(self.numeric_columns(Agg::Count))
    }
    /// Minimum of every numeric and boolean column per group.
    pub fn min(&self) -> DataFrame {
        self.agg_owned(self.numeric_columns(Agg::Min))
    }
    /// Maximum of every numeric and boolean column per group.
    pub fn max(&self) -> DataFrame {
        self.agg_owned(self.numeric_columns(Agg::Max))
    }
    /// Sample standard deviation (ddof = 1) of every numeric and boolean column per group.
    pub fn std(&self) -> DataFrame {
        self.agg_owned(self.numeric_columns(Agg::Std))
    }
    /// Sample variance (ddof = 1) of every numeric and boolean column per group.
    pub fn var(&self) -> DataFrame {
        self.agg_owned(self.numeric_columns(Agg::Var))
    }

    /// The given aggregations, one output column each, named after the input column (or
    /// `column_agg` when a column is aggregated more than once). Unknown columns and string
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
        if self.by.is_empty() {
            return Err(Error::InvalidArgument {
                what: "groupby",
                message: "no key column given".into(),
            });
        }
        let keys = self
            .by
            .iter()
            .map(|k| position(&schema.names, k))
            .collect::<Result<Vec<_>, _>>()?;
        let mut cols = Vec::new();
        for (c, a) in aggs {
            let i = position(&schema.names, c)?;
            if !aggregable(schema.dtypes[i]) {
                return Err(Error::ColumnType {
                    column: c.clone(),
                    dtype: schema.dtypes[i],
                    what: match a {
                        Agg::Sum => "groupby sum",
                        Agg::Mean => "groupby mean",
                        Agg::Count => "groupby count",
                        Agg::Min => "groupby min",
                        Agg::Max => "groupby max",
                        Agg::Std => "groupby std",
                        Agg::Var => "groupby var",
                    },
                    expected: "a number or boolean column",
                });
            }
            cols.push(i);
        }
        let mut names = self.by.clone();
        let mut dtypes: Vec<DType> = keys.iter().map(|&k| schema.dtypes[k]).collect();
        for ((c, a), &i) in aggs.iter().zip(&cols) {
            let repeated = aggs.iter().filter(|(d, _)| d == c).count() > 1;
            names.push(if repeated {
                format!("{c}_{}", a.name())
            } else {
                c.clone()
            });
            dtypes.push(match (a, schema.dtypes[i]) {
                (Agg::Count, _) | (Agg::Sum, DType::Bool) => DType::I64,
                (Agg::Mean | Agg::Std | Agg::Var, _) => DType::F64,
                (_, d) => d,
            });
        }
        let out_schema = Arc::new(Schema {
            names: names.into(),
            dtypes,
        });
        let part_name = layer_name("groupby-part");
        let cols2 = cols.clone();
        let keys2 = keys.clone();
        let npart = self.df.npartitions();
        let split_out = self.split_out.unwrap_or(1);
        // buckets of partial aggregates, when the number of groups decides
        let buckets = match self.split_out {
            None if npart > 1 => {
                let per = if keys.len() == 1 {
                    15
                } else {
                    (10 / (keys.len() - 1)).max(1)
                };
                npart.div_ceil(per).clamp(2, npart)
            }
            _ => 1,
        };
        let shuffled;
        let input = if split_out > 1 {
            shuffled = self.df.shuffled(&keys, split_out);
            &shuffled
        } else {
            &self.df
        };
        let level: Vec<NodeRef> = input.partition_nodes_with(&part_name, move |_, t| {
            let tc = t.columns();
            let mut groups: Partial = FastMap::default();
            let mut key = Vec::with_capacity(keys2.len());
            'rows: for r in 0..t.len() {
                key.clear();
                for &k in &keys2 {
                    match key_at(&tc[k], r) {
                        Some(v) => key.push(v),
                        None => continue 'rows,
                    }
                }
                let accs = match groups.get_mut(&key) {
                    Some(a) => a,
                    None => groups
                        .entry(key.clone())
                        .or_insert_with(|| vec![Acc::default(); cols2.len()]),
                };
                for (acc, &c) in accs.iter_mut().zip(&cols2) {
                    match &tc[c] {
                        Column::I64(v) => acc.push(v[r] as f64, Some(v[r])),
                        Column::Bool(v) => acc.push(f64::from(u8::from(v[r])), Some(v[r].into())),
                        Column::F64(v) if !v[r].is_nan() => acc.push(v[r], None),
                        _ => {}
                    }
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
        // one tree over every partition, or (after a shuffle by key) each partition alone,
        // or one tree per bucket of partial aggregates
        let merged: Vec<NodeRef> = if split_out > 1 {
            level
        } else if buckets > 1 {
            bucket_trees(level, buckets, self.shuffle_above, Arc::new(merge))
        } else {
            vec![combine_tree(
                level,
                &layer_name("groupby-agg"),
                &[],
                false,
                Some(crate::wire_of::<Partial>()),
                Arc::new(merge),
            )]
        };
        let aggs: Vec<Agg> = aggs.iter().map(|(_, a)| *a).collect();
        let nkeys = keys.len();
        let s2 = out_schema.clone();
        let body = move |inp: &mut Inputs<'_>| -> TaskResult {
            let groups: Partial = inp.take(0)?;
            let mut rows: Vec<(Vec<KeyVal>, Vec<Acc>)> = groups.into_iter().collect();
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            let mut out: Vec<Column> = s2
                .dtypes
                .iter()
                .map(|&d| Column::empty(d, rows.len()))
                .collect();
            for (key, accs) in rows {
                for (col, k) in out[..nkeys].iter_mut().zip(key) {
                    match (col, k) {
                        (Column::Bool(v), KeyVal::Bool(x)) => v.push(x),
                        (Column::I64(v), KeyVal::I64(x)) => v.push(x),
                        (Column::F64(v), KeyVal::F64(x)) => v.push(x),
                        (Column::Str(v), KeyVal::Str(x)) => v.push(Some(x)),
                        _ => return Err(TaskError::new("group key of an unexpected type")),
                    }
                }
                for ((col, acc), agg) in out[nkeys..].iter_mut().zip(&accs).zip(&aggs) {
                    let empty = acc.count == 0;
                    let or_nan = |x: f64| if empty { f64::NAN } else { x };
                    match (col, agg) {
                        (Column::I64(v), Agg::Count) => v.push(acc.count as i64),
                        (Column::I64(v), Agg::Sum) => v.push(acc.isum as i64),
                        (Column::I64(v), Agg::Min) => v.push(acc.imin),
                        (Column::I64(v), Agg::Max) => v.push(acc.imax),
                        (Column::Bool(v), Agg::Min) => v.push(acc.imin == 1),
                        (Column::Bool(v), Agg::Max) => v.push(acc.imax == 1),
                        (Column::F64(v), Agg::Sum) => v.push(acc.sum),
                        (Column::F64(v), Agg::Mean) => v.push(or_nan(if acc.imin <= acc.imax {
                            // an integer or boolean column: from the exact sum
                            acc.isum as f64 / acc.count as f64
                        } else {
                            acc.sum / acc.count as f64
                        })),
                        (Column::F64(v), Agg::Min) => v.push(or_nan(acc.min)),
                        (Column::F64(v), Agg::Max) => v.push(or_nan(acc.max)),
                        (Column::F64(v), Agg::Var) => v.push(acc.var()),
                        (Column::F64(v), Agg::Std) => v.push(acc.var().sqrt()),
                        _ => return Err(TaskError::new("aggregate of an unexpected type")),
                    }
                }
            }
            Ok(Value::new(Table::from_parts(s2.names.clone(), out)))
        };
        let body = Arc::new(body);
        let name = layer_name("groupby");
        let nodes = merged
            .into_iter()
            .enumerate()
            .map(|(j, m)| {
                let body = body.clone();
                crate::node::new_wired_node(
                    Key::index(name.clone(), &[j as u64]),
                    Deps::one(m),
                    NodeKind::Call,
                    false,
                    Some(crate::wire_of::<Table>()),
                    move |inp: &mut Inputs<'_>| body(inp),
                )
            })
            .collect();
        Ok(DataFrame::from_nodes(
            layer_name("grouped"),
            out_schema,
            nodes,
        ))
    }
}

/// The partial aggregates of `level` (one per partition) merged in `buckets` trees, each
/// of the shape of the single tree: by a hash of the key when the groups are many (the
/// first partition's, times the partitions, above `above`), else all in the first.
fn bucket_trees(
    level: Vec<NodeRef>,
    buckets: usize,
    above: usize,
    merge: crate::tree::Combine<Partial>,
) -> Vec<NodeRef> {
    let n = level.len();
    let decide = crate::node::new_wired_node(
        Key::index(layer_name("groupby-groups"), &[0]),
        Deps::one(level[0].clone()),
        NodeKind::Call,
        false,
        Some(crate::wire_of::<bool>()),
        move |inp: &mut Inputs<'_>| -> TaskResult {
            let first: &Partial = inp.get(0)?;
            Ok(Value::new(first.len().saturating_mul(n) > above))
        },
    );
    let cut_name = layer_name("groupby-cut");
    let piece_name = layer_name("groupby-piece");
    let pieces: Vec<Vec<NodeRef>> = level
        .into_iter()
        .enumerate()
        .map(|(i, leaf)| {
            let cut = crate::node::new_wired_node(
                Key::index(cut_name.clone(), &[i as u64]),
                Deps::two(leaf, decide.clone()),
                NodeKind::Call,
                false,
                Some(crate::wire_of::<Vec<Partial>>()),
                move |inp: &mut Inputs<'_>| -> TaskResult {
                    let many = *inp.get::<bool>(1)?;
                    let groups: Partial = inp.take(0)?;
                    let mut out: Vec<Partial> = vec![Partial::default(); buckets];
                    if !many {
                        out[0] = groups;
                        return Ok(Value::new(out));
                    }
                    for (key, accs) in groups {
                        let mut h = crate::hash::FastHasher::default();
                        key.hash(&mut h);
                        out[(h.finish() % buckets as u64) as usize].insert(key, accs);
                    }
                    Ok(Value::new(out))
                },
            );
            (0..buckets)
                .map(|b| {
                    crate::node::new_wired_node(
                        Key::index(piece_name.clone(), &[i as u64, b as u64]),
                        Deps::one(cut.clone()),
                        NodeKind::Call,
                        false,
                        Some(crate::wire_of::<Partial>()),
                        move |inp: &mut Inputs<'_>| -> TaskResult {
                            let parts: &Vec<Partial> = inp.get(0)?;
                            let piece = parts.get(b).cloned().ok_or_else(|| {
                                TaskError::new("a piece of partial aggregates is missing")
                            })?;
                            Ok(Value::new(piece))
                        },
                    )
                })
                .collect()
        })
        .collect();
    let name = layer_name("groupby-agg");
    (0..buckets)
        .map(|b| {
            let leaves = pieces.iter().map(|p| p[b].clone()).collect();
            combine_tree(
                leaves,
                &name,
                &[b as u64],
                false,
                Some(crate::wire_of::<Partial>()),
                merge.clone(),
            )
        })
        .collect()
}
