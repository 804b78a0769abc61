//! Task keys: the readable name every node carries into errors, graphs and profiles.

use std::fmt;
use std::sync::Arc;

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
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Key {
    name: Name,
    id: Id,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Name {
    Static(&'static str),
    Shared(Arc<str>),
}

/// 24 bytes, so a key is 48: every node of a graph holds one, and so does the runtime's
/// copy of the graph.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Id {
    Token(u64),
    /// Up to two indices inline (most chunk keys), so building a key does not allocate.
    Small(u8, [u64; 2]),
    Index(Box<[u64]>),
}

impl Key {
    /// A key `name-<token>`, as for a delayed call.
    pub fn token(name: impl Into<KeyName>, token: u64) -> Key {
        Key {
            name: name.into().0,
            id: Id::Token(token),
        }
    }

    /// A key `('name', i, j, …)`, as for chunk `(i, j, …)` of a collection.
    pub fn index(name: impl Into<KeyName>, index: &[u64]) -> Key {
        let id = match index.len() {
            n @ 0..=2 => {
                let mut ix = [0; 2];
                ix[..n].copy_from_slice(index);
                Id::Small(n as u8, ix)
            }
            _ => Id::Index(index.into()),
        };
        Key {
            name: name.into().0,
            id,
        }
    }

    /// The name part of the key (the function or layer name), shared by related tasks.
    pub fn prefix(&self) -> &str {
        match &self.name {
            Name::Static(s) => s,
            Name::Shared(s) => s,
        }
    }

    /// The token of a `name-<token>` key, if it is one.
    pub fn token_value(&self) -> Option<u64> {
        match self.id {
            Id::Token(t) => Some(t),
            _ => None,
        }
    }

    /// The chunk index of a `('name', i, …)` key, if it is one.
    pub fn index_value(&self) -> Option<&[u64]> {
        match &self.id {
            Id::Token(_) => None,
            Id::Small(n, ix) => Some(&ix[..*n as usize]),
            Id::Index(i) => Some(i),
        }
    }
}

/// The name part of a [`Key`]: a `&'static str` (free) or a shared string.
///
/// ```
/// use dagr::runtime::{Key, KeyName};
/// let dynamic = String::from("load-csv");
/// let k = Key::token(KeyName::from(dynamic), 1);
/// assert_eq!(k.prefix(), "load-csv");
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
        match &self.id {
            Id::Token(t) => write!(f, "{}-{t:016x}", self.prefix()),
            Id::Small(..) | Id::Index(_) => {
                write!(f, "('{}'", self.prefix())?;
                for i in self.index_value().unwrap_or_default() {
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

    #[test]
    fn keys_are_small_and_index_keys_round_trip() {
        assert!(std::mem::size_of::<Key>() <= 48);
        for ix in [&[][..], &[7], &[1, 2], &[1, 2, 3], &[u64::MAX, 0, 5, 9]] {
            let k = Key::index("x", ix);
            assert_eq!(k.index_value(), Some(ix));
            assert_eq!(k.clone(), k);
        }
        assert_ne!(Key::index("x", &[1, 2]), Key::index("x", &[1, 2, 0]));
    }
}
