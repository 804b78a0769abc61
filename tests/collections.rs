//! Every collection through the crate-level functions: `dagr::compute` of bags, dataframes,
//! arrays and lazy values together, and `visualize` of one collection or several outputs.

use dagr::array as da;
use dagr::bag as db;
use dagr::dataframe::{col, Column};
use dagr::prelude::*;

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("dagr-coll-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn compute_takes_every_collection_at_once() {
    let b = db::from_sequence((1..=10_i64).collect::<Vec<_>>(), 3).unwrap();
    let df = b
        .map(|x| (x, x as f64 / 2.0))
        .to_dataframe(&["n", "half"])
        .unwrap();
    let big = df.filter(col("n").gt(6));
    let x = da::arange(0.0, 5.0, 1.0, &[2]).unwrap();
    let d = dagr::value(7_i64);
    for sched in [Scheduler::sync(), Scheduler::threads(2)] {
        let (items, total, table, bigs, arr, mean, seven) =
            dagr::compute_with((&b, &b.sum(), &df, &big, &x, &x.mean(), &d), sched).unwrap();
        assert_eq!(items, (1..=10).collect::<Vec<_>>());
        assert_eq!(total, 55);
        assert_eq!(table.column("n").unwrap(), &Column::I64((1..=10).collect()));
        assert_eq!(bigs.column("n").unwrap(), &Column::I64(vec![7, 8, 9, 10]));
        assert_eq!(arr.as_slice().unwrap(), &[0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!((mean, seven), (2.0, 7));
    }
    // slices and vectors of collections
    let parts = vec![b.filter(|x| x % 2 == 0), b.filter(|x| x % 2 == 1)];
    let got = dagr::compute(&parts).unwrap();
    assert_eq!(got, vec![vec![2, 4, 6, 8, 10], vec![1, 3, 5, 7, 9]]);
    // an error found while building a dataframe comes out as itself
    let err = dagr::compute((&b, &df.filter(col("nope").gt(1)))).unwrap_err();
    assert!(matches!(err, Error::UnknownColumn { .. }), "{err}");
}

#[test]
fn visualize_draws_collections_and_several_outputs() {
    let dir = scratch("vis");
    let b = db::from_sequence((0..8_i64).collect::<Vec<_>>(), 2).unwrap();
    let df = b.map(|x| (x,)).to_dataframe(&["n"]).unwrap();
    let x = da::ones::<f64>(&[4, 4], &[2, 2]).unwrap();
    b.map(|v| v + 1).visualize(dir.join("b.dot")).unwrap();
    df.visualize(dir.join("df.dot")).unwrap();
    (&x + 1.0).visualize(dir.join("x.dot")).unwrap();
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    assert!(
        read("b.dot").contains("label=\"map\\n(1)\""),
        "{}",
        read("b.dot")
    );
    assert!(
        read("df.dot").contains("to-dataframe"),
        "{}",
        read("df.dot")
    );
    assert!(
        read("x.dot").contains("label=\"add\\n(1, 1)\""),
        "{}",
        read("x.dot")
    );
    // the same picture through the method and the function (the final concatenation is a
    // new task each time: only its key differs)
    assert_eq!(b.to_dot().lines().count(), dagr::to_dot(&b).lines().count());

    // several outputs in one picture, each output's tasks in it
    let m = x.mean();
    let s = x.std();
    dagr::visualize((&m, &s, &b.sum()), dir.join("all.dot")).unwrap();
    let all = read("all.dot");
    // the array's two reductions, and the bag's sum with its per-partition tasks
    for label in [
        "label=\"mean\"",
        "label=\"std\"",
        "label=\"sum\\n(0)\"",
        "label=\"sum-part\\n(1)\"",
    ] {
        assert!(all.contains(label), "{label} in {all}");
    }
    // svg without Graphviz too
    dagr::visualize((&m, &df), dir.join("two.svg")).unwrap();
    assert!(read("two.svg").contains("<svg"));
    std::fs::remove_dir_all(&dir).unwrap();
}
