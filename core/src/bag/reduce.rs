//! Aggregations: per-partition work, then a fixed combine tree.
//!
//! Every aggregation is [`Bag::reduction`]: one task per partition folds the partition's
//! stream into a partial result, partial results are combined [`SPLIT_EVERY`] at a time in
//! partition order, and a last step finishes. The tree's shape depends only on the number of
//! partitions, so results are identical on every scheduler, and because combines are ordered
//! by partition, order-sensitive results (first appearance in `frequencies`, ties in `topk`)
//! match a sequential pass over the items.
//!
//! The counting tables of text (`frequencies`, `distinct`) are merged otherwise (see
//! `count_groups`): a table combined from a few partitions is already about as large as the
//! whole vocabulary, so a tree would hold several such tables at once. Their keys carry
//! their rank of first appearance, so the order they merge in does not change the result.

use super::col_layer::{ColUse, Pieces};
use super::column::TextColumn;
use super::counts::{Inbox, PartialCounts, Tally, GROUPS};
use super::kernels;
use super::repr::{cast, take_input, Col, ColKind, ColPart, CountGroups};
use super::{layer_name, Bag, PartIter};
use crate::delayed::Delayed;
use crate::hash::FastMap;
use crate::node::{Deps, NodeKind, NodeRef};
use crate::tree::{combine_tree, then};
use crate::Data;
use crate::Error;
use dagr_runtime::{Inputs, Key, TaskError, TaskResult, Value};
use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::collections::BinaryHeap;
use std::hash::Hash;
use std::sync::Arc;

