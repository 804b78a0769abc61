//! How a partition's items are made: a bag's source, then the steps (`map`, `filter`, ...)
//! of the bags built on it, each a named [`BagLayer`] so that a compute can tell when
//! several tasks would make the same partition (one bag's partitions read by `sum`, `count`
//! and `frequencies` together) and make it once, as a task of its own holding the items
//! (see [`crate::share`]). A task reading a partition alone streams it through the steps
//! without holding it.

use super::{take_vec, ErrSlot, Gen, PartIter};
use crate::delayed::Data;
use crate::node::{new_fused_node, NodeRef};
use crate::share::{Fused, Shared, Walk};
use dagr_runtime::{Inputs, Key, TaskError, TaskResult, Value, Wire};
use std::rc::Rc;
use std::sync::Arc;

/// A step over a partition's items: its number, the items of the layer below, and where a
/// streaming error is recorded.
pub(crate) type StepFn<P, T> =
    Arc<dyn Fn(usize, PartIter<P>, &ErrSlot) -> PartIter<T> + Send + Sync>;

/// A bag's partitions, named `(name, i)`.
pub(crate) struct BagLayer<T> {
    name: Arc<str>,
    inputs: Arc<[Option<NodeRef>]>,
    make: Make<T>,
}

enum Make<T> {
    /// From the input's value; `cheap`: as costly as reading made items (a held partition,
    /// an input node's value, an error), never a task of its own.
    Source { gen: Gen<T>, cheap: bool },
    /// A step over another layer's items.
    Step(Box<dyn Below<T>>),
}

/// The layer below a step and the step, the item type below erased.
trait Below<T>: Send + Sync {
    fn inputs(&self, i: usize, walk: &mut Walk<'_>);
    fn stream(
        &self,
        i: usize,
        v: Option<Value>,
        err: &ErrSlot,
        reads: &[bool],
    ) -> Result<PartIter<T>, TaskError>;
}

struct Stepped<P, T> {
    parent: Arc<BagLayer<P>>,
    step: StepFn<P, T>,
}

impl<P: Data, T: Data> Below<T> for Stepped<P, T> {
    fn inputs(&self, i: usize, walk: &mut Walk<'_>) {
        self.parent.inputs(i, walk)
    }

    fn stream(
        &self,
        i: usize,
        v: Option<Value>,
        err: &ErrSlot,
        reads: &[bool],
    ) -> Result<PartIter<T>, TaskError> {
        Ok((self.step)(i, self.parent.stream(i, v, err, reads)?, err))
    }
}

impl<T> BagLayer<T> {
    /// The input node of each partition, if it has one.
    pub(crate) fn partition_inputs(&self) -> &Arc<[Option<NodeRef>]> {
        &self.inputs
    }
}

impl<T: Data> BagLayer<T> {
    pub(crate) fn source(
        name: Arc<str>,
        inputs: Arc<[Option<NodeRef>]>,
        gen: Gen<T>,
        cheap: bool,
    ) -> Arc<BagLayer<T>> {
        Arc::new(BagLayer {
            name,
            inputs,
            make: Make::Source { gen, cheap },
        })
    }

    pub(crate) fn step<P: Data>(
        name: Arc<str>,
        parent: &Arc<BagLayer<P>>,
        step: StepFn<P, T>,
    ) -> Arc<BagLayer<T>> {
        Arc::new(BagLayer {
            name,
            inputs: parent.inputs.clone(),
            make: Make::Step(Box::new(Stepped {
                parent: parent.clone(),
                step,
            })),
        })
    }

    fn cheap(&self) -> bool {
        matches!(self.make, Make::Source { cheap: true, .. })
    }

    fn key(&self, i: usize) -> Key {
        Key::index(self.name.clone(), &[i as u64])
    }

    /// Lists the input of partition `i` and meets the named partitions making it makes.
    fn inputs(self: &Arc<Self>, i: usize, walk: &mut Walk<'_>) {
        if self.cheap() {
            return self.inputs_below(i, walk);
        }
        walk.block(
            || self.key(i),
            |walk| self.inputs_below(i, walk),
            |shared| {
                let task = PartTask {
                    layer: self.clone(),
                    below: true,
                    i,
                    wire: Some(crate::wire::known_wire::<Vec<T>>()),
                    consume: Arc::new(|it: PartIter<T>, _| Ok(it.collect::<Vec<T>>())),
                    extra: None,
                };
                task.node(self.key(i), Walk::split(shared), false).0
            },
        )
    }

