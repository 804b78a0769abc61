//! Which rank runs each task: a pure function of the graph, so every rank computes the same
//! placement without a message.
//!
//! 1. A node that only holds a value ([`Task::value`](crate::Task::value)) is on every rank:
//!    every rank built it.
//! 2. A *source* (a task whose inputs are all such values, or that has none) with a chunk key
//!    `('name', i, …)` is chunk `p` of the `N` sources of its layer (`name`), ordered by
//!    index, and runs on rank `⌊p·R/N⌋`: each rank reads its own contiguous run of files,
//!    blocks and partitions. Other sources (delayed calls) are numbered in graph order and
//!    spread the same way. Nodes marked [`TaskGraph::set_spread`] are placed as sources
//!    whatever their inputs. A node pinned to a rank ([`TaskGraph::pin`]) runs there.
//! 3. Any other task runs where most of its inputs are, so chains and blockwise layers stay
//!    with their chunk and a combine tree gathers partial results from as few ranks as
//!    possible. Ties go to the rank of its consumers when they all are on one of the tied
//!    ranks (so a reduction leans towards where its result goes) and no input whose value
//!    cannot be encoded is left behind, else to the earliest tied input in argument order.
//! 4. A task whose value cannot be encoded moves, when all its consumers are on one rank, to
//!    that rank, so its value never has to cross.

use crate::{Key, KeyIndex, NodeId, TaskGraph};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// The owner of a node every rank holds (a ready value).
pub(crate) const EVERYWHERE: u32 = u32::MAX;

/// The owner of each node of a graph, and which nodes the outputs need.
pub(crate) struct Placement {
    /// Rank running each node ([`EVERYWHERE`] for values; unused when not `needed`).
    pub(crate) owner: Vec<u32>,
    /// Whether an output depends on the node.
    pub(crate) needed: Vec<bool>,
    /// Consumers of each needed node among needed nodes (CSR over `succ_start`).
    pub(crate) succ_start: Vec<u32>,
    pub(crate) succs: Vec<u32>,
}

impl Placement {
    pub(crate) fn succs_of(&self, i: usize) -> &[u32] {
        &self.succs[self.succ_start[i] as usize..self.succ_start[i + 1] as usize]
    }
}

fn deps_of(g: &TaskGraph, i: usize) -> &[u32] {
    &g.deps[g.dep_start[i] as usize..g.dep_start[i + 1] as usize]
}

