//! `describe`: count, mean, std, min, quartiles and max of every numeric column, exact.
//! The same passes give any list of quantiles ([`Wanted`]): `describe` with other
//! percentiles, and `quantile`/`quantiles` of one column; "quartile" below stands for each
//! wanted quantile.
//!
//! Every partition is read once and its values stay where they were read (on its worker,
//! or on its rank under the distributed scheduler); only small things travel:
//!
//! 1. **Read** (a task per partition): each numeric column's values (nulls dropped), their
//!    [`Summary`] and a sample of them evenly spaced through the partition. The values are
//!    held for pass 2 while the memory budget allows (one budget per process, shared by the
//!    partitions of one `describe`); past it they are let go and pass 2 reads the partition
//!    again.
//! 2. **Plan** (a tree over the summaries and samples): count, mean, min and max of each
//!    column, and for each quartile a window of values around the samples' estimate of it,
//!    about six standard errors of the estimate wide on each side. A column whose samples
//!    hold every value has its quartiles already.
//! 3. **Windows** (a task per partition, on the partition's values): the squared deviations
//!    from the mean, and for each window the number of values below it and the values in
//!    it (a fraction of a percent of the column), combined in a tree. An order statistic of
//!    rank `r` with `below <= r < below + inside` is the value of rank `r - below` among the
//!    window's values: exact.
//! 4. **Bins** (two more passes over the data, only for a column whose quartile fell outside
//!    its window, as data with a pattern can make a sample miss): counts in 65 536 bins
//!    between min and max locate each order statistic's bin, and a last pass keeps only
//!    the values of those bins.
//!
//! Every combination runs in a fixed tree, so the result is the same on every scheduler.

use super::column_stats::{
    empty_stats, in_windows, lerp, quantile_ranks, windows_pass_any, Sum, Summary, QS,
};
use super::table::{format_floats, write_grid, Column};
use super::DataFrame;
use crate::bag::layer_name;
use crate::delayed::Delayed;
use crate::node::{Deps, NodeKind, NodeRef};
use crate::tree::combine_tree;
use crate::Error;
use dagr_runtime::{Inputs, Key, TaskError, TaskResult, Value};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The row labels of a description, in order.
pub const STATS: [&str; 8] = ["count", "mean", "std", "min", "25%", "50%", "75%", "max"];

/// The result of [`DataFrame::describe`]: one column of statistics per numeric column,
/// computed as pandas does (std with ddof = 1, quartiles by linear interpolation between
/// order statistics, nulls skipped). The quartiles are exact, and the data is read once
/// while the numeric values fit the memory budget (see [`DataFrame::describe_with`]);
/// mean and std are within a few units in the last place of pandas'.
///
/// ```
/// use dagr::bag as db;
/// let df = db::from_sequence(vec![(1.0_f64,), (2.0,), (3.0,), (4.0,)], 2)?.to_dataframe(&["x"])?;
/// let d = df.describe().compute()?;
/// assert_eq!(d.get("count", "x")?, 4.0);
/// assert_eq!(d.get("25%", "x")?, 1.75);
/// assert!((d.get("std", "x")? - 1.2909944487358056).abs() < 1e-15);
/// println!("{d}");
/// # Ok::<(), dagr::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Description {
    columns: Vec<String>,
    /// The row labels: [`STATS`], or other percentiles between `"min"` and `"max"`.
    rows: Vec<String>,
    /// `values[c][s]`: statistic `rows[s]` of column `c`.
    values: Vec<Vec<f64>>,
}

impl Description {
    /// The described columns.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The row labels, in order: `"count"`, `"mean"`, `"std"`, `"min"`, the percentiles
    /// (`"25%"`, `"50%"`, `"75%"` unless others were asked for), `"max"`.
    pub fn rows(&self) -> &[String] {
        &self.rows
    }

    /// Statistic `stat` (a row label: `"count"`, `"mean"`, …, `"75%"`, `"max"`) of `column`.
    pub fn get(&self, stat: &str, column: &str) -> Result<f64, Error> {
        let s = self
            .rows
            .iter()
            .position(|x| x == stat)
            .ok_or_else(|| Error::InvalidArgument {
                what: "Description::get",
                message: format!("no statistic {stat:?} (rows: {:?})", self.rows),
            })?;
        let c = super::table::position(&self.columns, column)?;
        Ok(self.values[c][s])
    }
}

impl Description {
    /// The quantiles of column `c` (the rows between `min` and `max`).
    pub(super) fn quantiles_of(&self, c: usize) -> Option<Vec<f64>> {
        let v = self.values.get(c)?;
        Some(v.get(4..v.len().checked_sub(1)?)?.to_vec())
    }
}

impl fmt::Display for Description {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let index = self.rows.clone();
        let cells: Vec<Vec<String>> = self.values.iter().map(|v| format_floats(v)).collect();
        write_grid(f, &index, &self.columns, &cells)
    }
}

