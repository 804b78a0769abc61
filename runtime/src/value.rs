//! A task's result as the runtime stores it: type-erased, small values held inline.
//!
//! Most tasks of a fine-grained graph return a number or a flag. Boxing each of them would
//! cost an allocation and a free per task, and 32 bytes of heap a result while it waits for
//! its consumers; so a [`Value`] is two words — a pointer to a static table describing the
//! type, and one word of data that holds the value itself when it is plain data that fits
//! (an `i64`, an `f64`, a `bool`: one word at most, nothing to drop, so a clone is a copy),
//! else an `Arc` of it.
//!
//! The table is the only way the data word is read: it is built once per type, by the
//! constructor that wrote the word, and says whether the word holds a `T` or an `Arc<T>`.
//! The unit tests below also run under Miri (`cargo +nightly miri test -p dagr-runtime
//! --lib value`), which checks every read, move and drop of the word.

use std::any::{type_name, Any, TypeId};
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::mem::{align_of, needs_drop, size_of, ManuallyDrop, MaybeUninit};
use std::ptr;
use std::sync::Arc;

use crate::{Inputs, TaskResult};

/// The data word: pointer-sized and -aligned, and keeping the provenance of a pointer
/// stored in it.
type Word = MaybeUninit<*const ()>;

/// What the data word of a [`Value`] holds, and how to clone and drop it.
struct Table {
    /// The type of the value (`T`, whether held or shared).
    type_id: TypeId,
    type_name: fn() -> &'static str,
    /// The word holds an `Arc<T>` rather than a `T`.
    shared: bool,
    /// Copies the value in the word (initialised as the table says).
    clone: unsafe fn(*const Word) -> Word,
    /// Drops the value in the word, which is not used again.
    drop: unsafe fn(*mut Word),
}

/// Whether a `T` fits in the word: no larger and no more aligned than it.
const fn fits_in_word<T>() -> bool {
    size_of::<T>() <= size_of::<Word>() && align_of::<T>() <= align_of::<Word>()
}

/// A word holding `v`. (The check is a constant: it costs nothing where `T` fits, and
/// callers only get here for types that do.)
#[inline]
fn word_of<T>(v: T) -> Word {
    assert!(
        fits_in_word::<T>(),
        "a {} does not fit in a word",
        type_name::<T>()
    );
    let mut w = Word::uninit();
    // SAFETY: `T` fits in the word and is no more aligned than it (checked above).
    unsafe { ptr::write(w.as_mut_ptr() as *mut T, v) };
    w
}

/// The table of a `T` held in the word.
struct Held<T>(PhantomData<T>);

impl<T: Any + Clone + Send + Sync> Held<T> {
    /// Whether a `T` is held in the word: it fits, and it is plain data (nothing to drop,
    /// so cloning it copies it, as cloning the `Arc` of a larger value would be cheap).
    const FITS: bool = fits_in_word::<T>() && !needs_drop::<T>();

    const TABLE: Table = Table {
        type_id: TypeId::of::<T>(),
        type_name: type_name::<T>,
        shared: false,
        clone: |w| {
            // SAFETY: the word holds a `T` (this table is only paired with such words), which
            // fits and is aligned (`FITS`, checked before such a word is written).
            let v = unsafe { &*(w as *const T) };
            word_of(v.clone())
        },
        drop: |w| {
            // SAFETY: as in `clone`; the caller does not use the word again.
            unsafe { ptr::drop_in_place(w as *mut T) }
        },
    };
}

/// The table of an `Arc<T>` held in the word.
struct Shared<T>(PhantomData<T>);

impl<T: Any + Send + Sync> Shared<T> {
    const TABLE: Table = Table {
        type_id: TypeId::of::<T>(),
        type_name: type_name::<T>,
        shared: true,
        clone: |w| {
            // SAFETY: the word holds an `Arc<T>` (this table is only paired with such words).
            let arc = unsafe { &*(w as *const Arc<T>) };
            word_of(arc.clone())
        },
        drop: |w| {
            // SAFETY: as in `clone`; the caller does not use the word again.
            unsafe { ptr::drop_in_place(w as *mut Arc<T>) }
        },
    };
}

