//! A partition of text as one buffer plus offsets (an Arrow-style string column).
//!
//! Text bags keep their partitions in this form between the reader, the `.str()` kernels
//! and the aggregations, so a word count touches each byte a few times and allocates a
//! `String` only for what user code asks for (a `map` closure, `compute`).

/// The strings of one partition in one buffer (Arrow's string column, with a separator).
///
/// Invariants:
/// 1. `offsets` has `len() + 1` entries, starts at 0, never decreases and ends at
///    `text.len()`.
/// 2. Item `i` is `text[offsets[i]..offsets[i + 1] - 1]`: every item is followed by one
///    `'\n'`. The separator is whitespace, so the words of the whole buffer are the words of
///    the items, in order, and the buffer is the items written as lines of a text file.
/// 3. Items may contain `'\n'` themselves: the offsets, not the separators, delimit them.
///
/// It is a plain owned value (a `String` and a `Vec`), so a partition can be moved, cloned
/// or sent anywhere as it is.
///
/// ```
/// use dagr::bag::TextColumn;
/// let col: TextColumn = ["Hello, World!", "", "two words"].into_iter().collect();
/// assert_eq!(col.len(), 3);
/// assert_eq!(col.get(2), Some("two words"));
/// assert_eq!(col.as_str(), "Hello, World!\n\ntwo words\n");
/// assert_eq!(col.iter().collect::<Vec<_>>(), ["Hello, World!", "", "two words"]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TextColumn {
    pub(super) text: String,
    pub(super) offsets: Vec<usize>,
}

impl Default for TextColumn {
    fn default() -> Self {
        TextColumn::new()
    }
}

impl TextColumn {
    /// An empty column.
    pub fn new() -> TextColumn {
        TextColumn {
            text: String::new(),
            offsets: vec![0],
        }
    }

    /// An empty column with room for `bytes` bytes of text in `items` items.
    pub fn with_capacity(bytes: usize, items: usize) -> TextColumn {
        let mut offsets = Vec::with_capacity(items + 1);
        offsets.push(0);
        TextColumn {
            text: String::with_capacity(bytes + items),
            offsets,
        }
    }

    /// The column of the lines of `text` (the contents of a text file): lines end at
    /// `"\n"` or `"\r\n"`, which are not part of the items; the last line may lack one.
    ///
    /// ```
    /// use dagr::bag::TextColumn;
    /// let col = TextColumn::from_lines("one\r\ntwo\n\nlast".to_string());
    /// assert_eq!(col.iter().collect::<Vec<_>>(), ["one", "two", "", "last"]);
    /// ```
    pub fn from_lines(mut text: String) -> TextColumn {
        let mut offsets = Vec::with_capacity(text.len() / 128 + 2);
        offsets.push(0);
        if memchr::memchr(b'\r', text.as_bytes()).is_none() {
            // The common case: the buffer already has the column's layout.
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            offsets.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|p| p + 1));
            return TextColumn { text, offsets };
        }
        // "\r\n" endings: copy the lines without their '\r'.
        let mut col = TextColumn {
            text: String::with_capacity(text.len() + 1),
            offsets,
        };
        let mut rest = text.as_str();
        while !rest.is_empty() {
            match memchr::memchr(b'\n', rest.as_bytes()) {
                Some(nl) => {
                    let line = &rest[..nl];
                    col.push(line.strip_suffix('\r').unwrap_or(line));
                    rest = &rest[nl + 1..];
                }
                None => {
                    col.push(rest);
                    rest = "";
                }
            }
        }
        col
    }

    /// Appends an item.
    pub fn push(&mut self, item: &str) {
        self.text.push_str(item);
        self.text.push('\n');
        self.offsets.push(self.text.len());
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Item `i`.
    pub fn get(&self, i: usize) -> Option<&str> {
        let (a, b) = (*self.offsets.get(i)?, *self.offsets.get(i + 1)?);
        self.text.get(a..b - 1)
    }

    /// The items, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.offsets
            .windows(2)
            .map(|w| self.text.get(w[0]..w[1] - 1).unwrap_or_default())
    }

    /// The whole buffer: every item followed by `'\n'`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Where each item starts, and the end of the buffer (`len() + 1` entries).
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// The items as owned strings.
    pub(crate) fn into_strings(self) -> impl Iterator<Item = String> {
        (0..self.len()).map(move |i| self.get(i).unwrap_or_default().to_owned())
    }
}

impl<S: AsRef<str>> FromIterator<S> for TextColumn {
    fn from_iter<I: IntoIterator<Item = S>>(items: I) -> Self {
        let mut col = TextColumn::new();
        for s in items {
            col.push(s.as_ref());
        }
        col
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_items_agree() {
        for text in [
            "",
            "\n",
            "a",
            "a\n",
            "a\r\n",
            "a\r",
            "a\rb\r\n\r\nc",
            "\n\nx\n",
            "x\r\ny",
        ] {
            let want: Vec<&str> = text
                .split_inclusive('\n')
                .map(|l| {
                    l.strip_suffix('\n')
                        .map(|l| l.strip_suffix('\r').unwrap_or(l))
                        .unwrap_or(l)
                })
                .collect();
            let col = TextColumn::from_lines(text.to_owned());
            assert_eq!(col.iter().collect::<Vec<_>>(), want, "{text:?}");
            assert_eq!(col.len(), want.len());
            assert_eq!(col, want.iter().collect::<TextColumn>());
        }
    }
}
