use dagr::prelude::*;

#[delayed]
fn evens(n: u64) -> impl Iterator<Item = u64> {
    (0..n).filter(|x| x % 2 == 0)
}

fn main() {}
