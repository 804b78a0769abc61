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
        a = inc(x);
        c = add(aa, x);     // a typo: did you mean `a`?
        d = add(c, offset); // nothing close
        output d;
    };
    let _ = pipeline.compute(1);
}
