//! Dataframes: tables split into row partitions (Dask's `dask.dataframe`).
//!
//! A [`DataFrame`] knows its columns and their types before anything runs (Dask's `meta`);
//! each partition is a [`Table`] produced by one task. Row-wise steps (`select`, `filter`,
//! `with_column`) join the partition's pipeline instead of adding tasks; `describe`,
//! `groupby` and `len` aggregate per partition and combine in a fixed tree, so results do
//! not depend on partitioning or scheduler. Analyses of one frame computed together
//! (`dagr::compute((&df.describe(), &df.groupby("k").sum(), &df.filter(..)))`) share its
//! partitions: each is read and parsed once, by a task of its own that they all read.
//!
//! | dagr | Dask |
//! |---|---|
//! | `dd::read_csv("x*.csv", CsvOptions::default().header(false))?` | `dd.read_csv("x*.csv", header=None)` |
//! | `df.describe().compute()?` | `df.describe().compute()` |
//! | `df.filter(col("x").gt(0.5))` | `df[df.x > 0.5]` |
//! | `df.with_column("z", col("x") * 2.0)` | `df.assign(z=df.x * 2)` |
//! | `df.sort_values("word", false).head(5)?` | `df.sort_values("word", ascending=False).head(5)` |
//! | `df.groupby("k").sum()` | `df.groupby("k").sum()` |
//! | `df.filter(col("city").eq("Paris").and(col("age").between(20, 30)))` | `df[(df.city == "Paris") & df.age.between(20, 30)]` |
//! | `df.filter(!col("city").isin(["Paris", "Lyon"]))` | `df[~df.city.isin(["Paris", "Lyon"])]` |
//! | `df.groupby(["k", "j"]).agg(&[("x", Agg::Std)])` | `df.groupby(["k", "j"]).agg({"x": "std"})` |
//! | `df.sort_values_each(&[("a", true), ("b", false)])` | `df.sort_values(["a", "b"], ascending=[True, False])` |
//! | `df.nlargest(5, "x")`, `df.tail(5)?` | `df.nlargest(5, "x")`, `df.tail(5)` |
//! | `df.dropna()`, `df.fillna(0)` | `df.dropna()`, `df.fillna(0)` |
//! | `df.sum()`, `df.mean()`, `df.std()`, `df.count()` (a table of one row) | `df.sum()`, `df.mean()`, `df.std()`, `df.count()` |
//! | `df.quantile("x", 0.9)` | `df.x.quantile(0.9)` |
//! | `df.quantiles("x", &[0.1, 0.9])` | `df.x.quantile([0.1, 0.9])` |
//! | `df.describe_percentiles(&[0.1, 0.9])` | `df.describe(percentiles=[0.1, 0.9])` |
//! | `df.set_index("k")?`, `a.join(&b, How::Left)?` | `df.set_index("k")`, `a.join(b, how="left")` |

mod column_stats;
mod csv;
mod csv_scan;
mod describe;
mod exchange;
mod expr;
mod frame_of;
mod groupby;
mod index;
mod layer;
mod merge;
#[cfg(feature = "parquet")]
mod parquet;
mod reduce;
mod spill;
pub(crate) mod table;

pub use self::csv::{read_csv, CsvOptions};
pub use describe::{Description, STATS};

/// The row labels of [`DataFrame::describe`], in order.
pub fn describe_rows() -> [&'static str; 8] {
    STATS
}
pub use exchange::{ShuffleMethod, STAGED_ABOVE};
pub use expr::{col, lit, Expr, Scalar};
pub use frame_of::{IntoCell, IntoRow};
pub use groupby::{Agg, ColumnNames, GroupBy, SHUFFLE_ABOVE};
pub use merge::How;
#[cfg(feature = "parquet")]
pub use parquet::{read_parquet, read_parquet_with, ParquetOptions, RecordBatch};
pub use spill::{default_shuffle_budget, set_shuffle_spill, shuffle_spill, ShuffleSpill};
pub use table::{Column, DType, Table};

use crate::bag::layer_name;
use crate::delayed::Delayed;
use crate::node::{Deps, NodeKind, NodeRef};
use crate::tokenize::fresh_token;
use crate::Error;
use dagr_runtime::{Inputs, Key, Scheduler, TaskError, TaskResult, Value};
use std::fmt;
use std::sync::Arc;

/// Column names and types, known before computing.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Schema {
    pub(crate) names: Arc<[String]>,
    pub(crate) dtypes: Vec<DType>,
}

use layer::{FrameLayer, PartTask, TableGen};

