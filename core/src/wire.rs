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
use std::any::TypeId;
use std::marker::PhantomData;
use std::sync::{OnceLock, RwLock};

/// A value that can cross between processes: `Data` with serde's `Serialize` and
/// `Deserialize` (Dask: picklable).
///
/// ```
/// fn crosses<T: dagr::Wired>() {}
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
        Ok(Value::new(postcard::from_bytes::<T>(bytes)?))
    }
}

/// The wire of a type that crosses through serde.
///
/// ```
/// let w = dagr::wire_of::<Vec<i64>>();
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
/// use dagr::wire::known_wire;
/// assert!(known_wire::<Vec<f64>>().can_encode());
/// assert!(!known_wire::<std::fs::File>().can_encode());
/// ```
pub fn known_wire<T: 'static>() -> Wire {
    let registry = REGISTRY.get_or_init(|| RwLock::new(standard_wires()));
    let registry = registry.read().unwrap_or_else(|p| p.into_inner());
    match registry.get(&TypeId::of::<T>()) {
        Some(&w) => w,
        None => Opaque::<T>::WIRE,
    }
}

/// Codecs by type: the standard and library types, then those given to [`register`].
static REGISTRY: OnceLock<RwLock<crate::FastMap<TypeId, Wire>>> = OnceLock::new();

/// The wires of `T` and of the forms bags make of it (partitions, frequencies, options).
fn insert_forms<T: Wired>(r: &mut crate::FastMap<TypeId, Wire>) {
    r.insert(TypeId::of::<T>(), wire_of::<T>());
    r.insert(TypeId::of::<Vec<T>>(), wire_of::<Vec<T>>());
    r.insert(TypeId::of::<Option<T>>(), wire_of::<Option<T>>());
    r.insert(TypeId::of::<(T, u64)>(), wire_of::<(T, u64)>());
    r.insert(TypeId::of::<Vec<(T, u64)>>(), wire_of::<Vec<(T, u64)>>());
}

fn standard_wires() -> crate::FastMap<TypeId, Wire> {
    let mut r = crate::FastMap::default();
    macro_rules! forms {
        ($($t:ty),*) => { $(insert_forms::<$t>(&mut r);)* };
    }
    forms!(i8, i16, i32, i64, i128, u8, u16, u32, u64, u128, usize, isize, f32, f64, bool);
    forms!(
        char,
        String,
        (),
        crate::dataframe::Table,
        crate::bag::TextColumn
    );
    forms!(crate::bag::counts::PartialCounts, (f64, f64), Vec<Vec<f64>>);
    r
}

/// Lets values of `T` cross between the ranks of a cluster where the code that makes them
/// cannot require serde of them: bag items and partial results of your own types, and
/// [`Delayed::map`](crate::Delayed::map) results. Registers `T`, `Vec<T>`, `Option<T>`,
/// `(T, u64)` and `Vec<(T, u64)>` (a bag's partitions and frequencies). Call it on every
/// rank before building the graphs (types of `#[delayed]` functions need no registration).
///
/// ```
/// #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// struct Reading { station: String, celsius: f64 }
/// dagr::wire::register::<Reading>();
/// assert!(dagr::wire::known_wire::<Vec<Reading>>().can_encode());
/// ```
pub fn register<T: Wired>() {
    let registry = REGISTRY.get_or_init(|| RwLock::new(standard_wires()));
    insert_forms::<T>(&mut registry.write().unwrap_or_else(|p| p.into_inner()));
}

/// Columns of floats as raw bytes on the wire (one copy each way, instead of one call of the
/// serializer per value): `#[serde(with = "crate::wire::f64_chunks")]` on a
/// `Vec<Vec<Vec<f64>>>` (per column, its chunks), each chunk as [`raw_f64`] sends it.
pub(crate) mod f64_chunks {
    use serde::ser::Serializer;
    use serde::{Deserialize, Deserializer, Serialize};

