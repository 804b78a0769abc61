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
        input _seed: i64;   // a leading `_` opts out
        a = inc(x);
        b = double(a);      // no output depends on it
        c = inc(b);         // nor on this one
        _d = double(a);     // opted out: computed anyway
        output a;
    };
    let _ = pipeline.compute(1, 2, 3);
}