/// A lazy table in row partitions (Dask's `DataFrame`).
///
/// # The index through later steps
///
/// A frame made by [`DataFrame::set_index`] names its index column and knows its
/// divisions. A step keeps both when it keeps every partition's rows in their order (or a
/// subset of them) and the index column's values: [`DataFrame::filter`],
/// [`DataFrame::dropna`], [`DataFrame::dropna_subset`], [`DataFrame::select`] of columns
/// that include the index, [`DataFrame::with_column`] of another column,
/// [`DataFrame::fillna`] and [`DataFrame::fillna_each`] when they cannot fill the index
/// column (it is not named, or its type holds no null), [`DataFrame::persist`]. Every
/// other step gives a frame without an index: those that drop or replace the index
/// column, fill its nulls (a filled key may belong to another partition), move rows
/// between partitions or reorder them (`sort_values`, `nlargest`, `merge`, `shuffle`,
/// `groupby`, `drop_duplicates`, `value_counts`); joins on the index and `set_index`
/// make their own.
///
/// ```
/// use dagr::{bag as db, dataframe::col};
/// let df = db::from_sequence((0..20_i64).map(|i| (i % 7, i as f64)).collect::<Vec<_>>(), 3)?
///     .to_dataframe(&["k", "x"])?
///     .set_index("k")?;
/// let kept = df.with_column("y", col("x") * 2.0).filter(col("y").gt(3.0)).select(&["k", "y"])?;
/// assert_eq!((kept.index_name(), kept.divisions()), (Some("k"), df.divisions()));
/// assert_eq!(df.with_column("k", col("x")).index_name(), None); // the index replaced
/// # Ok::<(), dagr::Error>(())
/// ```
///
/// ```
/// use dagr::{bag as db, dataframe::col};
/// let b = db::from_sequence(vec![("a".to_string(), 3_i64), ("b".to_string(), 1), ("c".to_string(), 2)], 2)?;
/// let df = b.to_dataframe(&["word", "n"])?;
/// assert_eq!(df.columns(), ["word", "n"]);
/// let top = df.sort_values("n", false).head(2)?;
/// assert_eq!(top.column("word")?.text(0).as_deref(), Some("a"));
/// assert_eq!(df.filter(col("n").gt(1.5)).len()?, 2);
/// # Ok::<(), dagr::Error>(())
/// ```
#[derive(Clone)]
pub struct DataFrame {
    name: Arc<str>,
    schema: Arc<Schema>,
    inputs: Arc<[Option<NodeRef>]>,
    /// Makes a partition from its input's value, as [`DataFrame::layer`] does.
    gen: TableGen,
    layer: Arc<FrameLayer>,
    /// The index column and its divisions, after [`DataFrame::set_index`].
    index: Option<Arc<index::Index>>,
}

impl fmt::Debug for DataFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DataFrame<{}, npartitions={}, columns=[",
            self.name,
            self.inputs.len()
        )?;
        for (i, (n, d)) in self
            .schema
            .names
            .iter()
            .zip(&self.schema.dtypes)
            .enumerate()
        {
            write!(f, "{}{n}: {d}", if i > 0 { ", " } else { "" })?;
        }
        f.write_str("]>")
    }
}

fn take_table(v: Option<Value>) -> Result<Table, TaskError> {
    let v = v.ok_or_else(|| TaskError::new("partition input missing"))?;
    v.take::<Table>()
        .map_err(|_| TaskError::new("partition is not a Table"))
}

impl DataFrame {
    /// A frame named as `layer` whose partitions `layer` makes.
    fn over(schema: Arc<Schema>, layer: Arc<FrameLayer>) -> DataFrame {
        let make = layer.clone();
        DataFrame {
            name: layer.name().clone(),
            schema,
            inputs: layer.partition_inputs().clone(),
            gen: Arc::new(move |i, v| make.table(i, v, &[])),
            layer,
            index: None,
        }
    }

    /// A frame of `inputs.len()` partitions made by `gen` from the inputs' values; `cheap`:
    /// making one costs about what reading a made one would (see [`FrameLayer`]).
    pub(crate) fn from_source(
        name: Arc<str>,
        schema: Arc<Schema>,
        inputs: Arc<[Option<NodeRef>]>,
        gen: TableGen,
        cheap: bool,
    ) -> DataFrame {
        DataFrame::over(schema, FrameLayer::source(name, inputs, gen, cheap))
    }

    /// A frame whose partitions `gen` makes from inputs holding what to read (see
    /// [`FrameLayer::deferred`]).
    pub(crate) fn from_deferred(
        name: Arc<str>,
        schema: Arc<Schema>,
        inputs: Arc<[Option<NodeRef>]>,
        gen: TableGen,
    ) -> DataFrame {
        DataFrame::over(schema, FrameLayer::deferred_source(name, inputs, gen))
    }

    /// Partition `i` for a task reading it with another: the node to depend on, and
    /// whether the task makes the table from that node's value
    /// ([`FrameLayer::table_from_input`]) rather than receiving it made.
    pub(crate) fn partition_read(&self, i: usize, name: &Arc<str>) -> (NodeRef, bool) {
        if self.layer.deferred() {
            if let Some(Some(n)) = self.inputs.get(i) {
                return (n.clone(), true);
            }
        }
        let node = PartTask {
            layer: self.layer.clone(),
            below: false,
            i,
            wire: Some(crate::wire_of::<Table>()),
            consume: Arc::new(|_, t| Ok(t)) as Arc<layer::Consume<Table>>,
        }
        .node(
            Key::index(name.clone(), &[i as u64]),
            crate::share::Walk::plain(),
            true,
        )
        .0;
        (node, false)
    }

