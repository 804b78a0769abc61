//! Chunked arrays against ndarray: every operator on random shapes and chunkings, results
//! independent of chunking and scheduler, blockwise fusion by task count, and every error.

use dagr::array::{self as da, s, Array};
use dagr::prelude::*;
use dagr::runtime::{Event, EventKind, Observer};
use ndarray::{ArrayD, Axis, IxDyn};
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A shape of 1 to 3 axes and, per axis, a chunking (block sizes adding up to the length).
fn shape_and_chunks() -> impl Strategy<Value = (Vec<usize>, Vec<Vec<usize>>)> {
    proptest::collection::vec(1usize..7, 1..4).prop_flat_map(|shape| {
        let chunks: Vec<_> = shape
            .iter()
            .map(|&n| proptest::collection::vec(1usize..4, n).prop_map(move |cuts| cut(n, &cuts)))
            .collect();
        (Just(shape), chunks)
    })
}

/// Block sizes of an axis of length `n` from random cut lengths.
fn cut(n: usize, cuts: &[usize]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut left = n;
    for &c in cuts {
        if left == 0 {
            break;
        }
        let c = c.min(left);
        out.push(c);
        left -= c;
    }
    out
}

fn data(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut k = seed;
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        k = k
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((k >> 33) % 2001) as f64 / 100.0 - 10.0
    })
}

fn close(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
    a.shape() == b.shape()
        && a.iter().zip(b).all(|(x, y)| {
            // `x == y` first: equal infinities (`log(0)`) differ by NaN
            x == y
                || (x - y).abs() <= 1e-9 * (1.0 + x.abs().max(y.abs()))
                || (x.is_nan() && y.is_nan())
        })
}

