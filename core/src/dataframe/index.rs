//! `set_index` (a sort of the whole frame by one column into ranges, its divisions known)
//! and `join` on those index columns (Dask / pandas: `df.set_index(col)`,
//! `df.join(other, how=…)`).
//!
//! dagr has no separate index: a frame's index is one of its columns, named by the frame
//! ([`DataFrame::index_name`]), kept first and as a column. [`DataFrame::set_index`] moves
//! the column first and sorts the rows by it across partitions; its rows then compute to
//! what pandas' `df.set_index(col).sort_index(kind="stable").reset_index()` gives. Partition
//! `i` holds the keys from `divisions[i]` up to (not including) `divisions[i + 1]`, the last
//! one up to its bound included and the null keys after them (Dask's `divisions`).
//!
//! `set_index` computes a sample of the column first, as Dask does: each partition's
//! evenly spaced order statistics, weighted by the partition's number of keys, give the
//! quantiles that cut the key range into as many partitions as the frame has; the rows then
//! move by range through the same exchange as the hash shuffle and each partition is sorted
//! stably. Frames that know their divisions join range by range with no shuffle: with the
//! same divisions partition by partition; else both first split along the union of the
//! two divisions, each output partition reading only the few input partitions overlapping
//! its range.

use super::exchange::{exchange, Finish, Route, ShuffleMethod};
use super::groupby::{key_at, KeyVal};
use super::merge::{join_parts, How, Layout};
use super::table::{position, Column, Table};
use super::{DataFrame, Scalar, Schema};
use crate::bag::layer_name;
use crate::node::{Deps, NodeRef};
use crate::{Delayed, Error};
use dagr_runtime::{Inputs, Key, TaskResult, Value};
use std::sync::Arc;

/// Order statistics each partition contributes to the sample for the divisions.
const SAMPLE: usize = 256;

/// A frame's index: the column rows are sorted and partitioned by, and, when known, the
/// bounds of each partition's keys.
#[derive(Debug)]
pub(super) struct Index {
    pub(super) column: String,
    /// `npartitions + 1` ascending bounds.
    pub(super) divisions: Option<Arc<[KeyVal]>>,
}

/// Evenly spaced order statistics of a partition's non-null keys (the smallest and the
/// largest among them), and how many keys they stand for.
type Sample = (Vec<KeyVal>, u64);

fn sample(c: &Column) -> Sample {
    let n = (0..c.len()).filter(|&i| !c.is_null(i)).count();
    // order statistics of every `step`-th key (at most 16 per pick), then the smallest
    // and largest keys themselves
    let step = (n / (SAMPLE * 16)).max(1);
    let mut v: Vec<KeyVal> = (0..c.len())
        .filter_map(|i| key_at(c, i))
        .enumerate()
        .filter_map(|(j, k)| (j % step == 0).then_some(k))
        .collect();
    v.sort_unstable();
    if step > 1 {
        let all = (0..c.len()).filter_map(|i| key_at(c, i));
        let (lo, hi) = all.fold((None::<KeyVal>, None::<KeyVal>), |(lo, hi), k| {
            let lo = match lo {
                Some(l) if l <= k => Some(l),
                _ => Some(k.clone()),
            };
            let hi = match hi {
                Some(h) if h >= k => Some(h),
                _ => Some(k),
            };
            (lo, hi)
        });
        v.insert(0, lo.unwrap_or_else(|| v[0].clone()));
        v.push(hi.unwrap_or_else(|| v[v.len() - 1].clone()));
    }
    let m = v.len();
    if m <= SAMPLE {
        return (v, n as u64);
    }
    let picks = (0..SAMPLE)
        .map(|k| v[k * (m - 1) / (SAMPLE - 1)].clone())
        .collect();
    (picks, n as u64)
}

