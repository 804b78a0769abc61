//! The fixed combine tree every aggregation uses.
//!
//! Partial results are combined in order, at most [`SPLIT_EVERY`] at a time, until one is
//! left (always at least one combine step, as Dask's aggregate step always runs): the top
//! levels halve the inputs, the levels below combine groups of consecutive inputs. The
//! tree's shape depends only on the number of inputs, so results are identical on every
//! scheduler, and the runtime's depth-first order keeps a few partial results per level
//! alive at a time.
//!
//! Partial results that do not shrink when combined (the counting tables of text, whose
//! vocabulary a few partitions already cover) are combined along a chain instead
//! ([`combine_chain`]): one running result takes in each partial result as it comes, so
//! one combined result is alive at a time instead of up to `SPLIT_EVERY - 1` per level of
//! the tree, and no partial result waits for others to be combined with.

use crate::delayed::Data;
use crate::node::{new_node, new_spread_node, new_wired_node, Deps, NodeKind, NodeRef};
use dagr_runtime::{Inputs, Key, TaskError, TaskResult, Value, Wire};
use std::sync::Arc;

/// Fan-in of the combine tree (Dask's `split_every`).
pub const SPLIT_EVERY: usize = 8;

/// Number of partial results a step of [`combine_chain`] adds to the running result. One:
/// partial results waiting for a group to fill held up to three counting tables per chain
/// (the word count's peak heap was 45 MB with one, 50–97 MB with two or four, depending
/// on the order tasks ran in).
pub(crate) const CHAIN_GROUP: usize = 1;

/// A combine step: partial results, in input order, to one.
pub(crate) type Combine<S> = Arc<dyn Fn(Vec<S>) -> Result<S, TaskError> + Send + Sync>;

/// The body of a combine node: takes its inputs, in order, and combines them.
fn combine_body<S: Data>(
    combine: Combine<S>,
) -> impl Fn(&mut Inputs<'_>) -> TaskResult + Send + Sync + 'static {
    move |inp: &mut Inputs<'_>| -> TaskResult {
        let parts = (0..inp.len())
            .map(|k| inp.take::<S>(k))
            .collect::<Result<Vec<S>, _>>()?;
        Ok(Value::new(combine(parts)?))
    }
}

/// Combines the values of `level` from left to right: step `j`, keyed `(name, *prefix, j)`,
/// combines the result of step `j - 1` with the next [`CHAIN_GROUP`] values (the first
/// step takes `CHAIN_GROUP` values alone). The same arguments and result as
/// [`combine_tree`], for an associative `combine`, with one running result alive at a time.
pub(crate) fn combine_chain<S: Data>(
    level: Vec<NodeRef>,
    name: &Arc<str>,
    prefix: &[u64],
    pure: bool,
    wire: Option<Wire>,
    combine: Combine<S>,
) -> NodeRef {
    let mut acc: Option<NodeRef> = None;
    for (j, group) in level.chunks(CHAIN_GROUP).enumerate() {
        let deps: Vec<NodeRef> = acc.into_iter().chain(group.iter().cloned()).collect();
        let mut key = prefix.to_vec();
        key.push(j as u64);
        acc = Some(new_wired_node(
            Key::index(name.clone(), &key),
            Deps::from(deps),
            NodeKind::Call,
            pure,
            wire,
            combine_body(combine.clone()),
        ));
    }
    acc.unwrap_or_else(|| nothing_to_combine(name, prefix))
}

fn nothing_to_combine(name: &Arc<str>, prefix: &[u64]) -> NodeRef {
    let body = |_: &mut Inputs<'_>| -> TaskResult { Err(TaskError::new("nothing to combine")) };
    new_node(
        Key::index(name.clone(), prefix),
        Deps::none(),
        NodeKind::Call,
        false,
        body,
    )
}

/// Levels at the top of a combine tree that halve their range instead of cutting it in
/// groups of [`SPLIT_EVERY`].
const HALVING_LEVELS: u32 = 3;

