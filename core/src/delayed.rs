//! `Delayed<T>`: a typed handle on a node of the lazy DAG.

use crate::node::{new_node, new_wired_node, Deps, NodeKind, NodeRef};
use crate::plan::plan;
use crate::tokenize::fresh_token;
use crate::Error;
use dagr_runtime::{Key, Scheduler, Value};
use std::fmt;
use std::marker::PhantomData;

/// What a lazy value may hold: owned, shareable across threads, cloneable (a value with
/// several consumers is shared by reference and cloned only for a consumer that must own it
/// while others still need it).
pub trait Data: Clone + Send + Sync + 'static {}
impl<T: Clone + Send + Sync + 'static> Data for T {}

/// A lazy value of type `T`: a cheap, cloneable handle on a node of an immutable, shared
/// task graph. Nothing runs until [`Delayed::compute`].
///
/// | dagr | Dask |
/// |---|---|
/// | `#[delayed] fn inc(..)` then `inc(1)` | `delayed(inc)(1)` |
/// | `dagr::value(x)` | `delayed(x)` |
/// | `d.compute()?` | `d.compute()` |
/// | `dagr::compute((&a, &b))?` | `dask.compute(a, b)` |
///
/// ```
/// use dagr::{value, Delayed};
/// let x: Delayed<i64> = value(20);
/// let y = x.map(|v| v + 1).map(|v| v * 2);
/// assert_eq!(y.compute().unwrap(), 42);
/// ```
pub struct Delayed<T> {
    pub(crate) node: NodeRef,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Delayed<T> {
    fn clone(&self) -> Self {
        Delayed::from_node(self.node.clone())
    }
}

impl<T> fmt::Debug for Delayed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Delayed({})", self.node.key())
    }
}

impl<T> Delayed<T> {
    pub(crate) fn from_node(node: NodeRef) -> Self {
        Delayed {
            node,
            _type: PhantomData,
        }
    }

    /// The key of this value's task (`inc-1f3a…`), as errors, pictures and profiles show it.
    pub fn key(&self) -> &Key {
        self.node.key()
    }

    /// Number of tasks this value depends on, itself included (shared ones counted once).
    ///
    /// ```
    /// let a = dagr::value(1_i64);
    /// let b = a.map(|x| x + 1);
    /// let c = dagr::map2(&a, &b, |x, y| x + y);
    /// assert_eq!(c.num_tasks(), 3);
    /// ```
    pub fn num_tasks(&self) -> usize {
        crate::plan::count(&[&self.node])
    }
}

impl<T: Data> Delayed<T> {
    /// Computes the value on the default scheduler (the work-stealing pool).
    ///
    /// A panicking or failing task comes back as [`Error::TaskPanicked`] or
    /// [`Error::TaskFailed`] naming its key.
    pub fn compute(&self) -> Result<T, Error> {
        self.compute_with(Scheduler::default())
    }

    /// Computes the value on the given scheduler.
    ///
    /// ```
    /// use dagr::{value, Scheduler};
    /// let x = value(2_i64).map(|v| v * 21);
    /// assert_eq!(x.compute_with(Scheduler::sync()).unwrap(), 42);
    /// assert_eq!(x.compute_with(Scheduler::threads(2)).unwrap(), 42);
    /// ```
    pub fn compute_with(&self, scheduler: Scheduler) -> Result<T, Error> {
        let p = plan(&[&self.node], scheduler.is_distributed())?;
        let mut out = scheduler.run(p.graph, &p.outputs)?;
        let v = out.pop().ok_or_else(|| self.type_error())?;
        self.extract(v)
    }

    /// Computes the value once and returns a lazy value holding it, under the same key
    /// (Dask: `Delayed.persist`); see [`crate::persist`].
    ///
    /// ```
    /// let x = dagr::value(20).map(|x| x + 1).persist()?;
    /// assert_eq!(x.map(|x| x * 2).compute()?, 42); // from the held 21
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn persist(&self) -> Result<Delayed<T>, Error> {
        crate::persist::persist(self)
    }

    /// [`Delayed::persist`] on the given scheduler.
    pub fn persist_with(&self, scheduler: Scheduler) -> Result<Delayed<T>, Error> {
        crate::persist::persist_with(self, scheduler)
    }

    pub(crate) fn extract(&self, v: Value) -> Result<T, Error> {
        v.take::<T>().map_err(|_| self.type_error())
    }

    fn type_error(&self) -> Error {
        Error::OutputType {
            key: self.key().clone(),
            expected: std::any::type_name::<T>(),
        }
    }

    /// A lazy value that applies `f` to this one (Dask: `delayed(f)(x)`).
    pub fn map<U: Data>(&self, f: impl Fn(T) -> U + Send + Sync + 'static) -> Delayed<U> {
        let body = move |inputs: &mut dagr_runtime::Inputs<'_>| -> dagr_runtime::TaskResult {
            let x = inputs.take::<T>(0)?;
            Ok(Value::new(f(x)))
        };
        Delayed::from_node(new_wired_node(
            Key::token("map", fresh_token()),
            Deps::one(self.node.clone()),
            NodeKind::Call,
            false,
            Some(crate::wire::known_wire::<U>()),
            body,
        ))
    }
}

/// A plain value as a node of the graph (Dask: `delayed(x)`).
///
/// ```
/// let d = dagr::value(vec![1, 2, 3]);
/// assert_eq!(d.compute().unwrap(), vec![1, 2, 3]);
/// ```
pub fn value<T: Data>(x: T) -> Delayed<T> {
    let v: Value = Value::new(x);
    let body =
        move |_: &mut dagr_runtime::Inputs<'_>| -> dagr_runtime::TaskResult { Ok(v.clone()) };
    Delayed::from_node(new_node(
        Key::token("value", fresh_token()),
        Deps::none(),
        NodeKind::Data,
        false,
        body,
    ))
}

/// A lazy value combining two others with `f`.
///
/// ```
/// let s = dagr::map2(&dagr::value(1), &dagr::value(2), |a: i32, b: i32| a + b);
/// assert_eq!(s.compute().unwrap(), 3);
/// ```
pub fn map2<A: Data, B: Data, U: Data>(
    a: &Delayed<A>,
    b: &Delayed<B>,
    f: impl Fn(A, B) -> U + Send + Sync + 'static,
) -> Delayed<U> {
    let body = move |inputs: &mut dagr_runtime::Inputs<'_>| -> dagr_runtime::TaskResult {
        let x = inputs.take::<A>(0)?;
        let y = inputs.take::<B>(1)?;
        Ok(Value::new(f(x, y)))
    };
    Delayed::from_node(new_wired_node(
        Key::token("map2", fresh_token()),
        Deps::two(a.node.clone(), b.node.clone()),
        NodeKind::Call,
        false,
        Some(crate::wire::known_wire::<U>()),
        body,
    ))
}
