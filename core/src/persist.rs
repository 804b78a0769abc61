//! Keeping computed partitions in memory for the computations that follow (Dask: `persist`).
//!
//! `persist` computes the partitions (blocks, chunks) of its arguments in one run, sharing
//! their common work, and returns collections of the same kinds whose partitions are nodes
//! holding those values, under the same keys. A later computation starts from them instead
//! of recomputing; the values are freed when the last collection or lazy value built on
//! them is dropped.

use crate::array::{Array, Element};
use crate::bag::Bag;
use crate::dataframe::DataFrame;
use crate::delayed::{Data, Delayed};
use crate::node::{new_pinned_node, new_wired_node, Deps, NodeKind, NodeRef};
use crate::plan::plan;
use crate::Error;
use dagr_runtime::{Held as RankHeld, Inputs, Scheduler, TaskError, TaskResult, Value};

/// The nodes a [`Persist`] holds, then the nodes holding their values (opaque).
#[doc(hidden)]
pub struct Held {
    nodes: Vec<NodeRef>,
    next: usize,
}

impl Held {
    fn push(&mut self, nodes: impl IntoIterator<Item = NodeRef>) {
        self.nodes.extend(nodes);
    }

    /// The next `n` nodes.
    fn take(&mut self, n: usize) -> Vec<NodeRef> {
        let end = (self.next + n).min(self.nodes.len());
        let out = self.nodes[self.next..end].to_vec();
        self.next = end;
        out
    }
}

/// Something [`persist`] accepts: a `&Delayed<T>`, `&Bag<T>`, `&Array<T>`, `&DataFrame`, a
/// slice or `Vec` of them, or a tuple of up to 8 such things.
pub trait Persist {
    /// The same collections, their partitions held in memory.
    type Output;
    /// The nodes whose values are kept (an error instead for a collection already failed).
    #[doc(hidden)]
    fn held_nodes(&self, out: &mut Held) -> Result<(), Error>;
    /// The collection again, from nodes holding the values of [`Persist::held_nodes`]'.
    #[doc(hidden)]
    fn rebuild(&self, held: &mut Held) -> Self::Output;
}

/// Computes the partitions of `what` on the default scheduler and returns the same
/// collections holding them in memory (Dask: `dask.persist(a, b)`): later computations
/// start from the held partitions.
///
/// On a cluster ([`persist_with`] and a cluster's scheduler) each partition stays on the
/// rank that computed it, as Dask's stay on their workers: later computations on the
/// cluster run their tasks on it there (and send it where another rank needs it); a
/// computation on another scheduler can use only the partitions this rank holds.
///
/// ```
/// use dagr::{bag as db, value};
/// let b = db::from_sequence(1..=10_u64, 3)?.map(|x| x * x);
/// let total = value(7_u64);
/// let (b, total) = dagr::persist((&b, &total))?;
/// assert_eq!(b.sum().compute()?, 385);      // from the held squares
/// assert_eq!(total.compute()?, 7);
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn persist<P: Persist>(what: P) -> Result<P::Output, Error> {
    persist_with(what, Scheduler::default())
}

/// [`persist`] on the given scheduler.
pub fn persist_with<P: Persist>(what: P, scheduler: Scheduler) -> Result<P::Output, Error> {
    let mut held = Held {
        nodes: Vec::new(),
        next: 0,
    };
    what.held_nodes(&mut held)?;
    let refs: Vec<&NodeRef> = held.nodes.iter().collect();
    let distributed = scheduler.is_distributed();
    let p = plan(&refs, distributed)?;
    held.nodes = if distributed {
        let values = scheduler.run_held(p.graph, &p.outputs)?;
        held.nodes
            .iter()
            .zip(values)
            .map(|(n, h)| held_on(n, h))
            .collect()
    } else {
        let values = scheduler.run(p.graph, &p.outputs)?;
        held.nodes
            .iter()
            .zip(values)
            .map(|(n, v)| holding(n, v))
            .collect()
    };
    Ok(what.rebuild(&mut held))
}

/// A node holding `v`, the value of `n`, under `n`'s key.
fn holding(n: &NodeRef, v: Value) -> NodeRef {
    let body = move |_: &mut Inputs<'_>| -> TaskResult { Ok(v.clone()) };
    new_wired_node(
        n.key().clone(),
        Deps::none(),
        NodeKind::Data,
        false,
        n.wire(),
        body,
    )
}

