use dagr::prelude::*;

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

#[delayed]
fn add(x: i64, y: i64) -> i64 {
    x + y
}

fn main() {
    let pipeline = graph! {
        input x: i64;
        a = add(x, b);
        b = inc(c);
        c = inc(a);
        d = inc(d);
        out = add(a, d);
        output out;
    };
    let _ = pipeline.compute(1);
}
