//! pandas' statistics of one column from its gathered values, read in place.
//!
//! The values arrive as chunks (one per partition, never concatenated). Count, sum, min and
//! max are known from the partitions' [`Summary`]s; one pass over the chunks then adds up the
//! squared deviations from the mean and finds the quartiles' order statistics:
//!
//! 1. **Windows** (one pass): a sample of values evenly spaced through the column places, for
//!    each quartile, a window of values around the sample's quartile, wide enough (about 6
//!    standard errors of a sample quantile on each side) that it holds the order statistic
//!    in all but freak cases. The pass counts the values below each window and keeps the
//!    values inside it (~2 % of the column). An order statistic whose rank `r` falls among
//!    a window's values (`below <= r < below + inside`) is the value of rank `r - below`
//!    within the window, found by `select_nth_unstable`: exact.
//! 2. **Bins** (two more passes, only when a rank falls outside its window): counts in
//!    [`BINS`] equal bins between min and max locate each order statistic's bin (bins keep
//!    the values' order, as rounding is monotonic); a second pass keeps only the values of
//!    those bins, where it is selected the same way.
//!
//! Small columns (up to the sample's size) are one window holding every value.

/// A Neumaier-compensated running sum (close to exact; numpy's pairwise sum is within a
/// few units in the last place of it). Mergeable, so partial sums combine in a tree.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Sum {
    s: f64,
    c: f64,
}

impl Sum {
    #[inline(always)]
    pub(super) fn add(&mut self, x: f64) {
        let t = self.s + x;
        self.c += if self.s.abs() >= x.abs() {
            (self.s - t) + x
        } else {
            (x - t) + self.s
        };
        self.s = t;
    }

    pub(super) fn merge(&mut self, o: &Sum) {
        self.add(o.s);
        self.c += o.c;
    }

    pub(super) fn get(&self) -> f64 {
        self.s + self.c
    }
}

/// Calls `f(lane, x)` for each `x` of `xs`, `x` going to lane `i % 4`, so that four
/// independent accumulators overlap their work instead of waiting for each other.
#[inline(always)]
fn for_each_in_lanes(xs: &[f64], mut f: impl FnMut(usize, f64)) {
    let mut quads = xs.chunks_exact(4);
    for q in &mut quads {
        f(0, q[0]);
        f(1, q[1]);
        f(2, q[2]);
        f(3, q[3]);
    }
    for (lane, &x) in quads.remainder().iter().enumerate() {
        f(lane, x);
    }
}

/// Values added plainly (in four lanes) before their sum joins a compensated total: the
/// plain sum of 64 values errs by at most ~16 units in the last place, so the total stays
/// within a few units in the last place of the exact sum, as numpy's pairwise sum does,
/// at the cost of one addition per value.
const BLOCK: usize = 64;

/// The plain sum of four lanes, merged in a fixed order.
#[inline(always)]
fn lanes_total(l: [f64; 4]) -> f64 {
    (l[0] + l[1]) + (l[2] + l[3])
}

/// The sum of `f(x)` over `xs`: blocks of [`BLOCK`] added plainly, blocks compensated.
#[inline]
pub(super) fn sum_of(xs: &[f64], f: impl Fn(f64) -> f64) -> Sum {
    let mut total = Sum::default();
    for block in xs.chunks(BLOCK) {
        let mut lanes = [0.0; 4];
        for_each_in_lanes(block, |k, x| lanes[k] += f(x));
        total.add(lanes_total(lanes));
    }
    total
}

/// Count, compensated sum and extremes of some values of a column (no NaN).
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Summary {
    /// Number of values.
    pub(super) n: u64,
    /// Their sum.
    pub(super) sum: Sum,
    /// The smallest (+inf for none).
    pub(super) min: f64,
    /// The largest (-inf for none).
    pub(super) max: f64,
}

impl Summary {
    /// One pass over `v`.
    pub(super) fn of(v: &[f64]) -> Summary {
        let mut sum = Sum::default();
        let (mut lo, mut hi) = ([f64::INFINITY; 4], [f64::NEG_INFINITY; 4]);
        for block in v.chunks(BLOCK) {
            let mut lanes = [0.0; 4];
            for_each_in_lanes(block, |k, x| {
                lanes[k] += x;
                lo[k] = if x < lo[k] { x } else { lo[k] };
                hi[k] = if x > hi[k] { x } else { hi[k] };
            });
            sum.add(lanes_total(lanes));
        }
        Summary {
            n: v.len() as u64,
            sum,
            min: lo.into_iter().fold(f64::INFINITY, f64::min),
            max: hi.into_iter().fold(f64::NEG_INFINITY, f64::max),
        }
    }

