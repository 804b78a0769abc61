//! Bags combined with other items: `product` (every pair of two bags) and `join` (the items
//! of an in-memory collection matching each item of a bag).

use super::{layer_name, Bag};
use crate::hash::FastMap;
use crate::node::{new_wired_node, Deps, NodeKind, NodeRef};
use crate::Data;
use dagr_runtime::{Inputs, Key, TaskResult, Value};
use std::hash::Hash;
use std::sync::Arc;

impl<T: Data> Bag<T> {
    /// Every pair of an item of this bag and an item of `other` (Dask: `Bag.product`): a
    /// partition per pair of partitions, `(i, j)` numbered `i * other.npartitions() + j`,
    /// holding the pairs of partition `i` and partition `j` with this bag's item varying
    /// slowest. Each partition of either bag is made once per compute.
    ///
    /// ```
    /// use dagr::bag as db;
    /// let a = db::from_sequence([1, 2], 2)?;
    /// let b = db::from_sequence(['x', 'y'], 1)?;
    /// let p = a.product(&b);
    /// assert_eq!(p.npartitions(), 2);
    /// assert_eq!(p.compute()?, vec![(1, 'x'), (1, 'y'), (2, 'x'), (2, 'y')]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn product<U: Data>(&self, other: &Bag<U>) -> Bag<(T, U)> {
        let (left, right) = (self.partition_nodes(), other.partition_nodes());
        let name = layer_name("product");
        let mut nodes: Vec<NodeRef> = Vec::with_capacity(left.len() * right.len());
        for a in &left {
            for b in &right {
                let k = nodes.len() as u64;
                nodes.push(new_wired_node(
                    Key::index(name.clone(), &[k]),
                    Deps::two(a.clone(), b.clone()),
                    NodeKind::Call,
                    false,
                    Some(crate::wire::known_wire::<Vec<(T, U)>>()),
                    |inp: &mut Inputs<'_>| -> TaskResult {
                        let (xs, ys) = (inp.get::<Vec<T>>(0)?, inp.get::<Vec<U>>(1)?);
                        let mut out = Vec::with_capacity(xs.len().saturating_mul(ys.len()));
                        for x in xs {
                            out.extend(ys.iter().map(|y| (x.clone(), y.clone())));
                        }
                        Ok(Value::new(out))
                    },
                ));
            }
        }
        Bag::from_nodes(name, nodes)
    }

    /// Joins the items of `other`, held in memory, to the items of this bag whose key
    /// matches (Dask: `Bag.join(other, on_self, on_other)`, an inner join): for each item
    /// `x` of the bag, in order, a pair `(y, x)` for every item `y` of `other` with
    /// `on_other(y) == on_self(x)`, in `other`'s order. As in Dask the pairs put `other`'s
    /// item first, and the bag is streamed while `other` is indexed once, when the join is
    /// built (`on_other` runs then).
    ///
    /// ```
    /// use dagr::bag as db;
    /// let people = db::from_sequence(vec![("alice", 1), ("bob", 2), ("carol", 1)], 2)?;
    /// let cities = vec![(1, "Paris"), (2, "Oslo"), (1, "Lyon")];
    /// let j = people.join(cities, |p| p.1, |c| c.0);
    /// assert_eq!(
    ///     j.map(|(c, p)| (p.0, c.1)).compute()?,
    ///     vec![("alice", "Paris"), ("alice", "Lyon"), ("bob", "Oslo"), ("carol", "Paris"), ("carol", "Lyon")]
    /// );
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn join<U: Data, K: Hash + Eq + Send + Sync + 'static>(
        &self,
        other: impl IntoIterator<Item = U>,
        on_self: impl Fn(&T) -> K + Send + Sync + 'static,
        on_other: impl Fn(&U) -> K,
    ) -> Bag<(U, T)> {
        let mut index: FastMap<K, Vec<U>> = FastMap::default();
        for y in other {
            index.entry(on_other(&y)).or_default().push(y);
        }
        let index = Arc::new(index);
        let on_self = Arc::new(on_self);
        self.pipe("join", move |it| {
            let (index, on_self) = (index.clone(), on_self.clone());
            Box::new(it.flat_map(move |x| {
                let matches: &[U] = index.get(&on_self(&x)).map_or(&[], Vec::as_slice);
                let pairs: Vec<(U, T)> = matches.iter().map(|y| (y.clone(), x.clone())).collect();
                pairs
            }))
        })
    }
}
