//! Writers never leave half an output: failed, killed and full-disk writes of
//! `to_textfiles`, `to_csv`, `to_memmap`, `to_hdf5` (feature `hdf5`) and `to_parquet`
//! (feature `parquet`) leave either the complete old output
//! or the complete new one, and targets that are not regular files are never replaced.
//!
//! The kill test starts this test binary again as a child that writes in a loop and kills
//! it with SIGKILL at random moments. `DAGR_WRITER_KILLS` sets the kills per writer (25 by
//! default, which keeps CI fast; `DAGR_WRITER_KILLS=100` is the long run); `DAGR_WRITER_SEED`
//! replays a run (the seed is printed).

use dagr::array as da;
use dagr::bag as db;
use dagr::Scheduler;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Keeps the injected panics quiet; other panics (failed checks) print as usual.
fn quiet_injected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
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
    });
}

fn schedulers() -> Vec<Scheduler> {
    vec![
        Scheduler::sync(),
        Scheduler::threads(1),
        Scheduler::threads(2),
    ]
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dagr-writers-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The names in `dir` a write leaves behind when it dies: temporary files and journals.
fn leftovers(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.contains(".tmp-") || n.ends_with(".dagr-commit"))
        .collect()
}

/// The contents of every file in `dir`, by name.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    names(dir)
        .into_iter()
        .map(|n| {
            let b = std::fs::read(dir.join(&n)).unwrap();
            (n, b)
        })
        .collect()
}

// ---- the outputs each writer test writes: version `v` is recognisable in every byte ----

/// Rows per part and parts of version `v` (the part count changes between versions, so a
/// longer old output must lose its extra parts).
fn shape_of(v: u64) -> (usize, usize) {
    (2 + (v % 3) as usize, 1000)
}

fn bag_of(v: u64) -> db::Bag<(i64, i64, i64)> {
    let (parts, rows) = shape_of(v);
    let items: Vec<(i64, i64, i64)> = (0..parts)
        .flat_map(|i| (0..rows).map(move |j| (v as i64, i as i64, j as i64)))
        .collect();
    db::from_sequence(items, parts).unwrap()
}

fn write_text(dir: &Path, v: u64, s: Scheduler) -> Result<(), dagr::Error> {
    bag_of(v)
        .map(|(v, i, j)| format!("{v} {i} {j}"))
        .to_textfiles_with(&format!("{}/*.txt", dir.display()), s)
        .map(drop)
}

fn write_csv(dir: &Path, v: u64, s: Scheduler) -> Result<(), dagr::Error> {
    bag_of(v)
        .to_dataframe(&["v", "i", "j"])?
        .to_csv_with(&format!("{}/*.csv", dir.display()), s)
        .map(drop)
}

const ELEMENTS: usize = 1 << 18;

fn array_of(v: u64) -> da::Array<u64> {
    da::full(&[ELEMENTS], &[ELEMENTS / 16], v).unwrap()
}

fn write_memmap(dir: &Path, v: u64, s: Scheduler) -> Result<(), dagr::Error> {
    array_of(v).store_with(&dir.join("x.dat"), s)
}

#[cfg(feature = "parquet")]
fn write_parquet(dir: &Path, v: u64, s: Scheduler) -> Result<(), dagr::Error> {
    bag_of(v)
        .to_dataframe(&["v", "i", "j"])?
        .to_parquet_with(dir, s)
        .map(drop)
}

#[cfg(feature = "hdf5")]
fn write_hdf5(dir: &Path, v: u64, s: Scheduler) -> Result<(), dagr::Error> {
    array_of(v).to_hdf5_with(&dir.join("x.h5"), "/g/x", s)
}

