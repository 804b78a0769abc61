//! The type-erased task graph the runtime executes.

use crate::value::InlineFn;
use crate::{Error, Inputs, Key, TaskError, Value, Wire};
use std::fmt;
use std::sync::Arc;

/// What a task body returns.
pub type TaskResult = Result<Value, TaskError>;

/// The index of a node in a [`TaskGraph`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    /// The node's position in its graph.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

type OnceFn = Box<dyn FnOnce(&mut Inputs<'_>) -> TaskResult + Send>;

/// A task body that can run many times (in many graphs): what lazy values hold.
///
/// Every `Fn(&mut Inputs) -> TaskResult` closure is one; implement it on your own node types
/// to keep a node and its body in one allocation.
///
/// ```
/// use dagr::runtime::{Body, Inputs, TaskResult, Value};
/// struct Const(i64);
/// impl Body for Const {
///     fn call(&self, _: &mut Inputs<'_>) -> TaskResult { Ok(Value::new(self.0)) }
/// }
/// ```
pub trait Body: Send + Sync + 'static {
    /// Runs the body over its inputs.
    fn call(&self, inputs: &mut Inputs<'_>) -> TaskResult;
}

impl<F> Body for F
where
    F: Fn(&mut Inputs<'_>) -> TaskResult + Send + Sync + 'static,
{
    fn call(&self, inputs: &mut Inputs<'_>) -> TaskResult {
        self(inputs)
    }
}

/// The body of a node: a closure over the node's inputs, or a ready value.
///
/// ```
/// use dagr::runtime::{Task, Value};
/// use std::sync::Arc;
/// let t = Task::once(|inputs| {
///     let x: &i64 = inputs.get(0)?;
///     Ok(Value::new(x + 1))
/// });
/// // anything that converts into a `Value`: an `Arc` of the result is taken as it is
/// let v = Task::value(Arc::new(vec![5_i64]));
/// let w = Task::once(|_| Ok(Arc::new(String::from("shared"))));
/// # drop((t, v, w));
/// ```
pub struct Task(pub(crate) TaskKind);

pub(crate) enum TaskKind {
    Once(OnceFn),
    /// A [`Task::once`] closure of at most a word, held in place.
    Inline(InlineFn),
    Shared(Arc<dyn Body>),
    Value(Value),
    /// Produced outside the run (another process) and handed in while it runs.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    External,
}

impl Task {
    /// A task that runs `f` once. `f` returns its result as a [`Value`] (which holds a
    /// small result without allocating) or as anything that converts into one, such as an
    /// `Arc` of it. (A closure that can only fail names the value type:
    /// `Task::once(|_| Err::<Value, _>(TaskError::new("...")))`.) A closure that captures
    /// at most a word (an `i64`, an `Arc`, a reference) is held in the task itself; a
    /// larger one is boxed.
    pub fn once<R: Into<Value>>(
        f: impl FnOnce(&mut Inputs<'_>) -> Result<R, TaskError> + Send + 'static,
    ) -> Task {
        let body = move |inputs: &mut Inputs<'_>| -> TaskResult { f(inputs).map(Into::into) };
        match InlineFn::new(body) {
            Ok(inline) => Task(TaskKind::Inline(inline)),
            Err(body) => Task(TaskKind::Once(Box::new(body))),
        }
    }

    /// A task whose body is shared with other graphs (a lazy value computed many times).
    pub fn shared(f: Arc<dyn Body>) -> Task {
        Task(TaskKind::Shared(f))
    }

    /// A node that holds a value; consumers get it without copying until they need to own it.
    pub fn value(v: impl Into<Value>) -> Task {
        Task(TaskKind::Value(v.into()))
    }

    /// Whether this node only holds a ready value (no work: every process of a distributed
    /// run has it).
    pub fn is_value(&self) -> bool {
        matches!(self.0, TaskKind::Value(_))
    }

    pub(crate) fn is_external(&self) -> bool {
        matches!(self.0, TaskKind::External)
    }

    pub(crate) fn call(self, inputs: &mut Inputs<'_>) -> TaskResult {
        match self.0 {
            TaskKind::Once(f) => f(inputs),
            TaskKind::Inline(f) => f.call(inputs),
            TaskKind::Shared(f) => f.call(inputs),
            TaskKind::Value(v) => Ok(v),
            TaskKind::External => Err(TaskError::new("an external value was not provided")),
        }
    }
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            TaskKind::Once(_) | TaskKind::Inline(_) => "Task::once",
            TaskKind::Shared(_) => "Task::shared",
            TaskKind::Value(_) => "Task::value",
            TaskKind::External => "Task::external",
        })
    }
}