    /// A chunk, borrowed to be sent.
    struct Out<'a>(&'a [f64]);

    impl Serialize for Out<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            super::raw_f64::serialize(self.0, s)
        }
    }

    /// A chunk received.
    #[derive(Deserialize)]
    struct In(#[serde(with = "super::raw_f64")] Vec<f64>);

    pub(crate) fn serialize<S: Serializer>(
        cols: &[Vec<Vec<f64>>],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            cols.iter()
                .map(|col| col.iter().map(|c| Out(c)).collect::<Vec<_>>()),
        )
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<Vec<Vec<f64>>>, D::Error> {
        let cols: Vec<Vec<In>> = Deserialize::deserialize(d)?;
        Ok(cols
            .into_iter()
            .map(|col| col.into_iter().map(|c| c.0).collect())
            .collect())
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
        let v: Value = Value::new(vec![("a".to_owned(), 3_u64)]);
        let mut bytes = Vec::new();
        a.encode(&v, &mut bytes).unwrap();
        let back = a.decode(&bytes).unwrap();
        assert_eq!(
            back.downcast_ref::<Vec<(String, u64)>>(),
            Some(&vec![("a".to_owned(), 3)])
        );
    }
}

/// Array blocks on the wire: the shape, then the elements' little-endian bytes in logical
/// order (one pass each way, no per-value serializer call).
struct BlockCodec<T, A>(PhantomData<fn() -> (T, A)>);

/// How a block type is built from its shape and elements.
trait BlockKind<T: crate::array::Element>: Send + Sync + 'static {
    fn view(v: &Value) -> Option<ndarray::ArrayViewD<'_, T>>;
    fn build(a: ndarray::ArrayD<T>) -> Value;
}

impl<T: crate::array::Element> BlockKind<T> for ndarray::ArcArray<T, ndarray::IxDyn> {
    fn view(v: &Value) -> Option<ndarray::ArrayViewD<'_, T>> {
        v.downcast_ref::<Self>().map(|a| a.view())
    }
    fn build(a: ndarray::ArrayD<T>) -> Value {
        Value::new(a.into_shared())
    }
}

impl<T: crate::array::Element> BlockKind<T> for ndarray::ArrayD<T> {
    fn view(v: &Value) -> Option<ndarray::ArrayViewD<'_, T>> {
        v.downcast_ref::<Self>().map(|a| a.view())
    }
    fn build(a: ndarray::ArrayD<T>) -> Value {
        Value::new(a)
    }
}

impl<T: crate::array::Element, A: BlockKind<T>> Codec for BlockCodec<T, A> {
    fn type_name(&self) -> &'static str {
        std::any::type_name::<A>()
    }
    fn encode(&self, value: &Value, out: &mut Vec<u8>) -> Result<(), BoxError> {
        let a =
            A::view(value).ok_or_else(|| format!("the value is not a `{}`", self.type_name()))?;
        out.reserve(4 + 8 * a.ndim() + a.len() * std::mem::size_of::<T>());
        out.extend_from_slice(&(a.ndim() as u32).to_le_bytes());
        for &d in a.shape() {
            out.extend_from_slice(&(d as u64).to_le_bytes());
        }
        a.iter().for_each(|&x| x.put_le(out));
        Ok(())
    }
    fn decode(&self, b: &[u8]) -> Result<Value, BoxError> {
        let short = || format!("a `{}` cut short", self.type_name());
        let ndim = u32::from_le_bytes(b.get(..4).ok_or_else(short)?.try_into()?) as usize;
        let mut shape = Vec::with_capacity(ndim);
        for k in 0..ndim {
            let at = 4 + 8 * k;
            shape.push(
                u64::from_le_bytes(b.get(at..at + 8).ok_or_else(short)?.try_into()?) as usize,
            );
        }
        let width = std::mem::size_of::<T>();
        let body = &b[4 + 8 * ndim..];
        let n: usize = shape.iter().product();
        if body.len() != n * width {
            return Err(short().into());
        }
        let elems: Vec<T> = body
            .chunks_exact(width)
            .map(|c| T::get_le(c).unwrap_or_default())
            .collect();
        Ok(A::build(ndarray::ArrayD::from_shape_vec(shape, elems)?))
    }
}

