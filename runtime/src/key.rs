//! Task keys: the readable name every node carries into errors, graphs and profiles.
//!
//! A key is 16 bytes: every node of a lazy graph holds one, and so does the runtime's copy
//! of the graph. Names given as `&'static str` (function names, layer kinds) are interned:
//! the key holds a 2-byte id into a process-wide table of at most [`MAX_NAMES`] names, so a
//! `name-<token>` key, a `('name', i)` key and a `('name', i, j)` key of indices below 2^32
//! fit inline. Any other key (a name built at run time, larger or more indices, or a static
//! name past the table's end) keeps its parts in one allocation of its own. Which form a key
//! takes never shows: equality, hashing and display go by the name's text and the token or
//! indices.

use std::cell::Cell;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

/// The readable, unique name of a task.
///
/// Delayed calls are keyed `name-<token>` (Dask's `inc-5f3a…`); the chunks of a collection are
/// keyed `('name', i, j, …)`. A key is cheap to build: its text is only rendered on display.
///
/// ```
/// use dagr::runtime::Key;
/// assert_eq!(Key::token("inc", 0xabc).to_string(), "inc-0000000000000abc");
/// assert_eq!(Key::index("sum", &[1, 2]).to_string(), "('sum', 1, 2)");
/// assert_eq!(Key::index("sum", &[1, 2]).prefix(), "sum");
/// ```
#[derive(Clone)]
pub struct Key(Repr);

#[derive(Clone)]
enum Repr {
    /// `name-<token>` with an interned name.
    Token(NameId, u64),
    /// `('name',)` or `('name', i)` with an interned name.
    One(NameId, bool, u64),
    /// `('name', i, j)` with an interned name and indices below 2^32.
    Two(NameId, [u32; 2]),
    /// Any other key, out of line.
    Boxed(Box<Full>),
}

#[derive(Clone)]
struct Full {
    name: Name,
    id: Id,
}

#[derive(Clone)]
enum Name {
    Static(&'static str),
    Shared(Arc<str>),
}

#[derive(Clone)]
enum Id {
    Token(u64),
    Index(Box<[u64]>),
}

impl Key {
    /// Whether the key is held out of line (its drop frees memory). Keys of interned names
    /// with a token or up to two small indices are not.
    #[inline]
    pub(crate) fn is_boxed(&self) -> bool {
        matches!(self.0, Repr::Boxed(_))
    }

    /// A key `name-<token>`, as for a delayed call.
    pub fn token(name: impl Into<KeyName>, token: u64) -> Key {
        let name = name.into().0;
        if let Name::Static(s) = name {
            if let Some(id) = NameId::intern(s) {
                return Key(Repr::Token(id, token));
            }
        }
        Key(Repr::Boxed(Box::new(Full {
            name,
            id: Id::Token(token),
        })))
    }

    /// A key `('name', i, j, …)`, as for chunk `(i, j, …)` of a collection.
    pub fn index(name: impl Into<KeyName>, index: &[u64]) -> Key {
        let name = name.into().0;
        if let Name::Static(s) = &name {
            let inline = match *index {
                [] | [_] => true,
                [i, j] => i <= u32::MAX as u64 && j <= u32::MAX as u64,
                _ => false,
            };
            if inline {
                if let Some(id) = NameId::intern(s) {
                    return Key(match *index {
                        [] => Repr::One(id, false, 0),
                        [i] => Repr::One(id, true, i),
                        [i, j, ..] => Repr::Two(id, [i as u32, j as u32]),
                    });
                }
            }
        }
        Key(Repr::Boxed(Box::new(Full {
            name,
            id: Id::Index(index.into()),
        })))
    }

    /// The name part of the key (the function or layer name), shared by related tasks.
    pub fn prefix(&self) -> &str {
        match &self.0 {
            Repr::Token(id, _) | Repr::One(id, ..) | Repr::Two(id, _) => id.text(),
            Repr::Boxed(full) => match &full.name {
                Name::Static(s) => s,
                Name::Shared(s) => s,
            },
        }
    }

    /// The token of a `name-<token>` key, if it is one.
    pub fn token_value(&self) -> Option<u64> {
        match &self.0 {
            Repr::Token(_, t) => Some(*t),
            Repr::One(..) | Repr::Two(..) => None,
            Repr::Boxed(full) => match full.id {
                Id::Token(t) => Some(t),
                Id::Index(_) => None,
            },
        }
    }

