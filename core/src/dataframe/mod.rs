//! Dataframes: tables split into row partitions (Dask's `dask.dataframe`).
//!
//! A [`DataFrame`] knows its columns and their types before anything runs (Dask's `meta`);
//! each partition is a [`Table`] produced by one task. Row-wise steps (`select`, `filter`,
//! `with_column`) join the partition's pipeline instead of adding tasks; `describe`,
//! `groupby` and `len` aggregate per partition and combine in a fixed tree, so results do
//! not depend on partitioning or scheduler.
//!
//! | dagr | Dask |
//! |---|---|
//! | `dd::read_csv("x*.csv", CsvOptions::default().header(false))?` | `dd.read_csv("x*.csv", header=None)` |
//! | `df.describe().compute()?` | `df.describe().compute()` |
//! | `df.filter(col("x").gt(0.5))` | `df[df.x > 0.5]` |
//! | `df.with_column("z", col("x") * 2.0)` | `df.assign(z=df.x * 2)` |
//! | `df.sort_values("word", false).head(5)?` | `df.sort_values("word", ascending=False).head(5)` |
//! | `df.groupby("k").sum()` | `df.groupby("k").sum()` |

mod column_stats;
mod csv;
mod csv_scan;
mod describe;
mod expr;
mod frame_of;
mod groupby;
pub(crate) mod table;

pub use self::csv::{read_csv, CsvOptions};
pub use describe::{Description, STATS};

/// The row labels of [`DataFrame::describe`], in order.
pub fn describe_rows() -> [&'static str; 8] {
    STATS
}
pub use expr::{col, lit, Expr};
pub use frame_of::{IntoCell, IntoRow};
pub use groupby::{Agg, GroupBy};
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

type TableGen = Arc<dyn Fn(usize, Option<Value>) -> Result<Table, TaskError> + Send + Sync>;

/// A lazy table in row partitions (Dask's `DataFrame`).
///
/// ```
/// use dagr_core::{bag as db, dataframe::col};
/// let b = db::from_sequence(vec![("a".to_string(), 3_i64), ("b".to_string(), 1), ("c".to_string(), 2)], 2)?;
/// let df = b.to_dataframe(&["word", "n"])?;
/// assert_eq!(df.columns(), ["word", "n"]);
/// let top = df.sort_values("n", false).head(2)?;
/// assert_eq!(top.column("word")?.text(0).as_deref(), Some("a"));
/// assert_eq!(df.filter(col("n").gt(1.5)).len()?, 2);
/// # Ok::<(), dagr_core::Error>(())
/// ```
#[derive(Clone)]
pub struct DataFrame {
    name: Arc<str>,
    schema: Arc<Schema>,
    inputs: Arc<[Option<NodeRef>]>,
    gen: TableGen,
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
    let arc = v
        .downcast::<Table>()
        .map_err(|_| TaskError::new("partition is not a Table"))?;
    Ok(Arc::try_unwrap(arc).unwrap_or_else(|a| (*a).clone()))
}

impl DataFrame {
    /// A dataframe over nodes that each produce one partition's table.
    /// The partitions as nodes giving their tables.
    pub(crate) fn held_partition_nodes(&self) -> Vec<NodeRef> {
        self.partition_nodes_with(&self.name, |_, t| Ok(t))
    }

    /// This frame with its partitions made by `nodes`, which hold their tables (see
    /// [`crate::persist`]).
    pub(crate) fn with_held(&self, nodes: Vec<NodeRef>) -> DataFrame {
        DataFrame::from_nodes(self.name.clone(), self.schema.clone(), nodes)
    }

