use dagr::prelude::*;

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

fn main() {
    let pipeline = graph! {
        input x: i64;
        input y i64;
        a = inc(x + 1);
        b inc(x);
        c = x;
        d = inc(x) e = inc(x);
        let f = inc(x);
        output a;
    };
    let _ = pipeline.compute(1, 2);
}