impl<T: Data> Bag<T> {
    /// The general aggregation: `part` folds one partition's items, `combine` merges partial
    /// results (given in partition order), `finish` turns the last one into the answer.
    ///
    /// ```
    /// let b = dagr::bag::from_sequence(1..=100_u64, 7)?;
    /// let longest = b.reduction(
    ///     "longest",
    ///     |it| it.map(|x| x.to_string().len()).max().unwrap_or(0),
    ///     |parts| parts.into_iter().max().unwrap_or(0),
    ///     |m| m,
    /// );
    /// assert_eq!(longest.compute()?, 3);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn reduction<S: Data, R: Data>(
        &self,
        name: &str,
        part: impl Fn(PartIter<T>) -> S + Send + Sync + 'static,
        combine: impl Fn(Vec<S>) -> S + Send + Sync + 'static,
        finish: impl Fn(S) -> R + Send + Sync + 'static,
    ) -> Delayed<R> {
        self.try_reduction(name, part, move |v| Ok(combine(v)), move |s| Ok(finish(s)))
    }

    /// [`Bag::reduction`] whose combine and finish steps may fail.
    pub(crate) fn try_reduction<S: Data, R: Data>(
        &self,
        name: &str,
        part: impl Fn(PartIter<T>) -> S + Send + Sync + 'static,
        combine: impl Fn(Vec<S>) -> Result<S, TaskError> + Send + Sync + 'static,
        finish: impl Fn(S) -> Result<R, TaskError> + Send + Sync + 'static,
    ) -> Delayed<R> {
        let part_name = layer_name(&format!("{name}-part"));
        let parts: Vec<NodeRef> = self.partition_nodes_with(&part_name, part);
        Self::tree_reduce(name, parts, combine, finish)
    }

    /// [`Bag::try_reduction`] over the partitions' column view, combined in the fixed tree.
    fn col_reduction<S: Data, R: Data>(
        &self,
        col: &Col,
        name: &str,
        part: ColUse<S>,
        combine: impl Fn(Vec<S>) -> Result<S, TaskError> + Send + Sync + 'static,
        finish: impl Fn(S) -> Result<R, TaskError> + Send + Sync + 'static,
    ) -> Delayed<R> {
        let part_name = layer_name(&format!("{name}-part"));
        let parts: Vec<NodeRef> = self.col_nodes_using(col, &part_name, part);
        Self::tree_reduce(name, parts, combine, finish)
    }

    /// Combines partial results in the fixed tree, then finishes.
    fn tree_reduce<S: Data, R: Data>(
        name: &str,
        parts: Vec<NodeRef>,
        combine: impl Fn(Vec<S>) -> Result<S, TaskError> + Send + Sync + 'static,
        finish: impl Fn(S) -> Result<R, TaskError> + Send + Sync + 'static,
    ) -> Delayed<R> {
        let root = combine_tree::<S>(
            parts,
            &layer_name(&format!("{name}-agg")),
            &[],
            false,
            Some(crate::wire::known_wire::<S>()),
            Arc::new(combine),
        );
        Delayed::from_node(then(
            root,
            layer_name(name),
            Some(crate::wire::known_wire::<R>()),
            finish,
        ))
    }

    /// A one-partition bag holding a reduction's result.
    fn reduced_bag<U: Data>(&self, d: Delayed<Vec<U>>) -> Bag<U> {
        Bag::from_nodes(layer_name("reduced"), vec![d.node])
    }

    /// Number of items (Dask: `Bag.count`).
    pub fn count(&self) -> Delayed<u64> {
        if let Some(col) = &self.col {
            // counted on the columns: no item is built
            return self.col_reduction(
                col,
                "count",
                ColUse::Pieces(Arc::new(|_, pieces: &mut Pieces<'_>| {
                    let mut n = 0;
                    pieces.for_each(&mut |p| {
                        n += match p {
                            ColPart::Text(c) | ColPart::Split(c) => c.len() as u64,
                            ColPart::Words(c) => kernels::count_words(c.as_str()),
                            ColPart::Counts(t) => t.len() as u64,
                        };
                        Ok(())
                    })?;
                    Ok(n)
                })),
                |v| Ok(v.into_iter().sum()),
                Ok,
            );
        }
        self.reduction(
            "count",
            |it| it.count() as u64,
            |v| v.into_iter().sum(),
            |n| n,
        )
    }

    /// Sum of the items (Dask: `Bag.sum`); zero for an empty bag.
    pub fn sum(&self) -> Delayed<T>
    where
        T: std::iter::Sum<T>,
    {
        self.reduction("sum", |it| it.sum::<T>(), |v| v.into_iter().sum(), |s| s)
    }

    /// Smallest item (Dask: `Bag.min`); an error for an empty bag. Incomparable items (NaN)
    /// never replace a smaller one.
    pub fn min(&self) -> Delayed<T>
    where
        T: PartialOrd,
    {
        self.extreme("min", Ordering::Less)
    }

    /// Largest item (Dask: `Bag.max`); an error for an empty bag.
    pub fn max(&self) -> Delayed<T>
    where
        T: PartialOrd,
    {
        self.extreme("max", Ordering::Greater)
    }

    fn extreme(&self, what: &'static str, keep: Ordering) -> Delayed<T>
    where
        T: PartialOrd,
    {
        let pick = move |best: Option<T>, x: T| match best {
            Some(b) if x.partial_cmp(&b) != Some(keep) => Some(b),
            _ => Some(x),
        };
        self.try_reduction(
            what,
            move |it| it.fold(None, pick),
            move |v| Ok(v.into_iter().flatten().fold(None, pick)),
            move |best| best.ok_or_else(|| TaskError::new(Error::Empty { what })),
        )
    }

    /// Arithmetic mean of the items (Dask: `Bag.mean`); an error for an empty bag.
    ///
    /// ```
    /// let b = dagr::bag::from_sequence([1, 2, 3, 4], 3)?;
    /// assert_eq!(b.mean().compute()?, 2.5);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn mean(&self) -> Delayed<f64>
    where
        T: ToF64,
    {
        self.try_reduction(
            "mean",
            |it| it.fold((0.0, 0u64), |(s, n), x| (s + x.to_f64(), n + 1)),
            |v| {
                Ok(v.into_iter()
                    .fold((0.0, 0), |(s, n), (s2, n2)| (s + s2, n + n2)))
            },
            |(s, n)| {
                if n == 0 {
                    Err(TaskError::new(Error::Empty { what: "mean" }))
                } else {
                    Ok(s / n as f64)
                }
            },
        )
    }

    /// General fold (Dask: `Bag.fold(binop, combine, initial)`): `binop` folds each
    /// partition starting from `init`, and `combine` merges the partial results without
    /// `init` (so `init` counts once per partition, as in Dask: folding `+` from 10 over
    /// three partitions adds 30).
    ///
    /// ```
    /// let b = dagr::bag::from_sequence(["a", "bb", "ccc"], 2)?;
    /// let total_len = b.fold(|acc, s: &str| acc + s.len(), |a, b| a + b, 0);
    /// assert_eq!(total_len.compute()?, 6);
    /// let b = dagr::bag::from_sequence(0..5, 3)?;
    /// assert_eq!(b.npartitions(), 3);
    /// assert_eq!(b.fold(|a, x| a + x, |a, b| a + b, 10).compute()?, 10 + 30);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn fold<A: Data>(
        &self,
        binop: impl Fn(A, T) -> A + Send + Sync + 'static,
        combine: impl Fn(A, A) -> A + Send + Sync + 'static,
        init: A,
    ) -> Delayed<A> {
        self.try_reduction(
            "fold",
            move |it| it.fold(init.clone(), &binop),
            move |v| {
                v.into_iter()
                    .reduce(&combine)
                    .ok_or_else(|| TaskError::new("fold: nothing to combine"))
            },
            Ok,
        )
    }

    /// Variance of the items with `ddof` delta degrees of freedom (Dask: `Bag.var(ddof)`,
    /// whose default is 0): Dask's formula, `Σx²/n - (Σx/n)²` scaled by `n / (n - ddof)`,
    /// with its sums taken in the same order (each partition's, then the partitions' in
    /// order), so the result is Dask's to the last bit. An error for an empty bag.
    ///
    /// ```
    /// let b = dagr::bag::from_sequence([1.0, 2.0, 3.0, 4.0], 2)?;
    /// assert_eq!(b.var(0).compute()?, 1.25);
    /// assert!((b.std(1).compute()? - 1.2909944487358056).abs() < 1e-15);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn var(&self, ddof: u32) -> Delayed<f64>
    where
        T: ToF64,
    {
        self.try_reduction(
            "var",
            |it| {
                let (mut squares, mut total, mut n) = (0.0, 0.0, 0u64);
                for x in it {
                    let x = x.to_f64();
                    squares += x * x;
                    total += x;
                    n += 1;
                }
                vec![(squares, total, n)]
            },
            |parts| Ok(parts.into_iter().flatten().collect::<Vec<_>>()),
            move |parts| {
                let (mut x2, mut x, mut n) = (0.0, 0.0, 0u64);
                for (s, t, m) in parts {
                    x2 += s;
                    x += t;
                    n += m;
                }
                if n == 0 {
                    return Err(TaskError::new(Error::Empty { what: "var" }));
                }
                let n = n as f64;
                Ok((x2 / n - (x / n) * (x / n)) * n / (n - f64::from(ddof)))
            },
        )
    }

    /// Standard deviation of the items: the square root of [`Bag::var`] (Dask: `Bag.std`).
    pub fn std(&self, ddof: u32) -> Delayed<f64>
    where
        T: ToF64,
    {
        self.var(ddof).map(f64::sqrt)
    }

    /// Distinct items, in order of first appearance (Dask: `Bag.distinct`).
    pub fn distinct(&self) -> Bag<T>
    where
        T: Hash + Eq,
    {
        if let Some(col) = self.col_of(&[ColKind::Text, ColKind::Words]) {
            // counted as `frequencies` counts, the keys kept
            let parts = self.col_nodes_folding(col, &layer_name("distinct-part"), count_strings);
            let groups = count_groups("distinct", &parts);
            let d = counted("distinct", groups, |t| t.finish().into_keys());
            let d = Delayed::<TextColumn>::from_node(d);
            let col = Col::new(ColKind::Text, |_, v, _| {
                Ok(ColPart::Text(take_input::<TextColumn>(v)?))
            });
            return Bag::from_col(layer_name("reduced"), vec![Some(d.node)].into(), col, true);
        }
        let d = self.reduction(
            "distinct",
            |it| {
                let mut seen = FastMap::default();
                it.filter(|x| seen.insert(x.clone(), ()).is_none())
                    .collect::<Vec<T>>()
            },
            |parts| {
                let mut seen = FastMap::default();
                parts
                    .into_iter()
                    .flatten()
                    .filter(|x| seen.insert(x.clone(), ()).is_none())
                    .collect()
            },
            |v| v,
        );
        self.reduced_bag(d)
    }

    /// How often each distinct item occurs, in order of first appearance (Dask:
    /// `Bag.frequencies`).
    ///
    /// ```
    /// let b = dagr::bag::from_sequence(vec![1, 0, 3, 3], 2)?;
    /// assert_eq!(b.frequencies().compute()?, vec![(1, 1), (0, 1), (3, 2)]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn frequencies(&self) -> Bag<(T, u64)>
    where
        T: Hash + Eq,
    {
        if let Some(col) = self.col_of(&[ColKind::Text, ColKind::Words]) {
            // strings counted as borrowed bytes; the partial tables merge per group of keys
            // as they come (see `count_groups`), the groups' roots spread over a cluster's
            // ranks; keys are ordered by first appearance only when items are asked for
            // (topk needs not)
            let parts = self.col_nodes_folding(col, &layer_name("frequencies-part"), count_strings);
            let groups = count_groups("frequencies", &parts);
            let whole = counted("frequencies", groups.clone(), |t| t);
            let mut col = Col::new(ColKind::Counts, |_, v, _| {
                Ok(ColPart::Counts(take_input::<PartialCounts>(v)?))
            });
            col.groups = Some(CountGroups {
                groups: groups.into(),
                whole: whole.clone(),
            });
            return Bag::from_col(layer_name("reduced"), vec![Some(whole)].into(), col, true);
        }
        let d = self.reduction(
            "frequencies",
            |it| {
                let mut counts = Counts::default();
                it.for_each(|x| counts.add(x, 1));
                counts.into_vec()
            },
            |parts| {
                let mut acc = Counts::default();
                for (k, n) in parts.into_iter().flatten() {
                    acc.add(k, n);
                }
                acc.into_vec()
            },
            |c| c,
        );
        self.reduced_bag(d)
    }

    /// Groups items by `key`, in order of first appearance (Dask: `Bag.groupby`, computed
    /// in memory).
    pub fn groupby<K: Data + Hash + Eq>(
        &self,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> Bag<(K, Vec<T>)> {
        self.foldby(
            key,
            |mut acc: Vec<T>, x| {
                acc.push(x);
                acc
            },
            Vec::new(),
            |mut a, mut b| {
                a.append(&mut b);
                a
            },
        )
    }

    /// Folds items per key (Dask: `Bag.foldby(key, binop, initial, combine)`), in order of
    /// first appearance of each key.
    ///
    /// ```
    /// let b = dagr::bag::from_sequence(1..=10, 3)?;
    /// let sums = b.foldby(|x| x % 2 == 0, |acc, x| acc + x, 0, |a, b| a + b);
    /// assert_eq!(sums.compute()?, vec![(false, 25), (true, 30)]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn foldby<K: Data + Hash + Eq, A: Data>(
        &self,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
        binop: impl Fn(A, T) -> A + Send + Sync + 'static,
        init: A,
        combine: impl Fn(A, A) -> A + Send + Sync + 'static,
    ) -> Bag<(K, A)> {
        let d = self.reduction(
            "foldby",
            move |it| {
                let mut index: FastMap<K, usize> = FastMap::default();
                let mut groups: Vec<(K, A)> = Vec::new();
                for x in it {
                    let k = key(&x);
                    let i = *index.entry(k.clone()).or_insert_with(|| {
                        groups.push((k, init.clone()));
                        groups.len() - 1
                    });
                    let slot = &mut groups[i].1;
                    let acc = std::mem::replace(slot, init.clone());
                    *slot = binop(acc, x);
                }
                groups
            },
            move |parts| {
                let mut index: FastMap<K, usize> = FastMap::default();
                let mut groups: Vec<(K, Option<A>)> = Vec::new();
                for (k, a) in parts.into_iter().flatten() {
                    match index.entry(k) {
                        Entry::Occupied(e) => {
                            let slot = &mut groups[*e.get()].1;
                            *slot = slot.take().map(|prev| combine(prev, a));
                        }
                        Entry::Vacant(e) => {
                            groups.push((e.key().clone(), Some(a)));
                            e.insert(groups.len() - 1);
                        }
                    }
                }
                groups
                    .into_iter()
                    .filter_map(|(k, a)| a.map(|a| (k, a)))
                    .collect()
            },
            |g| g,
        );
        self.reduced_bag(d)
    }

    /// The `k` items with the largest `key`, largest first; ties keep the order of
    /// appearance (Dask: `Bag.topk(k, key)`). Never sorts more than `k` items per partition.
    /// `k == 0` is an error from `compute`.
    ///
    /// The key may be any `PartialOrd` type, floats included: NaN ranks above every number,
    /// as NumPy sorts NaN last, so NaN keys come first; `-0.0` and `0.0` tie. (A tuple key
    /// holding NaN has no defined rank.)
    ///
    /// ```
    /// let b = dagr::bag::from_sequence(vec![("a", 3), ("b", 9), ("c", 1), ("d", 9)], 2)?;
    /// let top = b.topk(2, |(_, n)| *n).compute()?;
    /// assert_eq!(top, vec![("b", 9), ("d", 9)]);
    ///
    /// let t = dagr::bag::from_sequence(vec![("x", 0.5), ("y", f64::NAN), ("z", 2.5)], 2)?;
    /// assert_eq!(t.topk(2, |(_, v)| *v).compute()?[1], ("z", 2.5)); // NaN first, as NumPy
    /// let smallest = t.topk(1, |(_, v)| -v).compute()?;               // the smallest: negate
    /// assert_eq!(smallest[0].0, "y");
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn topk<K: PartialOrd + Send + Sync + 'static>(
        &self,
        k: usize,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> Bag<T> {
        if k == 0 {
            return self.failing("topk", "topk(0): k must be at least 1".into());
        }
        let key = Arc::new(key);
        let key2 = key.clone();
        let combine = move |parts: Vec<Vec<T>>| {
            let mut all: Vec<Ranked<K, T>> = parts
                .into_iter()
                .enumerate()
                .flat_map(|(p, v)| v.into_iter().enumerate().map(move |(i, x)| (p, i, x)))
                .map(|(p, i, x)| Ranked {
                    key: key2(&x),
                    pos: (p, i),
                    item: x,
                })
                .collect();
            all.sort();
            all.truncate(k);
            all.into_iter().map(|r| r.item).collect()
        };
        if let Some(g) = self.count_groups() {
            // the best k of each group where it was merged; only those cross
            let key = key.clone();
            let tops: Vec<NodeRef> = g
                .groups
                .iter()
                .enumerate()
                .map(|(j, group)| {
                    let key = key.clone();
                    crate::node::new_wired_node(
                        Key::index(layer_name("topk-part"), &[j as u64]),
                        Deps::one(group.clone()),
                        NodeKind::Call,
                        false,
                        Some(crate::wire_of::<Vec<RankedCount>>()),
                        move |inp: &mut Inputs<'_>| -> TaskResult {
                            let t: &PartialCounts = inp.get(0)?;
                            Ok(Value::new(ranked_top_of_counts(t, k, &*key)?))
                        },
                    )
                })
                .collect();
            let combine =
                move |parts: Vec<Vec<RankedCount>>| -> Result<Vec<RankedCount>, TaskError> {
                    let mut all = parts
                        .into_iter()
                        .flatten()
                        .map(|(item, rank)| {
                            Ok(Ranked {
                                key: key_of(&*key, &item)?,
                                pos: rank_pos(rank),
                                item: (item, rank),
                            })
                        })
                        .collect::<Result<Vec<_>, TaskError>>()?;
                    all.sort();
                    all.truncate(k);
                    Ok(all.into_iter().map(|r| r.item).collect())
                };
            let root = combine_tree(
                tops,
                &layer_name("topk-agg"),
                &[],
                false,
                Some(crate::wire_of::<Vec<RankedCount>>()),
                Arc::new(combine),
            );
            let d = Delayed::from_node(then(
                root,
                layer_name("topk"),
                Some(crate::wire::known_wire::<Vec<T>>()),
                |best: Vec<RankedCount>| {
                    cast::<_, Vec<T>>(best.into_iter().map(|(item, _)| item).collect::<Vec<_>>())
                },
            ));
            return self.reduced_bag(d);
        }
        if let Some(col) = self.col_of(&[ColKind::Counts]) {
            let d = self.col_reduction(
                col,
                "topk",
                ColUse::Whole(Arc::new(move |_, p| match p {
                    ColPart::Counts(t) => top_of_counts(&t, k, &*key),
                    _ => Err(TaskError::new("topk: not a column of counts")),
                })),
                move |parts| Ok(combine(parts)),
                Ok,
            );
            return self.reduced_bag(d);
        }
        let d = self.reduction(
            "topk",
            move |it| {
                // min-heap of the best k seen so far, ordered by (key, earlier position first)
                let mut heap: BinaryHeap<Ranked<K, T>> = BinaryHeap::with_capacity(k + 1);
                for (pos, x) in it.enumerate() {
                    let r = Ranked {
                        key: key(&x),
                        pos: (0, pos),
                        item: x,
                    };
                    if heap.len() < k {
                        heap.push(r);
                    } else if heap.peek().is_some_and(|worst| r < *worst) {
                        heap.pop();
                        heap.push(r);
                    }
                }
                let mut best: Vec<T> = heap.into_sorted_vec().into_iter().map(|r| r.item).collect();
                best.truncate(k);
                best
            },
            combine,
            |v| v,
        );
        self.reduced_bag(d)
    }
}

