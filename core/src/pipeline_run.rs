//! One computation of a [`Pipeline`](crate::Pipeline): what a `graph!` expansion does at
//! each `compute`.
//!
//! The expansion adds the pipeline's nodes to a [`PipelineRun`] in the topological order
//! the macro computed, then runs it on the caller's scheduler (the runtime every `Delayed`
//! value runs on):
//!
//! 1. each input becomes a value node holding the caller's value, moved in, never cloned
//!    (the runtime moves a value out to its last consumer and clones it only for the ones
//!    before);
//! 2. each definition becomes one task over its dependencies, read through typed
//!    [`NodeHandle`]s, that calls the function and stores its result; a `Result` is
//!    unwrapped, its `Err` failing the task ([`Returned`] tells the two apart);
//! 3. the outputs (and the `_`-named nodes, computed for their effects) are run and taken
//!    back by their handles.
//!
//! Keys are `name-<token>` with the node's name in the graph and one fresh token per
//! computation, so a failing node is reported by the name the user gave it.

use crate::tokenize::fresh_token;
use crate::{Data, Error};
use dagr_runtime::{BoxError, Inputs, Key, NodeId, Scheduler, Task, TaskError, TaskGraph, Value};
use std::marker::PhantomData;

/// The task graph of one computation of a pipeline, being built.
///
/// ```
/// use dagr::private::{DataOps, PipelineRun};
/// use dagr::Scheduler;
///
/// let mut run = PipelineRun::new(2, 1);
/// let x = run.input("x", 20_i64, DataOps::new()).unwrap();
/// let y = run
///     .node("y", &[x.id()], move |inputs| Ok(x.take(inputs, 0)? + 1), DataOps::new())
///     .unwrap();
/// let mut out = run.run(Scheduler::sync(), &[y.id()]).unwrap();
/// assert_eq!(out.take(y).unwrap(), 21);
/// ```
pub struct PipelineRun {
    graph: TaskGraph,
    token: u64,
}

/// How the graph stores and takes back values of type `T`, made where `T: Data` is
/// required: once per input (at its type) and once per node (at its function), so a type
/// that is not `Data` is reported there once, not again at every use of the node.
pub struct DataOps<T> {
    into_value: fn(T) -> Value,
    take: fn(&mut Inputs<'_>, usize) -> Result<T, TaskError>,
    from_value: fn(Value) -> Option<T>,
}

impl<T> Clone for DataOps<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for DataOps<T> {}

impl<T> DataOps<T> {
    /// The operations of a `Data` type.
    #[allow(clippy::new_without_default)]
    #[inline]
    pub fn new() -> Self
    where
        T: Data,
    {
        DataOps {
            into_value: |v| Value::new(v),
            take: |inputs, i| inputs.take::<T>(i),
            from_value: |v| v.take::<T>().ok(),
        }
    }
}

/// A typed handle on a node of a [`PipelineRun`]: its id, its name, how to read its value.
pub struct NodeHandle<T> {
    id: NodeId,
    name: &'static str,
    ops: DataOps<T>,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for NodeHandle<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for NodeHandle<T> {}

impl<T> NodeHandle<T> {
    /// A probe of the node's type, to pick its wire ([`crate::wire`]).
    pub fn probe(&self) -> crate::wire::Probe<T> {
        crate::wire::Probe::new()
    }

    /// The node's id in its graph.
    #[inline]
    pub fn id(self) -> NodeId {
        self.id
    }

    /// Takes this node's value from input `i` of a consumer: moved when the consumer is its
    /// last, cloned otherwise.
    #[inline]
    pub fn take(self, inputs: &mut Inputs<'_>, i: usize) -> Result<T, TaskError> {
        (self.ops.take)(inputs, i)
    }
}

impl PipelineRun {
    /// An empty graph with room for `nodes` nodes and `edges` edges.
    pub fn new(nodes: usize, edges: usize) -> Self {
        PipelineRun {
            graph: TaskGraph::with_capacity(nodes, edges),
            token: fresh_token(),
        }
    }

    fn handle<T>(&self, id: NodeId, name: &'static str, ops: DataOps<T>) -> NodeHandle<T> {
        NodeHandle {
            id,
            name,
            ops,
            _type: PhantomData,
        }
    }

