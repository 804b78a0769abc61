//! `#[delayed]` end to end: what the generated functions accept, build and compute.

#![deny(warnings)]

use dagr::prelude::*;
use std::num::ParseIntError;

/// Adds two numbers.
#[delayed]
pub fn add(x: i64, y: i64) -> i64 {
    x + y
}

#[delayed]
fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

#[delayed]
fn parse(text: String) -> Result<i64, ParseIntError> {
    text.trim().parse()
}

#[delayed]
fn read_len(text: String) -> std::io::Result<usize> {
    if text.is_empty() {
        Err(std::io::Error::other("empty input"))
    } else {
        Ok(text.len())
    }
}

#[delayed(pure)]
fn pure_add(x: i64, y: i64) -> i64 {
    x + y
}

#[delayed(pure, name = "load")]
fn load_file(path: String) -> String {
    format!("contents of {path}")
}

#[delayed(name = "ingest")]
fn named(x: i64) -> i64 {
    x
}

#[delayed]
fn patterns(mut x: i64, (a, b): (i64, i64), _: u8) -> i64 {
    x += a * b;
    x
}

#[delayed]
fn describe<T: std::fmt::Debug>(x: T) -> String {
    format!("{x:?}")
}

#[delayed]
fn sum_array<const N: usize>(xs: [i64; N]) -> i64 {
    xs.iter().sum()
}

#[delayed]
fn answer() -> i64 {
    42
}

#[delayed]
fn check(x: i64) {
    assert!(x > 0, "x must be positive");
}

#[delayed]
fn label(name: &'static str) -> String {
    name.to_uppercase()
}

#[delayed]
fn fib(n: u64) -> u64 {
    // Inside the body the name is the lazy function: recurse eagerly.
    if n < 2 {
        n
    } else {
        fib::eager(n - 1) + fib::eager(n - 2)
    }
}

mod nested {
    use dagr::prelude::*;

    #[delayed]
    pub(crate) fn double(x: i64) -> i64 {
        2 * x
    }

    #[delayed]
    fn private_inc(x: i64) -> i64 {
        x + 1
    }

    pub(crate) fn inc_twice(x: i64) -> Delayed<i64> {
        let once = private_inc(x);
        assert_eq!(private_inc::eager(1), 2);
        private_inc(once)
    }
}

#[test]
fn plain_values() {
    assert_eq!(add(1, 2).compute().unwrap(), 3);
    assert_eq!(add(1, 2).compute_with(Scheduler::sync()).unwrap(), 3);
}

#[test]
fn delayed_and_borrowed_delayed_arguments() {
    let a = add(1, 2);
    let b = add(&a, 10);
    let c = add(a, b);
    assert_eq!(c.compute().unwrap(), 16);
}

#[test]
fn vec_of_delayed_for_a_vec_parameter() {
    let parts: Vec<Delayed<i64>> = (1..=4).map(|i| add(i, i)).collect();
    assert_eq!(total(parts).compute().unwrap(), 20);
    assert_eq!(total(vec![1, 2, 3]).compute().unwrap(), 6);
}

#[test]
fn str_for_a_string_parameter_and_a_borrowed_list_for_a_vec_one() {
    assert_eq!(parse(" 41 ").compute().unwrap(), 41);
    let text = String::from("12");
    assert_eq!(parse(text.as_str()).compute().unwrap(), 12);
    assert_eq!(load_file("a.csv").compute().unwrap(), "contents of a.csv");
    // pure: the same text as `&str` or `String` is the same call
    assert_eq!(
        load_file("a.csv").key(),
        load_file("a.csv".to_string()).key()
    );
    assert_ne!(load_file("a.csv").key(), load_file("b.csv").key());

    let parts: Vec<Delayed<i64>> = (1..=4).map(|i| add(i, i)).collect();
    assert_eq!(total(&parts).compute().unwrap(), 20);
    assert_eq!(total(&parts[..2]).compute().unwrap(), 6);
    // the list is still there, and its values are computed once for both totals
    let (a, b) = dagr::compute((&total(&parts), &total(parts.clone()))).unwrap();
    assert_eq!((a, b), (20, 20));
}

