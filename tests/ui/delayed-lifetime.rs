use dagr::prelude::*;

#[delayed]
fn first<'a>(words: Vec<String>, default: std::borrow::Cow<'a, str>) -> String {
    words
        .into_iter()
        .next()
        .unwrap_or_else(|| default.into_owned())
}

fn main() {}
