//! Bags: parallel collections of semi-structured items (Dask's `dask.bag`).
//!
//! A [`Bag<T>`] is a list of partitions, one task each when computed. Transformations
//! (`map`, `filter`, `flat_map`, `flatten`, the `.str()` methods) do not create tasks: they
//! compose the partition's pipeline. Aggregations run per partition and combine partial
//! results in a fixed tree (fan-in [`SPLIT_EVERY`]; a chain for the counting tables of
//! text), so results do not depend on the scheduler and memory stays bounded by a few
//! partial results per worker.
//!
//! Text is kept as columns: a partition of strings is one buffer plus offsets
//! ([`TextColumn`]), read in one go per block. The `.str()` kernels rewrite that buffer,
//! `split().flatten()` leaves the words where they are, and `count`, `frequencies`,
//! `distinct`, `topk` and `to_textfiles` read the buffer directly; `frequencies` counts
//! words as borrowed bytes in a prefetching hash table. So `read_text → split → flatten →
//! frequencies → topk` builds no `String` until its result. Items become owned `String`s
//! only where user code asks for them (`map`, `filter`, `take`, `compute`, ...).
//!
//! Outputs of one compute that read the same bag (`dagr::compute((&b.sum(), &b.count(),
//! &b.frequencies()))` over `b = read_text(..).map(parse)`) share its partitions: each is
//! made once, by a task of its own holding its items, which they all read; a bag read by
//! one task only is streamed through its steps without being held. Text columns are shared
//! the same way (`dagr::compute((&text.count(), &words.frequencies()))` reads each file
//! once): a column partition several tasks read is a task of its own holding the column,
//! one read by a single task is made inside it.
//!
//! | dagr | Dask |
//! |---|---|
//! | `db::from_sequence(v, n)?` | `db.from_sequence(v, npartitions=n)` |
//! | `db::read_text("data/*.txt")?` | `db.read_text("data/*.txt")` |
//! | `b.map(f).filter(p)` | `b.map(f).filter(p)` |
//! | `b.str().split().flatten()` | `b.str.split().flatten()` |
//! | `b.frequencies().topk(10, \|(_, n)\| *n)` | `b.frequencies().topk(10, key=1)` |
//! | `b.pluck::<0>()` | `b.pluck(0)` |
//! | `b.product(&c)` | `b.product(c)` |
//! | `b.join(v, \|x\| x.0, \|y\| y.0)` | `b.join(v, on_self=first, on_other=first)` |
//! | `b.accumulate(\|a, x\| a + x, 0)` | `b.accumulate(add, initial=0)` |
//! | `b.random_sample(0.1, 42)` | `b.random_sample(0.1, random_state=42)` |
//! | `b.frequencies_sorted()` | `b.frequencies(sort=True)` |
//! | `b.topk_by_ref(10, \|p\| p.name.as_str())` | `b.topk(10, key=lambda p: p.name)` |
//! | `b.compute()?` | `b.compute()` |

mod col_layer;
mod column;
pub(crate) mod counts;
mod items;
mod join;
mod kernels;
mod layer;
mod reduce;
mod repr;
mod strings;
pub(crate) mod text;

pub use column::TextColumn;
pub use items::Pluck;
pub use reduce::ToF64;
pub use strings::StrMethods;
pub use text::{
    bytes_read_on_this_thread, read_text, read_text_with, TextOptions, DEFAULT_BLOCKSIZE,
    DEFAULT_MAX_LINE,
};

use crate::delayed::Delayed;
use crate::node::{new_wired_node, Deps, NodeKind, NodeRef};
use crate::tokenize::fresh_token;
use crate::Data;
use crate::Error;
use dagr_runtime::{Inputs, Key, Scheduler, TaskError, TaskResult, Value};
use layer::BagLayer;
use repr::{ColKind, ColPart};
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

pub use crate::tree::SPLIT_EVERY;

/// Where a partition's pipeline records an error it met while streaming (a bad line, an
/// I/O failure); the task checks it once the stream is consumed.
pub(crate) type ErrSlot = Rc<RefCell<Option<TaskError>>>;

/// The items of one partition, streamed.
pub(crate) type PartIter<T> = Box<dyn Iterator<Item = T>>;

/// Builds partition `i`'s item stream from its input (if it has one).
pub(crate) type Gen<T> =
    Arc<dyn Fn(usize, Option<Value>, &ErrSlot) -> Result<PartIter<T>, TaskError> + Send + Sync>;

