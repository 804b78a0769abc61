//! What `#[delayed]` expands to: building one call node from plain and lazy arguments.
//!
//! Each argument of a `#[delayed]` function accepts a plain `A`, a `Delayed<A>`, a
//! `&Delayed<A>`; for a `Vec<X>` parameter, a `Vec<Delayed<X>>` or a `&Vec<Delayed<X>>`
//! (`&[Delayed<X>]`); for a `String` parameter, a `&str`. [`IntoArg`] turns each
//! into a [`Slot`]: a captured constant ([`ConstSlot`]), the position of a dependency among
//! the node's inputs ([`DepSlot`]), or a run of them ([`ListSlot`]) — each of the size its
//! kind needs, since the kind is known where the call is written. The node's body reads its
//! slots back in argument order.

use crate::delayed::{Data, Delayed};
use crate::node::{new_wired_node, Deps, NodeKind, NodeRef};
use crate::tokenize::{fresh_token, TokenHasher, Tokenize};
use dagr_runtime::{BoxError, Inputs, Key, TaskError, TaskResult, Value};

/// Collects the arguments of one call and builds its node.
///
/// ```
/// use dagr::private::{CallBuilder, Slot};
/// use dagr::value;
/// let mut b = CallBuilder::new("add", false);
/// let x = b.arg::<i64, _>(1);
/// let y = b.arg::<i64, _>(value(2_i64));
/// let sum = b.finish(move |inp| {
///     let (x, y): (i64, i64) = (x.get(inp)?, y.get(inp)?);
///     Ok(x + y)
/// });
/// assert_eq!(sum.compute().unwrap(), 3);
/// assert_eq!(sum.key().prefix(), "add");
/// ```
pub struct CallBuilder {
    name: &'static str,
    deps: Deps,
    /// The token of a pure call as its arguments come (boxed: the builder is moved at
    /// every step of the call, and most calls are not pure).
    token: Option<Box<TokenHasher>>,
    wire: Option<dagr_runtime::Wire>,
}

/// Where a call finds one argument when it runs: every call node holds one per argument.
pub trait Slot<T>: Send + Sync + 'static {
    /// The argument's value, owned: moved out of the input when this call is its last
    /// consumer, cloned otherwise.
    fn get(&self, inputs: &mut Inputs<'_>) -> Result<T, TaskError>;
}

/// A plain value given at the call.
pub struct ConstSlot<T>(pub T);

impl<T: Data> Slot<T> for ConstSlot<T> {
    #[inline]
    fn get(&self, _: &mut Inputs<'_>) -> Result<T, TaskError> {
        Ok(self.0.clone())
    }
}

/// The result of the dependency at this position (positions are `u32`, as in the
/// runtime's graphs): 4 bytes.
pub struct DepSlot(pub u32);

impl<T: Data> Slot<T> for DepSlot {
    #[inline]
    fn get(&self, inputs: &mut Inputs<'_>) -> Result<T, TaskError> {
        inputs.take::<T>(self.0 as usize)
    }
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

impl<T: Data> Slot<T> for ListSlot<T> {
    #[inline]
    fn get(&self, inputs: &mut Inputs<'_>) -> Result<T, TaskError> {
        (self.collect)(inputs, self.start as usize, self.len as usize)
    }
}

/// The slot of an argument that cannot exist ([`NeverArg`]).
pub enum NeverSlot {}

impl<T> Slot<T> for NeverSlot {
    fn get(&self, _: &mut Inputs<'_>) -> Result<T, TaskError> {
        match *self {}
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
    /// Where the call finds the argument when it runs.
    type Slot: Slot<T>;
    /// Registers the argument with the call being built.
    fn into_arg(self, b: &mut CallBuilder) -> Self::Slot;
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
    type Slot = ConstSlot<T>;
    fn into_arg(self, _: &mut CallBuilder) -> ConstSlot<T> {
        ConstSlot(self)
    }
}

impl<T: Data + Tokenize> PureArg<T> for T {
    fn tokenize_arg(&self, h: &mut TokenHasher) {
        h.write(&0u8);
        self.tokenize(h);
    }
}

impl<T: Data> IntoArg<T> for Delayed<T> {
    type Slot = DepSlot;
    fn into_arg(self, b: &mut CallBuilder) -> DepSlot {
        DepSlot(b.push(self.node))
    }
}

impl<T: Data> PureArg<T> for Delayed<T> {
    fn tokenize_arg(&self, h: &mut TokenHasher) {
        tokenize_key(self.key(), h);
    }
}

impl<T: Data> IntoArg<T> for &Delayed<T> {
    type Slot = DepSlot;
    fn into_arg(self, b: &mut CallBuilder) -> DepSlot {
        DepSlot(b.push(self.node.clone()))
    }
}

impl<T: Data> PureArg<T> for &Delayed<T> {
    fn tokenize_arg(&self, h: &mut TokenHasher) {
        tokenize_key(self.key(), h);
    }
}

impl<X: Data> IntoArg<Vec<X>> for Vec<Delayed<X>> {
    type Slot = ListSlot<Vec<X>>;
    fn into_arg(self, b: &mut CallBuilder) -> ListSlot<Vec<X>> {
        let start = b.deps.len() as u32;
        let len = self.len() as u32;
        b.deps.extend(self.into_iter().map(|d| d.node));
        ListSlot {
            start,
            len,
            collect: collect_list::<X>,
        }
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
    type Slot = ListSlot<Vec<X>>;
    fn into_arg(self, b: &mut CallBuilder) -> ListSlot<Vec<X>> {
        IntoArg::<Vec<X>>::into_arg(self.as_slice(), b)
    }
}

impl<X: Data> PureArg<Vec<X>> for &Vec<Delayed<X>> {
    fn tokenize_arg(&self, h: &mut TokenHasher) {
        self.as_slice().tokenize_arg(h)
    }
}

impl<X: Data> IntoArg<Vec<X>> for &[Delayed<X>] {
    type Slot = ListSlot<Vec<X>>;
    fn into_arg(self, b: &mut CallBuilder) -> ListSlot<Vec<X>> {
        let start = b.deps.len() as u32;
        let len = self.len() as u32;
        b.deps.extend(self.iter().map(|d| d.node.clone()));
        ListSlot {
            start,
            len,
            collect: collect_list::<X>,
        }
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
    type Slot = ConstSlot<String>;
    fn into_arg(self, _: &mut CallBuilder) -> ConstSlot<String> {
        ConstSlot(self.to_owned())
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
    type Slot = NeverSlot;
    fn into_arg(self, _: &mut CallBuilder) -> NeverSlot {
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
            token: pure.then(|| Box::new(TokenHasher::new(name))),
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
    pub fn arg<T: Data, A: IntoArg<T>>(&mut self, a: A) -> A::Slot {
        a.into_arg(self)
    }

    /// Registers an argument of a pure call.
    #[inline]
    pub fn pure_arg<T: Data, A: PureArg<T>>(&mut self, a: A) -> A::Slot {
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
            Ok(Value::new(r))
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