/// Places every node `outputs` need on one of `ranks` ranks.
pub(crate) fn place(g: &TaskGraph, outputs: &[NodeId], ranks: u32) -> Placement {
    let n = g.len();
    let ranks = ranks.max(1);
    let mut needed = vec![false; n];
    for o in outputs {
        if let Some(x) = needed.get_mut(o.index()) {
            *x = true;
        }
    }
    let mut succ_count = vec![0u32; n];
    for i in (0..n).rev() {
        if needed[i] {
            for &d in deps_of(g, i) {
                needed[d as usize] = true;
                succ_count[d as usize] += 1;
            }
        }
    }
    let mut succ_start = Vec::with_capacity(n + 1);
    let mut acc = 0u32;
    for c in &succ_count {
        succ_start.push(acc);
        acc += c;
    }
    succ_start.push(acc);
    let mut fill: Vec<u32> = succ_start[..n].to_vec();
    let mut succs = vec![0u32; acc as usize];
    for (i, _) in needed.iter().enumerate().filter(|(_, &x)| x) {
        for &d in deps_of(g, i) {
            succs[fill[d as usize] as usize] = i as u32;
            fill[d as usize] += 1;
        }
    }
    drop(fill);

    let is_value = |i: usize| g.is_replicated(NodeId(i as u32));
    let mut owner = vec![EVERYWHERE; n];
    // Sources: chunk keys by layer, the others in graph order.
    let mut layers: HashMap<&str, Vec<(KeyIndex<'_>, u32)>> = HashMap::new();
    let mut others: Vec<u32> = Vec::new();
    let mut is_source = vec![false; n];
    for i in 0..n {
        if !needed[i] || is_value(i) {
            continue;
        }
        if let Some(r) = g.pinned(NodeId(i as u32)) {
            is_source[i] = true;
            owner[i] = r.min(ranks - 1);
            continue;
        }
        if g.is_spread(NodeId(i as u32)) || deps_of(g, i).iter().all(|&d| is_value(d as usize)) {
            is_source[i] = true;
            let key: &Key = &g.keys[i];
            match key.index_value() {
                Some(ix) => layers.entry(key.prefix()).or_default().push((ix, i as u32)),
                None => others.push(i as u32),
            }
        }
    }
    let spread = |p: usize, count: usize| ((p as u64 * ranks as u64) / count as u64) as u32;
    for chunks in layers.values_mut() {
        chunks.sort_unstable();
        let count = chunks.len();
        for (p, &(_, i)) in chunks.iter().enumerate() {
            owner[i as usize] = spread(p, count);
        }
    }
    for (p, &i) in others.iter().enumerate() {
        owner[i as usize] = spread(p, others.len());
    }
    // Everything else: with most of its inputs.
    let mut votes = vec![0u32; ranks as usize];
    for i in 0..n {
        if !needed[i] || is_value(i) || is_source[i] {
            continue;
        }
        let ds = deps_of(g, i);
        let mut best = EVERYWHERE;
        let mut best_votes = 0;
        for &d in ds {
            let r = owner[d as usize];
            if r != EVERYWHERE {
                votes[r as usize] += 1;
                let v = votes[r as usize];
                if v > best_votes {
                    best_votes = v;
                    best = r;
                }
            }
        }
        // Ties: the earliest input among the most voted ranks.
        if let Some(&d) = ds.iter().find(|&&d| {
            let r = owner[d as usize];
            r != EVERYWHERE && votes[r as usize] == best_votes
        }) {
            best = owner[d as usize];
        }
        for &d in ds {
            let r = owner[d as usize];
            if r != EVERYWHERE {
                votes[r as usize] = 0;
            }
        }
        owner[i] = best;
    }
    let mut placement = Placement {
        owner,
        needed,
        succ_start,
        succs,
    };
    // Ties go to the consumers' rank, when it is one of the tied ranks: consumers first.
    for i in (0..n).rev() {
        if !placement.needed[i] || is_value(i) || is_source[i] {
            continue;
        }
        let mut consumers = placement
            .succs_of(i)
            .iter()
            .map(|&c| placement.owner[c as usize]);
        let Some(target) = consumers.next() else {
            continue;
        };
        if target == EVERYWHERE || target == placement.owner[i] || !consumers.all(|r| r == target) {
            continue;
        }
        let ds = deps_of(g, i);
        let here = placement.owner[i];
        let count = |r: u32| {
            ds.iter()
                .filter(|&&d| placement.owner[d as usize] == r)
                .count()
        };
        // (never away from an input whose value cannot cross)
        let pinned = ds
            .iter()
            .any(|&d| placement.owner[d as usize] == here && !encodable(g, d as usize));
        if !pinned && count(target) > 0 && count(target) == count(here) {
            placement.owner[i] = target;
        }
    }
    // Values that cannot cross stay with their consumers when those agree on a rank.
    let mut is_output = vec![false; n];
    for o in outputs {
        if let Some(x) = is_output.get_mut(o.index()) {
            *x = true;
        }
    }
    for i in (0..n).rev() {
        if !placement.needed[i]
            || is_value(i)
            || encodable(g, i)
            || (is_output[i] && ranks > 1)
            || g.pinned(NodeId(i as u32)).is_some()
        {
            continue;
        }
        let mut consumers = placement
            .succs_of(i)
            .iter()
            .map(|&c| placement.owner[c as usize]);
        if let Some(first) = consumers.next() {
            if consumers.all(|r| r == first) {
                placement.owner[i] = first;
            }
        }
    }
    placement
}

/// Whether node `i`'s value can cross to another rank.
pub(crate) fn encodable(g: &TaskGraph, i: usize) -> bool {
    g.wire(NodeId(i as u32)).is_some_and(|w| w.can_encode())
}

/// A key's name without the tokens of its layers (`sum-part-1f3a9c2e` → `sum-part`,
/// `map-00000000deadbeef-compute` → `map-compute`): tokens count calls in each process,
/// which may differ without changing the graph.
fn without_token(name: &str) -> impl Iterator<Item = &str> {
    name.split('-').filter(|part| {
        !((8..=16).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_hexdigit()))
    })
}

