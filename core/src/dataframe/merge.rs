//! Shuffles (rows moved to partitions by a hash of their key) and the joins built on them
//! (Dask: `df.shuffle(on)`, `df.merge(other, on, how)`).
//!
//! A shuffle to `n` partitions sends each row to the output partition its key's hash
//! names, through the exchange of [`super::exchange`] (one level for few partitions, two
//! for many). Rows with equal keys land in the same output partition on every scheduler
//! and every number of ranks.

use super::exchange::{exchange, Route, ShuffleMethod};
use super::groupby::ColumnNames;
use super::table::{position, Column, DType, Table};
use super::{DataFrame, Schema};
use crate::bag::layer_name;
use crate::hash::{FastHasher, FastMap};
use crate::node::{Deps, NodeKind, NodeRef};
use crate::Error;
use dagr_runtime::{Inputs, Key, TaskResult, Value};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Which rows a [`DataFrame::merge`] keeps (pandas' and Dask's `how`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// Rows whose key is on both sides.
    Inner,
    /// Every left row, with the matching right rows or nulls.
    Left,
    /// Every right row, with the matching left rows or nulls.
    Right,
    /// Every row of both sides.
    Outer,
}

/// One key value, as joins compare it: numbers by value (`1` matches `1.0`), nulls equal
/// to each other (pandas matches null keys with null keys).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    /// A float that is not an integer, by its bits (`-0.0` folded into `0.0`).
    Float(u64),
    Str(String),
}

fn cell(c: &Column, i: usize) -> Cell {
    match c {
        Column::Bool(v) => Cell::Bool(v[i]),
        Column::I64(v) => Cell::Int(v[i]),
        Column::F64(v) => {
            let x = v[i];
            if x.is_nan() {
                Cell::Null
            } else if x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 {
                Cell::Int(x as i64)
            } else {
                Cell::Float((x + 0.0).to_bits())
            }
        }
        Column::Str(v) => v[i].clone().map_or(Cell::Null, Cell::Str),
    }
}

/// The key of row `i`: its values in the key columns `keys`.
fn row_key(t: &Table, keys: &[usize], i: usize) -> Vec<Cell> {
    keys.iter().map(|&k| cell(&t.columns()[k], i)).collect()
}

/// The output partition of a key, the same in every process.
fn bucket(key: &[Cell], n: usize) -> usize {
    let mut h = FastHasher::default();
    key.hash(&mut h);
    (h.finish() % n as u64) as usize
}

/// The rows `idx` of column `c`, `None` giving a null: integers and booleans with a null
/// become floats (NaN), as pandas makes them.
fn take_or_null(c: &Column, idx: &[Option<usize>]) -> Column {
    if idx.iter().all(Option::is_some) {
        let idx: Vec<usize> = idx.iter().flatten().copied().collect();
        return c.take(&idx);
    }
    match c {
        Column::Str(v) => Column::Str(idx.iter().map(|i| i.and_then(|i| v[i].clone())).collect()),
        Column::Bool(v) => Column::F64(
            idx.iter()
                .map(|i| i.map_or(f64::NAN, |i| f64::from(u8::from(v[i]))))
                .collect(),
        ),
        _ => Column::F64(
            idx.iter()
                .map(|i| i.and_then(|i| c.f64(i)).unwrap_or(f64::NAN))
                .collect(),
        ),
    }
}

/// `c` as a column of type `d` (booleans as 1.0 and 0.0 where floats are wanted).
fn conform(c: Column, d: DType) -> Column {
    match (c, d) {
        (Column::Bool(v), DType::F64) => {
            Column::F64(v.into_iter().map(|b| f64::from(u8::from(b))).collect())
        }
        (c, d) => c.cast(d),
    }
}

/// The type of a column that may receive nulls in a join.
fn nullable(d: DType) -> DType {
    match d {
        DType::I64 | DType::Bool => DType::F64,
        d => d,
    }
}

