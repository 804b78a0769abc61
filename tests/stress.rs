//! Stress through the collections: many threads computing at once on the shared pool, and
//! resident memory over many small computes.
//!
//! CI runs a bounded form (a few seconds). `DAGR_STRESS=full` runs the long form (build with
//! `--release`): 16 threads for a minute (at most 100 000 computes each), and 100 000
//! small computes for the memory drift. `DAGR_STRESS_SEED` replays a run (printed first).

use dagr::array as da;
use dagr::bag as db;
use dagr::prelude::*;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A compute longer than this is a hang: the watchdog names it and ends the process.
const WATCHDOG: Duration = Duration::from_secs(60);

fn full() -> bool {
    std::env::var("DAGR_STRESS").is_ok_and(|v| v == "full")
}

/// splitmix64: a small, seedable generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Keeps the injected panics quiet; other panics (failed checks) print as usual.
fn quiet_injected_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let injected = info
            .payload()
            .downcast_ref::<&str>()
            .is_some_and(|m| m.starts_with("injected"));
        if !injected {
            default(info);
        }
    }));
}

/// One compute of a kind chosen by `pick`, checked against plain iterators. Returns its name.
fn one_compute(pick: u64, n: u64) -> Result<&'static str, String> {
    let fail = |what: &str, e: Error| format!("{what}: {e}");
    match pick % 6 {
        0 => {
            let b = db::from_sequence(0..n, 1 + (n % 7) as usize).map_err(|e| fail("bag", e))?;
            let got = b.map(|x| x * 3).filter(|x| x % 2 == 0).sum().compute();
            let want: u64 = (0..n).map(|x| x * 3).filter(|x| x % 2 == 0).sum();
            (got.map_err(|e| fail("bag", e))? == want)
                .then_some("bag")
                .ok_or("bag: wrong sum".into())
        }
        1 => {
            let x = da::arange(0_i64, n as i64, 1, &[1 + (n as usize) / 4])
                .map_err(|e| fail("array", e))?;
            let got = (&x * 2).sum().compute().map_err(|e| fail("array", e))?;
            (got == (0..n as i64).map(|v| v * 2).sum::<i64>())
                .then_some("array")
                .ok_or("array: wrong sum".into())
        }
        2 => {
            let rows: Vec<(i64, f64)> = (0..n as i64).map(|i| (i, i as f64 / 2.0)).collect();
            let df = db::from_sequence(rows, 3)
                .and_then(|b| b.to_dataframe(&["i", "x"]))
                .map_err(|e| fail("dataframe", e))?;
            let d = df.describe().compute().map_err(|e| fail("dataframe", e))?;
            let count = d.get("count", "x").map_err(|e| fail("dataframe", e))?;
            (count == n as f64)
                .then_some("dataframe")
                .ok_or("dataframe: wrong count".into())
        }
        3 => {
            // a task that computes: nested on the same pool
            let inner = dagr::value(n).map(|v| v + 1);
            let outer = dagr::value(n).map(move |v| v + inner.compute().unwrap());
            let got = outer.compute().map_err(|e| fail("nested", e))?;
            (got == 2 * n + 1)
                .then_some("nested")
                .ok_or("nested: wrong value".into())
        }
        4 => {
            let bad = n / 2;
            let b = db::from_sequence(0..n.max(1), 4).map_err(|e| fail("failing", e))?;
            let r = b
                .map(move |x| {
                    if x == bad {
                        panic!("injected panic");
                    }
                    x
                })
                .sum()
                .compute();
            match r {
                Err(e) if e.to_string().contains("injected panic") => Ok("failing"),
                other => Err(format!("failing: {other:?}")),
            }
        }
        _ => {
            let d: Vec<Delayed<u64>> = (0..n % 50 + 1)
                .map(|i| dagr::value(i).map(|v| v * v))
                .collect();
            let got =
                dagr::compute(d.iter().collect::<Vec<_>>()).map_err(|e| fail("delayed", e))?;
            (got == (0..n % 50 + 1).map(|v| v * v).collect::<Vec<_>>())
                .then_some("delayed")
                .ok_or("delayed: wrong values".into())
        }
    }
}

/// Held by each test: the memory test measures this process, so nothing else may run.
static ALONE: Mutex<()> = Mutex::new(());

/// What a thread is computing, and since when.
type Doing = Mutex<Option<(Instant, String)>>;

#[test]
fn sixteen_threads_compute_at_once_on_the_shared_pool() {
    let _alone = ALONE.lock().unwrap_or_else(|p| p.into_inner());
    quiet_injected_panics();
    let seed = std::env::var("DAGR_STRESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("seed {seed} (DAGR_STRESS_SEED={seed} replays)");
    let (per_thread, time) = if full() {
        (100_000, Duration::from_secs(60))
    } else {
        (60, Duration::from_secs(60))
    };
    // what each thread is computing, and since when
    let current: Arc<Vec<Doing>> = Arc::new((0..16).map(|_| Mutex::new(None)).collect());
    let watch = current.clone();
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(500));
        for (t, slot) in watch.iter().enumerate() {
            if let Some((since, what)) = &*slot.lock().unwrap() {
                if since.elapsed() > WATCHDOG {
                    eprintln!("HANG: thread {t} spent more than {WATCHDOG:?} on {what}");
                    std::process::exit(101);
                }
            }
        }
    });
    let start = Instant::now();
    let counts: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16u64)
            .map(|t| {
                let current = current.clone();
                s.spawn(move || {
                    let mut rng = Rng(seed ^ t.wrapping_mul(0x9e37_79b9));
                    let mut done = 0;
                    while done < per_thread && start.elapsed() < time {
                        let (pick, n) = (rng.next(), 1 + rng.below(2000));
                        let what = format!("compute {pick} % 6 of n = {n} (seed {seed})");
                        *current[t as usize].lock().unwrap() = Some((Instant::now(), what));
                        if let Err(e) = one_compute(pick, n) {
                            panic!("thread {t}, compute {done} (seed {seed}): {e}");
                        }
                        *current[t as usize].lock().unwrap() = None;
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    println!(
        "16 threads: {} computes in {:.1?}, all right, 0 hangs",
        counts.iter().sum::<usize>(),
        start.elapsed()
    );
}

/// Resident memory of this process, in bytes (Linux).
fn resident() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[test]
fn resident_memory_stays_flat_over_many_small_computes() {
    let _alone = ALONE.lock().unwrap_or_else(|p| p.into_inner());
    let Some(_) = resident() else {
        return;
    };
    let n = if full() { 100_000 } else { 10_000 };
    let small = |i: u64| {
        let a = dagr::value(i).map(|v| v + 1);
        let b = dagr::value(i).map(|v| v * 2);
        let (x, y) = dagr::compute((&a, &b)).unwrap();
        assert_eq!((x, y), (i + 1, i * 2));
    };
    // the pool's threads, their allocators' caches and the first buffers come first
    for i in 0..n / 10 {
        small(i);
    }
    let before = resident().unwrap();
    for i in 0..n {
        small(i);
    }
    let after = resident().unwrap();
    let drift = after as i64 - before as i64;
    println!(
        "{n} small computes: resident {} kB before, {} kB after, drift {} kB",
        before / 1024,
        after / 1024,
        drift / 1024
    );
    // flat: a leak of even 100 bytes per compute would show over the loop
    assert!(
        drift < (n as i64) * 100,
        "resident memory grew by {drift} bytes"
    );
}
