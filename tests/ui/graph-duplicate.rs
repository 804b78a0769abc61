use dagr::prelude::*;

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

#[delayed]
fn double(x: i64) -> i64 {
    x * 2
}

fn main() {
    let pipeline = graph! {
        input x: i64;
        input y: i64;
        input y: i64;
        a = inc(x);
        a = double(y);
        output a;
    };
    let _ = pipeline.compute(1, 2, 3);
}