    /// The partitions as nodes giving their tables.
    pub(crate) fn held_partition_nodes(&self) -> Vec<NodeRef> {
        self.partition_nodes_with(&self.name, |_, t| Ok(t))
    }

    /// This frame with its partitions made by `nodes`, which hold their tables (see
    /// [`crate::persist`]).
    pub(crate) fn with_held(&self, nodes: Vec<NodeRef>) -> DataFrame {
        let mut held = DataFrame::from_nodes(self.name.clone(), self.schema.clone(), nodes);
        held.index = self.index.clone();
        held
    }

    /// Keeps the computed partitions in memory for the computations that follow (Dask:
    /// `DataFrame.persist`); see [`crate::persist`].
    ///
    /// ```
    /// use dagr::bag as db;
    /// let df = db::from_sequence(vec![(1.0_f64,), (2.0,), (6.0,)], 2)?.to_dataframe(&["x"])?;
    /// let df = df.persist()?;
    /// assert_eq!(df.describe().compute()?.get("mean", "x")?, 3.0);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn persist(&self) -> Result<DataFrame, Error> {
        crate::persist::persist(self)
    }

    /// [`DataFrame::persist`] on the given scheduler.
    pub fn persist_with(&self, scheduler: crate::Scheduler) -> Result<DataFrame, Error> {
        crate::persist::persist_with(self, scheduler)
    }

    pub(crate) fn from_nodes(
        name: Arc<str>,
        schema: Arc<Schema>,
        nodes: Vec<NodeRef>,
    ) -> DataFrame {
        let inputs = nodes.into_iter().map(Some).collect();
        DataFrame::from_source(name, schema, inputs, Arc::new(|_, v| take_table(v)), true)
    }

    /// A dataframe with this one's partitions whose computation fails with `error` (found
    /// while building: `compute` returns it as it is).
    fn failing(&self, error: Error) -> DataFrame {
        let error = Arc::new(error);
        DataFrame::from_source(
            layer_name("invalid"),
            self.schema.clone(),
            self.inputs.clone(),
            Arc::new(move |_, _| {
                Err(TaskError::new(crate::error::Deferred(
                    crate::error::duplicate(&error),
                )))
            }),
            true,
        )
    }

    /// A new dataframe applying `step` to each partition's table (no task of its own).
    fn pipe(
        &self,
        op: &str,
        schema: Arc<Schema>,
        step: impl Fn(Table) -> Result<Table, TaskError> + Send + Sync + 'static,
    ) -> DataFrame {
        DataFrame::over(
            schema,
            FrameLayer::step(layer_name(op), &self.layer, Arc::new(step)),
        )
    }

    /// `derived` with this frame's index: `derived` has the same partitions, rows in the
    /// same order or a subset of them, and this frame's index column unchanged.
    fn keeping_index(&self, mut derived: DataFrame) -> DataFrame {
        derived.index = self.index.clone();
        derived
    }

    /// Whether a step changing the columns `changed` leaves the index column as it is.
    fn index_untouched(&self, changed: &[usize]) -> bool {
        let Some(ix) = &self.index else { return true };
        changed
            .iter()
            .all(|&c| self.schema.names.get(c) != Some(&ix.column))
    }

    /// Number of partitions.
    pub fn npartitions(&self) -> usize {
        self.inputs.len()
    }

    /// Column names.
    pub fn columns(&self) -> &[String] {
        &self.schema.names
    }

    /// Column types, known without computing (Dask: `df.dtypes`).
    pub fn dtypes(&self) -> Vec<(String, DType)> {
        self.schema
            .names
            .iter()
            .cloned()
            .zip(self.schema.dtypes.iter().copied())
            .collect()
    }

    /// One node per partition computing `f(partition index, table)`.
    pub(crate) fn partition_nodes_with<S: crate::Wired>(
        &self,
        name: &Arc<str>,
        f: impl Fn(usize, Table) -> Result<S, TaskError> + Send + Sync + 'static,
    ) -> Vec<NodeRef> {
        self.partition_tasks(name, Some(crate::wire_of::<S>()), f)
    }

    /// [`DataFrame::partition_nodes_with`] for results crossing between processes through
    /// `wire` (none: they stay where they are made).
    pub(crate) fn partition_tasks<S: crate::delayed::Data>(
        &self,
        name: &Arc<str>,
        wire: Option<dagr_runtime::Wire>,
        f: impl Fn(usize, Table) -> Result<S, TaskError> + Send + Sync + 'static,
    ) -> Vec<NodeRef> {
        let consume: Arc<layer::Consume<S>> = Arc::new(f);
        (0..self.npartitions())
            .map(|i| {
                let task = PartTask {
                    layer: self.layer.clone(),
                    below: false,
                    i,
                    wire,
                    consume: consume.clone(),
                };
                let key = Key::index(name.clone(), &[i as u64]);
                task.node(key, crate::share::Walk::plain(), true).0
            })
            .collect()
    }

    /// Lazy values of `f` over each partition.
    pub(crate) fn map_partitions_to<S: crate::Wired>(
        &self,
        f: impl Fn(usize, Table) -> Result<S, TaskError> + Send + Sync + 'static,
    ) -> Vec<Delayed<S>> {
        let name = layer_name("map-partitions");
        self.partition_nodes_with(&name, f)
            .into_iter()
            .map(Delayed::from_node)
            .collect()
    }

    /// The partitions as lazy tables (Dask: `to_delayed`).
    pub fn to_delayed(&self) -> Vec<Delayed<Table>> {
        self.partition_nodes_with(&self.name, |_, t| Ok(t))
            .into_iter()
            .map(Delayed::from_node)
            .collect()
    }

    /// The whole table as one lazy value, partitions in order.
    pub fn to_table(&self) -> Delayed<Table> {
        let parts = self.partition_nodes_with(&self.name, |_, t| Ok(t));
        let schema = self.schema.clone();
        let body = move |inp: &mut Inputs<'_>| -> TaskResult {
            let parts = (0..inp.len())
                .map(|k| inp.take::<Table>(k))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::new(Table::concat(parts).unwrap_or_else(|| {
                Table::empty(schema.names.clone(), &schema.dtypes)
            })))
        };
        Delayed::from_node(crate::node::new_wired_node(
            Key::token(layer_name("concat"), fresh_token()),
            Deps::from(parts),
            NodeKind::Call,
            false,
            Some(crate::wire_of::<Table>()),
            body,
        ))
    }

    /// The graph computing this dataframe, as Graphviz DOT text.
    pub fn to_dot(&self) -> String {
        crate::to_dot(self)
    }

    /// Writes a picture of the graph computing this dataframe: `.dot`, `.svg` or `.png` by
    /// the file's extension (Dask: `df.visualize("df.svg")`); see [`crate::visualize`].
    ///
    /// ```no_run
    /// let df = dagr::bag::from_sequence(vec![(1_i64, 0.5)], 1)?.to_dataframe(&["n", "x"])?;
    /// df.visualize("df.svg")?;
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn visualize(&self, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
        crate::visualize(self, path)
    }

    /// Computes the whole table on the default scheduler.
    pub fn compute(&self) -> Result<Table, Error> {
        self.to_table().compute()
    }

    /// Computes the whole table on the given scheduler.
    pub fn compute_with(&self, scheduler: Scheduler) -> Result<Table, Error> {
        self.to_table().compute_with(scheduler)
    }

    /// Number of rows (Dask: `len(df)`, which computes).
    pub fn len(&self) -> Result<usize, Error> {
        let name = layer_name("len");
        let parts: Vec<Delayed<usize>> = self
            .partition_nodes_with(&name, |_, t| Ok(t.len()))
            .into_iter()
            .map(Delayed::from_node)
            .collect();
        Ok(crate::compute(&parts)?.into_iter().sum())
    }

    /// Whether the dataframe has no rows (computes).
    pub fn is_empty(&self) -> Result<bool, Error> {
        Ok(self.len()? == 0)
    }

    /// The first `n` rows, computing partitions in order only until it has them (Dask:
    /// `df.head(n)`).
    pub fn head(&self, n: usize) -> Result<Table, Error> {
        let mut out = Table::empty(self.schema.names.clone(), &self.schema.dtypes);
        let name = layer_name("head");
        for part in self.partition_nodes_with(&name, move |_, t| Ok(t.head(n))) {
            let t = Delayed::<Table>::from_node(part).compute()?;
            let need = n - out.len();
            out.append(t.head(need));
            if out.len() >= n {
                break;
            }
        }
        Ok(out)
    }

    /// The last `n` rows, computing partitions from the last one back only until it has them
    /// (Dask: `df.tail(n)`).
    ///
    /// ```
    /// let df = dagr::bag::from_sequence((0..10_i64).map(|i| (i,)), 4)?.to_dataframe(&["i"])?;
    /// assert_eq!(df.tail(3)?.column("i")?, &dagr::dataframe::Column::I64(vec![7, 8, 9]));
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn tail(&self, n: usize) -> Result<Table, Error> {
        let name = layer_name("tail");
        let mut parts = Vec::new();
        let mut have = 0;
        let nodes = self.partition_nodes_with(&name, move |_, t| {
            let k = t.len().saturating_sub(n);
            Ok(t.take(&(k..t.len()).collect::<Vec<_>>()))
        });
        for part in nodes.into_iter().rev() {
            if have >= n {
                break;
            }
            let t = Delayed::<Table>::from_node(part).compute()?;
            have += t.len();
            parts.push(t);
        }
        parts.reverse();
        let all = Table::concat(parts)
            .unwrap_or_else(|| Table::empty(self.schema.names.clone(), &self.schema.dtypes));
        let k = all.len().saturating_sub(n);
        Ok(all.take(&(k..all.len()).collect::<Vec<_>>()))
    }

    /// Without the rows that have a null (NaN or a missing string) in any column (pandas /
    /// Dask: `dropna()`). The frame's index and divisions stay (its rows are a subset).
    ///
    /// ```
    /// use dagr::bag as db;
    /// let df = db::from_sequence(vec![(1.0, "a"), (f64::NAN, "b"), (3.0, "c")], 2)?.to_dataframe(&["x", "k"])?;
    /// assert_eq!(df.dropna().len()?, 2);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn dropna(&self) -> DataFrame {
        let all: Vec<usize> = (0..self.schema.names.len()).collect();
        self.dropna_at(all)
    }

    /// Without the rows that have a null in any of the given columns (pandas:
    /// `dropna(subset=[…])`). An unknown column fails at compute.
    pub fn dropna_subset(&self, columns: impl ColumnNames) -> DataFrame {
        match columns
            .column_names()
            .iter()
            .map(|c| table::position(&self.schema.names, c))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(idx) => self.dropna_at(idx),
            Err(e) => self.failing(e),
        }
    }

    fn dropna_at(&self, columns: Vec<usize>) -> DataFrame {
        let kept = self.pipe("dropna", self.schema.clone(), move |t| {
            let cols = t.columns();
            let keep: Vec<usize> = (0..t.len())
                .filter(|&r| columns.iter().all(|&c| !cols[c].is_null(r)))
                .collect();
            Ok(if keep.len() == t.len() {
                t
            } else {
                t.take(&keep)
            })
        });
        // a subset of the rows, in order
        self.keeping_index(kept)
    }

    /// Nulls replaced by `value` in every column (pandas / Dask: `fillna(value)`): a number
    /// fills float columns, a string fills string columns; integer and boolean columns have
    /// no nulls. The column types stay as they are. Where pandas would make a column
    /// `object` to hold a value of another type: a string column is filled with the value's
    /// text as pandas writes it (`0`, `2.5`, `True`), and a float column with a null and a
    /// string or boolean value fails the computation naming the column (pandas says it will
    /// raise there in a future version); a column without nulls is left as it is. The
    /// frame's index and divisions stay unless the index column is a float or string
    /// column (its nulls would be filled: see [`DataFrame`]).
    ///
    /// ```
    /// use dagr::{bag as db, dataframe::Column};
    /// let df = db::from_sequence(vec![(1.0, Some("a")), (f64::NAN, None)], 1)?.to_dataframe(&["x", "k"])?;
    /// let t = df.fillna(0).compute()?;
    /// assert_eq!(t.column("x")?, &Column::F64(vec![1.0, 0.0]));
    /// assert_eq!(t.column("k")?.text(1).as_deref(), Some("0")); // pandas' object column: 0
    /// let t = df.fillna_each(&[("x", 2.5.into()), ("k", "?".into())]).compute()?;
    /// assert_eq!(t.column("x")?.f64(1), Some(2.5));
    /// assert_eq!(t.column("k")?.text(1).as_deref(), Some("?"));
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn fillna(&self, value: impl Into<Scalar>) -> DataFrame {
        let value = value.into();
        let fills: Vec<(usize, Scalar)> = (0..self.schema.names.len())
            .filter(|&i| matches!(self.schema.dtypes[i], DType::F64 | DType::Str))
            .map(|i| (i, value.clone()))
            .collect();
        self.fill_at(fills)
    }

    /// Nulls of each named column replaced by its value (pandas: `fillna({"x": 0, …})`).
    /// An unknown column fails at compute, and so does a null its value cannot fill (see
    /// [`DataFrame::fillna`]).
    pub fn fillna_each(&self, values: &[(&str, Scalar)]) -> DataFrame {
        let mut fills = Vec::new();
        for (c, v) in values {
            let i = match table::position(&self.schema.names, c) {
                Ok(i) => i,
                Err(e) => return self.failing(e),
            };
            fills.push((i, v.clone()));
        }
        self.fill_at(fills)
    }

    fn fill_at(&self, fills: Vec<(usize, Scalar)>) -> DataFrame {
        let names = self.schema.names.clone();
        // integer and boolean columns hold no null: filling them changes nothing
        let filled: Vec<usize> = fills
            .iter()
            .map(|(i, _)| *i)
            .filter(|&i| matches!(self.schema.dtypes[i], DType::F64 | DType::Str))
            .collect();
        let keeps = self.index_untouched(&filled);
        let out = self.pipe("fillna", self.schema.clone(), move |t| {
            let mut cols = t.into_columns();
            for (i, value) in &fills {
                let c = &mut cols[*i];
                match (&mut *c, value) {
                    (Column::F64(v), Scalar::F64(x)) => fill(v, *x),
                    (Column::F64(v), Scalar::I64(x)) => fill(v, *x as f64),
                    (Column::Str(v), value) => {
                        let x = match value {
                            Scalar::Str(x) => x.clone(),
                            // pandas' object column holds the value; here its text
                            Scalar::Bool(b) => (if *b { "True" } else { "False" }).to_owned(),
                            Scalar::I64(x) => x.to_string(),
                            Scalar::F64(x) => format!("{x:?}"),
                        };
                        v.iter_mut()
                            .filter(|s| s.is_none())
                            .for_each(|s| *s = Some(x.clone()))
                    }
                    (c, value) if (0..c.len()).any(|r| c.is_null(r)) => {
                        return Err(TaskError::new(Error::InvalidArgument {
                            what: "fillna",
                            message: format!(
                                "column {:?} ({}) has a missing value, and {value} ({}) cannot \
                                 fill it without changing the column's type (pandas makes it \
                                 `object` and will raise): cast the column first, or fill it \
                                 with a {} through `fillna_each`",
                                names[*i],
                                c.dtype(),
                                value.dtype(),
                                c.dtype()
                            ),
                        }));
                    }
                    _ => {}
                }
            }
            Ok(Table::from_parts(names.clone(), cols))
        });
        if keeps {
            self.keeping_index(out)
        } else {
            out
        }
    }

    /// Only the named columns, in that order (Dask: `df[["a", "b"]]`). The frame's index
    /// and divisions stay when the index column is among them.
    pub fn select(&self, columns: &[&str]) -> Result<DataFrame, Error> {
        let idx = columns
            .iter()
            .map(|c| table::position(&self.schema.names, c))
            .collect::<Result<Vec<_>, _>>()?;
        let schema = Arc::new(Schema {
            names: columns.iter().map(|c| c.to_string()).collect(),
            dtypes: idx.iter().map(|&i| self.schema.dtypes[i]).collect(),
        });
        let names = schema.names.clone();
        let dup = (1..idx.len()).any(|k| idx[..k].contains(&idx[k]));
        let keeps = self
            .index
            .as_ref()
            .is_some_and(|ix| columns.contains(&ix.column.as_str()));
        let out = self.pipe("select", schema, move |t| {
            let cols = t.into_columns();
            let picked = if dup {
                idx.iter().map(|&i| cols[i].clone()).collect()
            } else {
                let mut cols: Vec<Option<Column>> = cols.into_iter().map(Some).collect();
                idx.iter().filter_map(|&i| cols[i].take()).collect()
            };
            Ok(Table::from_parts(names.clone(), picked))
        });
        Ok(if keeps { self.keeping_index(out) } else { out })
    }

    /// Keeps the rows where `predicate` (a boolean expression) holds (Dask: `df[mask]`).
    /// A predicate over unknown columns or of the wrong type fails at compute.
    /// The frame's index and divisions stay (its rows are a subset).
    pub fn filter(&self, predicate: Expr) -> DataFrame {
        if let Err(e) = predicate.check(&self.schema, Some("filter")) {
            return self.failing(e);
        }
        let kept = self.pipe("filter", self.schema.clone(), move |t| {
            let mask = predicate.eval_mask(&t).map_err(TaskError::new)?;
            let idx: Vec<usize> = mask
                .iter()
                .enumerate()
                .filter(|(_, &m)| m)
                .map(|(i, _)| i)
                .collect();
            Ok(t.take(&idx))
        });
        self.keeping_index(kept)
    }

    /// Adds (or replaces) column `name` computed from `expr` (Dask: `df.assign(name=…)`).
    /// The frame's index and divisions stay unless `name` is the index column.
    pub fn with_column(&self, name: &str, expr: Expr) -> DataFrame {
        let dtype = match expr.check(&self.schema, None) {
            Ok(d) => d,
            Err(e) => return self.failing(e),
        };
        let mut names: Vec<String> = self.schema.names.to_vec();
        let mut dtypes = self.schema.dtypes.clone();
        let slot = match names.iter().position(|n| n == name) {
            Some(i) => {
                dtypes[i] = dtype;
                i
            }
            None => {
                names.push(name.to_owned());
                dtypes.push(dtype);
                names.len() - 1
            }
        };
        let schema = Arc::new(Schema {
            names: names.into(),
            dtypes,
        });
        let names = schema.names.clone();
        let keeps = self.index_untouched(&[slot]);
        let out = self.pipe("assign", schema, move |t| {
            let c = expr.eval(&t).map_err(TaskError::new)?;
            let mut cols = t.into_columns();
            if slot < cols.len() {
                cols[slot] = c;
            } else {
                cols.push(c);
            }
            Ok(Table::from_parts(names.clone(), cols))
        });
        if keeps {
            self.keeping_index(out)
        } else {
            out
        }
    }

    /// Sorted by one or several columns (stable: rows with equal keys keep their order;
    /// nulls last), into one partition (Dask / pandas: `sort_values(by, ascending=…)`).
    /// An unknown column fails at compute.
    ///
    /// ```
    /// use dagr::bag as db;
    /// let df = db::from_sequence(vec![("b", 2_i64), ("a", 2), ("c", 1)], 2)?.to_dataframe(&["k", "n"])?;
    /// let t = df.sort_values(["n", "k"], true).compute()?;
    /// assert_eq!(t.column("k")?.text(0).as_deref(), Some("c"));
    /// assert_eq!(t.column("k")?.text(1).as_deref(), Some("a"));
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn sort_values(&self, by: impl ColumnNames, ascending: bool) -> DataFrame {
        let by = by.column_names();
        let ascending = vec![ascending; by.len()];
        self.sort_values_owned(&by, &ascending)
    }

    /// Sorted by several columns, each in its own direction (pandas:
    /// `sort_values(["a", "b"], ascending=[True, False])`).
    ///
    /// ```
    /// use dagr::bag as db;
    /// let df = db::from_sequence(vec![("b", 2_i64), ("a", 2), ("c", 1)], 2)?.to_dataframe(&["k", "n"])?;
    /// let t = df.sort_values_each(&[("n", false), ("k", true)]).compute()?;
    /// assert_eq!(t.column("k")?.text(0).as_deref(), Some("a"));
    /// assert_eq!(t.column("k")?.text(2).as_deref(), Some("c"));
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn sort_values_each(&self, by: &[(&str, bool)]) -> DataFrame {
        let names: Vec<String> = by.iter().map(|(c, _)| c.to_string()).collect();
        let ascending: Vec<bool> = by.iter().map(|(_, a)| *a).collect();
        self.sort_values_owned(&names, &ascending)
    }

    fn sort_values_owned(&self, by: &[String], ascending: &[bool]) -> DataFrame {
        if by.is_empty() {
            return self.failing(Error::InvalidArgument {
                what: "sort_values",
                message: "no column to sort by".into(),
            });
        }
        let keys = match by
            .iter()
            .map(|c| table::position(&self.schema.names, c))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(k) => k,
            Err(e) => return self.failing(e),
        };
        let order: Vec<(usize, bool)> = keys.into_iter().zip(ascending.iter().copied()).collect();
        let all = self.to_table();
        let body = move |inp: &mut Inputs<'_>| -> TaskResult {
            let t = inp.take::<Table>(0)?;
            let mut idx: Vec<usize> = (0..t.len()).collect();
            idx.sort_by(|&a, &b| compare_rows(&t, &order, a, b));
            Ok(Value::new(t.take(&idx)))
        };
        let node = crate::node::new_wired_node(
            Key::index(layer_name("sort-values"), &[0]),
            Deps::one(all.node),
            NodeKind::Call,
            false,
            Some(crate::wire_of::<Table>()),
            body,
        );
        DataFrame::from_nodes(layer_name("sorted"), self.schema.clone(), vec![node])
    }

    /// The `n` rows with the largest values of `column`, largest first (pandas / Dask:
    /// `nlargest(n, column)`): rows where it is null are left out, and of equal values the
    /// earlier row comes first (`keep="first"`). Each partition keeps its own `n` best rows;
    /// those are merged in a tree.
    ///
    /// ```
    /// use dagr::bag as db;
    /// let df = db::from_sequence(vec![("a", 1.0), ("b", f64::NAN), ("c", 3.0), ("d", 3.0), ("e", 2.0)], 3)?
    ///     .to_dataframe(&["k", "x"])?;
    /// let t = df.nlargest(3, "x").compute()?;
    /// let keys: Vec<_> = (0..t.len()).map(|i| t.column("k").unwrap().text(i).unwrap()).collect();
    /// assert_eq!(keys, ["c", "d", "e"]);
    /// assert_eq!(df.nsmallest(1, "x").compute()?.column("k")?.text(0).as_deref(), Some("a"));
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn nlargest(&self, n: usize, column: &str) -> DataFrame {
        self.nbest(n, column, false)
    }

    /// The `n` rows with the smallest values of `column`, smallest first (pandas / Dask:
    /// `nsmallest(n, column)`); see [`DataFrame::nlargest`].
    pub fn nsmallest(&self, n: usize, column: &str) -> DataFrame {
        self.nbest(n, column, true)
    }

    fn nbest(&self, n: usize, column: &str, ascending: bool) -> DataFrame {
        let key = match table::position(&self.schema.names, column) {
            Ok(k) => k,
            Err(e) => return self.failing(e),
        };
        let dtype = self.schema.dtypes[key];
        if !dtype.is_numeric() {
            let what = if ascending { "nsmallest" } else { "nlargest" };
            return self.failing(Error::ColumnType {
                column: column.to_owned(),
                dtype,
                what,
                expected: "a number column",
            });
        }
        let order = [(key, ascending)];
        let best = move |t: Table| -> Table {
            let c = &t.columns()[key];
            let mut idx: Vec<usize> = (0..t.len()).filter(|&i| !c.is_null(i)).collect();
            idx.sort_by(|&a, &b| compare_rows(&t, &order, a, b));
            idx.truncate(n);
            t.take(&idx)
        };
        let best2 = best;
        let parts = self.partition_nodes_with(&layer_name("nbest-part"), move |_, t| Ok(best(t)));
        let schema = self.schema.clone();
        let merge = move |parts: Vec<Table>| -> Result<Table, TaskError> {
            let all = Table::concat(parts)
                .unwrap_or_else(|| Table::empty(schema.names.clone(), &schema.dtypes));
            Ok(best2(all))
        };
        let node = crate::tree::combine_tree(
            parts,
            &layer_name(if ascending { "nsmallest" } else { "nlargest" }),
            &[],
            false,
            Some(crate::wire_of::<Table>()),
            Arc::new(merge),
        );
        DataFrame::from_nodes(layer_name("best"), self.schema.clone(), vec![node])
    }

    /// Groups rows by the values of one or several columns (Dask: `df.groupby(by)`,
    /// `df.groupby(["a", "b"])`).
    pub fn groupby(&self, by: impl ColumnNames) -> GroupBy {
        GroupBy::new(self.clone(), by.column_names())
    }

    /// Summary statistics of the numeric columns (Dask / pandas: `describe`); see
    /// [`Description`] for how they are computed.
    pub fn describe(&self) -> Delayed<Description> {
        describe::describe(self, describe::DEFAULT_BUDGET)
    }

    /// [`DataFrame::describe`] holding at most `budget` values (8 bytes each) in memory
    /// (per process) between its two passes; the partitions whose values do not fit are
    /// read again for the second pass.
    ///
    /// ```
    /// use dagr::bag as db;
    /// let df = db::from_sequence((0..1000).map(|i| (i as f64,)), 4)?.to_dataframe(&["x"])?;
    /// let small = df.describe_with(100).compute()?;    // reads the data twice
    /// let big = df.describe().compute()?;              // reads it once
    /// assert_eq!(small.get("25%", "x")?, big.get("25%", "x")?);
    /// assert_eq!(small.get("25%", "x")?, 249.75);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn describe_with(&self, budget: usize) -> Delayed<Description> {
        describe::describe(self, budget)
    }

    /// [`DataFrame::describe`] with the percentiles `percentiles` (fractions in `[0, 1]`)
    /// in place of the quartiles (pandas: `describe(percentiles=[...])`): as pandas, they
    /// are sorted, the median is added when missing, and the rows are labelled by percentage
    /// (`"10%"`, `"12.5%"`). Exact, in the same passes as the quartiles. A fraction outside
    /// `[0, 1]` or given twice is an error from `compute`.
    ///
    /// ```
    /// use dagr::bag as db;
    /// let df = db::from_sequence((0..=100).map(|i| (i as f64,)), 4)?.to_dataframe(&["x"])?;
    /// let d = df.describe_percentiles(&[0.9, 0.125]).compute()?;
    /// assert_eq!(d.rows(), ["count", "mean", "std", "min", "12.5%", "50%", "90%", "max"]);
    /// assert_eq!(d.get("12.5%", "x")?, 12.5);
    /// assert_eq!(d.get("90%", "x")?, 90.0);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn describe_percentiles(&self, percentiles: &[f64]) -> Delayed<Description> {
        let mut qs = percentiles.to_vec();
        let bad = |message: String| {
            let e = Error::InvalidArgument {
                what: "describe_percentiles",
                message,
            };
            describe::describe_of(&self.failing(e), &[], describe::DEFAULT_BUDGET)
        };
        if let Some(q) = qs.iter().find(|q| !(0.0..=1.0).contains(*q)) {
            return bad(format!("percentile {q} is not in [0, 1]"));
        }
        qs.sort_by(f64::total_cmp);
        if let Some(w) = qs.windows(2).find(|w| w[0] == w[1]) {
            return bad(format!("percentile {} is given twice", w[0]));
        }
        if !qs.contains(&0.5) {
            qs.push(0.5);
            qs.sort_by(f64::total_cmp);
        }
        describe::describe_of(self, &qs, describe::DEFAULT_BUDGET)
    }
}

