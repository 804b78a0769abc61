//! Counting strings without owning them: the table behind `frequencies` and `distinct` of
//! text bags.
//!
//! Words are looked up as borrowed bytes of a partition's buffer. A table slot holds a
//! word's first 16 bytes as two machine words with its length and count, so words of up to
//! 16 bytes (nearly all of them) are hashed, compared and counted without touching key
//! memory; a key is copied into the distinct-keys column only on its first insertion. Keys
//! are numbered in order of first appearance, which is the order `frequencies` reports
//! them in.
//!
//! A partition's table is cut by hash into [`SHARDS`] shards when it is handed on
//! ([`PartialCounts`]), each key tagged with its rank of first appearance in the whole bag
//! (partition, position). Merging partial tables then works shard by shard, each shard's
//! index small enough to stay in cache, and gives the same result in any order (counts add
//! up, a key keeps its smallest rank); the final step orders the keys by rank.
//!
//! The table is open addressing with linear probing over 32-byte slots. A table of a few
//! hundred thousand words does not fit in the caches, so nearly every rare word is a cache
//! miss; lookups are therefore software-pipelined: a word is hashed and its slot prefetched
//! when the tokenizer finds it, and it is counted [`RING`] words later, so that the misses
//! of consecutive words overlap instead of queueing. (A `hashbrown` table, which cannot be
//! prefetched, counted the benchmark corpus 2–3× slower.)

use super::column::TextColumn;
use std::sync::Arc;

/// How many words ahead of the one being counted are hashed and prefetched.
const RING: usize = 16;

/// Number of shards of a partial table (a power of two).
const SHARDS: usize = 64;

/// A table slot: the word's first 16 bytes (zero padded), its length, its number in order
/// of first appearance and its count. 32 bytes, aligned, so a slot is one cache access. A
/// slot of count zero is vacant (every key is counted at least once), so all-zero memory
/// is a vacant table.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(32))]
struct Slot {
    w0: u64,
    w1: u64,
    len: u32,
    idx: u32,
    count: u64,
}

impl Slot {
    fn is_vacant(&self) -> bool {
        self.count == 0
    }
}

const VACANT: Slot = Slot {
    w0: 0,
    w1: 0,
    len: 0,
    idx: 0,
    count: 0,
};

/// Slot arrays of this many bytes or more get a memory mapping of their own.
const MAPPED_SLOTS: usize = 2 << 20;

/// A table's slots, all vacant to start with. A large array (a partition's table is
/// megabytes) is a mapping of its own, asked to be backed by huge pages: its pages come
/// zeroed (vacant) from the system and go back to it when the table is dropped, instead
/// of staying in the allocator's per-thread arenas, where buffers of this size added up to
/// tens of megabytes across threads.
enum Slots {
    Heap(Vec<Slot>),
    Mapped(memmap2::MmapMut),
}

impl Slots {
    /// `n` vacant slots.
    fn vacant(n: usize) -> Slots {
        let bytes = n * std::mem::size_of::<Slot>();
        if bytes >= MAPPED_SLOTS {
            if let Ok(map) = memmap2::MmapMut::map_anon(bytes) {
                #[cfg(target_os = "linux")]
                let _ = map.advise(memmap2::Advice::HugePage);
                return Slots::Mapped(map);
            }
        }
        Slots::Heap(vec![VACANT; n])
    }
}

impl std::ops::Deref for Slots {
    type Target = [Slot];
    fn deref(&self) -> &[Slot] {
        match self {
            Slots::Heap(v) => v,
            // SAFETY: the mapping is page aligned (more than a slot's alignment), a whole
            // number of slots long (made by `vacant`), and readable for as long as `self`
            // is borrowed; any bytes are a valid `Slot` (integers only).
            Slots::Mapped(m) => unsafe {
                std::slice::from_raw_parts(
                    m.as_ptr().cast::<Slot>(),
                    m.len() / std::mem::size_of::<Slot>(),
                )
            },
        }
    }
}

impl std::ops::DerefMut for Slots {
    fn deref_mut(&mut self) -> &mut [Slot] {
        match self {
            Slots::Heap(v) => v,
            // SAFETY: as in `deref`, and the mapping is writable and borrowed mutably.
            Slots::Mapped(m) => unsafe {
                std::slice::from_raw_parts_mut(
                    m.as_mut_ptr().cast::<Slot>(),
                    m.len() / std::mem::size_of::<Slot>(),
                )
            },
        }
    }
}

