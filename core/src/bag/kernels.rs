//! Kernels over a [`TextColumn`]'s buffer: case mapping, punctuation removal and the
//! whitespace tokenizer behind `split`.
//!
//! Each kernel takes the column by value and rewrites its buffer in place when it can
//! (nothing is allocated for ASCII text), with a per-item Unicode fallback that gives what
//! `str`'s own methods give.

use super::column::TextColumn;

/// Lower case, as `str::to_lowercase` of every item.
pub(crate) fn lower(col: TextColumn) -> TextColumn {
    map_case(col, str::make_ascii_lowercase, str::to_lowercase)
}

/// Upper case, as `str::to_uppercase` of every item.
pub(crate) fn upper(col: TextColumn) -> TextColumn {
    map_case(col, str::make_ascii_uppercase, str::to_uppercase)
}

fn map_case(mut col: TextColumn, ascii: fn(&mut str), unicode: fn(&str) -> String) -> TextColumn {
    if col.text.is_ascii() {
        ascii(&mut col.text);
        return col;
    }
    // Unicode case mapping may change lengths and depends on context within an item (the
    // final sigma), so map item by item.
    let mut out = TextColumn::with_capacity(col.text.len(), col.len());
    for item in col.iter() {
        if item.is_ascii() {
            out.text.push_str(item);
            let start = out.text.len() - item.len();
            if let Some(s) = out.text.get_mut(start..) {
                ascii(s);
            }
            out.text.push('\n');
            out.offsets.push(out.text.len());
        } else {
            out.push(&unicode(item));
        }
    }
    out
}

/// Removes ASCII punctuation (Python's `string.punctuation`) from every item. The bytes
/// of ASCII punctuation never occur inside a multi-byte UTF-8 character, so deleting them
/// byte by byte is exact for all text.
pub(crate) fn strip_punctuation(col: TextColumn) -> TextColumn {
    let TextColumn { text, mut offsets } = col;
    let mut bytes = text.into_bytes();
    let mut w = 0;
    for i in 0..offsets.len() - 1 {
        let (a, b) = (offsets[i], offsets[i + 1]);
        offsets[i] = w;
        // eight bytes at a time, in a register: the punctuation bytes are squeezed out
        // and the eight bytes written at `w`, which then moves by the bytes kept (the
        // write never reaches unread bytes: w <= r)
        let item = &mut bytes[..b];
        let mut r = a;
        while r + 8 <= b {
            let mut eight = [0u8; 8];
            eight.copy_from_slice(&item[r..r + 8]);
            let mut x = u64::from_le_bytes(eight);
            let punct = punctuation8(x);
            // the highest punctuation byte first, so lower positions stay put; without a
            // branch for the common cases of none or one (then `below` keeps all of x)
            let top = 63 - (punct | 1).leading_zeros();
            let below = if punct == 0 {
                u64::MAX
            } else {
                low_bytes8((top / 8) as usize)
            };
            x = (x & below) | ((x >> 8) & !below);
            let mut bits = punct & !(1u64 << top);
            while bits != 0 {
                let top = 63 - bits.leading_zeros();
                bits &= !(1u64 << top);
                let below = low_bytes8((top / 8) as usize);
                x = (x & below) | ((x >> 8) & !below);
            }
            item[w..w + 8].copy_from_slice(&x.to_le_bytes());
            w += 8 - punct.count_ones() as usize;
            r += 8;
        }
        for r in r..b {
            let c = item[r];
            item[w] = c;
            w += usize::from(!c.is_ascii_punctuation());
        }
    }
    if let Some(last) = offsets.last_mut() {
        *last = w;
    }
    bytes.truncate(w);
    // Deleting ASCII bytes from UTF-8 leaves UTF-8; the check is one fast pass.
    let text = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    TextColumn { text, offsets }
}

/// The words of every item (split on whitespace as Python's `str.split()`), as a column of
/// their own.
pub(crate) fn words_column(col: &TextColumn) -> TextColumn {
    let mut out = TextColumn::with_capacity(col.text.len(), col.text.len() / 6);
    let text = col.as_str();
    for_each_word(text, |a, b| out.push(&text[a..b]));
    out
}

