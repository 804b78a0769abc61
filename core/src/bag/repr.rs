//! How a bag's partitions are made: as a stream of items (every bag) and, for text, also
//! as columns that the `.str()` kernels and the aggregations work on directly.
//!
//! A text bag carries both views of the same partitions. The item stream serves user code
//! (`map`, `filter`, `compute`, ...); the column view serves the `.str()` kernels,
//! `split`/`flatten`, `count`, `frequencies`, `distinct`, `topk` and `to_textfiles`, which
//! then never build a `String` per item. Steps that run user code on items drop the column
//! view. The item types match the column kinds ([`ColKind`]); the one place where the two
//! meet generically, [`cast`], checks the types and reports a mismatch as an error.

use super::col_layer::{ColLayer, ColPieces, ColTask, ColUse, Pieces};
use super::column::TextColumn;
use super::counts::PartialCounts;
use super::{kernels, layer_name, Bag, ErrSlot, Gen, PartIter};
use crate::delayed::Data;
use crate::node::NodeRef;
use dagr_runtime::{Key, TaskError, Value};
use std::any::{type_name, Any};
use std::sync::Arc;

/// What a column partition holds, and the bag item type it stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ColKind {
    /// `Bag<String>`: one item per entry.
    Text,
    /// `Bag<Vec<String>>`: the whitespace-separated words of each entry.
    Split,
    /// `Bag<String>`: the words of all entries, flattened.
    Words,
    /// `Bag<(String, u64)>`: distinct strings with their counts.
    Counts,
}

/// One partition in column form; the variant is the [`ColKind`]. A plain value with a
/// wire: a column partition shared by several tasks is a task's value.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) enum ColPart {
    Text(TextColumn),
    Split(TextColumn),
    Words(TextColumn),
    Counts(PartialCounts),
}

/// Builds partition `i`'s column from its input (if it has one).
pub(crate) type ColGen =
    Arc<dyn Fn(usize, Option<Value>, &ErrSlot) -> Result<ColPart, TaskError> + Send + Sync>;

/// A bag's column view.
#[derive(Clone)]
pub(crate) struct Col {
    pub(crate) kind: ColKind,
    /// How its partitions are made (named, so outputs of one compute share them).
    pub(crate) layer: Arc<ColLayer>,
    /// For the counts `frequencies` made: the groups of its final merge (see
    /// [`CountGroups`]).
    pub(crate) groups: Option<CountGroups>,
}

/// The final merge of `frequencies` over text, cut into groups of keys, each merged on its
/// own (on its own rank of a cluster): `whole` puts them together as the bag's one
/// partition, while `topk` reads the groups where they are.
#[derive(Clone)]
pub(crate) struct CountGroups {
    pub(crate) groups: Arc<[NodeRef]>,
    pub(crate) whole: NodeRef,
}

impl Col {
    /// A column view read from the partitions' inputs as they are (a made column), never
    /// a task of its own.
    pub(crate) fn new(
        kind: ColKind,
        gen: impl Fn(usize, Option<Value>, &ErrSlot) -> Result<ColPart, TaskError>
            + Send
            + Sync
            + 'static,
    ) -> Col {
        Col {
            kind,
            layer: ColLayer::source(layer_name("column"), Arc::new(gen), true, None),
            groups: None,
        }
    }

    /// A column view whose partitions `gen` makes with some work (reading a file,
    /// gathering items), named `op`: made once when several tasks of a compute read it.
    /// `pieces`: the same partitions made in pieces, when the source can (see
    /// [`ColPieces`]).
    pub(crate) fn source(
        op: &str,
        kind: ColKind,
        gen: impl Fn(usize, Option<Value>, &ErrSlot) -> Result<ColPart, TaskError>
            + Send
            + Sync
            + 'static,
        pieces: Option<ColPieces>,
    ) -> Col {
        Col {
            kind,
            layer: ColLayer::source(layer_name(op), Arc::new(gen), false, pieces),
            groups: None,
        }
    }

    /// A column view of kind `kind` computed from this one by `step`, a layer named `op`.
    pub(crate) fn then(
        &self,
        op: &str,
        kind: ColKind,
        step: impl Fn(ColPart) -> Result<ColPart, TaskError> + Send + Sync + 'static,
    ) -> Col {
        Col {
            kind,
            layer: ColLayer::step(layer_name(op), &self.layer, Arc::new(step)),
            groups: None,
        }
    }

    /// Makes a partition's column from its input, every step in one task.
    pub(crate) fn gen(&self) -> ColGen {
        let layer = self.layer.clone();
        Arc::new(move |i, v, e| layer.make(i, v, e, &[]))
    }
}

/// Moves `a` into a `B` when they are the same type (the column views are built only for
/// bags whose item type matches their kind, so a mismatch is a bug, reported as an error).
pub(crate) fn cast<A: 'static, B: 'static>(a: A) -> Result<B, TaskError> {
    let mut slot = Some(a);
    (&mut slot as &mut dyn Any)
        .downcast_mut::<Option<B>>()
        .and_then(Option::take)
        .ok_or_else(|| {
            TaskError::new(format!(
                "a column of {} read as items of {}",
                type_name::<A>(),
                type_name::<B>()
            ))
        })
}

