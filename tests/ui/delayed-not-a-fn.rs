use dagr::prelude::*;

#[delayed]
struct Point {
    x: i64,
    y: i64,
}

fn main() {}
