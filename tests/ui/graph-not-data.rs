use dagr::prelude::*;
use std::rc::Rc;

fn count(x: Rc<i64>) -> Rc<i64> {
    x
}

fn main() {
    let pipeline = graph! {
        input shared: Rc<i64>;
        n = plain count(shared);
        output n;
    };
    let _ = pipeline.compute(Rc::new(1));
}
