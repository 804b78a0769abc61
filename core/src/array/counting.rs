//! Counting values: [`Array::unique`], [`Array::histogram`] and [`Array::bincount`].
//!
//! Each is a whole-array reduction: every block is reduced inside the task that makes it
//! (its sorted distinct values, its counts per bin or per value), and those partial results
//! are merged in the fixed combine tree of the other reductions, so results are the same on
//! every scheduler and memory holds a few partial results at a time.

use super::element::{Element, Number};
use super::{from_delayed, token_of, Array};
use crate::delayed::Delayed;
use crate::Error;
use dagr_runtime::TaskError;
use ndarray::{Array1, ArrayD, IxDyn};
use std::cmp::Ordering;

/// NumPy's sort order: numbers ascending, NaN after all of them.
fn sort_order<T: Element>(a: &T, b: &T) -> Ordering {
    a.partial_cmp(b)
        .unwrap_or_else(|| a.is_nan().cmp(&b.is_nan()))
}

/// Sorted distinct values, NaN once at the end (NumPy's `unique` with `equal_nan`).
fn distinct<T: Element>(mut v: Vec<T>) -> Vec<T> {
    v.sort_by(sort_order);
    v.dedup_by(|a, b| a == b || (a.is_nan() && b.is_nan()));
    v
}

/// Bin edges as NumPy makes them: `np.linspace(lo, hi, bins + 1)`.
fn edges(lo: f64, hi: f64, bins: usize) -> Vec<f64> {
    let step = (hi - lo) / bins as f64;
    (0..=bins)
        .map(|i| if i == bins { hi } else { i as f64 * step + lo })
        .collect()
}

/// The bin of `x` among equal bins over `edges`, as NumPy finds it (an estimate from the
/// bin width, corrected against the edges); `None` outside the range or for NaN.
fn bin_of(x: f64, edges: &[f64]) -> Option<usize> {
    let bins = edges.len() - 1;
    let (lo, hi) = (edges[0], edges[bins]);
    if !(x >= lo && x <= hi) {
        return None;
    }
    let mut i = (((x - lo) / (hi - lo)) * bins as f64) as usize;
    if i >= bins {
        i = bins - 1;
    }
    if x < edges[i] {
        i = i.saturating_sub(1);
    } else if i + 1 < bins && x >= edges[i + 1] {
        i += 1;
    }
    Some(i)
}

/// Adds `b` into `a` elementwise, `a` growing to `b`'s length.
fn add_counts(a: &mut Vec<i64>, b: &[i64]) {
    if a.len() < b.len() {
        a.resize(b.len(), 0);
    }
    a.iter_mut().zip(b).for_each(|(x, &y)| *x += y);
}

impl<T: Element> Array<T> {
    /// The sorted distinct values (Dask: `da.unique(x)`), NaN once at the end as NumPy
    /// gives it. A lazy one-dimensional array: its length is known once computed.
    ///
    /// ```
    /// let x = dagr::array::from_array(dagr::ndarray::arr1(&[3, 1, 3, 2, 1]).into_dyn(), &[2])?;
    /// assert_eq!(x.unique().compute()?.to_vec(), vec![1, 2, 3]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn unique(&self) -> Delayed<Array1<T>> {
        self.reduction(
            "unique",
            "unique",
            |_, v, _| distinct(v.iter().copied().collect()),
            |ps: Vec<Vec<T>>| Ok(distinct(ps.into_iter().flatten().collect())),
            |p| Ok(Array1::from(p)),
        )
    }

    /// Counts of the elements in `bins` equal bins over `range` (Dask:
    /// `da.histogram(x, bins=bins, range=range)`), and the `bins + 1` bin edges. As NumPy:
    /// every bin but the last is half-open, the last includes its right edge, values
    /// outside the range and NaN are not counted, and a range of one value is widened by
    /// 0.5 on each side. An error for no bins or a range that is not finite or reversed.
    ///
    /// ```
    /// use dagr::array as da;
    /// let x = da::arange(0.0, 10.0, 1.0, &[4])?;
    /// let (hist, edges) = x.histogram(4, (0.0, 8.0))?;
    /// assert_eq!(hist.compute()?.into_raw_vec_and_offset().0, vec![2, 2, 2, 3]);
    /// assert_eq!(edges.to_vec(), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn histogram(
        &self,
        bins: usize,
        range: (f64, f64),
    ) -> Result<(Array<i64>, Array1<f64>), Error> {
        let (mut lo, mut hi) = range;
        if bins == 0 {
            return Err(Error::InvalidArgument {
                what: "histogram",
                message: "bins must be at least 1".into(),
            });
        }
        if !(lo.is_finite() && hi.is_finite()) || lo > hi {
            return Err(Error::InvalidArgument {
                what: "histogram",
                message: format!(
                    "range ({lo}, {hi}) must be finite, its start no larger than its end"
                ),
            });
        }
        if lo == hi {
            (lo, hi) = (lo - 0.5, hi + 0.5);
        }
        let e = edges(lo, hi, bins);
        let kind = format!(
            "histogram-{:016x}",
            token_of("histogram", |h| h.write(&(
                bins,
                lo.to_bits(),
                hi.to_bits()
            )))
        );
        let ed = e.clone();
        let counts = self.reduction(
            &kind,
            &kind,
            move |_, v, _| {
                let mut c = vec![0_i64; bins];
                for x in v.iter() {
                    if let Some(i) = bin_of(x.to_f64(), &ed) {
                        c[i] += 1;
                    }
                }
                c
            },
            |ps: Vec<Vec<i64>>| {
                let mut acc = Vec::new();
                ps.iter().for_each(|p| add_counts(&mut acc, p));
                Ok(acc)
            },
            move |c| ArrayD::from_shape_vec(IxDyn(&[bins]), c).map_err(TaskError::new),
        );
        Ok((from_delayed(counts, &[bins])?, Array1::from(e)))
    }
}

