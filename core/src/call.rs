//! What `#[delayed]` expands to: building one call node from plain and lazy arguments.
//!
//! Each argument of a `#[delayed]` function accepts a plain `A`, a `Delayed<A>`, a
//! `&Delayed<A>`; for a `Vec<X>` parameter, a `Vec<Delayed<X>>` or a `&Vec<Delayed<X>>`
//! (`&[Delayed<X>]`); for a `String` parameter, a `&str`. [`IntoArg`] turns each
//! into an [`ArgSlot`]: a captured constant, or the position of a dependency among the node's
//! inputs. The node's body reads its slots back in argument order.

use crate::delayed::{Data, Delayed};
use crate::node::{new_wired_node, Deps, NodeKind, NodeRef};
use crate::tokenize::{fresh_token, TokenHasher, Tokenize};
use dagr_runtime::{BoxError, Inputs, Key, TaskError, TaskResult};
use std::sync::Arc;

/// Collects the arguments of one call and builds its node.
///
/// ```
/// use dagr::private::CallBuilder;
/// use dagr::value;
/// let mut b = CallBuilder::new("add", false);
/// let x = b.arg::<i64, _>(1);
/// let y = b.arg::<i64, _>(value(2_i64));
/// let sum = b.finish(move |inp| Ok(x.get(inp)? + y.get(inp)?));
/// assert_eq!(sum.compute().unwrap(), 3);
/// assert_eq!(sum.key().prefix(), "add");
/// ```
pub struct CallBuilder {
    name: &'static str,
    deps: Deps,
    token: Option<TokenHasher>,
    wire: Option<dagr_runtime::Wire>,
}

/// Where a call finds one argument when it runs.
///
/// A slot of an argument of at most 8 bytes takes 16: every call node holds one per
/// argument.
pub enum ArgSlot<T> {
    /// A plain value given at the call.
    Const(T),
    /// The result of the dependency at this position (positions are `u32`, as in the
    /// runtime's graphs).
    Dep(u32),
    /// Several dependencies collected into a `Vec` (out of line: rare, and it would
    /// otherwise widen every slot).
    List(Box<ListSlot<T>>),
}

/// Where a call finds an argument made of several dependencies.
pub struct ListSlot<T> {
    /// Position of the first.
    pub start: u32,
    /// How many.
    pub len: u32,
    /// Builds the argument from the inputs.
    pub collect: fn(&mut Inputs<'_>, usize, usize) -> Result<T, TaskError>,
}

impl<T: Data> ArgSlot<T> {
    /// The argument's value, owned: moved out of the input when this call is its last
    /// consumer, cloned otherwise.
    #[inline]
    pub fn get(&self, inputs: &mut Inputs<'_>) -> Result<T, TaskError> {
        match self {
            ArgSlot::Const(v) => Ok(v.clone()),
            ArgSlot::Dep(i) => inputs.take::<T>(*i as usize),
            ArgSlot::List(list) => (list.collect)(inputs, list.start as usize, list.len as usize),
        }
    }
}

/// An argument of a `#[delayed]` function expecting a `T`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the argument of a `{T}` parameter of a `#[delayed]` function",
    label = "expected a `{T}`, a `Delayed<{T}>` or a `&Delayed<{T}>`",
    note = "a parameter of type `T` accepts a `T`, a `Delayed<T>` or a `&Delayed<T>`; \
            a `Vec<X>` parameter also a `Vec<Delayed<X>>` or a `&Vec<Delayed<X>>`, \
            a `String` parameter also a `&str`"
)]
pub trait IntoArg<T> {
    /// Registers the argument with the call being built.
    fn into_arg(self, b: &mut CallBuilder) -> ArgSlot<T>;
}