/// Bounds cutting the sampled keys into `n` ranges of about equal weight: the smallest key,
/// the weighted quantiles `1/n`, …, `(n-1)/n`, the largest key, repeated bounds removed
/// (so possibly fewer ranges). `None`: no key at all.
fn divisions(samples: Vec<Sample>, n: usize) -> Option<Vec<KeyVal>> {
    let mut weighted: Vec<(KeyVal, f64)> = Vec::new();
    for (values, count) in samples {
        let w = count as f64 / values.len().max(1) as f64;
        weighted.extend(values.into_iter().map(|v| (v, w)));
    }
    weighted.sort_by(|a, b| a.0.cmp(&b.0));
    let first = weighted.first()?.0.clone();
    let last = weighted.last()?.0.clone();
    let total: f64 = weighted.iter().map(|x| x.1).sum();
    let mut out = vec![first];
    let mut seen = 0.0;
    let mut at = 0;
    for k in 1..n {
        let target = total * k as f64 / n as f64;
        while at < weighted.len() && seen + weighted[at].1 < target {
            seen += weighted[at].1;
            at += 1;
        }
        if let Some((v, _)) = weighted.get(at) {
            out.push(v.clone());
        }
    }
    out.push(last);
    out.dedup();
    if out.len() == 1 {
        out.push(out[0].clone());
    }
    Some(out)
}

/// The partition (of `divisions.len() - 1`) of a key: the number of inner bounds not above
/// it; null keys go to the last partition.
fn range_of(divisions: &[KeyVal], key: Option<&KeyVal>) -> usize {
    let parts = divisions.len().saturating_sub(1).max(1);
    match key {
        None => parts - 1,
        Some(k) => divisions[1..parts].partition_point(|d| d <= k),
    }
}

/// The range of `divisions` of each row of column `c` ([`range_of`]), comparing plain
/// numbers where the column and the divisions are of one number type.
fn ranges(c: &Column, divisions: &[KeyVal]) -> Vec<usize> {
    let parts = divisions.len().saturating_sub(1).max(1);
    let inner = divisions.get(1..parts).unwrap_or(&[]);
    match c {
        Column::I64(v) => {
            let bounds: Option<Vec<i64>> = inner
                .iter()
                .map(|d| match d {
                    KeyVal::I64(b) => Some(*b),
                    _ => None,
                })
                .collect();
            if let Some(b) = bounds {
                return v.iter().map(|x| b.partition_point(|d| d <= x)).collect();
            }
        }
        Column::F64(v) => {
            let bounds: Option<Vec<f64>> = inner
                .iter()
                .map(|d| match d {
                    KeyVal::F64(b) => Some(*b),
                    _ => None,
                })
                .collect();
            if let Some(b) = bounds {
                return v
                    .iter()
                    .map(|&x| {
                        if x.is_nan() {
                            parts - 1
                        } else {
                            let x = x + 0.0;
                            b.partition_point(|d| d.total_cmp(&x).is_le())
                        }
                    })
                    .collect();
            }
        }
        _ => {}
    }
    (0..c.len())
        .map(|i| range_of(divisions, key_at(c, i).as_ref()))
        .collect()
}

/// `t` sorted stably by column `k`, nulls last.
pub(super) fn sorted_by(t: Table, k: usize) -> Table {
    let order = [(k, true)];
    let sorted = (1..t.len()).all(|i| super::compare_rows(&t, &order, i - 1, i).is_le());
    if sorted {
        return t;
    }
    let mut idx: Vec<usize> = (0..t.len()).collect();
    match &t.columns()[k] {
        // numbers: (key, row) pairs sorted in place, the row breaking ties (stable)
        Column::I64(v) => {
            let mut pairs: Vec<(i64, usize)> = v.iter().copied().zip(0..).collect();
            pairs.sort_unstable();
            idx = pairs.into_iter().map(|(_, i)| i).collect();
        }
        Column::F64(v) => {
            // nulls last; -0.0 folded into 0.0 (equal, as in pandas); the order of the
            // others is their bits' with the sign flipped into two's complement order
            let mut pairs: Vec<(bool, i64, usize)> = v
                .iter()
                .zip(0..)
                .map(|(&x, i)| {
                    let b = (x + 0.0).to_bits() as i64;
                    match x.is_nan() {
                        true => (true, 0, i),
                        false => (false, b ^ (((b >> 63) as u64) >> 1) as i64, i),
                    }
                })
                .collect();
            pairs.sort_unstable();
            idx = pairs.into_iter().map(|(_, _, i)| i).collect();
        }
        Column::Bool(v) => idx.sort_by_key(|&i| v[i]),
        Column::Str(v) => idx.sort_by(|&a, &b| match (&v[a], &v[b]) {
            (Some(x), Some(y)) => x.cmp(y),
            (x, y) => x.is_none().cmp(&y.is_none()),
        }),
    }
    t.take(&idx)
}

fn scalar(k: &KeyVal) -> Scalar {
    match k {
        KeyVal::Bool(b) => Scalar::Bool(*b),
        KeyVal::I64(i) => Scalar::I64(*i),
        KeyVal::F64(f) => Scalar::F64(*f),
        KeyVal::Str(s) => Scalar::Str(s.clone()),
    }
}

