//! The readable name of a key prefix, as Dask's `key_split` gives it: collection layers are
//! named `map-1f3a9c2e` or `sum-axis-8450b017b946d8d3-compute` so that each is unique, and
//! pictures, profiles and progress bars show `map` and `sum-axis`.

/// The leading words of `prefix` up to the first that is not alphabetic or looks like a
/// token (eight or more hex digits): `"sum-axis-8450b017b946d8d3-compute"` → `"sum-axis"`,
/// `"load-csv"` → `"load-csv"`. The first word is always kept.
pub(crate) fn key_split(prefix: &str) -> &str {
    let mut end = prefix.find('-').unwrap_or(prefix.len());
    while end < prefix.len() {
        let rest = &prefix[end + 1..];
        let word = &rest[..rest.find('-').unwrap_or(rest.len())];
        let token = word.len() >= 8 && word.bytes().all(|b| b.is_ascii_hexdigit());
        if word.is_empty() || token || !word.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_') {
            break;
        }
        end += 1 + word.len();
    }
    &prefix[..end]
}

#[cfg(test)]
mod tests {
    use super::key_split;

    #[test]
    fn tokens_and_what_follows_them_are_dropped() {
        assert_eq!(key_split("map-1f3a9c2e"), "map");
        assert_eq!(key_split("sum-axis-8450b017b946d8d3-compute"), "sum-axis");
        assert_eq!(key_split("frequencies-part-e2338aca"), "frequencies-part");
        assert_eq!(key_split("load-csv"), "load-csv");
        assert_eq!(key_split("inc"), "inc");
        assert_eq!(key_split("read_text-v2"), "read_text");
        assert_eq!(key_split("odd \"name\" \\ here"), "odd \"name\" \\ here");
        assert_eq!(key_split("a--b"), "a");
        assert_eq!(key_split("-x"), "-x");
        assert_eq!(key_split(""), "");
    }
}