    /// Adds the values `o` summarises.
    pub(super) fn merge(&mut self, o: &Summary) {
        self.n += o.n;
        self.sum.merge(&o.sum);
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }
}

/// numpy's linear interpolation (`_lerp`), exact at the ends.
pub(super) fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

/// Values sampled to place the windows.
const SAMPLE: usize = 1 << 16;

/// Bins of the fallback (few enough that the counts, 128 KiB, stay in cache while the
/// values stream past).
const BINS: usize = 1 << 14;

/// The quartiles.
const QS: [f64; 3] = [0.25, 0.5, 0.75];

/// (lower rank, upper rank, weight of the upper) of numpy's linear quantile `q` of `n`.
fn quantile_ranks(n: u64, q: f64) -> (u64, u64, f64) {
    let pos = q * (n - 1) as f64;
    let lo = pos.floor() as u64;
    (lo, (lo + 1).min(n - 1), pos - lo as f64)
}

/// The description of a column without values (pandas: count 0, the rest NaN).
pub(super) const EMPTY: [f64; 8] = [
    0.0,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
    f64::NAN,
];

/// count, mean, std (ddof = 1), min, 25 %, 50 %, 75 %, max of the values in `chunks`
/// (no NaN), which `s` summarises.
pub(super) fn column_stats(s: &Summary, chunks: &[Vec<f64>]) -> [f64; 8] {
    column_stats_with(s, chunks, SAMPLE)
}

fn column_stats_with(s: &Summary, chunks: &[Vec<f64>], sample: usize) -> [f64; 8] {
    let n = s.n;
    if n == 0 {
        return EMPTY;
    }
    let mean = s.sum.get() / n as f64;
    let ranks: Vec<(u64, u64, f64)> = QS.iter().map(|&q| quantile_ranks(n, q)).collect();
    let (dev, found) = if n as usize <= sample.max(1) {
        let (dev, below, inside) = windows_pass(chunks, mean, [(f64::NEG_INFINITY, f64::INFINITY)]);
        (dev, in_windows(&ranks, &below, inside))
    } else {
        let w = windows(chunks, n, sample, &ranks);
        let (dev, below, inside) = windows_pass(chunks, mean, w);
        (dev, in_windows(&ranks, &below, inside))
    };
    let order = found.unwrap_or_else(|| by_bins(s, chunks, &ranks));
    let std = if n > 1 {
        (dev.get() / (n - 1) as f64).sqrt()
    } else {
        f64::NAN
    };
    let mut q = [0.0; 3];
    for (k, out) in q.iter_mut().enumerate() {
        *out = lerp(order[2 * k], order[2 * k + 1], ranks[k].2);
    }
    [n as f64, mean, std, s.min, q[0], q[1], q[2], s.max]
}

/// One window per quartile, from a sample of `sample` values evenly spaced through the
/// column: the sample's values about 6 standard errors of the quantile below and above it.
fn windows(
    chunks: &[Vec<f64>],
    n: u64,
    sample: usize,
    ranks: &[(u64, u64, f64)],
) -> [(f64, f64); 3] {
    let m = sample.max(2);
    // the values at indices (i + 1/2) n / m, walking through the chunks once
    let mut v = Vec::with_capacity(m);
    let (mut c, mut start) = (0, 0usize);
    for i in 0..m {
        let at = ((2 * i + 1) as u128 * n as u128 / (2 * m) as u128) as usize;
        while c < chunks.len() && at >= start + chunks[c].len() {
            start += chunks[c].len();
            c += 1;
        }
        if let Some(&x) = chunks.get(c).and_then(|chunk| chunk.get(at - start)) {
            v.push(x);
        }
    }
    let m = v.len();
    if m < 2 {
        return [(f64::NEG_INFINITY, f64::INFINITY); 3];
    }
    v.sort_unstable_by(f64::total_cmp);
    let mut out = [(0.0, 0.0); 3];
    for (k, &q) in QS.iter().enumerate() {
        let (lo, hi, _) = ranks[k];
        let at = |r: u64| r as f64 / (n - 1).max(1) as f64 * (m - 1) as f64;
        let half = 6.0 * (m as f64 * q * (1.0 - q)).sqrt() + 2.0;
        let a = at(lo) - half;
        let b = at(hi) + half;
        out[k] = (
            if a <= 0.0 {
                f64::NEG_INFINITY
            } else {
                v[a as usize]
            },
            if b >= (m - 1) as f64 {
                f64::INFINITY
            } else {
                v[b.ceil() as usize]
            },
        );
    }
    out
}

