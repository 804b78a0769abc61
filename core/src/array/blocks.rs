//! How a block is produced: the [`Blocks`] sources an array's operations compose.
//!
//! A source knows which graph nodes block `idx` reads ([`Blocks::inputs`]) and how to make
//! the block from their values ([`Blocks::block`]). Elementwise and pass-through structural
//! operations wrap their parent's source instead of creating tasks, so a chain of them runs
//! inside the one task that consumes the block (blockwise fusion). A block is a [`Chunk`]:
//! either a shared, reference-counted array (mutated in place when nobody else holds it) or
//! a view borrowed from the source (a memory map, an in-memory array), never copied until an
//! operation has to write.
//!
//! Elementwise steps of one type to the same type may stay unapplied: [`Blocks::block_lazy`]
//! gives a [`Lazy`] block, a chunk and the steps still to run on it. A consumer that reads
//! elements in order (a sum, moments) takes them piece by piece with the steps applied to
//! each piece while it is in cache ([`Lazy::for_each_piece`]), so
//! `(x * 2.0 + 1.0).sum()` over a memory map reads the file once and writes nothing; any
//! other consumer calls [`Lazy::materialize`].

use super::element::Element;
use super::memory::check_task_block;
use crate::node::NodeRef;
use crate::share::Walk;
use crate::Error;
use dagr_runtime::{Inputs, TaskError};
use ndarray::{ArcArray, ArrayD, ArrayViewD, Axis, Ix2, IxDyn, Slice};
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

    /// The block as an owned array value (a view is copied, once it is known to fit in
    /// memory; a shared array is not).
    pub(crate) fn into_shared(self) -> Result<ArcArray<T, IxDyn>, TaskError> {
        match self {
            Chunk::Shared(a) => Ok(a),
            Chunk::View(v) => {
                check_task_block::<T>(v.shape())?;
                Ok(v.to_owned().into_shared())
            }
        }
    }

    /// Applies `f` to every element: in place for an uniquely held array, else into a new one
    /// (once it is known to fit in memory).
    pub(crate) fn map_inplace(self, f: impl Fn(T) -> T) -> Result<Chunk<'a, T>, TaskError> {
        match self {
            Chunk::Shared(mut a) => {
                a.mapv_inplace(f);
                Ok(Chunk::Shared(a))
            }
            Chunk::View(v) => {
                check_task_block::<T>(v.shape())?;
                Ok(Chunk::Shared(v.mapv(f).into_shared()))
            }
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

/// Elements per window of a reduction (see `reduce.rs`), and at most per piece that
/// [`Lazy::for_each_piece`] stages: 32 KiB of `f64`, so a piece stays in the core's first-level
/// cache while the steps and the consumer run over it.
pub(crate) const WINDOW: usize = 4096;

/// An elementwise step `T -> T` over slices: the loops are compiled for the step's function
/// (one [`Kernel`] per closure), so they are vectorised and cost no call per element.
pub(crate) trait ElementOp<T>: Send + Sync {
    /// `dst[i] = f(src[i])`; the slices have one length.
    fn map_into(&self, src: &[T], dst: &mut [T]);
    /// `xs[i] = f(xs[i])`.
    fn map_inplace(&self, xs: &mut [T]);
}

/// The [`ElementOp`] of a function.
pub(crate) struct Kernel<F>(pub(crate) F);

impl<T: Element, F: Fn(T) -> T + Send + Sync> ElementOp<T> for Kernel<F> {
    #[inline]
    fn map_into(&self, src: &[T], dst: &mut [T]) {
        for (d, &x) in dst.iter_mut().zip(src) {
            *d = (self.0)(x);
        }
    }
    #[inline]
    fn map_inplace(&self, xs: &mut [T]) {
        for x in xs {
            *x = (self.0)(*x);
        }
    }
}

/// A block and the elementwise steps still to apply to it, in order. Read once: the
/// readers take it by value.
pub(crate) struct Lazy<'a, T> {
    base: Base<'a, T>,
    ops: Vec<&'a dyn ElementOp<T>>,
}

