//! How a text bag's column partitions are made: a source (a block of a file read into one
//! buffer, or items gathered into one), then the column steps (`.str()` kernels, `split`,
//! `flatten`), each a named [`ColLayer`], so that outputs of one compute reading the same
//! column partitions (`text.count()` and the word frequencies of `text` together) make them
//! once, as a task of its own holding the column, as [`super::layer`] does for items (see
//! [`crate::share`]). A task reading a column partition alone makes it inside itself.

use super::repr::{take_input, ColGen, ColPart};
use super::ErrSlot;
use crate::delayed::Data;
use crate::node::{new_fused_node, NodeRef};
use crate::share::{Fused, Shared, Walk};
use dagr_runtime::{Inputs, Key, TaskError, TaskResult, Value, Wire};
use std::rc::Rc;
use std::sync::Arc;

/// A column step: one partition's column to the next. Steps work item by item (the
/// `.str()` kernels, `split`, `flatten`), so a step over a run of a partition's items gives
/// the same run of the next column: partitions can go through the steps in pieces.
pub(crate) type ColStep = Arc<dyn Fn(ColPart) -> Result<ColPart, TaskError> + Send + Sync>;

/// Where a piece of a partition goes.
pub(crate) type PieceSink<'s> = dyn FnMut(ColPart) -> Result<(), TaskError> + 's;

/// A source's partition `i` made in pieces (consecutive runs of its items, in order), each
/// handed to the sink: a consumer that folds pieces (a count) then holds a piece at a time,
/// never the whole partition.
pub(crate) type ColPieces =
    Arc<dyn Fn(usize, &mut PieceSink<'_>) -> Result<(), TaskError> + Send + Sync>;

/// A bag's column partitions, named `(name, i)`.
pub(crate) struct ColLayer {
    name: Arc<str>,
    make: Make,
}

enum Make {
    /// From the partition's input; `cheap`: as costly as reading a made column (a held
    /// partition, a reduction's result), never a task of its own; `pieces`: the same
    /// partitions made in pieces, when the source can.
    Source {
        gen: ColGen,
        cheap: bool,
        pieces: Option<ColPieces>,
    },
    /// A step over another layer's column.
    Step {
        parent: Arc<ColLayer>,
        step: ColStep,
    },
}

impl ColLayer {
    pub(crate) fn source(
        name: Arc<str>,
        gen: ColGen,
        cheap: bool,
        pieces: Option<ColPieces>,
    ) -> Arc<ColLayer> {
        Arc::new(ColLayer {
            name,
            make: Make::Source { gen, cheap, pieces },
        })
    }

    pub(crate) fn step(name: Arc<str>, parent: &Arc<ColLayer>, step: ColStep) -> Arc<ColLayer> {
        Arc::new(ColLayer {
            name,
            make: Make::Step {
                parent: parent.clone(),
                step,
            },
        })
    }

    fn cheap(&self) -> bool {
        matches!(self.make, Make::Source { cheap: true, .. })
    }

    fn key(&self, i: usize) -> Key {
        Key::index(self.name.clone(), &[i as u64])
    }

    /// Lists the input of partition `i` (`inputs[i]`) and meets the named column
    /// partitions making it makes.
    fn inputs(self: &Arc<Self>, inputs: &Arc<[Option<NodeRef>]>, i: usize, walk: &mut Walk<'_>) {
        if self.cheap() {
            return self.inputs_below(inputs, i, walk);
        }
        walk.block(
            || self.key(i),
            |walk| self.inputs_below(inputs, i, walk),
            |shared| {
                let task = ColTask {
                    layer: self.clone(),
                    inputs: inputs.clone(),
                    below: true,
                    i,
                    wire: Some(crate::wire_of::<ColPart>()),
                    consume: ColUse::Whole(Arc::new(|_, p| Ok(p))),
                };
                task.node(self.key(i), Walk::split(shared), false).0
            },
        )
    }

    /// [`ColLayer::inputs`] without meeting this layer's own partition.
    fn inputs_below(&self, inputs: &Arc<[Option<NodeRef>]>, i: usize, walk: &mut Walk<'_>) {
        match &self.make {
            Make::Source { .. } => {
                if let Some(n) = &inputs[i] {
                    walk.push(n.clone());
                }
            }
            Make::Step { parent, .. } => parent.inputs(inputs, i, walk),
        }
    }

    /// Partition `i`'s column from the task's input `v`: `reads` tells, per named partition
    /// met in the order [`ColLayer::inputs`] met them, whether `v` is that partition.
    pub(crate) fn make(
        &self,
        i: usize,
        v: Option<Value>,
        err: &ErrSlot,
        reads: &[bool],
    ) -> Result<ColPart, TaskError> {
        if self.cheap() {
            return self.make_below(i, v, err, reads);
        }
        match reads.split_first() {
            Some((true, _)) => take_input::<ColPart>(v),
            Some((false, rest)) => self.make_below(i, v, err, rest),
            None => self.make_below(i, v, err, &[]),
        }
    }

    /// [`ColLayer::make`] making this layer's own partition.
    fn make_below(
        &self,
        i: usize,
        v: Option<Value>,
        err: &ErrSlot,
        reads: &[bool],
    ) -> Result<ColPart, TaskError> {
        match &self.make {
            Make::Source { gen, .. } => gen(i, v, err),
            Make::Step { parent, step } => step(parent.make(i, v, err, reads)?),
        }
    }

    /// Partition `i`'s column as [`ColLayer::make`] makes it, handed to `sink` in pieces
    /// when its source can make them (and no partition on the way is read from a task),
    /// else whole.
    fn each_piece(
        &self,
        i: usize,
        v: Option<Value>,
        err: &ErrSlot,
        reads: &[bool],
        sink: &mut PieceSink<'_>,
    ) -> Result<(), TaskError> {
        if self.cheap() {
            return self.each_piece_below(i, v, err, reads, sink);
        }
        match reads.split_first() {
            Some((true, _)) => sink(take_input::<ColPart>(v)?),
            Some((false, rest)) => self.each_piece_below(i, v, err, rest, sink),
            None => self.each_piece_below(i, v, err, &[], sink),
        }
    }

    /// [`ColLayer::each_piece`] making this layer's own partition.
    fn each_piece_below(
        &self,
        i: usize,
        v: Option<Value>,
        err: &ErrSlot,
        reads: &[bool],
        sink: &mut PieceSink<'_>,
    ) -> Result<(), TaskError> {
        match &self.make {
            Make::Source {
                pieces: Some(pieces),
                ..
            } if v.is_none() => pieces(i, sink),
            Make::Source { gen, .. } => sink(gen(i, v, err)?),
            Make::Step { parent, step } => {
                parent.each_piece(i, v, err, reads, &mut |p| sink(step(p)?))
            }
        }
    }
}

/// A partition's column, for a consumer folding its pieces (see [`ColUse::Pieces`]).
pub(crate) struct Pieces<'a> {
    layer: &'a ColLayer,
    below: bool,
    i: usize,
    v: Option<Value>,
    err: &'a ErrSlot,
    reads: &'a [bool],
}