impl<T: Data> Bag<T> {
    /// The `k` largest items by `cmp` (`Greater`: the first item is the better), largest
    /// first; ties keep the order of appearance (Dask: `Bag.topk(k, key)` with a key Rust
    /// compares through a function). The comparator borrows both items, so a key may be a
    /// part of the item, or several parts compared in turn. Never keeps more than `2k`
    /// items per partition. `k == 0` is an error from `compute`.
    ///
    /// ```
    /// let b = dagr::bag::from_sequence(vec![("b".to_string(), 2), ("a".into(), 2), ("c".into(), 1)], 2)?;
    /// // by count, then the alphabetically first word
    /// let top = b.topk_by(2, |x, y| x.1.cmp(&y.1).then_with(|| y.0.cmp(&x.0))).compute()?;
    /// assert_eq!(top, vec![("a".to_string(), 2), ("b".into(), 2)]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn topk_by(
        &self,
        k: usize,
        cmp: impl Fn(&T, &T) -> Ordering + Send + Sync + 'static,
    ) -> Bag<T> {
        if k == 0 {
            return self.failing("topk", "topk_by(0, ..): k must be at least 1".into());
        }
        let cmp = Arc::new(cmp);
        let cmp2 = cmp.clone();
        let d = self.reduction(
            "topk",
            move |it| best_k(it, k, &*cmp),
            move |parts| best_k(parts.into_iter().flatten(), k, &*cmp2),
            |v| v,
        );
        self.reduced_bag(d)
    }

    /// The `k` items with the largest `key`, where the key borrows from the item (a
    /// `&str` field, a slice): `topk` ranks keys it owns, this ranks borrowed ones, with the
    /// same order (NaN above every number, ties in order of appearance).
    ///
    /// ```
    /// let b = dagr::bag::from_sequence(vec![("pear".to_string(), 1), ("apple".into(), 5), ("zucchini".into(), 2)], 2)?;
    /// let last = b.topk_by_ref(2, |(word, _)| word.as_str()).compute()?;
    /// assert_eq!(last, vec![("zucchini".to_string(), 2), ("pear".into(), 1)]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn topk_by_ref<K: PartialOrd + ?Sized>(
        &self,
        k: usize,
        key: impl for<'a> Fn(&'a T) -> &'a K + Send + Sync + 'static,
    ) -> Bag<T> {
        self.topk_by(k, move |a, b| numpy_order(key(a), key(b)))
    }

    /// How often each distinct item occurs, the most frequent first and ties in order of
    /// first appearance (Dask: `Bag.frequencies(sort=True)`).
    ///
    /// ```
    /// let b = dagr::bag::from_sequence(vec!["x", "y", "y", "z", "z", "w"], 3)?;
    /// assert_eq!(b.frequencies_sorted().compute()?, vec![("y", 2), ("z", 2), ("x", 1), ("w", 1)]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn frequencies_sorted(&self) -> Bag<(T, u64)>
    where
        T: Hash + Eq,
    {
        self.frequencies().map_partitions(|mut v| {
            // stable: equal counts keep their order of first appearance
            v.sort_by_key(|e| std::cmp::Reverse(e.1));
            v
        })
    }
}