/// Default memory budget of [`DataFrame::describe`]: 2^27 values (1 GiB of floats).
pub const DEFAULT_BUDGET: usize = 1 << 27;

/// Points of each partition's sample of a column.
const PART_SAMPLE: usize = 1 << 14;

/// Points a combined sample keeps (it is thinned when it holds twice as many).
const SAMPLE_POINTS: usize = 1 << 16;

/// Bins of the fallback passes.
const BINS: usize = 1 << 16;

/// `k` windows that hold nothing (for columns whose order statistics are known).
fn no_windows(k: usize) -> Vec<(f64, f64)> {
    vec![(f64::INFINITY, f64::NEG_INFINITY); k]
}

/// Points of a sample standing for `weight` values each.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Run {
    weight: f64,
    #[serde(with = "crate::wire::raw_f64")]
    x: Vec<f64>,
}

/// Values sampled from a column, to estimate where its order statistics lie.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
struct Sample {
    runs: Vec<Run>,
    /// The variance of a rank estimate divided by `q (1 - q)`: the sum of `n² / m` over the
    /// partitions sampled with `m` points for `n > m` values.
    var: f64,
    /// A bound on the rank error that thinning added.
    err: f64,
}

impl Sample {
    /// `m` values of `v` evenly spaced through it (all of them when there are no more).
    fn of(v: &[f64], m: usize) -> Sample {
        let n = v.len();
        if n <= m {
            return Sample {
                runs: vec![Run {
                    weight: 1.0,
                    x: v.to_vec(),
                }],
                var: 0.0,
                err: 0.0,
            };
        }
        let at = |k: usize| ((2 * k + 1) as u128 * n as u128 / (2 * m) as u128) as usize;
        Sample {
            runs: vec![Run {
                weight: n as f64 / m as f64,
                x: (0..m).map(|k| v[at(k)]).collect(),
            }],
            var: (n as f64).powi(2) / m as f64,
            err: 0.0,
        }
    }

    fn points(&self) -> usize {
        self.runs.iter().map(|r| r.x.len()).sum()
    }

    /// Whether the points are the values themselves.
    fn is_exact(&self) -> bool {
        self.var == 0.0 && self.err == 0.0
    }

    /// The points in order, with their weights.
    fn sorted(&self) -> Vec<(f64, f64)> {
        let mut p: Vec<(f64, f64)> = self
            .runs
            .iter()
            .flat_map(|r| r.x.iter().map(move |&x| (x, r.weight)))
            .collect();
        p.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        p
    }

    fn merge(&mut self, o: Sample) {
        self.runs.extend(o.runs);
        self.var += o.var;
        self.err += o.err;
        if self.points() > 2 * SAMPLE_POINTS {
            self.thin(SAMPLE_POINTS);
        }
    }

    /// Replaces the points by `m` points of equal weight at evenly spaced ranks among them
    /// (each rank estimate moves by at most that weight).
    fn thin(&mut self, m: usize) {
        let p = self.sorted();
        let step = p.iter().map(|q| q.1).sum::<f64>() / m as f64;
        let (mut cum, mut j) = (0.0, 0);
        let x = (0..m)
            .map(|k| {
                let target = (k as f64 + 0.5) * step;
                while j + 1 < p.len() && cum + p[j].1 <= target {
                    cum += p[j].1;
                    j += 1;
                }
                p[j].0
            })
            .collect();
        self.runs = vec![Run { weight: step, x }];
        self.err += step;
    }
}

/// What pass 1 learns of a partition (or of several): per column, a summary and a sample.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
struct Sketch {
    summaries: Vec<Summary>,
    samples: Vec<Sample>,
}

impl Sketch {
    fn merge(mut self, o: Sketch) -> Sketch {
        for ((s, t), (p, q)) in self
            .summaries
            .iter_mut()
            .zip(&mut self.samples)
            .zip(o.summaries.iter().zip(o.samples))
        {
            s.merge(p);
            t.merge(q);
        }
        self
    }
}

/// A share of the memory budget, given back when dropped.
struct Reserved {
    budget: Arc<AtomicUsize>,
    n: usize,
}

impl Reserved {
    fn take(budget: &Arc<AtomicUsize>, n: usize) -> Option<Reserved> {
        budget
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| b.checked_sub(n))
            .ok()
            .map(|_| Reserved {
                budget: budget.clone(),
                n,
            })
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        self.budget.fetch_add(self.n, Ordering::AcqRel);
    }
}

/// A partition after pass 1: its sketch, and its values while the budget holds them. It
/// stays with the partition (it has no wire): the tasks reading it run where it is.
#[derive(Clone)]
struct Part {
    sketch: Sketch,
    values: Option<Arc<(Vec<Vec<f64>>, Reserved)>>,
}

/// Per column, what pass 2 needs: the summary, a window per wanted quantile, and the order
/// statistics (lower and upper of each quantile) when the sample already holds them.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct ColumnPlan {
    summary: Summary,
    windows: Vec<(f64, f64)>,
    order: Option<Vec<f64>>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Plan {
    columns: Vec<ColumnPlan>,
}

