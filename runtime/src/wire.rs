//! How a node's value crosses between processes: the type-erased [`Codec`] a graph may attach
//! to each node ([`TaskGraph::set_wire`](crate::TaskGraph::set_wire)).
//!
//! The runtime never looks inside values; a distributed run asks a node's codec to turn the
//! value into bytes on the rank that computed it and back into a value on each rank that
//! consumes it. Graphs that only run in one process need no codec at all.

use crate::{BoxError, Value};

/// Encodes and decodes the values of one type.
///
/// Implementations are usually zero-sized and used as `&'static dyn Codec` ([`Wire`]), so
/// attaching one to a node costs a pointer.
///
/// ```
/// use dagr::runtime::{BoxError, Codec, Value, Wire};
///
/// struct I64;
/// impl Codec for I64 {
///     fn type_name(&self) -> &'static str { "i64" }
///     fn encode(&self, v: &Value, out: &mut Vec<u8>) -> Result<(), BoxError> {
///         let x = v.downcast_ref::<i64>().ok_or("not an i64")?;
///         out.extend_from_slice(&x.to_le_bytes());
///         Ok(())
///     }
///     fn decode(&self, bytes: &[u8]) -> Result<Value, BoxError> {
///         Ok(Value::new(i64::from_le_bytes(bytes.try_into()?)))
///     }
/// }
/// let wire: Wire = &I64;
/// let mut buf = Vec::new();
/// wire.encode(&Value::new(7_i64), &mut buf).unwrap();
/// assert_eq!(wire.decode(&buf).unwrap().downcast_ref::<i64>(), Some(&7));
/// ```
pub trait Codec: Send + Sync + 'static {
    /// The Rust type of the values, for error messages.
    fn type_name(&self) -> &'static str;

    /// Whether values of this type can cross at all. A node whose value would have to cross
    /// with a codec that cannot fails the run before anything runs, naming the task and this
    /// type.
    fn can_encode(&self) -> bool {
        true
    }

    /// Appends the encoding of `value` to `out`.
    fn encode(&self, value: &Value, out: &mut Vec<u8>) -> Result<(), BoxError>;

    /// Rebuilds a value from what [`Codec::encode`] wrote.
    fn decode(&self, bytes: &[u8]) -> Result<Value, BoxError>;
}

/// A codec as graphs store it: shared by every node of its type.
pub type Wire = &'static dyn Codec;

/// The codec of a type that has no wire format: it only knows the type's name, so that a
/// distributed run can say which task's value could not cross and why.
///
/// ```
/// use dagr::runtime::{Codec, Opaque, Wire};
/// let w: Wire = Opaque::<std::fs::File>::WIRE;
/// assert!(!w.can_encode());
/// assert_eq!(w.type_name(), "std::fs::File");
/// ```
pub struct Opaque<T: ?Sized>(std::marker::PhantomData<fn() -> Box<T>>);

impl<T: ?Sized + 'static> Opaque<T> {
    /// The codec, as a [`Wire`].
    pub const WIRE: Wire = &Opaque::<T>(std::marker::PhantomData);
}

impl<T: ?Sized + 'static> Codec for Opaque<T> {
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
    fn can_encode(&self) -> bool {
        false
    }
    fn encode(&self, _: &Value, _: &mut Vec<u8>) -> Result<(), BoxError> {
        Err(format!("`{}` has no wire encoding", self.type_name()).into())
    }
    fn decode(&self, _: &[u8]) -> Result<Value, BoxError> {
        Err(format!("`{}` has no wire encoding", self.type_name()).into())
    }
}
