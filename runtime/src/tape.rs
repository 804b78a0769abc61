//! Record tapes: threads append records without locks, a reader collects them afterwards
//! (what a profiler needs to keep one record per task at the cost of a few plain stores).
//!
//! A [`Tape`] is a list of [`Chunk`]s. Each chunk has one writer, the [`TapeWriter`] that
//! made it (a writer is not `Clone`, and pushes through `&mut self`), so no two threads ever
//! write the same chunk.
//!
//! # Protocol
//! 1. A writer makes a chunk and adds it to the tape's list under the tape's lock, before
//!    writing anything into it. That is the only lock, taken once per chunk.
//! 2. To push, the writer writes the slot at its own count, then stores the new count into
//!    the chunk's `published` with `Release` (a plain store on x86: no read-modify-write).
//! 3. A full chunk is left as it is: the writer makes the next one (step 1), twice as large
//!    up to 1 MiB.
//! 4. A reader takes the list under the lock, loads each chunk's `published` with
//!    `Acquire`, and reads the slots below it. Those slots were written before the store it
//!    loaded (the happens-before edge), and no slot below `published` is ever written
//!    again, so a reader and a writer never touch the same slot at the same time, whatever
//!    else they do meanwhile.
//!
//! Whatever was pushed before something that happens-before the read (a run's end, after
//! its last task) is seen whole. A group pushed with [`TapeWriter::push_all`] lands in one
//! chunk and is published by one store: a reader sees all of it or none.
//!
//! Chunks are shared (`Arc`): a reader may keep them after the writer moved on, and a writer
//! that pushes after the reader has gone writes into memory nobody reads, never freed
//! under it.

use crate::sync::{AtomicBool, AtomicUsize, Mutex, Ordering, UnsafeCell};
use std::mem::MaybeUninit;
use std::sync::Arc;

/// A chunk never grows past this many bytes (its records' size times its capacity),
/// unless a single [`TapeWriter::push_all`] group needs more.
const MAX_CHUNK_BYTES: usize = 1 << 20;

/// Records appended by any number of writers, each into chunks of its own, and read by
/// anyone (see the module docs for the protocol).
///
/// ```
/// use dagr::runtime::Tape;
/// use std::sync::Arc;
///
/// let tape: Arc<Tape<u64>> = Arc::new(Tape::new(4));
/// let threads: Vec<_> = (0..2u32)
///     .map(|t| {
///         let mut w = Tape::writer(&tape, t);
///         std::thread::spawn(move || (0..10).for_each(|i| w.push(u64::from(t) * 100 + i)))
///     })
///     .collect();
/// threads.into_iter().for_each(|t| t.join().unwrap());
/// let mut all: Vec<u64> = tape.chunks().iter().flat_map(|c| c.iter()).collect();
/// all.sort();
/// assert_eq!(all.len(), 20);
/// assert_eq!((all[0], all[19]), (0, 109));
/// ```
#[derive(Debug)]
pub struct Tape<T> {
    chunks: Mutex<Vec<Arc<Chunk<T>>>>,
    /// Capacity of each writer's first chunk, in records.
    first: usize,
    closed: AtomicBool,
}

impl<T: Copy> Tape<T> {
    /// An empty tape whose writers start with chunks of `first` records (at least 2, and
    /// no more than fit in 1 MiB).
    pub fn new(first: usize) -> Self {
        Tape {
            chunks: Mutex::new(Vec::new()),
            first: first.clamp(2, max_records::<T>()),
            closed: AtomicBool::new(false),
        }
    }

    /// A new writer into `tape`; its chunks carry `tag` (a worker index, say). It makes its
    /// first chunk at its first push.
    pub fn writer(tape: &Arc<Tape<T>>, tag: u32) -> TapeWriter<T> {
        TapeWriter {
            tape: tape.clone(),
            tag,
            chunk: None,
            len: 0,
            cap: 0,
        }
    }