/// The ranks of quantiles `qs` of `n` values (lower, upper and the upper's weight).
fn ranks_of(n: u64, qs: &[f64]) -> Vec<(u64, u64, f64)> {
    qs.iter().map(|&q| quantile_ranks(n, q)).collect()
}

/// The windows around quantiles `qs` of a column from its merged sample.
fn plan_column(summary: Summary, sample: &Sample, qs: &[f64]) -> ColumnPlan {
    let n = summary.n;
    if n == 0 {
        return ColumnPlan {
            summary,
            windows: no_windows(qs.len()),
            order: Some(Vec::new()),
        };
    }
    let ranks = ranks_of(n, qs);
    let p = sample.sorted();
    if sample.is_exact() && p.len() as u64 == n {
        let order = ranks
            .iter()
            .flat_map(|&(lo, hi, _)| [p[lo as usize].0, p[hi as usize].0])
            .collect();
        return ColumnPlan {
            summary,
            windows: no_windows(qs.len()),
            order: Some(order),
        };
    }
    // each point's estimated rank: the middle of the values it stands for
    let mut est = Vec::with_capacity(p.len());
    let mut cum = 0.0;
    for &(_, w) in &p {
        est.push(cum + w / 2.0);
        cum += w;
    }
    let widest = p.iter().map(|q| q.1).fold(0.0, f64::max);
    let mut windows = no_windows(qs.len());
    for (k, &q) in qs.iter().enumerate() {
        let margin = 6.0 * (q * (1.0 - q) * sample.var).sqrt() + sample.err + 2.0 * widest + 1.0;
        let (lo, hi, _) = ranks[k];
        // the last point surely below rank `lo`, the first surely above rank `hi`
        let a = est.partition_point(|&e| e + margin <= lo as f64);
        let b = est.partition_point(|&e| e - margin < hi as f64);
        windows[k] = (
            if a == 0 {
                f64::NEG_INFINITY
            } else {
                p[a - 1].0
            },
            p.get(b).map_or(f64::INFINITY, |q| q.0),
        );
    }
    ColumnPlan {
        summary,
        windows,
        order: None,
    }
}

/// Pass 2 over some values: per column the squared deviations from the mean, and for each
/// window the values below it and in it.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
struct Found {
    dev: Vec<Sum>,
    below: Vec<Vec<u64>>,
    #[serde(with = "crate::wire::f64_chunks")]
    inside: Vec<Vec<Vec<f64>>>,
}

impl Found {
    fn of(plan: &Plan, values: &[Vec<f64>]) -> Found {
        let mut f = Found::default();
        for (c, v) in plan.columns.iter().zip(values) {
            let mean = c.summary.sum.get() / c.summary.n.max(1) as f64;
            let (dev, below, inside) = windows_pass_any(std::slice::from_ref(v), mean, &c.windows);
            f.dev.push(dev);
            f.below.push(below);
            f.inside.push(inside);
        }
        f
    }

    fn merge(mut self, o: Found) -> Found {
        self.dev
            .iter_mut()
            .zip(&o.dev)
            .for_each(|(a, b)| a.merge(b));
        for (a, b) in self.below.iter_mut().zip(&o.below) {
            a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        }
        for (a, b) in self.inside.iter_mut().zip(o.inside) {
            a.iter_mut().zip(b).for_each(|(x, mut y)| x.append(&mut y));
        }
        self
    }
}

/// After pass 2: the statistics, complete or lacking the quartiles of the `missing` columns.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Outcome {
    done: Option<Description>,
    stats: Vec<Vec<f64>>,
    missing: Vec<bool>,
    summaries: Vec<Summary>,
}

/// After the bins pass: per missing column, the (rank, bin, values in earlier bins) of each
/// order statistic its quantiles need.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Located {
    outcome: Outcome,
    wanted: Vec<Vec<(u64, usize, u64)>>,
}

fn bin_of(s: &Summary, x: f64) -> usize {
    if s.max <= s.min {
        return 0;
    }
    (((x - s.min) / (s.max - s.min) * BINS as f64) as usize).min(BINS - 1)
}

/// The order statistics quantiles `qs` need, in order, without repeats.
fn needed_ranks(n: u64, qs: &[f64]) -> Vec<u64> {
    let mut r: Vec<u64> = ranks_of(n, qs)
        .iter()
        .flat_map(|&(lo, hi, _)| [lo, hi])
        .collect();
    r.sort_unstable();
    r.dedup();
    r
}

/// The non-null values of the numeric columns `cols` (distinct), moved out of the table.
fn numeric_values(t: super::Table, cols: &[usize]) -> Vec<Vec<f64>> {
    let mut columns: Vec<Option<Column>> = t.into_columns().into_iter().map(Some).collect();
    cols.iter()
        .map(|&i| match columns[i].take() {
            Some(Column::F64(mut v)) => {
                v.retain(|x| !x.is_nan());
                v
            }
            Some(c) => c.to_f64().unwrap_or_default(),
            None => Vec::new(),
        })
        .collect()
}