/// Number of words (as Python's `len(s.split())`).
pub(crate) fn count_words(text: &str) -> u64 {
    let mut n = 0;
    for_each_word(text, |_, _| n += 1);
    n
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Bit 7 of each byte is set where that byte of `x` is ASCII and below `n` (`n <= 0x80`).
/// Adding `0x80 - n` to the low seven bits sets bit 7 exactly when the byte is at least
/// `n`, and never carries into the next byte.
#[inline(always)]
fn ascii_below(x: u64, n: u8) -> u64 {
    !(((x & !HIGH) + ONES * u64::from(0x80 - n)) | x) & HIGH
}

/// Bit 7 of each byte is set where that byte of `x` is ASCII punctuation (Python's
/// `string.punctuation`: `!` to `/`, `:` to `@`, `[` to `` ` ``, `{` to `~`).
#[inline(always)]
fn punctuation8(x: u64) -> u64 {
    let within = |lo: u8, hi: u8| ascii_below(x, hi + 1) & !ascii_below(x, lo);
    within(b'!', b'/') | within(b':', b'@') | within(b'[', b'`') | within(b'{', b'~')
}

/// The low `k` bytes (`k < 8`) of a little-endian word.
#[inline(always)]
fn low_bytes8(k: usize) -> u64 {
    (1u64 << (8 * k)) - 1
}

/// Whether `c` is whitespace as Python's `str.split()` and `str.isspace()` see it:
/// `char::is_whitespace` and the four separators `\x1c` to `\x1f`.
#[inline]
pub(crate) fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// The words of `s` as Python's `s.split()` gives them.
pub(crate) fn python_split(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_python_space).filter(|w| !w.is_empty())
}