/// Where a lazy block's elements come from.
enum Base<'a, T> {
    /// A block in memory.
    Chunk(Chunk<'a, T>),
    /// A block of `shape` whose elements are drawn in C order: each call fills the slice it
    /// is given with the next ones (a generator's stream), so the block is never in memory
    /// unless it is materialised.
    Drawn {
        shape: Vec<usize>,
        draw: Draw<'a, T>,
    },
}

/// Fills the slice it is given with a block's next elements.
pub(crate) type Draw<'a, T> = Box<dyn FnMut(&mut [T]) + 'a>;

impl<'a, T> Lazy<'a, T> {
    /// A block with nothing left to apply.
    pub(crate) fn new(chunk: Chunk<'a, T>) -> Self {
        Lazy {
            base: Base::Chunk(chunk),
            ops: Vec::new(),
        }
    }

    /// A block of `shape` whose elements `draw` fills in C order, a piece at a time.
    pub(crate) fn drawn(shape: Vec<usize>, draw: Draw<'a, T>) -> Self {
        Lazy {
            base: Base::Drawn { shape, draw },
            ops: Vec::new(),
        }
    }
}

impl<'a, T: Element> Lazy<'a, T> {
    /// The block with one more step to apply after the others.
    pub(crate) fn then(mut self, op: &'a dyn ElementOp<T>) -> Self {
        self.ops.push(op);
        self
    }

    pub(crate) fn shape(&self) -> &[usize] {
        match &self.base {
            Base::Chunk(c) => c.shape(),
            Base::Drawn { shape, .. } => shape,
        }
    }

    /// The block with its steps applied: in place, a window at a time, when it is an
    /// uniquely held contiguous array; else into a new array in C order, once it is known to
    /// fit in memory (a view with nothing to apply stays a view).
    pub(crate) fn materialize(self) -> Result<Chunk<'a, T>, TaskError> {
        let Lazy { base, ops } = self;
        let chunk = match base {
            Base::Chunk(c) => c,
            drawn @ Base::Drawn { .. } => return Lazy { base: drawn, ops }.materialize_new(),
        };
        if ops.is_empty() {
            return Ok(chunk);
        }
        if let Chunk::Shared(mut a) = chunk {
            if a.is_unique() {
                if let Some(xs) = a.as_slice_memory_order_mut() {
                    for w in xs.chunks_mut(WINDOW) {
                        ops.iter().for_each(|op| op.map_inplace(w));
                    }
                    return Ok(Chunk::Shared(a));
                }
            }
            return Lazy::new(Chunk::Shared(a)).with_ops(ops).materialize_new();
        }
        Lazy::new(chunk).with_ops(ops).materialize_new()
    }

    fn with_ops(mut self, ops: Vec<&'a dyn ElementOp<T>>) -> Self {
        self.ops = ops;
        self
    }

    fn materialize_new(self) -> Result<Chunk<'a, T>, TaskError> {
        let shape = self.shape().to_vec();
        check_task_block::<T>(&shape)?;
        let mut out: Vec<T> = Vec::with_capacity(shape.iter().product());
        self.for_each_piece(&mut |p| out.extend_from_slice(p));
        Ok(match ArrayD::from_shape_vec(IxDyn(&shape), out) {
            Ok(a) => Chunk::Shared(a.into_shared()),
            // unreachable: the pieces hold every element once
            Err(_) => Chunk::Shared(ArrayD::from_elem(IxDyn(&shape), T::default()).into_shared()),
        })
    }

    /// Calls `f` with consecutive pieces of the block's elements in C order, the steps
    /// applied: the block's own memory where it is contiguous and nothing is left to apply,
    /// else copies of at most [`WINDOW`] elements.
    pub(crate) fn for_each_piece(self, f: &mut dyn FnMut(&[T])) {
        let Lazy { base, ops } = self;
        let chunk = match base {
            Base::Chunk(c) => c,
            Base::Drawn { shape, mut draw } => {
                let mut left: usize = shape.iter().product();
                let mut buf = vec![T::default(); WINDOW.min(left)];
                while left > 0 {
                    let piece = &mut buf[..WINDOW.min(left)];
                    draw(piece);
                    ops.iter().for_each(|op| op.map_inplace(piece));
                    f(piece);
                    left -= piece.len();
                }
                return;
            }
        };
        let view = chunk.view();
        let mut stage: Vec<T> = Vec::new();
        if ops.is_empty() {
            return runs(view, &mut stage, f);
        }
        let mut out: Vec<T> = vec![T::default(); WINDOW.min(view.len())];
        runs(view, &mut stage, &mut |run: &[T]| {
            for p in run.chunks(WINDOW) {
                let dst = &mut out[..p.len()];
                ops[0].map_into(p, dst);
                ops[1..].iter().for_each(|op| op.map_inplace(dst));
                f(dst);
            }
        });
    }
}