/// The non-null values of the numeric columns `cols` (distinct), moved out of the table,
/// with their summaries: one pass when there is no null (a NaN makes the sum NaN, and only
/// then are the nulls removed and the values summarised again).
fn summarised_values(t: super::Table, cols: &[usize]) -> (Vec<Vec<f64>>, Vec<Summary>) {
    let mut columns: Vec<Option<Column>> = t.into_columns().into_iter().map(Some).collect();
    cols.iter()
        .map(|&i| {
            let mut v = match columns[i].take() {
                Some(Column::F64(v)) => v,
                Some(c) => c.to_f64().unwrap_or_default(),
                None => Vec::new(),
            };
            let mut s = Summary::of(&v);
            if s.sum.get().is_nan() {
                v.retain(|x| !x.is_nan());
                s = Summary::of(&v);
            }
            (v, s)
        })
        .unzip()
}

/// A combine tree over `level` folding pairs with `f`.
fn tree<S: crate::Wired>(
    level: Vec<NodeRef>,
    name: &str,
    f: impl Fn(S, S) -> S + Send + Sync + 'static,
) -> NodeRef {
    let combine = move |parts: Vec<S>| -> Result<S, TaskError> {
        let mut it = parts.into_iter();
        let first = it
            .next()
            .ok_or_else(|| TaskError::new("nothing to combine"))?;
        Ok(it.fold(first, &f))
    };
    combine_tree(
        level,
        &layer_name(name),
        &[],
        false,
        Some(crate::wire_of::<S>()),
        Arc::new(combine),
    )
}

/// A task `name` of `deps` computing `f` from its inputs.
fn step<S: crate::Wired>(
    name: &str,
    deps: Vec<NodeRef>,
    f: impl Fn(&mut Inputs<'_>) -> Result<S, TaskError> + Send + Sync + 'static,
) -> NodeRef {
    crate::node::new_wired_node(
        Key::index(layer_name(name), &[0]),
        Deps::from(deps),
        NodeKind::Call,
        false,
        Some(crate::wire_of::<S>()),
        move |inp: &mut Inputs<'_>| -> TaskResult { Ok(Value::new(f(inp)?)) },
    )
}

/// A task `(name, i)` per node of `parts`, computing `f` from it.
fn per_part<S: crate::Wired>(
    parts: &[NodeRef],
    name: &str,
    f: impl Fn(&mut Inputs<'_>) -> Result<S, TaskError> + Send + Sync + Clone + 'static,
) -> Vec<NodeRef> {
    let name = layer_name(name);
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            let f = f.clone();
            crate::node::new_wired_node(
                Key::index(name.clone(), &[i as u64]),
                Deps::one(part.clone()),
                NodeKind::Call,
                false,
                Some(crate::wire_of::<S>()),
                move |inp: &mut Inputs<'_>| -> TaskResult { Ok(Value::new(f(inp)?)) },
            )
        })
        .collect()
}

/// What one statistics graph computes: count, mean, std, min, quantiles `qs` and max of
/// the columns `cols` (numeric, distinct), its rows labelled `rows`.
pub(super) struct Wanted {
    /// The tasks' names start with it (`describe`, `quantile`).
    pub(super) prefix: &'static str,
    pub(super) cols: Vec<usize>,
    pub(super) qs: Arc<[f64]>,
    /// `count`, `mean`, `std`, `min`, a label per quantile, `max`.
    pub(super) rows: Vec<String>,
}

impl Wanted {
    /// Every numeric column of `df` with quantiles `qs` labelled as percentiles (pandas'
    /// `describe(percentiles=qs)`).
    pub(super) fn numeric(df: &DataFrame, qs: &[f64]) -> Wanted {
        Wanted {
            prefix: "describe",
            cols: (0..df.schema.dtypes.len())
                .filter(|&i| df.schema.dtypes[i].is_numeric())
                .collect(),
            qs: qs.into(),
            rows: rows_for(qs),
        }
    }
}

/// The row labels of statistics with quantiles `qs`: `count`, `mean`, `std`, `min`, a
/// percentage per quantile, `max`.
pub(super) fn rows_for(qs: &[f64]) -> Vec<String> {
    let mut rows: Vec<String> = STATS[..4].iter().map(|s| s.to_string()).collect();
    rows.extend(qs.iter().map(|&q| percentile_label(q)));
    rows.push("max".into());
    rows
}

/// pandas' label of quantile `q`: its percentage with as few decimals as show it (`25%`,
/// `12.5%`, `99.9%`), at most ten.
pub(super) fn percentile_label(q: f64) -> String {
    let p = q * 100.0;
    let mut d = 0;
    while d < 10
        && format!("{p:.d$}")
            .parse::<f64>()
            .map_or(true, |x| (x - p).abs() > 1e-9)
    {
        d += 1;
    }
    format!("{p:.d$}%")
}

