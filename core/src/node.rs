//! The nodes of the lazy DAG that `Delayed` handles point into.
//!
//! Invariants:
//! 1. A node is immutable once built and only refers to nodes built before it, so the DAG
//!    can have no cycle.
//! 2. A node and its body live in one allocation ([`Node<F>`] behind `Arc<dyn NodeDyn>`);
//!    building a graph of n nodes costs O(n) allocations and time.
//! 3. Dropping a long chain never recurses: [`Node`]'s `Drop` unlinks dependencies
//!    iteratively.

use dagr_runtime::{Body, Inputs, Key, TaskResult};
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

pub(crate) trait NodeDyn: Body {
    fn key(&self) -> &Key;
    fn deps(&self) -> &[NodeRef];
    fn kind(&self) -> NodeKind;
    /// Whether equal keys mean equal results (merged before running).
    fn is_pure(&self) -> bool;
    fn take_deps(&mut self) -> Vec<NodeRef>;
}

pub(crate) struct Node<F> {
    pub(crate) key: Key,
    pub(crate) deps: Vec<NodeRef>,
    pub(crate) kind: NodeKind,
    pub(crate) pure: bool,
    pub(crate) body: F,
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
        &self.deps
    }
    fn kind(&self) -> NodeKind {
        self.kind
    }
    fn is_pure(&self) -> bool {
        self.pure
    }
    fn take_deps(&mut self) -> Vec<NodeRef> {
        std::mem::take(&mut self.deps)
    }
}

impl<F> Drop for Node<F> {
    fn drop(&mut self) {
        let mut stack = std::mem::take(&mut self.deps);
        while let Some(mut dep) = stack.pop() {
            if let Some(inner) = Arc::get_mut(&mut dep) {
                stack.append(&mut inner.take_deps());
            }
        }
    }
}

pub(crate) fn new_node<F>(
    key: Key,
    deps: Vec<NodeRef>,
    kind: NodeKind,
    pure: bool,
    body: F,
) -> NodeRef
where
    F: Fn(&mut Inputs<'_>) -> TaskResult + Send + Sync + 'static,
{
    Arc::new(Node {
        key,
        deps,
        kind,
        pure,
        body,
    })
}