/// A graph of tasks, built in dependency order: a node may only depend on nodes added before
/// it, so every graph is acyclic by construction.
///
/// Dependencies are stored flat (one array for all edges), so building costs one push per
/// node and per edge.
///
/// ```
/// use dagr::runtime::{Key, Scheduler, Task, TaskGraph};
/// use std::sync::Arc;
///
/// let mut g = TaskGraph::new();
/// let one = g.add(Key::token("one", 1), &[], Task::value(Arc::new(1_i64))).unwrap();
/// let two = g.add(Key::token("two", 2), &[], Task::value(Arc::new(2_i64))).unwrap();
/// let add = g.add(Key::token("add", 3), &[one, two], Task::once(|inp| {
///     Ok(Arc::new(inp.get::<i64>(0)? + inp.get::<i64>(1)?))
/// })).unwrap();
/// let out = Scheduler::threads(2).run(g, &[add]).unwrap();
/// assert_eq!(*out[0].downcast_ref::<i64>().unwrap(), 3);
/// ```
pub struct TaskGraph {
    pub(crate) keys: Vec<Key>,
    pub(crate) tasks: Vec<Task>,
    /// `deps[dep_start[i]..dep_start[i + 1]]` are node i's inputs, in argument order.
    pub(crate) dep_start: Vec<u32>,
    pub(crate) deps: Vec<u32>,
    /// How each node's value crosses between processes; empty until a codec is set (graphs
    /// that run in one process never pay for it).
    pub(crate) wires: Vec<Option<Wire>>,
    /// Nodes every process computes for itself when it needs them (cheap and deterministic,
    /// without inputs); empty until one is marked.
    pub(crate) replicated: Vec<bool>,
    /// Nodes a distributed run spreads over the processes by their chunk index, as it
    /// spreads sources; empty until one is marked.
    pub(crate) spread: Vec<bool>,
    /// The rank each node must run on, for nodes whose value only that process holds
    /// (`u32::MAX`: free); empty until one is pinned.
    pub(crate) pins: Vec<u32>,
    /// Whether a key is held out of line ([`Key::is_boxed`]): if none is, a run forgets
    /// its keys when it ends instead of dropping them one by one.
    pub(crate) boxed_keys: bool,
}

impl TaskGraph {
    /// An empty graph. It grows into the arrays of an earlier graph whose run ended, when
    /// the runtime kept some, so building a large graph again does not grow its arrays anew.
    pub fn new() -> Self {
        Self::with_capacity(0, 0)
    }

