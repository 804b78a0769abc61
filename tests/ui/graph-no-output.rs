use dagr::prelude::*;

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

fn main() {
    let pipeline = graph! {
        input x: i64;
        a = inc(x);
    };
    let _ = pipeline.compute(1);
}