    /// [`BagLayer::inputs`] without meeting this layer's own partition.
    fn inputs_below(&self, i: usize, walk: &mut Walk<'_>) {
        match &self.make {
            Make::Source { .. } => {
                if let Some(n) = &self.inputs[i] {
                    walk.push(n.clone());
                }
            }
            Make::Step(below) => below.inputs(i, walk),
        }
    }

    /// Partition `i`'s items from the task's input `v`: `reads` tells, per named partition
    /// met in the order [`BagLayer::inputs`] met them, whether `v` is that partition's items.
    pub(crate) fn stream(
        &self,
        i: usize,
        v: Option<Value>,
        err: &ErrSlot,
        reads: &[bool],
    ) -> Result<PartIter<T>, TaskError> {
        if self.cheap() {
            return self.stream_below(i, v, err, reads);
        }
        match reads.split_first() {
            Some((true, _)) => Ok(Box::new(take_vec::<T>(v)?.into_iter())),
            Some((false, rest)) => self.stream_below(i, v, err, rest),
            None => self.stream_below(i, v, err, &[]),
        }
    }

    /// [`BagLayer::stream`] making this layer's own partition.
    fn stream_below(
        &self,
        i: usize,
        v: Option<Value>,
        err: &ErrSlot,
        reads: &[bool],
    ) -> Result<PartIter<T>, TaskError> {
        match &self.make {
            Make::Source { gen, .. } => gen(i, v, err),
            Make::Step(below) => below.stream(i, v, err, reads),
        }
    }
}

/// What a partition task does with its items and the value of its extra input, if any.
pub(crate) type Consume<T, S> =
    dyn Fn(PartIter<T>, Option<Value>) -> Result<S, TaskError> + Send + Sync;

/// The task streaming partition `i` of `layer` into `consume`.
pub(crate) struct PartTask<T, S> {
    pub(crate) layer: Arc<BagLayer<T>>,
    /// Whether the task makes the layer's partition itself (it is that partition's task)
    /// rather than meeting it as a named partition.
    pub(crate) below: bool,
    pub(crate) i: usize,
    pub(crate) wire: Option<Wire>,
    pub(crate) consume: Arc<Consume<T, S>>,
    /// An input read after the partition's own (`accumulate`'s carry from the partition
    /// before), its value given to `consume`.
    pub(crate) extra: Option<NodeRef>,
}

impl<T: Data, S: Data> PartTask<T, S> {
    /// The node keyed `key` running this task, its input listed by `walk`, and whether it
    /// reads a shared partition. `described`: whether the sharing pass may rebuild it.
    pub(crate) fn node(self, key: Key, mut walk: Walk<'_>, described: bool) -> (NodeRef, bool) {
        if self.below {
            self.layer.inputs_below(self.i, &mut walk);
        } else {
            self.layer.inputs(self.i, &mut walk);
        }
        let (mut deps, reads) = walk.finish();
        let reads_any = reads.contains(&true);
        let has_input = !deps.is_empty();
        let has_extra = self.extra.is_some();
        deps.extend(self.extra.clone());
        let task = Arc::new(self);
        let run = task.clone();
        let body = move |inp: &mut Inputs<'_>| -> TaskResult {
            let v = if has_input {
                Some(inp.take_value(0)?)
            } else {
                None
            };
            let extra = if has_extra {
                Some(inp.take_value(usize::from(has_input))?)
            } else {
                None
            };
            let err: ErrSlot = Rc::default();
            let it = if run.below {
                run.layer.stream_below(run.i, v, &err, &reads)?
            } else {
                run.layer.stream(run.i, v, &err, &reads)?
            };
            let out = (run.consume)(it, extra);
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

impl<T: Data, S: Data> Fused for PartTask<T, S> {
    fn walk(&self, _key: &Key, walk: &mut Walk<'_>) {
        // the task making a partition itself counts as reading it
        self.layer.inputs(self.i, walk)
    }

    fn split(&self, node: &NodeRef, shared: &Shared) -> Option<NodeRef> {
        let task = PartTask {
            layer: self.layer.clone(),
            below: self.below,
            i: self.i,
            wire: self.wire,
            consume: self.consume.clone(),
            extra: self.extra.clone(),
        };
        let (rebuilt, reads_any) = task.node(node.key().clone(), Walk::split(shared), false);
        reads_any.then_some(rebuilt)
    }
}