/// Combines the values of `level` into one node; its nodes are keyed `(name, *prefix, j)`,
/// numbered in the order they are made, and `pure` nodes with equal keys are merged when
/// planning.
///
/// The tree is fixed by the number of inputs alone, so a result is the same on every
/// scheduler. Its top [`HALVING_LEVELS`] levels halve the inputs (the first half rounded
/// up), and below them groups of up to [`SPLIT_EVERY`] consecutive inputs combine level by
/// level: the halves are the runs of inputs the distributed scheduler gives to 2, 4 or 8
/// ranks, so each rank combines its own partial results before one crosses.
///
/// `wire` is how the partial results cross between processes, when they can.
pub(crate) fn combine_tree<S: Data>(
    level: Vec<NodeRef>,
    name: &Arc<str>,
    prefix: &[u64],
    pure: bool,
    wire: Option<Wire>,
    combine: Combine<S>,
) -> NodeRef {
    if level.is_empty() {
        return nothing_to_combine(name, prefix);
    }
    let tree = Tree {
        name,
        prefix,
        pure,
        wire,
        combine: &combine,
    };
    let mut count = 0;
    tree.build(level, 0, true, &mut count)
}

/// Combines the values of `level` (at least one) in two halves (the first rounded up, the
/// runs of inputs two ranks own), each along a [`combine_chain`] keyed `(name, *prefix, h,
/// j)`, and the halves' results in a root keyed `(name, *prefix, 2)` that a distributed
/// run places by `prefix`, as it places sources: roots built with one `name` and prefixes
/// `[0]`, `[1]`, … end on different ranks, each gathering its partial results there.
/// For partial results that do not shrink when combined: one running result per half.
pub(crate) fn spread_halved_chain<S: Data>(
    mut level: Vec<NodeRef>,
    name: &Arc<str>,
    prefix: &[u64],
    wire: Option<Wire>,
    combine: Combine<S>,
) -> NodeRef {
    let right = level.split_off(level.len().div_ceil(2));
    let mut halves = Vec::with_capacity(2);
    for (h, half) in [level, right].into_iter().enumerate() {
        let mut key = prefix.to_vec();
        key.push(h as u64);
        match half.len() {
            0 => {}
            1 => halves.extend(half),
            _ => halves.push(combine_chain(
                half,
                name,
                &key,
                false,
                wire,
                combine.clone(),
            )),
        }
    }
    let mut key = prefix.to_vec();
    key.push(2);
    new_spread_node(
        Key::index(name.clone(), &key),
        Deps::from(halves),
        wire,
        combine_body(combine),
    )
}

/// What every node of one combine tree shares.
struct Tree<'a, S> {
    name: &'a Arc<str>,
    prefix: &'a [u64],
    pure: bool,
    wire: Option<Wire>,
    combine: &'a Combine<S>,
}

impl<S: Data> Tree<'_, S> {
    /// The node combining `inputs`, `depth` levels below the root; `count` numbers the nodes
    /// in the order they are made. The root always combines (one input included).
    fn build(&self, mut inputs: Vec<NodeRef>, depth: u32, root: bool, count: &mut u64) -> NodeRef {
        if inputs.len() == 1 && !root {
            return inputs.pop().unwrap_or_else(|| unreachable!());
        }
        if inputs.len() > SPLIT_EVERY {
            if depth < HALVING_LEVELS {
                let right = inputs.split_off(inputs.len().div_ceil(2));
                let left = self.build(inputs, depth + 1, false, count);
                let right = self.build(right, depth + 1, false, count);
                inputs = vec![left, right];
            } else {
                // groups of SPLIT_EVERY, level by level, up to at most SPLIT_EVERY nodes
                while inputs.len() > SPLIT_EVERY {
                    inputs = inputs
                        .chunks(SPLIT_EVERY)
                        .map(|group| self.node(group.to_vec(), count))
                        .collect();
                }
            }
        }
        self.node(inputs, count)
    }

    fn node(&self, inputs: Vec<NodeRef>, count: &mut u64) -> NodeRef {
        let body = combine_body(self.combine.clone());
        let mut key = self.prefix.to_vec();
        key.push(*count);
        *count += 1;
        let key = Key::index(self.name.clone(), &key);
        new_wired_node(
            key,
            Deps::from(inputs),
            NodeKind::Call,
            self.pure,
            self.wire,
            body,
        )
    }
}

