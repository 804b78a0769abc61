//! Random arrays (Dask: `da.random`), reproducible: block `i` of an array made with `seed`
//! draws from its own generator seeded from `(seed, i)`, so the values depend on the seed,
//! shape and chunks only, never on the scheduler, the thread count or the order blocks run.
//!
//! The generator is xoshiro256++ (`rand_xoshiro`), seeded through SplitMix64 from the seed
//! mixed with the block's number in C order; a float in `[0, 1)` is the top 53 bits of one
//! draw times 2^-53. It is fast enough that making a block costs about what writing it to
//! memory does. Dask's values (NumPy's generators) are not reproduced, only their laws.
//!
//! ```
//! use dagr::array::random;
//! use dagr::Scheduler;
//! let x = random::random(&[100, 100], &[30, 40], 42)?;
//! let a = x.compute_with(Scheduler::sync())?;
//! let b = random::random(&[100, 100], &[30, 40], 42)?.compute_with(Scheduler::threads(2))?;
//! assert_eq!(a, b);
//! assert!(a.iter().all(|&v| (0.0..1.0).contains(&v)));
//! # Ok::<(), dagr::Error>(())
//! ```

use super::blocks::{linear, Blocks, Chunk, Cursor, Lazy};
use super::element::Element;
use super::grid::{Grid, IntoChunks};
use super::{token_of, Array};
use crate::Error;
use dagr_runtime::TaskError;
use ndarray::{ArrayD, IxDyn};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::sync::Arc;

/// What a block draws.
#[derive(Clone, Copy)]
enum Dist {
    Uniform,
    Normal { mean: f64, std: f64 },
    Int { low: i64, high: i64 },
}

struct Random {
    dist: Dist,
    seed: u64,
    grid: Arc<Grid>,
}

/// SplitMix64's finaliser: spreads a block number over the seed space.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}

impl Random {
    fn rng(&self, idx: &[usize]) -> Xoshiro256PlusPlus {
        let b = linear(idx, &self.grid.numblocks()) as u64;
        Xoshiro256PlusPlus::seed_from_u64(mix(self.seed ^ mix(b.wrapping_add(0x9e3779b97f4a7c15))))
    }
}

impl Blocks<f64> for Random {
    fn block<'s>(
        &'s self,
        idx: &[usize],
        _: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, f64>, TaskError> {
        let shape = self.grid.block_shape(idx);
        super::memory::check_task_block::<f64>(&shape)?;
        let n: usize = shape.iter().product();
        let mut rng = self.rng(idx);
        let v: Vec<f64> = match self.dist {
            Dist::Uniform => (0..n).map(|_| rng.random::<f64>()).collect(),
            Dist::Normal { mean, std } => {
                // Box–Muller: two normals per two uniforms
                let mut v = Vec::with_capacity(n + 1);
                while v.len() < n {
                    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
                    let u2: f64 = rng.random::<f64>();
                    let r = (-2.0 * u1.ln()).sqrt();
                    let t = std::f64::consts::TAU * u2;
                    v.push(mean + std * r * t.cos());
                    v.push(mean + std * r * t.sin());
                }
                v.truncate(n);
                v
            }
            Dist::Int { .. } => Vec::new(),
        };
        to_chunk(shape, v)
    }

    /// Uniform blocks are drawn a piece at a time as their consumer reads them (the same
    /// numbers in the same order as [`Blocks::block`]): a sum of random numbers never
    /// writes them to memory.
    fn block_lazy<'s>(
        &'s self,
        idx: &[usize],
        inp: &mut Cursor<'_, '_>,
    ) -> Result<Lazy<'s, f64>, TaskError> {
        if !matches!(self.dist, Dist::Uniform) {
            return Ok(Lazy::new(self.block(idx, inp)?));
        }
        let mut rng = self.rng(idx);
        let draw = move |xs: &mut [f64]| xs.iter_mut().for_each(|x| *x = rng.random::<f64>());
        Ok(Lazy::drawn(self.grid.block_shape(idx), Box::new(draw)))
    }
}

struct RandomInt(Random);

