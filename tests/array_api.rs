//! The everyday array API against ndarray and plain loops: products, neighbourhoods,
//! selections and NaN reductions, scans, creation and shape, counting and ranking. Every
//! result is computed on the sync scheduler and on the threads one, which must agree.

use dagr::array::{self as da, s, Array, Boundary};
use dagr::prelude::*;
use ndarray::{ArrayD, Axis, Dimension, IxDyn};
use proptest::prelude::*;

/// A shape of 1 to 3 axes and, per axis, a chunking (block sizes adding up to the length).
fn shape_and_chunks() -> impl Strategy<Value = (Vec<usize>, Vec<Vec<usize>>)> {
    proptest::collection::vec(1usize..7, 1..4).prop_flat_map(|shape| {
        let chunks: Vec<_> = shape.iter().map(|&n| chunking(n)).collect();
        (Just(shape), chunks)
    })
}

/// A random chunking of an axis of length `n`.
fn chunking(n: usize) -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(1usize..4, n.max(1)).prop_map(move |cuts| cut(n, &cuts))
}

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
    if out.is_empty() {
        out.push(0);
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

/// `data` with about one element in four NaN.
fn with_nans(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut k = seed ^ 0x5eed;
    data(shape, seed).mapv(|v| {
        k = k.wrapping_mul(2862933555777941757).wrapping_add(3037000493);
        if (k >> 40).is_multiple_of(4) {
            f64::NAN
        } else {
            v
        }
    })
}

fn close(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
    a.shape() == b.shape()
        && a.iter().zip(b).all(|(x, y)| {
            x == y
                || (x - y).abs() <= 1e-9 * (1.0 + x.abs().max(y.abs()))
                || (x.is_nan() && y.is_nan())
        })
}

fn near(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs())) || (a.is_nan() && b.is_nan())
}

/// Computes on the sync and the threads scheduler; the two must agree bit for bit.
fn both<T: da::Element>(x: &Array<T>) -> ArrayD<T> {
    let a = x.compute_with(Scheduler::sync()).unwrap();
    let b = x.compute_with(Scheduler::threads(2)).unwrap();
    assert!(
        a.shape() == b.shape()
            && a.iter()
                .zip(&b)
                .all(|(p, q)| p == q || (p.is_nan() && q.is_nan())),
        "sync and threads differ"
    );
    a
}

/// [`both`] for a lazy value.
fn both_d<T: dagr::Data + PartialEq + std::fmt::Debug + da::Element>(d: &Delayed<T>) -> T {
    let a = d.compute_with(Scheduler::sync()).unwrap();
    let b = d.compute_with(Scheduler::threads(2)).unwrap();
    assert!(a == b || (a.is_nan() && b.is_nan()), "{a:?} != {b:?}");
    a
}

fn mat(a: &ArrayD<f64>) -> ndarray::Array2<f64> {
    a.clone().into_dimensionality().unwrap()
}

