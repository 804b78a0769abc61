//! The all-to-all exchange under every shuffle: rows of `m` input partitions moved to `n`
//! output partitions by a route (a hash of the key, or the range of a sorted key).
//!
//! One level (few partitions): a task per input cuts its table into `n` pieces, a task per
//! (input, output) pair takes out one piece, so a piece crosses between processes alone and
//! only to where its output is, and a task per output lists its pieces in input order
//! (the task consuming that partition reads and concatenates them, so a spilled partition
//! is in memory only while its consumer runs): `m·n` edges.
//!
//! Two levels (many partitions, as Dask's task-based shuffle): with `b = ⌈√max(m, n)⌉`, an
//! output index is two digits `(y, x)` (`t = y·b + x`) and inputs form groups of `b`
//! consecutive partitions. First each input cuts its rows by the low digit `x` of their
//! target, and the middle task `(g, x)` concatenates the pieces `x` of group `g`'s inputs;
//! then each middle task cuts its rows by the high digit `y`, and output `t = (y, x)`
//! concatenates the pieces `y` of the middle tasks `(0, x)`, `(1, x)`, …: about `2·b·b·b`
//! ≈ `2·n·√n` edges instead of `n·n`, and no task holds more than its own partition's
//! worth of rows. Both levels give every output its rows in the same order: by input
//! partition, then by position within it, so the two are interchangeable.
//!
//! Every value crossing is a plain [`Table`] (or the list of one task's pieces), with its
//! wire; middle and output tasks are spread over a cluster's ranks by index.
//!
//! A shuffle larger than its memory budget keeps its pieces on disk between the task that
//! cuts them and the tasks that gather them (see [`super::spill`]): the same tasks, the
//! same rows in the same order, and only a few partitions in memory per worker.

use super::spill::{table_bytes, Cut, Piece, Spiller};
use super::table::Table;
use super::{DataFrame, Schema};
use crate::bag::layer_name;
use crate::node::{Deps, NodeKind, NodeRef};
use dagr_runtime::{Inputs, Key, TaskError, TaskResult, Value};
use std::sync::Arc;

/// Above this many partitions (inputs or outputs) [`ShuffleMethod::Auto`] exchanges in two
/// levels (Dask's `max_branch` default).
pub const STAGED_ABOVE: usize = 32;

/// How a shuffle moves rows between partitions (Dask's `shuffle_method`, for the
/// task-based kinds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ShuffleMethod {
    /// [`ShuffleMethod::Staged`] above [`STAGED_ABOVE`] partitions, else
    /// [`ShuffleMethod::OneLevel`].
    #[default]
    Auto,
    /// Every input sends a piece to every output: `m·n` small edges.
    OneLevel,
    /// Two rounds within groups of about `√n` partitions: about `2·n·√n` edges.
    Staged,
}

/// The output partition (below `n`) of each row of a table.
pub(crate) type Route = Arc<dyn Fn(&Table, usize) -> Vec<usize> + Send + Sync>;

/// What an output partition does with its rows, gathered in input order.
pub(crate) type Finish = Arc<dyn Fn(Table) -> Result<Table, TaskError> + Send + Sync>;

/// Rows of `t` cut into `parts` tables by `digit(route)`, each in row order: in memory, or
/// written to a spill file when `spill` says a table of this size, one of `tasks` cut
/// alike, makes too large a shuffle.
fn cut_by(
    t: &Table,
    targets: &[usize],
    parts: usize,
    digit: impl Fn(usize) -> usize,
    spill: &Spiller,
    tasks: usize,
) -> Result<Cut, TaskError> {
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); parts];
    for (i, &to) in targets.iter().enumerate() {
        rows[digit(to)].push(i);
    }
    if spill.spills(table_bytes(t), tasks) {
        spill.write(parts, |j| t.take(&std::mem::take(&mut rows[j])))
    } else {
        Ok(Cut::Memory(rows.iter().map(|r| t.take(r)).collect()))
    }
}

/// A task taking piece `j` out of the pieces of node `of`.
fn piece(name: &Arc<str>, index: &[u64], of: &NodeRef, j: usize) -> NodeRef {
    crate::node::new_wired_node(
        Key::index(name.clone(), index),
        Deps::one(of.clone()),
        NodeKind::Call,
        false,
        Some(Piece::WIRE),
        move |inp: &mut Inputs<'_>| -> TaskResult { Ok(Value::new(inp.get::<Cut>(0)?.piece(j)?)) },
    )
}

/// The pieces a task's inputs give, read and concatenated in order.
fn gather(inp: &mut Inputs<'_>, schema: &Schema) -> Result<Table, TaskError> {
    let pieces = (0..inp.len())
        .map(|k| inp.take::<Piece>(k))
        .collect::<Result<Vec<_>, _>>()?;
    load_all(pieces, schema)
}