pub(super) fn describe(df: &DataFrame, budget: usize) -> Delayed<Description> {
    describe_of(df, &QS, budget)
}

/// `describe` with quantiles `qs`.
pub(super) fn describe_of(df: &DataFrame, qs: &[f64], budget: usize) -> Delayed<Description> {
    stats(df, Wanted::numeric(df, qs), budget, PART_SAMPLE)
}

/// The statistics `wanted` asks for, holding at most `budget` values between passes.
pub(super) fn stats_of(df: &DataFrame, wanted: Wanted, budget: usize) -> Delayed<Description> {
    stats(df, wanted, budget, PART_SAMPLE)
}

fn stats(
    df: &DataFrame,
    wanted: Wanted,
    budget: usize,
    part_sample: usize,
) -> Delayed<Description> {
    let Wanted {
        prefix,
        cols: numeric,
        qs,
        rows,
    } = wanted;
    let nq = qs.len();
    let names: Vec<String> = numeric
        .iter()
        .map(|&i| df.schema.names[i].clone())
        .collect();
    let name = move |step: &str| {
        if step.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}-{step}")
        }
    };

    // Pass 1: each partition's values (held while the budget allows) and sketch.
    let budget = Arc::new(AtomicUsize::new(budget));
    let cols = numeric.clone();
    let parts = df.partition_tasks(&layer_name(&name("read")), None, move |_, t| {
        let (values, summaries) = summarised_values(t, &cols);
        let samples = values.iter().map(|v| Sample::of(v, part_sample)).collect();
        let n = values.iter().map(Vec::len).sum();
        Ok(Part {
            sketch: Sketch { summaries, samples },
            values: Reserved::take(&budget, n).map(|r| Arc::new((values, r))),
        })
    });
    let sketches = per_part(&parts, &name("sketch"), |inp: &mut Inputs<'_>| {
        Ok(inp.get::<Part>(0)?.sketch.clone())
    });
    // Where each partition is: the passes that may read it again run there.
    let anchors = per_part(&parts, &name("anchor"), |_: &mut Inputs<'_>| Ok(()));
    let sketch = tree(sketches, &name("sketch-combine"), Sketch::merge);
    let qs1 = qs.clone();
    let plan = step(&name("plan"), vec![sketch], move |inp| {
        let s: Sketch = inp.take(0)?;
        Ok(Plan {
            columns: s
                .summaries
                .into_iter()
                .zip(&s.samples)
                .map(|(summary, sample)| plan_column(summary, sample, &qs1))
                .collect(),
        })
    });

    // Pass 2: deviations and windows, on each partition's values where they are.
    let windows: Vec<NodeRef> = parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            let (gen, cols) = (df.gen.clone(), numeric.clone());
            let input = df.inputs[i].clone();
            let has_input = input.is_some();
            let body = move |inp: &mut Inputs<'_>| -> TaskResult {
                let last = inp.len() - 1;
                if let Some(held) = &inp.get::<Part>(0)?.values {
                    return Ok(Value::new(Found::of(inp.get(last)?, &held.0)));
                }
                // the budget let the values go: read the partition again
                let v = if has_input {
                    Some(inp.take_value(1)?)
                } else {
                    None
                };
                let values = numeric_values(gen(i, v)?, &cols);
                Ok(Value::new(Found::of(inp.get(last)?, &values)))
            };
            let mut deps = vec![part.clone()];
            deps.extend(input);
            deps.push(plan.clone());
            crate::node::new_wired_node(
                Key::index(layer_name(&name("windows")), &[i as u64]),
                Deps::from(deps),
                NodeKind::Call,
                false,
                Some(crate::wire_of::<Found>()),
                body,
            )
        })
        .collect();
    let found = tree(windows, &name("windows-combine"), Found::merge);
    let (names1, rows1, qs1) = (names.clone(), rows.clone(), qs.clone());
    let outcome = step(&name("found"), vec![plan, found], move |inp| {
        let plan: Plan = inp.take(0)?;
        let found: Found = inp.take(1)?;
        let mut out = Outcome {
            done: None,
            stats: Vec::new(),
            missing: Vec::new(),
            summaries: Vec::new(),
        };
        for ((c, (dev, below)), inside) in plan
            .columns
            .into_iter()
            .zip(found.dev.iter().zip(&found.below))
            .zip(found.inside)
        {
            let n = c.summary.n;
            let ranks = ranks_of(n.max(1), &qs1);
            let order = c.order.or_else(|| in_windows(&ranks, below, inside));
            let mut stats = empty_stats(nq);
            if n > 0 {
                stats[0] = n as f64;
                stats[1] = c.summary.sum.get() / n as f64;
                if n > 1 {
                    stats[2] = (dev.get() / (n - 1) as f64).sqrt();
                }
                stats[3] = c.summary.min;
                stats[4 + nq] = c.summary.max;
                if let Some(order) = &order {
                    for k in 0..nq {
                        stats[4 + k] = lerp(order[2 * k], order[2 * k + 1], ranks[k].2);
                    }
                }
            }
            out.missing.push(n > 0 && order.is_none());
            out.stats.push(stats);
            out.summaries.push(c.summary);
        }
        if !out.missing.contains(&true) {
            out.done = Some(Description {
                columns: names1.clone(),
                rows: rows1.clone(),
                values: out.stats.clone(),
            });
        }
        Ok(out)
    });

    // Passes 3 and 4 (only for a column whose window missed): bins, then their values.
    let cols = numeric.clone();
    let hist_parts = refine_pass(
        df,
        &anchors,
        &outcome,
        &name("bins"),
        move |o: &Outcome, t| {
            let values = numeric_values(t, &cols);
            values
                .iter()
                .zip(&o.summaries)
                .zip(&o.missing)
                .map(|((v, s), &missing)| {
                    if !missing {
                        return Vec::new();
                    }
                    let mut h = vec![0u64; BINS];
                    v.iter().for_each(|&x| h[bin_of(s, x)] += 1);
                    h
                })
                .collect::<Vec<Vec<u64>>>()
        },
    );
    let hist = tree(
        hist_parts,
        &name("bins-combine"),
        |mut a: Vec<Vec<u64>>, b: Vec<Vec<u64>>| {
            a.iter_mut()
                .zip(b)
                .for_each(|(x, y)| x.iter_mut().zip(y).for_each(|(p, q)| *p += q));
            a
        },
    );
    let qs1 = qs.clone();
    let located = step(&name("locate"), vec![outcome, hist], move |inp| {
        let outcome: Outcome = inp.take(0)?;
        let hist: Vec<Vec<u64>> = inp.take(1)?;
        let wanted = if outcome.done.is_some() {
            Vec::new()
        } else {
            outcome
                .summaries
                .iter()
                .zip(&hist)
                .map(|(s, h)| {
                    let (mut below, mut b) = (0u64, 0usize);
                    let mut out = Vec::new();
                    if h.is_empty() {
                        return out;
                    }
                    for r in needed_ranks(s.n, &qs1) {
                        while b < BINS - 1 && below + h[b] <= r {
                            below += h[b];
                            b += 1;
                        }
                        out.push((r, b, below));
                    }
                    out
                })
                .collect()
        };
        Ok(Located { outcome, wanted })
    });
    let cols = numeric;
    let pick_parts = refine_pass(
        df,
        &anchors,
        &located,
        &name("pick"),
        move |l: &Located, t| {
            let values = numeric_values(t, &cols);
            values
                .iter()
                .zip(&l.outcome.summaries)
                .zip(&l.wanted)
                .map(|((v, s), want)| {
                    let bins: Vec<usize> = want.iter().map(|w| w.1).collect();
                    if bins.is_empty() {
                        return Vec::new();
                    }
                    v.iter()
                        .copied()
                        .filter(|&x| bins.contains(&bin_of(s, x)))
                        .collect()
                })
                .collect::<Vec<Vec<f64>>>()
        },
    );
    let picked = tree(
        pick_parts,
        &name("pick-combine"),
        |mut a: Vec<Vec<f64>>, b: Vec<Vec<f64>>| {
            a.iter_mut().zip(b).for_each(|(x, mut y)| x.append(&mut y));
            a
        },
    );
    Delayed::from_node(step(&name(""), vec![located, picked], move |inp| {
        let located: Located = inp.take(0)?;
        if let Some(d) = located.outcome.done {
            return Ok(d);
        }
        let picked: Vec<Vec<f64>> = inp.take(1)?;
        let mut values = located.outcome.stats;
        for (((stats, s), want), mut vals) in values
            .iter_mut()
            .zip(&located.outcome.summaries)
            .zip(&located.wanted)
            .zip(picked)
        {
            if want.is_empty() {
                continue;
            }
            vals.sort_by(f64::total_cmp);
            // order statistic r lies in bin b after `below` smaller values: its index among
            // the picked values counts the picked values of earlier bins too
            let at = |r: u64| -> f64 {
                if s.max <= s.min {
                    return s.min;
                }
                let Some(&(_, b, below)) = want.iter().find(|w| w.0 == r) else {
                    return f64::NAN;
                };
                let earlier = vals.partition_point(|&x| bin_of(s, x) < b) as u64;
                vals.get((r - below + earlier) as usize)
                    .copied()
                    .unwrap_or(f64::NAN)
            };
            for (k, &(lo, hi, t)) in ranks_of(s.n, &qs).iter().enumerate() {
                stats[4 + k] = lerp(at(lo), at(hi), t);
            }
        }
        Ok(Description {
            columns: names.clone(),
            rows: rows.clone(),
            values,
        })
    }))
}

