//! The nodes of the lazy DAG that `Delayed` handles point into.
//!
//! Invariants:
//! 1. A node is immutable once built and only refers to nodes built before it, so the DAG
//!    can have no cycle.
//! 2. A node and its body live in one allocation ([`Node<F>`] behind `Arc<dyn NodeDyn>`);
//!    building a graph of n nodes costs O(n) allocations and time.
//! 3. Dropping a long chain never recurses: [`Node`]'s `Drop` unlinks dependencies
//!    iteratively.

use crate::share::Fused;
use dagr_runtime::{Body, Inputs, Key, TaskResult, Wire};
use std::cell::Cell;
use std::sync::{Arc, Mutex};

/// A shared reference to a node of the lazy DAG.
pub(crate) type NodeRef = Arc<dyn NodeDyn>;

/// What a node does, for pictures and optimisations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// Holds a value given by the user (`dagr::value`, a constant).
    Data,
    /// Calls a function over its inputs.
    Call,
}

/// The dependencies of a node, in argument order: one or two inline (most calls), so
/// building a node costs one allocation, in 32 bytes.
pub(crate) enum Deps {
    /// One dependency, or two.
    Inline(NodeRef, Option<NodeRef>),
    /// None, or more than two.
    Many(Vec<NodeRef>),
}

impl Default for Deps {
    fn default() -> Self {
        Deps::Many(Vec::new())
    }
}

impl Deps {
    /// No dependency.
    pub(crate) fn none() -> Deps {
        Deps::default()
    }

    pub(crate) fn one(a: NodeRef) -> Deps {
        Deps::Inline(a, None)
    }

    pub(crate) fn two(a: NodeRef, b: NodeRef) -> Deps {
        Deps::Inline(a, Some(b))
    }

    /// The dependencies as two slices, one after the other.
    #[inline]
    fn parts(&self) -> (&[NodeRef], &[NodeRef]) {
        match self {
            Deps::Inline(a, b) => (std::slice::from_ref(a), b.as_slice()),
            Deps::Many(v) => (v, &[]),
        }
    }

    pub(crate) fn iter(
        &self,
    ) -> std::iter::Chain<std::slice::Iter<'_, NodeRef>, std::slice::Iter<'_, NodeRef>> {
        let (a, b) = self.parts();
        a.iter().chain(b)
    }