// ----------------------------------------------------------------------------------------
// products

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn dot_matches_ndarray(m in 1usize..7, k in 1usize..7, n in 1usize..7, seed in 0u64..1000,
                           c in proptest::collection::vec(1usize..4, 4)) {
        let a = data(&[m, k], seed);
        let b = data(&[k, n], seed + 1);
        let x = da::from_array(a.clone(), &[c[0], c[1]]).unwrap();
        let y = da::from_array(b.clone(), &[c[2], c[3]]).unwrap();
        let want = mat(&a).dot(&mat(&b)).into_dyn();
        prop_assert!(close(&both(&x.dot(&y).unwrap()), &want));
        prop_assert!(close(&both(&x.matmul(&y).unwrap()), &want));
        // matrix · vector, vector · matrix, vector · vector
        let v = data(&[k], seed + 2);
        let vx = da::from_array(v.clone(), &[c[3]]).unwrap();
        let v1: ndarray::Array1<f64> = v.clone().into_dimensionality().unwrap();
        prop_assert!(close(&both(&x.dot(&vx).unwrap()), &mat(&a).dot(&v1).into_dyn()));
        let w = data(&[m], seed + 3);
        let w1: ndarray::Array1<f64> = w.clone().into_dimensionality().unwrap();
        let wx = da::from_array(w, &[c[2]]).unwrap();
        prop_assert!(close(&both(&wx.dot(&x).unwrap()), &w1.dot(&mat(&a)).into_dyn()));
        let s = both(&vx.dot(&vx).unwrap());
        prop_assert_eq!(s.shape(), &[] as &[usize]);
        prop_assert!(near(s[[]], v1.dot(&v1)));
        // integers are exact
        let ai = a.mapv(|v| (v * 10.0) as i64);
        let bi = b.mapv(|v| (v * 10.0) as i64);
        let xi = da::from_array(ai.clone(), &[c[1], c[0]]).unwrap();
        let yi = da::from_array(bi.clone(), &[c[3], c[2]]).unwrap();
        let ai2: ndarray::Array2<i64> = ai.into_dimensionality().unwrap();
        let bi2: ndarray::Array2<i64> = bi.into_dimensionality().unwrap();
        prop_assert_eq!(both(&xi.dot(&yi).unwrap()), ai2.dot(&bi2).into_dyn());
    }

    #[test]
    fn tensordot_matches_loops(p in 1usize..4, q in 1usize..4, r in 1usize..5, t in 1usize..4,
                               seed in 0u64..1000, c in proptest::collection::vec(1usize..3, 6)) {
        let a = data(&[p, q, r], seed);
        let b = data(&[r, q, t], seed + 1);
        let x = da::from_array(a.clone(), &[c[0], c[1], c[2]]).unwrap();
        let y = da::from_array(b.clone(), &[c[3], c[4], c[5]]).unwrap();
        let got = both(&da::tensordot(&x, &y, &[1, 2], &[1, 0]).unwrap());
        let want = ArrayD::from_shape_fn(IxDyn(&[p, t]), |ix| {
            let (i, l) = (ix[0], ix[1]);
            let mut s = 0.0;
            for j in 0..q {
                for k in 0..r {
                    s += a[[i, j, k]] * b[[k, j, l]];
                }
            }
            s
        });
        prop_assert!(close(&got, &want));
        // no contracted axis: the outer product
        let outer = both(&da::tensordot(&x, &y, &[], &[]).unwrap());
        prop_assert_eq!(outer.shape(), &[p, q, r, r, q, t]);
        prop_assert!(near(outer[[p - 1, 0, r - 1, 0, q - 1, t - 1]], a[[p - 1, 0, r - 1]] * b[[0, q - 1, t - 1]]));
    }
}

