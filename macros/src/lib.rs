//! dagr's procedural macros. Use them through the `dagr` crate (`dagr::prelude::*`),
//! whose `__private` module the generated code names.

mod delayed;
mod errors;
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
/// `Vec<Delayed<X>>` for a `Vec<X>`). A function returning a `Result` (any type whose path
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