/// Bit `i` is set where byte `i` of the eight is ASCII whitespace as Python sees it
/// (`\t \n \v \f \r`, `\x1c` to `\x1f` and space).
#[inline(always)]
fn ascii_space8(x: u64) -> u64 {
    let controls =
        (ascii_below(x, 14) & !ascii_below(x, 9)) | (ascii_below(x, 0x20) & !ascii_below(x, 0x1c));
    let space = ascii_below(x ^ (ONES * 0x20), 1);
    // gather bit 7 of every byte into the top byte: byte i's bit lands on bit 56 + i
    (((controls | space) >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

/// Whitespace mask of 64 bytes, and whether any of them is not ASCII.
#[inline(always)]
fn space_mask64(block: &[u8; 64]) -> (u64, bool) {
    let mut mask = 0u64;
    let mut high = 0u64;
    for (k, chunk) in block.chunks_exact(8).enumerate() {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(chunk);
        let x = u64::from_le_bytes(eight);
        high |= x & HIGH;
        mask |= ascii_space8(x) << (8 * k);
    }
    (mask, high != 0)
}

/// Lead bytes of the non-ASCII whitespace characters (U+0085, U+00A0, U+1680, U+2000 to
/// U+205F, U+3000).
#[inline]
fn may_start_space(b: u8) -> bool {
    matches!(b, 0xC2 | 0xE1 | 0xE2 | 0xE3)
}

/// Calls `f(start, end)` for every maximal run of non-whitespace in `text`, in order:
/// the byte ranges of the words [`python_split`] gives.
///
/// 64 bytes at a time: a whitespace bit mask (eight bytes per machine word), then one step
/// per word boundary. Blocks with non-ASCII bytes also look up the characters that may be
/// Unicode whitespace.
#[inline]
pub(crate) fn for_each_word(text: &str, mut f: impl FnMut(usize, usize)) {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut base = 0;
    let mut start = 0;
    let mut in_word = false;
    // the previous block's last byte was in a word
    let mut prev_word = 0u64;
    // whitespace bits carried into the next block by a character crossing its start
    let mut carry = 0u64;
    let mut pad = [b' '; 64];
    while base < n {
        let block: &[u8; 64] = match bytes.get(base..base + 64) {
            Some(b) => b.try_into().unwrap_or(&pad),
            None => {
                pad = [b' '; 64];
                pad[..n - base].copy_from_slice(&bytes[base..]);
                &pad
            }
        };
        let (mut space, non_ascii) = space_mask64(block);
        space |= carry;
        carry = 0;
        if non_ascii {
            let end = n.min(base + 64);
            for (p, &b) in bytes.iter().enumerate().take(end).skip(base) {
                if may_start_space(b) {
                    let c = text.get(p..).and_then(|s| s.chars().next());
                    if let Some(c) = c.filter(|&c| is_python_space(c)) {
                        for q in p - base..p - base + c.len_utf8() {
                            if q < 64 {
                                space |= 1 << q;
                            } else {
                                carry |= 1 << (q - 64);
                            }
                        }
                    }
                }
            }
        }
        let word = !space;
        let mut edges = word ^ ((word << 1) | prev_word);
        prev_word = word >> 63;
        while edges != 0 {
            let pos = base + edges.trailing_zeros() as usize;
            edges &= edges - 1;
            if in_word {
                f(start, pos);
            } else {
                start = pos;
            }
            in_word = !in_word;
        }
        base += 64;
    }
    if in_word {
        f(start, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<&str> {
        let mut v = Vec::new();
        for_each_word(s, |a, b| v.push(&s[a..b]));
        v
    }

    #[test]
    fn tokenizer_matches_python_split() {
        let long = "word ".repeat(40) + "tail";
        let mut unicode = "a\u{a0}b\u{3000}c\u{85}d\u{2009}e\u{202f}f é ü\u{1680}x".to_string();
        for k in 0..70 {
            unicode.push_str(&"z".repeat(k % 7));
            unicode.push(['\u{2028}', ' ', '\u{85}', 'é'][k % 4]);
        }
        let cases = [
            "",
            " ",
            "a",
            " a ",
            "a\tb\nc\x0bd\x0ce\rf g",
            "x\x1cy\x1fz\x1d\x1e",
            "\x1b\x1c\x1f\x20\x7f",
            "\u{3000}",
            &long,
            &unicode,
            "ßΣΑΣ émigré — naïve",
        ];
        for s in cases {
            assert_eq!(words(s), python_split(s).collect::<Vec<_>>(), "{s:?}");
            assert_eq!(count_words(s), python_split(s).count() as u64);
        }
        // Python: "x\x1cy\x1fz".split() == ["x", "y", "z"]
        assert_eq!(words("x\x1cy\x1fz"), ["x", "y", "z"]);
        assert_eq!(words("\x1b\x1c\x7f"), ["\x1b", "\x7f"]);
        // every character Python's str.isspace() accepts, and no other below U+3001
        let python: Vec<u32> = [
            0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680,
        ]
        .into_iter()
        .chain(0x2000..=0x200a)
        .chain([0x2028, 0x2029, 0x202f, 0x205f, 0x3000])
        .collect();
        let ours: Vec<u32> = (0..=0x3000u32)
            .filter_map(char::from_u32)
            .filter(|&c| is_python_space(c))
            .map(u32::from)
            .collect();
        assert_eq!(ours, python);
        // a whitespace character across a 64-byte boundary
        for k in 58..66 {
            let s = format!("{}\u{3000}{}", "a".repeat(k), "b".repeat(70));
            assert_eq!(words(&s), python_split(&s).collect::<Vec<_>>(), "{k}");
        }
    }

    #[test]
    fn punctuation_bytes_are_found_exactly() {
        for b in 0..=255u8 {
            let x = u64::from_le_bytes([b'a', b, b'z', 0x80, b, 0xff, b' ', b]);
            let got = punctuation8(x);
            let want: u64 = [b'a', b, b'z', 0x80, b, 0xff, b' ', b]
                .iter()
                .enumerate()
                .map(|(k, c)| u64::from(c.is_ascii_punctuation()) << (8 * k + 7))
                .sum();
            assert_eq!(got, want, "{b}");
        }
    }

    #[test]
    fn kernels_match_str_methods() {
        let items = [
            "Hello, World!",
            "",
            "ÀÉ, ΣΑΣ; don't",
            "a-b_c",
            "UPPER lower",
        ];
        let col: TextColumn = items.iter().collect();
        let lo: Vec<String> = items.iter().map(|s| s.to_lowercase()).collect();
        assert_eq!(lower(col.clone()).iter().collect::<Vec<_>>(), lo);
        let up: Vec<String> = items.iter().map(|s| s.to_uppercase()).collect();
        assert_eq!(upper(col.clone()).iter().collect::<Vec<_>>(), up);
        let sp: Vec<String> = items
            .iter()
            .map(|s| s.chars().filter(|c| !c.is_ascii_punctuation()).collect())
            .collect();
        assert_eq!(strip_punctuation(col).iter().collect::<Vec<_>>(), sp);
    }
}