/// A lazy, partitioned collection of `T` (Dask's `Bag`).
///
/// ```
/// use dagr::bag as db;
/// let b = db::from_sequence(1..=10, 3)?;
/// let evens = b.filter(|x| x % 2 == 0).map(|x| x * 10);
/// assert_eq!(evens.compute()?, vec![20, 40, 60, 80, 100]);
/// assert_eq!(b.sum().compute()?, 55);
/// # Ok::<(), dagr::Error>(())
/// ```
pub struct Bag<T> {
    name: Arc<str>,
    /// How each partition's items are made: per partition, the node whose value it starts
    /// from (`None`: generated from nothing), then the bag's source and steps.
    layer: Arc<BagLayer<T>>,
    /// The same partitions as columns, for text bags (see `repr`).
    col: Option<repr::Col>,
    /// For bags whose items are the lines of text files, one for one: where item `j` of
    /// partition `i` came from ("file F, line L"), for error messages.
    lines: Option<LineOf>,
}

/// Names the file and line of item `j` of partition `i` (see `Bag::try_map`).
pub(crate) type LineOf = Arc<dyn Fn(usize, u64) -> String + Send + Sync>;

impl<T> Clone for Bag<T> {
    fn clone(&self) -> Self {
        Bag {
            name: self.name.clone(),
            layer: self.layer.clone(),
            col: self.col.clone(),
            lines: self.lines.clone(),
        }
    }
}

impl<T> fmt::Debug for Bag<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.layer.partition_inputs().len();
        write!(f, "Bag<{}, npartitions={n}>", self.name)
    }
}

pub(crate) fn layer_name(op: &str) -> Arc<str> {
    format!("{op}-{:08x}", fresh_token() as u32).into()
}

/// A bag of the items of `items` in partitions of `ceil(len / npartitions)` items each, as
/// Dask's `db.from_sequence(seq, npartitions=n)` (which may give fewer partitions).
///
/// ```
/// let b = dagr::bag::from_sequence(vec!["a", "b", "c"], 2)?;
/// assert_eq!(b.npartitions(), 2);
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn from_sequence<T: Data>(
    items: impl IntoIterator<Item = T>,
    npartitions: usize,
) -> Result<Bag<T>, Error> {
    if npartitions == 0 {
        return Err(Error::InvalidArgument {
            what: "from_sequence",
            message: "npartitions must be at least 1".into(),
        });
    }
    // Dask's rule: partitions of ceil(len / npartitions) items, so there may be fewer
    // partitions than asked for (10 items in 6 partitions: 5 partitions of 2).
    let items: Vec<T> = items.into_iter().collect();
    let size = items.len().div_ceil(npartitions).max(1);
    let mut parts: Vec<Vec<T>> = Vec::with_capacity(npartitions);
    let mut rest = items.into_iter().peekable();
    while rest.peek().is_some() {
        parts.push(rest.by_ref().take(size).collect());
    }
    if parts.is_empty() {
        parts.push(Vec::new());
    }
    let n = parts.len();
    let parts: Arc<[Vec<T>]> = parts.into();
    let gen: Gen<T> = Arc::new(move |i, _, _| Ok(Box::new(parts[i].clone().into_iter())));
    Ok(Bag::source(
        layer_name("from-sequence"),
        vec![None; n].into(),
        gen,
        true,
    ))
}

/// A bag whose partitions are lazy values (Dask: `db.from_delayed`).
///
/// ```
/// use dagr::{bag as db, value};
/// let b = db::from_delayed(vec![value(vec![1, 2]), value(vec![3])])?;
/// assert_eq!(b.count().compute()?, 3);
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn from_delayed<T: Data>(parts: Vec<Delayed<Vec<T>>>) -> Result<Bag<T>, Error> {
    if parts.is_empty() {
        return Err(Error::InvalidArgument {
            what: "from_delayed",
            message: "a bag needs at least one partition".into(),
        });
    }
    Ok(Bag::from_nodes(
        layer_name("from-delayed"),
        parts.into_iter().map(|d| d.node).collect(),
    ))
}

/// Takes a partition's `Vec<T>` out of its input value (moved when this is the last use).
fn take_vec<T: Data>(v: Option<Value>) -> Result<Vec<T>, TaskError> {
    repr::take_input::<Vec<T>>(v)
}