fn near(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

fn var_of(a: &ArrayD<f64>) -> f64 {
    let m = a.mean().unwrap();
    a.iter().map(|x| (x - m).powi(2)).sum::<f64>() / a.len() as f64
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn elementwise_ops_match_ndarray((shape, chunks) in shape_and_chunks(), seed in 0u64..1000, other in proptest::collection::vec(1usize..4, 3)) {
        let a = data(&shape, seed);
        let b = data(&shape, seed + 1).mapv(|v| if v == 0.0 { 1.0 } else { v });
        let x = da::from_array(a.clone(), &chunks).unwrap();
        // the second operand cut differently: chunks are unified automatically
        let other_chunks: Vec<usize> = other[..shape.len()].to_vec();
        let y = da::from_array(b.clone(), &other_chunks).unwrap();
        prop_assert!(close(&(&x + &y).compute().unwrap(), &(&a + &b)));
        prop_assert!(close(&(&x - &y).compute().unwrap(), &(&a - &b)));
        prop_assert!(close(&(&x * &y).compute().unwrap(), &(&a * &b)));
        prop_assert!(close(&(&x / &y).compute().unwrap(), &(&a / &b)));
        prop_assert!(close(&((&x + 1.5) * 2.0 - 3.0).compute().unwrap(), &a.mapv(|v| (v + 1.5) * 2.0 - 3.0)));
        prop_assert!(close(&(1.0 / &y).compute().unwrap(), &b.mapv(|v| 1.0 / v)));
        prop_assert!(close(&(2.0 - &x).compute().unwrap(), &a.mapv(|v| 2.0 - v)));
        prop_assert!(close(&(-&x).compute().unwrap(), &a.mapv(|v| -v)));
        prop_assert!(close(&x.abs().sqrt().compute().unwrap(), &a.mapv(|v| v.abs().sqrt())));
        prop_assert!(close(&x.exp().compute().unwrap(), &a.mapv(f64::exp)));
        prop_assert!(close(&x.abs().log().compute().unwrap(), &a.mapv(|v| v.abs().ln())));
        prop_assert_eq!(x.greater(&y).compute().unwrap(), ndarray::Zip::from(&a).and(&b).map_collect(|p, q| p > q));
        prop_assert_eq!(x.less_equal(0.5).compute().unwrap(), a.mapv(|v| v <= 0.5));
        prop_assert_eq!(x.astype::<i32>().compute().unwrap(), a.mapv(|v| v as i32));
        prop_assert!(close(&x.map_blocks(|b| b.mapv(|v| v * v)).compute().unwrap(), &a.mapv(|v| v * v)));
    }

    #[test]
    fn lazy_scalars_in_expressions_match_ndarray((shape, chunks) in shape_and_chunks(), seed in 0u64..1000) {
        let a = data(&shape, seed);
        let x = da::from_array(a.clone(), &chunks).unwrap();
        let m = a.mean().unwrap();
        let sd = var_of(&a).sqrt();
        prop_assert!(close(&(&x - x.mean()).compute().unwrap(), &a.mapv(|v| v - m)));
        prop_assert!(close(&((&x - x.mean()) / x.std()).compute().unwrap(), &a.mapv(|v| (v - m) / sd)));
        prop_assert!(close(&(x.max() - &x).compute().unwrap(), &a.mapv(|v| a.fold(f64::MIN, |p, &q| p.max(q)) - v)));
        prop_assert!(close(&(&x * x.sum() + x.min()).compute().unwrap(), &a.mapv(|v| v * a.sum() + a.fold(f64::MAX, |p, &q| p.min(q)))));
        prop_assert!(close(&(x.mean() / &x.abs().map(|v| v + 1.0)).compute().unwrap(), &a.mapv(|v| m / (v.abs() + 1.0))));
    }

    #[test]
    fn broadcasting_matches_ndarray((shape, chunks) in shape_and_chunks(), seed in 0u64..1000) {
        let a = data(&shape, seed);
        let x = da::from_array(a.clone(), &chunks).unwrap();
        // a row: the last axis only, and the same with a leading axis of length 1
        let n = *shape.last().unwrap();
        let r = data(&[n], seed + 7);
        let row = da::from_array(r.clone(), &[2]).unwrap();
        prop_assert!(close(&(&x + &row).compute().unwrap(), &(&a + &r)));
        let r2 = r.clone().insert_axis(Axis(0));
        let row2 = da::from_array(r2.clone(), &[1, 3]).unwrap();
        prop_assert!(close(&(&row2 * &x).compute().unwrap(), &(&r2 * &a)));
    }

    #[test]
    fn reductions_match_ndarray((shape, chunks) in shape_and_chunks(), seed in 0u64..1000) {
        let a = data(&shape, seed);
        let x = da::from_array(a.clone(), &chunks).unwrap();
        prop_assert!(near(x.sum().compute().unwrap(), a.sum()));
        prop_assert!(near(x.mean().compute().unwrap(), a.mean().unwrap()));
        prop_assert!(near(x.var().compute().unwrap(), var_of(&a)));
        prop_assert!(near(x.std().compute().unwrap(), var_of(&a).sqrt()));
        let min = a.iter().copied().fold(f64::INFINITY, f64::min);
        let max = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        prop_assert_eq!(x.min().compute().unwrap(), min);
        prop_assert_eq!(x.max().compute().unwrap(), max);
        let flat: Vec<f64> = a.iter().copied().collect();
        prop_assert_eq!(x.argmin().compute().unwrap(), flat.iter().position(|&v| v == min).unwrap());
        prop_assert_eq!(x.argmax().compute().unwrap(), flat.iter().position(|&v| v == max).unwrap());
        for k in 0..shape.len() {
            let ax = Axis(k);
            prop_assert!(close(&x.sum_axis(k).unwrap().compute().unwrap(), &a.sum_axis(ax)));
            prop_assert!(close(&x.mean_axis(k).unwrap().compute().unwrap(), &a.mean_axis(ax).unwrap()));
            prop_assert!(close(&x.var_axis(k).unwrap().compute().unwrap(), &a.var_axis(ax, 0.0)));
            prop_assert!(close(&x.std_axis(k).unwrap().compute().unwrap(), &a.std_axis(ax, 0.0)));
            prop_assert_eq!(x.min_axis(k).unwrap().compute().unwrap(), a.map_axis(ax, |l| l.iter().copied().fold(f64::INFINITY, f64::min)));
            prop_assert_eq!(x.max_axis(k).unwrap().compute().unwrap(), a.map_axis(ax, |l| l.iter().copied().fold(f64::NEG_INFINITY, f64::max)));
            let argmin = a.map_axis(ax, |l| { let m = l.iter().copied().fold(f64::INFINITY, f64::min); l.iter().position(|&v| v == m).unwrap() });
            prop_assert_eq!(x.argmin_axis(k).unwrap().compute().unwrap(), argmin);
            let argmax = a.map_axis(ax, |l| { let m = l.iter().copied().fold(f64::NEG_INFINITY, f64::max); l.iter().position(|&v| v == m).unwrap() });
            prop_assert_eq!(x.argmax_axis(k).unwrap().compute().unwrap(), argmax);
        }
    }

    #[test]
    fn integer_reductions_are_exact((shape, chunks) in shape_and_chunks(), seed in 0u64..1000) {
        let a = data(&shape, seed).mapv(|v| (v * 10.0) as i64);
        let x = da::from_array(a.clone(), &chunks).unwrap();
        prop_assert_eq!(x.sum().compute().unwrap(), a.sum());
        prop_assert_eq!((&x * 3 + 1).compute().unwrap(), a.mapv(|v| v * 3 + 1));
        prop_assert_eq!(x.sum_axis(0).unwrap().compute().unwrap(), a.sum_axis(Axis(0)));
    }

    #[test]
    fn structure_matches_ndarray((shape, chunks) in shape_and_chunks(), seed in 0u64..1000, start in 0usize..4, step in 1usize..4, new in proptest::collection::vec(1usize..5, 3)) {
        let a = data(&shape, seed);
        let x = da::from_array(a.clone(), &chunks).unwrap();
        let n0 = shape[0] as isize;
        let st = (start as isize).min(n0);
        // slicing on the first axis with a step, and an index on the last when there are two
        let y = x.slice(s![st..;step as isize]).unwrap();
        prop_assert_eq!(y.compute().unwrap(), a.slice_axis(Axis(0), ndarray::Slice::new(st, None, step as isize)).to_owned());
        if shape.len() >= 2 {
            let z = x.slice(s![.., -1]).unwrap();
            prop_assert_eq!(z.compute().unwrap(), a.index_axis(Axis(1), shape[1] - 1).to_owned());
        }
        let r = x.rechunk(&new[..shape.len()]).unwrap();
        prop_assert_eq!(r.compute().unwrap(), a.clone());
        let axes: Vec<usize> = (0..shape.len()).rev().collect();
        prop_assert_eq!(x.transpose(&axes).unwrap().compute().unwrap(), a.clone().permuted_axes(IxDyn(&axes)));
        prop_assert_eq!(x.t().compute().unwrap(), a.t().to_owned());
        let c = da::concatenate(&[x.clone(), r.clone()], 0).unwrap();
        prop_assert_eq!(c.compute().unwrap(), ndarray::concatenate(Axis(0), &[a.view(), a.view()]).unwrap());
        let st2 = da::stack(&[x.clone(), r], shape.len()).unwrap();
        prop_assert_eq!(st2.compute().unwrap(), ndarray::stack(Axis(shape.len()), &[a.view(), a.view()]).unwrap());
        let flat = x.rechunk(&[vec![shape[0]]].into_iter().chain(shape[1..].iter().map(|&d| vec![d])).collect::<Vec<_>>()).unwrap();
        prop_assert_eq!(flat.reshape(&[a.len()]).unwrap().compute().unwrap(), ArrayD::from_shape_vec(IxDyn(&[a.len()]), a.iter().copied().collect()).unwrap());
    }

    #[test]
    fn results_do_not_depend_on_the_scheduler((shape, chunks) in shape_and_chunks(), seed in 0u64..1000) {
        let a = data(&shape, seed);
        let x = da::from_array(a, &chunks).unwrap();
        let y = (&x * 1.1 + 0.3).exp();
        for d in [y.sum(), y.mean(), y.var(), y.std()] {
            let s = d.compute_with(Scheduler::sync()).unwrap();
            let t = d.compute_with(Scheduler::threads(2)).unwrap();
            prop_assert_eq!(s.to_bits(), t.to_bits());
        }
        let s = y.mean_axis(0).unwrap().compute_with(Scheduler::sync()).unwrap();
        let t = y.mean_axis(0).unwrap().compute_with(Scheduler::threads(2)).unwrap();
        prop_assert_eq!(s, t);
    }
}

#[test]
fn random_arrays_are_reproducible_and_chunking_only_changes_rounding() {
    let x = da::random::normal(10.0, 0.1, &[300, 200], &[64, 50], 42).unwrap();
    let a = x.compute_with(Scheduler::sync()).unwrap();
    let b = x.compute_with(Scheduler::threads(2)).unwrap();
    assert_eq!(a, b);
    let same = da::random::normal(10.0, 0.1, &[300, 200], &[64, 50], 42)
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(a, same);
    let other = da::random::normal(10.0, 0.1, &[300, 200], &[64, 50], 43)
        .unwrap()
        .compute()
        .unwrap();
    assert_ne!(a, other);
    // one array, reduced under several chunkings: equal up to rounding
    let m = x.mean().compute().unwrap();
    for chunks in [[300, 200], [7, 13], [100, 1]] {
        let y = da::from_array(a.clone(), &chunks).unwrap();
        assert!(near(y.mean().compute().unwrap(), m));
    }
    let r = da::random::randint(0, 5, &[1000], &[100], 1)
        .unwrap()
        .compute()
        .unwrap();
    assert!(r.iter().all(|v| (0..5).contains(v)));
    assert!((0..5).all(|k| r.iter().any(|&v| v == k)));
}

/// Counts the tasks of each run.
#[derive(Default)]
struct Count(AtomicUsize);

impl Observer for Count {
    fn on_event(&self, e: &Event<'_>) {
        if e.kind == EventKind::Started {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[test]
fn elementwise_chains_fuse_into_the_reduction() {
    // 4 x 4 = 16 blocks; a tree of fan-in 8: 2 + 1 combine tasks, 1 finishing task
    let x = da::random::random(&[400, 400], &[100, 100], 3).unwrap();
    let y = (&x + 1.0) * 2.0;
    let total = y.sum();
    assert_eq!(total.num_tasks(), 16 + 3 + 1);
    assert_eq!(x.sum().num_tasks(), 16 + 3 + 1);
    let count = Arc::new(Count::default());
    let s = total
        .compute_with(Scheduler::sync().observe(count.clone()))
        .unwrap();
    assert_eq!(count.0.load(Ordering::Relaxed), 20);
    let expect = x.compute().unwrap().mapv(|v| (v + 1.0) * 2.0).sum();
    assert!(near(s, expect));
    // computing the whole array: one task per block and one assembling them
    assert_eq!(y.num_tasks(), 16 + 1);
}

#[test]
fn sum_and_mean_computed_together_share_their_blocks() {
    let x = da::random::random(&[400, 400], &[100, 100], 3).unwrap();
    // written twice, as the notebook does: equal expressions get equal names
    let s = (&x + 1.0).sum();
    let m = (&x + 1.0).mean();
    let count = Arc::new(Count::default());
    let (s, m) =
        dagr::compute_with((&s, &m), Scheduler::threads(2).observe(count.clone())).unwrap();
    // 16 blocks + 3 combine tasks shared, then one finishing task each
    assert_eq!(count.0.load(Ordering::Relaxed), 16 + 3 + 2);
    assert!(near(s / (400.0 * 400.0), m));
    // an array and a reduction of it, in one run
    let y = &x * 2.0;
    let (full, total) = dagr::compute((&y, &y.sum())).unwrap();
    assert!(near(full.sum(), total));
}

#[test]
fn a_lazy_scalar_is_computed_once_and_fused_into_the_blocks() {
    // 16 blocks; the mean: 16 partial tasks, 2 + 1 combine tasks, 1 finishing task
    let x = da::random::random(&[400, 400], &[100, 100], 3).unwrap();
    let m = x.mean();
    assert_eq!(m.num_tasks(), 16 + 3 + 1);
    // x - mean: one task per block (reading the mean) and one assembling them; the blocks
    // of x, read by the mean's tasks and by these, are made once, by 16 tasks of their own
    let centred = &x - &m;
    assert_eq!(centred.num_tasks(), 16 + 16 + 1 + m.num_tasks());
    let count = Arc::new(Count::default());
    let total = centred
        .abs()
        .max()
        .compute_with(Scheduler::threads(2).observe(count.clone()))
        .unwrap();
    // 16 blocks of x, the mean's 20 tasks, 16 blocks of |x - m| with their maxima, a tree
    // of 3, a finish
    assert_eq!(count.0.load(Ordering::Relaxed), 16 + 20 + 16 + 3 + 1);
    let a = x.compute().unwrap();
    let mean = a.mean().unwrap();
    let want = a.fold(0.0_f64, |acc, &v| acc.max((v - mean).abs()));
    assert!(near(total, want));
}

#[test]
fn memmap_round_trip_and_views() {
    let dir = tempdir("memmap");
    let path = dir.join("x.dat");
    let x = da::random::random(&[50, 40, 30], &[20, 40, 7], 5).unwrap();
    x.to_memmap(&path).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 50 * 40 * 30 * 8);
    let back = da::from_memmap::<f64>(&path, &[50, 40, 30], &[10, 15, 30]).unwrap();
    assert_eq!(back.compute().unwrap(), x.compute().unwrap());
    // the notebook's pattern: one slab per leading index, concatenated
    let slabs: Vec<Array<f64>> = (0..50)
        .map(|i| back.slice(s![i, .., ..]).unwrap())
        .collect();
    let xs = da::concatenate(&slabs, 0).unwrap();
    assert_eq!(xs.shape(), &[2000, 30]);
    assert!(near(
        xs.mean().compute().unwrap(),
        x.mean().compute().unwrap()
    ));
    // storing a transposed, sliced array writes its C-order bytes
    let t = x.slice(s![..;3, 1.., 5]).unwrap().t();
    t.to_memmap(&path).unwrap();
    let tb = da::from_memmap::<f64>(&path, t.shape(), &[10, 10]).unwrap();
    assert_eq!(tb.compute().unwrap(), t.compute().unwrap());
    // no temporary files left behind
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn tempdir(what: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("dagr-array-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn every_error_is_an_error_not_a_panic() {
    let a = da::ones::<f64>(&[4, 3], &[2, 2]).unwrap();
    let b = da::ones::<f64>(&[4, 2], &[2, 2]).unwrap();
    // shape mismatch: at build time with try_, from compute with operators
    assert!(matches!(a.try_add(&b), Err(Error::Shape { .. })));
    let bad = &a + &b;
    assert!(matches!(bad.compute(), Err(Error::Shape { .. })));
    assert!(bad.sum().compute().is_err());
    assert!((&bad * 2.0).compute().is_err());
    assert!(a.greater(&b).compute().is_err());
    // chunks
    assert!(matches!(
        da::ones::<f64>(&[4, 3], &[2]),
        Err(Error::Chunks { .. })
    ));
    assert!(matches!(
        da::ones::<f64>(&[4, 3], &[0, 1]),
        Err(Error::Chunks { .. })
    ));
    assert!(matches!(
        da::ones::<f64>(&[4], &[vec![1, 2]]),
        Err(Error::Chunks { .. })
    ));
    assert!(matches!(a.rechunk(&[5, 5, 5]), Err(Error::Chunks { .. })));
    // axes
    assert!(matches!(
        a.sum_axis(2),
        Err(Error::Axis {
            axis: 2,
            ndim: 2,
            ..
        })
    ));
    assert!(matches!(a.mean_axis(9), Err(Error::Axis { .. })));
    assert!(matches!(
        da::concatenate(std::slice::from_ref(&a), 2),
        Err(Error::Axis { .. })
    ));
    assert!(matches!(
        da::stack(std::slice::from_ref(&a), 3),
        Err(Error::Axis { .. })
    ));
    assert!(matches!(a.transpose(&[0]), Err(Error::Shape { .. })));
    // slices
    assert!(matches!(a.slice(s![4, ..]), Err(Error::Slice { .. })));
    assert!(matches!(a.slice(s![-5, ..]), Err(Error::Slice { .. })));
    let zero_step = [ndarray::SliceInfoElem::Slice {
        start: 0,
        end: None,
        step: 0,
    }];
    assert!(matches!(a.slice(zero_step), Err(Error::Slice { .. })));
    assert!(matches!(a.slice(s![.., .., ..]), Err(Error::Slice { .. })));
    assert!(matches!(
        a.slice(s![ndarray::NewAxis, .., .., ..]),
        Err(Error::Slice { .. })
    ));
    assert_eq!(a.slice(s![10.., ..]).unwrap().shape(), &[0, 3]); // an empty range, as NumPy
                                                                 // shapes
    assert!(matches!(
        da::concatenate(&[a.clone(), b.clone()], 0),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        da::stack(&[a.clone(), b.clone()], 0),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(a.reshape(&[5, 2]), Err(Error::Shape { .. })));
    assert!(matches!(a.reshape(&[12]), Err(Error::Shape { .. }))); // chunked along two axes
    assert!(da::concatenate::<f64>(&[], 0).is_err());
    // arguments
    assert!(da::arange(0.0, 1.0, 0.0, &[2]).is_err());
    assert!(da::random::randint(5, 5, &[3], &[3], 0).is_err());
    assert!(da::random::normal(0.0, -1.0, &[3], &[3], 0).is_err());
    // empty reductions
    let e = da::zeros::<f64>(&[0, 3], &[2, 2]).unwrap();
    assert_eq!(e.sum().compute().unwrap(), 0.0);
    assert!(e.mean().compute().unwrap().is_nan());
    assert!(e.min().compute().is_err());
    assert!(e.argmax().compute().is_err());
    // files
    let dir = tempdir("errors");
    assert!(matches!(
        da::from_memmap::<f64>(dir.join("missing.dat"), &[3], &[3]),
        Err(Error::Io { .. })
    ));
    let path = dir.join("short.dat");
    std::fs::write(&path, [0u8; 20]).unwrap();
    assert!(matches!(
        da::from_memmap::<f64>(&path, &[3], &[3]),
        Err(Error::FileSize {
            expected: 24,
            actual: 20,
            ..
        })
    ));
    assert!(matches!(
        bad.to_memmap(dir.join("bad.dat")),
        Err(Error::Shape { .. })
    ));
    assert!(!dir.join("bad.dat").exists());
    assert!(a.to_memmap(dir.join("no-such-dir").join("x.dat")).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
    // a lazy block of the wrong shape, and a map_blocks that changes the shape
    let d = da::from_delayed(dagr::value(ArrayD::<f64>::zeros(IxDyn(&[2]))), &[3]).unwrap();
    assert!(d.compute().is_err());
    assert!(d.sum().compute().is_err());
    let m = a.map_blocks(|b| b.sum_axis(Axis(0)));
    assert!(m.compute().is_err());
    // integer division by zero is zero, as NumPy's, never a panic
    let i = da::arange(0_i64, 4, 1, &[2]).unwrap();
    assert_eq!((&i / 0).compute().unwrap().iter().sum::<i64>(), 0);
}

/// An array whose blocks count how often they are made.
fn counted(n: usize, chunk: usize, made: &Arc<AtomicUsize>) -> Array<f64> {
    let made = made.clone();
    da::arange(0.0, n as f64, 1.0, &[chunk])
        .unwrap()
        .map_blocks(move |b| {
            made.fetch_add(1, Ordering::Relaxed);
            b.mapv(|v| (v * 0.37).sin())
        })
}

#[test]
fn blocks_shared_by_several_outputs_are_made_once() {
    for sched in [Scheduler::sync(), Scheduler::threads(2)] {
        let made = Arc::new(AtomicUsize::new(0));
        let x = counted(100, 10, &made);
        let mean0 = x.mean_axis(0).unwrap();
        let std = x.std();
        let dev = (&x - x.mean()).abs().max();
        let (a, b, c) = dagr::compute_with((&mean0, &std, &dev), sched.clone()).unwrap();
        // mean, std and the mean inside the deviation each read every block: made once
        assert_eq!(made.load(Ordering::Relaxed), 10);
        made.store(0, Ordering::Relaxed);
        assert_eq!(a, mean0.compute_with(sched.clone()).unwrap());
        assert_eq!(b, std.compute_with(sched.clone()).unwrap());
        assert_eq!(c, dev.compute_with(sched.clone()).unwrap());
        // alone, each output makes the blocks it reads inside its own tasks
        assert_eq!(made.load(Ordering::Relaxed), 10 + 10 + 10);
    }
}

#[test]
fn a_block_read_by_one_task_stays_fused() {
    let made = Arc::new(AtomicUsize::new(0));
    let x = counted(100, 10, &made);
    let y = &x + 1.0;
    let z = (&y + &(&y * 2.0)).sum();
    // y is read twice inside each block's task: no task of its own
    assert_eq!(z.num_tasks(), x.sum().num_tasks());
    z.compute_with(Scheduler::sync()).unwrap();
    assert_eq!(made.load(Ordering::Relaxed), 20);
}

#[test]
fn the_outermost_shared_step_is_the_task() {
    for sched in [Scheduler::sync(), Scheduler::threads(2)] {
        let made = Arc::new(AtomicUsize::new(0));
        let x = counted(60, 20, &made);
        let y = &x * 3.0;
        let (s, m, full) =
            dagr::compute_with((&y.sum(), &(&y - 1.0).max(), &x.sum()), sched.clone()).unwrap();
        // x is read by y's task and by x.sum(): one task each for x's and y's blocks
        assert_eq!(made.load(Ordering::Relaxed), 3);
        assert_eq!(s, y.sum().compute_with(sched.clone()).unwrap());
        assert_eq!(m, (&y - 1.0).max().compute_with(sched.clone()).unwrap());
        assert_eq!(full, x.sum().compute_with(sched.clone()).unwrap());
        let made2 = Arc::new(AtomicUsize::new(0));
        let x2 = counted(60, 20, &made2);
        let y2 = &x2 * 3.0;
        dagr::compute_with((&y2.sum(), &(&y2 - 1.0).max()), sched).unwrap();
        assert_eq!(made2.load(Ordering::Relaxed), 3);
    }
}

#[test]
fn an_array_computed_with_its_reduction_is_made_once() {
    let made = Arc::new(AtomicUsize::new(0));
    let x = counted(40, 10, &made);
    let (full, s) = dagr::compute((&x, &x.sum())).unwrap();
    assert_eq!(made.load(Ordering::Relaxed), 4);
    assert!((full.sum() - s).abs() < 1e-12);
}

/// Blocks larger than the pieces sums and moments read at a time, strided (rows of 600 out of
/// 1000, from memory and from a memory map), with elementwise steps fused in.
#[test]
fn sums_and_moments_over_large_strided_blocks_match_ndarray_with_the_same_bits_every_way() {
    let a = data(&[40, 1000], 11);
    let chunks = [vec![25, 15], vec![600, 400]];
    let dir = tempdir("strided");
    let path = dir.join("a.dat");
    da::from_array(a.clone(), &[40, 1000])
        .unwrap()
        .to_memmap(&path)
        .unwrap();
    let from_mem = da::from_array(a.clone(), &chunks).unwrap();
    let from_map = da::from_memmap::<f64>(&path, &[40, 1000], &chunks).unwrap();
    let b = a.mapv(|v| (v * 2.0 + 1.0).abs().sqrt());
    for x in [from_mem, from_map] {
        let y = (&x * 2.0 + 1.0).abs().sqrt();
        for sched in [Scheduler::sync(), Scheduler::threads(2)] {
            let got = |d: &Delayed<f64>| d.compute_with(sched.clone()).unwrap();
            assert!(near(got(&x.sum()), a.sum()));
            assert!(near(got(&x.mean()), a.mean().unwrap()));
            assert!(near(
                got(&(&x * 2.0 + 1.0).sum()),
                a.mapv(|v| v * 2.0 + 1.0).sum()
            ));
            assert!(near(got(&y.sum()), b.sum()));
            assert!(near(got(&y.var()), var_of(&b)));
            assert!(near(got(&y.std()), var_of(&b).sqrt()));
        }
        // the same bits whether the steps run piece by piece, on a block made by a task of
        // its own (shared with a second output), or on blocks held in memory
        let alone = (y.sum().compute().unwrap(), y.var().compute().unwrap());
        let (s, v, _) = dagr::compute((&y.sum(), &y.var(), &y.max())).unwrap();
        assert_eq!(
            (s.to_bits(), v.to_bits()),
            (alone.0.to_bits(), alone.1.to_bits())
        );
        let held = y.persist().unwrap();
        let h = (held.sum().compute().unwrap(), held.var().compute().unwrap());
        assert_eq!(
            (h.0.to_bits(), h.1.to_bits()),
            (alone.0.to_bits(), alone.1.to_bits())
        );
    }
    // integers stay exact through the pieces
    let i = a.mapv(|v| (v * 100.0) as i64);
    let xi = da::from_array(i.clone(), &chunks).unwrap();
    assert_eq!(
        (&xi * 3 - 7).sum().compute().unwrap(),
        i.mapv(|v| v * 3 - 7).sum()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Uniform random blocks are drawn piece by piece as a sum or moments read them: the same
/// numbers, so the same bits, as the blocks made whole.
#[test]
fn random_blocks_drawn_as_they_are_read_are_the_blocks_made_whole() {
    let x = da::random::random(&[300, 5000], &[100, 3000], 9).unwrap();
    let a = x.compute().unwrap();
    let held = x.persist().unwrap();
    let y = &x * 2.0 + 1.0;
    let yh = &held * 2.0 + 1.0;
    for sched in [Scheduler::sync(), Scheduler::threads(2)] {
        let got = |d: &Delayed<f64>| d.compute_with(sched.clone()).unwrap();
        assert!(near(got(&x.sum()), a.sum()));
        assert!(near(got(&x.var()), var_of(&a)));
        for (d, h) in [
            (x.sum(), held.sum()),
            (x.var(), held.var()),
            (y.sum(), yh.sum()),
            (y.std(), yh.std()),
        ] {
            assert_eq!(got(&d).to_bits(), got(&h).to_bits());
        }
    }
}

/// Blocks cut short along their rows (a band of blocks side by side shares every row in
/// memory) are read a band at a time in the order of memory: each block's partial keeps the
/// bits it has when read alone, through slices, concatenation, fused steps, shared blocks
/// and on every scheduler.
#[test]
fn blocks_read_side_by_side_keep_the_bits_of_blocks_read_alone() {
    let a = data(&[3, 64, 1000], 5);
    let chunks = [vec![1, 1, 1], vec![4; 16], vec![250, 250, 300, 200]];
    let dir = tempdir("side-by-side");
    let path = dir.join("a.dat");
    da::from_array(a.clone(), &[3, 64, 1000])
        .unwrap()
        .to_memmap(&path)
        .unwrap();
    let from_map = da::from_memmap::<f64>(&path, &[3, 64, 1000], &chunks).unwrap();
    let from_mem = da::from_array(a.clone(), &chunks).unwrap();
    let slabs = (0..3)
        .map(|i| from_map.slice(s![i, .., ..]))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let concatenated = da::concatenate(&slabs, 0).unwrap();
    let reversed = from_mem.slice(s![.., .., ..;-1]).unwrap();
    let flat = a.iter().copied().collect::<Vec<f64>>();
    let b = a.mapv(|v| v * 2.0 + 1.0);
    for x in [from_map, from_mem, concatenated, reversed] {
        let y = &x * 2.0 + 1.0;
        let held = x.persist().unwrap();
        let yh = &held * 2.0 + 1.0;
        // one task per band of four blocks besides the blocks' own (which pick its partials);
        // the held sum counts its 192 held blocks instead
        assert_eq!(x.sum().num_tasks() + 192, held.sum().num_tasks() + 3 * 16);
        for sched in [Scheduler::sync(), Scheduler::threads(2)] {
            let got = |d: &Delayed<f64>| d.compute_with(sched.clone()).unwrap();
            assert!(near(got(&x.sum()), flat.iter().sum()));
            assert!(near(got(&y.var()), var_of(&b)));
            for (d, h) in [
                (x.sum(), held.sum()),
                (x.mean(), held.mean()),
                (x.var(), held.var()),
                (y.sum(), yh.sum()),
                (y.std(), yh.std()),
            ] {
                assert_eq!(got(&d).to_bits(), got(&h).to_bits());
            }
            // blocks of `y` made by tasks of their own (a second output reads them)
            let (s, v, _) =
                dagr::compute_with((&y.sum(), &y.var(), &y.max()), sched.clone()).unwrap();
            assert_eq!(s.to_bits(), got(&yh.sum()).to_bits());
            assert_eq!(v.to_bits(), got(&yh.var()).to_bits());
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
