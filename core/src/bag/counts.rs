//! Counting strings without owning them: the table behind `frequencies` and `distinct` of
//! text bags.
//!
//! Words are looked up as borrowed bytes of a partition's buffer. A table slot holds a
//! word's first 16 bytes as two machine words with its length, so words of up to 16 bytes
//! (nearly all of them) are hashed and compared without touching key memory; a key is
//! copied into the distinct-keys column only on its first insertion. Keys are numbered in
//! order of first appearance, which is the order `frequencies` reports them in, and partial
//! tables merge in that order.

use super::column::TextColumn;
use hashbrown::HashTable;

/// A table slot: the word's first 16 bytes (zero padded), its length and its number.
#[derive(Clone, Copy, Debug)]
struct Slot {
    w0: u64,
    w1: u64,
    len: u32,
    idx: u32,
}

/// Distinct strings in order of first appearance with how often each occurred: the
/// partial and final result of `frequencies` over text. A plain owned value (a column and
/// a vector); the table that finds keys lives only while counting ([`Tally`]).
#[derive(Clone, Debug, Default)]
pub(crate) struct WordCounts {
    keys: TextColumn,
    counts: Vec<u64>,
}

/// Counting in progress: the counts and a table from key to its number.
pub(crate) struct Tally {
    counts: WordCounts,
    index: HashTable<Slot>,
}

const K0: u64 = 0x2d35_8dcc_aa6c_78a5;
const K1: u64 = 0x8bb8_4b93_962e_acc9;
const K2: u64 = 0x4b33_a62e_d433_d4a3;

/// The high and low halves of the full product, folded.
#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let r = u128::from(a) * u128::from(b);
    (r as u64) ^ ((r >> 64) as u64)
}

/// The low `k` bytes (`k <= 8`) of a little-endian word.
#[inline(always)]
fn low_bytes(k: usize) -> u64 {
    if k >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * k)) - 1
    }
}

