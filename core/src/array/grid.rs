//! Shapes and chunk grids: how an array is cut into blocks.

use crate::Error;

/// A chunk specification: a regular block shape (`&[200, 500]`, the last block of an axis
/// may be smaller) or explicit per-axis block sizes (`&[vec![2, 3], vec![5]]`).
///
/// ```
/// use dagr::array::IntoChunks;
/// assert_eq!((&[2, 4]).into_chunks(&[5, 4]).unwrap(), vec![vec![2, 2, 1], vec![4]]);
/// assert_eq!((&[vec![1, 4], vec![4]]).into_chunks(&[5, 4]).unwrap(), vec![vec![1, 4], vec![4]]);
/// assert!((&[0, 4]).into_chunks(&[5, 4]).is_err());
/// ```
pub trait IntoChunks {
    /// Per-axis block sizes for an array of `shape`, checked.
    fn into_chunks(self, shape: &[usize]) -> Result<Vec<Vec<usize>>, Error>;
}

/// The most blocks an array may have: the runtime numbers a graph's nodes with `u32`.
const MAX_BLOCKS: u128 = u32::MAX as u128;

/// Checks, before anything is allocated from them, that `shape`'s element count fits in a
/// `usize` and that the grid of `blocks` (per axis) is one a graph can hold.
fn check_size(shape: &[usize], blocks: impl Iterator<Item = usize>) -> Result<(), Error> {
    if shape
        .iter()
        .try_fold(1usize, |a, &n| a.checked_mul(n))
        .is_none()
    {
        return Err(Error::Chunks {
            message: format!("the array {shape:?} has more elements than a usize can count"),
        });
    }
    let total = blocks.fold(1u128, |a, b| a.saturating_mul(b.max(1) as u128));
    if total > MAX_BLOCKS {
        return Err(Error::Chunks {
            message: format!(
                "the array {shape:?} would have {total} blocks, more than a graph can hold \
                 ({MAX_BLOCKS}): choose larger chunks"
            ),
        });
    }
    Ok(())
}

fn regular(sizes: &[usize], shape: &[usize]) -> Result<Vec<Vec<usize>>, Error> {
    if sizes.len() == shape.len() {
        let blocks = sizes
            .iter()
            .zip(shape)
            .map(|(&c, &n)| if c == 0 { 1 } else { n.div_ceil(c) });
        check_size(shape, blocks)?;
    }
    if sizes.len() != shape.len() {
        return Err(Error::Chunks {
            message: format!(
                "chunk shape {sizes:?} has {} axes, the array {shape:?} has {}",
                sizes.len(),
                shape.len()
            ),
        });
    }
    sizes
        .iter()
        .zip(shape)
        .map(|(&c, &n)| {
            if n == 0 {
                Ok(vec![0])
            } else if c == 0 {
                Err(Error::Chunks {
                    message: format!("chunk size 0 for an axis of length {n} in {sizes:?}"),
                })
            } else {
                let c = c.min(n);
                let mut v = vec![c; n / c];
                if n % c != 0 {
                    v.push(n % c);
                }
                Ok(v)
            }
        })
        .collect()
}

fn explicit(lists: &[Vec<usize>], shape: &[usize]) -> Result<Vec<Vec<usize>>, Error> {
    check_size(shape, lists.iter().map(Vec::len))?;
    if lists.len() != shape.len() {
        return Err(Error::Chunks {
            message: format!(
                "chunks {lists:?} have {} axes, the array {shape:?} has {}",
                lists.len(),
                shape.len()
            ),
        });
    }
    lists
        .iter()
        .zip(shape)
        .enumerate()
        .map(|(axis, (l, &n))| {
            if l.is_empty() && n == 0 {
                return Ok(vec![0]);
            }
            let sum = l.iter().try_fold(0usize, |a, &x| a.checked_add(x));
            if sum != Some(n) || l.is_empty() {
                return Err(Error::Chunks {
                    message: format!("chunks {l:?} of axis {axis} do not add up to its length {n}"),
                });
            }
            Ok(l.clone())
        })
        .collect()
}

impl IntoChunks for &[usize] {
    fn into_chunks(self, shape: &[usize]) -> Result<Vec<Vec<usize>>, Error> {
        regular(self, shape)
    }
}
impl<const N: usize> IntoChunks for &[usize; N] {
    fn into_chunks(self, shape: &[usize]) -> Result<Vec<Vec<usize>>, Error> {
        regular(self, shape)
    }
}
impl IntoChunks for &Vec<usize> {
    fn into_chunks(self, shape: &[usize]) -> Result<Vec<Vec<usize>>, Error> {
        regular(self, shape)
    }
}
impl IntoChunks for &[Vec<usize>] {
    fn into_chunks(self, shape: &[usize]) -> Result<Vec<Vec<usize>>, Error> {
        explicit(self, shape)
    }
}
impl<const N: usize> IntoChunks for &[Vec<usize>; N] {
    fn into_chunks(self, shape: &[usize]) -> Result<Vec<Vec<usize>>, Error> {
        explicit(self, shape)
    }
}
impl IntoChunks for &Vec<Vec<usize>> {
    fn into_chunks(self, shape: &[usize]) -> Result<Vec<Vec<usize>>, Error> {
        explicit(self, shape)
    }
}

