//! Item-wise operations with a rule of their own: `pluck` (an element of each item),
//! `random_sample` (a seeded draw per item) and `accumulate` (a running fold carried from
//! partition to partition).

use super::repr::cast;
use super::{layer_name, Bag, PartIter};
use crate::node::{new_wired_node, Deps, NodeKind, NodeRef};
use crate::Data;
use dagr_runtime::{Inputs, Key, TaskError, TaskResult, Value};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;

/// Items whose element `I` [`Bag::pluck`] can select: tuples of up to six elements (`I`
/// below the arity), `Vec`s and arrays (an item too short fails the computation).
pub trait Pluck<const I: usize> {
    /// The type of element `I`.
    type Output;
    /// Element `I`, or the item's length when it has no element `I`.
    fn pluck(self) -> Result<Self::Output, usize>;
}

macro_rules! pluck_tuple {
    ($($i:tt => $out:ident of ($($t:ident),+);)*) => {$(
        impl<$($t),+> Pluck<$i> for ($($t,)+) {
            type Output = $out;
            #[inline]
            fn pluck(self) -> Result<$out, usize> {
                Ok(self.$i)
            }
        }
    )*};
}

pluck_tuple! {
    0 => A of (A);
    0 => A of (A, B);
    1 => B of (A, B);
    0 => A of (A, B, C);
    1 => B of (A, B, C);
    2 => C of (A, B, C);
    0 => A of (A, B, C, D);
    1 => B of (A, B, C, D);
    2 => C of (A, B, C, D);
    3 => D of (A, B, C, D);
    0 => A of (A, B, C, D, E);
    1 => B of (A, B, C, D, E);
    2 => C of (A, B, C, D, E);
    3 => D of (A, B, C, D, E);
    4 => E of (A, B, C, D, E);
    0 => A of (A, B, C, D, E, F);
    1 => B of (A, B, C, D, E, F);
    2 => C of (A, B, C, D, E, F);
    3 => D of (A, B, C, D, E, F);
    4 => E of (A, B, C, D, E, F);
    5 => F of (A, B, C, D, E, F);
}

impl<U, const I: usize> Pluck<I> for Vec<U> {
    type Output = U;
    #[inline]
    fn pluck(mut self) -> Result<U, usize> {
        if I < self.len() {
            Ok(self.swap_remove(I))
        } else {
            Err(self.len())
        }
    }
}

impl<U, const I: usize, const N: usize> Pluck<I> for [U; N] {
    type Output = U;
    #[inline]
    fn pluck(self) -> Result<U, usize> {
        self.into_iter().nth(I).ok_or(N)
    }
}

/// SplitMix64's finaliser: spreads a partition number over the seed space.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}

impl<T: Data> Bag<T> {
    /// Element `I` of every item (Dask: `Bag.pluck(i)`): a field of a tuple, or an element
    /// of a `Vec` or an array. An item with no element `I` (a `Vec` too short) fails the
    /// computation with an error naming the item, as Dask's `IndexError` does.
    ///
    /// ```
    /// use dagr::bag as db;
    /// let b = db::from_sequence(vec![("a", 1), ("b", 2)], 2)?;
    /// assert_eq!(b.pluck::<0>().compute()?, vec!["a", "b"]);
    /// assert_eq!(b.pluck::<1>().sum().compute()?, 3);
    /// let rows = db::from_sequence(vec![vec![1, 2, 3], vec![4, 5]], 1)?;
    /// assert_eq!(rows.pluck::<1>().compute()?, vec![2, 5]);
    /// let err = rows.pluck::<2>().compute().unwrap_err().to_string();
    /// assert!(err.contains("item 1 of partition 0") && err.contains("2 elements"), "{err}");
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn pluck<const I: usize>(&self) -> Bag<T::Output>
    where
        T: Pluck<I>,
        T::Output: Data,
    {
        self.try_map_named("pluck", |x: T| {
            x.pluck()
                .map_err(|len| format!("pluck::<{I}>: no element {I} in an item of {len} elements"))
        })
    }

    /// Each item kept with probability `p`, drawn independently (Dask:
    /// `Bag.random_sample(prob, random_state)`): partition `i` draws from its own generator
    /// seeded from `(seed, i)`, so the sample depends on the seed and the partitioning, never
    /// on the scheduler. Items keep their order. A `p` outside `[0, 1]` is an error from
    /// `compute`. (The draws are dagr's own: the same seed does not pick the items Dask
    /// picks.)
    ///
    /// ```
    /// use dagr::bag as db;
    /// let b = db::from_sequence(0..1000, 4)?;
    /// let s = b.random_sample(0.1, 42).compute()?;
    /// assert_eq!(s, b.random_sample(0.1, 42).compute_with(dagr::Scheduler::sync())?);
    /// assert!(s.windows(2).all(|w| w[0] < w[1]) && s.len() < 200);
    /// assert!(b.random_sample(1.5, 42).compute().is_err());
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn random_sample(&self, p: f64, seed: u64) -> Bag<T> {
        if !(0.0..=1.0).contains(&p) {
            return self.failing(
                "random_sample",
                format!("random_sample({p}, {seed}): the probability must be in [0, 1]"),
            );
        }
        self.step(layer_name("random-sample"), move |i, it, _| {
            let mut rng =
                StdRng::seed_from_u64(mix(seed ^ mix((i as u64).wrapping_add(0x9e3779b97f4a7c15))));
            Box::new(it.filter(move |_| rng.random::<f64>() < p))
        })
    }