    /// An empty graph with room for `nodes` nodes and `edges` dependency edges (in the
    /// arrays of an earlier graph, as [`TaskGraph::new`], when the runtime kept some).
    pub fn with_capacity(nodes: usize, edges: usize) -> Self {
        let (keys, tasks, mut dep_start, deps) = match crate::job::Spare::take_graph() {
            Some(a) => (a.keys, a.tasks, a.dep_start, a.deps),
            None => Default::default(),
        };
        let mut g = TaskGraph {
            keys,
            tasks,
            dep_start: {
                dep_start.push(0);
                dep_start
            },
            deps,
            wires: Vec::new(),
            replicated: Vec::new(),
            spread: Vec::new(),
            pins: Vec::new(),
            boxed_keys: false,
        };
        g.keys.reserve(nodes);
        g.tasks.reserve(nodes);
        g.dep_start.reserve(nodes);
        g.deps.reserve(edges);
        g
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds a node whose task receives the values of `deps`, in order.
    ///
    /// Fails if a dependency is not an earlier node.
    pub fn add(&mut self, key: Key, deps: &[NodeId], task: Task) -> Result<NodeId, Error> {
        let node = self.keys.len();
        if let Some(bad) = deps.iter().find(|d| d.index() >= node) {
            return Err(Error::InvalidDependency {
                node,
                dep: bad.index(),
            });
        }
        if node >= u32::MAX as usize
            || self.deps.len() + deps.len() >= u32::MAX as usize
            || deps.len() >= crate::job::COUNT as usize
        {
            return Err(Error::TooLarge);
        }
        self.deps.extend(deps.iter().map(|d| d.0));
        self.dep_start.push(self.deps.len() as u32);
        self.boxed_keys |= key.is_boxed();
        self.keys.push(key);
        self.tasks.push(task);
        Ok(NodeId(node as u32))
    }

    /// Adds a node whose value is produced outside this graph's run and handed in while it
    /// runs (a value computed by another process of a distributed run).
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub(crate) fn add_external(&mut self, key: Key) -> Result<NodeId, Error> {
        self.add(key, &[], Task(TaskKind::External))
    }

    /// Sets how the value of `node` is encoded when it has to cross to another process (see
    /// [`Codec`](crate::Codec)). Only distributed runs read it.
    ///
    /// ```
    /// use dagr::runtime::{Key, Opaque, Task, TaskGraph};
    /// use std::sync::Arc;
    /// let mut g = TaskGraph::new();
    /// let a = g.add(Key::token("a", 1), &[], Task::value(Arc::new(1_i64))).unwrap();
    /// g.set_wire(a, Opaque::<i64>::WIRE);
    /// assert_eq!(g.wire(a).unwrap().type_name(), "i64");
    /// ```
    pub fn set_wire(&mut self, node: NodeId, wire: Wire) {
        let i = node.index();
        if i >= self.keys.len() {
            return;
        }
        if self.wires.len() <= i {
            self.wires.resize(self.keys.len().max(i + 1), None);
        }
        self.wires[i] = Some(wire);
    }

    /// Marks `node`, which has no inputs, as computed by every process of a distributed run
    /// that needs it, instead of by one and sent: for cheap, deterministic nodes such as a
    /// value every process holds. Nodes built with [`Task::value`] are so already.
    ///
    /// ```
    /// use dagr::runtime::{Key, Task, TaskGraph};
    /// use std::sync::Arc;
    /// let mut g = TaskGraph::new();
    /// let a = g.add(Key::token("config", 1), &[], Task::once(|_| Ok(Arc::new(3_i64)))).unwrap();
    /// g.set_replicated(a);
    /// assert!(g.is_replicated(a));
    /// ```
    pub fn set_replicated(&mut self, node: NodeId) {
        let i = node.index();
        if i >= self.keys.len() || self.dep_start[i] != self.dep_start[i + 1] {
            return;
        }
        if self.replicated.len() <= i {
            self.replicated.resize(self.keys.len().max(i + 1), false);
        }
        self.replicated[i] = true;
    }

    /// Whether every process of a distributed run computes `node` for itself (see
    /// [`TaskGraph::set_replicated`]).
    pub fn is_replicated(&self, node: NodeId) -> bool {
        let i = node.index();
        self.tasks.get(i).is_some_and(Task::is_value)
            || self.replicated.get(i).copied().unwrap_or(false)
    }

    /// Marks `node` to be placed by a distributed run as its sources are, whatever its
    /// inputs: the nodes of one layer (key name) with chunk keys are ordered by index and the
    /// `p`-th of `N` runs on process `⌊p·R/N⌋`. For the roots of reductions that should end
    /// on different processes (one per group of keys), instead of where most of their inputs
    /// are.
    ///
    /// ```
    /// use dagr::runtime::{Key, Task, TaskGraph};
    /// use std::sync::Arc;
    /// let mut g = TaskGraph::new();
    /// let a = g.add(Key::token("a", 1), &[], Task::once(|_| Ok(Arc::new(3_i64)))).unwrap();
    /// let b = g.add(Key::index("group", &[1]), &[a], Task::once(|_| Ok(Arc::new(4_i64)))).unwrap();
    /// g.set_spread(b);
    /// assert!(g.is_spread(b) && !g.is_spread(a));
    /// ```
    pub fn set_spread(&mut self, node: NodeId) {
        let i = node.index();
        if i >= self.keys.len() {
            return;
        }
        if self.spread.len() <= i {
            self.spread.resize(self.keys.len().max(i + 1), false);
        }
        self.spread[i] = true;
    }

    /// Whether `node` is placed as sources are (see [`TaskGraph::set_spread`]).
    pub fn is_spread(&self, node: NodeId) -> bool {
        self.spread.get(node.index()).copied().unwrap_or(false)
    }

    /// Pins `node` to process `rank` of a distributed run: it runs there whatever its
    /// inputs, for a node whose value only that process holds (a partition persisted there,
    /// see [`Scheduler::run_held`](crate::Scheduler::run_held)). Other schedulers ignore it.
    ///
    /// ```
    /// use dagr::runtime::{Key, Task, TaskGraph};
    /// use std::sync::Arc;
    /// let mut g = TaskGraph::new();
    /// let a = g.add(Key::index("held", &[0]), &[], Task::once(|_| Ok(Arc::new(3_i64)))).unwrap();
    /// g.pin(a, 1);
    /// assert_eq!(g.pinned(a), Some(1));
    /// ```
    pub fn pin(&mut self, node: NodeId, rank: usize) {
        let i = node.index();
        if i >= self.keys.len() {
            return;
        }
        if self.pins.len() <= i {
            self.pins.resize(self.keys.len().max(i + 1), u32::MAX);
        }
        self.pins[i] = rank.min(u32::MAX as usize - 1) as u32;
    }

    /// The rank `node` is pinned to, if any (see [`TaskGraph::pin`]).
    pub fn pinned(&self, node: NodeId) -> Option<u32> {
        self.pins
            .get(node.index())
            .copied()
            .filter(|&r| r != u32::MAX)
    }

    /// The codec set for `node`, if any.
    pub fn wire(&self, node: NodeId) -> Option<Wire> {
        self.wires.get(node.index()).copied().flatten()
    }

    /// The key of a node.
    pub fn key(&self, node: NodeId) -> Option<&Key> {
        self.keys.get(node.index())
    }

    /// The dependencies of a node.
    pub fn deps(&self, node: NodeId) -> &[u32] {
        let i = node.index();
        match (self.dep_start.get(i), self.dep_start.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.deps[a as usize..b as usize],
            _ => &[],
        }
    }
}

impl Default for TaskGraph {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for TaskGraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGraph")
            .field("nodes", &self.len())
            .field("edges", &self.deps.len())
            .finish()
    }
}
