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

/// The wire of `T` where the code building a node cannot require serde of `T` (as
/// [`Delayed::map`](crate::Delayed::map) cannot): serde's for the standard types listed here
/// (numbers, `bool`, `char`, `String`, `()`, dataframe tables, and `Vec`s, pairs and options
/// of them), else one
/// that names the type, so that a distributed run can say which value could not cross.
///
/// ```
/// use dagr_core::wire::known_wire;
/// assert!(known_wire::<Vec<f64>>().can_encode());
/// assert!(!known_wire::<std::fs::File>().can_encode());
/// ```
pub fn known_wire<T: 'static>() -> Wire {
    use std::any::TypeId;
    macro_rules! known {
        ($($t:ty),* $(,)?) => {
            $(
                if TypeId::of::<T>() == TypeId::of::<$t>() {
                    return wire_of::<$t>();
                }
                if TypeId::of::<T>() == TypeId::of::<Vec<$t>>() {
                    return wire_of::<Vec<$t>>();
                }
                if TypeId::of::<T>() == TypeId::of::<Option<$t>>() {
                    return wire_of::<Option<$t>>();
                }
                if TypeId::of::<T>() == TypeId::of::<($t, u64)>() {
                    return wire_of::<($t, u64)>();
                }
                if TypeId::of::<T>() == TypeId::of::<Vec<($t, u64)>>() {
                    return wire_of::<Vec<($t, u64)>>();
                }
            )*
        };
    }
    known!(
        i8,
        i16,
        i32,
        i64,
        i128,
        u8,
        u16,
        u32,
        u64,
        u128,
        usize,
        isize,
        f32,
        f64,
        bool,
        char,
        String,
        (),
        crate::dataframe::Table,
        crate::bag::TextColumn,
        crate::bag::counts::PartialCounts
    );
    if TypeId::of::<T>() == TypeId::of::<(f64, f64)>() {
        return wire_of::<(f64, f64)>();
    }
    if TypeId::of::<T>() == TypeId::of::<Vec<Vec<f64>>>() {
        return wire_of::<Vec<Vec<f64>>>();
    }
    if TypeId::of::<T>() == TypeId::of::<(f64, u64)>() {
        return wire_of::<(f64, u64)>();
    }
    let registry = REGISTRY.read().unwrap_or_else(|p| p.into_inner());
    match registry.as_ref().and_then(|r| r.get(&TypeId::of::<T>())) {
        Some(&w) => w,
        None => Opaque::<T>::WIRE,
    }
}

/// Codecs of types registered with [`register`], by type.
static REGISTRY: std::sync::RwLock<Option<crate::FastMap<std::any::TypeId, Wire>>> =
    std::sync::RwLock::new(None);

/// Lets values of `T` cross between the ranks of a cluster where the code that makes them
/// cannot require serde of them: bag items and partial results of your own types, and
/// [`Delayed::map`](crate::Delayed::map) results. Registers `T`, `Vec<T>`, `Option<T>`,
/// `(T, u64)` and `Vec<(T, u64)>` (a bag's partitions and frequencies). Call it on every
/// rank before building the graphs (types of `#[delayed]` functions need no registration).
///
/// ```
/// #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// struct Reading { station: String, celsius: f64 }
/// dagr_core::wire::register::<Reading>();
/// assert!(dagr_core::wire::known_wire::<Vec<Reading>>().can_encode());
/// ```
pub fn register<T: Wired>() {
    use std::any::TypeId;
    let mut registry = REGISTRY.write().unwrap_or_else(|p| p.into_inner());
    let r = registry.get_or_insert_with(Default::default);
    r.insert(TypeId::of::<T>(), wire_of::<T>());
    r.insert(TypeId::of::<Vec<T>>(), wire_of::<Vec<T>>());
    r.insert(TypeId::of::<Option<T>>(), wire_of::<Option<T>>());
    r.insert(TypeId::of::<(T, u64)>(), wire_of::<(T, u64)>());
    r.insert(TypeId::of::<Vec<(T, u64)>>(), wire_of::<Vec<(T, u64)>>());
}

/// Columns of floats as raw bytes on the wire (one copy each way, instead of one call of the
/// serializer per value): `#[serde(with = "crate::wire::f64_chunks")]` on a
/// `Vec<Vec<Vec<f64>>>` (per column, its chunks).
pub(crate) mod f64_chunks {
    use serde::de::{Deserializer, Error, Visitor};
    use serde::ser::{SerializeSeq, Serializer};
    use serde::{Deserialize, Serialize};
    use std::fmt;

    /// One chunk: its values' little-endian bytes.
    struct Raw<'a>(&'a [f64]);

    impl Serialize for Raw<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut bytes = Vec::with_capacity(self.0.len() * 8);
            for x in self.0 {
                bytes.extend_from_slice(&x.to_le_bytes());
            }
            s.serialize_bytes(&bytes)
        }
    }

    pub(crate) fn serialize<S: Serializer>(
        cols: &[Vec<Vec<f64>>],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(cols.len()))?;
        for col in cols {
            let raw: Vec<Raw<'_>> = col.iter().map(|c| Raw(c)).collect();
            seq.serialize_element(&raw)?;
        }
        seq.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<Vec<Vec<f64>>>, D::Error> {
        let cols: Vec<Vec<F64s>> = Deserialize::deserialize(d)?;
        Ok(cols
            .into_iter()
            .map(|col| col.into_iter().map(|c| c.0).collect())
            .collect())
    }

    /// A chunk read back from its bytes.
    struct F64s(Vec<f64>);

    impl<'de> Deserialize<'de> for F64s {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<F64s, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = F64s;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("the bytes of a chunk of floats")
                }
                fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<F64s, E> {
                    if v.len() % 8 != 0 {
                        return Err(E::invalid_length(v.len(), &self));
                    }
                    Ok(F64s(
                        v.chunks_exact(8)
                            .map(|w| {
                                f64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]])
                            })
                            .collect(),
                    ))
                }
            }
            d.deserialize_bytes(V)
        }
    }
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
    fn float_chunks_cross_as_bytes() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Cols(#[serde(with = "super::f64_chunks")] Vec<Vec<Vec<f64>>>);
        let cols = Cols(vec![
            vec![vec![1.5, -0.0, f64::INFINITY], vec![]],
            vec![vec![2.0; 1000]],
        ]);
        let bytes = postcard::to_allocvec(&cols).unwrap();
        // the values' bytes and a few of framing, not one serializer call per value
        assert!(bytes.len() < 8 * 1003 + 16, "{}", bytes.len());
        assert_eq!(postcard::from_bytes::<Cols>(&bytes).unwrap(), cols);
    }

    #[test]
    #[allow(clippy::needless_borrow)] // the borrow is the point: it picks the trait
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
