use dagr::prelude::*;

#[delayed]
fn show(x: impl std::fmt::Display) -> String {
    x.to_string()
}

fn main() {}
