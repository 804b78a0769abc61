use dagr::prelude::*;

#[delayed(name = load)]
fn load(path: String) -> String {
    path
}

#[delayed(name)]
fn parse(text: String) -> String {
    text
}

fn main() {}