impl<T: Number> Array<T> {
    /// How many times each value `0, 1, …, max` occurs in a vector of non-negative integers
    /// (Dask: `da.bincount(x, minlength=…)`), at least `minlength` counts long. A lazy
    /// one-dimensional array: its length is known once computed. An error for floats or an
    /// array that is not a vector; a negative value is an error from `compute`.
    ///
    /// ```
    /// let x = dagr::array::from_array(dagr::ndarray::arr1(&[0_i64, 1, 1, 3]).into_dyn(), &[3])?;
    /// assert_eq!(x.bincount(0)?.compute()?.to_vec(), vec![1, 2, 0, 1]);
    /// assert_eq!(x.bincount(6)?.compute()?.to_vec(), vec![1, 2, 0, 1, 0, 0]);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn bincount(&self, minlength: usize) -> Result<Delayed<Array1<i64>>, Error> {
        if T::IS_FLOAT || self.ndim() != 1 {
            return Err(Error::InvalidArgument {
                what: "bincount",
                message: format!(
                    "counts a vector of integers, not an array of {} with shape {:?}",
                    T::DTYPE,
                    self.shape()
                ),
            });
        }
        let kind = format!("bincount-{minlength}");
        // per block: the counts, and the smallest negative value met (an error at the end)
        Ok(self.reduction(
            &kind,
            &kind,
            |_, v, _| {
                let mut c: Vec<i64> = Vec::new();
                let mut negative: Option<i128> = None;
                for x in v.iter() {
                    let x = x.to_i128();
                    if x < 0 {
                        negative = Some(negative.map_or(x, |n| n.min(x)));
                        continue;
                    }
                    let i = x as usize;
                    if i >= c.len() {
                        c.resize(i + 1, 0);
                    }
                    c[i] += 1;
                }
                (c, negative)
            },
            |ps: Vec<(Vec<i64>, Option<i128>)>| {
                let mut acc = Vec::new();
                let mut neg: Option<i128> = None;
                for (c, n) in &ps {
                    add_counts(&mut acc, c);
                    if let Some(n) = *n {
                        neg = Some(neg.map_or(n, |m| m.min(n)));
                    }
                }
                Ok((acc, neg))
            },
            move |(mut c, neg)| {
                if let Some(n) = neg {
                    return Err(TaskError::new(Error::InvalidArgument {
                        what: "bincount",
                        message: format!("the array holds the negative value {n}"),
                    }));
                }
                if c.len() < minlength {
                    c.resize(minlength, 0);
                }
                Ok(Array1::from(c))
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_follow_numpy_at_the_edges() {
        let e = edges(0.0, 1.0, 10);
        assert_eq!(bin_of(0.0, &e), Some(0));
        assert_eq!(bin_of(1.0, &e), Some(9));
        assert_eq!(bin_of(0.1, &e), Some(1)); // 0.1 is the edge of bin 1
        assert_eq!(bin_of(-0.1, &e), None);
        assert_eq!(bin_of(f64::NAN, &e), None);
        assert_eq!(distinct(vec![2.0, f64::NAN, 1.0, 2.0, f64::NAN]).len(), 3);
    }
}