/// One pass: the compensated sum of squared deviations from `mean`, and for each window
/// `(lo, hi)` the number of values below `lo` and the values in `[lo, hi]`.
///
/// Values are tested without branches (random data would mispredict most of them): each
/// is written at its window's fill mark, which moves on only when it lies inside.
fn windows_pass<const W: usize>(
    chunks: &[Vec<f64>],
    mean: f64,
    w: [(f64, f64); W],
) -> (Sum, [u64; W], [Vec<f64>; W]) {
    const STEP: usize = 1024;
    let mut dev = Sum::default();
    let mut below = [0u64; W];
    let mut buf: [Vec<f64>; W] = std::array::from_fn(|_| Vec::new());
    let mut fill = [0usize; W];
    for c in chunks {
        for part in c.chunks(STEP) {
            for j in 0..W {
                // room for every value of `part`
                if buf[j].len() < fill[j] + part.len() {
                    let len = fill[j] + STEP + fill[j] / 2;
                    buf[j].resize(len, 0.0);
                }
            }
            for block in part.chunks(BLOCK) {
                let mut lanes = [0.0; 4];
                for_each_in_lanes(block, |k, x| {
                    lanes[k] += (x - mean) * (x - mean);
                    for j in 0..W {
                        below[j] += (x < w[j].0) as u64;
                        buf[j][fill[j]] = x;
                        fill[j] += ((x >= w[j].0) & (x <= w[j].1)) as usize;
                    }
                });
                dev.add(lanes_total(lanes));
            }
        }
    }
    for j in 0..W {
        buf[j].truncate(fill[j]);
    }
    (dev, below, buf)
}

/// The order statistics `ranks` asks for (lower and upper of each quartile, in order), if
/// each falls within its window's values.
fn in_windows<const W: usize>(
    ranks: &[(u64, u64, f64)],
    below: &[u64; W],
    mut inside: [Vec<f64>; W],
) -> Option<Vec<f64>> {
    let mut out = Vec::with_capacity(2 * ranks.len());
    for (k, &(lo, hi, _)) in ranks.iter().enumerate() {
        let j = k.min(W - 1);
        for r in [lo, hi] {
            let i = usize::try_from(r.checked_sub(below[j])?).ok()?;
            let v = &mut inside[j];
            if i >= v.len() {
                return None;
            }
            out.push(*v.select_nth_unstable_by(i, f64::total_cmp).1);
        }
    }
    Some(out)
}