fn cast_iter<X: 'static, T: 'static>(
    it: impl Iterator<Item = X> + 'static,
) -> Result<PartIter<T>, TaskError> {
    let it: PartIter<X> = Box::new(it);
    cast(it)
}

impl ColPart {
    /// The partition's items, as the bag's item type `T`.
    pub(crate) fn into_items<T: 'static>(self) -> Result<PartIter<T>, TaskError> {
        match self {
            ColPart::Text(c) => cast_iter(c.into_strings()),
            ColPart::Split(c) => cast_iter((0..c.len()).map(move |i| {
                kernels::python_split(c.get(i).unwrap_or_default())
                    .map(str::to_owned)
                    .collect::<Vec<String>>()
            })),
            ColPart::Words(c) => cast_iter(kernels::words_column(&c).into_strings()),
            ColPart::Counts(t) => cast_iter(t.finish().into_pairs()),
        }
    }

    /// The strings this partition's items are, as a column (words are copied into one).
    pub(crate) fn into_text(self) -> Result<TextColumn, TaskError> {
        match self {
            ColPart::Text(c) => Ok(c),
            ColPart::Words(c) => Ok(kernels::words_column(&c)),
            ColPart::Split(_) | ColPart::Counts(_) => {
                Err(TaskError::new("a column of lists or pairs used as strings"))
            }
        }
    }
}

/// Takes a partition's column out of its input value (moved when this is the last use).
pub(crate) fn take_input<C: Data>(v: Option<Value>) -> Result<C, TaskError> {
    let v = v.ok_or_else(|| TaskError::new("partition input missing"))?;
    v.take::<C>()
        .map_err(|_| TaskError::new(format!("partition is not a {}", type_name::<C>())))
}

impl<T: Data> Bag<T> {
    /// A bag over `inputs` whose partitions are made by `col`; its items are the column's.
    /// `cheap`: the column is read from the input's value (never a task of its own when
    /// shared).
    pub(crate) fn from_col(
        name: Arc<str>,
        inputs: Arc<[Option<NodeRef>]>,
        col: Col,
        cheap: bool,
    ) -> Bag<T> {
        let cg = col.gen();
        let gen: Gen<T> = Arc::new(move |i, v, e| cg(i, v, e)?.into_items::<T>());
        let mut b = Bag::source(name, inputs, gen, cheap);
        b.col = Some(col);
        b
    }

    /// A bag with this bag's partitions made by the column view `col`.
    pub(crate) fn with_col<U: Data>(&self, op: &str, col: Col) -> Bag<U> {
        Bag::from_col(layer_name(op), self.inputs().clone(), col, false)
    }

    /// The column view, if this bag has one of one of `kinds`.
    pub(crate) fn col_of(&self, kinds: &[ColKind]) -> Option<&Col> {
        self.col.as_ref().filter(|c| kinds.contains(&c.kind))
    }

    /// The groups of counts this bag is the union of, when it is `frequencies`' result
    /// itself.
    pub(crate) fn count_groups(&self) -> Option<&CountGroups> {
        let g = self.col_of(&[ColKind::Counts])?.groups.as_ref()?;
        match &**self.inputs() {
            [Some(n)] if Arc::ptr_eq(n, &g.whole) => Some(g),
            _ => None,
        }
    }

    /// One node per partition running `consume` over the partition's number and column
    /// (the column made inside the task, or read from its own task when other tasks of the
    /// compute read it too).
    pub(crate) fn col_nodes_with<S: Data>(
        &self,
        col: &Col,
        name: &Arc<str>,
        consume: impl Fn(usize, ColPart) -> Result<S, TaskError> + Send + Sync + 'static,
    ) -> Vec<NodeRef> {
        self.col_nodes_using(col, name, ColUse::Whole(Arc::new(consume)))
    }

    /// One node per partition folding the pieces of column `col`'s partition (whole where
    /// its source makes no pieces) with `fold`.
    pub(crate) fn col_nodes_folding<S: Data>(
        &self,
        col: &Col,
        name: &Arc<str>,
        fold: impl Fn(usize, &mut Pieces<'_>) -> Result<S, TaskError> + Send + Sync + 'static,
    ) -> Vec<NodeRef> {
        self.col_nodes_using(col, name, ColUse::Pieces(Arc::new(fold)))
    }

    pub(crate) fn col_nodes_using<S: Data>(
        &self,
        col: &Col,
        name: &Arc<str>,
        consume: ColUse<S>,
    ) -> Vec<NodeRef> {
        let wire = Some(crate::wire::known_wire::<S>());
        (0..self.npartitions())
            .map(|i| {
                let task = ColTask {
                    layer: col.layer.clone(),
                    inputs: self.inputs().clone(),
                    below: false,
                    i,
                    wire,
                    consume: consume.clone(),
                };
                let key = Key::index(name.clone(), &[i as u64]);
                task.node(key, crate::share::Walk::plain(), true).0
            })
            .collect()
    }
}