/// How two frames' columns make a merged one: the left columns, then the right ones that
/// are not keys; names on both sides (keys aside) get the suffixes (`_x` and `_y` in a
/// merge, as pandas names them).
pub(super) struct Layout {
    pub(super) left_keys: Vec<usize>,
    pub(super) right_keys: Vec<usize>,
    /// Right columns kept (not keys).
    pub(super) right_rest: Vec<usize>,
    pub(super) how: How,
    pub(super) suffixes: (String, String),
    /// A right join in the order of the right rows, each with its matching left rows
    /// (pandas' `join(how="right")`), rather than in the order of the left rows.
    pub(super) right_major: bool,
}

impl Layout {
    pub(super) fn schema(&self, l: &Schema, r: &Schema) -> Schema {
        let rest_names: Vec<&String> = self.right_rest.iter().map(|&j| &r.names[j]).collect();
        let mut names = Vec::new();
        let mut dtypes = Vec::new();
        let (null_left, null_right) = match self.how {
            How::Inner => (false, false),
            How::Left => (false, true),
            How::Right => (true, false),
            How::Outer => (true, true),
        };
        for (i, n) in l.names.iter().enumerate() {
            let key = self.left_keys.contains(&i);
            let clash = !key && rest_names.contains(&n);
            names.push(if clash {
                format!("{n}{}", self.suffixes.0)
            } else {
                n.clone()
            });
            let d = l.dtypes[i];
            let d = if key {
                let k = self.left_keys.iter().position(|&x| x == i).unwrap_or(0);
                let rd = r.dtypes[self.right_keys[k]];
                if d == rd {
                    d
                } else {
                    d.widen(rd)
                }
            } else {
                d
            };
            dtypes.push(if null_left && !key { nullable(d) } else { d });
        }
        for &j in &self.right_rest {
            let n = &r.names[j];
            names.push(
                if l.names.contains(n) && !self.left_keys.iter().any(|&k| &l.names[k] == n) {
                    format!("{n}{}", self.suffixes.1)
                } else {
                    n.clone()
                },
            );
            let d = r.dtypes[j];
            dtypes.push(if null_right { nullable(d) } else { d });
        }
        Schema {
            names: names.into(),
            dtypes,
        }
    }

    /// The join of two tables: left rows in order, each with its matching right rows in
    /// order; then (right and outer joins) the right rows nothing matched, in order.
    pub(super) fn join(&self, l: &Table, r: &Table, schema: &Schema) -> Table {
        let (li, ri) = if self.right_major && self.how == How::Right {
            self.right_pairs(l, r)
        } else {
            self.pairs(l, r)
        };
        self.assemble(l, r, &li, &ri, schema)
    }

    /// The (left, right) rows of a join in the order of the right rows.
    fn right_pairs(&self, l: &Table, r: &Table) -> (Vec<Option<usize>>, Vec<Option<usize>>) {
        let mut index: FastMap<Vec<Cell>, Vec<usize>> = FastMap::default();
        for i in 0..l.len() {
            index
                .entry(row_key(l, &self.left_keys, i))
                .or_default()
                .push(i);
        }
        let (mut li, mut ri) = (Vec::new(), Vec::new());
        for j in 0..r.len() {
            match index.get(&row_key(r, &self.right_keys, j)) {
                Some(is) => {
                    for &i in is {
                        li.push(Some(i));
                        ri.push(Some(j));
                    }
                }
                None => {
                    li.push(None);
                    ri.push(Some(j));
                }
            }
        }
        (li, ri)
    }

    /// The (left, right) rows of a join in the order of the left rows.
    #[allow(clippy::type_complexity)]
    fn pairs(&self, l: &Table, r: &Table) -> (Vec<Option<usize>>, Vec<Option<usize>>) {
        let mut index: FastMap<Vec<Cell>, Vec<usize>> = FastMap::default();
        for j in 0..r.len() {
            index
                .entry(row_key(r, &self.right_keys, j))
                .or_default()
                .push(j);
        }
        let (mut li, mut ri): (Vec<Option<usize>>, Vec<Option<usize>>) = (Vec::new(), Vec::new());
        let mut matched = vec![false; r.len()];
        for i in 0..l.len() {
            match index.get(&row_key(l, &self.left_keys, i)) {
                Some(js) => {
                    for &j in js {
                        li.push(Some(i));
                        ri.push(Some(j));
                        matched[j] = true;
                    }
                }
                None if matches!(self.how, How::Left | How::Outer) => {
                    li.push(Some(i));
                    ri.push(None);
                }
                None => {}
            }
        }
        if matches!(self.how, How::Right | How::Outer) {
            for (j, _) in matched.iter().enumerate().filter(|(_, &m)| !m) {
                li.push(None);
                ri.push(Some(j));
            }
        }
        (li, ri)
    }

