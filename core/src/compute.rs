//! Computing several lazy values at once, sharing the work they have in common.

use crate::delayed::{Data, Delayed};
use crate::node::NodeRef;
use crate::plan::plan;
use crate::Error;
use dagr_runtime::{Scheduler, Value};

/// The graph nodes a [`Computable`] asks for (opaque).
#[doc(hidden)]
pub struct Outputs<'a>(
    pub(crate) Vec<NodeRef>,
    pub(crate) std::marker::PhantomData<&'a ()>,
);

impl Outputs<'_> {
    pub(crate) fn new() -> Self {
        Outputs(Vec::new(), std::marker::PhantomData)
    }

    /// The nodes, in order.
    pub(crate) fn refs(&self) -> Vec<&NodeRef> {
        self.0.iter().collect()
    }
}

/// An output's value as a `T`, or an error naming the output by `key`.
pub(crate) fn take_output<T: Data>(
    values: &mut std::vec::IntoIter<Value>,
    key: impl FnOnce() -> dagr_runtime::Key,
) -> Result<T, Error> {
    match values.next().map(|v| v.take::<T>()) {
        Some(Ok(v)) => Ok(v),
        _ => Err(Error::OutputType {
            key: key(),
            expected: std::any::type_name::<T>(),
        }),
    }
}

/// Something [`compute`], [`crate::visualize`] and [`crate::to_dot`] accept: a
/// `&Delayed<T>`, an [`Array`](crate::array::Array), a [`Bag`](crate::bag::Bag), a
/// [`DataFrame`](crate::dataframe::DataFrame), a slice or `Vec` of one of them, or a tuple
/// of up to 8 such things.
pub trait Computable {
    /// What computing it gives.
    type Output;
    #[doc(hidden)]
    fn collect_nodes<'a>(&'a self, out: &mut Outputs<'a>);
    #[doc(hidden)]
    fn extract(&self, values: &mut std::vec::IntoIter<Value>) -> Result<Self::Output, Error>;
}

impl<T: Data> Computable for Delayed<T> {
    type Output = T;
    fn collect_nodes<'a>(&'a self, out: &mut Outputs<'a>) {
        out.0.push(self.node.clone());
    }
    fn extract(&self, values: &mut std::vec::IntoIter<Value>) -> Result<T, Error> {
        match values.next() {
            Some(v) => Delayed::extract(self, v),
            None => Err(Error::OutputType {
                key: self.key().clone(),
                expected: std::any::type_name::<T>(),
            }),
        }
    }
}

impl<C: Computable + ?Sized> Computable for &C {
    type Output = C::Output;
    fn collect_nodes<'a>(&'a self, out: &mut Outputs<'a>) {
        (**self).collect_nodes(out)
    }
    fn extract(&self, values: &mut std::vec::IntoIter<Value>) -> Result<C::Output, Error> {
        (**self).extract(values)
    }
}

impl<C: Computable> Computable for [C] {
    type Output = Vec<C::Output>;
    fn collect_nodes<'a>(&'a self, out: &mut Outputs<'a>) {
        self.iter().for_each(|c| c.collect_nodes(out))
    }
    fn extract(&self, values: &mut std::vec::IntoIter<Value>) -> Result<Self::Output, Error> {
        self.iter().map(|c| c.extract(values)).collect()
    }
}

impl<C: Computable> Computable for Vec<C> {
    type Output = Vec<C::Output>;
    fn collect_nodes<'a>(&'a self, out: &mut Outputs<'a>) {
        self[..].collect_nodes(out)
    }
    fn extract(&self, values: &mut std::vec::IntoIter<Value>) -> Result<Self::Output, Error> {
        self[..].extract(values)
    }
}

macro_rules! computable_tuple {
    ($($n:tt $t:ident),+) => {
        impl<$($t: Computable),+> Computable for ($($t,)+) {
            type Output = ($($t::Output,)+);
            fn collect_nodes<'a>(&'a self, out: &mut Outputs<'a>) {
                $(self.$n.collect_nodes(out);)+
            }
            fn extract(&self, values: &mut std::vec::IntoIter<Value>) -> Result<Self::Output, Error> {
                Ok(($(self.$n.extract(values)?,)+))
            }
        }
    };
}
computable_tuple!(0 A);
computable_tuple!(0 A, 1 B);
computable_tuple!(0 A, 1 B, 2 C);
computable_tuple!(0 A, 1 B, 2 C, 3 D);
computable_tuple!(0 A, 1 B, 2 C, 3 D, 4 E);
computable_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F);
computable_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G);
computable_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H);

/// Computes several lazy values in one run (Dask: `dask.compute(a, b)`): tasks they share
/// run once.
///
/// ```
/// use dagr::{compute, value};
/// let x = value(10_i64).map(|v| v + 1);    // shared
/// let a = x.map(|v| v * 2);
/// let b = x.map(|v| v * 3);
/// let (a, b) = compute((&a, &b)).unwrap();
/// assert_eq!((a, b), (22, 33));
/// let all = compute(&vec![value(1), value(2)]).unwrap();
/// assert_eq!(all, vec![1, 2]);
/// ```
pub fn compute<C: Computable>(what: C) -> Result<C::Output, Error> {
    compute_with(what, Scheduler::default())
}

/// [`compute`] on the given scheduler.
///
/// ```
/// use dagr::{compute_with, value, Scheduler};
/// let (a, b) = compute_with((&value(1), &value("x")), Scheduler::sync()).unwrap();
/// assert_eq!((a, b), (1, "x"));
/// ```
pub fn compute_with<C: Computable>(what: C, scheduler: Scheduler) -> Result<C::Output, Error> {
    let mut nodes = Outputs::new();
    what.collect_nodes(&mut nodes);
    let p = plan(&nodes.refs(), scheduler.is_distributed())?;
    let values = scheduler.run(p.graph, &p.outputs)?;
    what.extract(&mut values.into_iter())
}

/// Computes `what` on every rank of `cluster` with its values delivered to `rank` only
/// (Dask: a result gathered to one client): that rank gets `Some`, the others `None`. Use it
/// for large outputs, which [`Cluster::scheduler`](dagr_runtime::distributed::Cluster::scheduler)
/// would send to every rank.
///
/// ```no_run
/// use dagr::array as da;
/// use dagr::runtime::distributed::Cluster;
/// let cluster = Cluster::init()?;
/// let x = da::random::random(&[4000, 4000], &[1000, 1000], 1)?;
/// if let Some(full) = dagr::compute_on(&x, &cluster, 0)? {
///     println!("{} values on rank 0", full.len());
/// }
/// # Ok::<(), dagr::Error>(())
/// ```
#[cfg(feature = "mpi")]
pub fn compute_on<C: Computable>(
    what: C,
    cluster: &dagr_runtime::distributed::Cluster,
    rank: usize,
) -> Result<Option<C::Output>, Error> {
    let mut nodes = Outputs::new();
    what.collect_nodes(&mut nodes);
    let p = plan(&nodes.refs(), true)?;
    let values = cluster.scheduler_to_rank(rank).run(p.graph, &p.outputs)?;
    if cluster.rank() != rank.min(cluster.size() - 1) {
        return Ok(None);
    }
    what.extract(&mut values.into_iter()).map(Some)
}
