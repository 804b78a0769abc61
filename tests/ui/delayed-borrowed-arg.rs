use dagr::prelude::*;

#[delayed]
fn count_words(text: &str) -> usize {
    text.split_whitespace().count()
}

#[delayed]
fn total(xs: &[i64]) -> i64 {
    xs.iter().sum()
}

#[delayed]
fn push_one(xs: &mut Vec<i64>) {
    xs.push(1);
}

#[delayed]
fn lengths(words: Vec<&str>) -> Vec<usize> {
    words.iter().map(|w| w.len()).collect()
}

fn main() {}