/// A task's result as the runtime stores it: a value of any `Send + Sync` type, read back
/// by its type.
///
/// Plain data of at most one word (`i64`, `f64`, `usize`, `bool`, a small `Copy` struct:
/// nothing to drop) is held in the `Value` itself, without an allocation; anything else in
/// an [`Arc`], so cloning a `Value` never copies more than a word. An `Arc<T>` converts into
/// a `Value` of a `T` without a copy (`Value::from(arc)`; `Value::new(arc)` would be a value
/// of the `Arc<T>` itself).
///
/// ```
/// use dagr::runtime::Value;
/// use std::sync::Arc;
/// let small = Value::new(41_i64);
/// assert_eq!(small.downcast_ref::<i64>(), Some(&41));
/// assert!(small.downcast_ref::<f64>().is_none());
/// let big = Value::from(Arc::new(vec![1_u8, 2, 3]));
/// assert_eq!(big.type_name(), "alloc::vec::Vec<u8>");
/// assert_eq!(big.clone().take::<Vec<u8>>().ok(), Some(vec![1, 2, 3]));
/// ```
pub struct Value {
    table: &'static Table,
    /// (In a cell: a value may be mutable through a shared reference, as atomics are.)
    word: UnsafeCell<Word>,
}

// SAFETY: every constructor takes a `T: Send + Sync` (held as a `T` or an `Arc<T>`, both
// `Send + Sync` then), and the word is only reached through its table.
unsafe impl Send for Value {}
// SAFETY: as above; shared access only hands out `&T`.
unsafe impl Sync for Value {}

impl Value {
    /// A value holding `v`: in place when it fits in a word, else in an `Arc`.
    #[inline]
    pub fn new<T: Any + Clone + Send + Sync>(v: T) -> Value {
        if Held::<T>::FITS {
            Value {
                table: &Held::<T>::TABLE,
                word: UnsafeCell::new(word_of(v)),
            }
        } else {
            Value::from(Arc::new(v))
        }
    }

    /// Whether the value is a `T`.
    #[inline]
    pub fn is<T: Any>(&self) -> bool {
        self.table.type_id == TypeId::of::<T>()
    }

    /// The name of the value's type (as [`std::any::type_name`] gives it).
    pub fn type_name(&self) -> &'static str {
        (self.table.type_name)()
    }

    /// Borrows the value as a `T`, if it is one.
    #[inline]
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        if !self.is::<T>() {
            return None;
        }
        let p = self.word.get();
        // SAFETY: the table says the word holds a `T` or an `Arc<T>`, and which.
        Some(unsafe {
            if self.table.shared {
                &**(p as *const Arc<T>)
            } else {
                &*(p as *const T)
            }
        })
    }

    /// The value as a shared `T`, if it is one: the `Arc` it is held in, or a new one for a
    /// value held in place.
    pub fn downcast<T: Any>(self) -> Result<Arc<T>, Value> {
        Ok(match self.unpack::<T>()? {
            Unpacked::Shared(arc) => arc,
            Unpacked::Held(v) => Arc::new(v),
        })
    }

    /// The value as an owned `T`, if it is one: moved out when this was its only handle,
    /// else cloned.
    #[inline]
    pub fn take<T: Any + Clone>(self) -> Result<T, Value> {
        Ok(match self.unpack::<T>()? {
            Unpacked::Shared(arc) => Arc::try_unwrap(arc).unwrap_or_else(|a| T::clone(&a)),
            Unpacked::Held(v) => v,
        })
    }

    /// Moves the value out as what the word holds, if it is a `T`.
    #[inline]
    fn unpack<T: Any>(self) -> Result<Unpacked<T>, Value> {
        if !self.is::<T>() {
            return Err(self);
        }
        let this = ManuallyDrop::new(self);
        let p = this.word.get();
        // SAFETY: the table says which of `T` and `Arc<T>` the word holds; it is moved out
        // once, and `this` is not dropped.
        Ok(unsafe {
            if this.table.shared {
                Unpacked::Shared(ptr::read(p as *const Arc<T>))
            } else {
                Unpacked::Held(ptr::read(p as *const T))
            }
        })
    }
}

/// A value moved out of a [`Value`]'s word.
enum Unpacked<T> {
    Shared(Arc<T>),
    Held(T),
}

impl<T: Any + Send + Sync> From<Arc<T>> for Value {
    /// A value of the `T` in `arc`, shared with it (no copy).
    #[inline]
    fn from(arc: Arc<T>) -> Value {
        Value {
            table: &Shared::<T>::TABLE,
            word: UnsafeCell::new(word_of(arc)),
        }
    }
}

impl Clone for Value {
    #[inline]
    fn clone(&self) -> Value {
        Value {
            table: self.table,
            // SAFETY: the word is initialised as its table says.
            word: UnsafeCell::new(unsafe { (self.table.clone)(self.word.get()) }),
        }
    }
}

impl Drop for Value {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the word is initialised as its table says, and dropped once (here).
        unsafe { (self.table.drop)(self.word.get()) }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Value({})", self.type_name())
    }
}