impl DataFrame {
    /// This frame with `index` as its index.
    fn indexed(mut self, column: &str, divisions: Option<Arc<[KeyVal]>>) -> DataFrame {
        self.index = Some(Arc::new(Index {
            column: column.to_owned(),
            divisions,
        }));
        self
    }

    /// The rows sorted by `column` across partitions, `column` first and the frame's index
    /// (Dask: `df.set_index(column)`; pandas' index is a column here, see the
    /// [module docs](self)). Rows with equal keys keep their order; null keys come last.
    /// The frame keeps as many partitions, fewer when the column has few distinct values,
    /// and knows each one's range of keys ([`DataFrame::divisions`]).
    ///
    /// Computes a sample of the column first (on the default scheduler), as Dask does.
    ///
    /// ```
    /// use dagr::bag as db;
    /// use dagr::dataframe::Scalar;
    /// let df = db::from_sequence((0..100_i64).map(|i| ((i * 37) % 100, i)).collect::<Vec<_>>(), 4)?
    ///     .to_dataframe(&["v", "k"])?;
    /// let s = df.set_index("k")?;
    /// assert_eq!(s.columns(), ["k", "v"]);
    /// assert_eq!(s.index_name(), Some("k"));
    /// let d = s.divisions().unwrap();
    /// assert_eq!((d.len(), &d[0], &d[4]), (5, &Scalar::I64(0), &Scalar::I64(99)));
    /// let t = s.compute()?;
    /// assert_eq!(t.column("k")?.f64(0), Some(0.0));
    /// assert_eq!(t.column("k")?.f64(99), Some(99.0));
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn set_index(&self, column: &str) -> Result<DataFrame, Error> {
        let k = position(&self.schema.names, column)?;
        let samples: Vec<Delayed<Sample>> =
            self.map_partitions_to(move |_, t| Ok(sample(&t.columns()[k])));
        let samples = crate::compute(&samples)?;
        let n = self.npartitions().max(1);
        let divs: Option<Arc<[KeyVal]>> = divisions(samples, n).map(Into::into);
        let parts = divs.as_ref().map_or(1, |d| d.len() - 1);
        let route_divs = divs.clone();
        let route: Route = Arc::new(move |t: &Table, _| {
            let c = &t.columns()[k];
            match &route_divs {
                Some(d) => ranges(c, d),
                None => vec![0; t.len()],
            }
        });
        let order: Vec<usize> = std::iter::once(k)
            .chain((0..self.schema.names.len()).filter(|&i| i != k))
            .collect();
        let schema = Arc::new(Schema {
            names: order
                .iter()
                .map(|&i| self.schema.names[i].clone())
                .collect(),
            dtypes: order.iter().map(|&i| self.schema.dtypes[i]).collect(),
        });
        let names = schema.names.clone();
        let finish: Finish = Arc::new(move |t: Table| {
            let mut cols: Vec<Option<Column>> = t.into_columns().into_iter().map(Some).collect();
            let cols = order.iter().filter_map(|&i| cols[i].take()).collect();
            Ok(sorted_by(Table::from_parts(names.clone(), cols), 0))
        });
        let out = exchange(
            self,
            route,
            parts,
            ShuffleMethod::Auto,
            Some(finish),
            schema,
        );
        Ok(out.indexed(column, divs))
    }

    /// The name of the frame's index column, if it has one ([`DataFrame::set_index`]).
    pub fn index_name(&self) -> Option<&str> {
        self.index.as_ref().map(|i| i.column.as_str())
    }

    /// The bounds of the index's values in each partition, `npartitions + 1` of them, if
    /// known (Dask: `df.divisions`, `df.known_divisions`): partition `i` holds the keys from
    /// `d[i]` up to `d[i + 1]` (excluded; the last one included), null keys in the last.
    pub fn divisions(&self) -> Option<Vec<Scalar>> {
        let d = self.index.as_ref()?.divisions.as_ref()?;
        Some(d.iter().map(scalar).collect())
    }

