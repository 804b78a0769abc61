//! Turning the lazy DAG into a runtime graph: share, cull, merge, order.
//!
//! Fused blocks that several tasks of the compute would make are made tasks of their own,
//! read by those tasks ([`crate::share`]): when the walk met several nodes that fuse named
//! blocks and the sharing pass rebuilds some, the graph is planned again with the rebuilt
//! nodes in place of the nodes as built (a graph without fused blocks is walked once).
//!
//! One iterative depth-first walk from the outputs does all three: only nodes the outputs
//! reach are visited (cull); a node reached twice is added once, and pure nodes with equal
//! keys are merged (Dask's `pure=True`); nodes are numbered in post-order, so every
//! dependency precedes its consumer and roots are met in the order the outputs need them,
//! which keeps the runtime's depth-first execution close to the data it just produced.

use crate::node::NodeRef;
use dagr_runtime::{Key, NodeId, Task, TaskGraph};
use std::collections::HashMap;
use std::sync::Arc;

/// A runtime graph built from lazy nodes, with the ids of the requested outputs.
pub(crate) struct Plan {
    pub(crate) graph: TaskGraph,
    pub(crate) outputs: Vec<NodeId>,
}

/// Maps node addresses to what a walk learnt about them.
pub(crate) type AddrMap<V> = crate::hash::FastMap<usize, V>;

fn addr(n: &NodeRef) -> usize {
    Arc::as_ptr(n) as *const () as usize
}

/// Plans the computation of `outputs`.
///
/// Post-order walk with two stacks: `frames` (the path from an output to the node being
/// expanded) and `found` (the ids of dependencies found so far, one per edge, which the
/// consumer's frame pops when it is added). A node held by one reference only (one edge, no
/// user handle) can be met once, so only shared and pure nodes are recorded in hash maps.
/// A shared node is met at most once per reference to it (each edge holds one), so its
/// record keeps how many references are left and goes when none is: the map holds the
/// frontier of the walk, not every shared node (a wavefront of a million cells keeps a few
/// thousand).
///
/// For a `distributed` run, each node's wire goes with it, and values given by the user are
/// marked as held by every process.
pub(crate) fn plan(outputs: &[&NodeRef], distributed: bool) -> Result<Plan, dagr_runtime::Error> {
    let none = AddrMap::default();
    let (plan, fused) = plan_rebuilt(outputs, distributed, &none)?;
    // a block can only be shared between two tasks that fuse named blocks
    if fused > 1 {
        let rebuilt = crate::share::rewire(outputs);
        if !rebuilt.is_empty() {
            return Ok(plan_rebuilt(outputs, distributed, &rebuilt)?.0);
        }
    }
    Ok(plan)
}

/// [`plan`] with the nodes `rebuilt` holds (by the address of the node they replace) in
/// place of those nodes; also the number of nodes planned that fuse named blocks.
fn plan_rebuilt(
    outputs: &[&NodeRef],
    distributed: bool,
    rebuilt: &AddrMap<NodeRef>,
) -> Result<(Plan, usize), dagr_runtime::Error> {
    struct Frame<'a> {
        node: &'a NodeRef,
        /// The address of the node as built (`node` may be its rebuilt form).
        addr: usize,
        next: u32,
        base: u32,
        /// References to the node as built when the walk first met it.
        refs: usize,
    }
    let as_run = |n: &NodeRef| -> Option<&NodeRef> {
        if rebuilt.is_empty() {
            None
        } else {
            rebuilt.get(&addr(n))
        }
    };
    let mut fused = 0;
    let mut graph = TaskGraph::new();
    // shared nodes met: their id and how many references to them may still be met
    let mut shared_ids: AddrMap<(NodeId, usize)> = AddrMap::default();
    let mut pure_ids: HashMap<Key, NodeId> = HashMap::new();
    let mut out_ids = Vec::with_capacity(outputs.len());
    let mut frames: Vec<Frame<'_>> = Vec::new();
    let mut found: Vec<NodeId> = Vec::new();
    // Meets `node` through one edge: either its id is known, or a frame is opened (given
    // the node's references).
    let meet =
        |node: &NodeRef, found: &mut Vec<NodeId>, shared_ids: &mut AddrMap<(NodeId, usize)>| {
            let refs = Arc::strong_count(node);
            if refs > 1 {
                let a = addr(node);
                if let Some((id, left)) = shared_ids.get_mut(&a) {
                    found.push(*id);
                    *left -= 1;
                    if *left == 0 {
                        shared_ids.remove(&a);
                    }
                    return None;
                }
            }
            Some(refs)
        };
    for out in outputs {
        if let Some(refs) = meet(out, &mut found, &mut shared_ids) {
            frames.push(Frame {
                node: as_run(out).unwrap_or(out),
                addr: addr(out),
                next: 0,
                base: found.len() as u32,
                refs,
            });
        }
        while let Some(top) = frames.last_mut() {
            let node: &NodeRef = top.node;
            if let Some(dep) = node.deps().get(top.next as usize) {
                top.next += 1;
                if let Some(refs) = meet(dep, &mut found, &mut shared_ids) {
                    frames.push(Frame {
                        node: as_run(dep).unwrap_or(dep),
                        addr: addr(dep),
                        next: 0,
                        base: found.len() as u32,
                        refs,
                    });
                }
                continue;
            }
            let Some(frame) = frames.pop() else { break };
            let mut id = None;
            if node.is_pure() {
                id = pure_ids.get(node.key()).copied();
            }
            let id = match id {
                Some(id) => id,
                None => {
                    fused += usize::from(node.fused().is_some());
                    let body: Arc<dyn dagr_runtime::Body> = node.clone();
                    let id = graph.add(
                        node.key().clone(),
                        &found[frame.base as usize..],
                        Task::shared(body),
                    )?;
                    if distributed {
                        if let Some(w) = node.wire() {
                            graph.set_wire(id, w);
                        }
                        if node.kind() == crate::NodeKind::Data {
                            graph.set_replicated(id);
                        }
                        if node.is_spread() {
                            graph.set_spread(id);
                        }
                        if let Some(rank) = node.pinned() {
                            graph.pin(id, rank);
                        }
                    }
                    if node.is_pure() {
                        pure_ids.insert(node.key().clone(), id);
                    }
                    id
                }
            };
            found.truncate(frame.base as usize);
            if frame.refs > 1 {
                // this edge was one of the references
                shared_ids.insert(frame.addr, (id, frame.refs - 1));
            }
            found.push(id);
        }
        out_ids.extend(found.pop());
    }
    Ok((
        Plan {
            graph,
            outputs: out_ids,
        },
        fused,
    ))
}

