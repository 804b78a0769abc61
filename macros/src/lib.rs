//! dagr's procedural macros, `#[delayed]` and `graph!`. Use them through the `dagr` crate
//! (`dagr::prelude::*`), whose `__private` module the generated code names.

mod delayed;
mod errors;
mod graph;
mod options;

use proc_macro::TokenStream;

/// Makes a free function lazy: calling it records a task in a graph instead of running it.
///
/// ```ignore
/// use dagr::prelude::*;
///
/// /// Adds two numbers.
/// #[delayed]
/// fn add(x: i64, y: i64) -> i64 {
///     x + y
/// }
///
/// let a = add(1, 2);           // a `Delayed<i64>`: nothing ran yet
/// let b = add(&a, 10);         // arguments may be values or other delayed values
/// assert_eq!(b.compute()?, 13);
/// assert_eq!(add::eager(1, 2), 3); // the original function
/// # Ok::<(), dagr::Error>(())
/// ```
///
/// Each argument of type `T` accepts a `T`, a `Delayed<T>` or a `&Delayed<T>` (and a
/// `Vec<Delayed<X>>` or `&Vec<Delayed<X>>` for a `Vec<X>`, a `&str` for a `String`). A function returning a `Result` (any type whose path
/// ends in `Result`) gives a `Delayed` of its `Ok` type; its error surfaces from `compute`.
///
/// # Options
///
/// - `#[delayed(pure)]`: the function is deterministic, so identical calls share one key
///   (and one task): the key hashes the arguments, which must then implement
///   `dagr::Tokenize` (or be `Delayed` values, named by their keys).
/// - `#[delayed(name = "load")]`: the key prefix, `load-<token>`; the function's name when
///   absent.
///
/// They combine: `#[delayed(pure, name = "load")]`.
///
/// # Requirements
///
/// Arguments and result are moved through the graph, so they must be owned values that are
/// `Clone + Send + Sync + 'static`: take `String` rather than `&str`, `Vec<T>` rather than
/// `&[T]`. The function cannot be `async`, `unsafe`, `extern`, a method, take `impl Trait`
/// or lifetime parameters. Generic type parameters get the bounds above.
///
/// `name::eager` is the original function (it lives in a hidden, uninhabited `enum name {}`
/// next to the lazy function, so it works in modules and blocks alike). Inside its own body,
/// the function's name is the lazy function: recurse with `name::eager(..)`.
///
/// A generic parameter given a lazy argument cannot tell `T` from `Delayed<T>`: name the
/// type, `describe::<i64>(x)`.
#[proc_macro_attribute]
pub fn delayed(args: TokenStream, input: TokenStream) -> TokenStream {
    delayed::expand(args.into(), input.into()).into()
}

/// Declares a pipeline of functions whose wiring is checked at compile time.
///
/// The block evaluates to a `dagr::Pipeline<Inputs, Output>`: a `Copy` value (it can be a
/// `static`) computed any number of times with new inputs by `compute(inputs..)` or
/// `compute_with(scheduler, inputs..)`. Each computation builds one task graph of the
/// nodes and runs it on the same runtime as `Delayed` values, independent nodes in
/// parallel. Runnable examples are in the `dagr` crate's documentation of `graph!`.
///
/// # Statements
///
/// ```text
/// input x: i64;               // an input: compute's arguments follow the input order
/// a = inc(x);                 // a node: a #[delayed] function over earlier names...
/// c = add(a, b);              // ...in any order: the macro sorts the nodes
/// b = util::double(x);        // paths and turbofish (`describe::<i64>(x)`) work
/// n = plain count(a, 10);     // `plain`: a function that is not #[delayed]
/// t = total([a, b, c]);       // `[..]`: several values collected into a Vec (or array)
/// _log = plain show(t);       // `_`: no output depends on it; computed anyway
/// output (c, t);              // the output: `output c;` for one value, a tuple for several
/// ```
///
/// An argument is a name of the graph, a literal (`10`, `-1.5`, `"text"`), a constant's
/// path (`i64::MAX`; a single identifier is always a name of the graph) or a list of
/// those in brackets. A name may be used any number of times.
///
/// # Functions
///
/// A `#[delayed]` function is called through its original function `name::eager`, with
/// the values of its arguments. A function that is not `#[delayed]` is marked `plain` and
/// called as written; without the marker rustc reports "cannot find module or crate
/// `name`" at it, since `name::eager` does not exist. Either kind takes its arguments by
/// value. A node whose function returns a `Result<T, E>` holds the `T`; an `Err` fails the
/// computation, reported with the node's name, as a panic is. A function is a path to a
/// function item: a pipeline captures nothing (it is a function pointer), so a local
/// closure cannot be a node.
///
/// Inputs are moved into the graph and moved into their last consumer; a value is cloned
/// only for the consumers before the last one. Inputs, node values and outputs must be
/// `Clone + Send + Sync + 'static`.
///
/// # Checked at compile time
///
/// Each error points at the offending token, and all are reported at once: a name used but
/// not defined (with "did you mean `a`?" when one is close), a cycle (its path
/// `a -> b -> c -> a`, at each edge), a name defined twice (and where first), a node
/// shadowing an input, an input or node no output depends on (a leading `_` opts out), a
/// missing or repeated `output` statement, an output that is not defined, malformed
/// statements (with the accepted forms), more than 12 inputs. Type mismatches between
/// nodes are ordinary rustc errors at the argument in the block.
#[proc_macro]
pub fn graph(input: TokenStream) -> TokenStream {
    graph::expand(input.into()).into()
}