    pub(crate) fn len(&self) -> usize {
        let (a, b) = self.parts();
        a.len() + b.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn get(&self, i: usize) -> Option<&NodeRef> {
        let (a, b) = self.parts();
        a.get(i).or_else(|| b.get(i - a.len()))
    }

    pub(crate) fn push(&mut self, n: NodeRef) {
        *self = match std::mem::take(self) {
            Deps::Inline(a, None) => Deps::two(a, n),
            Deps::Inline(a, Some(b)) => Deps::Many(vec![a, b, n]),
            Deps::Many(v) if v.is_empty() => Deps::one(n),
            Deps::Many(mut v) => {
                v.push(n);
                Deps::Many(v)
            }
        }
    }

    pub(crate) fn extend(&mut self, it: impl ExactSizeIterator<Item = NodeRef>) {
        if self.len() + it.len() > 2 {
            let mut v = std::mem::take(self).into_vec();
            v.extend(it);
            *self = Deps::Many(v);
        } else {
            it.for_each(|n| self.push(n));
        }
    }

    fn into_vec(self) -> Vec<NodeRef> {
        match self {
            Deps::Inline(a, None) => vec![a],
            Deps::Inline(a, Some(b)) => vec![a, b],
            Deps::Many(v) => v,
        }
    }
}

impl std::ops::Index<usize> for Deps {
    type Output = NodeRef;
    fn index(&self, i: usize) -> &NodeRef {
        match self.get(i) {
            Some(n) => n,
            None => panic!("dependency {i} of {}", self.len()),
        }
    }
}

impl<'a> IntoIterator for &'a Deps {
    type Item = &'a NodeRef;
    type IntoIter = std::iter::Chain<std::slice::Iter<'a, NodeRef>, std::slice::Iter<'a, NodeRef>>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl From<Vec<NodeRef>> for Deps {
    fn from(v: Vec<NodeRef>) -> Self {
        if v.len() <= 2 {
            let mut d = Deps::none();
            d.extend(v.into_iter());
            d
        } else {
            Deps::Many(v)
        }
    }
}

pub(crate) trait NodeDyn: Body {
    fn key(&self) -> &Key;
    fn deps(&self) -> &Deps;
    fn kind(&self) -> NodeKind;
    /// Whether equal keys mean equal results (merged before running).
    fn is_pure(&self) -> bool;
    fn take_deps(&mut self) -> Deps;
    /// How the node's value crosses between processes, if the code that built it knew.
    fn wire(&self) -> Option<Wire>;
    /// Whether a distributed run places it by its chunk index, as sources are (see
    /// `TaskGraph::set_spread`).
    fn is_spread(&self) -> bool;
    /// The rank a distributed run must run it on (a value only that rank holds).
    fn pinned(&self) -> Option<usize>;
    /// The named blocks its task makes inside itself, if it fuses any (see [`crate::share`]).
    fn fused(&self) -> Option<&dyn Fused>;
}

/// A node: 24 bytes, its inputs and its body (a call of one dependency: 64 bytes; of
/// constants only, without inputs: 24 and the constants), since a graph of a million tasks
/// holds a million of them. `X` holds its inputs and what few nodes have: [`Leaf`] (no
/// inputs, no size), [`Plain`] (inputs) or [`Placed`].
pub(crate) struct Node<F, X: Extra = Plain> {
    pub(crate) key: Key,
    /// Its kind, purity, placement and codec, shared with every node alike.
    meta: &'static Meta,
    extra: X,
    pub(crate) body: F,
}

/// What a node is, apart from its key, inputs and body: few distinct values in a process,
/// each kept once ([`Meta::homed`]) for every node alike to point to.
#[derive(Clone, Copy)]
struct Meta {
    kind: NodeKind,
    pure: bool,
    /// Placed by its chunk index in a distributed run (see [`NodeDyn::is_spread`]).
    spread: bool,
    wire: Option<Wire>,
}

impl Meta {
    fn same(&self, other: &Meta) -> bool {
        // (`ptr::eq` compares both halves of a codec: codecs are zero-sized, so their data
        // pointers may all be equal and only the vtable tells them apart)
        let wire = match (self.wire, other.wire) {
            (Some(a), Some(b)) => std::ptr::eq(a, b),
            (a, b) => a.is_none() && b.is_none(),
        };
        wire && (self.kind, self.pure, self.spread) == (other.kind, other.pure, other.spread)
    }

    /// The `'static` copy of this meta that every node alike points to. There are few
    /// (node kinds times codecs; the compiler makes one vtable per type and codegen unit),
    /// so each is made once and kept.
    fn homed(self) -> &'static Meta {
        thread_local! {
            /// This thread's recently used metas, the newest first.
            static RECENT: [Cell<Option<&'static Meta>>; 4] =
                const { [const { Cell::new(None) }; 4] };
        }
        RECENT.with(|recent| {
            if let Some(hit) = recent
                .iter()
                .find_map(|c| c.get().filter(|m| m.same(&self)))
            {
                return hit;
            }
            let hit = self.homed_slow();
            for i in (1..recent.len()).rev() {
                recent[i].set(recent[i - 1].get());
            }
            recent[0].set(Some(hit));
            hit
        })
    }

    #[cold]
    fn homed_slow(self) -> &'static Meta {
        static HOMES: Mutex<Vec<&'static Meta>> = Mutex::new(Vec::new());
        let mut homes = HOMES.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(&hit) = homes.iter().find(|m| m.same(&self)) {
            return hit;
        }
        let hit: &'static Meta = Box::leak(Box::new(self));
        homes.push(hit);
        hit
    }
}

/// What a node may hold beyond the fields every node has.
pub(crate) trait Extra: Send + Sync + 'static {
    /// Its inputs.
    fn deps(&self) -> &Deps;
    /// Its inputs, taken out (the node keeps none).
    fn take_deps(&mut self) -> Deps;
    /// The rank a distributed run must run it on.
    fn pinned(&self) -> Option<usize> {
        None
    }
    /// The named blocks its task makes inside itself.
    fn fused(&self) -> Option<&dyn Fused> {
        None
    }
}

/// The inputs of a node without any.
static NO_DEPS: Deps = Deps::Many(Vec::new());