/// The best `k` of `items` by `cmp` (greater is better), best first, ties in order of
/// appearance: a buffer of up to `2k` items cut back to the best `k` when full, so the work
/// is linear in the items.
fn best_k<T>(items: impl Iterator<Item = T>, k: usize, cmp: &dyn Fn(&T, &T) -> Ordering) -> Vec<T> {
    let better = |a: &(usize, T), b: &(usize, T)| cmp(&b.1, &a.1).then(a.0.cmp(&b.0));
    let cap = k.saturating_mul(2);
    let mut buf: Vec<(usize, T)> = Vec::with_capacity(cap.min(1 << 12));
    for x in items.enumerate() {
        buf.push(x);
        if buf.len() >= cap {
            buf.select_nth_unstable_by(k - 1, better);
            buf.truncate(k);
        }
    }
    buf.sort_by(better);
    buf.truncate(k);
    buf.into_iter().map(|(_, x)| x).collect()
}

/// Partition `i`'s strings counted (the part step of `frequencies` and `distinct`), a
/// piece of the partition at a time where its source reads it in pieces: the table and
/// one piece are in memory, not the partition.
fn count_strings(i: usize, pieces: &mut Pieces<'_>) -> Result<PartialCounts, TaskError> {
    thread_local! {
        /// Distinct strings of the last partition this thread counted: the next table
        /// starts that large (the partitions of a bag are much alike) instead of growing
        /// to it, which costs a pass over the table and a new one.
        static LAST_DISTINCT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }
    let sized = |guess: usize| Tally::with_capacity(guess.max(LAST_DISTINCT.get()));
    let mut tally: Option<Tally> = None;
    pieces.for_each(&mut |p| {
        match p {
            // the table is sized from the first piece and grows as the keys come
            ColPart::Words(c) => tally
                .get_or_insert_with(|| sized(distinct_estimate(c.as_str().len())))
                .add_words(c.as_str()),
            ColPart::Text(c) => tally
                .get_or_insert_with(|| sized(c.len().min(1 << 16)))
                .add_items(&c),
            ColPart::Split(_) | ColPart::Counts(_) => {
                return Err(TaskError::new("frequencies: not a column of strings"))
            }
        }
        Ok(())
    })?;
    let tally = tally.unwrap_or_else(|| Tally::with_capacity(0));
    LAST_DISTINCT.set(tally.len());
    Ok(tally.into_partial(i))
}