impl Pieces<'_> {
    /// Hands the partition's pieces to `sink`, in order (once: a second call sees none).
    pub(crate) fn for_each(&mut self, sink: &mut PieceSink<'_>) -> Result<(), TaskError> {
        let v = self.v.take();
        if self.below {
            self.layer
                .each_piece_below(self.i, v, self.err, self.reads, sink)
        } else {
            self.layer.each_piece(self.i, v, self.err, self.reads, sink)
        }
    }
}

/// What a column partition task does with its column, taken whole.
pub(crate) type ColConsume<S> = dyn Fn(usize, ColPart) -> Result<S, TaskError> + Send + Sync;

/// What a column partition task does with its column, taken in pieces.
pub(crate) type ColFold<S> = dyn Fn(usize, &mut Pieces<'_>) -> Result<S, TaskError> + Send + Sync;

/// How a column partition task takes its column.
pub(crate) enum ColUse<S> {
    /// Whole.
    Whole(Arc<ColConsume<S>>),
    /// In pieces, where its source makes them.
    Pieces(Arc<ColFold<S>>),
}

impl<S> Clone for ColUse<S> {
    fn clone(&self) -> Self {
        match self {
            ColUse::Whole(f) => ColUse::Whole(f.clone()),
            ColUse::Pieces(f) => ColUse::Pieces(f.clone()),
        }
    }
}

/// The task making partition `i` of `layer` and passing it to `consume`.
pub(crate) struct ColTask<S> {
    pub(crate) layer: Arc<ColLayer>,
    /// The bag's partition inputs.
    pub(crate) inputs: Arc<[Option<NodeRef>]>,
    /// Whether the task makes the layer's partition itself (it is that partition's task).
    pub(crate) below: bool,
    pub(crate) i: usize,
    pub(crate) wire: Option<Wire>,
    pub(crate) consume: ColUse<S>,
}

impl<S: Data> ColTask<S> {
    /// The node keyed `key` running this task, its input listed by `walk`, and whether it
    /// reads a shared partition. `described`: whether the sharing pass may rebuild it.
    pub(crate) fn node(self, key: Key, mut walk: Walk<'_>, described: bool) -> (NodeRef, bool) {
        if self.below {
            self.layer.inputs_below(&self.inputs, self.i, &mut walk);
        } else {
            self.layer.inputs(&self.inputs, self.i, &mut walk);
        }
        let (deps, reads) = walk.finish();
        let reads_any = reads.contains(&true);
        let task = Arc::new(self);
        let run = task.clone();
        let has_input = !deps.is_empty();
        let body = move |inp: &mut Inputs<'_>| -> TaskResult {
            let v = if has_input {
                Some(inp.take_value(0)?)
            } else {
                None
            };
            let err: ErrSlot = Rc::default();
            let out = match &run.consume {
                ColUse::Whole(consume) => {
                    let part = if run.below {
                        run.layer.make_below(run.i, v, &err, &reads)?
                    } else {
                        run.layer.make(run.i, v, &err, &reads)?
                    };
                    consume(run.i, part)
                }
                ColUse::Pieces(fold) => {
                    let mut pieces = Pieces {
                        layer: &run.layer,
                        below: run.below,
                        i: run.i,
                        v,
                        err: &err,
                        reads: &reads,
                    };
                    fold(run.i, &mut pieces)
                }
            };
            let failed = err.borrow_mut().take();
            match failed {
                Some(e) => Err(e),
                None => Ok(Value::new(out?)),
            }
        };
        let wire = task.wire;
        let fused = described.then_some(task as Arc<dyn Fused>);
        (
            new_fused_node(key, deps.into(), wire, fused, body),
            reads_any,
        )
    }
}

impl<S: Data> Fused for ColTask<S> {
    fn walk(&self, _key: &Key, walk: &mut Walk<'_>) {
        // the task making a partition itself counts as reading it
        self.layer.inputs(&self.inputs, self.i, walk)
    }

    fn split(&self, node: &NodeRef, shared: &Shared) -> Option<NodeRef> {
        let task = ColTask {
            layer: self.layer.clone(),
            inputs: self.inputs.clone(),
            below: self.below,
            i: self.i,
            wire: self.wire,
            consume: self.consume.clone(),
        };
        let (rebuilt, reads_any) = task.node(node.key().clone(), Walk::split(shared), false);
        reads_any.then_some(rebuilt)
    }
}