#[inline(always)]
fn load8(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    let n = bytes.len().min(8);
    w[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(w)
}

/// `(w0, w1)`: the first 16 bytes of `text[a..b]`, zero padded. Reads past `b` (masked
/// off) when the buffer allows, which saves a copy per word.
#[inline(always)]
fn head(text: &[u8], a: usize, b: usize) -> (u64, u64) {
    let len = b - a;
    match text.get(a..a + 16) {
        Some(h) => {
            let (x, y) = h.split_at(8);
            let w0 = u64::from_le_bytes(x.try_into().unwrap_or_default());
            let w1 = u64::from_le_bytes(y.try_into().unwrap_or_default());
            (w0 & low_bytes(len), w1 & low_bytes(len.saturating_sub(8)))
        }
        None => {
            let word = &text[a..b];
            (load8(word), load8(word.get(8..).unwrap_or_default()))
        }
    }
}

#[inline(always)]
fn hash_head(w0: u64, w1: u64, len: usize) -> u64 {
    fold_mul(fold_mul(w0 ^ K0, w1 ^ K1), K2 ^ len as u64)
}

/// Hash of a word given its head: long words mix in their remaining bytes.
#[inline(always)]
fn hash_word(word: &[u8], w0: u64, w1: u64) -> u64 {
    if word.len() <= 16 {
        return hash_head(w0, w1, word.len());
    }
    let mut h = fold_mul(w0 ^ K0, w1 ^ K1);
    for chunk in word[16..].chunks(8) {
        h = fold_mul(h ^ load8(chunk), K1);
    }
    fold_mul(h, K2 ^ word.len() as u64)
}

impl WordCounts {
    /// Number of distinct keys.
    pub(crate) fn len(&self) -> usize {
        self.counts.len()
    }

    /// Key `i` (in order of first appearance) and its count.
    pub(crate) fn get(&self, i: usize) -> Option<(&str, u64)> {
        Some((self.keys.get(i)?, *self.counts.get(i)?))
    }

    /// The keys, in order of first appearance.
    pub(crate) fn into_keys(self) -> TextColumn {
        self.keys
    }

    /// The keys with their counts, as owned pairs.
    pub(crate) fn into_pairs(self) -> impl Iterator<Item = (String, u64)> {
        let counts = self.counts;
        self.keys.into_strings().zip(counts)
    }

    /// Merges partial tables given in partition order: counts add up and keys keep their
    /// order of first appearance.
    pub(crate) fn merge(parts: Vec<WordCounts>) -> WordCounts {
        let mut parts = parts.into_iter();
        let mut acc = Tally::from(parts.next().unwrap_or_default());
        for p in parts {
            let text = p.keys.as_str();
            for (w, &n) in p.keys.offsets.windows(2).zip(&p.counts) {
                acc.add(text, w[0], w[1] - 1, n);
            }
        }
        acc.finish()
    }
}

impl Tally {
    /// An empty tally with room for about `distinct` keys.
    pub(crate) fn with_capacity(distinct: usize) -> Tally {
        Tally {
            counts: WordCounts {
                keys: TextColumn::with_capacity(distinct * 8, distinct),
                counts: Vec::with_capacity(distinct),
            },
            index: HashTable::with_capacity(distinct),
        }
    }

    /// Continues counting from `counts` (its table is rebuilt from the keys).
    pub(crate) fn from(counts: WordCounts) -> Tally {
        let mut index = HashTable::with_capacity(counts.len());
        let keys = &counts.keys;
        let text = keys.as_str().as_bytes();
        for (i, w) in keys.offsets.windows(2).enumerate() {
            let (a, b) = (w[0], w[1] - 1);
            let (w0, w1) = head(text, a, b);
            let h = hash_word(&text[a..b], w0, w1);
            let slot = Slot {
                w0,
                w1,
                len: (b - a) as u32,
                idx: i as u32,
            };
            index.insert_unique(h, slot, |s| rehash(s, keys));
        }
        Tally { counts, index }
    }

    /// The counts, without the table (and without spare capacity).
    pub(crate) fn finish(self) -> WordCounts {
        let mut c = self.counts;
        c.counts.shrink_to_fit();
        c.keys.text.shrink_to_fit();
        c.keys.offsets.shrink_to_fit();
        c
    }

    /// Adds `n` to the count of `text[a..b]`, inserting it if new.
    #[inline(always)]
    pub(crate) fn add(&mut self, text: &str, a: usize, b: usize, n: u64) {
        let bytes = text.as_bytes();
        let (w0, w1) = head(bytes, a, b);
        let word = &bytes[a..b];
        let h = hash_word(word, w0, w1);
        let len = word.len() as u32;
        let Tally {
            counts: WordCounts { keys, counts },
            index,
        } = self;
        let found = index.find(h, |s| {
            s.w0 == w0
                && s.w1 == w1
                && s.len == len
                && (len <= 16 || keys.get(s.idx as usize).map(str::as_bytes) == Some(word))
        });
        match found.map(|s| s.idx as usize) {
            Some(i) => counts[i] += n,
            None => {
                let slot = Slot {
                    w0,
                    w1,
                    len,
                    idx: counts.len() as u32,
                };
                keys.push(&text[a..b]);
                counts.push(n);
                index.insert_unique(h, slot, |s| rehash(s, keys));
            }
        }
    }

    /// Counts every word of `text` (split on whitespace).
    pub(crate) fn add_words(&mut self, text: &str) {
        super::kernels::for_each_word(text, |a, b| self.add(text, a, b, 1));
    }

    /// Counts every item of `col`.
    pub(crate) fn add_items(&mut self, col: &TextColumn) {
        let text = col.as_str();
        for w in col.offsets.windows(2) {
            self.add(text, w[0], w[1] - 1, 1);
        }
    }
}

/// A slot's hash, for the table's growth (long keys are read back from the keys column).
fn rehash(s: &Slot, keys: &TextColumn) -> u64 {
    if s.len <= 16 {
        hash_head(s.w0, s.w1, s.len as usize)
    } else {
        let key = keys.get(s.idx as usize).unwrap_or_default().as_bytes();
        hash_word(key, s.w0, s.w1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_order_of_first_appearance_and_merges() {
        let long = "a-word-longer-than-sixteen-bytes";
        let text = format!("b a {long} b c a {long}x {long} é b");
        let mut t = Tally::with_capacity(1);
        t.add_words(&text);
        let t = t.finish();
        let got: Vec<(String, u64)> = t.clone().into_pairs().collect();
        let mut want: Vec<(String, u64)> = Vec::new();
        for w in text.split_whitespace() {
            match want.iter_mut().find(|(k, _)| k == w) {
                Some((_, n)) => *n += 1,
                None => want.push((w.to_owned(), 1)),
            }
        }
        assert_eq!(got, want);
        let mut other = Tally::with_capacity(0);
        other.add_words("z b z");
        let merged: Vec<(String, u64)> = WordCounts::merge(vec![t, other.finish()])
            .into_pairs()
            .collect();
        if let Some(e) = want.iter_mut().find(|(k, _)| k == "b") {
            e.1 += 1;
        }
        want.push(("z".into(), 2));
        assert_eq!(merged, want);
    }
}