/// The version of the complete output of a part writer in `dir` (`ext`: `txt` or `csv`),
/// or a description of what is wrong.
fn parts_version(dir: &Path, ext: &str) -> Result<u64, String> {
    let parts: Vec<String> = names(dir)
        .into_iter()
        .filter(|n| !n.starts_with('.'))
        .collect();
    let mut version = None;
    for (i, name) in parts.iter().enumerate() {
        if *name != format!("{i}.{ext}") {
            return Err(format!("unexpected files {parts:?}"));
        }
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let mut lines = text.lines();
        if ext == "csv" && lines.next() != Some("v,i,j") {
            return Err(format!("{name}: no header"));
        }
        let sep = if ext == "csv" { ',' } else { ' ' };
        let mut rows = 0;
        for (j, line) in lines.enumerate() {
            let f: Vec<u64> = line
                .split(sep)
                .map(|x| x.parse().unwrap_or(u64::MAX))
                .collect();
            let v = *version.get_or_insert(f[0]);
            if f != [v, i as u64, j as u64] {
                return Err(format!("{name} line {j}: {line:?} (version {v})"));
            }
            rows += 1;
        }
        if !text.ends_with('\n') || rows == 0 {
            return Err(format!("{name}: truncated"));
        }
        let (n, r) = shape_of(version.unwrap());
        if rows != r || parts.len() != n {
            return Err(format!(
                "{name}: {rows} rows of {r}, {} parts of {n}",
                parts.len()
            ));
        }
    }
    version.ok_or_else(|| "no output".into())
}

/// The version of the complete Parquet output in `dir` (`part.{i}.parquet`), or a
/// description of what is wrong.
#[cfg(feature = "parquet")]
fn parquet_version(dir: &Path) -> Result<u64, String> {
    use dagr::dataframe as dd;
    let parts: Vec<String> = names(dir)
        .into_iter()
        .filter(|n| !n.starts_with('.'))
        .collect();
    let mut version = None;
    for (i, name) in parts.iter().enumerate() {
        if *name != format!("part.{i}.parquet") {
            return Err(format!("unexpected files {parts:?}"));
        }
        let t = dd::read_parquet(&dir.join(name).display().to_string())
            .and_then(|df| df.compute())
            .map_err(|e| format!("{name}: {e}"))?;
        let col = |c: &str| match t.column(c) {
            Ok(dd::Column::I64(v)) => Ok(v.clone()),
            other => Err(format!("{name}: column {c}: {other:?}")),
        };
        let (vs, is, js) = (col("v")?, col("i")?, col("j")?);
        let v = *version.get_or_insert(vs.first().map_or(u64::MAX, |&v| v as u64));
        let (n, rows) = shape_of(v);
        let want_j: Vec<i64> = (0..rows as i64).collect();
        if vs.iter().any(|&x| x as u64 != v) || is.iter().any(|&x| x != i as i64) || js != want_j {
            return Err(format!(
                "{name}: rows of another version or part, or missing"
            ));
        }
        if parts.len() != n {
            return Err(format!("{} parts of {n}", parts.len()));
        }
    }
    version.ok_or_else(|| "no output".into())
}

/// The version of the raw file `x.dat` in `dir`.
fn memmap_version(dir: &Path) -> Result<u64, String> {
    let bytes = std::fs::read(dir.join("x.dat")).map_err(|e| e.to_string())?;
    if bytes.len() != ELEMENTS * 8 {
        return Err(format!("{} bytes", bytes.len()));
    }
    let first = u64::from_ne_bytes(bytes[..8].try_into().unwrap());
    match bytes
        .chunks_exact(8)
        .position(|c| u64::from_ne_bytes(c.try_into().unwrap()) != first)
    {
        None => Ok(first),
        Some(k) => Err(format!("element {k} is not {first}")),
    }
}

#[cfg(feature = "hdf5")]
fn hdf5_version(dir: &Path) -> Result<u64, String> {
    let x = da::from_hdf5::<u64>(dir.join("x.h5"), "/g/x", &[ELEMENTS])
        .and_then(|x| x.compute())
        .map_err(|e| e.to_string())?;
    let first = x[[0]];
    if x.len() == ELEMENTS && x.iter().all(|&e| e == first) {
        Ok(first)
    } else {
        Err("mixed or short dataset".into())
    }
}

type Write = fn(&Path, u64, Scheduler) -> Result<(), dagr::Error>;
type Check = fn(&Path) -> Result<u64, String>;

fn writer(name: &str) -> (Write, Check) {
    match name {
        "text" => (write_text, |d| parts_version(d, "txt")),
        "csv" => (write_csv, |d| parts_version(d, "csv")),
        "memmap" => (write_memmap, memmap_version),
        #[cfg(feature = "hdf5")]
        "hdf5" => (write_hdf5, hdf5_version),
        #[cfg(feature = "parquet")]
        "parquet" => (write_parquet, parquet_version),
        _ => unreachable!("{name}"),
    }
}