/// Distinct strings in order of first appearance with how often each occurred: the
/// result of `frequencies` over text. A plain owned value (a column and a vector).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct WordCounts {
    keys: TextColumn,
    counts: Vec<u64>,
}

impl WordCounts {
    /// The keys, in order of first appearance.
    pub(crate) fn into_keys(self) -> TextColumn {
        self.keys
    }

    /// The keys with their counts, as owned pairs.
    pub(crate) fn into_pairs(self) -> impl Iterator<Item = (String, u64)> {
        let counts = self.counts;
        self.keys.into_strings().zip(counts)
    }
}

/// The keys of one shard with their counts and ranks.
#[derive(Clone, Debug, Default)]
struct Shard {
    keys: TextColumn,
    counts: Vec<u64>,
    /// `partition << 32 | position` of each key's first appearance.
    ranks: Vec<u64>,
    /// The top half of each key's hash, which places it in an [`Index`], so that making
    /// one does not hash the keys again. Not sent between processes: a shard that arrives
    /// hashes its keys at its first merge.
    tops: Vec<u32>,
}

/// A key being looked up: its hash (the counting table's) and its head (see [`head`]).
#[derive(Clone, Copy)]
struct Probe {
    hash: u64,
    w0: u64,
    w1: u64,
}

impl Probe {
    #[inline(always)]
    fn of(text: &[u8], a: usize, b: usize) -> Probe {
        let (w0, w1) = head(text, a, b);
        Probe {
            hash: hash_word(&text[a..b], w0, w1),
            w0,
            w1,
        }
    }

    /// The top half of the hash, as [`Shard::tops`] keeps it.
    fn top(self) -> u32 {
        (self.hash >> 32) as u32
    }
}

/// Finds a shard's keys while it takes in another's: open addressing with linear probing,
/// a slot holding a key's number plus one (zero is vacant), the load under 7/10.
///
/// Made for one merge step, just before the other shard's keys are looked up, and dropped
/// after it: the index and the shard's keys are in cache while they are looked up, whatever
/// the order of the keys (an index kept from step to step was out of cache at every step).
struct Index {
    slots: Vec<u32>,
    /// `64 - log2(slots.len())`: a hash's top bits pick its first slot.
    shift: u32,
}

impl Index {
    /// The index of `shard`'s keys (their [`Shard::tops`] known), with room for `more` keys.
    fn of(shard: &Shard, more: usize) -> Index {
        let n = ((shard.len() + more) * 10 / 7 + 1)
            .next_power_of_two()
            .max(16);
        let mut index = Index {
            slots: vec![0; n],
            shift: 64 - n.trailing_zeros(),
        };
        // the keys are distinct: each takes the first vacant slot from its place
        let mask = n - 1;
        for (j, &top) in shard.tops.iter().enumerate() {
            let mut i = (u64::from(top) << 32 >> index.shift) as usize;
            while index.slots[i] != 0 {
                i = (i + 1) & mask;
            }
            index.slots[i] = j as u32 + 1;
        }
        index
    }

    /// The number of `shard`'s key `word` (probed by `p`), or the vacant slot it would take.
    #[inline(always)]
    fn find(&self, shard: &Shard, word: &[u8], p: Probe) -> Result<usize, usize> {
        let mask = self.slots.len() - 1;
        let (text, offsets) = (shard.keys.text.as_bytes(), &shard.keys.offsets);
        let mut i = (p.hash >> self.shift) as usize;
        loop {
            let s = self.slots[i] as usize;
            if s == 0 {
                return Err(i);
            }
            // numbers past the shard's keys are claimed for keys not yet added
            if s <= shard.len() {
                let (a, b) = (offsets[s - 1], offsets[s] - 1);
                if b - a == word.len()
                    && if word.len() <= 16 {
                        head(text, a, b) == (p.w0, p.w1)
                    } else {
                        &text[a..b] == word
                    }
                {
                    return Ok(s - 1);
                }
            }
            i = (i + 1) & mask;
        }
    }
}

impl Shard {
    fn len(&self) -> usize {
        self.counts.len()
    }

