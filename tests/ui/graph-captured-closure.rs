use dagr::prelude::*;

// A node's function is a path to a function item: a local closure would be captured, and a
// pipeline captures nothing (it is a plain function pointer, usable in a `static`).
fn main() {
    let k = 3;
    let times_k = move |x: i64| x * k;
    let pipeline = graph! {
        input x: i64;
        a = plain times_k(x);
        output a;
    };
    let _ = pipeline.compute(1);
}
