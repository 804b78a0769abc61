use dagr::prelude::*;

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

#[delayed]
fn add(x: i64, y: i64) -> i64 {
    x + y
}

// Every kind of mistake at once: each is reported, at its token.
fn main() {
    let pipeline = graph! {
        input x: i64;
        input x: i64;
        a = inc(b);
        b = inc(a);
        c = add(a, bb);
        d = inc(x) oops;
        x = inc(c);
        output (c, e);
        output a;
    };
    let _ = pipeline.compute(1, 2);
}