    /// [`DataFrame::join_suffixed`] with no suffixes: columns present on both sides (other
    /// than the indexes) are an error, as in pandas.
    ///
    /// ```
    /// use dagr::bag as db;
    /// use dagr::dataframe::How;
    /// let people = db::from_sequence(vec![(1_i64, "ann"), (2, "bob"), (3, "cy")], 2)?
    ///     .to_dataframe(&["id", "name"])?
    ///     .set_index("id")?;
    /// let orders = db::from_sequence(vec![(3_i64, 4.0), (1, 9.5), (1, 2.0), (4, 1.0)], 2)?
    ///     .to_dataframe(&["id", "total"])?
    ///     .set_index("id")?;
    /// let t = people.join(&orders, How::Left)?.compute()?;
    /// assert_eq!(t.names(), ["id", "name", "total"]);
    /// assert_eq!(t.column("id")?, &dagr::dataframe::Column::I64(vec![1, 1, 2, 3]));
    /// assert_eq!(t.column("total")?.f64(1), Some(2.0));
    /// assert!(t.column("total")?.f64(2).unwrap().is_nan());
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn join(&self, other: &DataFrame, how: How) -> Result<DataFrame, Error> {
        self.join_suffixed(other, how, "", "")
    }

    /// Joins with `other` on the two frames' index columns (pandas: `df.join(other, how=…,
    /// lsuffix=…, rsuffix=…)` with both indexes set; see [`DataFrame::set_index`] for how
    /// dagr keeps an index). The result has this frame's columns (its index first) then
    /// `other`'s other than its index; a column name on both sides gets `lsuffix` on the
    /// left and `rsuffix` on the right. Rows come as pandas orders them: a left or inner
    /// join in the order of the left rows, each with its matching right rows; a right
    /// join in the order of the right rows, each with its matching left rows; an outer
    /// join sorted by key; null keys match each other and come last. Columns that may
    /// receive nulls hold integers and booleans as floats, as in
    /// [`DataFrame::merge`].
    ///
    /// When both frames know their divisions the join needs no shuffle (partition by
    /// partition, after splitting both along the union of their divisions if they differ);
    /// when one does, the other's rows move to its ranges; either way the result knows its
    /// divisions. When neither does (no key at all), both sides are shuffled by a hash of
    /// the key and each result partition is sorted by key.
    pub fn join_suffixed(
        &self,
        other: &DataFrame,
        how: How,
        lsuffix: &str,
        rsuffix: &str,
    ) -> Result<DataFrame, Error> {
        let index_of = |df: &DataFrame, side: &str| -> Result<(String, usize), Error> {
            let name = df.index_name().ok_or_else(|| Error::InvalidArgument {
                what: "join",
                message: format!(
                    "the {side} frame has no index: call set_index(column) on it first, or \
                     merge on columns"
                ),
            })?;
            Ok((name.to_owned(), position(&df.schema.names, name)?))
        };
        let (lname, lk) = index_of(self, "left")?;
        let (_, rk) = index_of(other, "right")?;
        let (x, y) = (self.schema.dtypes[lk], other.schema.dtypes[rk]);
        if x != y && !(x.is_numeric() && y.is_numeric()) {
            return Err(Error::InvalidArgument {
                what: "join",
                message: format!("the left index {lname:?} is {x} and the right index is {y}"),
            });
        }
        let right_rest: Vec<usize> = (0..other.schema.names.len()).filter(|&j| j != rk).collect();
        let overlap: Vec<&String> = right_rest
            .iter()
            .map(|&j| &other.schema.names[j])
            .filter(|n| self.schema.names.contains(n))
            .collect();
        if overlap.contains(&&lname) {
            return Err(Error::InvalidArgument {
                what: "join",
                message: format!(
                    "the right frame has a column {lname:?} besides its index, as the left \
                     index is named"
                ),
            });
        }
        if !overlap.is_empty() && lsuffix == rsuffix {
            return Err(Error::InvalidArgument {
                what: "join",
                message: format!(
                    "columns overlap but no distinct suffixes are given: {overlap:?} (use \
                     join_suffixed)"
                ),
            });
        }
        let layout = Arc::new(Layout {
            left_keys: vec![lk],
            right_keys: vec![rk],
            right_rest,
            how,
            suffixes: (lsuffix.to_owned(), rsuffix.to_owned()),
            right_major: true,
        });
        let schema = Arc::new(layout.schema(&self.schema, &other.schema));
        if let Some(j) = self.aligned_join(other, &layout, &schema) {
            return Ok(j);
        }
        let n = self.npartitions().max(other.npartitions());
        let (left, right) = (self.shuffled(&[lk], n), other.shuffled(&[rk], n));
        Ok(join_parts(&left, &right, false, layout, schema, Some(lk)).indexed(&lname, None))
    }