/// Nothing: a node without inputs (a value, or a call of constants only).
pub(crate) struct Leaf;

impl Extra for Leaf {
    fn deps(&self) -> &Deps {
        &NO_DEPS
    }
    fn take_deps(&mut self) -> Deps {
        Deps::none()
    }
}

/// Its inputs only: most nodes.
pub(crate) struct Plain(Deps);

impl Extra for Plain {
    fn deps(&self) -> &Deps {
        &self.0
    }
    fn take_deps(&mut self) -> Deps {
        std::mem::take(&mut self.0)
    }
}

/// A node pinned to a rank, or making named blocks inside itself.
pub(crate) struct Placed {
    deps: Deps,
    /// [`NO_PIN`]: none.
    pin: u32,
    fused: Option<Arc<dyn Fused>>,
}

impl Extra for Placed {
    fn deps(&self) -> &Deps {
        &self.deps
    }
    fn take_deps(&mut self) -> Deps {
        std::mem::take(&mut self.deps)
    }
    fn pinned(&self) -> Option<usize> {
        (self.pin != NO_PIN).then_some(self.pin as usize)
    }
    fn fused(&self) -> Option<&dyn Fused> {
        self.fused.as_deref()
    }
}

impl<F, X: Extra> Body for Node<F, X>
where
    F: Fn(&mut Inputs<'_>) -> TaskResult + Send + Sync + 'static,
{
    #[inline]
    fn call(&self, inputs: &mut Inputs<'_>) -> TaskResult {
        (self.body)(inputs)
    }
}

impl<F, X: Extra> NodeDyn for Node<F, X>
where
    F: Fn(&mut Inputs<'_>) -> TaskResult + Send + Sync + 'static,
{
    fn key(&self) -> &Key {
        &self.key
    }
    fn deps(&self) -> &Deps {
        self.extra.deps()
    }
    fn kind(&self) -> NodeKind {
        self.meta.kind
    }
    fn is_pure(&self) -> bool {
        self.meta.pure
    }
    fn take_deps(&mut self) -> Deps {
        self.extra.take_deps()
    }
    fn wire(&self) -> Option<Wire> {
        self.meta.wire
    }
    fn is_spread(&self) -> bool {
        self.meta.spread
    }
    fn pinned(&self) -> Option<usize> {
        self.extra.pinned()
    }
    fn fused(&self) -> Option<&dyn Fused> {
        self.extra.fused()
    }
}

impl<F, X: Extra> Drop for Node<F, X> {
    fn drop(&mut self) {
        // Unlink uniquely owned descendants onto a heap stack instead of recursing; the
        // stack only allocates when there is such a descendant with dependencies.
        let mut stack: Vec<NodeRef> = Vec::new();
        let unlink = |mut dep: NodeRef, stack: &mut Vec<NodeRef>| {
            if let Some(inner) = Arc::get_mut(&mut dep) {
                match inner.take_deps() {
                    Deps::Inline(a, b) => stack.extend(std::iter::once(a).chain(b)),
                    Deps::Many(v) => stack.extend(v),
                }
            }
        };
        match self.extra.take_deps() {
            Deps::Inline(a, b) => {
                unlink(a, &mut stack);
                if let Some(b) = b {
                    unlink(b, &mut stack);
                }
            }
            Deps::Many(v) => v.into_iter().for_each(|d| unlink(d, &mut stack)),
        }
        while let Some(dep) = stack.pop() {
            unlink(dep, &mut stack);
        }
    }
}

pub(crate) fn new_node<F>(key: Key, deps: Deps, kind: NodeKind, pure: bool, body: F) -> NodeRef
where
    F: Fn(&mut Inputs<'_>) -> TaskResult + Send + Sync + 'static,
{
    new_wired_node(key, deps, kind, pure, None, body)
}

/// [`new_node`] for a value that crosses between processes through `wire`.
pub(crate) fn new_wired_node<F>(
    key: Key,
    deps: Deps,
    kind: NodeKind,
    pure: bool,
    wire: Option<Wire>,
    body: F,
) -> NodeRef
where
    F: Fn(&mut Inputs<'_>) -> TaskResult + Send + Sync + 'static,
{
    build(key, deps, (kind, pure), wire, false, body)
}

/// A node of `(kind, pure)`, placed by its chunk index in a distributed run if `spread`;
/// one without inputs holds no dependency list ([`Leaf`]).
fn build<F>(
    key: Key,
    deps: Deps,
    (kind, pure): (NodeKind, bool),
    wire: Option<Wire>,
    spread: bool,
    body: F,
) -> NodeRef
where
    F: Fn(&mut Inputs<'_>) -> TaskResult + Send + Sync + 'static,
{
    let meta = Meta {
        kind,
        pure,
        spread,
        wire,
    }
    .homed();
    if deps.is_empty() {
        Arc::new(Node {
            key,
            meta,
            extra: Leaf,
            body,
        })
    } else {
        Arc::new(Node {
            key,
            meta,
            extra: Plain(deps),
            body,
        })
    }
}

/// [`build`] for a node pinned to a rank or making named blocks inside itself.
fn build_placed<F>(key: Key, pure: bool, wire: Option<Wire>, extra: Placed, body: F) -> NodeRef
where
    F: Fn(&mut Inputs<'_>) -> TaskResult + Send + Sync + 'static,
{
    let meta = Meta {
        kind: NodeKind::Call,
        pure,
        spread: false,
        wire,
    }
    .homed();
    Arc::new(Node {
        key,
        meta,
        extra,
        body,
    })
}

/// A pure call node whose task may make named blocks inside itself, as `fused` describes
/// (see [`crate::share`]).
pub(crate) fn new_fused_node<F>(
    key: Key,
    deps: Deps,
    wire: Option<Wire>,
    fused: Option<Arc<dyn Fused>>,
    body: F,
) -> NodeRef
where
    F: Fn(&mut Inputs<'_>) -> TaskResult + Send + Sync + 'static,
{
    match fused {
        None => build(key, deps, (NodeKind::Call, true), wire, false, body),
        fused => {
            let extra = Placed {
                deps,
                pin: NO_PIN,
                fused,
            };
            build_placed(key, true, wire, extra, body)
        }
    }
}

/// `pin` of a node pinned to no rank.
const NO_PIN: u32 = u32::MAX;

/// [`new_wired_node`] for a node a distributed run places by its chunk index, as it places
/// sources, instead of with most of its inputs (the roots of reductions that should end
/// on different processes).
pub(crate) fn new_spread_node<F>(key: Key, deps: Deps, wire: Option<Wire>, body: F) -> NodeRef
where
    F: Fn(&mut Inputs<'_>) -> TaskResult + Send + Sync + 'static,
{
    build(key, deps, (NodeKind::Call, false), wire, true, body)
}

/// A node holding a value only process `rank` of a distributed run has: a distributed run
/// runs it there (`body` errs elsewhere).
pub(crate) fn new_pinned_node<F>(key: Key, rank: usize, wire: Option<Wire>, body: F) -> NodeRef
where
    F: Fn(&mut Inputs<'_>) -> TaskResult + Send + Sync + 'static,
{
    let pin = rank.min(NO_PIN as usize - 1) as u32;
    let extra = Placed {
        deps: Deps::none(),
        pin,
        fused: None,
    };
    build_placed(key, false, wire, extra, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::{ConstSlot, DepSlot, Slot};
    use dagr_runtime::Value;

    #[test]
    fn nodes_of_small_calls_stay_small() {
        let x = DepSlot(0);
        let (a, b) = (DepSlot(0), ConstSlot(1_i64));
        let one = move |inp: &mut Inputs<'_>| -> TaskResult {
            Ok(Value::new(Slot::<i64>::get(&x, inp)?))
        };
        let two = move |inp: &mut Inputs<'_>| -> TaskResult {
            Ok(Value::new(Slot::<i64>::get(&a, inp)? + b.get(inp)?))
        };
        assert_eq!(std::mem::size_of::<DepSlot>(), 4);
        let plain = Meta {
            kind: NodeKind::Call,
            pure: false,
            spread: false,
            wire: None,
        }
        .homed();
        assert!(
            std::mem::size_of_val(&Node {
                key: Key::token("x", 1),
                meta: plain,
                extra: Plain(Deps::none()),
                body: one
            }) <= 64
        );
        assert!(
            std::mem::size_of_val(&Node {
                key: Key::token("x", 1),
                meta: plain,
                extra: Plain(Deps::none()),
                body: two
            }) <= 72
        );
        let constant = ConstSlot(1_i64);
        let leaf = move |inp: &mut Inputs<'_>| -> TaskResult { Ok(Value::new(constant.get(inp)?)) };
        assert!(
            std::mem::size_of_val(&Node {
                key: Key::token("x", 1),
                meta: plain,
                extra: Leaf,
                body: leaf
            }) <= 32
        );
    }

    #[test]
    fn kinds_and_purity_survive_out_of_line() {
        let f = |_: &mut Inputs<'_>| -> TaskResult { Ok(Value::new(0_i64)) };
        let plain = new_node(Key::token("p", 1), Deps::none(), NodeKind::Call, false, f);
        let pure = new_node(Key::token("q", 1), Deps::none(), NodeKind::Call, true, f);
        let data = new_node(Key::token("d", 1), Deps::none(), NodeKind::Data, false, f);
        assert_eq!((plain.kind(), plain.is_pure()), (NodeKind::Call, false));
        assert_eq!((pure.kind(), pure.is_pure()), (NodeKind::Call, true));
        assert_eq!((data.kind(), data.is_pure()), (NodeKind::Data, false));
        assert!(plain.pinned().is_none() && !plain.is_spread() && plain.fused().is_none());
        let pinned = new_pinned_node(Key::token("r", 1), 3, None, f);
        assert_eq!((pinned.pinned(), pinned.is_spread()), (Some(3), false));
        let spread = new_spread_node(Key::token("s", 1), Deps::none(), None, f);
        assert!(spread.is_spread() && spread.pinned().is_none() && !spread.is_pure());
    }

    #[test]
    fn metas_alike_share_one_home() {
        let meta = |kind, pure, spread, wire| Meta {
            kind,
            pure,
            spread,
            wire,
        };
        let (a, b) = (
            crate::wire::wire_of::<Vec<i64>>(),
            crate::wire::wire_of::<String>(),
        );
        let homes = [
            meta(NodeKind::Call, false, false, None),
            meta(NodeKind::Call, false, false, Some(a)),
            meta(NodeKind::Call, false, false, Some(b)),
            meta(NodeKind::Call, true, false, Some(a)),
            meta(NodeKind::Call, false, true, Some(a)),
            meta(NodeKind::Data, false, false, Some(a)),
        ]
        .map(|m| m.homed() as *const Meta as usize);
        for (i, &h) in homes.iter().enumerate() {
            assert!(!homes[..i].contains(&h), "{i}");
        }
        // the same home again, past this thread's recent ones and from another thread
        let again = std::thread::spawn(move || {
            meta(NodeKind::Call, false, false, Some(a)).homed() as *const Meta as usize
        });
        assert_eq!(again.join().unwrap(), homes[1]);
        let m = meta(NodeKind::Data, false, false, Some(a)).homed();
        assert_eq!(m as *const Meta as usize, homes[5]);
        assert_eq!(m.wire.map(|w| w.type_name()), Some(a.type_name()));
    }

    #[test]
    fn deps_keep_their_order_however_they_grow() {
        let f = |_: &mut Inputs<'_>| -> TaskResult { Ok(Value::new(0_i64)) };
        let nodes: Vec<NodeRef> = (0..5)
            .map(|i| new_node(Key::token("n", i), Deps::none(), NodeKind::Call, false, f))
            .collect();
        let keys = |d: &Deps| d.iter().map(|n| n.key().clone()).collect::<Vec<_>>();
        for n in 0..=nodes.len() {
            let want: Vec<Key> = nodes[..n].iter().map(|n| n.key().clone()).collect();
            let mut pushed = Deps::none();
            nodes[..n].iter().for_each(|x| pushed.push(x.clone()));
            let mut extended = Deps::none();
            extended.extend(nodes[..n].iter().cloned());
            let from = Deps::from(nodes[..n].to_vec());
            for d in [&pushed, &extended, &from] {
                assert_eq!(d.len(), n);
                assert_eq!(keys(d), want);
                assert!(d.get(n).is_none());
                for (i, k) in want.iter().enumerate() {
                    assert_eq!(d[i].key(), k);
                }
            }
        }
        assert_eq!(std::mem::size_of::<Deps>(), 32);
    }
}