/// A hash of the graph's shape as the ranks must agree on it: for every node the outputs
/// need, its key (without tokens, see `without_token`), its inputs and whether it holds a
/// value.
pub(crate) fn fingerprint(g: &TaskGraph, outputs: &[NodeId], needed: &[bool]) -> u64 {
    let mut h = FxHasher::default();
    g.len().hash(&mut h);
    for (i, &need) in needed.iter().enumerate() {
        if !need {
            continue;
        }
        i.hash(&mut h);
        let key = &g.keys[i];
        without_token(key.prefix()).for_each(|part| part.hash(&mut h));
        key.index_value().hash(&mut h);
        deps_of(g, i).hash(&mut h);
        g.is_replicated(NodeId(i as u32)).hash(&mut h);
        g.is_spread(NodeId(i as u32)).hash(&mut h);
        g.pinned(NodeId(i as u32)).hash(&mut h);
    }
    for o in outputs {
        o.index().hash(&mut h);
    }
    h.finish()
}

/// The multiply-rotate hash of rustc (FxHash): fast, deterministic across processes, and
/// strong enough to tell graphs apart.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }
    fn write_u32(&mut self, x: u32) {
        self.write_u64(x as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Task;
    use std::sync::Arc;

    fn unit() -> Task {
        Task::once(|_| Ok(Arc::new(())))
    }

    struct Unit;
    impl crate::Codec for Unit {
        fn type_name(&self) -> &'static str {
            "()"
        }
        fn encode(&self, _: &crate::Value, _: &mut Vec<u8>) -> Result<(), crate::BoxError> {
            Ok(())
        }
        fn decode(&self, _: &[u8]) -> Result<crate::Value, crate::BoxError> {
            Ok(crate::Value::new(()))
        }
    }

    /// Every node encodable, as a collection's graph is.
    fn wired(mut g: TaskGraph) -> TaskGraph {
        for i in 0..g.len() {
            g.set_wire(NodeId(i as u32), &Unit);
        }
        g
    }

    #[test]
    fn chunks_of_a_layer_go_to_contiguous_ranks() {
        let mut g = TaskGraph::new();
        // added in reverse index order: placement sorts by index, not by graph order
        let parts: Vec<NodeId> = (0..10u64)
            .rev()
            .map(|i| g.add(Key::index("part", &[i]), &[], unit()).unwrap())
            .collect();
        let total = g.add(Key::token("total", 1), &parts, unit()).unwrap();
        let p = place(&wired(g), &[total], 3);
        let owners: Vec<u32> = (0..10).rev().map(|k| p.owner[k]).collect();
        assert_eq!(owners, vec![0, 0, 0, 0, 1, 1, 1, 2, 2, 2]);
        // 4 inputs on rank 0, 3 on each of the others: the total goes to rank 0
        assert_eq!(p.owner[total.index()], 0);
    }

    #[test]
    fn spread_nodes_go_where_their_index_says() {
        let mut g = TaskGraph::new();
        let parts: Vec<NodeId> = (0..4u64)
            .map(|i| g.add(Key::index("part", &[i]), &[], unit()).unwrap())
            .collect();
        // four groups, each combining every part: by their inputs all would go to rank 0
        let groups: Vec<NodeId> = (0..4u64)
            .map(|j| g.add(Key::index("group", &[j]), &parts, unit()).unwrap())
            .collect();
        let mut g = wired(g);
        let p = place(&g, &groups, 2);
        assert!(groups.iter().all(|j| p.owner[j.index()] == 0));
        let before = fingerprint(&g, &groups, &p.needed);
        groups.iter().for_each(|&j| g.set_spread(j));
        let p = place(&g, &groups, 2);
        let owners: Vec<u32> = groups.iter().map(|j| p.owner[j.index()]).collect();
        assert_eq!(owners, vec![0, 0, 1, 1]);
        assert_ne!(fingerprint(&g, &groups, &p.needed), before);
    }

    #[test]
    fn ties_go_to_the_consumer() {
        let mut g = TaskGraph::new();
        let parts: Vec<NodeId> = (0..4u64)
            .map(|i| g.add(Key::index("part", &[i]), &[], unit()).unwrap())
            .collect();
        // pair j combines the parts of ranks 2 and 3 (a tie) for root j, spread on rank j
        let mut pairs = Vec::new();
        let mut roots = Vec::new();
        for j in 0..4u64 {
            let pair = g.add(Key::token("pair", j), &parts[2..], unit()).unwrap();
            pairs.push(pair);
            let deps = [pair, parts[0], parts[1]];
            roots.push(g.add(Key::index("root", &[j]), &deps, unit()).unwrap());
        }
        let mut g = wired(g);
        roots.iter().for_each(|&r| g.set_spread(r));
        let p = place(&g, &roots, 4);
        let owners = |ids: &[NodeId]| ids.iter().map(|i| p.owner[i.index()]).collect::<Vec<_>>();
        assert_eq!(owners(&roots), vec![0, 1, 2, 3]);
        // towards the root when it is one of the tied ranks, else the earliest input's
        assert_eq!(owners(&pairs), vec![2, 2, 2, 3]);
    }

    #[test]
    fn values_are_everywhere_and_chains_follow_their_input() {
        let mut g = TaskGraph::new();
        let v = g
            .add(Key::token("value", 9), &[], Task::value(Arc::new(1)))
            .unwrap();
        let a = g.add(Key::token("a", 1), &[v], unit()).unwrap();
        let b = g.add(Key::token("b", 2), &[v], unit()).unwrap();
        let a2 = g.add(Key::token("a2", 3), &[a], unit()).unwrap();
        let b2 = g.add(Key::token("b2", 4), &[b, v], unit()).unwrap();
        let p = place(&wired(g), &[a2, b2], 2);
        assert_eq!(p.owner[v.index()], EVERYWHERE);
        assert_eq!((p.owner[a.index()], p.owner[b.index()]), (0, 1));
        assert_eq!((p.owner[a2.index()], p.owner[b2.index()]), (0, 1));
    }

    #[test]
    fn unencodable_values_move_to_their_consumer() {
        let mut g = TaskGraph::new();
        let a = g.add(Key::token("a", 1), &[], unit()).unwrap();
        let b = g.add(Key::token("b", 2), &[], unit()).unwrap();
        let c = g.add(Key::token("c", 3), &[b], unit()).unwrap();
        let d = g.add(Key::token("d", 4), &[a, c], unit()).unwrap();
        let mut g = wired(g);
        g.set_wire(c, crate::Opaque::<()>::WIRE);
        let p = place(&g, &[d], 2);
        // a on 0, b on 1; c (unencodable) joins d on rank 0, and b stays
        assert_eq!(p.owner[d.index()], 0);
        assert_eq!(p.owner[c.index()], 0);
        assert_eq!(p.owner[b.index()], 1);
    }

    #[test]
    fn tokens_are_left_out_of_names() {
        let parts = |s| without_token(s).collect::<Vec<_>>().join("-");
        assert_eq!(parts("sum-part-1f3a9c2e"), "sum-part");
        assert_eq!(parts("mean-00000000deadbeef"), "mean");
        assert_eq!(parts("map-00000000deadbeef-compute"), "map-compute");
        assert_eq!(parts("read-text"), "read-text");
        assert_eq!(parts("x-abc"), "x-abc");
    }

    #[test]
    fn the_fingerprint_ignores_tokens_but_not_shape() {
        let build = |token: u64, extra: bool| {
            let mut g = TaskGraph::new();
            let a = g.add(Key::token("a", token), &[], unit()).unwrap();
            let mut deps = vec![a];
            if extra {
                deps.push(g.add(Key::token("x", 0), &[], unit()).unwrap());
            }
            let b = g.add(Key::index("b", &[0]), &deps, unit()).unwrap();
            let p = place(&g, &[b], 2);
            fingerprint(&g, &[b], &p.needed)
        };
        assert_eq!(build(1, false), build(2, false));
        assert_ne!(build(1, false), build(1, true));
    }
}
