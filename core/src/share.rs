//! Blocks shared by several tasks of one compute are made once.
//!
//! Fusion runs a producer inside the task of its consumer: `(x + 1).sum()` makes each block
//! of `x`, adds one and sums it in one task. It is decided when a graph is built, one output
//! at a time, but whether a block is shared is only known when a compute gathers all its
//! outputs: `mean`, `std` and `max` of one random array each fuse the generation of every
//! block. Before planning, this pass decides per block, as Dask's graph shares keys:
//!
//! 1. Walk: every node whose task makes named blocks inside itself ([`Fused`]) walks them
//!    through a [`Walk`] in counting mode, which records for each named block the tasks
//!    and named blocks that read it directly (its *consumers*), and the order in which the
//!    walk finished them (consumers finish after what they read).
//! 2. Decide: from consumers to producers, a block's *runner* is the task it would run in:
//!    that of its consumers, if they all run in one task; a block read from several tasks
//!    becomes a task of its own (it is *shared*) and runs the blocks only it reads. A block
//!    read twice inside one task stays fused; a producer marked cheap (a view, a value
//!    already made by a task) is never a task.
//! 3. Rebuild: every node that makes a shared block inside itself is rebuilt to read it
//!    from the block's task instead ([`Fused::split`]); the block's task is made once per
//!    compute, itself reading the shared blocks below it.
//!
//! A graph with no shared named block is planned as it was built.

use crate::node::NodeRef;
use crate::plan::AddrMap;
use dagr_runtime::Key;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// A node whose task makes named blocks inside itself.
pub(crate) trait Fused: Send + Sync {
    /// Walks the named blocks the task of the node keyed `key` reads directly.
    fn walk(&self, key: &Key, walk: &mut Walk<'_>);
    /// The node rebuilt to read the shared blocks from their tasks, if it makes any.
    fn split(&self, node: &NodeRef, shared: &Shared) -> Option<NodeRef>;
}

/// Who reads a named block directly.
#[derive(Clone, PartialEq)]
enum Reader {
    /// The task of the node with this key.
    Task(Key),
    /// The named block numbered so in [`Counts::blocks`].
    Block(usize),
}

/// What the walk learnt about one named block.
struct Block {
    key: Key,
    readers: Vec<Reader>,
}

/// The consumers of the named blocks met so far.
#[derive(Default)]
struct Counts {
    index: HashMap<Key, usize>,
    /// Numbered in the order the walk met them.
    blocks: Vec<Block>,
    /// The blocks' numbers in the order the walk finished them: a block after all it reads.
    finished: Vec<usize>,
}

/// The named blocks that are tasks of their own in this compute, and those tasks.
pub(crate) struct Shared {
    keys: crate::FastSet<Key>,
    tasks: RefCell<HashMap<Key, NodeRef>>,
}

impl Shared {
    /// The task making the shared block `key`, built by `build` the first time.
    pub(crate) fn task(&self, key: Key, build: impl FnOnce(&Shared) -> NodeRef) -> NodeRef {
        if let Some(n) = self.tasks.borrow().get(&key) {
            return n.clone();
        }
        let n = build(self);
        self.tasks.borrow_mut().insert(key, n.clone());
        n
    }
}

enum Mode<'a> {
    /// Building a node: every named block is made inside the task.
    Plain,
    /// Counting the consumers of named blocks.
    Count {
        counts: &'a mut Counts,
        reader: Reader,
    },
    /// Rebuilding a node: shared blocks are read from their tasks.
    Split(&'a Shared),
}

/// A walk over what a fused task reads: the nodes it takes as inputs, in order, and the
/// named blocks it makes along the way (see the module docs for the three modes).
pub(crate) struct Walk<'a> {
    mode: Mode<'a>,
    nodes: Vec<NodeRef>,
    /// Per named block met while splitting, in order: whether it is read from its task.
    reads: Vec<bool>,
}