fn merge_counts(parts: Vec<PartialCounts>) -> Result<PartialCounts, TaskError> {
    Ok(PartialCounts::merge(parts))
}

/// The partial tables `parts` merged per group of keys ([`GROUPS`]).
///
/// In a run in one process, each partition's table is added to the process's [`Inbox`]
/// as soon as it is counted, and each group's root takes the group's table from there. On
/// a cluster, each half of the partitions is merged along a chain, and the halves in a
/// root spread over the ranks by group. The graph is the same for both (a task knows which
/// run it is in): in one process the chains carry empty tables.
fn count_groups(name: &str, parts: &[NodeRef]) -> Vec<NodeRef> {
    let (cut, merge) = (
        layer_name(&format!("{name}-group")),
        layer_name(&format!("{name}-agg")),
    );
    let wire = Some(crate::wire_of::<PartialCounts>());
    // a fresh inbox for each run (and each rank of a cluster)
    let inbox = crate::node::new_node(
        Key::index(layer_name(&format!("{name}-inbox")), &[0]),
        Deps::none(),
        NodeKind::Data,
        false,
        |_: &mut Inputs<'_>| -> TaskResult { Ok(Value::from(Arc::new(Inbox::default()))) },
    );
    (0..GROUPS)
        .map(|g| {
            let leaves = parts
                .iter()
                .enumerate()
                .map(|(i, part)| {
                    crate::node::new_wired_node(
                        Key::index(cut.clone(), &[g as u64, i as u64]),
                        Deps::two(part.clone(), inbox.clone()),
                        NodeKind::Call,
                        false,
                        wire,
                        move |inp: &mut Inputs<'_>| -> TaskResult {
                            let part = inp.get::<PartialCounts>(0)?.group(g);
                            if inp.ranks() > 1 {
                                return Ok(Value::new(part));
                            }
                            inp.get::<Inbox>(1)?.add(g, part);
                            Ok(Value::new(PartialCounts::default()))
                        },
                    )
                })
                .collect();
            let chains = crate::tree::spread_halved_chain(
                leaves,
                &merge,
                &[g as u64],
                wire,
                Arc::new(merge_counts),
            );
            crate::node::new_wired_node(
                Key::index(merge.clone(), &[g as u64, 3]),
                Deps::two(chains, inbox.clone()),
                NodeKind::Call,
                false,
                wire,
                move |inp: &mut Inputs<'_>| -> TaskResult {
                    let chained = inp.take::<PartialCounts>(0)?;
                    Ok(Value::new(match inp.get::<Inbox>(1)?.take(g) {
                        Some(added) if chained.len() > 0 => {
                            PartialCounts::merge(vec![added, chained])
                        }
                        Some(added) => added,
                        None => chained,
                    }))
                },
            )
        })
        .collect()
}