/// The block structure of an array.
///
/// Invariants: 1. `chunks.len() == shape.len()`; 2. every axis has at least one block and
/// its sizes add up to its length (an empty axis has one block of size 0); 3. `starts[k]`
/// holds the prefix sums of `chunks[k]` (one more entry than blocks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grid {
    pub(crate) shape: Vec<usize>,
    pub(crate) chunks: Vec<Vec<usize>>,
    pub(crate) starts: Vec<Vec<usize>>,
}

impl Grid {
    pub(crate) fn new(shape: Vec<usize>, chunks: Vec<Vec<usize>>) -> Grid {
        let starts = chunks
            .iter()
            .map(|c| {
                let mut s = Vec::with_capacity(c.len() + 1);
                let mut acc = 0;
                s.push(0);
                for &x in c {
                    acc += x;
                    s.push(acc);
                }
                s
            })
            .collect();
        Grid {
            shape,
            chunks,
            starts,
        }
    }

    pub(crate) fn ndim(&self) -> usize {
        self.shape.len()
    }

    pub(crate) fn numblocks(&self) -> Vec<usize> {
        self.chunks.iter().map(Vec::len).collect()
    }

    pub(crate) fn nblocks(&self) -> usize {
        self.chunks.iter().map(Vec::len).product()
    }

    pub(crate) fn size(&self) -> usize {
        self.shape.iter().product()
    }

    pub(crate) fn block_shape(&self, idx: &[usize]) -> Vec<usize> {
        idx.iter().zip(&self.chunks).map(|(&i, c)| c[i]).collect()
    }

    pub(crate) fn block_start(&self, idx: &[usize]) -> Vec<usize> {
        idx.iter().zip(&self.starts).map(|(&i, s)| s[i]).collect()
    }

    /// Every block index, in C order (last axis fastest).
    pub(crate) fn blocks(&self) -> Vec<Vec<usize>> {
        let nb = self.numblocks();
        let total: usize = nb.iter().product();
        let mut out = Vec::with_capacity(total);
        let mut idx = vec![0; nb.len()];
        for _ in 0..total {
            out.push(idx.clone());
            for k in (0..nb.len()).rev() {
                idx[k] += 1;
                if idx[k] < nb[k] {
                    break;
                }
                idx[k] = 0;
            }
        }
        out
    }
}

/// The common refinement of two chunkings of one axis: every boundary of either.
pub(crate) fn refine(a: &[usize], b: &[usize]) -> Vec<usize> {
    let mut bounds: Vec<usize> = Vec::new();
    let mut acc = 0;
    for &x in a {
        acc += x;
        bounds.push(acc);
    }
    acc = 0;
    for &x in b {
        acc += x;
        bounds.push(acc);
    }
    bounds.sort_unstable();
    bounds.dedup();
    let mut out = Vec::with_capacity(bounds.len());
    let mut prev = 0;
    for b in bounds {
        if b > prev {
            out.push(b - prev);
            prev = b;
        }
    }
    if out.is_empty() {
        out.push(0);
    }
    out
}

/// The axis in range `0..ndim`, or an error naming the operation.
pub(crate) fn check_axis(what: &'static str, axis: usize, ndim: usize) -> Result<usize, Error> {
    if axis < ndim {
        Ok(axis)
    } else {
        Err(Error::Axis { what, axis, ndim })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_chunks_clip_and_keep_a_remainder() {
        assert_eq!(regular(&[3], &[7]).unwrap(), vec![vec![3, 3, 1]]);
        assert_eq!(regular(&[10], &[7]).unwrap(), vec![vec![7]]);
        assert_eq!(regular(&[3], &[0]).unwrap(), vec![vec![0]]);
        assert!(regular(&[3, 3], &[7]).is_err());
    }

    #[test]
    fn explicit_chunks_must_add_up() {
        assert!(explicit(&[vec![3, 3]], &[7]).is_err());
        assert!(explicit(&[vec![]], &[7]).is_err());
        assert_eq!(explicit(&[vec![]], &[0]).unwrap(), vec![vec![0]]);
    }

    #[test]
    fn grid_blocks_in_c_order() {
        let g = Grid::new(vec![5, 4], vec![vec![2, 3], vec![1, 3]]);
        assert_eq!(
            g.blocks(),
            vec![vec![0, 0], vec![0, 1], vec![1, 0], vec![1, 1]]
        );
        assert_eq!(g.block_shape(&[1, 1]), vec![3, 3]);
        assert_eq!(g.block_start(&[1, 1]), vec![2, 1]);
        assert_eq!(refine(&[2, 3], &[4, 1]), vec![2, 2, 1]);
    }
}
