//! The fixed combine tree every aggregation uses.
//!
//! Partial results are combined [`SPLIT_EVERY`] at a time, in order, level after level,
//! until one is left (always at least one level, as Dask's aggregate step always runs).
//! The tree's shape depends only on the number of inputs, so results are identical on every
//! scheduler, and the runtime's depth-first order keeps a few partial results per level
//! alive at a time.
//!
//! Partial results that do not shrink when combined (the counting tables of text, whose
//! vocabulary a few partitions already cover) are combined along a chain instead
//! ([`combine_chain`]): one running result takes in [`CHAIN_GROUP`] partial results at a
//! step, so one combined result is alive at a time instead of up to `SPLIT_EVERY - 1` per
//! level of the tree.

use crate::delayed::Data;
use crate::node::{new_node, new_wired_node, Deps, NodeKind, NodeRef};
use dagr_runtime::{Inputs, Key, TaskError, TaskResult, Value, Wire};
use std::sync::Arc;

/// Fan-in of the combine tree (Dask's `split_every`).
pub const SPLIT_EVERY: usize = 8;

/// Number of partial results a step of [`combine_chain`] adds to the running result.
pub(crate) const CHAIN_GROUP: usize = 4;

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
        Ok(Arc::new(combine(parts)?))
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
        Deps::Zero,
        NodeKind::Call,
        false,
        body,
    )
}

/// Combines the values of `level` into one node keyed `(name, *prefix, depth, j)`; `pure`
/// nodes with equal keys are merged when planning.
///
/// `wire` is how the partial results cross between processes, when they can.
pub(crate) fn combine_tree<S: Data>(
    mut level: Vec<NodeRef>,
    name: &Arc<str>,
    prefix: &[u64],
    pure: bool,
    wire: Option<Wire>,
    combine: Combine<S>,
) -> NodeRef {
    let mut depth = 0u64;
    while depth == 0 || level.len() > 1 {
        depth += 1;
        level = level
            .chunks(SPLIT_EVERY)
            .enumerate()
            .map(|(j, group)| {
                let mut key = prefix.to_vec();
                key.extend([depth, j as u64]);
                new_wired_node(
                    Key::index(name.clone(), &key),
                    Deps::from(group.to_vec()),
                    NodeKind::Call,
                    pure,
                    wire,
                    combine_body(combine.clone()),
                )
            })
            .collect();
    }
    // Each level leaves at least one node: the first level's input is never empty for
    // callers, and an empty one leaves an empty level only if `level` was empty.
    level
        .pop()
        .unwrap_or_else(|| nothing_to_combine(name, prefix))
}

/// A node computing `f` from the value of `prior`; `wire`: how its value crosses.
pub(crate) fn then<A: Data, B: Data>(
    prior: NodeRef,
    name: Arc<str>,
    wire: Option<Wire>,
    f: impl Fn(A) -> Result<B, TaskError> + Send + Sync + 'static,
) -> NodeRef {
    let body = move |inp: &mut Inputs<'_>| -> TaskResult { Ok(Arc::new(f(inp.take::<A>(0)?)?)) };
    new_wired_node(
        Key::index(name, &[0]),
        Deps::One([prior]),
        NodeKind::Call,
        false,
        wire,
        body,
    )
}

/// One node per partition of a collection, keyed `(name, i)`: partition `i` reads the value
/// of `inputs[i]` (if any) and `run` makes its result; `wire`: how results cross.
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
                Ok(Arc::new(run(i, v)?))
            };
            let deps = input.clone().map_or(Deps::Zero, |n| Deps::One([n]));
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
