//! `describe`: count, mean, std, min, quartiles and max of every numeric column, exact.

use super::column_stats::{column_stats, lerp, sum_of, Summary, EMPTY};
use super::table::{format_floats, write_grid, Column};
use super::DataFrame;
use crate::bag::layer_name;
use crate::delayed::Delayed;
use crate::node::{Deps, NodeKind, NodeRef};
use crate::tree::combine_tree;
use crate::Error;
use dagr_runtime::{Inputs, Key, TaskResult};
use std::fmt;
use std::sync::Arc;

/// The row labels of a description, in order.
pub const STATS: [&str; 8] = ["count", "mean", "std", "min", "25%", "50%", "75%", "max"];

/// The result of [`DataFrame::describe`]: one column of statistics per numeric column,
/// computed as pandas does (std with ddof = 1, quartiles by linear interpolation between
/// order statistics, nulls skipped). Quartiles are exact in bounded memory: while the
/// numeric values fit the memory budget (see [`DataFrame::describe_with`]) they are gathered
/// (8 bytes a value, never copied) and each column's statistics are computed from them in
/// one more pass, columns in parallel (each order statistic selected among the values of a
/// window that a sample places around it, or of a histogram bin when the window misses it);
/// mean and std within a few units in the last place of pandas'. Past it, two more passes over the
/// data find each needed order statistic through a 65 536-bin histogram and read back only
/// the values of those bins (exact, in memory proportional to the values sharing a bin with
/// a quartile), and mean and std come from mergeable moments (Chan et al.), equal to
/// pandas' to within floating-point rounding.
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
    /// `values[c][s]`: statistic `STATS[s]` of column `c`.
    values: Vec<[f64; 8]>,
}

impl Description {
    /// The described columns.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Statistic `stat` (a row label: `"count"`, `"mean"`, …, `"75%"`, `"max"`) of `column`.
    pub fn get(&self, stat: &str, column: &str) -> Result<f64, Error> {
        let s = STATS
            .iter()
            .position(|&x| x == stat)
            .ok_or_else(|| Error::InvalidArgument {
                what: "Description::get",
                message: format!("no statistic {stat:?} (rows: {STATS:?})"),
            })?;
        let c = super::table::position(&self.columns, column)?;
        Ok(self.values[c][s])
    }
}

impl fmt::Display for Description {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let index: Vec<String> = STATS.iter().map(|s| s.to_string()).collect();
        let cells: Vec<Vec<String>> = self.values.iter().map(|v| format_floats(v)).collect();
        write_grid(f, &index, &self.columns, &cells)
    }
}

fn sum(xs: &[f64]) -> f64 {
    sum_of(xs, |x| x).get()
}

/// Default memory budget of [`DataFrame::describe`]: 2^27 values (1 GiB of floats).
pub const DEFAULT_BUDGET: usize = 1 << 27;

/// Bins of the histogram pass when the values do not fit the budget.
const BINS: usize = 1 << 16;

/// Mergeable moments and extremes of one column (Chan et al.'s parallel variance).
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
struct Moments {
    n: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
}

impl Moments {
    /// Two passes over `v`: the mean from a compensated sum, then the squared deviations.
    fn of(v: &[f64]) -> Moments {
        let n = v.len() as u64;
        if n == 0 {
            return Moments {
                n,
                mean: 0.0,
                m2: 0.0,
                min: f64::INFINITY,
                max: f64::NEG_INFINITY,
            };
        }
        let mean = sum(v) / n as f64;
        Moments {
            n,
            mean,
            m2: sum_of(v, |x| (x - mean) * (x - mean)).get(),
            min: v.iter().copied().fold(f64::INFINITY, f64::min),
            max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }

    fn merge(&mut self, o: &Moments) {
        if o.n == 0 {
            return;
        }
        let n = self.n + o.n;
        let d = o.mean - self.mean;
        self.mean += d * o.n as f64 / n as f64;
        self.m2 += o.m2 + d * d * self.n as f64 * o.n as f64 / n as f64;
        self.n = n;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }
}

/// Per column, the values gathered so far, as the partitions' chunks in partition order
/// (combining moves chunks, never values), and their summary.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Kept {
    summaries: Vec<Summary>,
    #[serde(with = "crate::wire::f64_chunks")]
    chunks: Vec<Vec<Vec<f64>>>,
}

