use dagr::prelude::*;

#[delayed]
extern "C" fn from_c(x: i64) -> i64 {
    x
}

#[delayed]
unsafe fn risky(x: i64) -> i64 {
    x
}

fn main() {}