#[test]
fn a_task_error_is_printed_once_in_an_error_chain() {
    let err = parse("x").compute().unwrap_err();
    // what a reporter walking `source()` prints (anyhow's `{:#}`, eyre, `main`'s report)
    let mut chain = vec![err.to_string()];
    let mut next = std::error::Error::source(&err);
    while let Some(e) = next {
        chain.push(e.to_string());
        next = e.source();
    }
    let text = chain.join(": ");
    assert_eq!(text.matches("invalid digit").count(), 1, "{text}");
    assert!(
        text.ends_with("failed: invalid digit found in string"),
        "{text}"
    );
    let dagr::Error::TaskFailed { error, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(error.downcast_ref::<ParseIntError>().is_some());
}

#[test]
fn io_errors_convert_for_question_marks() {
    fn run(path: &str) -> Result<i64, dagr::Error> {
        let text = std::fs::read_to_string(path)?;
        parse(text).compute()
    }
    let missing = std::env::temp_dir().join("dagr-no-such-dir/none.txt");
    let err = run(missing.to_str().unwrap()).unwrap_err();
    assert!(
        matches!(&err, dagr::Error::StdIo(e) if e.kind() == std::io::ErrorKind::NotFound),
        "{err:?}"
    );
    let file = std::env::temp_dir().join(format!("dagr-io-question-{}.txt", std::process::id()));
    std::fs::write(&file, "17").unwrap();
    assert_eq!(run(file.to_str().unwrap()).unwrap(), 17);
    std::fs::remove_file(file).unwrap();
}

#[test]
fn result_returns() {
    assert_eq!(parse(" 41 ".to_string()).compute().unwrap(), 41);
    let n = add(parse("1".to_string()), 1);
    assert_eq!(n.compute().unwrap(), 2);

    let err = parse("x".to_string()).compute().unwrap_err();
    assert!(
        matches!(&err, dagr::Error::TaskFailed { key, .. } if key.prefix() == "parse"),
        "{err:?}"
    );
    assert!(err.to_string().contains("invalid digit"), "{err}");

    assert_eq!(read_len("abc".to_string()).compute().unwrap(), 3);
    let err = add(read_len(String::new()).map(|n| n as i64), 1)
        .compute()
        .unwrap_err();
    assert!(err.to_string().contains("empty input"), "{err}");
}

#[test]
fn eager_calls_the_original_function() {
    assert_eq!(add::eager(1, 2), 3);
    assert_eq!(parse::eager("7".to_string()), Ok(7));
    assert_eq!(patterns::eager(1, (2, 3), 0), 7);
    assert_eq!(nested::double::eager(4), 8);
    assert_eq!(fib::eager(10), 55);
    assert_eq!(fib(10).compute().unwrap(), 55);
}

#[test]
fn pure_calls_with_identical_arguments_share_a_key() {
    let a = pure_add(1, 2);
    let b = pure_add(1, 2);
    let c = pure_add(2, 1);
    assert_eq!(a.key(), b.key());
    assert_ne!(a.key(), c.key());
    assert_eq!(a.key().prefix(), "pure_add");

    let x = pure_add(&a, 1);
    let y = pure_add(&b, 1);
    assert_eq!(x.key(), y.key());
    assert_eq!(y.compute().unwrap(), 4);

    let (p, q) = (add(1, 2), add(1, 2));
    assert_ne!(p.key(), q.key());
}

#[test]
fn name_sets_the_key_prefix() {
    assert_eq!(named(1).key().prefix(), "ingest");
    assert_eq!(load_file("a.csv".to_string()).key().prefix(), "load");
    assert_eq!(
        load_file("a.csv".to_string()).key(),
        load_file("a.csv".to_string()).key()
    );
    assert_eq!(add(1, 2).key().prefix(), "add");
    assert_eq!(
        load_file("a.csv".to_string()).compute().unwrap(),
        "contents of a.csv"
    );
}

#[test]
fn parameter_patterns() {
    assert_eq!(patterns(1, (2, 3), 9).compute().unwrap(), 7);
    assert_eq!(patterns(add(0, 1), (2, 3), 9).compute().unwrap(), 7);
}

#[test]
fn generic_functions() {
    assert_eq!(describe(vec![1, 2]).compute().unwrap(), "[1, 2]");
    // A lazy argument for a generic parameter is ambiguous (`T` could be the `Delayed`
    // itself): name the type.
    assert_eq!(describe::<i64>(add(1, 1)).compute().unwrap(), "2");
    assert_eq!(describe::<&str>("hi").compute().unwrap(), "\"hi\"");
    assert_eq!(sum_array([1, 2, 3]).compute().unwrap(), 6);
}

#[test]
fn no_arguments_and_no_result() {
    assert_eq!(answer().compute().unwrap(), 42);
    assert_ne!(answer().key(), answer().key());
    check(1).compute().unwrap();
    let () = check(add(1, 1)).compute().unwrap();
    let err = check(0).compute().unwrap_err();
    assert!(matches!(err, dagr::Error::TaskPanicked { .. }), "{err:?}");
}

#[test]
fn static_references_are_owned_enough() {
    assert_eq!(label("dagr").compute().unwrap(), "DAGR");
}

#[test]
fn inside_a_block() {
    #[delayed]
    fn square(x: i64) -> i64 {
        x * x
    }
    #[delayed]
    fn sum_of_squares(xs: Vec<i64>) -> i64 {
        xs.into_iter().map(square::eager).sum()
    }
    let squares: Vec<_> = (1..=3).map(square).collect();
    assert_eq!(total(squares).compute().unwrap(), 14);
    assert_eq!(sum_of_squares(vec![1, 2, 3]).compute().unwrap(), 14);
}

#[test]
fn visibility_and_modules() {
    assert_eq!(nested::double(nested::inc_twice(1)).compute().unwrap(), 6);
}

/// Called only through `eager` (as `graph!` does): that counts as a use of the function, so
/// this file, under `deny(warnings)`, has no dead-code warning for it.
#[delayed]
fn only_eager(x: i64) -> Result<i64, String> {
    Ok(x + 1)
}

#[test]
fn calling_eager_alone_uses_the_function() {
    assert_eq!(only_eager::eager(1), Ok(2));
}
