//! An array's own step of the block pipeline, and the tasks that run a pipeline.
//!
//! Every array wraps its source in a [`Layer`] that names its blocks `(name, i, j, …)`: a
//! compute then sees which blocks several tasks would make (see [`crate::share`]) and makes
//! those once, as tasks of their own that the other tasks read. [`FusedTask`] is the task
//! running a pipeline for one block and then a consumer (a reduction's per-block step, the
//! block itself), with what the sharing pass needs to rebuild it.

use super::blocks::{Blocks, Chunk, Cursor, Lazy, Src};
use super::element::Element;
use super::grid::Grid;
use crate::node::{new_fused_node, NodeRef};
use crate::share::{Fused, Shared, Walk};
use crate::{Error, Wired};
use dagr_runtime::{Inputs, Key, TaskError, TaskResult, Value};
use ndarray::{ArcArray, IxDyn};
use std::sync::Arc;

/// An array's blocks, named.
pub(crate) struct Layer<T> {
    name: Arc<str>,
    grid: Arc<Grid>,
    inner: Src<T>,
    /// Whether `inner` is cheap (see [`Blocks::cheap`]): then the blocks are never shared.
    cheap: bool,
}

/// What a fused task does with its block (given with its elementwise steps unapplied).
pub(crate) type Consume<T, S> =
    dyn Fn(&[usize], Lazy<'_, T>) -> Result<S, TaskError> + Send + Sync + 'static;

impl<T: Element> Layer<T> {
    pub(crate) fn new(name: Arc<str>, grid: Arc<Grid>, inner: Src<T>) -> Layer<T> {
        let cheap = inner.cheap();
        Layer {
            name,
            grid,
            inner,
            cheap,
        }
    }

    fn key(&self, idx: &[usize]) -> Key {
        Key::index(
            self.name.clone(),
            &idx.iter().map(|&i| i as u64).collect::<Vec<_>>(),
        )
    }

    /// The consumer of a block node: checks the block's shape and keeps the block.
    fn keep(&self) -> Arc<Consume<T, ArcArray<T, IxDyn>>> {
        let grid = self.grid.clone();
        Arc::new(move |idx: &[usize], c: Lazy<'_, T>| {
            let c = c.materialize()?;
            let want = grid.block_shape(idx);
            if c.shape() != want.as_slice() {
                return Err(TaskError::new(Error::Shape {
                    what: "block",
                    message: format!("block {idx:?} has shape {:?}, expected {want:?}", c.shape()),
                }));
            }
            c.into_shared()
        })
    }

    /// The node making block `idx` (an `ArcArray<T, IxDyn>`) as a task: `this` is the layer
    /// itself, which the sharing pass counts the node as reading.
    pub(crate) fn block_node(this: &Arc<Layer<T>>, idx: Vec<usize>) -> NodeRef {
        let key = this.key(&idx);
        let task = FusedTask {
            src: this.inner.clone(),
            counted: this.clone(),
            idx,
            consume: this.keep(),
        };
        task.node(key, Walk::plain(), true).0
    }
}

impl<T: Element> Blocks<T> for Layer<T> {
    fn inputs(&self, idx: &[usize], out: &mut Walk<'_>) {
        if self.cheap {
            return self.inner.inputs(idx, out);
        }
        out.block(
            || self.key(idx),
            |w| self.inner.inputs(idx, w),
            |shared| {
                let task = FusedTask {
                    src: self.inner.clone(),
                    counted: self.inner.clone(),
                    idx: idx.to_vec(),
                    consume: self.keep(),
                };
                task.node(self.key(idx), Walk::split(shared), false).0
            },
        )
    }

    fn cheap(&self) -> bool {
        self.cheap
    }

    fn shares_rows(&self) -> bool {
        self.inner.shares_rows()
    }

    fn block<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        if !self.cheap && inp.reads_block() {
            return Ok(Chunk::Shared(inp.next::<ArcArray<T, IxDyn>>()?));
        }
        self.inner.block(idx, inp)
    }

    fn block_lazy<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Lazy<'s, T>, TaskError> {
        if !self.cheap && inp.reads_block() {
            return Ok(Lazy::new(Chunk::Shared(inp.next::<ArcArray<T, IxDyn>>()?)));
        }
        self.inner.block_lazy(idx, inp)
    }
}

/// The task making block `idx` of `src` and handing it to `consume`.
pub(crate) struct FusedTask<T, S> {
    pub(crate) src: Src<T>,
    /// What the sharing pass walks: `src`, or the layer `src` makes the blocks of when the
    /// task is that layer's block node.
    pub(crate) counted: Src<T>,
    pub(crate) idx: Vec<usize>,
    pub(crate) consume: Arc<Consume<T, S>>,
}

