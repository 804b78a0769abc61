use dagr::prelude::*;

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

#[delayed]
fn greet(name: String) -> String {
    name
}

#[delayed(pure)]
fn scale(factor: f64) -> f64 {
    factor
}

fn main() {
    let _ = inc("one");
    let _ = greet(5);
    let _ = scale(dagr::value(1_i64));
}