/// The order statistics `ranks` asks for, located by counts in [`BINS`] bins (two passes).
fn by_bins(s: &Summary, chunks: &[Vec<f64>], ranks: &[(u64, u64, f64)]) -> Vec<f64> {
    let scale = BINS as f64 / (s.max - s.min);
    // a constant column, or a range too wide for a float: one bin holds everything
    let binned = scale.is_finite() && scale > 0.0;
    let bin = |x: f64| -> usize {
        if binned {
            (((x - s.min) * scale) as usize).min(BINS - 1)
        } else {
            0
        }
    };
    let mut hist = vec![0u64; BINS];
    for c in chunks {
        c.iter().for_each(|&x| hist[bin(x)] += 1);
    }
    // bin and values in earlier bins of each needed rank
    let mut wanted: Vec<u64> = ranks.iter().flat_map(|r| [r.0, r.1]).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let (mut below, mut b) = (0u64, 0usize);
    let located: Vec<(u64, usize, u64)> = wanted
        .iter()
        .map(|&r| {
            while b < BINS - 1 && below + hist[b] <= r {
                below += hist[b];
                b += 1;
            }
            (r, b, below)
        })
        .collect();
    let mut bins: Vec<usize> = located.iter().map(|w| w.1).collect();
    bins.dedup();
    let mut slot = vec![u8::MAX; BINS];
    for (k, &b) in bins.iter().enumerate() {
        slot[b] = k as u8;
    }
    let mut picked: Vec<Vec<f64>> = bins
        .iter()
        .map(|&b| Vec::with_capacity(hist[b] as usize))
        .collect();
    for c in chunks {
        for &x in c {
            let k = slot[bin(x)];
            if k != u8::MAX {
                picked[k as usize].push(x);
            }
        }
    }
    let mut at = |r: u64| -> f64 {
        let Some(&(_, b, below)) = located.iter().find(|w| w.0 == r) else {
            return f64::NAN;
        };
        let v = &mut picked[slot[b] as usize];
        let i = (r - below) as usize;
        if i < v.len() {
            *v.select_nth_unstable_by(i, f64::total_cmp).1
        } else {
            f64::NAN
        }
    };
    ranks.iter().flat_map(|r| [at(r.0), at(r.1)]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The plain way: sort everything.
    fn sorted_stats(chunks: &[Vec<f64>]) -> [f64; 8] {
        let mut v: Vec<f64> = chunks.concat();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let q = |q: f64| {
            let (lo, hi, t) = quantile_ranks(n as u64, q);
            lerp(v[lo as usize], v[hi as usize], t)
        };
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
        [
            n as f64,
            mean,
            var.sqrt(),
            v[0],
            q(0.25),
            q(0.5),
            q(0.75),
            v[n - 1],
        ]
    }

    fn summary(chunks: &[Vec<f64>]) -> Summary {
        let mut s = Summary::of(&[]);
        chunks.iter().for_each(|c| s.merge(&Summary::of(c)));
        s
    }

    fn check(chunks: &[Vec<f64>], sample: usize) -> Result<(), TestCaseError> {
        let want = sorted_stats(chunks);
        let s = summary(chunks);
        let got = column_stats_with(&s, chunks, sample);
        for k in [0, 3, 4, 5, 6, 7] {
            prop_assert_eq!(
                got[k].to_bits(),
                want[k].to_bits(),
                "stat {} sample {}",
                k,
                sample
            );
        }
        for k in [1, 2] {
            prop_assert!(
                (got[k] - want[k]).abs() <= 1e-9 * (1.0 + want[k].abs()),
                "stat {}",
                k
            );
        }
        // the fallback alone
        let ranks: Vec<_> = QS.iter().map(|&q| quantile_ranks(s.n, q)).collect();
        let order = by_bins(&s, chunks, &ranks);
        for k in 0..3 {
            let q = lerp(order[2 * k], order[2 * k + 1], ranks[k].2);
            prop_assert_eq!(q.to_bits(), want[4 + k].to_bits());
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn quartiles_are_the_sorted_values(
            chunks in proptest::collection::vec(proptest::collection::vec(-1e3f64..1e3, 0..300), 1..6),
            dup in 0u32..4,
            order in 0u8..3,
            sample in proptest::sample::select(vec![2usize, 5, 16, 64, 1 << 16]),
        ) {
            let mut chunks = chunks;
            for c in &mut chunks {
                for x in c.iter_mut() {
                    // few distinct values when dup > 0
                    if dup > 0 { *x = (*x / 10f64.powi(dup as i32)).round(); }
                }
                match order { 1 => c.sort_by(f64::total_cmp), 2 => c.sort_by(|a, b| b.total_cmp(a)), _ => {} }
            }
            if chunks.iter().map(Vec::len).sum::<usize>() >= 2 {
                check(&chunks, sample)?;
            }
        }
    }

    #[test]
    fn large_columns_are_exact_through_windows_and_bins() {
        let mut x = 1u64;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        let uniform: Vec<Vec<f64>> = (0..3)
            .map(|_| (0..40_000).map(|_| next()).collect())
            .collect();
        let skewed: Vec<Vec<f64>> = vec![(0..50_000).map(|_| next().powi(8) * 1e9).collect()];
        let constant = vec![vec![7.5; 70_000], vec![1e9; 3]];
        // the windows hold the order statistics of well-behaved data (no fallback)
        for chunks in [&uniform, &skewed] {
            let s = summary(chunks);
            let ranks: Vec<_> = QS.iter().map(|&q| quantile_ranks(s.n, q)).collect();
            let w = windows(chunks, s.n, 1 << 12, &ranks);
            let (_, below, inside) = windows_pass(chunks, 0.5, w);
            assert!(inside.iter().all(|v| v.len() < s.n as usize / 8));
            assert!(in_windows(&ranks, &below, inside).is_some());
        }
        for chunks in [uniform, skewed, constant] {
            for sample in [2, 100, 1 << 12, 1 << 16] {
                check(&chunks, sample).unwrap();
            }
        }
    }
}