    /// Adds the keys counted in `other` (of other partitions): counts add up and each key
    /// keeps its smallest rank, so shards merge in any order with the same result; keys
    /// new to this shard follow in `other`'s order.
    fn absorb(&mut self, other: &Shard) {
        if other.len() == 0 {
            return;
        }
        if self.tops.len() != self.len() {
            let text = self.keys.text.as_bytes();
            self.tops = (self.keys.offsets.windows(2))
                .map(|w| Probe::of(text, w[0], w[1] - 1).top())
                .collect();
        }
        let mut index = Index::of(self, other.len());
        // the lookups below compare keys with this shard's: its offsets and bytes, a few
        // hundred kilobytes, are asked for from end to end first (a sweep the memory
        // system serves at its pace, instead of one miss per key)
        warm(&self.keys.offsets);
        warm(self.keys.text.as_bytes());
        let text = other.keys.text.as_bytes();
        // the keys this shard has take their counts; the others wait with their slots
        let mut new: Vec<(u32, u32)> = Vec::new();
        let mut bytes = 0;
        // a found key's count and rank are out of cache (the index was made from the keys
        // alone): they are asked for when it is found and updated [`FOUND`] keys later
        const FOUND: usize = 8;
        let mut found = [(0usize, 0usize); FOUND];
        let mut pending = 0;
        for (j, w) in other.keys.offsets.windows(2).enumerate() {
            let (a, b) = (w[0], w[1] - 1);
            let probe = Probe::of(text, a, b);
            match index.find(self, &text[a..b], probe) {
                Ok(k) => {
                    prefetch(self.counts.as_ptr().wrapping_add(k));
                    prefetch(self.ranks.as_ptr().wrapping_add(k));
                    let (k, j) = std::mem::replace(&mut found[pending % FOUND], (k, j));
                    if pending >= FOUND {
                        self.counts[k] += other.counts[j];
                        self.ranks[k] = self.ranks[k].min(other.ranks[j]);
                    }
                    pending += 1;
                }
                Err(slot) => {
                    // claimed now: keys of `other` are distinct, and the index has room
                    index.slots[slot] = (self.len() + new.len()) as u32 + 1;
                    new.push((j as u32, probe.top()));
                    bytes += b - a + 1;
                }
            }
        }
        for &(k, j) in &found[..pending.min(FOUND)] {
            self.counts[k] += other.counts[j];
            self.ranks[k] = self.ranks[k].min(other.ranks[j]);
        }
        // room for what comes, and an eighth more: a running table grows by a little at
        // each step, and copying it at every step would cost more than its keys' lookups
        fn room<T>(v: &mut Vec<T>, more: usize) {
            if v.capacity() - v.len() < more {
                v.reserve_exact(more.max(v.len() / 8));
            }
        }
        let text = &mut self.keys.text;
        if text.capacity() - text.len() < bytes {
            text.reserve_exact(bytes.max(text.len() / 8));
        }
        room(&mut self.keys.offsets, new.len());
        room(&mut self.counts, new.len());
        room(&mut self.ranks, new.len());
        room(&mut self.tops, new.len());
        for (j, top) in new {
            let j = j as usize;
            self.keys.push(other.keys.get(j).unwrap_or_default());
            self.counts.push(other.counts[j]);
            self.ranks.push(other.ranks[j]);
            self.tops.push(top);
        }
    }
}

/// On the wire a shard is its text; the keys' lengths only when a key holds a `'\n'` (else
/// each key ends at the next one); the counts; and the ranks as differences from the one
/// before (ascending within a shard merged in partition order, so one or two bytes each
/// instead of five or more).
mod shard_wire {
    use super::{Shard, TextColumn};
    use serde::de::{self, Deserializer, SeqAccess, Visitor};
    use serde::ser::{SerializeTuple, Serializer};
    use serde::{Deserialize, Serialize};
    use std::fmt;

    /// Signed differences folded into unsigned numbers (zigzag), small either way.
    fn fold(d: i64) -> u64 {
        ((d << 1) ^ (d >> 63)) as u64
    }

    fn unfold(z: u64) -> i64 {
        (z >> 1) as i64 ^ -((z & 1) as i64)
    }