/// The node `(name, 0)` putting the groups' tables back together and finishing them.
fn counted<R: crate::wire::Wired>(
    name: &str,
    groups: Vec<NodeRef>,
    finish: impl Fn(PartialCounts) -> R + Send + Sync + 'static,
) -> NodeRef {
    crate::node::new_wired_node(
        Key::index(layer_name(name), &[0]),
        Deps::from(groups),
        NodeKind::Call,
        false,
        Some(crate::wire_of::<R>()),
        move |inp: &mut Inputs<'_>| -> TaskResult {
            let groups = (0..inp.len())
                .map(|k| inp.take::<PartialCounts>(k))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::new(finish(PartialCounts::concat(groups))))
        },
    )
}

/// A first guess at the number of distinct words in `bytes` bytes of text (Heaps' law,
/// distinct ~ sqrt(words), on the generous side), so that the table grows rarely.
fn distinct_estimate(bytes: usize) -> usize {
    ((bytes as f64).sqrt() * 48.0) as usize
}

/// A counted string with its rank of first appearance.
type RankedCount = ((String, u64), u64);

/// The position in first-appearance order a rank stands for.
fn rank_pos(rank: u64) -> (usize, usize) {
    ((rank >> 32) as usize, (rank & u64::from(u32::MAX)) as usize)
}

