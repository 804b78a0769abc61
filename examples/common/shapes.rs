//! The runtime benchmarks' four graph shapes as `#[delayed]` graphs: independent tasks and
//! their sum, a binary tree, a chain and a wavefront (each cell after its upper and left
//! neighbours).

use dagr::prelude::*;

#[delayed]
pub fn leaf(i: i64) -> i64 {
    i
}
#[delayed]
pub fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}
#[delayed]
pub fn inc(a: i64) -> i64 {
    a + 1
}
#[delayed]
pub fn ident(a: i64) -> i64 {
    a
}
#[delayed]
pub fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

/// `n` leaves and their sum.
pub fn independent(n: usize) -> Delayed<i64> {
    total((0..n as i64).map(leaf).collect::<Vec<_>>())
}

/// A binary tree over `2^depth` leaves.
pub fn tree(depth: u32) -> Delayed<i64> {
    let mut level: Vec<Delayed<i64>> = (0..1i64 << depth).map(|_| leaf(1)).collect();
    while level.len() > 1 {
        level = level.chunks(2).map(|p| add(&p[0], &p[1])).collect();
    }
    level.pop().expect("a root")
}

/// A chain of `n` tasks.
pub fn chain(n: usize) -> Delayed<i64> {
    let mut last = leaf(0);
    for _ in 1..n {
        last = inc(last);
    }
    last
}

/// A `side` × `side` wavefront.
pub fn wavefront(side: usize) -> Delayed<i64> {
    let mut prev: Vec<Delayed<i64>> = Vec::with_capacity(side);
    for i in 0..side {
        let mut row: Vec<Delayed<i64>> = Vec::with_capacity(side);
        for j in 0..side {
            let cell = match (i, j) {
                (0, 0) => leaf(1),
                (0, _) => ident(&row[j - 1]),
                (_, 0) => ident(&prev[0]),
                _ => add(&prev[j], &row[j - 1]),
            };
            row.push(cell);
        }
        prev = row;
    }
    prev.pop().expect("a corner")
}