impl Blocks<i64> for RandomInt {
    fn block<'s>(
        &'s self,
        idx: &[usize],
        _: &mut Cursor<'_, '_>,
    ) -> Result<Chunk<'s, i64>, TaskError> {
        let shape = self.0.grid.block_shape(idx);
        super::memory::check_task_block::<i64>(&shape)?;
        let n: usize = shape.iter().product();
        let mut rng = self.0.rng(idx);
        let Dist::Int { low, high } = self.0.dist else {
            return to_chunk(shape, vec![0; n]);
        };
        to_chunk(shape, (0..n).map(|_| rng.random_range(low..high)).collect())
    }
}

fn to_chunk<'s, T: Element>(shape: Vec<usize>, v: Vec<T>) -> Result<Chunk<'s, T>, TaskError> {
    ArrayD::from_shape_vec(IxDyn(&shape), v)
        .map(|a| Chunk::Shared(a.into_shared()))
        .map_err(|e| {
            TaskError::new(Error::Shape {
                what: "random",
                message: e.to_string(),
            })
        })
}

fn grid_and_token(
    what: &str,
    shape: &[usize],
    chunks: impl IntoChunks,
    seed: u64,
    params: [u64; 2],
) -> Result<(Arc<Grid>, u64), Error> {
    let chunks = chunks.into_chunks(shape)?;
    let token = token_of(what, |h| {
        h.write(shape);
        h.write(&chunks);
        h.write(&seed);
        h.write(&params);
    });
    Ok((Arc::new(Grid::new(shape.to_vec(), chunks)), token))
}

/// Uniform floats in `[0, 1)` (Dask: `da.random.random(size, chunks)`).
///
/// ```
/// let x = dagr::array::random::random(&[1000], &[100], 7)?;
/// let m = x.mean().compute()?;
/// assert!((m - 0.5).abs() < 0.05);
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn random(shape: &[usize], chunks: impl IntoChunks, seed: u64) -> Result<Array<f64>, Error> {
    let (grid, token) = grid_and_token("random", shape, chunks, seed, [0, 0])?;
    let src = Random {
        dist: Dist::Uniform,
        seed,
        grid: grid.clone(),
    };
    Ok(Array::from_shared_src("random", token, grid, Arc::new(src)))
}

/// Normally distributed floats (Dask: `da.random.normal(loc, scale, size, chunks)`). A
/// negative or non-finite `std` is an error.
///
/// ```
/// let x = dagr::array::random::normal(10.0, 0.1, &[200, 200], &[50, 50], 1)?;
/// assert!((x.mean().compute()? - 10.0).abs() < 0.01);
/// assert!((x.std().compute()? - 0.1).abs() < 0.01);
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn normal(
    mean: f64,
    std: f64,
    shape: &[usize],
    chunks: impl IntoChunks,
    seed: u64,
) -> Result<Array<f64>, Error> {
    if !(std >= 0.0 && std.is_finite() && mean.is_finite()) {
        return Err(Error::InvalidArgument {
            what: "normal",
            message: format!("mean {mean} and std {std} must be finite, std not negative"),
        });
    }
    let (grid, token) = grid_and_token(
        "normal",
        shape,
        chunks,
        seed,
        [mean.to_bits(), std.to_bits()],
    )?;
    let src = Random {
        dist: Dist::Normal { mean, std },
        seed,
        grid: grid.clone(),
    };
    Ok(Array::from_shared_src("normal", token, grid, Arc::new(src)))
}

/// Integers drawn uniformly from `[low, high)` (Dask: `da.random.randint(low, high, size,
/// chunks)`). `low >= high` is an error.
///
/// ```
/// let r = dagr::array::random::randint(0, 5, &[10], &[5], 42)?;
/// let v = r.compute()?;
/// assert!(v.iter().all(|&x| (0..5).contains(&x)));
/// assert!(dagr::array::random::randint(3, 3, &[10], &[5], 42).is_err());
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn randint(
    low: i64,
    high: i64,
    shape: &[usize],
    chunks: impl IntoChunks,
    seed: u64,
) -> Result<Array<i64>, Error> {
    if low >= high {
        return Err(Error::InvalidArgument {
            what: "randint",
            message: format!("low {low} must be below high {high}"),
        });
    }
    let (grid, token) = grid_and_token("randint", shape, chunks, seed, [low as u64, high as u64])?;
    let src = RandomInt(Random {
        dist: Dist::Int { low, high },
        seed,
        grid: grid.clone(),
    });
    Ok(Array::from_shared_src(
        "randint",
        token,
        grid,
        Arc::new(src),
    ))
}
