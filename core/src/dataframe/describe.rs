//! `describe`: count, mean, std, min, quartiles and max of every numeric column, exact.

use super::table::{format_floats, write_grid, Column};
use super::DataFrame;
use crate::bag::layer_name;
use crate::delayed::Delayed;
use crate::node::{new_node, Deps, NodeKind, NodeRef};
use crate::Error;
use dagr_runtime::{Inputs, Key, TaskResult};
use std::fmt;
use std::sync::Arc;

/// The row labels of a description, in order.
pub const STATS: [&str; 8] = ["count", "mean", "std", "min", "25%", "50%", "75%", "max"];

/// The result of [`DataFrame::describe`]: one column of statistics per numeric column,
/// computed as pandas does (std with ddof = 1, quartiles by linear interpolation between
/// order statistics, nulls skipped). Values are exact: every column's values are gathered
/// to find the quartiles, so the numeric columns must fit in memory (8 bytes per value).
///
/// ```
/// use dagr_core::bag as db;
/// let df = db::from_sequence(vec![(1.0_f64,), (2.0,), (3.0,), (4.0,)], 2)?.to_dataframe(&["x"])?;
/// let d = df.describe().compute()?;
/// assert_eq!(d.get("count", "x")?, 4.0);
/// assert_eq!(d.get("25%", "x")?, 1.75);
/// assert!((d.get("std", "x")? - 1.2909944487358056).abs() < 1e-15);
/// println!("{d}");
/// # Ok::<(), dagr_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
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

/// Neumaier-compensated sum: close to numpy's pairwise sum on long columns.
fn sum(xs: &[f64]) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for &x in xs {
        let t = s + x;
        c += if s.abs() >= x.abs() {
            (s - t) + x
        } else {
            (x - t) + s
        };
        s = t;
    }
    s + c
}

/// numpy's linear interpolation (`_lerp`), exact at the ends.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

/// Quantile `q` of `v` (method "linear"), selecting order statistics in place.
fn quantile(v: &mut [f64], q: f64) -> f64 {
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    let pos = q * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let (_, a, rest) = v.select_nth_unstable_by(lo, f64::total_cmp);
    let a = *a;
    let b = if hi == lo {
        a
    } else {
        rest.iter().copied().fold(f64::INFINITY, f64::min)
    };
    lerp(a, b, pos - lo as f64)
}

fn stats(mut v: Vec<f64>) -> [f64; 8] {
    let n = v.len();
    if n == 0 {
        return [
            0.0,
            f64::NAN,
            f64::NAN,
            f64::NAN,
            f64::NAN,
            f64::NAN,
            f64::NAN,
            f64::NAN,
        ];
    }
    let mean = sum(&v) / n as f64;
    let dev: Vec<f64> = v.iter().map(|x| (x - mean) * (x - mean)).collect();
    let std = if n > 1 {
        (sum(&dev) / (n - 1) as f64).sqrt()
    } else {
        f64::NAN
    };
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let q1 = quantile(&mut v, 0.25);
    let q2 = quantile(&mut v, 0.5);
    let q3 = quantile(&mut v, 0.75);
    [n as f64, mean, std, min, q1, q2, q3, max]
}

pub(super) fn describe(df: &DataFrame) -> Delayed<Description> {
    let numeric: Vec<usize> = (0..df.schema.dtypes.len())
        .filter(|&i| df.schema.dtypes[i].is_numeric())
        .collect();
    let names: Vec<String> = numeric
        .iter()
        .map(|&i| df.schema.names[i].clone())
        .collect();
    let picked = numeric.clone();
    let part_name = layer_name("describe-part");
    // per partition: the non-null values of each numeric column
    let mut level: Vec<NodeRef> = df.partition_nodes_with(&part_name, move |_, t| {
        Ok(picked
            .iter()
            .map(|&i| match &t.columns()[i] {
                Column::F64(v) => v.iter().copied().filter(|x| !x.is_nan()).collect(),
                c => c.to_f64().unwrap_or_default(),
            })
            .collect::<Vec<Vec<f64>>>())
    });
    let agg = layer_name("describe-agg");
    let mut depth = 0;
    while depth == 0 || level.len() > 1 {
        depth += 1;
        level = level
            .chunks(crate::bag::SPLIT_EVERY)
            .enumerate()
            .map(|(j, g)| {
                let body = |inp: &mut Inputs<'_>| -> TaskResult {
                    let mut acc: Vec<Vec<f64>> = inp.take(0)?;
                    for k in 1..inp.len() {
                        let next: Vec<Vec<f64>> = inp.take(k)?;
                        for (a, mut b) in acc.iter_mut().zip(next) {
                            a.append(&mut b);
                        }
                    }
                    Ok(Arc::new(acc))
                };
                new_node(
                    Key::index(agg.clone(), &[depth, j as u64]),
                    Deps::from(g.to_vec()),
                    NodeKind::Call,
                    false,
                    body,
                )
            })
            .collect();
    }
    let body = move |inp: &mut Inputs<'_>| -> TaskResult {
        let cols: Vec<Vec<f64>> = inp.take(0)?;
        Ok(Arc::new(Description {
            columns: names.clone(),
            values: cols.into_iter().map(stats).collect(),
        }))
    };
    let root = level.pop().map_or(Deps::Zero, |n| Deps::One([n]));
    Delayed::from_node(new_node(
        Key::index(layer_name("describe"), &[0]),
        root,
        NodeKind::Call,
        false,
        body,
    ))
}