/// `key` of a counted string, when the bag's items are counted strings.
fn key_of<T: 'static, K>(key: &dyn Fn(&T) -> K, item: &(String, u64)) -> Result<K, TaskError> {
    (item as &dyn std::any::Any)
        .downcast_ref::<T>()
        .map(key)
        .ok_or_else(|| TaskError::new("topk: counts read as another item type"))
}

/// `topk` of one partition of counts: each entry is shown to `key` through one reused
/// `(String, u64)`, so a `String` is allocated only for an entry that enters the best `k`
/// so far. Ties go to the earlier first appearance (the rank), as in the ordered list.
fn top_of_counts<T: 'static, K: PartialOrd>(
    t: &PartialCounts,
    k: usize,
    key: &dyn Fn(&T) -> K,
) -> Result<Vec<T>, TaskError> {
    let best = ranked_top_of_counts(t, k, key)?;
    cast(best.into_iter().map(|(item, _)| item).collect::<Vec<_>>())
}

/// [`top_of_counts`], each entry with its rank, best first.
fn ranked_top_of_counts<T: 'static, K: PartialOrd>(
    t: &PartialCounts,
    k: usize,
    key: &dyn Fn(&T) -> K,
) -> Result<Vec<RankedCount>, TaskError> {
    if std::any::TypeId::of::<T>() != std::any::TypeId::of::<(String, u64)>() {
        return Err(TaskError::new("topk: counts read as another item type"));
    }
    let mut scratch: (String, u64) = (String::new(), 0);
    // ranked by key, then by first appearance (the rank, as two halves)
    let mut heap: BinaryHeap<Ranked<K, RankedCount>> = BinaryHeap::with_capacity(k + 1);
    t.for_each(|word, n, rank| {
        scratch.0.clear();
        scratch.0.push_str(word);
        scratch.1 = n;
        let Some(item) = (&scratch as &dyn std::any::Any).downcast_ref::<T>() else {
            return;
        };
        let r = Ranked {
            key: key(item),
            pos: rank_pos(rank),
            item: ((String::new(), n), rank),
        };
        if heap.len() < k || heap.peek().is_some_and(|worst| r < *worst) {
            let r = Ranked {
                item: ((word.to_owned(), n), rank),
                ..r
            };
            heap.push(r);
            if heap.len() > k {
                heap.pop();
            }
        }
    });
    Ok(heap.into_sorted_vec().into_iter().map(|r| r.item).collect())
}