/// A node for the value of `n` that rank `h.rank` holds: the value there, an error elsewhere
/// (where a distributed run never runs it).
fn held_on(n: &NodeRef, h: RankHeld) -> NodeRef {
    let (rank, value) = (h.rank, h.value);
    let body = move |_: &mut Inputs<'_>| -> TaskResult {
        value.clone().ok_or_else(|| {
            TaskError::new(format!(
                "its value was persisted on rank {rank} of a cluster and is held there only: \
                 compute with the cluster's scheduler"
            ))
        })
    };
    new_pinned_node(n.key().clone(), rank, n.wire(), body)
}

impl<T: Data> Persist for Delayed<T> {
    type Output = Delayed<T>;
    fn held_nodes(&self, out: &mut Held) -> Result<(), Error> {
        out.push([self.node.clone()]);
        Ok(())
    }
    fn rebuild(&self, held: &mut Held) -> Delayed<T> {
        held.take(1)
            .pop()
            .map_or_else(|| self.clone(), Delayed::from_node)
    }
}

impl<T: Data> Persist for Bag<T> {
    type Output = Bag<T>;
    fn held_nodes(&self, out: &mut Held) -> Result<(), Error> {
        out.push(self.held_partition_nodes());
        Ok(())
    }
    fn rebuild(&self, held: &mut Held) -> Bag<T> {
        let n = self.npartitions();
        self.with_held(held.take(n))
    }
}

impl<T: Element> Persist for Array<T> {
    type Output = Array<T>;
    fn held_nodes(&self, out: &mut Held) -> Result<(), Error> {
        if let Some(e) = self.error() {
            return Err(crate::array::duplicate(e));
        }
        out.push(self.block_nodes().iter().cloned());
        Ok(())
    }
    fn rebuild(&self, held: &mut Held) -> Array<T> {
        let n = self.block_nodes().len();
        self.with_held(held.take(n))
    }
}

impl Persist for DataFrame {
    type Output = DataFrame;
    fn held_nodes(&self, out: &mut Held) -> Result<(), Error> {
        out.push(self.held_partition_nodes());
        Ok(())
    }
    fn rebuild(&self, held: &mut Held) -> DataFrame {
        let n = self.npartitions();
        self.with_held(held.take(n))
    }
}

impl<P: Persist + ?Sized> Persist for &P {
    type Output = P::Output;
    fn held_nodes(&self, out: &mut Held) -> Result<(), Error> {
        (**self).held_nodes(out)
    }
    fn rebuild(&self, held: &mut Held) -> P::Output {
        (**self).rebuild(held)
    }
}

impl<P: Persist> Persist for [P] {
    type Output = Vec<P::Output>;
    fn held_nodes(&self, out: &mut Held) -> Result<(), Error> {
        self.iter().try_for_each(|p| p.held_nodes(out))
    }
    fn rebuild(&self, held: &mut Held) -> Self::Output {
        self.iter().map(|p| p.rebuild(held)).collect()
    }
}

impl<P: Persist> Persist for Vec<P> {
    type Output = Vec<P::Output>;
    fn held_nodes(&self, out: &mut Held) -> Result<(), Error> {
        self[..].held_nodes(out)
    }
    fn rebuild(&self, held: &mut Held) -> Self::Output {
        self[..].rebuild(held)
    }
}