impl<'a> Walk<'a> {
    /// A walk listing the inputs of a task that makes every named block itself.
    pub(crate) fn plain() -> Walk<'static> {
        Walk {
            mode: Mode::Plain,
            nodes: Vec::new(),
            reads: Vec::new(),
        }
    }

    /// A walk listing the inputs of a task that reads the blocks `shared` shares.
    pub(crate) fn split(shared: &'a Shared) -> Walk<'a> {
        Walk {
            mode: Mode::Split(shared),
            nodes: Vec::new(),
            reads: Vec::new(),
        }
    }

    /// Appends an input node of the task.
    pub(crate) fn push(&mut self, node: NodeRef) {
        if !matches!(self.mode, Mode::Count { .. }) {
            self.nodes.push(node);
        }
    }

    /// Meets the named block `key` (computed only when needed): `inner` walks what making it
    /// reads, `task` builds the node making it as a task of its own.
    pub(crate) fn block(
        &mut self,
        key: impl FnOnce() -> Key,
        inner: impl FnOnce(&mut Walk<'a>),
        task: impl FnOnce(&Shared) -> NodeRef,
    ) {
        match &mut self.mode {
            Mode::Plain => inner(self),
            Mode::Split(shared) => {
                let shared: &'a Shared = shared;
                let key = key();
                if shared.keys.contains(&key) {
                    let node = shared.task(key, task);
                    self.nodes.push(node);
                    self.reads.push(true);
                } else {
                    self.reads.push(false);
                    inner(self);
                }
            }
            Mode::Count { counts, reader } => {
                let key = key();
                if let Some(&i) = counts.index.get(&key) {
                    let readers = &mut counts.blocks[i].readers;
                    if !readers.contains(reader) {
                        readers.push(reader.clone());
                    }
                    return;
                }
                let i = counts.blocks.len();
                counts.index.insert(key.clone(), i);
                counts.blocks.push(Block {
                    key,
                    readers: vec![reader.clone()],
                });
                let outer = std::mem::replace(reader, Reader::Block(i));
                inner(self);
                if let Mode::Count { counts, reader } = &mut self.mode {
                    *reader = outer;
                    counts.finished.push(i);
                }
            }
        }
    }

    /// The inputs met, and per named block met while splitting whether it is read.
    pub(crate) fn finish(self) -> (Vec<NodeRef>, Box<[bool]>) {
        (self.nodes, self.reads.into())
    }
}

/// Decides which named blocks of the graph `outputs` reach are shared (see the module docs)
/// and rebuilds the nodes that make them: the rebuilt nodes by the address of the node they
/// replace (empty when nothing is shared).
pub(crate) fn rewire(outputs: &[&NodeRef]) -> AddrMap<NodeRef> {
    let mut counts = Counts::default();
    let mut fused: Vec<&NodeRef> = Vec::new();
    let mut seen: AddrMap<()> = AddrMap::default();
    let mut stack: Vec<&NodeRef> = outputs.to_vec();
    while let Some(n) = stack.pop() {
        // a node held by one reference is met through one edge only
        if Arc::strong_count(n) > 1 && seen.insert(addr(n), ()).is_some() {
            continue;
        }
        if let Some(f) = n.fused() {
            let mut walk = Walk {
                mode: Mode::Count {
                    counts: &mut counts,
                    reader: Reader::Task(n.key().clone()),
                },
                nodes: Vec::new(),
                reads: Vec::new(),
            };
            f.walk(n.key(), &mut walk);
            fused.push(n);
        }
        stack.extend(n.deps());
    }
    let keys = shared_blocks(&counts);
    if keys.is_empty() {
        return AddrMap::default();
    }
    let shared = Shared {
        keys,
        tasks: RefCell::default(),
    };
    let mut rebuilt = AddrMap::default();
    for n in fused {
        if let Some(new) = n.fused().and_then(|f| f.split(n, &shared)) {
            rebuilt.insert(addr(n), new);
        }
    }
    rebuilt
}

/// The keys of the blocks read from several tasks, deciding from readers to what they read.
fn shared_blocks(counts: &Counts) -> crate::FastSet<Key> {
    let n = counts.blocks.len();
    // the task each block runs in: a reader's task, or the block's own when shared
    let mut runner: Vec<Option<Reader>> = vec![None; n];
    let mut keys = crate::FastSet::default();
    for &i in counts.finished.iter().rev() {
        let block = &counts.blocks[i];
        let mut run: Option<Reader> = None;
        let mut shared = false;
        for r in &block.readers {
            let via = match r {
                Reader::Task(_) => Some(r.clone()),
                Reader::Block(j) => runner[*j].clone(),
            };
            match (&run, via) {
                (_, None) => {}
                (None, via) => run = via,
                (Some(a), Some(b)) if *a == b => {}
                (Some(_), Some(_)) => shared = true,
            }
        }
        if shared {
            keys.insert(block.key.clone());
            run = Some(Reader::Block(i));
        }
        runner[i] = run;
    }
    keys
}

fn addr(n: &NodeRef) -> usize {
    Arc::as_ptr(n) as *const () as usize
}