    /// The running fold of the items from `initial`: `initial`, then `binop(initial, x0)`,
    /// then `binop` of that and `x1`, and so on, one item more than the bag (Dask:
    /// `Bag.accumulate(binop, initial)`). Each partition starts from the last value of the
    /// partitions before it, so partitions are made one after the other. `binop` borrows the
    /// running value, so nothing is cloned per item.
    ///
    /// ```
    /// let b = dagr::bag::from_sequence(0..5, 2)?;
    /// assert_eq!(b.accumulate(|a, x| a + x, -1).compute()?, vec![-1, -1, 0, 2, 5, 9]);
    /// let words = dagr::bag::from_sequence(["a", "bc", "d"], 3)?;
    /// let ends = words.accumulate(|n: &usize, w| n + w.len(), 0);
    /// assert_eq!(ends.compute()?, vec![0, 1, 3, 4]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn accumulate<A: Data>(
        &self,
        binop: impl Fn(&A, T) -> A + Send + Sync + 'static,
        initial: A,
    ) -> Bag<A> {
        self.scan("accumulate", binop, Some(initial))
    }

    /// The running fold of the items from the first one: `x0`, then `binop(x0, x1)`, and so
    /// on, as many items as the bag (Dask: `Bag.accumulate(binop)` without `initial`).
    ///
    /// ```
    /// let b = dagr::bag::from_sequence(0..5, 3)?;
    /// assert_eq!(b.accumulate_from_first(|a, x| a + x).compute()?, vec![0, 1, 3, 6, 10]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn accumulate_from_first(
        &self,
        binop: impl Fn(&T, T) -> T + Send + Sync + 'static,
    ) -> Bag<T> {
        self.scan("accumulate", binop, None)
    }

    /// Partition `i` accumulates from the carry of partition `i - 1` (the last value so far,
    /// `None` before any): a task per partition making its items, and a small task per
    /// partition passing the carry on, so only the carry crosses to the next partition.
    /// The partitions' items are shared with the other outputs of a compute as any bag
    /// step's are.
    fn scan<A: Data>(
        &self,
        op: &str,
        binop: impl Fn(&A, T) -> A + Send + Sync + 'static,
        initial: Option<A>,
    ) -> Bag<A> {
        let (name, carry_name) = (layer_name(op), layer_name(&format!("{op}-carry")));
        let binop = Arc::new(binop);
        let mut parts: Vec<NodeRef> = Vec::with_capacity(self.npartitions());
        let mut carry: Option<NodeRef> = None;
        for i in 0..self.npartitions() {
            let (binop, start) = (binop.clone(), initial.clone());
            // the partition's items streamed into the scan (read from their own task when
            // other outputs of the compute read them too), the carry read after them
            let consume = move |it: PartIter<T>, carry: Option<Value>| {
                let start = match carry {
                    None => start.clone(),
                    Some(v) => v
                        .downcast_ref::<Option<A>>()
                        .ok_or_else(|| TaskError::new("accumulate: a carry of another type"))?
                        .clone(),
                };
                scan_part(it, start, i == 0, &*binop)
            };
            let task = super::layer::PartTask {
                layer: self.layer.clone(),
                below: false,
                i,
                wire: Some(crate::wire::known_wire::<Vec<A>>()),
                consume: Arc::new(consume),
                extra: carry.clone(),
            };
            let key = Key::index(name.clone(), &[i as u64]);
            let part = task.node(key, crate::share::Walk::plain(), true).0;
            // the carry: the partition's last value, else the carry it started from
            let first = i == 0;
            let start = initial.clone();
            let deps: Vec<NodeRef> = std::iter::once(part.clone()).chain(carry.take()).collect();
            carry = Some(new_wired_node(
                Key::index(carry_name.clone(), &[i as u64]),
                Deps::from(deps),
                NodeKind::Call,
                false,
                Some(crate::wire::known_wire::<Option<A>>()),
                move |inp: &mut Inputs<'_>| -> TaskResult {
                    let last = inp.get::<Vec<A>>(0)?.last().cloned();
                    let before = if first {
                        start.clone()
                    } else {
                        inp.get::<Option<A>>(1)?.clone()
                    };
                    Ok(Value::new(last.or(before)))
                },
            ));
            parts.push(part);
        }
        Bag::from_nodes(name, parts)
    }
}

/// One partition's running values from `start`: `start` itself first when `emit_start`,
/// then one value per item; without a start, the first item is the first value.
fn scan_part<T: 'static, A: 'static>(
    it: PartIter<T>,
    start: Option<A>,
    emit_start: bool,
    binop: &dyn Fn(&A, T) -> A,
) -> Result<Vec<A>, TaskError> {
    let mut out: Vec<A> = Vec::new();
    let mut start = start;
    if emit_start {
        out.extend(start.take());
    }
    for x in it {
        // the running value is the last one made, or the start before any
        let next = match out.last().or(start.as_ref()) {
            Some(acc) => binop(acc, x),
            // no start: the items are the values (`A` is `T` here)
            None => cast::<T, A>(x)?,
        };
        out.push(next);
    }
    Ok(out)
}
