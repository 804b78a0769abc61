use dagr::prelude::*;
use std::rc::Rc;

// The error type must convert into `Box<dyn Error + Send + Sync>`.
#[delayed]
fn parse(text: String) -> Result<i64, Rc<String>> {
    text.parse().map_err(|_| Rc::new(text))
}

fn main() {}
