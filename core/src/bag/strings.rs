//! The `.str` accessor of bags of strings (Dask: `Bag.str`).

use super::column::TextColumn;
use super::kernels;
use super::repr::{Col, ColKind, ColPart};
use super::Bag;
use crate::Data;
use std::collections::HashMap;
use std::sync::Arc;

/// String methods applied to every item of a bag of strings; each returns a new bag (no task
/// of its own: the step joins the partition's pipeline).
///
/// `lower`, `upper`, `strip_punctuation` and `split` work on the partition as one buffer
/// (a [`TextColumn`](super::TextColumn)): one pass over the bytes, nothing allocated per
/// item, and `split().flatten()` leaves the words where they are for `frequencies`,
/// `count` or `distinct` to read.
///
/// ```
/// use dagr::bag as db;
/// let b = db::from_sequence(vec!["Hello, World!".to_string(), "  Rust  ".to_string()], 1)?;
/// assert_eq!(b.str().strip_punctuation().str().lower().compute()?, vec!["hello world", "  rust  "]);
/// assert_eq!(b.str().strip().compute()?, vec!["Hello, World!", "Rust"]);
/// assert_eq!(b.str().split().flatten().compute()?, vec!["Hello,", "World!", "Rust"]);
/// # Ok::<(), dagr::Error>(())
/// ```
pub struct StrMethods<'a, T = String> {
    bag: &'a Bag<T>,
}

impl<'a, T: Data + AsRef<str>> StrMethods<'a, T> {
    pub(super) fn new(bag: &'a Bag<T>) -> Self {
        StrMethods { bag }
    }

    fn each<U: Data>(&self, f: impl Fn(&str) -> U + Send + Sync + 'static) -> Bag<U> {
        self.bag.map(move |s| f(s.as_ref()))
    }

    /// The bag's strings as a column view: the bag's own, or one collected from its items.
    fn column(&self) -> Col {
        match self.bag.col_of(&[ColKind::Text, ColKind::Words]) {
            Some(c) if c.kind == ColKind::Text => c.clone(),
            Some(c) => c.then("words-text", ColKind::Text, |p| {
                Ok(ColPart::Text(p.into_text()?))
            }),
            None => {
                let gen = self.bag.gen();
                Col::source(
                    "items-text",
                    ColKind::Text,
                    move |i, v, e| Ok(ColPart::Text(gen(i, v, e)?.collect::<TextColumn>())),
                    None,
                )
            }
        }
    }

    /// A bag applying the column kernel `f` to every partition.
    fn kernel(&self, op: &str, f: fn(TextColumn) -> TextColumn) -> Bag<String> {
        let col = self.column().then(op, ColKind::Text, move |p| {
            Ok(ColPart::Text(f(p.into_text()?)))
        });
        let mut b = self.bag.with_col(op, col);
        // one item per item: the lines of files stay where they were
        b.lines = self.bag.lines.clone();
        b
    }

    /// Splits on whitespace as Python's `str.split()` does: Unicode whitespace and the
    /// separators `\x1c` to `\x1f`, runs of it as one, none at either end.
    ///
    /// ```
    /// let b = dagr::bag::from_sequence(vec!["a\x1cb\u{3000}c  d".to_string()], 1)?;
    /// assert_eq!(b.str().split().compute()?, vec![vec!["a", "b", "c", "d"]]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn split(&self) -> Bag<Vec<String>> {
        let col = self.column().then("split", ColKind::Split, |p| {
            Ok(ColPart::Split(p.into_text()?))
        });
        self.bag.with_col("split", col)
    }

    /// Splits on a separator (Python's `str.split(sep)`).
    pub fn split_on(&self, sep: &str) -> Bag<Vec<String>> {
        let sep: Arc<str> = sep.into();
        self.each(move |s| s.split(&*sep).map(str::to_owned).collect())
    }

    /// Lower case (Unicode).
    pub fn lower(&self) -> Bag<String> {
        self.kernel("lower", kernels::lower)
    }

    /// Upper case (Unicode).
    pub fn upper(&self) -> Bag<String> {
        self.kernel("upper", kernels::upper)
    }

    /// Removes leading and trailing whitespace (Python's `str.strip()`, with the same
    /// whitespace as [`StrMethods::split`]).
    pub fn strip(&self) -> Bag<String> {
        self.each(|s| s.trim_matches(kernels::is_python_space).to_owned())
    }

    /// Removes ASCII punctuation, Python's `string.punctuation` (the notebook's
    /// `str.translate({ord(c): None for c in string.punctuation})`).
    pub fn strip_punctuation(&self) -> Bag<String> {
        self.kernel("strip-punctuation", kernels::strip_punctuation)
    }

    /// Maps characters through `table`: `Some(c)` replaces, `None` deletes, absent keys are
    /// kept (Python's `str.translate`).
    ///
    /// ```
    /// use std::collections::HashMap;
    /// let b = dagr::bag::from_sequence(vec!["a-b_c".to_string()], 1)?;
    /// let table = HashMap::from([('-', Some(' ')), ('_', None)]);
    /// assert_eq!(b.str().translate(table).compute()?, vec!["a bc"]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn translate(&self, table: HashMap<char, Option<char>>) -> Bag<String> {
        self.each(move |s| {
            s.chars()
                .filter_map(|c| match table.get(&c) {
                    Some(to) => *to,
                    None => Some(c),
                })
                .collect()
        })
    }

    /// Replaces every occurrence of `from` with `to`.
    pub fn replace(&self, from: &str, to: &str) -> Bag<String> {
        let (from, to): (Arc<str>, Arc<str>) = (from.into(), to.into());
        self.each(move |s| s.replace(&*from, &to))
    }

    /// Whether each item contains `pattern`.
    pub fn contains(&self, pattern: &str) -> Bag<bool> {
        let p: Arc<str> = pattern.into();
        self.each(move |s| s.contains(&*p))
    }
}