    /// Adds an input holding `value`.
    pub fn input<T: 'static>(
        &mut self,
        name: &'static str,
        value: T,
        ops: DataOps<T>,
    ) -> Result<NodeHandle<T>, Error> {
        let task = Task::value((ops.into_value)(value));
        let id = self.graph.add(Key::token(name, self.token), &[], task)?;
        Ok(self.handle(id, name, ops))
    }

    /// Adds a node computing `body` over the values of `deps`, in order.
    pub fn node<T, F>(
        &mut self,
        name: &'static str,
        deps: &[NodeId],
        body: F,
        ops: DataOps<T>,
    ) -> Result<NodeHandle<T>, Error>
    where
        T: 'static,
        F: FnOnce(&mut Inputs<'_>) -> Result<T, TaskError> + Send + 'static,
    {
        let into_value = ops.into_value;
        let task = Task::once(move |inputs| Ok(into_value(body(inputs)?)));
        let id = self.graph.add(Key::token(name, self.token), deps, task)?;
        Ok(self.handle(id, name, ops))
    }

    /// Sets how the value of `node` crosses between processes.
    pub fn set_wire(&mut self, node: NodeId, wire: Option<dagr_runtime::Wire>) {
        if let Some(w) = wire {
            self.graph.set_wire(node, w);
        }
    }

    /// Runs what `outputs` need on `scheduler`; their values come back in order.
    pub fn run(self, scheduler: Scheduler, outputs: &[NodeId]) -> Result<RunOutputs, Error> {
        let values = scheduler.run(self.graph, outputs)?;
        Ok(RunOutputs {
            values: values.into_iter(),
            token: self.token,
        })
    }
}

/// The values of a finished [`PipelineRun`], taken in the order the outputs were listed.
pub struct RunOutputs {
    values: std::vec::IntoIter<Value>,
    token: u64,
}

impl RunOutputs {
    /// The next output's value, which `node` names.
    pub fn take<T>(&mut self, node: NodeHandle<T>) -> Result<T, Error> {
        let wrong = || Error::OutputType {
            key: Key::token(node.name, self.token),
            expected: std::any::type_name::<T>(),
        };
        let value = self.values.next().ok_or_else(wrong)?;
        (node.ops.from_value)(value).ok_or_else(wrong)
    }
}

/// What a node's function returned, by reference, to pick how it becomes the node's value
/// ("autoref specialisation": method lookup tries `Returned<Result<..>>` before
/// `&Returned<_>`). The expansion writes
/// `(&Returned(&r)).dagr_return_kind().into_task_result(r)` with both traits in scope.
///
/// ```
/// use dagr::private::{Returned, ReturnsResult, ReturnsValue};
///
/// let plain = 5_i64;
/// let ok: Result<i64, String> = Ok(6);
/// let err: Result<i64, String> = Err("no".into());
/// assert_eq!((&Returned(&plain)).dagr_return_kind().into_task_result(plain).unwrap(), 5);
/// assert_eq!((&Returned(&ok)).dagr_return_kind().into_task_result(ok).unwrap(), 6);
/// let failed = (&Returned(&err)).dagr_return_kind().into_task_result(err);
/// assert_eq!(failed.unwrap_err().to_string(), "no");
/// ```
pub struct Returned<'a, T>(pub &'a T);

/// Picks [`ResultReturn`] for a `Result`.
pub trait ReturnsResult {
    /// The `Result` conversion.
    #[inline]
    fn dagr_return_kind(&self) -> ResultReturn {
        ResultReturn
    }
}

impl<T, E> ReturnsResult for Returned<'_, Result<T, E>> {}

/// Picks [`ValueReturn`] for every other type.
pub trait ReturnsValue {
    /// The plain conversion.
    #[inline]
    fn dagr_return_kind(&self) -> ValueReturn {
        ValueReturn
    }
}

impl<T> ReturnsValue for &Returned<'_, T> {}

/// A function returned a `Result`: the node holds its `Ok` value; an `Err` fails the task.
pub struct ResultReturn;

impl ResultReturn {
    /// The node's value, or the task's error.
    #[inline]
    pub fn into_task_result<T, E: Into<BoxError>>(self, r: Result<T, E>) -> Result<T, TaskError> {
        r.map_err(TaskError::new)
    }
}

/// A function returned a plain value: the node holds it.
pub struct ValueReturn;

impl ValueReturn {
    /// The node's value.
    #[inline]
    pub fn into_task_result<T>(self, v: T) -> Result<T, TaskError> {
        Ok(v)
    }
}