/// An argument of a `#[delayed(pure)]` function: it also names itself in the call's token.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the argument of a `{T}` parameter of a `#[delayed(pure)]` function",
    label = "expected a `{T}` that implements `Tokenize`, a `Delayed<{T}>` or a `&Delayed<{T}>`",
    note = "a parameter of type `T` accepts a `T`, a `Delayed<T>` or a `&Delayed<T>`; \
            a `Vec<X>` parameter also a `Vec<Delayed<X>>` or a `&Vec<Delayed<X>>`, \
            a `String` parameter also a `&str`; a plain value of a `pure` function must \
            implement `Tokenize`, which names it in the call's key"
)]
pub trait PureArg<T>: IntoArg<T> {
    /// Feeds the argument's identity into the call's token.
    fn tokenize_arg(&self, h: &mut TokenHasher);
}

impl<T: Data> IntoArg<T> for T {
    fn into_arg(self, _: &mut CallBuilder) -> ArgSlot<T> {
        ArgSlot::Const(self)
    }
}

impl<T: Data + Tokenize> PureArg<T> for T {
    fn tokenize_arg(&self, h: &mut TokenHasher) {
        h.write(&0u8);
        self.tokenize(h);
    }
}

impl<T: Data> IntoArg<T> for Delayed<T> {
    fn into_arg(self, b: &mut CallBuilder) -> ArgSlot<T> {
        ArgSlot::Dep(b.push(self.node))
    }
}

impl<T: Data> PureArg<T> for Delayed<T> {
    fn tokenize_arg(&self, h: &mut TokenHasher) {
        tokenize_key(self.key(), h);
    }
}

impl<T: Data> IntoArg<T> for &Delayed<T> {
    fn into_arg(self, b: &mut CallBuilder) -> ArgSlot<T> {
        ArgSlot::Dep(b.push(self.node.clone()))
    }
}

impl<T: Data> PureArg<T> for &Delayed<T> {
    fn tokenize_arg(&self, h: &mut TokenHasher) {
        tokenize_key(self.key(), h);
    }
}

impl<X: Data> IntoArg<Vec<X>> for Vec<Delayed<X>> {
    fn into_arg(self, b: &mut CallBuilder) -> ArgSlot<Vec<X>> {
        let start = b.deps.len() as u32;
        let len = self.len() as u32;
        b.deps.extend(self.into_iter().map(|d| d.node));
        ArgSlot::List(Box::new(ListSlot {
            start,
            len,
            collect: collect_list::<X>,
        }))
    }
}

impl<X: Data> PureArg<Vec<X>> for Vec<Delayed<X>> {
    fn tokenize_arg(&self, h: &mut TokenHasher) {
        h.write(&2u8);
        h.write(&self.len());
        self.iter().for_each(|d| tokenize_key(d.key(), h));
    }
}

impl<X: Data> IntoArg<Vec<X>> for &Vec<Delayed<X>> {
    fn into_arg(self, b: &mut CallBuilder) -> ArgSlot<Vec<X>> {
        self.as_slice().into_arg(b)
    }
}

impl<X: Data> PureArg<Vec<X>> for &Vec<Delayed<X>> {
    fn tokenize_arg(&self, h: &mut TokenHasher) {
        self.as_slice().tokenize_arg(h)
    }
}

impl<X: Data> IntoArg<Vec<X>> for &[Delayed<X>] {
    fn into_arg(self, b: &mut CallBuilder) -> ArgSlot<Vec<X>> {
        let start = b.deps.len() as u32;
        let len = self.len() as u32;
        b.deps.extend(self.iter().map(|d| d.node.clone()));
        ArgSlot::List(Box::new(ListSlot {
            start,
            len,
            collect: collect_list::<X>,
        }))
    }
}

impl<X: Data> PureArg<Vec<X>> for &[Delayed<X>] {
    fn tokenize_arg(&self, h: &mut TokenHasher) {
        h.write(&2u8);
        h.write(&self.len());
        self.iter().for_each(|d| tokenize_key(d.key(), h));
    }
}

impl IntoArg<String> for &str {
    fn into_arg(self, _: &mut CallBuilder) -> ArgSlot<String> {
        ArgSlot::Const(self.to_owned())
    }
}

impl PureArg<String> for &str {
    fn tokenize_arg(&self, h: &mut TokenHasher) {
        // as the same text given as a `String`
        self.to_string().tokenize_arg(h)
    }
}

