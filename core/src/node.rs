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
use std::sync::Arc;

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

/// The dependencies of a node, stored inline when there are at most two (most calls), so
/// building a node costs one allocation.
#[derive(Default)]
pub(crate) enum Deps {
    #[default]
    Zero,
    One([NodeRef; 1]),
    Two([NodeRef; 2]),
    Many(Vec<NodeRef>),
}

impl Deps {
    pub(crate) fn as_slice(&self) -> &[NodeRef] {
        match self {
            Deps::Zero => &[],
            Deps::One(a) => a,
            Deps::Two(a) => a,
            Deps::Many(v) => v,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub(crate) fn push(&mut self, n: NodeRef) {
        *self = match std::mem::take(self) {
            Deps::Zero => Deps::One([n]),
            Deps::One([a]) => Deps::Two([a, n]),
            Deps::Two([a, b]) => Deps::Many(vec![a, b, n]),
            Deps::Many(mut v) => {
                v.push(n);
                Deps::Many(v)
            }
        }
    }

    pub(crate) fn extend(&mut self, it: impl ExactSizeIterator<Item = NodeRef>) {
        if self.len() + it.len() > 2 {
            let mut v = match std::mem::take(self) {
                Deps::Many(v) => v,
                other => other.into_vec(),
            };
            v.extend(it);
            *self = Deps::Many(v);
        } else {
            it.for_each(|n| self.push(n));
        }
    }

    fn into_vec(self) -> Vec<NodeRef> {
        match self {
            Deps::Zero => Vec::new(),
            Deps::One([a]) => vec![a],
            Deps::Two([a, b]) => vec![a, b],
            Deps::Many(v) => v,
        }
    }
}

impl From<Vec<NodeRef>> for Deps {
    fn from(v: Vec<NodeRef>) -> Self {
        let mut d = Deps::Zero;
        d.extend(v.into_iter());
        d
    }
}

pub(crate) trait NodeDyn: Body {
    fn key(&self) -> &Key;
    fn deps(&self) -> &[NodeRef];
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

/// A node: 72 bytes and its body (a call of one small argument: 88), since a graph of a
/// million tasks holds a million of them.
pub(crate) struct Node<F> {
    pub(crate) key: Key,
    pub(crate) deps: Deps,
    /// The codec, through its `'static` home (one pointer instead of two).
    pub(crate) wire: Option<&'static Wire>,
    /// What few nodes have, out of line so that the others do not carry it: `None` for a
    /// plain call (not pure, placed with its inputs, fusing nothing).
    pub(crate) rare: Option<Box<Rare>>,
    pub(crate) body: F,
}

/// The fields of a node that most nodes leave at their defaults.
pub(crate) struct Rare {
    kind: NodeKind,
    pure: bool,
    spread: bool,
    /// The rank it is pinned to ([`NO_PIN`]: none).
    pin: u32,
    fused: Option<Arc<dyn Fused>>,
}

impl<F> Body for Node<F>
where
    F: Fn(&mut Inputs<'_>) -> TaskResult + Send + Sync + 'static,
{
    #[inline]
    fn call(&self, inputs: &mut Inputs<'_>) -> TaskResult {
        (self.body)(inputs)
    }
}

impl<F> NodeDyn for Node<F>
where
    F: Fn(&mut Inputs<'_>) -> TaskResult + Send + Sync + 'static,
{
    fn key(&self) -> &Key {
        &self.key
    }
    fn deps(&self) -> &[NodeRef] {
        self.deps.as_slice()
    }
    fn kind(&self) -> NodeKind {
        self.rare.as_ref().map_or(NodeKind::Call, |r| r.kind)
    }
    fn is_pure(&self) -> bool {
        self.rare.as_ref().is_some_and(|r| r.pure)
    }
    fn take_deps(&mut self) -> Deps {
        std::mem::take(&mut self.deps)
    }
    fn wire(&self) -> Option<Wire> {
        self.wire.copied()
    }
    fn is_spread(&self) -> bool {
        self.rare.as_ref().is_some_and(|r| r.spread)
    }
    fn pinned(&self) -> Option<usize> {
        let pin = self.rare.as_ref().map_or(NO_PIN, |r| r.pin);
        (pin != NO_PIN).then_some(pin as usize)
    }
    fn fused(&self) -> Option<&dyn Fused> {
        self.rare.as_ref().and_then(|r| r.fused.as_deref())
    }
}

impl<F> Drop for Node<F> {
    fn drop(&mut self) {
        // Unlink uniquely owned descendants onto a heap stack instead of recursing; the
        // stack only allocates when there is such a descendant with dependencies.
        let mut stack: Vec<NodeRef> = Vec::new();
        let unlink = |mut dep: NodeRef, stack: &mut Vec<NodeRef>| {
            if let Some(inner) = Arc::get_mut(&mut dep) {
                match inner.take_deps() {
                    Deps::Zero => {}
                    Deps::One([a]) => stack.push(a),
                    Deps::Two([a, b]) => stack.extend([a, b]),
                    Deps::Many(v) => stack.extend(v),
                }
            }
        };
        match std::mem::take(&mut self.deps) {
            Deps::Zero => {}
            Deps::One([a]) => unlink(a, &mut stack),
            Deps::Two([a, b]) => {
                unlink(a, &mut stack);
                unlink(b, &mut stack);
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
    build(key, deps, (kind, pure), wire, (false, NO_PIN), None, body)
}

/// A node of every field: `(kind, pure)`, `(spread, pin)` for where a distributed run
/// places it, and the named blocks it makes inside itself (`fused`).
fn build<F>(
    key: Key,
    deps: Deps,
    (kind, pure): (NodeKind, bool),
    wire: Option<Wire>,
    (spread, pin): (bool, u32),
    fused: Option<Arc<dyn Fused>>,
    body: F,
) -> NodeRef
where
    F: Fn(&mut Inputs<'_>) -> TaskResult + Send + Sync + 'static,
{
    let plain = kind == NodeKind::Call && !pure && !spread && pin == NO_PIN && fused.is_none();
    let rare = (!plain).then(|| {
        Box::new(Rare {
            kind,
            pure,
            spread,
            pin,
            fused,
        })
    });
    Arc::new(Node {
        key,
        deps,
        wire: wire.map(crate::wire::homed),
        rare,
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
    build(
        key,
        deps,
        (NodeKind::Call, true),
        wire,
        (false, NO_PIN),
        fused,
        body,
    )
}

/// `pin` of a node pinned to no rank.
const NO_PIN: u32 = u32::MAX;

/// A call node without inputs' say over where a distributed run places it: spread by its
/// chunk index, or pinned to a rank.
fn placed_node<F>(
    key: Key,
    deps: Deps,
    wire: Option<Wire>,
    spread: bool,
    pin: u32,
    body: F,
) -> NodeRef
where
    F: Fn(&mut Inputs<'_>) -> TaskResult + Send + Sync + 'static,
{
    build(
        key,
        deps,
        (NodeKind::Call, false),
        wire,
        (spread, pin),
        None,
        body,
    )
}

/// [`new_wired_node`] for a node a distributed run places by its chunk index, as it places
/// sources, instead of with most of its inputs (the roots of reductions that should end
/// on different processes).
pub(crate) fn new_spread_node<F>(key: Key, deps: Deps, wire: Option<Wire>, body: F) -> NodeRef
where
    F: Fn(&mut Inputs<'_>) -> TaskResult + Send + Sync + 'static,
{
    placed_node(key, deps, wire, true, NO_PIN, body)
}

/// A node holding a value only process `rank` of a distributed run has: a distributed run
/// runs it there (`body` errs elsewhere).
pub(crate) fn new_pinned_node<F>(key: Key, rank: usize, wire: Option<Wire>, body: F) -> NodeRef
where
    F: Fn(&mut Inputs<'_>) -> TaskResult + Send + Sync + 'static,
{
    placed_node(
        key,
        Deps::Zero,
        wire,
        false,
        rank.min(NO_PIN as usize - 1) as u32,
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::ArgSlot;

    #[test]
    fn nodes_of_small_calls_stay_small() {
        let x: ArgSlot<i64> = ArgSlot::Dep(0);
        let (a, b): (ArgSlot<i64>, ArgSlot<i64>) = (ArgSlot::Dep(0), ArgSlot::Const(1));
        let one = move |inp: &mut Inputs<'_>| -> TaskResult { Ok(Arc::new(x.get(inp)?)) };
        let two =
            move |inp: &mut Inputs<'_>| -> TaskResult { Ok(Arc::new(a.get(inp)? + b.get(inp)?)) };
        assert_eq!(std::mem::size_of::<ArgSlot<i64>>(), 16);
        assert!(
            std::mem::size_of_val(&Node {
                key: Key::token("x", 1),
                deps: Deps::Zero,
                wire: None,
                rare: None,
                body: one
            }) <= 88
        );
        assert!(
            std::mem::size_of_val(&Node {
                key: Key::token("x", 1),
                deps: Deps::Zero,
                wire: None,
                rare: None,
                body: two
            }) <= 104
        );
    }

    #[test]
    fn kinds_and_purity_survive_out_of_line() {
        let f = |_: &mut Inputs<'_>| -> TaskResult { Ok(Arc::new(0_i64)) };
        let plain = new_node(Key::token("p", 1), Deps::Zero, NodeKind::Call, false, f);
        let pure = new_node(Key::token("q", 1), Deps::Zero, NodeKind::Call, true, f);
        let data = new_node(Key::token("d", 1), Deps::Zero, NodeKind::Data, false, f);
        assert_eq!((plain.kind(), plain.is_pure()), (NodeKind::Call, false));
        assert_eq!((pure.kind(), pure.is_pure()), (NodeKind::Call, true));
        assert_eq!((data.kind(), data.is_pure()), (NodeKind::Data, false));
        assert!(plain.pinned().is_none() && !plain.is_spread() && plain.fused().is_none());
    }
}