    /// The chunk index of a `('name', i, …)` key, if it is one: it derefs to `[u64]`.
    ///
    /// ```
    /// use dagr::runtime::Key;
    /// let k = Key::index("x", &[3, 4]);
    /// assert_eq!(k.index_value().as_deref(), Some(&[3, 4][..]));
    /// assert_eq!(k.index_value().unwrap()[1], 4);
    /// assert!(Key::token("x", 3).index_value().is_none());
    /// ```
    pub fn index_value(&self) -> Option<KeyIndex<'_>> {
        match &self.0 {
            Repr::Token(..) => None,
            &Repr::One(_, has, i) => Some(KeyIndex(Ix::Inline(has as u8, [i, 0]))),
            &Repr::Two(_, [i, j]) => Some(KeyIndex(Ix::Inline(2, [i.into(), j.into()]))),
            Repr::Boxed(full) => match &full.id {
                Id::Token(_) => None,
                Id::Index(ix) => Some(KeyIndex(Ix::Out(ix))),
            },
        }
    }
}

/// The chunk index of a key ([`Key::index_value`]): a `[u64]`, held inline or borrowed
/// from the key.
///
/// ```
/// use dagr::runtime::Key;
/// let k = Key::index("block", &[2, 7]);
/// let ix = k.index_value().unwrap();
/// assert_eq!(&*ix, &[2, 7]);
/// assert_eq!(ix.iter().sum::<u64>(), 9);
/// assert!(ix < Key::index("block", &[2, 8]).index_value().unwrap());
/// ```
#[derive(Clone, Copy)]
pub struct KeyIndex<'a>(Ix<'a>);

#[derive(Clone, Copy)]
enum Ix<'a> {
    Inline(u8, [u64; 2]),
    Out(&'a [u64]),
}

impl std::ops::Deref for KeyIndex<'_> {
    type Target = [u64];
    #[inline]
    fn deref(&self) -> &[u64] {
        match &self.0 {
            Ix::Inline(n, ix) => &ix[..*n as usize],
            Ix::Out(ix) => ix,
        }
    }
}

impl PartialEq for KeyIndex<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for KeyIndex<'_> {}

impl PartialOrd for KeyIndex<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for KeyIndex<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl Hash for KeyIndex<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

impl fmt::Debug for KeyIndex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        match (&self.0, &other.0) {
            // interned by text: equal ids, equal names
            (Repr::Token(a, s), Repr::Token(b, t)) => a == b && s == t,
            (Repr::One(a, m, x), Repr::One(b, n, y)) => a == b && m == n && x == y,
            (Repr::Two(a, x), Repr::Two(b, y)) => a == b && x == y,
            // Inline forms differ in what they hold (an interned name never shows boxed).
            (
                Repr::Token(..) | Repr::One(..) | Repr::Two(..),
                Repr::Token(..) | Repr::One(..) | Repr::Two(..),
            ) => false,
            _ => {
                self.token_value() == other.token_value()
                    && self.index_value() == other.index_value()
                    && self.prefix() == other.prefix()
            }
        }
    }
}

impl Eq for Key {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // by content, as equality goes, whichever form the key takes
        self.prefix().hash(state);
        self.token_value().hash(state);
        self.index_value().hash(state);
    }
}

/// The most distinct `&'static str` names interned; keys of further names are stored out
/// of line.
const MAX_NAMES: usize = 4096;

/// An interned static name: its position in [`NAMES`].
#[derive(Clone, Copy, PartialEq, Eq)]
struct NameId(u16);

/// The interned names, by id. Written once each (under [`INTERNED`]'s lock), read without
/// locking.
static NAMES: [OnceLock<&'static str>; MAX_NAMES] = [const { OnceLock::new() }; MAX_NAMES];

/// The ids of the interned names, by text (so that equal texts at two addresses share one).
static INTERNED: Mutex<Vec<(&'static str, u32)>> = Mutex::new(Vec::new());

/// Slots of the per-thread cache of recently interned names.
const RECENT_SLOTS: usize = 8;

thread_local! {
    /// Recently interned names on this thread, by the address and length of their text:
    /// (address, length, id), direct-mapped by address. Building many keys of one name
    /// then costs no lock.
    static RECENT: [Cell<(usize, usize, u32)>; RECENT_SLOTS] =
        const { [const { Cell::new((0, 0, 0)) }; RECENT_SLOTS] };
}

impl NameId {
    /// The id of the name `s`, interning it if it is new; `None` once the table is full.
    #[inline]
    fn intern(s: &'static str) -> Option<NameId> {
        let (addr, len) = (s.as_ptr() as usize, s.len());
        let slot = (addr >> 3) % RECENT_SLOTS;
        let cached = RECENT.with(|r| {
            let (a, l, id) = r[slot].get();
            (a == addr && l == len).then_some(id)
        });
        if let Some(id) = cached {
            return Some(NameId(id as u16));
        }
        let id = Self::intern_slow(s)?;
        RECENT.with(|r| r[slot].set((addr, len, id.0.into())));
        Some(id)
    }

    #[cold]
    fn intern_slow(s: &'static str) -> Option<NameId> {
        let mut interned = INTERNED.lock().unwrap_or_else(|p| p.into_inner());
        let at = match interned.binary_search_by(|(t, _)| (*t).cmp(s)) {
            Ok(at) => return Some(NameId(interned[at].1 as u16)),
            Err(at) => at,
        };
        let id = interned.len();
        if id >= MAX_NAMES {
            return None;
        }
        // Only ever set here, under the lock, at the next free id.
        let _ = NAMES[id].set(s);
        interned.insert(at, (s, id as u32));
        Some(NameId(id as u16))
    }

    fn text(self) -> &'static str {
        // An id is only made after its name is set (`intern_slow`).
        NAMES[self.0 as usize].get().copied().unwrap_or_default()
    }
}

/// The name part of a [`Key`]: a `&'static str` (free) or a shared string.
///
/// ```
/// use dagr::runtime::{Key, KeyName};
/// let dynamic = String::from("load-csv");
/// let k = Key::token(KeyName::from(dynamic), 1);
/// assert_eq!(k.prefix(), "load-csv");
/// assert_eq!(k, Key::token("load-csv", 1));
/// ```
#[derive(Clone)]
pub struct KeyName(Name);

impl From<&'static str> for KeyName {
    fn from(s: &'static str) -> Self {
        KeyName(Name::Static(s))
    }
}