/// `df`'s rows moved to `n` partitions by `route`, each output's rows (in input order)
/// passed through `finish`; the outputs have `schema` (what `finish` makes).
pub(crate) fn exchange(
    df: &DataFrame,
    route: Route,
    n: usize,
    method: ShuffleMethod,
    finish: Option<Finish>,
    schema: Arc<Schema>,
) -> DataFrame {
    let n = n.max(1);
    let m = df.npartitions();
    let staged = match method {
        ShuffleMethod::Auto => m.max(n) > STAGED_ABOVE,
        ShuffleMethod::OneLevel => false,
        ShuffleMethod::Staged => true,
    };
    let name = layer_name("shuffle");
    let gather_name = layer_name("shuffle-gather");
    let in_schema = df.schema.clone();
    let spill = Spiller::from_setting();
    // an output task lists its pieces; the task consuming the partition reads them (so a
    // spilled partition is in memory only while its consumer runs)
    let output = |j: usize, deps: Vec<NodeRef>| -> NodeRef {
        crate::node::new_spread_node(
            Key::index(gather_name.clone(), &[j as u64]),
            Deps::from(deps),
            Some(Piece::LIST_WIRE),
            move |inp: &mut Inputs<'_>| -> TaskResult {
                let pieces = (0..inp.len())
                    .map(|k| inp.take::<Piece>(k))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Value::new(pieces))
            },
        )
    };
    let outputs: Vec<NodeRef> = if !staged {
        let (r, spill) = (route.clone(), spill.clone());
        let cuts = df.partition_tasks(&layer_name("shuffle-cut"), Some(Cut::WIRE), move |_, t| {
            let to = r(&t, n);
            cut_by(&t, &to, n, |x| x, &spill, m)
        });
        let piece_name = layer_name("shuffle-piece");
        let pieces: Vec<Vec<NodeRef>> = cuts
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (0..n)
                    .map(|j| piece(&piece_name, &[i as u64, j as u64], c, j))
                    .collect()
            })
            .collect();
        (0..n)
            .map(|j| output(j, pieces.iter().map(|p| p[j].clone()).collect()))
            .collect()
    } else {
        let b = (m.max(n) as f64).sqrt().ceil() as usize;
        let b = if b * b < m.max(n) { b + 1 } else { b }.max(2);
        // low digits that some output has, and the groups of inputs
        let lows = b.min(n);
        let groups = m.div_ceil(b);
        let (r, cut_spill) = (route.clone(), spill.clone());
        let cuts = df.partition_tasks(&layer_name("shuffle-cut"), Some(Cut::WIRE), move |_, t| {
            let to = r(&t, n);
            cut_by(&t, &to, lows, |x| x % b, &cut_spill, m)
        });
        let piece_name = layer_name("shuffle-piece");
        let first: Vec<Vec<NodeRef>> = cuts
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (0..lows)
                    .map(|x| piece(&piece_name, &[0, i as u64, x as u64], c, x))
                    .collect()
            })
            .collect();
        let mid_name = layer_name("shuffle-stage");
        let highs = n.div_ceil(b);
        // middle task (g, x) then its pieces by high digit
        let mut second: Vec<Vec<Vec<NodeRef>>> = Vec::with_capacity(groups);
        for g in 0..groups {
            let members = (g * b)..((g + 1) * b).min(m);
            let row = (0..lows).map(|x| {
                let deps: Vec<NodeRef> = members.clone().map(|i| first[i][x].clone()).collect();
                let (r, in_schema, spill) = (route.clone(), in_schema.clone(), spill.clone());
                let mid = crate::node::new_spread_node(
                    Key::index(mid_name.clone(), &[(g * b + x) as u64]),
                    Deps::from(deps),
                    Some(Cut::WIRE),
                    move |inp: &mut Inputs<'_>| -> TaskResult {
                        let t = gather(inp, &in_schema)?;
                        let to = r(&t, n);
                        let cut = cut_by(&t, &to, highs, |t| t / b, &spill, groups * lows)?;
                        Ok(Value::new(cut))
                    },
                );
                (0..highs)
                    .map(|y| piece(&piece_name, &[1, g as u64, x as u64, y as u64], &mid, y))
                    .collect()
            });
            second.push(row.collect());
        }
        (0..n)
            .map(|t| {
                let (y, x) = (t / b, t % b);
                output(t, second.iter().map(|row| row[x][y].clone()).collect())
            })
            .collect()
    };
    let gen: super::layer::TableGen = Arc::new(move |_, v| {
        let v = v.ok_or_else(|| TaskError::new("a shuffle partition's pieces are missing"))?;
        let pieces = v
            .take::<Vec<Piece>>()
            .map_err(|_| TaskError::new("a shuffle partition is not a list of pieces"))?;
        let t = load_all(pieces, &in_schema)?;
        match &finish {
            Some(f) => f(t),
            None => Ok(t),
        }
    });
    let inputs = outputs.into_iter().map(Some).collect();
    DataFrame::from_deferred(name, schema, inputs, gen)
}

/// The rows of `pieces`, read and concatenated in order.
fn load_all(pieces: Vec<Piece>, schema: &Schema) -> Result<Table, TaskError> {
    let mut all: Option<Table> = None;
    for p in pieces {
        let t = p.load()?;
        match &mut all {
            Some(a) => a.append(t),
            None => all = Some(t),
        }
    }
    Ok(all.unwrap_or_else(|| Table::empty(schema.names.clone(), &schema.dtypes)))
}
