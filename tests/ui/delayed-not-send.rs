use dagr::prelude::*;
use std::cell::Cell;
use std::rc::Rc;

#[delayed]
fn read(x: Rc<i64>) -> i64 {
    *x
}

#[delayed]
fn make(x: i64) -> Cell<i64> {
    Cell::new(x)
}

fn main() {}