impl<T: Data> Bag<T> {
    /// A bag over nodes that each produce one partition's `Vec<T>`.
    pub(crate) fn from_nodes(name: Arc<str>, nodes: Vec<NodeRef>) -> Bag<T> {
        let gen: Gen<T> = Arc::new(|_, v, _| Ok(Box::new(take_vec::<T>(v)?.into_iter())));
        Bag::source(name, nodes.into_iter().map(Some).collect(), gen, true)
    }

    /// A bag whose partitions `gen` makes from `inputs`; `cheap`: as costly as reading
    /// made items, so never a task of its own when shared (see [`layer`]).
    pub(crate) fn source(
        name: Arc<str>,
        inputs: Arc<[Option<NodeRef>]>,
        gen: Gen<T>,
        cheap: bool,
    ) -> Bag<T> {
        Bag {
            name: name.clone(),
            layer: BagLayer::source(name, inputs, gen, cheap),
            col: None,
            lines: None,
        }
    }

    /// The bag of `step` over this bag's items, a layer named `name`.
    pub(crate) fn step<U: Data>(
        &self,
        name: Arc<str>,
        step: impl Fn(usize, PartIter<T>, &ErrSlot) -> PartIter<U> + Send + Sync + 'static,
    ) -> Bag<U> {
        Bag {
            name: name.clone(),
            layer: BagLayer::step(name, &self.layer, Arc::new(step)),
            col: None,
            lines: None,
        }
    }

    /// Per partition, the node whose value it starts from (`None`: generated from nothing).
    pub(crate) fn inputs(&self) -> &Arc<[Option<NodeRef>]> {
        self.layer.partition_inputs()
    }

    /// Makes a partition's items from its input, the whole pipeline in one task.
    pub(crate) fn gen(&self) -> Gen<T> {
        let layer = self.layer.clone();
        Arc::new(move |i, v, e| layer.stream(i, v, e, &[]))
    }

    /// A bag with the same partitions whose computation fails with `message` (operators
    /// cannot return `Result`; their argument errors surface from `compute`).
    pub(crate) fn failing(&self, what: &'static str, message: String) -> Bag<T> {
        let message: Arc<str> = message.into();
        let gen: Gen<T> = Arc::new(move |_, _, _| {
            // found while building: `compute` returns it as it is, not as a task failure
            Err(TaskError::new(crate::error::Deferred(
                Error::InvalidArgument {
                    what,
                    message: message.to_string(),
                },
            )))
        });
        Bag::source(layer_name(what), self.inputs().clone(), gen, true)
    }

    /// Number of partitions.
    pub fn npartitions(&self) -> usize {
        self.inputs().len()
    }

    /// A new bag applying `step` to every partition's stream (no task of its own).
    fn pipe<U: Data>(
        &self,
        op: &str,
        step: impl Fn(PartIter<T>) -> PartIter<U> + Send + Sync + 'static,
    ) -> Bag<U> {
        self.step(layer_name(op), move |_, it, _| step(it))
    }

    /// Applies `f` to every item (Dask: `Bag.map`).
    pub fn map<U: Data>(&self, f: impl Fn(T) -> U + Send + Sync + 'static) -> Bag<U> {
        let f = Arc::new(f);
        let mut b = self.pipe("map", move |it| {
            let f = f.clone();
            Box::new(it.map(move |x| f(x)))
        });
        b.lines = self.lines.clone();
        b
    }