    fn assemble(
        &self,
        l: &Table,
        r: &Table,
        li: &[Option<usize>],
        ri: &[Option<usize>],
        schema: &Schema,
    ) -> Table {
        let mut columns = Vec::with_capacity(schema.dtypes.len());
        for (i, c) in l.columns().iter().enumerate() {
            let col = match self.left_keys.iter().position(|&k| k == i) {
                // a key comes from whichever side has the row
                Some(k) => match (c, &r.columns()[self.right_keys[k]]) {
                    // integer keys stay integers (every row has one side)
                    (Column::I64(a), Column::I64(b)) => Column::I64(
                        li.iter()
                            .zip(ri)
                            .map(|(l, r)| match (l, r) {
                                (Some(i), _) => a[*i],
                                (None, Some(j)) => b[*j],
                                (None, None) => 0,
                            })
                            .collect(),
                    ),
                    // else filled while both hold nulls alike (integers as floats)
                    (c, rc) => {
                        let mut out = take_or_null(c, li);
                        let from_right = conform(take_or_null(rc, ri), out.dtype());
                        fill_nulls(&mut out, &from_right, li);
                        out
                    }
                },
                None => take_or_null(c, li),
            };
            columns.push(conform(col, schema.dtypes[columns.len()]));
        }
        for &j in &self.right_rest {
            let col = take_or_null(&r.columns()[j], ri);
            columns.push(conform(col, schema.dtypes[columns.len()]));
        }
        Table::from_parts(schema.names.clone(), columns)
    }
}

/// Where `li` has no left row, the key from the right side.
fn fill_nulls(out: &mut Column, right: &Column, li: &[Option<usize>]) {
    for (k, l) in li.iter().enumerate() {
        if l.is_some() {
            continue;
        }
        match (&mut *out, right) {
            (Column::Bool(a), Column::Bool(b)) => a[k] = b[k],
            (Column::I64(a), Column::I64(b)) => a[k] = b[k],
            (Column::F64(a), Column::F64(b)) => a[k] = b[k],
            (Column::Str(a), Column::Str(b)) => a[k] = b[k].clone(),
            _ => {}
        }
    }
}