impl Kept {
    fn len(&self) -> usize {
        self.summaries.iter().map(|s| s.n as usize).sum()
    }
}

/// Pass 1: the values while they all fit the budget; past it, the moments of the values
/// let go (computed when they are let go).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Gathered {
    dropped: Vec<Moments>,
    kept: Option<Kept>,
}

impl Gathered {
    /// Lets the kept values go, keeping their moments.
    fn drop_values(&mut self) {
        if let Some(k) = self.kept.take() {
            for (m, chunks) in self.dropped.iter_mut().zip(&k.chunks) {
                chunks.iter().for_each(|c| m.merge(&Moments::of(c)));
            }
        }
    }
}

/// After pass 1: either the answer, or what pass 2 must look for.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Plan1 {
    done: Option<Description>,
    moments: Vec<Moments>,
}

/// After pass 2: per column, the (rank, bin, values in earlier bins) of each order
/// statistic the quartiles need.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Plan2 {
    done: Option<Description>,
    moments: Vec<Moments>,
    wanted: Vec<Vec<(u64, usize, u64)>>,
}

fn bin_of(m: &Moments, x: f64) -> usize {
    if m.max <= m.min {
        return 0;
    }
    (((x - m.min) / (m.max - m.min) * BINS as f64) as usize).min(BINS - 1)
}

/// The order statistics the linear quartiles need: floor and ceiling of `q * (n - 1)`.
fn ranks(n: u64) -> Vec<u64> {
    let mut r = Vec::new();
    for q in [0.25, 0.5, 0.75] {
        let pos = q * (n.saturating_sub(1)) as f64;
        let lo = pos.floor() as u64;
        r.push(lo);
        r.push((lo + 1).min(n.saturating_sub(1)));
    }
    r.sort_unstable();
    r.dedup();
    r
}