macro_rules! persist_tuple {
    ($($n:tt $t:ident),+) => {
        impl<$($t: Persist),+> Persist for ($($t,)+) {
            type Output = ($($t::Output,)+);
            fn held_nodes(&self, out: &mut Held) -> Result<(), Error> {
                $(self.$n.held_nodes(out)?;)+
                Ok(())
            }
            fn rebuild(&self, held: &mut Held) -> Self::Output {
                ($(self.$n.rebuild(held),)+)
            }
        }
    };
}
persist_tuple!(0 A);
persist_tuple!(0 A, 1 B);
persist_tuple!(0 A, 1 B, 2 C);
persist_tuple!(0 A, 1 B, 2 C, 3 D);
persist_tuple!(0 A, 1 B, 2 C, 3 D, 4 E);
persist_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F);
persist_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G);
persist_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{array as da, bag as db, value};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn schedulers() -> [Scheduler; 2] {
        [Scheduler::sync(), Scheduler::threads(2)]
    }

    #[test]
    fn held_work_is_not_done_again() {
        for s in schedulers() {
            let runs = Arc::new(AtomicUsize::new(0));
            let r = runs.clone();
            let x = value(20).map(move |x| {
                r.fetch_add(1, Ordering::SeqCst);
                x + 1
            });
            let r = runs.clone();
            let b = db::from_sequence(1..=10_u64, 3).unwrap().map(move |x| {
                r.fetch_add(1, Ordering::SeqCst);
                x * x
            });
            let (hx, hb) = persist_with((&x, &b), s.clone()).unwrap();
            assert_eq!(runs.load(Ordering::SeqCst), 11);
            assert_eq!(hx.key(), x.key());
            for _ in 0..2 {
                assert_eq!(hx.map(|x| x * 2).compute_with(s.clone()).unwrap(), 42);
                assert_eq!(hb.sum().compute_with(s.clone()).unwrap(), 385);
                assert_eq!(hb.count().compute_with(s.clone()).unwrap(), 10);
                assert_eq!(hb.npartitions(), b.npartitions());
            }
            assert_eq!(runs.load(Ordering::SeqCst), 11);
            // the originals still compute from scratch
            assert_eq!(b.sum().compute_with(s.clone()).unwrap(), 385);
            assert_eq!(runs.load(Ordering::SeqCst), 21);
        }
    }

    #[test]
    fn every_collection_gives_what_it_gave() {
        for s in schedulers() {
            let x = da::random::random(&[60, 40], &[25, 15], 3).unwrap();
            let hx = x.persist_with(s.clone()).unwrap();
            assert_eq!(hx.compute().unwrap(), x.compute().unwrap());
            assert_eq!(hx.chunks(), x.chunks());
            assert_eq!(
                hx.sum().compute().unwrap().to_bits(),
                x.sum().compute().unwrap().to_bits()
            );
            let df = db::from_sequence((0..50).map(|i| (i as f64, i % 3)).collect::<Vec<_>>(), 4)
                .unwrap()
                .to_dataframe(&["x", "k"])
                .unwrap();
            let hdf = df.persist_with(s.clone()).unwrap();
            assert_eq!(hdf.compute().unwrap(), df.compute().unwrap());
            assert_eq!(
                hdf.describe().compute().unwrap(),
                df.describe().compute().unwrap()
            );
            // text stays text: the column path of split and frequencies
            let dir = std::env::temp_dir().join(format!("dagr-persist-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("a.txt"), "the cat\nthe dog\n").unwrap();
            std::fs::write(dir.join("b.txt"), "a cat\n").unwrap();
            let t = db::read_text(&format!("{}/*.txt", dir.display())).unwrap();
            let ht = t.persist_with(s.clone()).unwrap();
            let f =
                |b: &db::Bag<String>| b.str().split().flatten().frequencies().compute().unwrap();
            assert_eq!(f(&ht), f(&t));
            assert_eq!(ht.compute().unwrap(), vec!["the cat", "the dog", "a cat"]);
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    #[test]
    fn held_values_go_with_the_last_handle_and_failures_are_errors() {
        struct Counted(Arc<AtomicUsize>);
        impl Clone for Counted {
            fn clone(&self) -> Self {
                Counted(self.0.clone())
            }
        }
        impl Drop for Counted {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let x = value(0).map(move |_| Counted(d.clone()));
        let held = x.persist().unwrap();
        let seen = drops.load(Ordering::SeqCst);
        let again = held.clone();
        drop(held);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            seen,
            "a handle still holds it"
        );
        drop(again);
        assert_eq!(drops.load(Ordering::SeqCst), seen + 1);
        // a failing task and a failed array are errors, not held
        let bad = value(1).map(|x: i32| -> i32 {
            if x == 1 {
                panic!("no")
            } else {
                x
            }
        });
        assert!(bad.persist().unwrap_err().to_string().contains("no"));
        let a = da::ones::<f64>(&[4], &[2]).unwrap();
        let b = da::ones::<f64>(&[5], &[5]).unwrap();
        assert!((&a + &b).persist().is_err());
    }
}