impl DataFrame {
    /// The same rows in `npartitions` partitions, rows with equal values in the columns
    /// `on` in the same partition (Dask: `df.shuffle(on, npartitions=…)`, by hash). Within
    /// a partition rows keep their order, input partitions in order.
    ///
    /// ```
    /// use dagr::bag as db;
    /// let df = db::from_sequence((0..100_i64).map(|i| (i % 7, i)).collect::<Vec<_>>(), 5)?
    ///     .to_dataframe(&["k", "v"])?;
    /// let s = df.shuffle("k", 3)?;
    /// assert_eq!(s.npartitions(), 3);
    /// assert_eq!(s.len()?, 100);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn shuffle(&self, on: impl ColumnNames, npartitions: usize) -> Result<DataFrame, Error> {
        let keys = self.key_positions(&on.column_names())?;
        Ok(self.shuffled(&keys, npartitions.max(1)))
    }

    fn key_positions(&self, on: &[String]) -> Result<Vec<usize>, Error> {
        if on.is_empty() {
            return Err(Error::InvalidArgument {
                what: "merge",
                message: "no key column given".into(),
            });
        }
        on.iter().map(|c| position(&self.schema.names, c)).collect()
    }

    /// [`DataFrame::shuffle`] moving rows as `method` says: in one level (every input
    /// sends a piece to every output) or in two (within groups of about `√n` partitions,
    /// as Dask's task-based shuffle), which [`ShuffleMethod::Auto`] picks above
    /// [`STAGED_ABOVE`](super::STAGED_ABOVE) partitions. Every method gives the same
    /// partitions, rows in the same order.
    ///
    /// ```
    /// use dagr::bag as db;
    /// use dagr::dataframe::ShuffleMethod;
    /// let df = db::from_sequence((0..500_i64).map(|i| (i % 37, i)).collect::<Vec<_>>(), 40)?
    ///     .to_dataframe(&["k", "v"])?;
    /// let one = df.shuffle_with("k", 40, ShuffleMethod::OneLevel)?;
    /// let two = df.shuffle_with("k", 40, ShuffleMethod::Staged)?;
    /// assert_eq!(one.compute()?, two.compute()?);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn shuffle_with(
        &self,
        on: impl ColumnNames,
        npartitions: usize,
        method: ShuffleMethod,
    ) -> Result<DataFrame, Error> {
        let keys = self.key_positions(&on.column_names())?;
        Ok(self.shuffled_with(&keys, npartitions.max(1), method))
    }

    pub(super) fn shuffled(&self, keys: &[usize], n: usize) -> DataFrame {
        self.shuffled_with(keys, n, ShuffleMethod::Auto)
    }

    fn shuffled_with(&self, keys: &[usize], n: usize, method: ShuffleMethod) -> DataFrame {
        let keys: Arc<[usize]> = keys.into();
        let route: Route = Arc::new(move |t: &Table, n: usize| {
            (0..t.len())
                .map(|i| bucket(&row_key(t, &keys, i), n))
                .collect()
        });
        exchange(self, route, n, method, None, self.schema.clone())
    }

    /// Joins with `other` on the key columns `on` (present in both), keeping the rows `how`
    /// says (Dask and pandas: `df.merge(other, on=…, how=…)`). The result has this frame's
    /// columns, then `other`'s other than the keys; a name on both sides gets `_x` and
    /// `_y`; columns that may receive nulls (from a side without a matching row) hold
    /// integers and booleans as floats with NaN, as pandas does. Keys compare by value
    /// (`1` matches `1.0`), null keys match each other, as in pandas.
    ///
    /// When `other` has one partition (and `how` keeps no unmatched `other` rows) it is
    /// joined to each partition as it is (a broadcast join); otherwise both sides are
    /// shuffled by key into as many partitions as the larger has, and joined partition by
    /// partition. On one key that is the index of a side knowing its divisions
    /// ([`DataFrame::set_index`]) there is no hash shuffle: the join goes range by range
    /// as [`DataFrame::join`] does. Rows come in the order of the partitions, not pandas'
    /// order: sort to compare.
    ///
    /// ```
    /// use dagr::bag as db;
    /// use dagr::dataframe::How;
    /// let people = db::from_sequence(vec![(1_i64, "ann".to_string()), (2, "bob".into()), (3, "cy".into())], 2)?
    ///     .to_dataframe(&["id", "name"])?;
    /// let orders = db::from_sequence(vec![(1_i64, 9.5), (1, 2.0), (3, 4.0), (4, 1.0)], 2)?
    ///     .to_dataframe(&["id", "total"])?;
    /// let both = people.merge(&orders, "id", How::Inner)?.sort_values("total", true).compute()?;
    /// assert_eq!(both.len(), 3);
    /// assert_eq!(both.column("name")?.text(0).as_deref(), Some("ann"));
    /// let all = people.merge(&orders, "id", How::Outer)?;
    /// assert_eq!(all.len()?, 5);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn merge(
        &self,
        other: &DataFrame,
        on: impl ColumnNames,
        how: How,
    ) -> Result<DataFrame, Error> {
        let on = on.column_names();
        let left_keys = self.key_positions(&on)?;
        let right_keys = other.key_positions(&on)?;
        for (&a, &b) in left_keys.iter().zip(&right_keys) {
            let (x, y) = (self.schema.dtypes[a], other.schema.dtypes[b]);
            let numeric = |d: DType| matches!(d, DType::I64 | DType::F64);
            if x != y && !(numeric(x) && numeric(y)) {
                return Err(Error::InvalidArgument {
                    what: "merge",
                    message: format!(
                        "key column {:?} is {x} on the left and {y} on the right",
                        self.schema.names[a]
                    ),
                });
            }
        }
        let layout = Arc::new(Layout {
            right_rest: (0..other.schema.names.len())
                .filter(|j| !right_keys.contains(j))
                .collect(),
            left_keys,
            right_keys,
            how,
            suffixes: ("_x".into(), "_y".into()),
            right_major: false,
        });
        let schema = Arc::new(layout.schema(&self.schema, &other.schema));
        if let Some(aligned) = self.aligned_join(other, &layout, &schema) {
            return Ok(aligned);
        }
        let broadcast = other.npartitions() == 1 && matches!(how, How::Inner | How::Left);
        let (left, right) = if broadcast {
            (self.clone(), other.clone())
        } else {
            let n = self.npartitions().max(other.npartitions());
            (
                self.shuffled(&layout.left_keys, n),
                other.shuffled(&layout.right_keys, n),
            )
        };
        Ok(join_parts(&left, &right, broadcast, layout, schema, None))
    }
}