    /// The join of `layout` range by range when it joins on one key of one type that is the
    /// index of a side knowing its divisions (the other side, unless it knows its own, moved
    /// to those ranges); `None` otherwise.
    pub(super) fn aligned_join(
        &self,
        other: &DataFrame,
        layout: &Arc<Layout>,
        schema: &Arc<Schema>,
    ) -> Option<DataFrame> {
        // each side's divisions, when its index is the join key
        let known = |df: &DataFrame, keys: &[usize]| -> Option<Arc<[KeyVal]>> {
            let ix = df.index.as_ref()?;
            let k = position(&df.schema.names, &ix.column).ok()?;
            (keys == [k]).then(|| ix.divisions.clone()).flatten()
        };
        let (lk, rk) = (layout.left_keys[0], layout.right_keys[0]);
        if layout.left_keys.len() != 1
            || layout.right_keys.len() != 1
            || self.schema.dtypes[lk] != other.schema.dtypes[rk]
        {
            return None;
        }
        let (left, right, divs) = match (
            known(self, &layout.left_keys),
            known(other, &layout.right_keys),
        ) {
            (None, None) => return None,
            (Some(ld), None) => (self.clone(), other.range_shuffled(rk, &ld), ld),
            (None, Some(rd)) => (self.range_shuffled(lk, &rd), other.clone(), rd),
            (Some(ld), Some(rd)) if ld == rd => (self.clone(), other.clone(), ld),
            (Some(ld), Some(rd)) => {
                let mut union: Vec<KeyVal> = ld.iter().chain(rd.iter()).cloned().collect();
                union.sort();
                union.dedup();
                if union.len() == 1 {
                    union.push(union[0].clone());
                }
                let union: Arc<[KeyVal]> = union.into();
                (
                    self.split_along(lk, &ld, &union),
                    other.split_along(rk, &rd, &union),
                    union,
                )
            }
        };
        let sort = match layout.how {
            How::Outer => Some(lk),
            How::Right if !layout.right_major => Some(lk),
            _ => None,
        };
        let joined = join_parts(&left, &right, false, layout.clone(), schema.clone(), sort);
        Some(joined.indexed(&self.schema.names[lk], Some(divs)))
    }

    /// This frame's rows moved to the ranges `divs` of column `k`, each partition sorted
    /// stably by it.
    fn range_shuffled(&self, k: usize, divs: &Arc<[KeyVal]>) -> DataFrame {
        let d = divs.clone();
        let route: Route = Arc::new(move |t: &Table, _| ranges(&t.columns()[k], &d));
        let finish: Finish = Arc::new(move |t: Table| Ok(sorted_by(t, k)));
        let n = divs.len() - 1;
        let schema = self.schema.clone();
        exchange(self, route, n, ShuffleMethod::Auto, Some(finish), schema)
    }