impl<T: Element, S: Wired> FusedTask<T, S> {
    /// The pure node keyed `key` running this task, its inputs listed by `walk`, and whether
    /// it reads any shared block. `described`: whether the sharing pass may rebuild it.
    pub(crate) fn node(self, key: Key, mut walk: Walk<'_>, described: bool) -> (NodeRef, bool) {
        self.src.inputs(&self.idx, &mut walk);
        let (deps, reads) = walk.finish();
        let reads_any = reads.contains(&true);
        let task = Arc::new(self);
        let run = task.clone();
        let body = move |inp: &mut Inputs<'_>| -> TaskResult {
            let mut cur = Cursor::new(inp, &reads);
            let chunk = run.src.block_lazy(&run.idx, &mut cur)?;
            Ok(Value::new((run.consume)(&run.idx, chunk)?))
        };
        let wire = Some(crate::wire::array_node_wire::<T, S>());
        let fused = described.then_some(task as Arc<dyn Fused>);
        (
            new_fused_node(key, deps.into(), wire, fused, body),
            reads_any,
        )
    }
}

impl<T: Element, S: Wired> Fused for FusedTask<T, S> {
    fn walk(&self, _key: &Key, walk: &mut Walk<'_>) {
        self.counted.inputs(&self.idx, walk)
    }

    fn split(&self, node: &NodeRef, shared: &Shared) -> Option<NodeRef> {
        let task = FusedTask {
            src: self.src.clone(),
            counted: self.counted.clone(),
            idx: self.idx.clone(),
            consume: self.consume.clone(),
        };
        let (rebuilt, reads_any) = task.node(node.key().clone(), Walk::split(shared), false);
        reads_any.then_some(rebuilt)
    }
}

/// A reduction's per-block step that reads the block's elements in C order, in pieces cut
/// anywhere, so that blocks can be read side by side (see [`super::blocks::side_by_side`]).
pub(crate) trait Partial<T>: Send + 'static {
    /// The block's partial result.
    type Out: Wired;
    /// A new step for one block of this shape.
    fn start(shape: &[usize]) -> Self;
    /// The block's next elements.
    fn feed(&mut self, xs: &[T]);
    /// The partial result once every element was fed.
    fn finish(self) -> Self::Out;
}

/// The task reading the blocks `idxs` of `src`, side by side along axis `axis`, and giving
/// their partials (a `Vec<A::Out>`, in the order of `idxs`).
pub(crate) struct SideBySideTask<T, A> {
    pub(crate) src: Src<T>,
    pub(crate) idxs: Vec<Vec<usize>>,
    pub(crate) axis: usize,
    pub(crate) _partial: std::marker::PhantomData<fn() -> A>,
}

impl<T: Element, A: Partial<T>> SideBySideTask<T, A> {
    /// The pure node keyed `key` running this task, its inputs listed by `walk`, and
    /// whether it reads any shared block. `described`: whether the sharing pass may
    /// rebuild it.
    pub(crate) fn node(self, key: Key, mut walk: Walk<'_>, described: bool) -> (NodeRef, bool) {
        for idx in &self.idxs {
            self.src.inputs(idx, &mut walk);
        }
        let (deps, reads) = walk.finish();
        let reads_any = reads.contains(&true);
        let task = Arc::new(self);
        let run = task.clone();
        let body = move |inp: &mut Inputs<'_>| -> TaskResult {
            let mut cur = Cursor::new(inp, &reads);
            let blocks = run
                .idxs
                .iter()
                .map(|idx| run.src.block_lazy(idx, &mut cur))
                .collect::<Result<Vec<_>, _>>()?;
            let mut parts: Vec<A> = blocks.iter().map(|b| A::start(b.shape())).collect();
            super::blocks::side_by_side(blocks, run.axis, &mut |j, xs| parts[j].feed(xs));
            Ok(Value::new(
                parts.into_iter().map(A::finish).collect::<Vec<A::Out>>(),
            ))
        };
        let wire = Some(crate::wire_of::<Vec<A::Out>>());
        let fused = described.then_some(task as Arc<dyn Fused>);
        (
            new_fused_node(key, deps.into(), wire, fused, body),
            reads_any,
        )
    }
}

impl<T: Element, A: Partial<T>> Fused for SideBySideTask<T, A> {
    fn walk(&self, _key: &Key, walk: &mut Walk<'_>) {
        for idx in &self.idxs {
            self.src.inputs(idx, walk);
        }
    }

    fn split(&self, node: &NodeRef, shared: &Shared) -> Option<NodeRef> {
        let task = SideBySideTask::<T, A> {
            src: self.src.clone(),
            idxs: self.idxs.clone(),
            axis: self.axis,
            _partial: std::marker::PhantomData,
        };
        let (rebuilt, reads_any) = task.node(node.key().clone(), Walk::split(shared), false);
        reads_any.then_some(rebuilt)
    }
}