impl From<String> for KeyName {
    fn from(s: String) -> Self {
        KeyName(Name::Shared(s.into()))
    }
}

impl From<Arc<str>> for KeyName {
    fn from(s: Arc<str>) -> Self {
        KeyName(Name::Shared(s))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.token_value() {
            Some(t) => write!(f, "{}-{t:016x}", self.prefix()),
            None => {
                write!(f, "('{}'", self.prefix())?;
                for i in self.index_value().as_deref().unwrap_or_default() {
                    write!(f, ", {i}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash(k: &Key) -> u64 {
        let mut h = DefaultHasher::new();
        k.hash(&mut h);
        h.finish()
    }

    #[test]
    fn keys_are_small_and_index_keys_round_trip() {
        assert!(std::mem::size_of::<Key>() <= 16);
        let big = u32::MAX as u64 + 1;
        for ix in [
            &[][..],
            &[7],
            &[u64::MAX],
            &[1, 2],
            &[u32::MAX as u64, 0],
            &[big, 2],
            &[2, big],
            &[1, 2, 3],
            &[u64::MAX, 0, 5, 9],
        ] {
            let k = Key::index("x", ix);
            assert_eq!(k.index_value().as_deref(), Some(ix));
            // the same key with its name built at run time (always out of line)
            assert_eq!(k, Key::index(String::from("x"), ix));
            assert_eq!(hash(&k), hash(&Key::index(String::from("x"), ix)));
            assert_eq!(k.token_value(), None);
            assert_eq!(k.clone(), k);
        }
        assert_ne!(Key::index("x", &[1, 2]), Key::index("x", &[1, 2, 0]));
        assert_ne!(Key::index("x", &[1]), Key::index("x", &[1, 0]));
        assert_ne!(Key::index("x", &[]), Key::index("x", &[0]));
        assert_ne!(Key::index("x", &[1, 2]), Key::index("x", &[big, 2]));
        assert_ne!(Key::index("x", &[5]), Key::token("x", 5));
        assert_ne!(Key::token("x", 5), Key::token("y", 5));
    }

    #[test]
    fn a_key_is_its_text_whatever_its_form() {
        // the same name at two addresses, and as a string built at run time
        let owned = String::from("layer");
        let leaked: &'static str = Box::leak(owned.clone().into_boxed_str());
        for (a, b) in [
            (Key::token("layer", 3), Key::token(leaked, 3)),
            (Key::token("layer", 3), Key::token(owned.clone(), 3)),
            (Key::index("layer", &[1, 2]), Key::index(leaked, &[1, 2])),
            (
                Key::index("layer", &[1, 2]),
                Key::index(Arc::<str>::from("layer"), &[1, 2]),
            ),
        ] {
            assert_eq!(a, b);
            assert_eq!(hash(&a), hash(&b));
            assert_eq!(a.to_string(), b.to_string());
            assert_eq!(a.prefix(), "layer");
        }
        assert_ne!(
            Key::index("layer", &[1, 2]),
            Key::index(owned.clone(), &[1, 3])
        );
    }

    #[test]
    fn names_interned_from_many_threads_agree() {
        let names: Vec<&'static str> = (0..64)
            .map(|i| &*Box::leak(format!("name-{i}").into_boxed_str()))
            .collect();
        let keys: Vec<Vec<Key>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|t| {
                    let names = &names;
                    s.spawn(move || {
                        (0..names.len())
                            .map(|i| Key::token(names[(i + t * 16) % names.len()], i as u64))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (t, ks) in keys.iter().enumerate() {
            for (i, k) in ks.iter().enumerate() {
                let name = names[(i + t * 16) % names.len()];
                assert_eq!(k.prefix(), name);
                assert_eq!(k, &Key::token(String::from(name), i as u64));
            }
        }
    }
}