    struct Steps<'a>(&'a [u64]);

    impl Serialize for Steps<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut prev = 0u64;
            s.collect_seq(self.0.iter().map(|&r| {
                let d = r.wrapping_sub(prev) as i64;
                prev = r;
                fold(d)
            }))
        }
    }

    impl Serialize for Shard {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let keys = &self.keys;
            let plain = memchr::memchr_iter(b'\n', keys.text.as_bytes()).count() == keys.len();
            let lengths: Option<Vec<usize>> =
                (!plain).then(|| keys.offsets.windows(2).map(|w| w[1] - w[0] - 1).collect());
            let mut t = s.serialize_tuple(4)?;
            t.serialize_element(&keys.text)?;
            t.serialize_element(&lengths)?;
            t.serialize_element(&self.counts)?;
            t.serialize_element(&Steps(&self.ranks))?;
            t.end()
        }
    }

    impl<'de> Deserialize<'de> for Shard {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Shard, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Shard;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a shard of counted keys")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shard, A::Error> {
                    fn element<'de, T: Deserialize<'de>, A: SeqAccess<'de>>(
                        seq: &mut A,
                        i: usize,
                    ) -> Result<T, A::Error> {
                        seq.next_element()?
                            .ok_or_else(|| de::Error::invalid_length(i, &"4 elements"))
                    }
                    let text: String = element(&mut seq, 0)?;
                    let lengths: Option<Vec<usize>> = element(&mut seq, 1)?;
                    let counts: Vec<u64> = element(&mut seq, 2)?;
                    let steps: Vec<u64> = element(&mut seq, 3)?;
                    let mut offsets = Vec::with_capacity(counts.len() + 1);
                    offsets.push(0);
                    match lengths {
                        None => offsets
                            .extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|p| p + 1)),
                        Some(lengths) => {
                            let mut at = 0usize;
                            for n in lengths {
                                at = at.saturating_add(n).saturating_add(1);
                                offsets.push(at);
                            }
                        }
                    }
                    let mut prev = 0u64;
                    let ranks: Vec<u64> = steps
                        .into_iter()
                        .map(|z| {
                            prev = prev.wrapping_add(unfold(z) as u64);
                            prev
                        })
                        .collect();
                    let consistent = offsets.len() == counts.len() + 1
                        && ranks.len() == counts.len()
                        && offsets.last() == Some(&text.len())
                        && offsets.windows(2).all(|w| {
                            w[0] < w[1]
                                && text.as_bytes()[w[1] - 1] == b'\n'
                                && text.is_char_boundary(w[1] - 1)
                        });
                    if !consistent {
                        return Err(de::Error::custom(
                            "a shard whose keys, counts and ranks disagree",
                        ));
                    }
                    Ok(Shard {
                        keys: TextColumn { text, offsets },
                        counts,
                        ranks,
                        tops: Vec::new(),
                    })
                }
            }
            d.deserialize_tuple(4, V)
        }
    }
}

/// A partial result of counting: the keys seen in some partitions, cut into shards by
/// hash, each key with its count and rank of first appearance. A plain value (shards are
/// shared, not copied, between the groups cut from one table).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct PartialCounts {
    shards: Vec<Arc<Shard>>,
}

/// Groups of shards the final merge of `frequencies` is cut into, each merged on its own
/// (on its own rank of a cluster).
pub(crate) const GROUPS: usize = 8;

impl PartialCounts {
    /// The shards of group `g` of [`GROUPS`] (shared, not copied).
    pub(crate) fn group(&self, g: usize) -> PartialCounts {
        let per = self.shards.len().div_ceil(GROUPS);
        PartialCounts {
            shards: self
                .shards
                .iter()
                .skip(g * per)
                .take(per)
                .cloned()
                .collect(),
        }
    }

    /// The groups of one table back together, in group order.
    pub(crate) fn concat(groups: Vec<PartialCounts>) -> PartialCounts {
        PartialCounts {
            shards: groups.into_iter().flat_map(|g| g.shards).collect(),
        }
    }

    /// Merges partial results (all cut into the same shards), shard by shard: counts add
    /// up and each key keeps its smallest rank, whatever the order of the inputs.
    ///
    /// The first input is the large one along a chain (the running result): each step
    /// indexes its shards from the hashes they keep (`Shard::tops`, not hashed again) and
    /// the later inputs' keys look themselves up there.
    pub(crate) fn merge(parts: Vec<PartialCounts>) -> PartialCounts {
        let count = parts.iter().map(|p| p.shards.len()).max().unwrap_or(0);
        let mut parts: Vec<std::vec::IntoIter<Arc<Shard>>> =
            parts.into_iter().map(|p| p.shards.into_iter()).collect();
        let mut shards = Vec::with_capacity(count);
        for _ in 0..count {
            let mut these = parts.iter_mut().map(|p| p.next().unwrap_or_default());
            let first = these.next().unwrap_or_default();
            let later: Vec<Arc<Shard>> = these.collect();
            if later.is_empty() {
                // a chain's first step: nothing to add
                shards.push(first);
                continue;
            }
            let mut acc = Arc::try_unwrap(first).unwrap_or_else(|s| (*s).clone());
            for p in &later {
                acc.absorb(p);
            }
            shards.push(Arc::new(acc));
        }
        PartialCounts { shards }
    }

