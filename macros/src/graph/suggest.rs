//! "Did you mean `a`?": the closest defined name to an unknown one.

/// The candidate closest to `unknown`, if it is close enough to be a likely typo: a
/// case-insensitive match, or one within an edit distance of a third of the name's length
/// (at least one), as rustc suggests, that keeps some of it (no suggesting `b` for `e`).
/// Ties go to the earliest candidate.
pub(crate) fn closest<'a>(
    unknown: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let len = unknown.chars().count();
    let limit = (len / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        if candidate == unknown {
            continue;
        }
        let distance = if candidate.eq_ignore_ascii_case(unknown) {
            0
        } else {
            edit_distance(unknown, candidate)
        };
        if distance <= limit && distance < len && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, name)| name)
}

/// Levenshtein distance, counting a swap of two neighbours as one edit (optimal string
/// alignment).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: distance between a[..i] and b[..j]; three rows are kept.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            current[j] = d;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::{closest, edit_distance};

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("total", "totla"), 1);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn suggests_close_names_only() {
        let names = ["a", "b", "total", "Sum", "counts"];
        assert_eq!(closest("c", names), None);
        assert_eq!(closest("aa", names), Some("a"));
        assert_eq!(closest("bb", ["a", "b"]), Some("b"));
        assert_eq!(closest("totl", names), Some("total"));
        assert_eq!(closest("sum", names), Some("Sum"));
        assert_eq!(closest("count", names), Some("counts"));
        assert_eq!(closest("unrelated", names), None);
        assert_eq!(closest("a", names), None);
    }
}