/// Largest run of elements (bytes) of a block's row that counts as short: blocks whose rows
/// are shorter than this are read side by side (see [`side_by_side`]).
pub(crate) const SHORT_ROW_BYTES: usize = 64 << 10;

/// Feeds blocks that lie side by side along axis `g` (extents equal on every other axis,
/// each whole along the axes after `g`) to `f(j, piece)` in the order of their elements in
/// memory: for each index of the axes before `g`, each block's run there in turn. Block `j`
/// gets its elements, steps applied, in C order, as [`Lazy::for_each_piece`] gives them
/// (cut elsewhere): two threads reading blocks of 200 × 500 out of rows of 1000 this way
/// read the file front to back instead of jumping between half-rows. Blocks not laid out
/// so are fed one after another.
pub(crate) fn side_by_side<T: Element>(
    blocks: Vec<Lazy<'_, T>>,
    g: usize,
    f: &mut dyn FnMut(usize, &[T]),
) {
    let rows: Option<Vec<ndarray::ArrayView2<'_, T>>> = blocks
        .iter()
        .map(|l| match &l.base {
            Base::Chunk(c) => as_rows(c.view(), g),
            Base::Drawn { .. } => None,
        })
        .collect();
    let Some(rows) = rows.filter(|r| {
        r.iter().all(|m| {
            m.nrows() == r[0].nrows()
                && m.nrows() > 0
                && m.ncols() > 0
                && m.row(0).as_slice().is_some()
        })
    }) else {
        for (j, l) in blocks.into_iter().enumerate() {
            l.for_each_piece(&mut |p| f(j, p));
        }
        return;
    };
    let mut out: Vec<T> = Vec::new();
    for r in 0..rows[0].nrows() {
        for (j, (m, l)) in rows.iter().zip(&blocks).enumerate() {
            let row = m.row(r);
            let Some(xs) = row.as_slice() else { continue };
            let Some((first, rest)) = l.ops.split_first() else {
                f(j, xs);
                continue;
            };
            for p in xs.chunks(WINDOW) {
                out.resize(p.len(), T::default());
                first.map_into(p, &mut out);
                rest.iter().for_each(|op| op.map_inplace(&mut out));
                f(j, &out);
            }
        }
    }
}