/// An argument that cannot exist, accepted for every parameter: `#[delayed]` names its lazy
/// function as `fn(NeverArg, ..) -> _` inside `name::eager`, so that code calling only
/// `name::eager` (as `graph!` does) counts as a use of the function, without a type
/// requirement that could fail.
pub enum NeverArg {}

impl<T> IntoArg<T> for NeverArg {
    fn into_arg(self, _: &mut CallBuilder) -> ArgSlot<T> {
        match self {}
    }
}

impl<T> PureArg<T> for NeverArg {
    fn tokenize_arg(&self, _: &mut TokenHasher) {
        match *self {}
    }
}

fn tokenize_key(key: &Key, h: &mut TokenHasher) {
    h.write(&1u8);
    h.write(&key.prefix());
    h.write(&key.token_value());
    h.write(&key.index_value());
}

fn collect_list<X: Data>(
    inputs: &mut Inputs<'_>,
    start: usize,
    len: usize,
) -> Result<Vec<X>, TaskError> {
    (start..start + len).map(|i| inputs.take::<X>(i)).collect()
}

impl CallBuilder {
    /// Starts a call of the function `name`; `pure` calls are named by their arguments.
    pub fn new(name: &'static str, pure: bool) -> Self {
        CallBuilder {
            name,
            deps: Deps::none(),
            token: pure.then(|| TokenHasher::new(name)),
            wire: None,
        }
    }

    /// Sets how the result crosses between processes (the macro probes the return type).
    #[inline]
    pub fn with_wire(mut self, wire: Option<dagr_runtime::Wire>) -> Self {
        self.wire = wire;
        self
    }

    fn push(&mut self, node: NodeRef) -> u32 {
        self.deps.push(node);
        self.deps.len() as u32 - 1
    }

    /// Registers an argument.
    #[inline]
    pub fn arg<T: Data, A: IntoArg<T>>(&mut self, a: A) -> ArgSlot<T> {
        a.into_arg(self)
    }

    /// Registers an argument of a pure call.
    #[inline]
    pub fn pure_arg<T: Data, A: PureArg<T>>(&mut self, a: A) -> ArgSlot<T> {
        if let Some(h) = &mut self.token {
            a.tokenize_arg(h);
        }
        a.into_arg(self)
    }

    /// Builds the call's node around its body.
    pub fn finish<R, F>(self, f: F) -> Delayed<R>
    where
        R: Data,
        F: Fn(&mut Inputs<'_>) -> Result<R, TaskError> + Send + Sync + 'static,
    {
        let pure = self.token.is_some();
        let token = self.token.map_or_else(fresh_token, |h| h.finish());
        let body = move |inputs: &mut Inputs<'_>| -> TaskResult {
            let r = f(inputs)?;
            Ok(Arc::new(r))
        };
        Delayed::from_node(new_wired_node(
            Key::token(self.name, token),
            self.deps,
            NodeKind::Call,
            pure,
            self.wire,
            body,
        ))
    }
}

/// Return types of `#[delayed]` functions that may fail: `Result<T, E>` gives a `Delayed<T>`
/// whose error surfaces from `compute`.
///
/// Implemented for every `Result`, so the lazy function's signature (`Delayed<Self::Ok>`)
/// is always well-formed; the error type's conversion is required where the result is
/// converted, in the function's body.
pub trait ResultLike {
    /// The success type.
    type Ok;
    /// The error type.
    type Err;
    /// Converts into a task result.
    fn into_task_result(self) -> Result<Self::Ok, TaskError>
    where
        Self::Err: Into<BoxError>;
}

impl<T, E> ResultLike for Result<T, E> {
    type Ok = T;
    type Err = E;
    #[inline]
    fn into_task_result(self) -> Result<T, TaskError>
    where
        E: Into<BoxError>,
    {
        self.map_err(TaskError::new)
    }
}

/// Compiles only for types a lazy value can hold; `#[delayed]` calls it at each parameter's
/// type so a wrong type is reported where it is written.
#[inline(always)]
pub fn assert_data<T: Data>() {}