/// A one-shot task body small enough to be held in a word: [`Task::once`](crate::Task::once)
/// keeps a closure that captures at most a word (an `i64`, an `Arc`, a reference to a
/// static) in place instead of in a `Box`. A graph of a million such tasks would otherwise
/// allocate a million small blocks as it is built and free them on the workers that run
/// them, which on glibc took 13–20 ns a task (blocks freed by another thread than the one
/// that allocated them go back through the allocator's shared lists).
pub(crate) struct InlineFn {
    table: &'static FnTable,
    word: Word,
}

/// How to run and drop the closure an [`InlineFn`]'s word holds.
struct FnTable {
    /// Moves the closure out of the word and runs it.
    call: unsafe fn(Word, &mut Inputs<'_>) -> TaskResult,
    /// Drops the closure in the word, which is not used again.
    drop: unsafe fn(*mut Word),
}

/// The table of a closure `G` held in the word.
struct InlineBody<G>(PhantomData<G>);

impl<G: FnOnce(&mut Inputs<'_>) -> TaskResult + Send + 'static> InlineBody<G> {
    const FITS: bool = fits_in_word::<G>();
    const TABLE: FnTable = FnTable {
        call: Self::call,
        drop: Self::drop,
    };

    /// # Safety
    /// `w` holds a `G` (written by [`InlineFn::new`]), which nothing else reads or drops.
    unsafe fn call(w: Word, inputs: &mut Inputs<'_>) -> TaskResult {
        // SAFETY: per the contract, the word holds a `G`, which fits and is aligned (`FITS`,
        // checked before it was written); reading it moves it out, once.
        let g = unsafe { ptr::read(&w as *const Word as *const G) };
        g(inputs)
    }

    /// # Safety
    /// `w` holds a `G`, which is not read or dropped again.
    unsafe fn drop(w: *mut Word) {
        // SAFETY: per the contract.
        unsafe { ptr::drop_in_place(w as *mut G) }
    }
}

// SAFETY: the word holds a `G: Send` (the only constructor requires it), reached only
// through its table, by whoever owns the `InlineFn`.
unsafe impl Send for InlineFn {}

impl InlineFn {
    /// Holds `g` in a word, or hands it back when it does not fit.
    #[inline]
    pub(crate) fn new<G>(g: G) -> Result<InlineFn, G>
    where
        G: FnOnce(&mut Inputs<'_>) -> TaskResult + Send + 'static,
    {
        if !InlineBody::<G>::FITS {
            return Err(g);
        }
        Ok(InlineFn {
            table: &InlineBody::<G>::TABLE,
            word: word_of(g),
        })
    }

    /// Runs the closure, consuming it.
    #[inline]
    pub(crate) fn call(self, inputs: &mut Inputs<'_>) -> TaskResult {
        // The closure moves out of the word into the call: `Drop` must not drop it again.
        let this = ManuallyDrop::new(self);
        // SAFETY: the word holds the table's closure (paired in `new`), taken once here.
        unsafe { (this.table.call)(this.word, inputs) }
    }
}

impl Drop for InlineFn {
    fn drop(&mut self) {
        // SAFETY: the word holds the table's closure, not taken (`call` consumes the
        // `InlineFn` without dropping it).
        unsafe { (self.table.drop)(&mut self.word) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts its live copies.
    #[derive(Debug)]
    struct Counted<const N: usize>(Arc<AtomicUsize>, [u8; N]);

    impl<const N: usize> Counted<N> {
        fn new(live: &Arc<AtomicUsize>) -> Self {
            live.fetch_add(1, Ordering::Relaxed);
            Counted(live.clone(), [7; N])
        }
    }

    impl<const N: usize> Clone for Counted<N> {
        fn clone(&self) -> Self {
            Counted::new(&self.0)
        }
    }

    impl<const N: usize> Drop for Counted<N> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn a_value_is_two_words_and_an_option_of_it_too() {
        assert_eq!(size_of::<Value>(), 2 * size_of::<usize>());
        assert_eq!(size_of::<Option<Value>>(), size_of::<Value>());
    }

    #[test]
    fn small_plain_values_are_held_and_others_shared() {
        assert!(!Value::new(1_i64).table.shared);
        assert!(!Value::new(true).table.shared);
        assert!(!Value::new((1_u32, 2.5_f32)).table.shared);
        // too large, or something to drop
        assert!(Value::new((1_i64, 2_i64)).table.shared);
        assert!(Value::new(1_u128).table.shared);
        assert!(Value::new(String::from("x")).table.shared);
        assert!(Value::new(Box::new(1_u8)).table.shared);
        assert!(Value::new(Arc::new(String::new())).table.shared);
    }

    /// Plain data mutable through a shared reference (as a task may use an input).
    struct Tally(AtomicUsize);

    impl Clone for Tally {
        fn clone(&self) -> Self {
            Tally(AtomicUsize::new(self.0.load(Ordering::Relaxed)))
        }
    }

    #[test]
    fn a_held_value_may_change_through_a_shared_reference() {
        let v = Value::new(Tally(AtomicUsize::new(1)));
        assert!(!v.table.shared);
        let t = v.downcast_ref::<Tally>().unwrap();
        t.0.fetch_add(2, Ordering::Relaxed);
        let copy = v.clone();
        t.0.fetch_add(10, Ordering::Relaxed);
        assert_eq!(
            v.downcast_ref::<Tally>().unwrap().0.load(Ordering::Relaxed),
            13
        );
        assert_eq!(copy.take::<Tally>().ok().unwrap().0.into_inner(), 3);
    }

    #[test]
    fn values_read_back_as_their_type_only() {
        let vs = [
            Value::new(-3_i64),
            Value::new(2.5_f64),
            Value::new(String::from("word")),
            Value::from(Arc::new(vec![1_u32, 2])),
            Value::new(()),
        ];
        assert_eq!(vs[0].downcast_ref::<i64>(), Some(&-3));
        assert_eq!(vs[1].downcast_ref::<f64>(), Some(&2.5));
        assert_eq!(
            vs[2].downcast_ref::<String>().map(|s| s.as_str()),
            Some("word")
        );
        assert_eq!(vs[3].downcast_ref::<Vec<u32>>(), Some(&vec![1, 2]));
        assert_eq!(vs[4].downcast_ref::<()>(), Some(&()));
        assert!(vs[0].downcast_ref::<u64>().is_none());
        assert!(vs[1].downcast_ref::<f32>().is_none());
        assert!(vs[3].downcast_ref::<Arc<Vec<u32>>>().is_none());
        assert_eq!(vs[0].type_name(), "i64");
        assert_eq!(format!("{:?}", vs[2]), "Value(alloc::string::String)");
        let back = vs[2].clone().take::<i64>().unwrap_err();
        assert_eq!(
            back.downcast_ref::<String>().map(|s| s.as_str()),
            Some("word")
        );
    }

    #[test]
    fn take_moves_an_only_handle_and_clones_a_shared_one() {
        let arc = Arc::new(vec![5_u8; 3]);
        let v = Value::from(arc.clone());
        // another handle exists: cloned, `arc` untouched
        assert_eq!(v.take::<Vec<u8>>().unwrap(), vec![5; 3]);
        assert_eq!(Arc::strong_count(&arc), 1);
        // the only handle: moved out (same buffer)
        let ptr = arc.as_ptr();
        let moved = Value::from(arc).take::<Vec<u8>>().unwrap();
        assert_eq!(moved.as_ptr(), ptr);
        let a = Value::new(9_i64).downcast::<i64>().unwrap();
        assert_eq!(*a, 9);
        let shared = Arc::new(1.5_f64);
        let b = Value::from(shared.clone()).downcast::<f64>().unwrap();
        assert!(Arc::ptr_eq(&shared, &b));
        assert!(Value::new(1_i64).downcast::<i32>().is_err());
    }

    #[test]
    fn clones_and_drops_balance() {
        let live = Arc::new(AtomicUsize::new(0));
        {
            // one word, but something to drop: shared, as a larger value is
            let small = Value::new(Counted::<0>::new(&live));
            let large = Value::new(Counted::<8>::new(&live));
            assert!(small.table.shared && large.table.shared);
            let copies: Vec<Value> = (0..3)
                .flat_map(|_| [small.clone(), large.clone()])
                .collect();
            // clones share the payload
            assert_eq!(live.load(Ordering::Relaxed), 2);
            // taking from one of several handles clones it
            let taken = copies[0].clone().take::<Counted<0>>().unwrap();
            assert_eq!(live.load(Ordering::Relaxed), 3);
            drop(taken);
            drop(copies);
            assert_eq!(live.load(Ordering::Relaxed), 2);
            // taking the only handle moves it
            let moved = large.take::<Counted<8>>().unwrap();
            assert_eq!(moved.1, [7; 8]);
            assert_eq!(live.load(Ordering::Relaxed), 2);
        }
        assert_eq!(live.load(Ordering::Relaxed), 0);
    }
}