/// `v` as a matrix whose rows are its runs along the axes from `g` on, one per index of the
/// axes before `g`, in C order; `None` when its strides do not allow it.
fn as_rows<T>(mut v: ArrayViewD<'_, T>, g: usize) -> Option<ndarray::ArrayView2<'_, T>> {
    let d = v.ndim();
    if g == 0 || g >= d {
        return None;
    }
    for k in (g..d - 1).rev() {
        if !v.merge_axes(Axis(k), Axis(d - 1)) {
            return None;
        }
    }
    for k in (0..g - 1).rev() {
        if !v.merge_axes(Axis(k), Axis(g - 1)) {
            return None;
        }
    }
    // drop the axes merged away (length 1, or 0 for an empty block), keeping g - 1 and d - 1
    for k in (0..d).rev() {
        if k != g - 1 && k != d - 1 {
            if v.len_of(Axis(k)) != 1 {
                return None;
            }
            v.index_axis_inplace(Axis(k), 0);
        }
    }
    v.into_dimensionality::<Ix2>().ok()
}

/// Calls `f` with the elements of `v` in C order as slices: the whole view when it is
/// C-contiguous, else its rows (a row with a stride is copied through `stage`, a window at
/// a time).
fn runs<T: Element>(mut v: ArrayViewD<'_, T>, stage: &mut Vec<T>, f: &mut dyn FnMut(&[T])) {
    if let Some(s) = v.as_slice() {
        if !s.is_empty() {
            f(s);
        }
        return;
    }
    // axes of length 1 change nothing in the order: drop them, to meet plain rows sooner
    for k in (0..v.ndim()).rev() {
        if v.len_of(Axis(k)) == 1 && v.ndim() > 1 {
            v.index_axis_inplace(Axis(k), 0);
        }
    }
    match v.ndim() {
        1 => {
            let mut it = v.iter().copied();
            loop {
                stage.clear();
                stage.extend(it.by_ref().take(WINDOW));
                if stage.is_empty() {
                    break;
                }
                f(stage);
            }
        }
        2 => {
            let Ok(m) = v.into_dimensionality::<Ix2>() else {
                return;
            };
            for row in m.rows() {
                match row.as_slice() {
                    Some(s) => f(s),
                    None => runs(row.into_dyn(), stage, f),
                }
            }
        }
        _ => {
            for sub in v.outer_iter() {
                runs(sub, stage, f);
            }
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

    /// Whether blocks are views of one C-order array, so that blocks side by side along an
    /// axis share its rows in memory (a memory map, an in-memory array, steps over them):
    /// reductions then read such blocks together, in the order of memory (see
    /// [`side_by_side`]).
    fn shares_rows(&self) -> bool {
        false
    }

    /// Makes block `idx`.
    fn block<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, T>, TaskError>;

    /// Makes block `idx`, possibly with elementwise steps left to apply (the same inputs,
    /// read in the same order, as [`Blocks::block`]).
    fn block_lazy<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Lazy<'s, T>, TaskError> {
        Ok(Lazy::new(self.block(idx, inp)?))
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array2};

    fn pieces(l: Lazy<'_, f64>) -> Vec<f64> {
        let mut out = Vec::new();
        l.for_each_piece(&mut |p| out.extend_from_slice(p));
        out
    }

    #[test]
    fn pieces_give_the_elements_in_c_order_whatever_the_layout() {
        let a = Array2::from_shape_fn((30, 1000), |(i, j)| (i * 1000 + j) as f64);
        // a strided block (rows of 600 out of 1000) and its contiguous copy
        let v = a.slice(s![3..23, 100..700]).into_dyn();
        let owned = v.to_owned().into_shared();
        let strided = pieces(Lazy::new(Chunk::View(v.clone())));
        assert_eq!(strided, pieces(Lazy::new(Chunk::Shared(owned))));
        assert_eq!(strided, v.iter().copied().collect::<Vec<_>>());
        // a column: rows of one element with a stride
        let col = a.slice(s![.., 5]).into_dyn();
        assert_eq!(
            pieces(Lazy::new(Chunk::View(col.clone()))),
            col.iter().copied().collect::<Vec<_>>()
        );
    }

    #[test]
    fn steps_apply_in_order_piece_by_piece_or_materialised() {
        let a = Array2::from_shape_fn((20, 900), |(i, j)| (i as f64) - (j as f64) * 0.5);
        let v = a.slice(s![.., 50..850]).into_dyn();
        let double = Kernel(|x: f64| x * 2.0);
        let inc = Kernel(|x: f64| x + 1.0);
        let want: Vec<f64> = v.iter().map(|x| x * 2.0 + 1.0).collect();
        let lazy = || Lazy::new(Chunk::View(v.clone())).then(&double).then(&inc);
        let mut pieces = Vec::new();
        lazy().for_each_piece(&mut |p| pieces.extend_from_slice(p));
        assert_eq!(pieces, want);
        assert_eq!(
            lazy()
                .materialize()
                .unwrap()
                .view()
                .iter()
                .copied()
                .collect::<Vec<_>>(),
            want
        );
        // an uniquely held array is written in place, a shared one is copied first
        let held = v.to_owned().into_shared();
        let other = held.clone();
        let out = Lazy::new(Chunk::Shared(held))
            .then(&double)
            .then(&inc)
            .materialize()
            .unwrap();
        assert_eq!(out.view().iter().copied().collect::<Vec<_>>(), want);
        assert_eq!(other, v);
    }
}
