//! The pieces of pandas' statistics of a column that `describe` combines: compensated
//! sums, summaries (count, sum, extremes), numpy's linear quantiles, and the pass that
//! finds the values around the wanted quantiles.

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
        // past the largest float the compensation is NaN (inf - inf): the sum is the overflow
        if self.s.is_infinite() {
            self.s
        } else {
            self.s + self.c
        }
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

/// The quartiles.
pub(super) const QS: [f64; 3] = [0.25, 0.5, 0.75];

/// (lower rank, upper rank, weight of the upper) of numpy's linear quantile `q` of `n`.
pub(super) fn quantile_ranks(n: u64, q: f64) -> (u64, u64, f64) {
    let pos = q * (n - 1) as f64;
    let lo = pos.floor() as u64;
    (lo, (lo + 1).min(n - 1), pos - lo as f64)
}

/// The statistics of a column without values (pandas: count 0, the rest NaN), for `qs`
/// quantiles: count, mean, std, min, the quantiles, max.
pub(super) fn empty_stats(qs: usize) -> Vec<f64> {
    let mut v = vec![f64::NAN; qs + 5];
    v[0] = 0.0;
    v
}

/// One pass: the compensated sum of squared deviations from `mean`, and for each window
/// `(lo, hi)` the number of values below `lo` and the values in `[lo, hi]`.
///
/// Values are tested without branches (random data would mispredict most of them): each
/// is written at its window's fill mark, which moves on only when it lies inside.
pub(super) fn windows_pass<const W: usize>(
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

/// [`windows_pass`] for any number of windows: three at once (describe's quartiles) or
/// in groups of up to four, each group one more pass over the values in memory.
pub(super) fn windows_pass_any(
    chunks: &[Vec<f64>],
    mean: f64,
    w: &[(f64, f64)],
) -> (Sum, Vec<u64>, Vec<Vec<f64>>) {
    fn group<const W: usize>(
        chunks: &[Vec<f64>],
        mean: f64,
        w: &[(f64, f64)],
    ) -> (Sum, Vec<u64>, Vec<Vec<f64>>) {
        let w: [(f64, f64); W] = std::array::from_fn(|j| w[j]);
        let (dev, below, inside) = windows_pass(chunks, mean, w);
        (dev, below.to_vec(), inside.into())
    }
    if w.is_empty() {
        return group::<0>(chunks, mean, w);
    }
    let mut out: Option<(Sum, Vec<u64>, Vec<Vec<f64>>)> = None;
    let size = if w.len() == 3 { 3 } else { 4 };
    for g in w.chunks(size) {
        let (dev, mut below, mut inside) = match g.len() {
            1 => group::<1>(chunks, mean, g),
            2 => group::<2>(chunks, mean, g),
            3 => group::<3>(chunks, mean, g),
            _ => group::<4>(chunks, mean, g),
        };
        match &mut out {
            None => out = Some((dev, below, inside)),
            Some(o) => {
                o.1.append(&mut below);
                o.2.append(&mut inside);
            }
        }
    }
    out.unwrap_or_default()
}

/// The order statistics `ranks` asks for (lower and upper of each quantile, in order), if
/// each falls within its window's values (window `k` for quantile `k`).
pub(super) fn in_windows(
    ranks: &[(u64, u64, f64)],
    below: &[u64],
    mut inside: Vec<Vec<f64>>,
) -> Option<Vec<f64>> {
    let mut out = Vec::with_capacity(2 * ranks.len());
    for (k, &(lo, hi, _)) in ranks.iter().enumerate() {
        for r in [lo, hi] {
            let i = usize::try_from(r.checked_sub(*below.get(k)?)?).ok()?;
            let v = inside.get_mut(k)?;
            if i >= v.len() {
                return None;
            }
            out.push(*v.select_nth_unstable_by(i, f64::total_cmp).1);
        }
    }
    Some(out)
}