    /// Applies `f` to every item, an `Err` failing the computation with an error that names
    /// the item: its file and line for the lines of text files (through `map` and the
    /// `.str()` methods that keep one item per line), else its partition and position. The
    /// one-liner for JSON lines:
    ///
    /// ```
    /// use dagr::bag as db;
    /// let dir = std::env::temp_dir().join(format!("dagr-try-map-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// std::fs::write(dir.join("a.jsonl"), "[1, 2]\n[3]\n[4, oops]\n")?;
    /// let rows = db::read_text(&format!("{}/*.jsonl", dir.display()))?
    ///     .try_map(|l| serde_json::from_str::<Vec<i64>>(&l));
    /// let err = rows.compute().unwrap_err().to_string();
    /// assert!(err.contains("a.jsonl, line 3") && err.contains("expected value"), "{err}");
    /// let sums = db::read_text(&format!("{}/*.jsonl", dir.display()))?
    ///     .filter(|l| !l.contains("oops"))
    ///     .try_map(|l| serde_json::from_str::<Vec<i64>>(&l));
    /// assert_eq!(sums.map(|v| v.iter().sum::<i64>()).compute()?, vec![3, 3]);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn try_map<U: Data, E: fmt::Display>(
        &self,
        f: impl Fn(T) -> Result<U, E> + Send + Sync + 'static,
    ) -> Bag<U> {
        self.try_map_named("try-map", f)
    }

    /// [`Bag::try_map`] as the layer `op`.
    pub(crate) fn try_map_named<U: Data, E: fmt::Display>(
        &self,
        op: &str,
        f: impl Fn(T) -> Result<U, E> + Send + Sync + 'static,
    ) -> Bag<U> {
        let (f, lines) = (Arc::new(f), self.lines.clone());
        let mut b = self.step(layer_name(op), move |i, it, slot| {
            let (f, lines, slot) = (f.clone(), lines.clone(), slot.clone());
            let mut j = 0u64;
            Box::new(it.map_while(move |x| {
                let at = j;
                j += 1;
                match f(x) {
                    Ok(u) => Some(u),
                    Err(err) => {
                        let mut slot = slot.borrow_mut();
                        if slot.is_none() {
                            let place = lines.as_ref().map_or_else(
                                || format!("item {at} of partition {i}"),
                                |l| l(i, at),
                            );
                            *slot = Some(TaskError::new(format!("{place}: {err}")));
                        }
                        None
                    }
                }
            }))
        });
        b.lines = self.lines.clone();
        b
    }

    /// Keeps the items for which `pred` holds (Dask: `Bag.filter`).
    pub fn filter(&self, pred: impl Fn(&T) -> bool + Send + Sync + 'static) -> Bag<T> {
        let pred = Arc::new(pred);
        self.pipe("filter", move |it| {
            let p = pred.clone();
            Box::new(it.filter(move |x| p(x)))
        })
    }

    /// Maps every item to several and concatenates them (Dask: `Bag.map(f).flatten()`).
    pub fn flat_map<U: Data, I>(&self, f: impl Fn(T) -> I + Send + Sync + 'static) -> Bag<U>
    where
        I: IntoIterator<Item = U> + 'static,
    {
        let f = Arc::new(f);
        self.pipe("flat-map", move |it| {
            let f = f.clone();
            Box::new(it.flat_map(move |x| f(x)))
        })
    }

    /// Flattens items that are collections (Dask: `Bag.flatten`, `concat`).
    ///
    /// ```
    /// let b = dagr::bag::from_sequence(vec![vec![1, 2], vec![], vec![3]], 2)?;
    /// assert_eq!(b.flatten().compute()?, vec![1, 2, 3]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn flatten<U: Data>(&self) -> Bag<U>
    where
        T: IntoIterator<Item = U>,
        T::IntoIter: 'static,
    {
        if let Some(col) = self.col_of(&[ColKind::Split]) {
            // the words stay spans of the partition's buffer
            return self.with_col(
                "flatten",
                col.then("flatten", ColKind::Words, |p| match p {
                    ColPart::Split(c) => Ok(ColPart::Words(c)),
                    other => Ok(other),
                }),
            );
        }
        self.pipe("flatten", |it| Box::new(it.flatten()))
    }

    /// Applies `f` to each whole partition (Dask: `Bag.map_partitions`).
    pub fn map_partitions<U: Data>(
        &self,
        f: impl Fn(Vec<T>) -> Vec<U> + Send + Sync + 'static,
    ) -> Bag<U> {
        let f = Arc::new(f);
        self.pipe("map-partitions", move |it| {
            Box::new(f(it.collect()).into_iter())
        })
    }

    /// The `.str` accessor of a bag of strings (Dask: `Bag.str`).
    pub fn str(&self) -> StrMethods<'_, T>
    where
        T: AsRef<str>,
    {
        StrMethods::new(self)
    }

    /// One node per partition producing its items as a `Vec<T>`.
    pub(crate) fn partition_nodes(&self) -> Vec<NodeRef> {
        self.partition_nodes_with(&self.name, |it| it.collect::<Vec<T>>())
    }

    /// One node per partition running `consume` over the partition's stream.
    pub(crate) fn partition_nodes_with<S: Data>(
        &self,
        name: &Arc<str>,
        consume: impl Fn(PartIter<T>) -> S + Send + Sync + 'static,
    ) -> Vec<NodeRef> {
        let wire = Some(crate::wire::known_wire::<S>());
        let consume: Arc<layer::Consume<T, S>> = Arc::new(move |it, _| Ok(consume(it)));
        (0..self.npartitions())
            .map(|i| {
                let task = layer::PartTask {
                    layer: self.layer.clone(),
                    below: false,
                    i,
                    wire,
                    consume: consume.clone(),
                    extra: None,
                };
                let key = Key::index(name.clone(), &[i as u64]);
                task.node(key, crate::share::Walk::plain(), true).0
            })
            .collect()
    }

    /// The partitions as nodes to hold in memory: text as columns, other items as `Vec`s.
    pub(crate) fn held_partition_nodes(&self) -> Vec<NodeRef> {
        match self.col_of(&[repr::ColKind::Text]) {
            Some(col) => self.col_nodes_with(col, &self.name, |_, p| match p {
                repr::ColPart::Text(c) => Ok(c),
                _ => Err(TaskError::new("persist: text read as another column")),
            }),
            None => self.partition_nodes(),
        }
    }

    /// This bag with its partitions made by `nodes`, which hold the values
    /// [`Bag::held_partition_nodes`] gives (see [`crate::persist`]).
    pub(crate) fn with_held(&self, nodes: Vec<NodeRef>) -> Bag<T> {
        if self.col_of(&[repr::ColKind::Text]).is_some() {
            let col = repr::Col::new(repr::ColKind::Text, |_, v, _| {
                Ok(repr::ColPart::Text(repr::take_input::<TextColumn>(v)?))
            });
            return Bag::from_col(
                self.name.clone(),
                nodes.into_iter().map(Some).collect(),
                col,
                true,
            );
        }
        Bag::from_nodes(self.name.clone(), nodes)
    }

    /// Keeps the computed partitions in memory for the computations that follow (Dask:
    /// `Bag.persist`); see [`crate::persist`]. Text stays in its column form.
    ///
    /// ```
    /// use dagr::bag as db;
    /// let b = db::from_sequence(vec!["a b", "b c"], 2)?.persist()?;
    /// let words = b.str().split().flatten();
    /// assert_eq!(words.frequencies().compute()?, vec![("a".to_string(), 1), ("b".into(), 2), ("c".into(), 1)]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn persist(&self) -> Result<Bag<T>, Error> {
        crate::persist::persist(self)
    }

    /// [`Bag::persist`] on the given scheduler.
    pub fn persist_with(&self, scheduler: crate::Scheduler) -> Result<Bag<T>, Error> {
        crate::persist::persist_with(self, scheduler)
    }

    /// The partitions as lazy values (Dask: `Bag.to_delayed`).
    pub fn to_delayed(&self) -> Vec<Delayed<Vec<T>>> {
        self.partition_nodes()
            .into_iter()
            .map(Delayed::from_node)
            .collect()
    }

    /// All items as one lazy `Vec`, in partition order.
    pub fn to_vec(&self) -> Delayed<Vec<T>> {
        let parts = self.partition_nodes();
        let body = |inp: &mut Inputs<'_>| -> TaskResult {
            let mut all: Vec<T> = Vec::new();
            for k in 0..inp.len() {
                let mut part = inp.take::<Vec<T>>(k)?;
                if all.is_empty() {
                    all = part;
                } else {
                    all.append(&mut part);
                }
            }
            Ok(Value::new(all))
        };
        Delayed::from_node(new_wired_node(
            Key::token(layer_name("concat"), fresh_token()),
            Deps::from(parts),
            NodeKind::Call,
            false,
            Some(crate::wire::known_wire::<Vec<T>>()),
            body,
        ))
    }

    /// Computes every item, in partition order, on the default scheduler.
    pub fn compute(&self) -> Result<Vec<T>, Error> {
        self.to_vec().compute()
    }

    /// Computes every item on the given scheduler.
    pub fn compute_with(&self, scheduler: Scheduler) -> Result<Vec<T>, Error> {
        self.to_vec().compute_with(scheduler)
    }

    /// The graph computing this bag, as Graphviz DOT text.
    pub fn to_dot(&self) -> String {
        crate::to_dot(self)
    }

    /// Writes a picture of the graph computing this bag: `.dot`, `.svg` or `.png` by the
    /// file's extension (Dask: `b.visualize("b.svg")`); see [`crate::visualize`].
    ///
    /// ```no_run
    /// let b = dagr::bag::from_sequence(0..100, 4)?.map(|x| x * 2);
    /// b.visualize("bag.svg")?;
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn visualize(&self, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
        crate::visualize(self, path)
    }

    /// Redistributes the items into `n` partitions (Dask: `Bag.repartition`): adjacent
    /// partitions are concatenated, or each is split evenly.
    ///
    /// ```
    /// let b = dagr::bag::from_sequence(0..10, 2)?.repartition(5);
    /// assert_eq!(b.npartitions(), 5);
    /// assert_eq!(b.compute()?, (0..10).collect::<Vec<_>>());
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn repartition(&self, n: usize) -> Bag<T> {
        if n == 0 {
            return self.failing(
                "repartition",
                "repartition(0): a bag needs at least one partition".into(),
            );
        }
        let m = self.npartitions();
        let old = self.partition_nodes();
        let name = layer_name("repartition");
        let mut nodes = Vec::with_capacity(n);
        if n <= m {
            for j in 0..n {
                let (lo, hi) = (j * m / n, (j + 1) * m / n);
                let body = |inp: &mut Inputs<'_>| -> TaskResult {
                    let mut all: Vec<T> = Vec::new();
                    for k in 0..inp.len() {
                        all.append(&mut inp.take::<Vec<T>>(k)?);
                    }
                    Ok(Value::new(all))
                };
                let deps = Deps::from(old[lo..hi].to_vec());
                nodes.push(new_wired_node(
                    Key::index(name.clone(), &[j as u64]),
                    deps,
                    NodeKind::Call,
                    false,
                    Some(crate::wire::known_wire::<Vec<T>>()),
                    body,
                ));
            }
        } else {
            for j in 0..n {
                // new partition j is piece `j - first(p)` of old partition p
                let p = j * m / n;
                let first = (p * n).div_ceil(m);
                let pieces = ((p + 1) * n).div_ceil(m) - first;
                let piece = j - first;
                let body = move |inp: &mut Inputs<'_>| -> TaskResult {
                    let part = inp.get::<Vec<T>>(0)?;
                    let len = part.len();
                    let (a, b) = (piece * len / pieces, (piece + 1) * len / pieces);
                    Ok(Value::new(part[a..b].to_vec()))
                };
                let deps = Deps::one(old[p].clone());
                nodes.push(new_wired_node(
                    Key::index(name.clone(), &[j as u64]),
                    deps,
                    NodeKind::Call,
                    false,
                    Some(crate::wire::known_wire::<Vec<T>>()),
                    body,
                ));
            }
        }
        Bag::from_nodes(name, nodes)
    }

    /// The first `n` items, computing only the partitions needed, in order (Dask:
    /// `Bag.take(n, npartitions=-1)`).
    ///
    /// ```
    /// let b = dagr::bag::from_sequence(0..100, 10)?;
    /// assert_eq!(b.take(3)?, vec![0, 1, 2]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn take(&self, n: usize) -> Result<Vec<T>, Error> {
        let mut out = Vec::with_capacity(n);
        if n == 0 {
            return Ok(out);
        }
        for part in self.partition_nodes_with(&self.name, move |it| it.take(n).collect::<Vec<T>>())
        {
            let items = Delayed::<Vec<T>>::from_node(part).compute()?;
            out.extend(items.into_iter().take(n - out.len()));
            if out.len() == n {
                break;
            }
        }
        Ok(out)
    }
}

/// Bags compute to a `Vec` of their items in [`crate::compute`], sharing work with the
/// other outputs (Dask: `dask.compute(bag, other)`).
///
/// ```
/// let b = dagr::bag::from_sequence(1..=4, 2)?;
/// let doubled = b.map(|x| x * 2);
/// let (items, total) = dagr::compute((&doubled, &doubled.sum()))?;
/// assert_eq!((items, total), (vec![2, 4, 6, 8], 20));
/// # Ok::<(), dagr::Error>(())
/// ```
impl<T: Data> crate::Computable for Bag<T> {
    type Output = Vec<T>;
    fn collect_nodes<'a>(&'a self, out: &mut crate::compute::Outputs<'a>) {
        out.0.push(self.to_vec().node);
    }
    fn extract(&self, values: &mut std::vec::IntoIter<Value>) -> Result<Vec<T>, Error> {
        crate::compute::take_output(values, || Key::index(self.name.clone(), &[]))
    }
}
