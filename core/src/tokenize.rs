//! Tokens: the hashes that name pure tasks, as Dask's `tokenize`.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// Accumulates the token of a pure call from its function name and arguments.
pub struct TokenHasher(std::collections::hash_map::DefaultHasher);

impl TokenHasher {
    pub(crate) fn new(name: &str) -> Self {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        name.hash(&mut h);
        TokenHasher(h)
    }

    /// Feeds raw bytes of an argument's identity.
    pub fn write_u64(&mut self, v: u64) {
        self.0.write_u64(v);
    }

    /// Feeds any hashable part of an argument.
    pub fn write<H: Hash + ?Sized>(&mut self, v: &H) {
        v.hash(&mut self.0);
    }

    pub(crate) fn finish(&self) -> u64 {
        self.0.finish()
    }
}

/// Values that can name a pure task: equal values give equal tokens.
///
/// Implemented for the standard scalar, string and container types; floats hash their bits.
/// Implement it for your own argument types to pass them to `#[delayed(pure)]` functions.
///
/// ```
/// use dagr::{Tokenize, TokenHasher};
/// #[derive(Clone)]
/// struct Point { x: f64, y: f64 }
/// impl Tokenize for Point {
///     fn tokenize(&self, h: &mut TokenHasher) {
///         self.x.tokenize(h);
///         self.y.tokenize(h);
///     }
/// }
/// ```
pub trait Tokenize {
    /// Feeds this value's identity into `h`.
    fn tokenize(&self, h: &mut TokenHasher);
}

macro_rules! tokenize_by_hash {
    ($($t:ty),*) => {$(
        impl Tokenize for $t {
            fn tokenize(&self, h: &mut TokenHasher) { h.write(self) }
        }
    )*};
}
tokenize_by_hash!(
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    bool,
    char,
    str,
    String,
    (),
    std::path::PathBuf,
    std::path::Path
);

impl Tokenize for f32 {
    fn tokenize(&self, h: &mut TokenHasher) {
        h.write(&self.to_bits())
    }
}

impl Tokenize for f64 {
    fn tokenize(&self, h: &mut TokenHasher) {
        h.write(&self.to_bits())
    }
}

impl<T: Tokenize + ?Sized> Tokenize for &T {
    fn tokenize(&self, h: &mut TokenHasher) {
        (**self).tokenize(h)
    }
}

impl<T: Tokenize + ?Sized> Tokenize for Box<T> {
    fn tokenize(&self, h: &mut TokenHasher) {
        (**self).tokenize(h)
    }
}

impl<T: Tokenize + ?Sized> Tokenize for std::sync::Arc<T> {
    fn tokenize(&self, h: &mut TokenHasher) {
        (**self).tokenize(h)
    }
}

impl<T: Tokenize> Tokenize for [T] {
    fn tokenize(&self, h: &mut TokenHasher) {
        h.write(&self.len());
        self.iter().for_each(|x| x.tokenize(h));
    }
}

impl<T: Tokenize, const N: usize> Tokenize for [T; N] {
    fn tokenize(&self, h: &mut TokenHasher) {
        self[..].tokenize(h)
    }
}

impl<T: Tokenize> Tokenize for Vec<T> {
    fn tokenize(&self, h: &mut TokenHasher) {
        self[..].tokenize(h)
    }
}

impl<T: Tokenize> Tokenize for Option<T> {
    fn tokenize(&self, h: &mut TokenHasher) {
        match self {
            None => h.write(&0u8),
            Some(x) => {
                h.write(&1u8);
                x.tokenize(h)
            }
        }
    }
}

macro_rules! tokenize_tuple {
    ($($n:tt $t:ident),+) => {
        impl<$($t: Tokenize),+> Tokenize for ($($t,)+) {
            fn tokenize(&self, h: &mut TokenHasher) { $(self.$n.tokenize(h);)+ }
        }
    };
}
tokenize_tuple!(0 A);
tokenize_tuple!(0 A, 1 B);
tokenize_tuple!(0 A, 1 B, 2 C);
tokenize_tuple!(0 A, 1 B, 2 C, 3 D);
tokenize_tuple!(0 A, 1 B, 2 C, 3 D, 4 E);
tokenize_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F);

/// A fresh token for a call that is not pure: unique within the process.
pub(crate) fn fresh_token() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    // splitmix64 of a counter: unique (a bijection) and random-looking, like Dask's uuids.
    let mut z = NEXT
        .fetch_add(1, Ordering::Relaxed)
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