    /// Keeps the computed partitions in memory for the computations that follow (Dask:
    /// `DataFrame.persist`); see [`crate::persist`].
    ///
    /// ```
    /// use dagr_core::bag as db;
    /// let df = db::from_sequence(vec![(1.0_f64,), (2.0,), (6.0,)], 2)?.to_dataframe(&["x"])?;
    /// let df = df.persist()?;
    /// assert_eq!(df.describe().compute()?.get("mean", "x")?, 3.0);
    /// # Ok::<(), dagr_core::Error>(())
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
        DataFrame {
            name,
            schema,
            inputs: nodes.into_iter().map(Some).collect(),
            gen: Arc::new(|_, v| take_table(v)),
        }
    }

    /// A dataframe with this one's partitions whose computation fails with `error`.
    fn failing(&self, error: Error) -> DataFrame {
        let message = Arc::new(error.to_string());
        let err = Arc::new(std::sync::Mutex::new(Some(error)));
        DataFrame {
            name: layer_name("error"),
            schema: self.schema.clone(),
            inputs: self.inputs.clone(),
            gen: Arc::new(move |_, _| {
                let taken = err.lock().ok().and_then(|mut e| e.take());
                Err(match taken {
                    Some(e) => TaskError::new(e),
                    None => TaskError::new(message.to_string()),
                })
            }),
        }
    }

    /// A new dataframe applying `step` to each partition's table (no task of its own).
    fn pipe(
        &self,
        op: &str,
        schema: Arc<Schema>,
        step: impl Fn(Table) -> Result<Table, TaskError> + Send + Sync + 'static,
    ) -> DataFrame {
        let gen = self.gen.clone();
        DataFrame {
            name: layer_name(op),
            schema,
            inputs: self.inputs.clone(),
            gen: Arc::new(move |i, v| step(gen(i, v)?)),
        }
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
        let gen = self.gen.clone();
        let wire = Some(crate::wire_of::<S>());
        crate::tree::partition_nodes(&self.inputs, name, wire, move |i, v| f(i, gen(i, v)?))
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
            Ok(Arc::new(Table::concat(parts).unwrap_or_else(|| {
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

    /// Only the named columns, in that order (Dask: `df[["a", "b"]]`).
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
        Ok(self.pipe("select", schema, move |t| {
            let cols = t.into_columns();
            let picked = if dup {
                idx.iter().map(|&i| cols[i].clone()).collect()
            } else {
                let mut cols: Vec<Option<Column>> = cols.into_iter().map(Some).collect();
                idx.iter().filter_map(|&i| cols[i].take()).collect()
            };
            Ok(Table::from_parts(names.clone(), picked))
        }))
    }

    /// Keeps the rows where `predicate` (a boolean expression) holds (Dask: `df[mask]`).
    /// A predicate over unknown columns or of the wrong type fails at compute.
    pub fn filter(&self, predicate: Expr) -> DataFrame {
        if let Err(e) = predicate.check(&self.schema, true) {
            return self.failing(e);
        }
        self.pipe("filter", self.schema.clone(), move |t| {
            let mask = predicate.eval_mask(&t).map_err(TaskError::new)?;
            let idx: Vec<usize> = mask
                .iter()
                .enumerate()
                .filter(|(_, &m)| m)
                .map(|(i, _)| i)
                .collect();
            Ok(t.take(&idx))
        })
    }

    /// Adds (or replaces) column `name` computed from `expr` (Dask: `df.assign(name=…)`).
    pub fn with_column(&self, name: &str, expr: Expr) -> DataFrame {
        let dtype = match expr.check(&self.schema, false) {
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
        self.pipe("assign", schema, move |t| {
            let c = expr.eval(&t).map_err(TaskError::new)?;
            let mut cols = t.into_columns();
            if slot < cols.len() {
                cols[slot] = c;
            } else {
                cols.push(c);
            }
            Ok(Table::from_parts(names.clone(), cols))
        })
    }

    /// Sorted by column `by` (stable: equal keys keep their order), into one partition
    /// (Dask: `sort_values`). An unknown column fails at compute.
    pub fn sort_values(&self, by: &str, ascending: bool) -> DataFrame {
        let key = match table::position(&self.schema.names, by) {
            Ok(i) => i,
            Err(e) => return self.failing(e),
        };
        let all = self.to_table();
        let body = move |inp: &mut Inputs<'_>| -> TaskResult {
            let t = inp.take::<Table>(0)?;
            let mut idx: Vec<usize> = (0..t.len()).collect();
            let c = &t.columns()[key];
            idx.sort_by(|&a, &b| match (c.is_null(a), c.is_null(b)) {
                // nulls last either way, as pandas' na_position="last"
                (true, true) => std::cmp::Ordering::Equal,
                (true, false) => std::cmp::Ordering::Greater,
                (false, true) => std::cmp::Ordering::Less,
                _ if ascending => compare(c, a, b),
                _ => compare(c, b, a),
            });
            Ok(Arc::new(t.take(&idx)))
        };
        let node = crate::node::new_wired_node(
            Key::index(layer_name("sort-values"), &[0]),
            Deps::One([all.node]),
            NodeKind::Call,
            false,
            Some(crate::wire_of::<Table>()),
            body,
        );
        DataFrame::from_nodes(layer_name("sorted"), self.schema.clone(), vec![node])
    }

    /// Groups rows by the values of column `by` (Dask: `df.groupby(by)`).
    pub fn groupby(&self, by: &str) -> GroupBy {
        GroupBy::new(self.clone(), by)
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
    /// use dagr_core::bag as db;
    /// let df = db::from_sequence((0..1000).map(|i| (i as f64,)), 4)?.to_dataframe(&["x"])?;
    /// let small = df.describe_with(100).compute()?;    // reads the data twice
    /// let big = df.describe().compute()?;              // reads it once
    /// assert_eq!(small.get("25%", "x")?, big.get("25%", "x")?);
    /// assert_eq!(small.get("25%", "x")?, 249.75);
    /// # Ok::<(), dagr_core::Error>(())
    /// ```
    pub fn describe_with(&self, budget: usize) -> Delayed<Description> {
        describe::describe(self, budget)
    }
}

/// Orders non-null rows `a` and `b` of a column.
fn compare(c: &Column, a: usize, b: usize) -> std::cmp::Ordering {
    match c {
        Column::Bool(v) => v[a].cmp(&v[b]),
        Column::I64(v) => v[a].cmp(&v[b]),
        Column::F64(v) => v[a].total_cmp(&v[b]),
        Column::Str(v) => v[a].cmp(&v[b]),
    }
}
