//! How values cross between the processes of a distributed run: serde, in postcard's compact
//! binary form, chosen where a value's type is known.
//!
//! A node carries the [`Wire`] of its value's type when the code that built it knew one: the
//! `#[delayed]` macro picks serde's for a return type that implements `Serialize` and
//! `Deserialize` (and otherwise a codec that only names the type), collections pick it for
//! their blocks, partitions and partial results. Plans made for a distributed scheduler
//! hand the wires to the runtime; other plans ignore them.

use crate::Data;
use dagr_runtime::{BoxError, Codec, Opaque, Value, Wire};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::marker::PhantomData;
use std::sync::Arc;

/// A value that can cross between processes: `Data` with serde's `Serialize` and
/// `Deserialize` (Dask: picklable).
///
/// ```
/// fn crosses<T: dagr_core::Wired>() {}
/// crosses::<(String, u64)>();
/// crosses::<Vec<f64>>();
/// ```
pub trait Wired: Data + Serialize + DeserializeOwned {}
impl<T: Data + Serialize + DeserializeOwned> Wired for T {}

/// The serde codec of `T`.
struct SerdeCodec<T>(PhantomData<fn() -> T>);

impl<T: Wired> SerdeCodec<T> {
    const WIRE: Wire = &SerdeCodec::<T>(PhantomData);
}

impl<T: Wired> Codec for SerdeCodec<T> {
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
    fn encode(&self, value: &Value, out: &mut Vec<u8>) -> Result<(), BoxError> {
        let v = value
            .downcast_ref::<T>()
            .ok_or_else(|| format!("the value is not a `{}`", self.type_name()))?;
        *out = postcard::to_extend(v, std::mem::take(out))?;
        Ok(())
    }
    fn decode(&self, bytes: &[u8]) -> Result<Value, BoxError> {
        Ok(Arc::new(postcard::from_bytes::<T>(bytes)?))
    }
}

/// The wire of a type that crosses through serde.
///
/// ```
/// let w = dagr_core::wire_of::<Vec<i64>>();
/// assert_eq!(w.type_name(), "alloc::vec::Vec<i64>");
/// ```
pub fn wire_of<T: Wired>() -> Wire {
    SerdeCodec::<T>::WIRE
}

/// Picks a type's wire where the type is known but whether it implements serde is not (the
/// macros' expansions): `(&Probe::<T>::new()).wire()` is serde's codec when `T` has it, and
/// one that names the type otherwise (autoref specialisation: the first trait applies to
/// `Probe<T>` itself, the second only through one more reference).
#[doc(hidden)]
pub struct Probe<T>(PhantomData<fn() -> T>);

impl<T> Probe<T> {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Probe(PhantomData)
    }
}

#[doc(hidden)]
pub trait ProbeSerde {
    fn wire(&self) -> Option<Wire>;
}

impl<T: Wired> ProbeSerde for Probe<T> {
    fn wire(&self) -> Option<Wire> {
        Some(wire_of::<T>())
    }
}

#[doc(hidden)]
pub trait ProbeOpaque {
    fn wire(&self) -> Option<Wire>;
}

impl<T: 'static> ProbeOpaque for &Probe<T> {
    fn wire(&self) -> Option<Wire> {
        Some(Opaque::<T>::WIRE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_pick_serde_when_they_can() {
        #[derive(Clone)]
        struct NoSerde;
        let a = (&Probe::<Vec<(String, u64)>>::new()).wire().unwrap();
        let b = (&Probe::<NoSerde>::new()).wire().unwrap();
        assert!(a.can_encode());
        assert!(!b.can_encode());
        let v: Value = Arc::new(vec![("a".to_owned(), 3_u64)]);
        let mut bytes = Vec::new();
        a.encode(&v, &mut bytes).unwrap();
        let back = a.decode(&bytes).unwrap();
        assert_eq!(
            back.downcast_ref::<Vec<(String, u64)>>(),
            Some(&vec![("a".to_owned(), 3)])
        );
    }
}
