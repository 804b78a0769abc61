//! [`Pipeline`]: the reusable value a `graph!` block evaluates to.
//!
//! A pipeline is a function pointer (the expansion of the block, which builds and runs one
//! task graph per call) and the static picture of its wiring. It holds no data, so it is
//! `Copy`, can live in a `static`, and is computed any number of times with new inputs.

use crate::Error;
use dagr_runtime::Scheduler;
use std::fmt;

/// A pipeline of functions wired by `dagr::graph!`, computed with new inputs at each call.
///
/// `I` is the tuple of the input types, in the order the `input` statements declare them;
/// `O` is the output: the value of the one output, or the tuple of several. Each call of
/// [`compute`](Pipeline::compute) builds a task graph of the pipeline's nodes and runs it on
/// the same runtime as [`Delayed`](crate::Delayed) values, independent nodes in parallel.
///
/// | dagr | Dask |
/// |---|---|
/// | `let p = graph! { input x: i64; a = inc(x); output a; }` | a function building a `delayed` graph |
/// | `p.compute(5)?` | `f(5).compute()` |
/// | `p.compute_with(Scheduler::sync(), 5)?` | `f(5).compute(scheduler="synchronous")` |
///
/// ```
/// use dagr::prelude::*;
///
/// #[delayed]
/// fn inc(x: i64) -> i64 { x + 1 }
/// #[delayed]
/// fn add(x: i64, y: i64) -> i64 { x + y }
///
/// // A pipeline is `Copy` and can be a `static`: its type names the inputs and the output.
/// static PIPELINE: dagr::Pipeline<(i64, i64), i64> = graph! {
///     input x: i64;
///     input y: i64;
///     a = inc(x);
///     s = add(a, y);
///     output s;
/// };
/// assert_eq!(PIPELINE.compute(1, 10)?, 12);
/// assert_eq!(PIPELINE.compute(2, 20)?, 23);
/// # Ok::<(), dagr::Error>(())
/// ```
pub struct Pipeline<I, O> {
    run: fn(Scheduler, I) -> Result<O, Error>,
    dot: &'static str,
    signature: &'static str,
}

impl<I, O> Pipeline<I, O> {
    /// Wraps the expansion of a `graph!` block. Not a stable API: use `graph!`.
    #[doc(hidden)]
    pub const fn new(
        run: fn(Scheduler, I) -> Result<O, Error>,
        dot: &'static str,
        signature: &'static str,
    ) -> Self {
        Pipeline {
            run,
            dot,
            signature,
        }
    }

    /// What `graph!` expands to beside its compile errors: a pipeline of the declared
    /// input types that is never computed (the program does not compile). Not a stable API.
    #[doc(hidden)]
    pub const fn stub() -> Self {
        fn never<I, O>(_: Scheduler, _: I) -> Result<O, Error> {
            unreachable!("a `graph!` block with compile errors is never computed")
        }
        Pipeline::new(never::<I, O>, "", "")
    }

    /// The pipeline's wiring as Graphviz DOT text: inputs are boxes, nodes are ellipses
    /// labelled with their definition, outputs have a double border, edges go from an input
    /// to its consumers. It is the static structure, known at compile time.
    ///
    /// ```
    /// use dagr::prelude::*;
    ///
    /// #[delayed]
    /// fn inc(x: i64) -> i64 { x + 1 }
    ///
    /// let pipeline = graph! { input x: i64; a = inc(x); output a; };
    /// let dot = pipeline.to_dot();
    /// assert!(dot.starts_with("digraph"));
    /// assert!(dot.contains("label=\"a = inc(x)\""));
    /// ```
    pub fn to_dot(&self) -> String {
        self.dot.to_owned()
    }
}

impl<I, O> Clone for Pipeline<I, O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I, O> Copy for Pipeline<I, O> {}

impl<I, O> fmt::Debug for Pipeline<I, O> {
    /// Shows the pipeline's signature: `Pipeline(x: i64, ys: Vec<i64>) -> (c, s)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pipeline{}", self.signature)
    }
}

/// `compute` and `compute_with` for pipelines of one arity: the inputs are separate
/// arguments, in the order of the `input` statements.
macro_rules! pipeline_arity {
    ($($input:ident: $ty:ident),*) => {
        impl<$($ty,)* O> Pipeline<($($ty,)*), O> {
            /// Computes the outputs from these inputs on the default scheduler (the
            /// work-stealing pool). A node that panics or returns an `Err` comes back as
            /// [`Error::TaskPanicked`] or [`Error::TaskFailed`] naming the node.
            ///
            /// See [`Pipeline`] for an example.
            #[allow(clippy::too_many_arguments)]
            pub fn compute(&self $(, $input: $ty)*) -> Result<O, Error> {
                (self.run)(Scheduler::default(), ($($input,)*))
            }

            /// Computes the outputs from these inputs on the given scheduler.
            ///
            /// See [`Pipeline`] for an example.
            #[allow(clippy::too_many_arguments)]
            pub fn compute_with(&self, scheduler: Scheduler $(, $input: $ty)*) -> Result<O, Error> {
                (self.run)(scheduler, ($($input,)*))
            }
        }
    };
}

// Up to 12 inputs, as many as `graph!` accepts.
pipeline_arity!();
pipeline_arity!(a: A);
pipeline_arity!(a: A, b: B);
pipeline_arity!(a: A, b: B, c: C);
pipeline_arity!(a: A, b: B, c: C, d: D);
pipeline_arity!(a: A, b: B, c: C, d: D, e: E);
pipeline_arity!(a: A, b: B, c: C, d: D, e: E, f: F);
pipeline_arity!(a: A, b: B, c: C, d: D, e: E, f: F, g: G);
pipeline_arity!(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H);
pipeline_arity!(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H, i: J);
pipeline_arity!(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H, i: J, j: K);
pipeline_arity!(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H, i: J, j: K, k: L);
pipeline_arity!(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H, i: J, j: K, k: L, l: M);