/// One task per partition reading `plan`'s result: when the plan is already complete it
/// returns an empty result without reading the partition, else `f` over the partition.
/// Each runs with its partition's anchor (a value of nothing, where the partition was read).
fn refine_pass<P, S>(
    df: &DataFrame,
    anchors: &[NodeRef],
    plan: &NodeRef,
    name: &str,
    f: impl Fn(&P, super::Table) -> S + Send + Sync + 'static,
) -> Vec<NodeRef>
where
    P: crate::delayed::Data + Finished,
    S: crate::Wired + Default,
{
    let f = Arc::new(f);
    let name = layer_name(name);
    df.inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let gen = df.gen.clone();
            let f = f.clone();
            let has_input = input.is_some();
            let body = move |inp: &mut Inputs<'_>| -> TaskResult {
                let p: &P = inp.get(inp.len() - 1)?;
                if p.finished() {
                    return Ok(Value::new(S::default()));
                }
                let v = if has_input {
                    Some(inp.take_value(0)?)
                } else {
                    None
                };
                let p: &P = inp.get(inp.len() - 1)?;
                Ok(Value::new(f(p, gen(i, v)?)))
            };
            let mut deps: Vec<NodeRef> = input.iter().cloned().collect();
            deps.extend([anchors[i].clone(), plan.clone()]);
            crate::node::new_wired_node(
                Key::index(name.clone(), &[i as u64]),
                Deps::from(deps),
                NodeKind::Call,
                false,
                Some(crate::wire_of::<S>()),
                body,
            )
        })
        .collect()
}