/// `left` and `right` joined partition by partition (`broadcast`: every left partition with
/// `right`'s one), each result sorted by its key column `sort` when given (stably, nulls
/// last).
pub(super) fn join_parts(
    left: &DataFrame,
    right: &DataFrame,
    broadcast: bool,
    layout: Arc<Layout>,
    schema: Arc<Schema>,
    sort: Option<usize>,
) -> DataFrame {
    // a shuffled side's partition is read by the join task itself, so that the two
    // partitions of a pair are read together (see `FrameLayer::deferred`)
    let (lname, rname) = (layer_name("merge-left"), layer_name("merge-right"));
    let broadcast_right = broadcast.then(|| right.partition_read(0, &rname));
    let name = layer_name("merge");
    let nodes: Vec<NodeRef> = (0..left.npartitions())
        .map(|i| {
            let (l, l_raw) = left.partition_read(i, &lname);
            let (r, r_raw) = match &broadcast_right {
                Some(r) => r.clone(),
                None => right.partition_read(i, &rname),
            };
            let (llayer, rlayer) = (left.layer.clone(), right.layer.clone());
            let ri = if broadcast { 0 } else { i };
            let (layout, schema) = (layout.clone(), schema.clone());
            crate::node::new_wired_node(
                Key::index(name.clone(), &[i as u64]),
                Deps::two(l, r),
                NodeKind::Call,
                false,
                Some(crate::wire_of::<Table>()),
                move |inp: &mut Inputs<'_>| -> TaskResult {
                    let lv = if l_raw {
                        Some(inp.take_value(0)?)
                    } else {
                        None
                    };
                    let rv = if r_raw {
                        Some(inp.take_value(1)?)
                    } else {
                        None
                    };
                    let read_l = lv.map(|v| llayer.table_from_input(i, v)).transpose()?;
                    let read_r = rv.map(|v| rlayer.table_from_input(ri, v)).transpose()?;
                    let l: &Table = match &read_l {
                        Some(t) => t,
                        None => inp.get(0)?,
                    };
                    let r: &Table = match &read_r {
                        Some(t) => t,
                        None => inp.get(1)?,
                    };
                    let t = layout.join(l, r, &schema);
                    Ok(Value::new(match sort {
                        Some(k) => super::index::sorted_by(t, k),
                        None => t,
                    }))
                },
            )
        })
        .collect();
    DataFrame::from_nodes(name, schema, nodes)
}

