use dagr::prelude::*;

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

#[delayed]
fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

fn main() {
    let pipeline = graph! {
        input name: String;
        input x: i64;
        a = inc(name);      // a `String` where an `i64` is expected
        b = inc(x);
        t = total(b);       // an `i64` where a `Vec<i64>` is expected
        output (a, t);
    };
    let _ = pipeline.compute("one".to_owned(), 1);
}
