//! The README's first examples, with one-line bodies, raise no warning in the user's crate.
#![deny(warnings)]

use dagr::prelude::*;

#[delayed]
fn inc(x: i64) -> i64 { x + 1 }

#[delayed]
fn double(x: i64) -> i64 { x + 2 }

#[delayed]
fn add(x: i64, y: i64) -> i64 { x + y }

#[delayed]
fn total(xs: Vec<i64>) -> i64 { xs.iter().sum() }

#[delayed]
fn parse(s: String) -> Result<i64, std::num::ParseIntError> { s.parse() }

#[delayed(pure)]
fn shout(s: String) -> String { s.to_uppercase() }

#[delayed]
fn unit() {}

#[delayed]
fn constant() -> i64 { 5 }

fn main() {
    let output: Vec<_> = (1..=5).map(|x| add(inc(x), double(x))).collect();
    let t = total(output);
    assert_eq!(t.compute().unwrap(), 45);
    assert_eq!(parse("7".to_string()).compute().unwrap(), 7);
    assert_eq!(shout("a".to_string()).compute().unwrap(), "A");
    unit().compute().unwrap();
    assert_eq!(constant().compute().unwrap(), 5);
}