/// NumPy's `matmul` of stacks written as loops: `a` is `(sa…, m, k)`, `b` is `(sb…, k, n)`,
/// both with batch axes of the output's rank, broadcast where their length is 1.
fn matmul_loops(a: &ArrayD<f64>, b: &ArrayD<f64>) -> ArrayD<f64> {
    let nd = a.ndim();
    let (m, k, n) = (a.shape()[nd - 2], a.shape()[nd - 1], b.shape()[nd - 1]);
    let batch: Vec<usize> = (0..nd - 2)
        .map(|i| a.shape()[i].max(b.shape()[i]))
        .collect();
    let shape: Vec<usize> = batch.iter().copied().chain([m, n]).collect();
    ArrayD::from_shape_fn(IxDyn(&shape), |ix| {
        let pick = |x: &ArrayD<f64>, r: usize, c: usize| {
            let mut i: Vec<usize> = (0..nd - 2)
                .map(|d| if x.shape()[d] == 1 { 0 } else { ix[d] })
                .collect();
            i.extend([r, c]);
            x[IxDyn(&i)]
        };
        (0..k)
            .map(|p| pick(a, ix[nd - 2], p) * pick(b, p, ix[nd - 1]))
            .sum()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn stacked_matmul_matches_loops(batch in 1usize..4, m in 1usize..5, k in 1usize..5, n in 1usize..5,
            stretch_a in any::<bool>(), stretch_b in any::<bool>(), seed in 0u64..1000,
            c in proptest::collection::vec(1usize..3, 6)) {
        let ba = if stretch_a { 1 } else { batch };
        let bb = if stretch_b { 1 } else { batch };
        let a = data(&[ba, m, k], seed);
        let b = data(&[2, bb, k, n], seed + 1);
        let x = da::from_array(a.clone(), &[c[0], c[1], c[2]]).unwrap();
        let y = da::from_array(b.clone(), &[1, c[3], c[4], c[5]]).unwrap();
        let got = both(&x.matmul(&y).unwrap());
        // the oracle with a's missing leading axis as one of length 1
        let a4 = a.clone().insert_axis(Axis(0));
        prop_assert!(close(&got, &matmul_loops(&a4, &b)));
        // a vector on either side: its axis dropped
        let v = data(&[k], seed + 2);
        let vx = da::from_array(v.clone(), &[c[2]]).unwrap();
        let col = v.clone().insert_axis(Axis(1));
        let want = matmul_loops(&a, &col.insert_axis(Axis(0))).index_axis_move(Axis(2), 0);
        prop_assert!(close(&both(&x.matmul(&vx).unwrap()), &want));
        let w = data(&[m], seed + 3);
        let wx = da::from_array(w.clone(), &[c[1]]).unwrap();
        let row = w.insert_axis(Axis(0)).insert_axis(Axis(0));
        let want = matmul_loops(&row, &a).index_axis_move(Axis(1), 0);
        prop_assert!(close(&both(&wx.matmul(&x).unwrap()), &want));
    }
}

#[test]
fn product_errors_are_errors() {
    let a = da::ones::<f64>(&[2, 3], &[1, 2]).unwrap();
    let b = da::ones::<f64>(&[2, 3, 4], &[1, 2, 2]).unwrap();
    let s = da::full(&[], &[] as &[usize], 2.0).unwrap();
    assert!(matches!(a.dot(&a), Err(Error::Shape { what: "dot", .. })));
    assert!(a.matmul(&a).is_err());
    assert!(b.matmul(&b).is_err());
    assert!(a.matmul(&s).is_err());
    assert!(da::tensordot(&a, &a, &[0], &[]).is_err());
    assert!(da::tensordot(&a, &a, &[2], &[0]).is_err());
    assert!(da::tensordot(&a, &a, &[0, 0], &[0, 0]).is_err());
    assert!(s.dot(&a).is_err());
    // N-d · 1-d and N-d · M-d as NumPy's dot
    let v = da::ones::<f64>(&[4], &[3]).unwrap();
    assert_eq!(
        both(&b.dot(&v).unwrap()),
        ArrayD::from_elem(vec![2, 3], 4.0)
    );
    let m = da::ones::<f64>(&[5, 4, 2], &[2, 3, 1]).unwrap();
    assert_eq!(
        both(&b.dot(&m).unwrap()),
        ArrayD::from_elem(vec![2, 3, 5, 2], 4.0)
    );
}

#[test]
fn a_product_sums_its_partial_products_in_a_tree() {
    // 20 blocks along the contracted axis: one task per pair, summed with fan-in 8
    let a = da::ones::<f64>(&[2, 40], &[2, 2]).unwrap();
    let b = da::ones::<f64>(&[40, 3], &[2, 3]).unwrap();
    let c = a.dot(&b).unwrap();
    assert_eq!(both(&c), ArrayD::from_elem(vec![2, 3], 40.0));
    assert!(c.num_tasks() > 40);
}

// ----------------------------------------------------------------------------------------
// neighbourhoods

/// NumPy's `np.pad` of the modes the boundaries stand for, written per element.
fn pad(a: &ArrayD<f64>, depth: &[usize], boundary: Boundary<f64>) -> ArrayD<f64> {
    let d: Vec<usize> = match boundary {
        Boundary::None => vec![0; a.ndim()],
        _ => depth.to_vec(),
    };
    let shape: Vec<usize> = a.shape().iter().zip(&d).map(|(&n, &d)| n + 2 * d).collect();
    ArrayD::from_shape_fn(IxDyn(&shape), |ix| {
        let mut src = Vec::new();
        for k in 0..a.ndim() {
            let n = a.shape()[k] as isize;
            let p = ix[k] as isize - d[k] as isize;
            let g = match boundary {
                _ if (0..n).contains(&p) => p,
                Boundary::Reflect => {
                    if p < 0 {
                        -1 - p
                    } else {
                        2 * n - 1 - p
                    }
                }
                Boundary::Periodic => (p % n + n) % n,
                Boundary::Nearest => p.clamp(0, n - 1),
                Boundary::Constant(c) => return c,
                Boundary::None => unreachable!(),
            };
            src.push(g as usize);
        }
        a[IxDyn(&src)]
    })
}

/// Each cell plus its neighbours at distance `depth[k]` along each axis `k`, where they
/// exist.
fn stencil(b: ndarray::ArrayViewD<'_, f64>, depth: &[usize]) -> ArrayD<f64> {
    ArrayD::from_shape_fn(b.raw_dim(), |ix| {
        let mut s = b[&ix];
        for k in 0..b.ndim() {
            let d = depth[k];
            if d == 0 {
                continue;
            }
            let mut lo = ix.clone();
            if ix[k] >= d {
                lo[k] = ix[k] - d;
                s += b[&lo];
            }
            let mut hi = ix.clone();
            if ix[k] + d < b.shape()[k] {
                hi[k] = ix[k] + d;
                s += 2.0 * b[&hi];
            }
        }
        s
    })
}

fn boundaries() -> impl Strategy<Value = Boundary<f64>> {
    prop_oneof![
        Just(Boundary::Reflect),
        Just(Boundary::Periodic),
        Just(Boundary::Nearest),
        Just(Boundary::Constant(-7.5)),
        Just(Boundary::None),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn map_overlap_matches_a_stencil_on_the_padded_array((shape, chunks) in shape_and_chunks(),
            seed in 0u64..1000, depth in proptest::collection::vec(0usize..4, 3), boundary in boundaries()) {
        let a = data(&shape, seed);
        let x = da::from_array(a.clone(), &chunks).unwrap();
        let depth: Vec<usize> = depth[..shape.len()].iter().zip(&shape).map(|(&d, &n)| d.min(n)).collect();
        let dd = depth.clone();
        let y = x.map_overlap(&depth, boundary, move |b| stencil(b, &dd)).unwrap();
        let padded = pad(&a, &depth, boundary);
        let full = stencil(padded.view(), &depth);
        let off: Vec<usize> = match boundary { Boundary::None => vec![0; shape.len()], _ => depth.clone() };
        let want = full.slice_each_axis(|ax| {
            let k = ax.axis.index();
            ndarray::Slice::from(off[k]..off[k] + shape[k])
        }).to_owned();
        prop_assert!(close(&both(&y), &want));
        // the identity gives the array back
        prop_assert_eq!(both(&x.map_overlap(&depth, boundary, |b| b.to_owned()).unwrap()), a);
    }
}

#[test]
fn map_overlap_errors_are_errors() {
    let x = da::arange(0.0, 6.0, 1.0, &[2]).unwrap();
    assert!(x
        .map_overlap(7, Boundary::Periodic, |b| b.to_owned())
        .is_err());
    assert!(x
        .map_overlap(&[1, 1], Boundary::Reflect, |b| b.to_owned())
        .is_err());
    // a depth past the whole axis is fine with no boundary
    assert_eq!(
        both(&x.map_overlap(7, Boundary::None, |b| b.to_owned()).unwrap()),
        both(&x)
    );
    // a function changing the shape is an error from compute
    let y = x
        .map_overlap(1, Boundary::Nearest, |b| {
            b.slice(s![1..]).to_owned().into_dyn()
        })
        .unwrap();
    assert!(matches!(
        y.compute(),
        Err(Error::TaskFailed { .. }) | Err(Error::Shape { .. })
    ));
}

// ----------------------------------------------------------------------------------------
// selections and NaN

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn selections_and_nan_reductions_match_ndarray((shape, chunks) in shape_and_chunks(), seed in 0u64..1000,
            other in proptest::collection::vec(1usize..4, 3)) {
        let a = with_nans(&shape, seed);
        let b = data(&shape, seed + 1);
        let x = da::from_array(a.clone(), &chunks).unwrap();
        let y = da::from_array(b.clone(), &other[..shape.len()]).unwrap();
        // where, with arrays and scalars, and a condition broadcast from a row
        let cond = ndarray::Zip::from(&a).and(&b).map_collect(|p, q| p > q);
        let got = both(&da::where_(&x.greater(&y), &x, &y).unwrap());
        let want = ndarray::Zip::from(&cond).and(&a).and(&b).map_collect(|&c, &p, &q| if c { p } else { q });
        prop_assert!(close(&got, &want));
        let got = both(&da::where_(&y.less(0.0), 0.0, &y).unwrap());
        prop_assert_eq!(got, b.mapv(|v| if v < 0.0 { 0.0 } else { v }));
        let n = *shape.last().unwrap();
        let row: ArrayD<bool> = ArrayD::from_shape_fn(IxDyn(&[n]), |i| i[0] % 2 == 0);
        let rowx = da::from_array(row.clone(), &[2]).unwrap();
        let got = both(&da::where_(&rowx, &y, -1.0).unwrap());
        let want = ArrayD::from_shape_fn(b.raw_dim(), |ix| if row[[ix[ix.ndim() - 1]]] { b[&ix] } else { -1.0 });
        prop_assert_eq!(got, want);
        // clip, isnan
        let want = a.mapv(|v| if v.is_nan() { v } else { v.clamp(-2.0, 3.0) });
        prop_assert!(close(&both(&x.clip(-2.0, 3.0)), &want));
        let want = a.mapv(|v| if v > 0.5 { 0.5 } else { v });
        prop_assert!(close(&both(&x.clip(None, 0.5)), &want));
        prop_assert_eq!(both(&x.isnan()), a.mapv(f64::is_nan));
        // NaN reductions over the whole array
        let good: Vec<f64> = a.iter().copied().filter(|v| !v.is_nan()).collect();
        prop_assert!(near(both_d(&x.nansum()), good.iter().sum()));
        prop_assert!(near(both_d(&x.nanmean()), good.iter().sum::<f64>() / good.len() as f64));
        let min = good.iter().copied().fold(f64::NAN, f64::min);
        let max = good.iter().copied().fold(f64::NAN, f64::max);
        prop_assert!(near(both_d(&x.nanmin()), min));
        prop_assert!(near(both_d(&x.nanmax()), max));
        // and along every axis
        for k in 0..shape.len() {
            let ax = Axis(k);
            let lanes = |f: &dyn Fn(&[f64]) -> f64| a.map_axis(ax, |l| {
                let g: Vec<f64> = l.iter().copied().filter(|v| !v.is_nan()).collect();
                f(&g)
            });
            prop_assert!(close(&both(&x.nansum_axis(k).unwrap()), &lanes(&|g| g.iter().sum())));
            prop_assert!(close(&both(&x.nanmean_axis(k).unwrap()), &lanes(&|g| g.iter().sum::<f64>() / g.len() as f64)));
            prop_assert!(close(&both(&x.nanmin_axis(k).unwrap()), &lanes(&|g| g.iter().copied().fold(f64::NAN, f64::min))));
            prop_assert!(close(&both(&x.nanmax_axis(k).unwrap()), &lanes(&|g| g.iter().copied().fold(f64::NAN, f64::max))));
        }
    }
}

#[test]
fn nan_reductions_of_integers_and_all_nan() {
    let x = da::arange(0_i32, 10, 1, &[3]).unwrap();
    assert_eq!(both_d(&x.nansum()), 45);
    assert_eq!(both_d(&x.nanmin()), 0);
    assert_eq!(both_d(&x.nanmax()), 9);
    assert_eq!(both_d(&x.nanmean()), 4.5);
    let n = da::full(&[4], &[3], f64::NAN).unwrap();
    assert!(both_d(&n.nanmin()).is_nan());
    assert!(both_d(&n.nanmean()).is_nan());
    assert_eq!(both_d(&n.nansum()), 0.0);
    // NumPy sums integers in f64 for their mean
    let big = da::full(&[5, 2], &[2, 1], 120_i8).unwrap();
    assert_eq!(both_d(&big.mean()), 120.0);
    assert_eq!(
        both(&big.mean_axis(0).unwrap()),
        ArrayD::from_elem(vec![2], 120.0)
    );
    // clip with min > max gives max, as NumPy
    assert_eq!(both(&x.clip(5, 2)).into_raw_vec_and_offset().0, vec![2; 10]);
    assert!(da::where_(&x.greater(3), &x, da::ones::<i32>(&[4], &[4]).unwrap()).is_err());
}

// ----------------------------------------------------------------------------------------
// scans

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn scans_match_sequential_loops((shape, chunks) in shape_and_chunks(), seed in 0u64..1000) {
        let a = data(&shape, seed).mapv(|v| v / 4.0);
        let x = da::from_array(a.clone(), &chunks).unwrap();
        let ai = a.mapv(|v| (v * 4.0) as i64);
        let xi = da::from_array(ai.clone(), &chunks).unwrap();
        for k in 0..shape.len() {
            let mut s = a.clone();
            s.accumulate_axis_inplace(Axis(k), |&p, c| *c += p);
            prop_assert!(close(&both(&x.cumsum(k).unwrap()), &s));
            let mut p = a.clone();
            p.accumulate_axis_inplace(Axis(k), |&q, c| *c *= q);
            prop_assert!(close(&both(&x.cumprod(k).unwrap()), &p));
            let mut si = ai.clone();
            si.accumulate_axis_inplace(Axis(k), |&q, c| *c += q);
            prop_assert_eq!(both(&xi.cumsum(k).unwrap()), si);
            let mut pi = ai.clone();
            pi.accumulate_axis_inplace(Axis(k), |&q, c| *c = c.wrapping_mul(q));
            prop_assert_eq!(both(&xi.cumprod(k).unwrap()), pi);
        }
        prop_assert!(x.cumsum(shape.len()).is_err());
    }
}

// ----------------------------------------------------------------------------------------
// creation and shape

/// A slice element of a range with a step of either sign (never zero) over an axis of `n`,
/// its ends within `-n..=n` (ndarray, the oracle, panics past them where NumPy clamps).
fn elem(n: usize, a: isize, b: isize, step: isize, open: bool) -> da::SliceInfoElem {
    let n = n as isize;
    da::SliceInfoElem::Slice {
        start: a.clamp(-n, n),
        end: (!open).then_some(b.clamp(-n, n)),
        step: if step == 0 { -1 } else { step },
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn slices_with_negative_steps_and_new_axes_match_ndarray((shape, chunks) in shape_and_chunks(), seed in 0u64..1000,
            bounds in proptest::collection::vec((-7isize..8, -7isize..8, -3isize..4, any::<bool>()), 3),
            new_at in 0usize..4) {
        let a = data(&shape, seed);
        let x = da::from_array(a.clone(), &chunks).unwrap();
        let mut info: Vec<da::SliceInfoElem> = shape
            .iter()
            .zip(&bounds)
            .map(|(&n, &(s, e, st, open))| elem(n, s, e, st, open))
            .collect();
        info.insert(new_at.min(info.len()), da::SliceInfoElem::NewAxis);
        let got = both(&x.slice(&info).unwrap());
        let si = ndarray::SliceInfo::<_, IxDyn, IxDyn>::try_from(info.clone()).unwrap();
        let want = a.slice(si).to_owned();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn creation_and_shape_match_ndarray(n in 0usize..9, c in 1usize..4, k in -3isize..4, seed in 0u64..1000,
            start in -5.0f64..5.0, stop in -5.0f64..5.0) {
        // linspace: NumPy's i * step + start, the last being stop, whatever the chunks
        let x = da::linspace(start, stop, n, &[c]).unwrap();
        let step = (stop - start) / (n.max(2) - 1) as f64;
        let want: Vec<f64> = (0..n).map(|i| if n == 1 { start } else if i + 1 == n { stop } else { i as f64 * step + start }).collect();
        prop_assert_eq!(both(&x).into_raw_vec_and_offset().0, want);
        // eye
        let e = da::eye::<i64>(n, k, &[c, c + 1]).unwrap();
        prop_assert_eq!(both(&e), ArrayD::from_shape_fn(IxDyn(&[n, n]), |i| i64::from(i[1] as isize - i[0] as isize == k)));
        // diag both ways
        let v = data(&[n], seed);
        let vx = da::from_array(v.clone(), &[c]).unwrap();
        let v1: ndarray::Array1<f64> = v.into_dimensionality().unwrap();
        prop_assert_eq!(both(&vx.diag().unwrap()), ndarray::Array2::from_diag(&v1).into_dyn());
        let m = data(&[n, n / 2 + 1], seed);
        let mx = da::from_array(m.clone(), &[c, c + 1]).unwrap();
        prop_assert_eq!(both(&mx.diag().unwrap()), mat(&m).diag().to_owned().into_dyn());
        // squeeze and expand_dims
        let t = data(&[1, n, 1], seed);
        let tx = da::from_array(t.clone(), &[1, c, 1]).unwrap();
        let squeezed: Vec<usize> = if n == 1 { vec![] } else { vec![n] };
        prop_assert_eq!(both(&tx.squeeze()), t.clone().into_shape_with_order(IxDyn(&squeezed)).unwrap());
        prop_assert_eq!(both(&tx.squeeze_axes(&[0]).unwrap()), t.index_axis(Axis(0), 0).to_owned());
        prop_assert_eq!(both(&tx.expand_dims(2).unwrap()), t.clone().insert_axis(Axis(2)));
    }
}

// ----------------------------------------------------------------------------------------
// counting and ranking

/// NumPy's histogram written plainly: a value's bin is the last edge at or below it, the
/// last bin closed.
fn histogram_of(a: &[f64], bins: usize, lo: f64, hi: f64) -> Vec<i64> {
    let step = (hi - lo) / bins as f64;
    let edges: Vec<f64> = (0..=bins)
        .map(|i| if i == bins { hi } else { i as f64 * step + lo })
        .collect();
    let mut c = vec![0; bins];
    for &x in a {
        if x.is_nan() || x < lo || x > hi {
            continue;
        }
        let i = edges[..bins].iter().rposition(|&e| e <= x).unwrap();
        c[i] += 1;
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn counting_matches_plain_loops((shape, chunks) in shape_and_chunks(), seed in 0u64..1000,
            bins in 1usize..9, lo in -12.0f64..0.0, width in 0.0f64..15.0) {
        let a = with_nans(&shape, seed).mapv(|v| (v * 2.0).round() / 2.0);
        let x = da::from_array(a.clone(), &chunks).unwrap();
        // unique: sorted, NaN once at the end
        let mut want: Vec<f64> = a.iter().copied().filter(|v| !v.is_nan()).collect();
        want.sort_by(|p, q| p.partial_cmp(q).unwrap());
        want.dedup();
        let has_nan = a.iter().any(|v| v.is_nan());
        let got = x.unique().compute_with(Scheduler::sync()).unwrap();
        let threads = x.unique().compute_with(Scheduler::threads(2)).unwrap();
        prop_assert!(got.iter().map(|v| v.to_bits()).eq(threads.iter().map(|v| v.to_bits())));
        prop_assert_eq!(got.len(), want.len() + usize::from(has_nan));
        prop_assert!(got.iter().zip(&want).all(|(p, q)| p == q));
        prop_assert_eq!(got.last().is_some_and(|v| v.is_nan()), has_nan);
        // histogram
        let hi = lo + width;
        let (h, edges) = x.histogram(bins, (lo, hi)).unwrap();
        let (l2, h2) = if width == 0.0 { (lo - 0.5, hi + 0.5) } else { (lo, hi) };
        let flat: Vec<f64> = a.iter().copied().collect();
        prop_assert_eq!(both(&h).into_raw_vec_and_offset().0, histogram_of(&flat, bins, l2, h2));
        prop_assert_eq!(edges.len(), bins + 1);
        // bincount of the integers
        let ints: Vec<i64> = flat.iter().map(|v| if v.is_nan() { 0 } else { (v.abs() * 2.0) as i64 }).collect();
        let xi = da::from_array(ArrayD::from_shape_vec(IxDyn(&[ints.len()]), ints.clone()).unwrap(), &[chunks[0][0]]).unwrap();
        let mut counts = vec![0i64; ints.iter().copied().max().unwrap_or(0) as usize + 1];
        ints.iter().for_each(|&i| counts[i as usize] += 1);
        let got = xi.bincount(0).unwrap().compute_with(Scheduler::threads(2)).unwrap();
        prop_assert_eq!(got.to_vec(), counts.clone());
        counts.resize(counts.len().max(30), 0);
        prop_assert_eq!(xi.bincount(30).unwrap().compute_with(Scheduler::sync()).unwrap().to_vec(), counts);
    }

    #[test]
    fn topk_matches_a_sort((shape, chunks) in shape_and_chunks(), seed in 0u64..1000, kk in 1usize..7, largest in any::<bool>()) {
        let a = data(&shape, seed).mapv(|v| v.round());
        let x = da::from_array(a.clone(), &chunks).unwrap();
        for axis in 0..shape.len() {
            let n = shape[axis];
            let k = kk.min(n) as isize * if largest { 1 } else { -1 };
            let m = k.unsigned_abs();
            let mut want_v = a.clone();
            let mut want_i = a.mapv(|_| 0usize);
            let mut sh = shape.clone();
            sh[axis] = m;
            want_v = want_v.slice_axis(Axis(axis), ndarray::Slice::from(0..m)).to_owned();
            want_i = want_i.slice_axis(Axis(axis), ndarray::Slice::from(0..m)).to_owned();
            ndarray::Zip::from(want_v.lanes_mut(Axis(axis)))
                .and(want_i.lanes_mut(Axis(axis)))
                .and(a.lanes(Axis(axis)))
                .for_each(|mut ov, mut oi, lane| {
                    let mut l: Vec<(f64, usize)> = lane.iter().copied().zip(0..).collect();
                    // a stable sort keeps the smaller index first on ties
                    if largest {
                        l.sort_by(|p, q| q.0.partial_cmp(&p.0).unwrap());
                    } else {
                        l.sort_by(|p, q| p.0.partial_cmp(&q.0).unwrap());
                    }
                    for j in 0..m {
                        ov[j] = l[j].0;
                        oi[j] = l[j].1;
                    }
                });
            prop_assert_eq!(both(&x.topk(k, axis).unwrap()), want_v);
            prop_assert_eq!(both(&x.argtopk(k, axis).unwrap()), want_i);
            let t = x.topk(k, axis).unwrap();
            prop_assert_eq!(sh.as_slice(), t.shape());
        }
        prop_assert!(x.topk(0, 0).is_err());
        prop_assert!(x.topk(shape[0] as isize + 1, 0).is_err());
    }
}

#[test]
fn counting_errors_are_errors() {
    let x = da::arange(0.0, 4.0, 1.0, &[2]).unwrap();
    assert!(x.histogram(0, (0.0, 1.0)).is_err());
    assert!(x.histogram(3, (1.0, 0.0)).is_err());
    assert!(x.histogram(3, (0.0, f64::NAN)).is_err());
    assert!(x.bincount(0).is_err());
    let m = da::ones::<i64>(&[2, 2], &[1, 1]).unwrap();
    assert!(m.bincount(0).is_err());
    let neg = da::arange(-2_i64, 3, 1, &[2]).unwrap();
    assert!(neg.bincount(0).unwrap().compute().is_err());
    assert!(x.topk(1, 1).is_err());
    // NaN counts as the largest in topk, as in NumPy's sort
    let n = da::from_array(ndarray::arr1(&[1.0, f64::NAN, 3.0]).into_dyn(), &[2]).unwrap();
    assert!(both(&n.topk(1, 0).unwrap())[0].is_nan());
    assert_eq!(
        both(&n.topk(-2, 0).unwrap())
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![1.0, 3.0]
    );
}
