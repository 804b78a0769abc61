//! How a partition's table is made: a frame's source, then the row-wise steps of the frames
//! built on it, each a named [`FrameLayer`] so that a compute can tell when several tasks
//! would make the same partition (the partitions of one `read_csv` read by `describe`,
//! `groupby` and `filter` together) and make it once (see [`crate::share`]).

use super::table::Table;
use crate::delayed::Data;
use crate::node::{new_fused_node, NodeRef};
use crate::share::{Fused, Shared, Walk};
use dagr_runtime::{Inputs, Key, TaskError, TaskResult, Value, Wire};
use std::sync::Arc;

/// Makes partition `i` from the value of the partition's input node, if it has one.
pub(crate) type TableGen =
    Arc<dyn Fn(usize, Option<Value>) -> Result<Table, TaskError> + Send + Sync>;

/// A row-wise step.
pub(crate) type Step = Arc<dyn Fn(Table) -> Result<Table, TaskError> + Send + Sync>;

/// A frame's partitions, named `(name, i)`.
pub(crate) struct FrameLayer {
    name: Arc<str>,
    inputs: Arc<[Option<NodeRef>]>,
    make: Make,
}

enum Make {
    /// From the input's value; `cheap`: as costly as reading a made table (a held
    /// partition, an error), never a task of its own; `deferred`: the input holds what to
    /// read (a shuffle's pieces), which the task consuming the partition reads.
    Source {
        gen: TableGen,
        cheap: bool,
        deferred: bool,
    },
    /// A step over another frame's partitions.
    Step { parent: Arc<FrameLayer>, step: Step },
}

impl FrameLayer {
    pub(crate) fn source(
        name: Arc<str>,
        inputs: Arc<[Option<NodeRef>]>,
        gen: TableGen,
        cheap: bool,
    ) -> Arc<FrameLayer> {
        Arc::new(FrameLayer {
            name,
            inputs,
            make: Make::Source {
                gen,
                cheap,
                deferred: false,
            },
        })
    }

    /// A source whose inputs hold what to read rather than tables (a shuffle's pieces,
    /// possibly on disk): see [`FrameLayer::deferred`].
    pub(crate) fn deferred_source(
        name: Arc<str>,
        inputs: Arc<[Option<NodeRef>]>,
        gen: TableGen,
    ) -> Arc<FrameLayer> {
        Arc::new(FrameLayer {
            name,
            inputs,
            make: Make::Source {
                gen,
                cheap: false,
                deferred: true,
            },
        })
    }

    /// Whether this layer's partitions are made from inputs holding what to read (a
    /// shuffle's pieces): a task reading two such partitions together (a join) reads them
    /// itself ([`FrameLayer::table_from_input`]) rather than through a task each, so that no
    /// partition is read long before its partner.
    pub(crate) fn deferred(&self) -> bool {
        match &self.make {
            Make::Source { deferred, .. } => *deferred,
            Make::Step { parent, .. } => parent.deferred(),
        }
    }

    /// Partition `i` made from its input's value, every step in this task.
    pub(crate) fn table_from_input(&self, i: usize, v: Value) -> Result<Table, TaskError> {
        self.table_below(i, Some(v), &[])
    }

    pub(crate) fn step(name: Arc<str>, parent: &Arc<FrameLayer>, step: Step) -> Arc<FrameLayer> {
        Arc::new(FrameLayer {
            name,
            inputs: parent.inputs.clone(),
            make: Make::Step {
                parent: parent.clone(),
                step,
            },
        })
    }

    pub(crate) fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// The input node of each partition, if it has one.
    pub(crate) fn partition_inputs(&self) -> &Arc<[Option<NodeRef>]> {
        &self.inputs
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
                    wire: Some(crate::wire_of::<Table>()),
                    consume: Arc::new(|_, t| Ok(t)),
                };
                task.node(self.key(i), Walk::split(shared), false).0
            },
        )
    }

    /// [`FrameLayer::inputs`] without meeting this layer's own partition.
    fn inputs_below(&self, i: usize, walk: &mut Walk<'_>) {
        match &self.make {
            Make::Source { .. } => {
                if let Some(n) = &self.inputs[i] {
                    walk.push(n.clone());
                }
            }
            Make::Step { parent, .. } => parent.inputs(i, walk),
        }
    }

    /// Partition `i` from the task's input `v`: `reads` tells, per named partition met in
    /// the order [`FrameLayer::inputs`] met them, whether `v` is that partition.
    pub(crate) fn table(
        &self,
        i: usize,
        v: Option<Value>,
        reads: &[bool],
    ) -> Result<Table, TaskError> {
        if self.cheap() {
            return self.table_below(i, v, reads);
        }
        match reads.split_first() {
            Some((true, _)) => super::take_table(v),
            Some((false, rest)) => self.table_below(i, v, rest),
            None => self.table_below(i, v, &[]),
        }
    }

    /// [`FrameLayer::table`] making this layer's own partition.
    fn table_below(&self, i: usize, v: Option<Value>, reads: &[bool]) -> Result<Table, TaskError> {
        match &self.make {
            Make::Source { gen, .. } => gen(i, v),
            Make::Step { parent, step } => step(parent.table(i, v, reads)?),
        }
    }
}

/// What a partition task does with its table.
pub(crate) type Consume<S> = dyn Fn(usize, Table) -> Result<S, TaskError> + Send + Sync;

/// The task making partition `i` of `layer` and handing it to `consume`.
pub(crate) struct PartTask<S> {
    pub(crate) layer: Arc<FrameLayer>,
    /// Whether the task makes the layer's partition itself (it is that partition's task)
    /// rather than meeting it as a named partition.
    pub(crate) below: bool,
    pub(crate) i: usize,
    pub(crate) wire: Option<Wire>,
    pub(crate) consume: Arc<Consume<S>>,
}

impl<S: Data> PartTask<S> {
    /// The node keyed `key` running this task, its input listed by `walk`, and whether it
    /// reads a shared partition. `described`: whether the sharing pass may rebuild it.
    pub(crate) fn node(self, key: Key, mut walk: Walk<'_>, described: bool) -> (NodeRef, bool) {
        if self.below {
            self.layer.inputs_below(self.i, &mut walk);
        } else {
            self.layer.inputs(self.i, &mut walk);
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
            let t = if run.below {
                run.layer.table_below(run.i, v, &reads)?
            } else {
                run.layer.table(run.i, v, &reads)?
            };
            Ok(Value::new((run.consume)(run.i, t)?))
        };
        let wire = task.wire;
        let fused = described.then_some(task as Arc<dyn Fused>);
        (
            new_fused_node(key, deps.into(), wire, fused, body),
            reads_any,
        )
    }
}

impl<S: Data> Fused for PartTask<S> {
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
        };
        let (rebuilt, reads_any) = task.node(node.key().clone(), Walk::split(shared), false);
        reads_any.then_some(rebuilt)
    }
}