/// A node computing `f` from the value of `prior`; `wire`: how its value crosses.
pub(crate) fn then<A: Data, B: Data>(
    prior: NodeRef,
    name: Arc<str>,
    wire: Option<Wire>,
    f: impl Fn(A) -> Result<B, TaskError> + Send + Sync + 'static,
) -> NodeRef {
    let body = move |inp: &mut Inputs<'_>| -> TaskResult { Ok(Value::new(f(inp.take::<A>(0)?)?)) };
    new_wired_node(
        Key::index(name, &[0]),
        Deps::one(prior),
        NodeKind::Call,
        false,
        wire,
        body,
    )
}

/// One node per partition of a collection, keyed `(name, i)`: partition `i` reads the value
/// of `inputs[i]` (if any) and `run` makes its result; `wire`: how results cross. (Used by
/// the cluster's array store; bags and frames build their partition tasks as layers.)
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
pub(crate) fn partition_nodes<S: Data>(
    inputs: &[Option<NodeRef>],
    name: &Arc<str>,
    wire: Option<Wire>,
    run: impl Fn(usize, Option<Value>) -> Result<S, TaskError> + Send + Sync + 'static,
) -> Vec<NodeRef> {
    let run = Arc::new(run);
    inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let run = run.clone();
            let has_input = input.is_some();
            let body = move |inp: &mut Inputs<'_>| -> TaskResult {
                let v = if has_input {
                    Some(inp.take_value(0)?)
                } else {
                    None
                };
                Ok(Value::new(run(i, v)?))
            };
            let deps = input.clone().map_or(Deps::none(), Deps::one);
            new_wired_node(
                Key::index(name.clone(), &[i as u64]),
                deps,
                NodeKind::Call,
                false,
                wire,
                body,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(i: usize) -> NodeRef {
        new_node(
            Key::index(Arc::<str>::from("leaf"), &[i as u64]),
            Deps::none(),
            NodeKind::Call,
            false,
            |_: &mut Inputs<'_>| -> TaskResult { Ok(Value::new(0u8)) },
        )
    }

    /// The leaves under `n` in order, checking every combine node's fan-in on the way.
    fn leaves_of(n: &NodeRef, out: &mut Vec<u64>) {
        if n.key().prefix() == "leaf" {
            out.push(n.key().index_value().unwrap()[0]);
            return;
        }
        assert!((1..=SPLIT_EVERY).contains(&n.deps().len()));
        n.deps().iter().for_each(|d| leaves_of(d, out));
    }

    #[test]
    fn trees_keep_order_and_fan_in_and_halve_at_the_top() {
        let name: Arc<str> = "combine".into();
        let combine: Combine<u8> = Arc::new(|v: Vec<u8>| Ok(v[0]));
        for n in 1..200 {
            let root = combine_tree(
                (0..n).map(leaf).collect(),
                &name,
                &[],
                false,
                None,
                combine.clone(),
            );
            let mut got = Vec::new();
            leaves_of(&root, &mut got);
            assert_eq!(got, (0..n as u64).collect::<Vec<_>>());
            if n > SPLIT_EVERY {
                // the root's halves are the runs of inputs two ranks own: ⌊i·2/n⌋
                let mut left = Vec::new();
                leaves_of(&root.deps()[0], &mut left);
                assert_eq!(left.len(), n.div_ceil(2));
                assert!(left.iter().all(|&i| i as usize * 2 / n == 0));
            }
        }
    }
}