/// Counts in order of first appearance: one table probe per item (the rank of first
/// appearance lives beside the count), ordered once at the end.
struct Counts<T> {
    table: FastMap<T, (u64, usize)>,
}

impl<T> Default for Counts<T> {
    fn default() -> Self {
        Counts {
            table: FastMap::default(),
        }
    }
}

impl<T: Hash + Eq> Counts<T> {
    #[inline]
    fn add(&mut self, x: T, n: u64) {
        if let Some(slot) = self.table.get_mut(&x) {
            slot.0 += n;
        } else {
            let rank = self.table.len();
            self.table.insert(x, (n, rank));
        }
    }

    fn into_vec(self) -> Vec<(T, u64)> {
        let mut v: Vec<(T, u64, usize)> = self
            .table
            .into_iter()
            .map(|(k, (n, r))| (k, n, r))
            .collect();
        v.sort_unstable_by_key(|e| e.2);
        v.into_iter().map(|(k, n, _)| (k, n)).collect()
    }
}

/// An item ranked for `topk`: "smaller" means better (larger key, then earlier position),
/// so a max-heap of `Ranked` keeps the worst of the best on top.
struct Ranked<K, T> {
    key: K,
    pos: (usize, usize),
    item: T,
}

impl<K: PartialOrd, T> Ord for Ranked<K, T> {
    fn cmp(&self, other: &Self) -> Ordering {
        numpy_order(&other.key, &self.key).then(self.pos.cmp(&other.pos))
    }
}

impl<K: PartialOrd, T> PartialOrd for Ranked<K, T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K: PartialOrd, T> PartialEq for Ranked<K, T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<K: PartialOrd, T> Eq for Ranked<K, T> {}

/// A total order on `PartialOrd` values, as NumPy sorts floats: values not ordered even
/// with themselves (NaN) after every other, equal among themselves.
pub(crate) fn numpy_order<K: PartialOrd + ?Sized>(a: &K, b: &K) -> Ordering {
    match a.partial_cmp(b) {
        Some(o) => o,
        None => {
            let unordered = |x: &K| x.partial_cmp(x).is_none();
            match (unordered(a), unordered(b)) {
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                _ => Ordering::Equal,
            }
        }
    }
}

/// Numbers whose mean a bag can take (Dask's `mean` works on ints and floats alike).
pub trait ToF64 {
    /// The value as an `f64` (rounded for 64-bit integers past 2^53).
    fn to_f64(&self) -> f64;
}

macro_rules! to_f64 {
    ($($t:ty),*) => {$(
        impl ToF64 for $t {
            #[inline]
            fn to_f64(&self) -> f64 { *self as f64 }
        }
    )*};
}
to_f64!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64);