/// The wire of `S` for the nodes of an `Array<T>`: raw bytes for its blocks, serde for the
/// rest (partial results).
pub(crate) fn array_node_wire<T: crate::array::Element, S: Wired>() -> Wire {
    use std::any::TypeId;
    if TypeId::of::<S>() == TypeId::of::<ndarray::ArcArray<T, ndarray::IxDyn>>() {
        return &BlockCodec::<T, ndarray::ArcArray<T, ndarray::IxDyn>>(PhantomData);
    }
    if TypeId::of::<S>() == TypeId::of::<ndarray::ArrayD<T>>() {
        return &BlockCodec::<T, ndarray::ArrayD<T>>(PhantomData);
    }
    wire_of::<S>()
}

/// `#[serde(with = …)]` modules sending a `Vec` of numbers as its little-endian bytes.
macro_rules! raw_vec {
    ($module:ident, $t:ty) => {
        #[doc = concat!("A `Vec<", stringify!($t), ">` as raw little-endian bytes.")]
        pub(crate) mod $module {
            use serde::de::{Deserializer, Error, Visitor};
            use serde::Serializer;
            use std::fmt;

            pub(crate) fn serialize<S: Serializer>(v: &[$t], s: S) -> Result<S::Ok, S::Error> {
                let mut bytes = Vec::with_capacity(v.len() * std::mem::size_of::<$t>());
                v.iter()
                    .for_each(|x| bytes.extend_from_slice(&x.to_le_bytes()));
                s.serialize_bytes(&bytes)
            }

            pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
                d: D,
            ) -> Result<Vec<$t>, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Vec<$t>;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str(concat!("the bytes of ", stringify!($t), "s"))
                    }
                    fn visit_bytes<E: Error>(self, b: &[u8]) -> Result<Vec<$t>, E> {
                        const W: usize = std::mem::size_of::<$t>();
                        if b.len() % W != 0 {
                            return Err(E::invalid_length(b.len(), &self));
                        }
                        Ok(b.chunks_exact(W)
                            .map(|c| {
                                let mut w = [0u8; W];
                                w.copy_from_slice(c);
                                <$t>::from_le_bytes(w)
                            })
                            .collect())
                    }
                }
                d.deserialize_bytes(V)
            }
        }
    };
}
raw_vec!(raw_f64, f64);
raw_vec!(raw_i64, i64);

#[cfg(test)]
mod raw_tests {
    use super::*;

    #[test]
    fn blocks_and_columns_round_trip_as_raw_bytes() {
        let a = ndarray::ArrayD::from_shape_vec(
            vec![2, 3],
            vec![1.5f32, -2.0, 0.0, 4.0, 5.0, f32::NAN],
        )
        .unwrap();
        let w = array_node_wire::<f32, ndarray::ArcArray<f32, ndarray::IxDyn>>();
        let v: Value = Value::new(a.t().to_owned().into_shared());
        let mut bytes = Vec::new();
        w.encode(&v, &mut bytes).unwrap();
        assert_eq!(bytes.len(), 4 + 2 * 8 + 6 * 4);
        let back = w.decode(&bytes).unwrap();
        let back = back
            .downcast_ref::<ndarray::ArcArray<f32, ndarray::IxDyn>>()
            .unwrap();
        assert_eq!(back.shape(), &[3, 2]);
        assert!(back
            .iter()
            .zip(a.t().iter())
            .all(|(x, y)| x.to_bits() == y.to_bits()));
        assert!(w.decode(&bytes[..bytes.len() - 1]).is_err());

        let t = crate::dataframe::Table::new(
            vec!["x".into(), "n".into()],
            vec![
                crate::dataframe::Column::F64(vec![0.25; 100]),
                crate::dataframe::Column::I64((0..100).collect()),
            ],
        )
        .unwrap();
        let bytes = postcard::to_allocvec(&t).unwrap();
        assert!(bytes.len() < 1600 + 32, "{}", bytes.len());
        assert_eq!(
            postcard::from_bytes::<crate::dataframe::Table>(&bytes).unwrap(),
            t
        );
    }
}
