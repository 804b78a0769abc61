//! Turning the lazy DAG into a runtime graph: cull, merge, order.
//!
//! One iterative depth-first walk from the outputs does all three: only nodes the outputs
//! reach are visited (cull); a node reached twice is added once, and pure nodes with equal
//! keys are merged (Dask's `pure=True`); nodes are numbered in post-order, so every
//! dependency precedes its consumer and roots are met in the order the outputs need them,
//! which keeps the runtime's depth-first execution close to the data it just produced.

use crate::node::NodeRef;
use dagr_runtime::{Key, NodeId, Task, TaskGraph};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// A runtime graph built from lazy nodes, with the ids of the requested outputs.
pub(crate) struct Plan {
    pub(crate) graph: TaskGraph,
    pub(crate) outputs: Vec<NodeId>,
}

/// Hashes pointer addresses: one multiply, no SipHash rounds.
#[derive(Default)]
pub(crate) struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
    }
}

pub(crate) type AddrMap<V> = HashMap<usize, V, BuildHasherDefault<AddrHasher>>;

fn addr(n: &NodeRef) -> usize {
    Arc::as_ptr(n) as *const () as usize
}

/// Plans the computation of `outputs`.
pub(crate) fn plan(outputs: &[&NodeRef]) -> Result<Plan, dagr_runtime::Error> {
    let mut graph = TaskGraph::new();
    let mut ids: AddrMap<NodeId> = AddrMap::default();
    let mut pure: HashMap<Key, NodeId> = HashMap::new();
    let mut out_ids = Vec::with_capacity(outputs.len());
    let mut stack: Vec<(&NodeRef, usize)> = Vec::new();
    let mut dep_ids: Vec<NodeId> = Vec::new();
    for out in outputs {
        stack.push((out, 0));
        while let Some(&(node, next)) = stack.last() {
            if next == 0 && ids.contains_key(&addr(node)) {
                stack.pop();
                continue;
            }
            let deps = node.deps();
            if let Some(dep) = deps.get(next) {
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                if !ids.contains_key(&addr(dep)) {
                    stack.push((dep, 0));
                }
                continue;
            }
            stack.pop();
            if node.is_pure() {
                if let Some(&id) = pure.get(node.key()) {
                    ids.insert(addr(node), id);
                    continue;
                }
            }
            dep_ids.clear();
            dep_ids.extend(deps.iter().map(|d| ids[&addr(d)]));
            let body: Arc<dyn dagr_runtime::Body> = node.clone();
            let id = graph.add(node.key().clone(), &dep_ids, Task::shared(body))?;
            ids.insert(addr(node), id);
            if node.is_pure() {
                pure.insert(node.key().clone(), id);
            }
        }
        out_ids.push(ids[&addr(out)]);
    }
    Ok(Plan {
        graph,
        outputs: out_ids,
    })
}

/// Number of distinct nodes reachable from `outputs`.
pub(crate) fn count(outputs: &[&NodeRef]) -> usize {
    let mut seen: AddrMap<()> = AddrMap::default();
    let mut stack: Vec<&NodeRef> = outputs.to_vec();
    while let Some(n) = stack.pop() {
        if seen.insert(addr(n), ()).is_none() {
            stack.extend(n.deps());
        }
    }
    seen.len()
}
