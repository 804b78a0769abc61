use dagr::prelude::*;

#[delayed(pure, pure, label = "x")]
async unsafe fn everything<'a>(name: &'a str, xs: impl IntoIterator<Item = i64>) -> impl Clone {
    name.len() + xs.into_iter().count()
}

fn main() {}
