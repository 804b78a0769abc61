use dagr::prelude::*;

struct Counter(i64);

impl Counter {
    #[delayed]
    fn add(&self, x: i64) -> i64 {
        self.0 + x
    }
}

fn main() {}