    /// Number of distinct keys.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.counts.len()).sum()
    }

    /// Calls `f(key, count, rank)` for every key, in no particular order; ranks order keys
    /// by first appearance.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&str, u64, u64)) {
        for s in &self.shards {
            for ((key, &n), &r) in s.keys.iter().zip(&s.counts).zip(&s.ranks) {
                f(key, n, r);
            }
        }
    }

    /// The counts, keys in order of first appearance.
    pub(crate) fn finish(self) -> WordCounts {
        let mut order: Vec<(u64, u32, u32)> = Vec::new();
        for (s, shard) in self.shards.iter().enumerate() {
            order.extend((shard.ranks.iter().enumerate()).map(|(j, &r)| (r, s as u32, j as u32)));
        }
        order.sort_unstable();
        let bytes = self.shards.iter().map(|s| s.keys.text.len()).sum();
        let mut keys = TextColumn::with_capacity(bytes, order.len());
        let mut counts = Vec::with_capacity(order.len());
        for &(_, s, j) in &order {
            let shard = &self.shards[s as usize];
            keys.push(shard.keys.get(j as usize).unwrap_or_default());
            counts.push(shard.counts[j as usize]);
        }
        WordCounts { keys, counts }
    }
}

/// The partial tables of one run that one process has counted, merged group by group as
/// they come.
///
/// A merge chain takes partial tables in partition order, so when one worker is slowed
/// down in a partition (the system gave its core to another program), the tables the other
/// workers count meanwhile wait in line, megabytes each. Added here instead, a table is
/// merged at once, in whatever order the tables come (merging is order-free), and freed:
/// a process holds one running table per group. Only for a run in one process: on a
/// cluster each rank's tables go along the chains to the rank that merges them.
#[derive(Default)]
pub(crate) struct Inbox {
    groups: [std::sync::Mutex<Option<PartialCounts>>; GROUPS],
}

impl Inbox {
    fn group(&self, g: usize) -> std::sync::MutexGuard<'_, Option<PartialCounts>> {
        // a panic while merging fails the run, which drops the inbox: no one reads it again
        self.groups[g % GROUPS]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Merges `part`, the shards of group `g` of a partial table, into the group's table.
    pub(crate) fn add(&self, g: usize, part: PartialCounts) {
        let mut slot = self.group(g);
        *slot = Some(match slot.take() {
            None => part,
            Some(acc) => PartialCounts::merge(vec![acc, part]),
        });
    }

    /// The table of group `g`, if anything was added (and leaves none).
    pub(crate) fn take(&self, g: usize) -> Option<PartialCounts> {
        self.group(g).take()
    }
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

/// Hash of a word given its head: long words mix in their remaining bytes.
#[inline(always)]
fn hash_word(word: &[u8], w0: u64, w1: u64) -> u64 {
    let h = fold_mul(w0 ^ K0, w1 ^ K1);
    if word.len() <= 16 {
        return fold_mul(h, K2 ^ word.len() as u64);
    }
    let mut h = h;
    for chunk in word[16..].chunks(8) {
        h = fold_mul(h ^ load8(chunk), K1);
    }
    fold_mul(h, K2 ^ word.len() as u64)
}

/// Asks the CPU to bring `p`'s cache line in; it does not wait for it. (Without it, the
/// word count of the benchmark corpus took 1.7 s of CPU time instead of 0.9 s.)
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of the x86_64 baseline, and a prefetch is only a hint: it reads
    // nothing the program can observe and never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Asks for every cache line of `items`, without waiting for any.
fn warm<T>(items: &[T]) {
    let bytes = std::mem::size_of_val(items);
    let start = items.as_ptr().cast::<u8>();
    for at in (0..bytes).step_by(64) {
        prefetch(start.wrapping_add(at));
    }
}

/// A word found but not yet counted.
#[derive(Clone, Copy, Default)]
struct Pending {
    a: usize,
    b: usize,
    w0: u64,
    w1: u64,
    hash: u64,
}

/// The words between being found and being counted.
struct Ring {
    words: [Pending; RING],
    pushed: usize,
}

impl Ring {
    fn new() -> Ring {
        Ring {
            words: [Pending::default(); RING],
            pushed: 0,
        }
    }
}

/// Counting in progress: the distinct keys so far and the table that finds them.
pub(crate) struct Tally {
    keys: TextColumn,
    slots: Slots,
    /// `64 - log2(slots.len())`: a hash's top bits pick its first slot.
    shift: u32,
}

impl Tally {
    /// An empty tally with room for about `distinct` keys.
    pub(crate) fn with_capacity(distinct: usize) -> Tally {
        let n = (distinct * 10 / 7 + 1).next_power_of_two().max(16);
        Tally {
            keys: TextColumn::with_capacity(distinct * 8, distinct),
            slots: Slots::vacant(n),
            shift: 64 - n.trailing_zeros(),
        }
    }