fn writer_names() -> Vec<&'static str> {
    let mut v = vec!["text", "csv", "memmap"];
    if cfg!(feature = "hdf5") {
        v.push("hdf5");
    }
    if cfg!(feature = "parquet") {
        v.push("parquet");
    }
    v
}

// ---- a task failing mid-way ----

#[test]
fn a_failing_task_leaves_the_old_parts() {
    quiet_injected_panics();
    for (k, s) in schedulers().into_iter().enumerate() {
        let d = tmp(&format!("fail-{k}"));
        write_text(&d, 1, s.clone()).unwrap();
        write_csv(&d, 1, s.clone()).unwrap();
        let old = snapshot(&d);
        // the last partition fails after the others are written
        let (parts, rows) = shape_of(2);
        let last = (parts - 1) as i64;
        let failing = bag_of(2).map(move |(v, i, j)| {
            if i == last && j == rows as i64 - 1 {
                panic!("injected failure");
            }
            (v, i, j)
        });
        let err = failing
            .map(|(v, i, j)| format!("{v} {i} {j}"))
            .to_textfiles_with(&format!("{}/*.txt", d.display()), s.clone())
            .unwrap_err();
        assert!(err.to_string().contains("injected failure"), "{err}");
        let err = failing
            .to_dataframe(&["v", "i", "j"])
            .unwrap()
            .to_csv_with(&format!("{}/*.csv", d.display()), s.clone())
            .unwrap_err();
        assert!(err.to_string().contains("injected failure"), "{err}");
        assert_eq!(snapshot(&d), old, "scheduler {k}");
        // an Err from a task, too
        let err = bag_of(3)
            .try_map(|(v, i, j)| {
                if i == 1 {
                    Err("bad row")
                } else {
                    Ok((v, i, j))
                }
            })
            .to_dataframe(&["v", "i", "j"])
            .unwrap()
            .to_csv_with(&format!("{}/*.csv", d.display()), s.clone())
            .unwrap_err();
        assert!(err.to_string().contains("bad row"), "{err}");
        assert_eq!(snapshot(&d), old, "scheduler {k}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}

#[test]
fn a_failing_block_leaves_the_old_array() {
    quiet_injected_panics();
    let d = tmp("fail-array");
    write_memmap(&d, 1, Scheduler::default()).unwrap();
    let old = snapshot(&d);
    let failing = array_of(2).map(|x| {
        if x == 2 {
            panic!("injected failure")
        }
        x
    });
    for s in schedulers() {
        let err = failing.store_with(&d.join("x.dat"), s).unwrap_err();
        assert!(err.to_string().contains("injected failure"), "{err}");
        assert_eq!(snapshot(&d), old);
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_shorter_output_removes_the_rest_of_the_longer_one() {
    let d = tmp("shorter");
    // other files in the directory stay, even ones that look almost like parts
    for keep in ["notes.txt", "01.txt", "-1.txt", "x3.txt"] {
        std::fs::write(d.join(keep), "keep").unwrap();
    }
    for s in schedulers() {
        write_text(&d, 1, s.clone()).unwrap(); // 3 parts
        write_text(&d, 0, s.clone()).unwrap(); // 2 parts
        let mut expect = vec!["-1.txt", "0.txt", "01.txt", "1.txt", "notes.txt", "x3.txt"];
        expect.sort();
        assert_eq!(names(&d), expect);
        std::fs::remove_file(d.join("0.txt")).unwrap();
        std::fs::remove_file(d.join("1.txt")).unwrap();
    }
    std::fs::remove_dir_all(&d).unwrap();
}

// ---- targets that are not regular files ----

#[test]
fn a_target_that_is_not_a_regular_file_is_refused() {
    let d = tmp("not-regular");
    let x = da::full(&[10], &[5], 1_u8).unwrap();
    // a device: as root, a rename would replace /dev/null with a regular file
    let err = x.to_memmap("/dev/null").unwrap_err().to_string();
    assert!(
        err.contains("/dev/null") && err.contains("not a regular file"),
        "{err}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device());
    }
    // a directory
    std::fs::create_dir(d.join("x.dat")).unwrap();
    let err = x.to_memmap(d.join("x.dat")).unwrap_err().to_string();
    assert!(
        err.contains("x.dat") && err.contains("a directory"),
        "{err}"
    );
    assert!(d.join("x.dat").is_dir());
    // a part of a multi-file output: refused before anything is written
    std::fs::create_dir(d.join("1.txt")).unwrap();
    let err = write_text(&d, 0, Scheduler::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("1.txt") && err.contains("a directory"),
        "{err}"
    );
    assert_eq!(names(&d), ["1.txt", "x.dat"]);
    std::fs::create_dir(d.join("0.csv")).unwrap();
    let err = write_csv(&d, 0, Scheduler::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("0.csv"), "{err}");
    assert_eq!(names(&d), ["0.csv", "1.txt", "x.dat"]);
    #[cfg(unix)]
    {
        // a link to a regular file: the file is replaced, the link stays
        std::fs::write(d.join("real.dat"), "old").unwrap();
        std::os::unix::fs::symlink(d.join("real.dat"), d.join("link.dat")).unwrap();
        x.to_memmap(d.join("link.dat")).unwrap();
        assert!(std::fs::symlink_metadata(d.join("link.dat"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(d.join("real.dat")).unwrap(), vec![1u8; 10]);
        // a link to nothing is not replaced
        std::os::unix::fs::symlink(d.join("nothing"), d.join("dangling.dat")).unwrap();
        assert!(x.to_memmap(d.join("dangling.dat")).is_err());
        assert!(std::fs::symlink_metadata(d.join("dangling.dat")).is_ok());
    }
    std::fs::remove_dir_all(&d).unwrap();
}

// ---- a full disk ----

/// Where the full-disk child writes, and which writer (`DAGR_WRITER_FULL=writer:dir`).
const FULL_ENV: &str = "DAGR_WRITER_FULL";

/// Writes version 2 where version 1 is, in a file system too small (or a process whose file
/// size limit is too low) for it: an error naming the target, the old output intact.
fn full_disk_write(name: &str, d: &Path) {
    let (write, check) = writer(name);
    let err = write(d, 2, Scheduler::default()).expect_err("the write should not fit");
    let msg = err.to_string();
    let target = if matches!(name, "text" | "csv" | "parquet") {
        d.to_path_buf()
    } else {
        d.join("x")
    };
    assert!(msg.contains(&*target.to_string_lossy()), "{name}: {msg}");
    assert_eq!(check(d), Ok(1), "{name}");
    assert_eq!(leftovers(d), Vec::<String>::new(), "{name}");
}

#[test]
fn full_disk_child() {
    let Ok(spec) = std::env::var(FULL_ENV) else {
        return;
    };
    let (name, dir) = spec.split_once(':').unwrap();
    full_disk_write(name, Path::new(dir));
}

/// Held by the tests that start child processes. The HDF5 library opens files without
/// close-on-exec and locks them: a child forked while another test of this process writes
/// an HDF5 file would inherit that lock and keep the file locked while it runs.
static SPAWNING: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn a_full_disk_is_an_error_naming_the_path_and_keeps_the_old_output() {
    let _spawning = SPAWNING.lock().unwrap_or_else(|p| p.into_inner());
    for name in writer_names() {
        // a process whose file size limit (`ulimit -f 4`: 2 or 4 kB) is below the new output
        let d = tmp(&format!("full-{name}"));
        let (write, _) = writer(name);
        // version 1 is small enough for the limit except the arrays, written before it
        write(&d, 1, Scheduler::default()).unwrap();
        let exe = std::env::current_exe().unwrap();
        let out = Command::new("sh")
            .arg("-c")
            .arg("ulimit -f 4 && trap '' XFSZ && exec \"$0\" \"$@\"")
            .arg(&exe)
            .args([
                "--exact",
                "full_disk_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(FULL_ENV, format!("{name}:{}", d.display()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
    // a real full file system, where this process may mount one (root on Linux)
    let d = tmp("full-tmpfs");
    let mounted = cfg!(target_os = "linux")
        && Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(&d)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if mounted {
        struct Unmount<'a>(&'a Path);
        impl Drop for Unmount<'_> {
            fn drop(&mut self) {
                let _ = Command::new("umount").arg(self.0).status();
            }
        }
        let _unmount = Unmount(&d);
        for name in writer_names() {
            let sub = d.join(name);
            std::fs::create_dir(&sub).unwrap();
            let (write, _) = writer(name);
            write(&sub, 1, Scheduler::default()).unwrap();
            // fill the rest of the file system, so the new output cannot fit
            let filler = d.join("filler");
            let _ = std::fs::write(&filler, vec![0u8; 4 << 20]);
            full_disk_write(name, &sub);
            std::fs::remove_file(&filler).unwrap();
            std::fs::remove_dir_all(&sub).unwrap();
        }
        println!("full tmpfs: checked");
    } else {
        println!("full tmpfs: not checked (cannot mount here)");
    }
    drop(std::fs::remove_dir_all(&d));
}

// ---- killed writers ----

/// The kill child's writer, directory and first version (`DAGR_WRITER_CHILD=writer:dir:v`).
const CHILD_ENV: &str = "DAGR_WRITER_CHILD";

#[test]
fn kill_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut it = spec.splitn(3, ':');
    let (name, v, dir) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
    let (write, _) = writer(name);
    let mut v: u64 = v.parse().unwrap();
    loop {
        write(Path::new(dir), v, Scheduler::threads(2)).unwrap();
        v += 1;
    }
}

/// Reads the output of writer `name` in `dir` through dagr, which finishes a commit a
/// killed write left half done.
fn finish_by_reading(name: &str, dir: &Path) {
    match name {
        #[cfg(feature = "parquet")]
        "parquet" => drop(dagr::dataframe::read_parquet(&dir.display().to_string()).unwrap()),
        _ => {
            let ext = if name == "text" { "txt" } else { "csv" };
            db::read_text(&format!("{}/*.{ext}", dir.display())).unwrap();
        }
    }
}

#[test]
fn a_killed_writer_leaves_the_old_or_the_new_output() {
    let _spawning = SPAWNING.lock().unwrap_or_else(|p| p.into_inner());
    let kills: usize = std::env::var("DAGR_WRITER_KILLS")
        .map(|k| k.parse().unwrap())
        .unwrap_or(25);
    let seed: u64 = std::env::var("DAGR_WRITER_SEED")
        .map(|k| k.parse().unwrap())
        .unwrap_or_else(|_| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("kill test: seed {seed} (DAGR_WRITER_SEED replays), {kills} kills per writer");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let exe = std::env::current_exe().unwrap();
    for name in writer_names() {
        let d = tmp(&format!("kill-{name}"));
        let (write, check) = writer(name);
        write(&d, 0, Scheduler::default()).unwrap();
        // kills fall in a child's start or its first few writes
        let t0 = std::time::Instant::now();
        write(&d, 1, Scheduler::default()).unwrap();
        let one_write = t0.elapsed();
        let t0 = std::time::Instant::now();
        Command::new(&exe)
            .args(["--exact", "kill_child", "--test-threads=1"])
            .output()
            .unwrap();
        let span = t0.elapsed() + one_write * 3;
        let (mut mid_commit, mut versions) = (0, std::collections::BTreeSet::new());
        for k in 0..kills {
            let first = rng.random_range(0..1000u64);
            let mut child = Command::new(&exe)
                .args(["--exact", "kill_child", "--nocapture", "--test-threads=1"])
                .env(CHILD_ENV, format!("{name}:{first}:{}", d.display()))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(span.mul_f64(rng.random::<f64>()));
            child.kill().unwrap();
            child.wait().unwrap();
            let journal = names(&d).iter().any(|n| n.ends_with(".dagr-commit"));
            if journal {
                // killed between moving the first and the last part into place: dagr's
                // readers (and the next write) finish that commit before they list the files
                mid_commit += 1;
                finish_by_reading(name, &d);
                assert!(!names(&d).iter().any(|n| n.ends_with(".dagr-commit")));
            }
            match check(&d) {
                Ok(v) => {
                    versions.insert(v);
                }
                Err(e) => panic!("{name}, kill {k} (seed {seed}): a partial output: {e}"),
            }
        }
        // the next successful write removes what the killed writers left
        write(&d, 5, Scheduler::default()).unwrap();
        assert_eq!(check(&d), Ok(5));
        assert_eq!(leftovers(&d), Vec::<String>::new(), "{name}");
        println!(
            "{name}: {kills} kills, 0 partial outputs, {mid_commit} killed mid-commit and \
             finished by the next read, {} distinct versions seen",
            versions.len()
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