/// Number of distinct nodes reachable from `outputs`.
pub(crate) fn count(outputs: &[&NodeRef]) -> usize {
    let rebuilt = crate::share::rewire(outputs);
    let mut seen: AddrMap<()> = AddrMap::default();
    let mut stack: Vec<&NodeRef> = outputs.to_vec();
    while let Some(n) = stack.pop() {
        if seen.insert(addr(n), ()).is_none() {
            stack.extend(rebuilt.get(&addr(n)).unwrap_or(n).deps());
        }
    }
    seen.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delayed::{map2, value, Delayed};
    use dagr_runtime::Scheduler;

    /// A `side` × `side` wavefront as plain numbers: the oracle.
    fn wavefront_oracle(side: usize) -> i64 {
        let mut g = vec![0_i64; side * side];
        for i in 0..side {
            for j in 0..side {
                g[i * side + j] = match (i, j) {
                    (0, 0) => 1,
                    (0, _) => g[j - 1],
                    (_, 0) => g[(i - 1) * side],
                    _ => g[(i - 1) * side + j].wrapping_add(g[i * side + j - 1]),
                };
            }
        }
        g[side * side - 1]
    }

    #[test]
    fn shared_nodes_are_planned_once_however_they_are_held() {
        // Cells read by two consumers, some also held by the test, and the first column's
        // cells read twice by one consumer: every cell is one task of the plan.
        let side = 40;
        let mut held = Vec::new();
        let mut prev: Vec<Delayed<i64>> = Vec::new();
        for i in 0..side {
            let mut row: Vec<Delayed<i64>> = Vec::new();
            for j in 0..side {
                let cell = match (i, j) {
                    (0, 0) => value(1_i64),
                    (0, _) => row[j - 1].map(|v| v),
                    (_, 0) => map2(&prev[0], &prev[0], |a: i64, _| a),
                    _ => map2(&prev[j], &row[j - 1], |a: i64, b: i64| a.wrapping_add(b)),
                };
                if (i * side + j) % 7 == 3 {
                    held.push(cell.clone());
                }
                row.push(cell);
            }
            prev = row;
        }
        let corner = prev.pop().expect("a corner");
        drop(prev);
        let p = plan(&[&corner.node], false).unwrap();
        assert_eq!(p.graph.len(), side * side);
        // and twice over, through two outputs and a held handle
        let mid = held[held.len() / 2].clone();
        let p2 = plan(&[&corner.node, &mid.node, &corner.node], false).unwrap();
        assert_eq!(p2.graph.len(), side * side);
        assert_eq!(p2.outputs[0], p2.outputs[2]);
        let want = wavefront_oracle(side);
        for s in [Scheduler::sync(), Scheduler::threads(2)] {
            assert_eq!(corner.compute_with(s).unwrap(), want);
        }
    }
}