fn lerp_rank(n: u64, q: f64, at: impl Fn(u64) -> f64) -> f64 {
    if n == 0 {
        return f64::NAN;
    }
    let pos = q * (n - 1) as f64;
    let lo = pos.floor() as u64;
    let hi = (lo + 1).min(n - 1);
    lerp(at(lo), at(hi), pos - lo as f64)
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
    let combine = move |parts: Vec<S>| -> Result<S, dagr_runtime::TaskError> {
        let mut it = parts.into_iter();
        let first = it
            .next()
            .ok_or_else(|| dagr_runtime::TaskError::new("nothing to combine"))?;
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

pub(super) fn describe(df: &DataFrame, budget: usize) -> Delayed<Description> {
    let numeric: Vec<usize> = (0..df.schema.dtypes.len())
        .filter(|&i| df.schema.dtypes[i].is_numeric())
        .collect();
    let names: Vec<String> = numeric
        .iter()
        .map(|&i| df.schema.names[i].clone())
        .collect();

    // Pass 1: every value while the total stays within the budget (else moments).
    let cols = numeric.clone();
    let parts = df.partition_nodes_with(&layer_name("describe-gather"), move |_, t| {
        let (values, summaries) = summarised_values(t, &cols);
        let mut g = Gathered {
            dropped: vec![Moments::of(&[]); values.len()],
            kept: Some(Kept {
                summaries,
                chunks: values.into_iter().map(|v| vec![v]).collect(),
            }),
        };
        if g.kept.as_ref().is_some_and(|k| k.len() > budget) {
            g.drop_values();
        }
        Ok(g)
    });
    let gathered = tree(
        parts,
        "describe-combine",
        move |mut a: Gathered, mut b: Gathered| {
            let fits = match (&a.kept, &b.kept) {
                (Some(x), Some(y)) => x.len() + y.len() <= budget,
                _ => false,
            };
            if !fits {
                a.drop_values();
                b.drop_values();
            }
            a.dropped
                .iter_mut()
                .zip(&b.dropped)
                .for_each(|(x, y)| x.merge(y));
            if let (Some(x), Some(y)) = (&mut a.kept, b.kept) {
                x.summaries
                    .iter_mut()
                    .zip(&y.summaries)
                    .for_each(|(p, q)| p.merge(q));
                x.chunks
                    .iter_mut()
                    .zip(y.chunks)
                    .for_each(|(p, q)| p.extend(q));
            }
            a
        },
    );
    // The exact statistics of each column, columns in parallel (each reads the gathered
    // chunks in place).
    let column_nodes: Vec<NodeRef> = (0..numeric.len())
        .map(|j| {
            let body = move |inp: &mut Inputs<'_>| -> TaskResult {
                let g: &Gathered = inp.get(0)?;
                let out: Option<[f64; 8]> = g
                    .kept
                    .as_ref()
                    .map(|k| column_stats(&k.summaries[j], &k.chunks[j]));
                Ok(Arc::new(out))
            };
            crate::node::new_wired_node(
                Key::index(layer_name("describe-column"), &[j as u64]),
                Deps::One([gathered.clone()]),
                NodeKind::Call,
                false,
                Some(crate::wire_of::<Option<[f64; 8]>>()),
                body,
            )
        })
        .collect();
    let names1 = names.clone();
    let plan1 = {
        let body = move |inp: &mut Inputs<'_>| -> TaskResult {
            let done = (1..inp.len())
                .map(|k| inp.take::<Option<[f64; 8]>>(k))
                .collect::<Result<Option<Vec<[f64; 8]>>, _>>()?;
            let g: &Gathered = inp.get(0)?;
            let done = match (&g.kept, done) {
                (Some(_), Some(values)) => Some(Description {
                    columns: names1.clone(),
                    values,
                }),
                _ => None,
            };
            Ok(Arc::new(Plan1 {
                done,
                moments: g.dropped.clone(),
            }))
        };
        let mut deps = vec![gathered];
        deps.extend(column_nodes);
        crate::node::new_wired_node(
            Key::index(layer_name("describe-plan"), &[0]),
            Deps::from(deps),
            NodeKind::Call,
            false,
            Some(crate::wire_of::<Plan1>()),
            body,
        )
    };

    // Pass 2 (only when pass 1 overflowed): histograms locating each needed order statistic.
    let cols = numeric.clone();
    let hist_parts = refine_pass(df, &plan1, "describe-histogram", move |p: &Plan1, t| {
        let values = numeric_values(t, &cols);
        values
            .iter()
            .zip(&p.moments)
            .map(|(v, m)| {
                let mut h = vec![0u64; BINS];
                v.iter().for_each(|&x| h[bin_of(m, x)] += 1);
                h
            })
            .collect::<Vec<Vec<u64>>>()
    });
    let hist = tree(
        hist_parts,
        "describe-histogram-sum",
        |mut a: Vec<Vec<u64>>, b: Vec<Vec<u64>>| {
            a.iter_mut()
                .zip(b)
                .for_each(|(x, y)| x.iter_mut().zip(y).for_each(|(p, q)| *p += q));
            a
        },
    );
    let plan2 = {
        let body = |inp: &mut Inputs<'_>| -> TaskResult {
            let p1: Plan1 = inp.take(0)?;
            let hist: Vec<Vec<u64>> = inp.take(1)?;
            let wanted = if p1.done.is_some() {
                Vec::new()
            } else {
                p1.moments
                    .iter()
                    .zip(&hist)
                    .map(|(m, h)| {
                        let mut out = Vec::new();
                        let (mut below, mut b) = (0u64, 0usize);
                        for r in ranks(m.n) {
                            while b < BINS && below + h[b] <= r {
                                below += h[b];
                                b += 1;
                            }
                            out.push((r, b.min(BINS - 1), below));
                        }
                        out
                    })
                    .collect()
            };
            Ok(Arc::new(Plan2 {
                done: p1.done,
                moments: p1.moments,
                wanted,
            }))
        };
        crate::node::new_wired_node(
            Key::index(layer_name("describe-locate"), &[0]),
            Deps::Two([plan1, hist]),
            NodeKind::Call,
            false,
            Some(crate::wire_of::<Plan2>()),
            body,
        )
    };

    // Pass 3: the values of the few bins holding the order statistics.
    let cols = numeric;
    let pick_parts = refine_pass(df, &plan2, "describe-pick", move |p: &Plan2, t| {
        let values = numeric_values(t, &cols);
        values
            .iter()
            .zip(&p.moments)
            .zip(&p.wanted)
            .map(|((v, m), want)| {
                if m.max <= m.min {
                    return Vec::new(); // a constant column: every order statistic is known
                }
                let bins: Vec<usize> = want.iter().map(|w| w.1).collect();
                v.iter()
                    .copied()
                    .filter(|&x| bins.contains(&bin_of(m, x)))
                    .collect()
            })
            .collect::<Vec<Vec<f64>>>()
    });
    let picked = tree(
        pick_parts,
        "describe-pick-combine",
        |mut a: Vec<Vec<f64>>, b: Vec<Vec<f64>>| {
            a.iter_mut().zip(b).for_each(|(x, mut y)| x.append(&mut y));
            a
        },
    );
    let body = move |inp: &mut Inputs<'_>| -> TaskResult {
        let p2: Plan2 = inp.take(0)?;
        if let Some(d) = p2.done {
            return Ok(Arc::new(d));
        }
        let picked: Vec<Vec<f64>> = inp.take(1)?;
        let values = p2
            .moments
            .iter()
            .zip(&p2.wanted)
            .zip(picked)
            .map(|((m, want), mut vals)| {
                if m.n == 0 {
                    return EMPTY;
                }
                let bins: Vec<usize> = want.iter().map(|w| w.1).collect();
                vals.sort_by(f64::total_cmp);
                // order statistic r lies in bin b after `below` smaller values: its index
                // among the picked values counts the picked values of earlier bins too
                let at = |r: u64| -> f64 {
                    if m.max <= m.min {
                        return m.min;
                    }
                    let &(_, b, below) = want.iter().find(|w| w.0 == r).unwrap_or(&want[0]);
                    let earlier_picked = vals
                        .iter()
                        .filter(|&&x| bin_of(m, x) < b && bins.contains(&bin_of(m, x)))
                        .count() as u64;
                    let idx = (r - below + earlier_picked) as usize;
                    vals.get(idx).copied().unwrap_or(f64::NAN)
                };
                let std = if m.n > 1 {
                    (m.m2 / (m.n - 1) as f64).sqrt()
                } else {
                    f64::NAN
                };
                [
                    m.n as f64,
                    m.mean,
                    std,
                    m.min,
                    lerp_rank(m.n, 0.25, at),
                    lerp_rank(m.n, 0.5, at),
                    lerp_rank(m.n, 0.75, at),
                    m.max,
                ]
            })
            .collect();
        Ok(Arc::new(Description {
            columns: names.clone(),
            values,
        }))
    };
    Delayed::from_node(crate::node::new_wired_node(
        Key::index(layer_name("describe"), &[0]),
        Deps::Two([plan2, picked]),
        NodeKind::Call,
        false,
        Some(crate::wire_of::<Description>()),
        body,
    ))
}

/// One task per partition reading `plan`'s result: when the plan is already complete it
/// returns an empty result without reading the partition, else `f` over the partition.
fn refine_pass<P, S>(
    df: &DataFrame,
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
                    return Ok(Arc::new(S::default()));
                }
                let v = if has_input {
                    Some(inp.take_value(0)?)
                } else {
                    None
                };
                let p: &P = inp.get(inp.len() - 1)?;
                Ok(Arc::new(f(p, gen(i, v)?)))
            };
            let deps = match input {
                Some(n) => Deps::Two([n.clone(), plan.clone()]),
                None => Deps::One([plan.clone()]),
            };
            crate::node::new_wired_node(
                Key::index(name.clone(), &[i as u64]),
                deps,
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

impl Finished for Plan1 {
    fn finished(&self) -> bool {
        self.done.is_some()
    }
}

impl Finished for Plan2 {
    fn finished(&self) -> bool {
        self.done.is_some()
    }
}