trait Finished {
    fn finished(&self) -> bool;
}

impl Finished for Outcome {
    fn finished(&self) -> bool {
        self.done.is_some()
    }
}

impl Finished for Located {
    fn finished(&self) -> bool {
        self.outcome.done.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bag as db;
    use crate::Scheduler;
    use proptest::prelude::*;

    /// pandas' description of `xs` with quantiles `qs`, the plain way: sort everything and
    /// interpolate as numpy's `_lerp` (written out here, not `column_stats::lerp`).
    fn sorted_stats(xs: &[f64], qs: &[f64]) -> Vec<f64> {
        let mut v = xs.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n == 0 {
            let mut e = vec![f64::NAN; qs.len() + 5];
            e[0] = 0.0;
            return e;
        }
        let q = |q: f64| {
            let pos = q * (n - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            let t = pos - lo as f64;
            let d = v[hi] - v[lo];
            if t >= 0.5 {
                v[hi] - d * (1.0 - t)
            } else {
                v[lo] + d * t
            }
        };
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
        let mut out = vec![n as f64, mean, var.sqrt(), v[0]];
        out.extend(qs.iter().map(|&p| q(p)));
        out.push(v[n - 1]);
        out
    }

    fn same(got: f64, want: f64, k: usize) -> bool {
        if want.is_nan() {
            return got.is_nan();
        }
        // The largest of -0 and 0 is either (NumPy's reductions keep whichever their loop
        // meets first); the sorted oracle puts -0 first.
        if got == 0.0 && want == 0.0 {
            return true;
        }
        if (k == 1 || k == 2) && want.is_finite() {
            (got - want).abs() <= 1e-9 * (1.0 + want.abs())
        } else {
            got.to_bits() == want.to_bits()
        }
    }

    /// Describes `xs` in `parts` partitions with a sample of `sample` points per partition
    /// and compares with the sorted values, on both schedulers.
    fn check(xs: &[f64], parts: usize, budget: usize, sample: usize) -> Result<(), TestCaseError> {
        check_qs(xs, parts, budget, sample, &QS)
    }

    /// [`check`] with quantiles `qs`.
    fn check_qs(
        xs: &[f64],
        parts: usize,
        budget: usize,
        sample: usize,
        qs: &[f64],
    ) -> Result<(), TestCaseError> {
        let df = db::from_sequence(xs.iter().map(|&x| (x,)).collect::<Vec<_>>(), parts)
            .unwrap()
            .to_dataframe(&["x"])
            .unwrap();
        let want = sorted_stats(xs, qs);
        let wanted = Wanted::numeric(&df, qs);
        let rows = wanted.rows.clone();
        let d = stats(&df, wanted, budget, sample);
        let sync = d.compute_with(Scheduler::sync()).unwrap();
        let threads = d.compute_with(Scheduler::threads(2)).unwrap();
        prop_assert_eq!(sync.rows(), &rows[..]);
        for (k, stat) in rows.iter().enumerate() {
            let got = sync.get(stat, "x").unwrap();
            prop_assert_eq!(got.to_bits(), threads.get(stat, "x").unwrap().to_bits());
            prop_assert!(same(got, want[k], k), "{}: {} vs {}", stat, got, want[k]);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn quartiles_are_the_sorted_values(
            xs in proptest::collection::vec(-1e3f64..1e3, 0..400),
            dup in 0u32..4,
            order in 0u8..3,
            parts in 1usize..7,
            budget in proptest::sample::select(vec![0usize, 50, 1 << 20]),
            sample in proptest::sample::select(vec![1usize, 2, 5, 16, 1 << 14]),
        ) {
            let mut xs = xs;
            for x in xs.iter_mut() {
                // few distinct values when dup > 0
                if dup > 0 { *x = (*x / 10f64.powi(dup as i32)).round(); }
            }
            match order { 1 => xs.sort_by(f64::total_cmp), 2 => xs.sort_by(|a, b| b.total_cmp(a)), _ => {} }
            check(&xs, parts, budget, sample)?;
        }

        #[test]
        fn any_quantiles_are_the_sorted_values(
            xs in proptest::collection::vec(-1e3f64..1e3, 0..300),
            dup in 0u32..3,
            order in 0u8..3,
            parts in 1usize..6,
            budget in proptest::sample::select(vec![0usize, 50, 1 << 20]),
            sample in proptest::sample::select(vec![1usize, 3, 16, 1 << 14]),
            qs in proptest::collection::vec(0.0f64..=1.0, 0..7),
            ends in any::<bool>(),
        ) {
            let mut xs = xs;
            for x in xs.iter_mut() {
                if dup > 0 { *x = (*x / 10f64.powi(dup as i32)).round(); }
            }
            match order { 1 => xs.sort_by(f64::total_cmp), 2 => xs.sort_by(|a, b| b.total_cmp(a)), _ => {} }
            let mut qs = qs;
            if ends { qs.extend([1.0, 0.0]); }
            check_qs(&xs, parts, budget, sample, &qs)?;
        }
    }

    fn uniform(n: usize, seed: u64) -> Vec<f64> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 11) as f64 / (1u64 << 53) as f64
            })
            .collect()
    }

    #[test]
    fn windows_hold_the_quartiles_of_large_columns() {
        // well-behaved data: the windows hold each order statistic and a small share of values
        let xs = uniform(200_000, 1);
        let mut sketch = Sketch::default();
        let mut founds = Vec::new();
        let parts: Vec<Vec<f64>> = xs.chunks(50_000).map(|c| c.to_vec()).collect();
        for p in &parts {
            let s = Sketch {
                summaries: vec![Summary::of(p)],
                samples: vec![Sample::of(p, 1 << 10)],
            };
            sketch = if sketch.summaries.is_empty() {
                s
            } else {
                sketch.merge(s)
            };
        }
        let plan = Plan {
            columns: vec![plan_column(sketch.summaries[0], &sketch.samples[0], &QS)],
        };
        assert!(plan.columns[0].order.is_none());
        for p in &parts {
            founds.push(Found::of(&plan, std::slice::from_ref(p)));
        }
        let found = founds.into_iter().reduce(Found::merge).unwrap();
        let inside: usize = found.inside[0].iter().map(Vec::len).sum();
        // about 2 * 6 standard errors of each of the three quartiles' estimates
        assert!(inside < xs.len() / 3, "{inside} values in the windows");
        let inside = found.inside[0].clone();
        assert!(in_windows(&ranks_of(xs.len() as u64, &QS), &found.below[0], inside).is_some());
        check(&xs, 4, 1 << 20, 1 << 10).unwrap();
        check(&xs, 4, 0, 1 << 10).unwrap();
    }

    #[test]
    fn a_sample_that_misses_falls_back_to_bins() {
        // every sampled position holds 0.0, the rest lies in [1, 2): the windows miss
        let (n, m) = (100_000usize, 1024usize);
        let mut xs: Vec<f64> = uniform(n, 7).into_iter().map(|x| 1.0 + x).collect();
        for k in 0..m {
            xs[(2 * k + 1) * n / (2 * m)] = 0.0;
        }
        let s = Sample::of(&xs, m);
        let plan = plan_column(Summary::of(&xs), &s, &QS);
        let found = Found::of(
            &Plan {
                columns: vec![plan],
            },
            std::slice::from_ref(&xs),
        );
        let inside = found.inside[0].clone();
        assert!(in_windows(&ranks_of(n as u64, &QS), &found.below[0], inside).is_none());
        check(&xs, 1, 1 << 20, m).unwrap();
        check(&xs, 1, 0, m).unwrap();
        // the same miss for other quantiles, one or several (more than a group of four windows)
        let many = [0.01, 0.1, 0.3, 0.5, 0.62, 0.9, 0.99];
        check_qs(&xs, 1, 1 << 20, m, &[0.9]).unwrap();
        check_qs(&xs, 1, 0, m, &many).unwrap();
        check_qs(&xs, 3, 1 << 20, m, &many).unwrap();
        // a constant column and extreme values
        check(&[7.5; 300], 3, 1 << 20, 4).unwrap();
        check(
            &[f64::MIN_POSITIVE, 0.0, 1e300, 1.0, -2.0, 3.0],
            2,
            1 << 20,
            1,
        )
        .unwrap();
    }

    #[test]
    fn the_budget_is_given_back() {
        let budget = Arc::new(AtomicUsize::new(10));
        let a = Reserved::take(&budget, 6).unwrap();
        assert!(Reserved::take(&budget, 6).is_none());
        drop(a);
        assert!(Reserved::take(&budget, 10).is_some());
        assert_eq!(budget.load(Ordering::Acquire), 10);
    }
}
