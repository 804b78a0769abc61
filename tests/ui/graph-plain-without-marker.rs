use dagr::prelude::*;

// A plain function: in a graph it needs the `plain` marker, `a = plain square(x);`.
fn square(x: i64) -> i64 {
    x * x
}

fn main() {
    let pipeline = graph! {
        input x: i64;
        a = square(x);
        output a;
    };
    let _ = pipeline.compute(1);
}