    /// This frame (sorted by column `k` into the ranges `own`) split along the ranges `to`:
    /// each output partition takes its keys from the input partitions whose range meets
    /// its own.
    fn split_along(&self, k: usize, own: &[KeyVal], to: &Arc<[KeyVal]>) -> DataFrame {
        let parts = self.partition_nodes_with(&layer_name("split-divisions-in"), |_, t| Ok(t));
        let (m, outs) = (parts.len(), to.len() - 1);
        let reach: Vec<(usize, usize)> = (0..m)
            .map(|i| {
                let lo = range_of(to, Some(&own[i]));
                let hi = if i + 1 == m {
                    outs - 1
                } else {
                    range_of(to, Some(&own[i + 1]))
                };
                (lo, hi)
            })
            .collect();
        let name = layer_name("split-divisions");
        let schema = self.schema.clone();
        let nodes: Vec<NodeRef> = (0..outs)
            .map(|j| {
                let deps: Vec<NodeRef> = (0..m)
                    .filter(|&i| reach[i].0 <= j && j <= reach[i].1)
                    .map(|i| parts[i].clone())
                    .collect();
                let (to, schema) = (to.clone(), schema.clone());
                crate::node::new_spread_node(
                    Key::index(name.clone(), &[j as u64]),
                    Deps::from(deps),
                    Some(crate::wire_of::<Table>()),
                    move |inp: &mut Inputs<'_>| -> TaskResult {
                        let mut out = Table::empty(schema.names.clone(), &schema.dtypes);
                        for d in 0..inp.len() {
                            let t: &Table = inp.get(d)?;
                            let c = &t.columns()[k];
                            let idx: Vec<usize> = (0..t.len())
                                .filter(|&i| range_of(&to, key_at(c, i).as_ref()) == j)
                                .collect();
                            out.append(t.take(&idx));
                        }
                        Ok(Value::new(out))
                    },
                )
            })
            .collect();
        DataFrame::from_nodes(name, self.schema.clone(), nodes)
            .indexed(&self.schema.names[k], Some(to.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divisions_cut_weighted_samples_into_equal_ranges() {
        let s = vec![((0..10).map(KeyVal::I64).collect(), 10)];
        let d = divisions(s, 2).unwrap();
        assert_eq!(d, [KeyVal::I64(0), KeyVal::I64(4), KeyVal::I64(9)]);
        assert_eq!(range_of(&d, Some(&KeyVal::I64(3))), 0);
        assert_eq!(range_of(&d, Some(&KeyVal::I64(4))), 1);
        assert_eq!(range_of(&d, Some(&KeyVal::I64(9))), 1);
        assert_eq!(range_of(&d, None), 1);
        // one value: one range
        let d = divisions(vec![(vec![KeyVal::I64(5); 3], 3)], 4).unwrap();
        assert_eq!(d, [KeyVal::I64(5), KeyVal::I64(5)]);
        assert_eq!(range_of(&d, Some(&KeyVal::I64(5))), 0);
        assert!(divisions(vec![(vec![], 0)], 3).is_none());
    }

    #[test]
    fn samples_of_many_keys_keep_the_extremes_and_cut_evenly() {
        // 100 000 keys in a scrambled order, nulls among them
        let v: Vec<f64> = (0..100_000_i64)
            .map(|i| ((i * 7919) % 100_000) as f64)
            .chain([f64::NAN; 10])
            .collect();
        let (picks, n) = sample(&Column::F64(v));
        assert_eq!((picks.len(), n), (SAMPLE, 100_000));
        assert_eq!(picks[0], KeyVal::F64(0.0));
        assert_eq!(picks[SAMPLE - 1], KeyVal::F64(99_999.0));
        assert!(picks.windows(2).all(|w| w[0] <= w[1]));
        let d = divisions(vec![(picks, n)], 4).unwrap();
        assert_eq!(d.len(), 5);
        for (k, want) in [(1, 25_000.0), (2, 50_000.0), (3, 75_000.0)] {
            let KeyVal::F64(x) = d[k] else { panic!() };
            assert!((x - want).abs() < 1_000.0, "{x} for {want}");
        }
    }

    #[test]
    fn number_ranges_and_sorts_equal_the_key_comparisons() {
        // scrambled integers with repeats; floats with -0.0, 0.0, NaN and repeats
        let ints: Vec<i64> = (0..2000_i64).map(|i| (i * 7919) % 301 - 150).collect();
        let floats: Vec<f64> = (0..2000_i64)
            .map(|i| match i % 97 {
                0 => f64::NAN,
                1 => -0.0,
                2 => 0.0,
                _ => ((i * 7919) % 301 - 150) as f64 / 4.0,
            })
            .collect();
        let cols = [Column::I64(ints), Column::F64(floats)];
        for c in &cols {
            let (picks, n) = sample(c);
            for parts in [1, 2, 7] {
                let d = divisions(vec![(picks.clone(), n)], parts).unwrap();
                let want: Vec<usize> = (0..c.len())
                    .map(|i| range_of(&d, key_at(c, i).as_ref()))
                    .collect();
                assert_eq!(ranges(c, &d), want);
            }
            // stable, nulls last, -0.0 equal to 0.0: a stable sort by the keys' order
            let t = Table::new(
                vec!["k".into(), "row".into()],
                vec![c.clone(), Column::I64((0..c.len() as i64).collect())],
            )
            .unwrap();
            let mut want: Vec<usize> = (0..c.len()).collect();
            want.sort_by(|&a, &b| match (key_at(c, a), key_at(c, b)) {
                (Some(x), Some(y)) => x.cmp(&y),
                (x, y) => x.is_none().cmp(&y.is_none()),
            });
            let got = sorted_by(t, 0);
            let Column::I64(rows) = &got.columns()[1] else {
                panic!()
            };
            assert_eq!(rows.iter().map(|&r| r as usize).collect::<Vec<_>>(), want);
        }
    }
}
