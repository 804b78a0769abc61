//! How a block is produced: the [`Blocks`] sources an array's operations compose.
//!
//! A source knows which graph nodes block `idx` reads ([`Blocks::inputs`]) and how to make
//! the block from their values ([`Blocks::block`]). Elementwise and pass-through structural
//! operations wrap their parent's source instead of creating tasks, so a chain of them runs
//! inside the one task that consumes the block (blockwise fusion). A block is a [`Chunk`]:
//! either a shared, reference-counted array (mutated in place when nobody else holds it) or
//! a view borrowed from the source (a memory map, an in-memory array), never copied until an
//! operation has to write.

use super::element::Element;
use crate::node::NodeRef;
use crate::share::Walk;
use crate::Error;
use dagr_runtime::{Inputs, TaskError};
use ndarray::{ArcArray, ArrayViewD, Axis, IxDyn, Slice};
use std::sync::Arc;

/// A block's values as they flow through a fused pipeline.
pub(crate) enum Chunk<'a, T> {
    /// An owned (reference-counted) array: written in place when uniquely held.
    Shared(ArcArray<T, IxDyn>),
    /// A view of data the source holds (memory map, in-memory array).
    View(ArrayViewD<'a, T>),
}

impl<'a, T: Element> Chunk<'a, T> {
    pub(crate) fn view(&self) -> ArrayViewD<'_, T> {
        match self {
            Chunk::Shared(a) => a.view(),
            Chunk::View(v) => v.view(),
        }
    }

    pub(crate) fn shape(&self) -> &[usize] {
        match self {
            Chunk::Shared(a) => a.shape(),
            Chunk::View(v) => v.shape(),
        }
    }

    /// The block as an owned array value (a view is copied, a shared array is not).
    pub(crate) fn into_shared(self) -> ArcArray<T, IxDyn> {
        match self {
            Chunk::Shared(a) => a,
            Chunk::View(v) => v.to_owned().into_shared(),
        }
    }

    /// Applies `f` to every element: in place for an uniquely held array, else into a new one.
    pub(crate) fn map_inplace(self, f: impl Fn(T) -> T) -> Chunk<'a, T> {
        match self {
            Chunk::Shared(mut a) => {
                a.mapv_inplace(f);
                Chunk::Shared(a)
            }
            Chunk::View(v) => Chunk::Shared(v.mapv(f).into_shared()),
        }
    }

    pub(crate) fn slice_axis(self, axis: usize, s: Slice) -> Chunk<'a, T> {
        match self {
            Chunk::Shared(mut a) => {
                a.slice_axis_inplace(Axis(axis), s);
                Chunk::Shared(a)
            }
            Chunk::View(mut v) => {
                v.slice_axis_inplace(Axis(axis), s);
                Chunk::View(v)
            }
        }
    }

    pub(crate) fn index_axis(self, axis: usize, i: usize) -> Chunk<'a, T> {
        match self {
            Chunk::Shared(a) => Chunk::Shared(a.index_axis_move(Axis(axis), i)),
            Chunk::View(v) => Chunk::View(v.index_axis_move(Axis(axis), i)),
        }
    }

    pub(crate) fn insert_axis(self, axis: usize) -> Chunk<'a, T> {
        match self {
            Chunk::Shared(a) => Chunk::Shared(a.insert_axis(Axis(axis))),
            Chunk::View(v) => Chunk::View(v.insert_axis(Axis(axis))),
        }
    }

    pub(crate) fn permuted(self, axes: &[usize]) -> Chunk<'a, T> {
        match self {
            Chunk::Shared(a) => Chunk::Shared(a.permuted_axes(IxDyn(axes))),
            Chunk::View(v) => Chunk::View(v.permuted_axes(IxDyn(axes))),
        }
    }
}

/// Reads a block's input values in the order [`Blocks::inputs`] listed their nodes, and
/// tells each named block met whether the task reads it instead of making it.
pub(crate) struct Cursor<'i, 'a> {
    inp: &'i mut Inputs<'a>,
    pos: usize,
    /// Per named block, in the order the walk met them: whether it is read (none: made).
    reads: &'i [bool],
    met: usize,
}

impl<'i, 'a> Cursor<'i, 'a> {
    pub(crate) fn new(inp: &'i mut Inputs<'a>, reads: &'i [bool]) -> Self {
        Cursor {
            inp,
            pos: 0,
            reads,
            met: 0,
        }
    }

    /// Meets the next named block: whether the task reads it as its next input.
    pub(crate) fn reads_block(&mut self) -> bool {
        let r = self.reads.get(self.met).copied().unwrap_or(false);
        self.met += 1;
        r
    }

    /// The next input, taken (moved when this task is its last consumer, else shared).
    pub(crate) fn next<V: crate::Data>(&mut self) -> Result<V, TaskError> {
        let v = self.inp.take::<V>(self.pos)?;
        self.pos += 1;
        Ok(v)
    }
}

/// A producer of an array's blocks.
pub(crate) trait Blocks<T>: Send + Sync + 'static {
    /// Appends the nodes block `idx` reads, in the order [`Blocks::block`] takes them, and
    /// meets the named blocks making it makes, in the order [`Blocks::block`] meets them.
    fn inputs(&self, _idx: &[usize], _out: &mut Walk<'_>) {}

    /// Whether making a block again costs about what reading it from a task would (a view
    /// of held data, a node's value, a constant): such blocks are never tasks of their own.
    fn cheap(&self) -> bool {
        false
    }

    /// Makes block `idx`.
    fn block<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError>;
}

/// A shared block source.
pub(crate) type Src<T> = Arc<dyn Blocks<T>>;

/// Blocks that are the values of graph nodes (one node per block).
pub(crate) struct NodeBlocks {
    pub(crate) nodes: Arc<[NodeRef]>,
    /// Blocks per axis, to find a block's node.
    pub(crate) numblocks: Vec<usize>,
}

pub(crate) fn linear(idx: &[usize], numblocks: &[usize]) -> usize {
    idx.iter()
        .zip(numblocks)
        .fold(0, |acc, (&i, &n)| acc * n + i)
}

impl<T: Element> Blocks<T> for NodeBlocks {
    fn inputs(&self, idx: &[usize], out: &mut Walk<'_>) {
        out.push(self.nodes[linear(idx, &self.numblocks)].clone());
    }
    fn cheap(&self) -> bool {
        true
    }
    fn block<'s>(
        &'s self,
        _idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError> {
        Ok(Chunk::Shared(inp.next::<ArcArray<T, IxDyn>>()?))
    }
}

/// Blocks that fail with an error found while building (operators cannot return `Result`).
pub(crate) struct Failing(pub(crate) Arc<Error>);

impl<T: Element> Blocks<T> for Failing {
    fn cheap(&self) -> bool {
        true
    }
    fn block<'s>(&'s self, _: &[usize], _: &mut Cursor<'_, '_>) -> Result<Chunk<'s, T>, TaskError> {
        Err(TaskError::new(crate::error::Deferred(duplicate(&self.0))))
    }
}

pub(crate) use crate::error::duplicate;
