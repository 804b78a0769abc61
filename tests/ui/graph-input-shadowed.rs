use dagr::prelude::*;

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

fn main() {
    let pipeline = graph! {
        input x: i64;
        x = inc(x);
        output x;
    };
    let _ = pipeline.compute(1);
}