impl DataFrame {
    /// The rows whose values in the columns `subset` did not appear in an earlier row (every
    /// column when `subset` is empty): pandas' `drop_duplicates(subset, keep="first")`. Rows
    /// move to partitions by a hash of those values (a shuffle into as many partitions);
    /// within a partition they keep their order.
    ///
    /// ```
    /// use dagr::bag as db;
    /// let df = db::from_sequence(vec![(1_i64, "a"), (2, "b"), (1, "c"), (2, "b")], 2)?
    ///     .to_dataframe(&["k", "v"])?;
    /// assert_eq!(df.drop_duplicates("k")?.len()?, 2);
    /// assert_eq!(df.drop_duplicates(Vec::<String>::new())?.len()?, 3);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn drop_duplicates(&self, subset: impl ColumnNames) -> Result<DataFrame, Error> {
        let mut subset = subset.column_names();
        if subset.is_empty() {
            subset = self.schema.names.to_vec();
        }
        let keys = self.key_positions(&subset)?;
        let shuffled = self.shuffled(&keys, self.npartitions().max(1));
        Ok(
            shuffled.pipe("drop-duplicates", self.schema.clone(), move |t| {
                let mut seen = crate::hash::FastSet::default();
                let idx: Vec<usize> = (0..t.len())
                    .filter(|&i| seen.insert(row_key(&t, &keys, i)))
                    .collect();
                Ok(t.take(&idx))
            }),
        )
    }

    /// How often each value of `column` occurs, nulls left out (pandas:
    /// `df[column].value_counts()`): a frame of the values and their `count`, most frequent
    /// first, equal counts in the order of the values. The counts are taken after a shuffle
    /// by value, so memory holds a few partitions and their distinct values.
    ///
    /// ```
    /// use dagr::bag as db;
    /// let df = db::from_sequence(vec![("x",), ("y",), ("x",), ("z",), ("x",)], 2)?.to_dataframe(&["c"])?;
    /// let t = df.value_counts("c")?.compute()?;
    /// assert_eq!(t.column("c")?.text(0).as_deref(), Some("x"));
    /// assert_eq!(t.column("count")?.f64(0), Some(3.0));
    /// assert_eq!(t.len(), 3);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn value_counts(&self, column: &str) -> Result<DataFrame, Error> {
        let keys = self.key_positions(&[column.to_owned()])?;
        let k = keys[0];
        let shuffled = self.shuffled(&keys, self.npartitions().max(1));
        let schema = Arc::new(Schema {
            names: vec![column.to_owned(), "count".to_owned()].into(),
            dtypes: vec![self.schema.dtypes[k], DType::I64],
        });
        let names = schema.names.clone();
        let counted = shuffled.pipe("value-counts", schema.clone(), move |t| {
            let mut first: FastMap<Cell, (usize, i64)> = FastMap::default();
            let c = &t.columns()[k];
            for i in 0..t.len() {
                let key = cell(c, i);
                if key != Cell::Null {
                    first.entry(key).or_insert((i, 0)).1 += 1;
                }
            }
            let mut rows: Vec<(usize, i64)> = first.into_values().collect();
            rows.sort_unstable();
            let idx: Vec<usize> = rows.iter().map(|r| r.0).collect();
            let counts = Column::I64(rows.iter().map(|r| r.1).collect());
            Ok(Table::from_parts(names.clone(), vec![c.take(&idx), counts]))
        });
        Ok(counted.sort_values_each(&[("count", false), (column, true)]))
    }

    /// Number of distinct non-null values of `column` (pandas: `df[column].nunique()`),
    /// counted after a shuffle by value.
    ///
    /// ```
    /// use dagr::bag as db;
    /// let df = db::from_sequence(vec![(1.0_f64,), (f64::NAN,), (1.0,), (2.5,)], 3)?.to_dataframe(&["x"])?;
    /// assert_eq!(df.nunique("x")?.compute()?, 2);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn nunique(&self, column: &str) -> Result<crate::Delayed<u64>, Error> {
        let keys = self.key_positions(&[column.to_owned()])?;
        let k = keys[0];
        let shuffled = self.shuffled(&keys, self.npartitions().max(1));
        let parts = shuffled.map_partitions_to(move |_, t| {
            let c = &t.columns()[k];
            let distinct: crate::hash::FastSet<Cell> = (0..t.len())
                .map(|i| cell(c, i))
                .filter(|x| *x != Cell::Null)
                .collect();
            Ok(distinct.len() as u64)
        });
        let deps: Vec<NodeRef> = parts.into_iter().map(|d| d.node).collect();
        Ok(crate::Delayed::from_node(crate::node::new_wired_node(
            Key::index(layer_name("nunique"), &[0]),
            Deps::from(deps),
            NodeKind::Call,
            false,
            Some(crate::wire_of::<u64>()),
            |inp: &mut Inputs<'_>| -> TaskResult {
                let mut n = 0u64;
                for k in 0..inp.len() {
                    n += *inp.get::<u64>(k)?;
                }
                Ok(Value::new(n))
            },
        )))
    }
}