    /// Every chunk so far, in the order they were made (a writer's chunks in the order it
    /// filled them).
    pub fn chunks(&self) -> Vec<Arc<Chunk<T>>> {
        self.chunks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Marks the tape as read for good: writers' owners that see it may drop their writers.
    /// Writers can still push (nobody reads it).
    ///
    /// ```
    /// let tape = dagr::runtime::Tape::<u32>::new(8);
    /// tape.close();
    /// assert!(tape.is_closed());
    /// ```
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Whether [`Tape::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    fn add(&self, chunk: Arc<Chunk<T>>) {
        self.chunks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(chunk);
    }
}

/// How many records of `T` fit in [`MAX_CHUNK_BYTES`].
fn max_records<T>() -> usize {
    (MAX_CHUNK_BYTES / std::mem::size_of::<T>().max(1)).max(2)
}

/// The only writer of its chunks: pushes with plain stores (see the module docs).
///
/// ```
/// use dagr::runtime::Tape;
/// use std::sync::Arc;
///
/// let tape = Arc::new(Tape::new(2));
/// let mut w = Tape::writer(&tape, 7);
/// w.push(1_u32);
/// w.push_all(&[2, 3]); // one chunk, visible together
/// let chunks = tape.chunks();
/// assert_eq!(chunks.len(), 2); // the first chunk had room for 2: the group went on
/// assert!(chunks.iter().all(|c| c.tag() == 7));
/// let all: Vec<u32> = chunks.iter().flat_map(|c| c.iter()).collect();
/// assert_eq!(all, [1, 2, 3]);
/// ```
#[derive(Debug)]
pub struct TapeWriter<T> {
    tape: Arc<Tape<T>>,
    tag: u32,
    chunk: Option<Arc<Chunk<T>>>,
    /// Records written into `chunk`.
    len: usize,
    /// `chunk`'s capacity (0 without one).
    cap: usize,
}

impl<T: Copy> TapeWriter<T> {
    /// Appends `value`.
    #[inline]
    pub fn push(&mut self, value: T) {
        if self.len == self.cap {
            self.next_chunk(1);
        }
        self.write(&[value]);
    }

    /// Appends `values` into one chunk, published by one store: a reader sees all of them
    /// or none.
    pub fn push_all(&mut self, values: &[T]) {
        if self.cap - self.len < values.len() {
            self.next_chunk(values.len());
        }
        self.write(values);
    }

    /// How many more records fit in the chunk being written (0 before the first push):
    /// pushing more starts a new chunk.
    ///
    /// ```
    /// use dagr::runtime::Tape;
    /// use std::sync::Arc;
    ///
    /// let tape = Arc::new(Tape::new(4));
    /// let mut w = Tape::writer(&tape, 0);
    /// assert_eq!(w.room(), 0);
    /// w.push(1_u8);
    /// assert_eq!(w.room(), 3);
    /// ```
    #[inline]
    pub fn room(&self) -> usize {
        self.cap - self.len
    }

    /// The tape this writer appends to.
    pub fn tape(&self) -> &Arc<Tape<T>> {
        &self.tape
    }

    /// The tag of this writer's chunks.
    pub fn tag(&self) -> u32 {
        self.tag
    }

    /// Writes `values` at `len` and publishes them; the caller made room.
    #[inline]
    fn write(&mut self, values: &[T]) {
        let Some(chunk) = &self.chunk else { return };
        for (k, v) in values.iter().enumerate() {
            chunk.slots[self.len + k].with_mut(|p| {
                // SAFETY: this writer is the only one of its chunk (it made it, is not
                // Clone, and writes through &mut self), and `len + k` is at or past the
                // published count, which readers never read past: nobody else touches
                // this slot now or later. (`len + k < cap`: the caller made room.)
                unsafe { (*p).write(*v) };
            });
        }
        self.len += values.len();
        chunk.published.store(self.len, Ordering::Release);
    }

    /// Starts a chunk with room for at least `need` records: twice the last one's
    /// capacity, up to the limit.
    #[cold]
    fn next_chunk(&mut self, need: usize) {
        let cap = if self.cap == 0 {
            self.tape.first
        } else {
            (self.cap * 2).min(max_records::<T>())
        }
        .max(need);
        let chunk = Arc::new(Chunk {
            tag: self.tag,
            published: AtomicUsize::new(0),
            slots: (0..cap)
                .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
                .collect(),
        });
        self.tape.add(chunk.clone());
        self.chunk = Some(chunk);
        self.len = 0;
        self.cap = cap;
    }
}

/// One writer's run of records in a [`Tape`]; readers see its published prefix.
#[derive(Debug)]
pub struct Chunk<T> {
    tag: u32,
    /// Number of slots written and visible to readers (stored with `Release` by the writer).
    published: AtomicUsize,
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

impl<T: Copy> Chunk<T> {
    /// The tag of the writer that made this chunk.
    pub fn tag(&self) -> u32 {
        self.tag
    }

    /// Number of records published so far.
    pub fn len(&self) -> usize {
        self.published.load(Ordering::Acquire)
    }

    /// Whether no record is published yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of records the chunk has room for.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The records published so far, in the order they were pushed.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = T> + '_ {
        let n = self.len();
        self.slots[..n].iter().map(|slot| {
            slot.with(|p| {
                // SAFETY: the slot is below a count loaded with Acquire, so its write
                // happened-before this read, and it is never written again (module docs).
                unsafe { (*p).assume_init() }
            })
        })
    }
}

// SAFETY: a shared chunk hands copies of its records to any thread (`T: Send + Sync`), and
// its slots are written by one writer and read only below the published count, ordered by
// the Release/Acquire pair on `published` (module docs).
unsafe impl<T: Send + Sync> Sync for Chunk<T> {}
// SAFETY: moving a chunk moves its records (`T: Send`); no slot is tied to a thread.
unsafe impl<T: Send> Send for Chunk<T> {}