    /// Number of distinct keys.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Puts a slot of a key known to be absent into the first free place of its run.
    fn place(&mut self, hash: u64, slot: Slot) {
        let mask = self.slots.len() - 1;
        let mut i = (hash >> self.shift) as usize;
        while !self.slots[i].is_vacant() {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
    }

    /// Doubles the table.
    fn grow(&mut self) {
        let bigger = Slots::vacant(self.slots.len() * 2);
        let old = std::mem::replace(&mut self.slots, bigger);
        self.shift -= 1;
        for &s in old.iter().filter(|s| !s.is_vacant()) {
            let hash = if s.len <= 16 {
                hash_word(&[0; 16][..s.len as usize], s.w0, s.w1)
            } else {
                let key = self.keys.get(s.idx as usize).unwrap_or_default();
                hash_word(key.as_bytes(), s.w0, s.w1)
            };
            self.place(hash, s);
        }
    }

    /// Counts one more of the word `p`, inserting it if new.
    #[inline(always)]
    fn count(&mut self, text: &str, p: Pending) {
        let word = &text.as_bytes()[p.a..p.b];
        let len = word.len() as u32;
        let mask = self.slots.len() - 1;
        let mut i = (p.hash >> self.shift) as usize;
        loop {
            let s = &self.slots[i];
            if s.is_vacant() {
                break;
            }
            if s.w0 == p.w0
                && s.w1 == p.w1
                && s.len == len
                && (len <= 16 || self.keys.get(s.idx as usize).map(str::as_bytes) == Some(word))
            {
                self.slots[i].count += 1;
                return;
            }
            i = (i + 1) & mask;
        }
        // a new key: keep the load under 7/10
        let idx = self.len() as u32;
        let slot = Slot {
            w0: p.w0,
            w1: p.w1,
            len,
            idx,
            count: 1,
        };
        if (self.len() + 1) * 10 > self.slots.len() * 7 {
            self.keys.push(&text[p.a..p.b]);
            self.grow();
            self.place(p.hash, slot);
        } else {
            self.keys.push(&text[p.a..p.b]);
            self.slots[i] = slot;
        }
    }

    /// Hashes `text[a..b]`, prefetches its slot and counts the word found [`RING`] words
    /// ago.
    #[inline(always)]
    fn push(&mut self, ring: &mut Ring, text: &str, a: usize, b: usize) {
        let bytes = text.as_bytes();
        let Probe { hash, w0, w1 } = Probe::of(bytes, a, b);
        prefetch(
            self.slots
                .as_ptr()
                .wrapping_add((hash >> self.shift) as usize),
        );
        let p = Pending { a, b, w0, w1, hash };
        let old = std::mem::replace(&mut ring.words[ring.pushed % RING], p);
        if ring.pushed >= RING {
            self.count(text, old);
        }
        ring.pushed += 1;
    }

    /// Counts the words still in the ring.
    fn drain(&mut self, ring: &mut Ring, text: &str) {
        for k in ring.pushed.saturating_sub(RING)..ring.pushed {
            self.count(text, ring.words[k % RING]);
        }
        ring.pushed = 0;
    }

    /// Counts every word of `text` (split on whitespace).
    pub(crate) fn add_words(&mut self, text: &str) {
        let mut ring = Ring::new();
        super::kernels::for_each_word(text, |a, b| self.push(&mut ring, text, a, b));
        self.drain(&mut ring, text);
    }

    /// Counts every item of `col`.
    pub(crate) fn add_items(&mut self, col: &TextColumn) {
        let text = col.as_str();
        let mut ring = Ring::new();
        for w in col.offsets.windows(2) {
            self.push(&mut ring, text, w[0], w[1] - 1);
        }
        self.drain(&mut ring, text);
    }

    /// The counts of partition `part`, cut into shards (the table is dropped).
    pub(crate) fn into_partial(self, part: usize) -> PartialCounts {
        // each key's count and shard, from its slot (hashed again from the slot's bytes)
        let mut counts = vec![0; self.len()];
        let mut which = vec![0u8; self.len()];
        let mut tops = vec![0u32; self.len()];
        let mut sizes = [(0usize, 0usize); SHARDS];
        for s in self.slots.iter().filter(|s| !s.is_vacant()) {
            let hash = if s.len <= 16 {
                hash_word(&[0; 16][..s.len as usize], s.w0, s.w1)
            } else {
                let key = self.keys.get(s.idx as usize).unwrap_or_default();
                hash_word(key.as_bytes(), s.w0, s.w1)
            };
            let shard = hash as usize % SHARDS;
            sizes[shard].0 += s.len as usize;
            sizes[shard].1 += 1;
            counts[s.idx as usize] = s.count;
            which[s.idx as usize] = shard as u8;
            tops[s.idx as usize] = (hash >> 32) as u32;
        }
        drop(self.slots);
        // shards of exactly the size they need, filled in order of first appearance
        let mut shards: Vec<Shard> = sizes
            .iter()
            .map(|&(bytes, n)| Shard {
                keys: TextColumn::with_capacity(bytes, n),
                counts: Vec::with_capacity(n),
                ranks: Vec::with_capacity(n),
                tops: Vec::with_capacity(n),
            })
            .collect();
        let keys = self.keys.iter().zip(&which).zip(counts.iter().zip(&tops));
        for (i, ((key, &s), (&n, &top))) in keys.enumerate() {
            let shard = &mut shards[s as usize];
            shard.keys.push(key);
            shard.counts.push(n);
            shard.ranks.push((part as u64) << 32 | i as u64);
            shard.tops.push(top);
        }
        PartialCounts {
            shards: shards.into_iter().map(Arc::new).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oracle(words: &[&str]) -> Vec<(String, u64)> {
        let mut want: Vec<(String, u64)> = Vec::new();
        for w in words {
            match want.iter_mut().find(|(k, _)| k == w) {
                Some((_, n)) => *n += 1,
                None => want.push((w.to_string(), 1)),
            }
        }
        want
    }

    #[test]
    fn counts_in_order_of_first_appearance_and_merges() {
        let long = "a-word-longer-than-sixteen-bytes";
        let mut text = format!("b a {long} b c a {long}x {long} é b ");
        // enough distinct words to grow the table several times
        for i in 0..3000 {
            text.push_str(&format!("w{} ", i % 1700));
            text.push_str(&format!("{long}{} ", i % 50));
        }
        let mut t = Tally::with_capacity(1);
        t.add_words(&text);
        let t = t.into_partial(0);
        let words: Vec<&str> = text.split_whitespace().collect();
        let mut want = oracle(&words);
        let alone = PartialCounts::merge(vec![t.clone()]).finish();
        assert_eq!(alone.into_pairs().collect::<Vec<_>>(), want);
        let mut other = Tally::with_capacity(0);
        other.add_words("z b z");
        let merged: Vec<(String, u64)> = PartialCounts::merge(vec![t, other.into_partial(1)])
            .finish()
            .into_pairs()
            .collect();
        if let Some(e) = want.iter_mut().find(|(k, _)| k == "b") {
            e.1 += 1;
        }
        want.push(("z".into(), 2));
        assert_eq!(merged, want);
    }

    #[test]
    fn partial_tables_merge_alike_in_any_order_and_grouping() {
        // partitions sharing some keys, with long keys and keys holding '\n' (items)
        let parts: Vec<Vec<String>> = (0..5u64)
            .map(|p| {
                (0..4000u64)
                    .map(|i| {
                        let k = (i * 2_654_435_761 + p * 977) % (1500 + 700 * p);
                        match k % 7 {
                            0 => format!("a-key-longer-than-sixteen-bytes-{k}"),
                            1 => format!("two\nlines{k}"),
                            _ => format!("k{k}"),
                        }
                    })
                    .collect()
            })
            .collect();
        let all: Vec<&str> = parts.iter().flatten().map(String::as_str).collect();
        let want = oracle(&all);
        let partial = |p: usize| {
            let mut t = Tally::with_capacity(0);
            t.add_items(&parts[p].iter().map(String::as_str).collect());
            t.into_partial(p)
        };
        let pairs = |m: PartialCounts| m.finish().into_pairs().collect::<Vec<_>>();
        // a chain in partition order, a chain in reverse, all at once, a tree of pairs
        let chain = |order: &[usize]| {
            let mut acc = PartialCounts::merge(vec![partial(order[0])]);
            for &p in &order[1..] {
                acc = PartialCounts::merge(vec![acc, partial(p)]);
            }
            acc
        };
        assert_eq!(pairs(chain(&[0, 1, 2, 3, 4])), want);
        assert_eq!(pairs(chain(&[4, 3, 2, 1, 0])), want);
        assert_eq!(pairs(chain(&[2, 0, 4, 1, 3])), want);
        assert_eq!(
            pairs(PartialCounts::merge((0..5).map(partial).collect())),
            want
        );
        let left = PartialCounts::merge(vec![partial(3), partial(0)]);
        let right = PartialCounts::merge(vec![partial(4), partial(1), partial(2)]);
        assert_eq!(pairs(PartialCounts::merge(vec![right, left])), want);
    }

    #[test]
    fn tables_mapped_or_grown_count_alike() {
        // enough distinct words for a slot array that is mapped (at the start, or by
        // growing from a small one), with repeats
        let mut text = String::new();
        for i in 0..150_000u32 {
            text.push_str(&format!("k{} ", i.wrapping_mul(2_654_435_761) % 90_000));
        }
        let words: Vec<&str> = text.split_whitespace().collect();
        let mut want: Vec<(String, u64)> = Vec::new();
        let mut at: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for w in &words {
            match at.get(w) {
                Some(&j) => want[j].1 += 1,
                None => {
                    at.insert(*w, want.len());
                    want.push((w.to_string(), 1));
                }
            }
        }
        for start in [1, 90_000] {
            let mut t = Tally::with_capacity(start);
            t.add_words(&text);
            assert!(matches!(t.slots, Slots::Mapped(_)));
            let got: Vec<(String, u64)> = PartialCounts::merge(vec![t.into_partial(0)])
                .finish()
                .into_pairs()
                .collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn items_with_empty_strings() {
        let col: TextColumn = ["", "x", "", "a-much-longer-item-than-16", "x"]
            .into_iter()
            .collect();
        let mut t = Tally::with_capacity(0);
        t.add_items(&col);
        let got: Vec<(String, u64)> = t.into_partial(0).finish().into_pairs().collect();
        assert_eq!(
            got,
            oracle(&["", "x", "", "a-much-longer-item-than-16", "x"])
        );
    }

    fn round_trip(p: &PartialCounts) -> PartialCounts {
        postcard::from_bytes(&postcard::to_allocvec(p).unwrap()).unwrap()
    }

    #[test]
    fn partial_tables_cross_the_wire_whole() {
        let mut t = Tally::with_capacity(0);
        t.add_words("z b z é a-word-longer-than-sixteen-bytes b");
        let mut u = Tally::with_capacity(0);
        u.add_words("b q z");
        let merged = PartialCounts::merge(vec![t.into_partial(3), u.into_partial(9)]);
        let pairs = |p: &PartialCounts| {
            let mut v = Vec::new();
            p.for_each(|k, n, r| v.push((k.to_string(), n, r)));
            v
        };
        assert_eq!(pairs(&round_trip(&merged)), pairs(&merged));
        // a table that arrived (its keys' hashes not sent) merges as the one sent
        let later = || {
            let mut v = Tally::with_capacity(0);
            v.add_words("q q new é b");
            v.into_partial(12)
        };
        let finish = |p: PartialCounts| p.finish().into_pairs().collect::<Vec<_>>();
        assert_eq!(
            finish(PartialCounts::merge(vec![
                round_trip(&merged),
                round_trip(&later())
            ])),
            finish(PartialCounts::merge(vec![merged.clone(), later()]))
        );
        // items holding line breaks (and empty ones) keep their bounds
        let col: TextColumn = ["two\nlines", "", "two\nlines", "x\n"]
            .into_iter()
            .collect();
        let mut t = Tally::with_capacity(0);
        t.add_items(&col);
        let p = t.into_partial(0);
        assert_eq!(pairs(&round_trip(&p)), pairs(&p));
        // bytes that do not describe a shard are an error, not a panic
        let mut bytes = postcard::to_allocvec(&merged).unwrap();
        for cut in [1, bytes.len() / 2, bytes.len() - 1] {
            assert!(postcard::from_bytes::<PartialCounts>(&bytes[..cut]).is_err());
        }
        let at = bytes.iter().position(|&b| b == b'\n').unwrap();
        bytes[at] = b'y';
        assert!(postcard::from_bytes::<PartialCounts>(&bytes).is_err());
    }
}