/// Dataframes compute to one [`Table`] (partitions in order) in [`crate::compute`], sharing
/// work with the other outputs (Dask: `dask.compute(df, df.x.sum())`).
///
/// ```
/// use dagr::dataframe::col;
/// let df = dagr::bag::from_sequence(vec![(1_i64,), (5,), (7,)], 2)?.to_dataframe(&["n"])?;
/// let (all, big) = dagr::compute((&df, &df.filter(col("n").gt(4))))?;
/// assert_eq!((all.len(), big.len()), (3, 2));
/// # Ok::<(), dagr::Error>(())
/// ```
impl crate::Computable for DataFrame {
    type Output = Table;
    fn collect_nodes<'a>(&'a self, out: &mut crate::compute::Outputs<'a>) {
        out.0.push(self.to_table().node);
    }
    fn extract(&self, values: &mut std::vec::IntoIter<Value>) -> Result<Table, Error> {
        crate::compute::take_output(values, || Key::index(self.name.clone(), &[]))
    }
}

fn fill(v: &mut [f64], x: f64) {
    v.iter_mut().filter(|y| y.is_nan()).for_each(|y| *y = x);
}

/// Orders rows `a` and `b` of a table by the columns of `order` (position, ascending),
/// nulls last in either direction (pandas' `na_position="last"`).
fn compare_rows(t: &Table, order: &[(usize, bool)], a: usize, b: usize) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    for &(k, ascending) in order {
        let c = &t.columns()[k];
        let o = match (c.is_null(a), c.is_null(b)) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ if ascending => compare(c, a, b),
            _ => compare(c, b, a),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// Orders non-null rows `a` and `b` of a column.
fn compare(c: &Column, a: usize, b: usize) -> std::cmp::Ordering {
    match c {
        Column::Bool(v) => v[a].cmp(&v[b]),
        Column::I64(v) => v[a].cmp(&v[b]),
        // -0.0 and 0.0 are equal, as in pandas (NaN is null and never compared)
        Column::F64(v) => v[a].partial_cmp(&v[b]).unwrap_or(std::cmp::Ordering::Equal),
        Column::Str(v) => v[a].cmp(&v[b]),
    }
}
