//! Writing files atomically, so a failed or killed write never replaces a good output and
//! readers never see half of one.
//!
//! One file ([`write_atomically`]): written under a temporary name beside the target, then
//! renamed into place.
//!
//! Several files, one per partition ([`Parts`]), in four steps:
//! 1. *Prepare*: every target that exists must be a regular file (checked before anything
//!    is written); a commit left by a writer killed in step 3 is finished first.
//! 2. *Write*: each part goes to its temporary name `.{name}.tmp-{tag}` beside its target.
//!    Nothing is moved while any part is still being written; a failure removes the
//!    temporary files and leaves the old output as it was.
//! 3. *Commit*, once every part is written: a small journal `.{first name}.dagr-commit`
//!    is written (atomically) beside the first target, naming the parts' count and tag;
//!    then every part is renamed into place, files the pattern names with a partition
//!    number past the new count (the rest of a longer old output) are removed, and the
//!    journal is removed. A writer killed during this short step leaves the journal (it
//!    names the pattern, the count and the tag); the next write to the same pattern
//!    finishes the commit before it starts (step 1), and so do dagr's readers
//!    (`read_text`, `read_csv`, `read_parquet`) before they list the files, so they never
//!    read a mix.
//! 4. *Clean*: temporary files left beside the targets by killed writers (their process
//!    is gone) are removed.
//!
//! Temporary names start with `.` and contain `.tmp-` followed by the writing process's id:
//! recognisable, hidden from `*` globs, and removed by the next successful write.
//!
//! A target that exists and is not a regular file (a directory, a device such as
//! `/dev/null`, a pipe) is never replaced: the write is refused with an error naming it. A
//! symbolic link to a regular file is followed, so the file it points to is replaced and the
//! link stays.

use crate::tokenize::fresh_token;
use crate::Error;
use dagr_runtime::TaskError;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Writes `bytes` to `path` atomically.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Writes what `fill` writes to `path` atomically, through a buffer.
pub(crate) fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    write_atomically(path, |tmp| write_file(tmp, path, fill))
}

/// Creates `tmp`, fills it through a buffer and syncs it to disk; errors name `target`
/// (the file the user asked for).
fn write_file(
    tmp: &Path,
    target: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    std::fs::File::create(tmp)
        .and_then(|f| {
            let mut w = BufWriter::new(f);
            fill(&mut w)?;
            w.into_inner().map_err(|e| e.into_error())?.sync_all()
        })
        .map_err(|source| Error::Io {
            path: target.to_owned(),
            source,
        })
}

/// Removes the temporary file unless the write succeeded (also when unwinding).
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// The file a write to `path` replaces: `path` itself, or the regular file a symbolic link
/// at `path` points to. An existing target that is not a regular file is an error.
pub(crate) fn target_of(path: &Path) -> Result<PathBuf, Error> {
    let refuse = |what: &str| {
        Error::Io {
        path: path.to_owned(),
        source: std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("exists and is {what}, not a regular file: dagr writes only regular files and does not replace it"),
        ),
    }
    };
    match std::fs::symlink_metadata(path) {
        Err(_) => Ok(path.to_owned()),
        Ok(m) if m.is_file() => Ok(path.to_owned()),
        Ok(m) if m.is_dir() => Err(refuse("a directory")),
        Ok(m) if m.file_type().is_symlink() => match std::fs::metadata(path) {
            Ok(t) if t.is_file() => std::fs::canonicalize(path).map_err(|source| Error::Io {
                path: path.to_owned(),
                source,
            }),
            Ok(t) if t.is_dir() => Err(refuse("a link to a directory")),
            Ok(_) => Err(refuse("a link to a device, pipe or socket")),
            Err(_) => Err(refuse("a link to nothing")),
        },
        Ok(_) => Err(refuse("a device, pipe or socket")),
    }
}

/// The temporary name of a write to `target` tagged `tag`: `.{name}.tmp-{tag}` beside it
/// (same directory, so the final rename stays on one file system).
fn temp_name(target: &Path, tag: &str) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.tmp-{tag}"))
}

/// A tag for this process's temporary files: its id, then a fresh token.
fn local_tag() -> String {
    format!("{}-{:x}", std::process::id(), fresh_token())
}

/// Whether the process with id `pid` is running on this machine (`None`: cannot tell).
fn process_alive(pid: u32) -> Option<bool> {
    if pid == std::process::id() {
        return Some(true);
    }
    let proc = Path::new("/proc");
    proc.join("self")
        .exists()
        .then(|| proc.join(pid.to_string()).exists())
}

/// Removes temporary files beside `target` that writers killed before they finished left
/// behind.
fn remove_leftovers(target: &Path) {
    if let Some(name) = target.file_name().and_then(|n| n.to_str()) {
        remove_stale_temps(parent_dir(target), |base| base == name);
    }
}

/// The directory a file path is in (`.` for a bare name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Removes the temporary files `.{base}.tmp-{tag}` in `dir` whose `base` is one `ours`
/// accepts and whose writer is gone: a tag `{pid}-…` of a process no longer running on this
/// machine, or a cluster write's tag (`c…`).
pub(crate) fn remove_stale_temps(dir: &Path, ours: impl Fn(&str) -> bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name();
        let Some((base, tag)) = file
            .to_str()
            .and_then(|f| f.strip_prefix('.'))
            .and_then(|f| f.rsplit_once(".tmp-"))
        else {
            continue;
        };
        if !ours(base) {
            continue;
        }
        let pid = tag.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let stale = match pid {
            Some(pid) => process_alive(pid) == Some(false),
            None => tag.starts_with('c'),
        };
        if stale {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Writes the file `path` by calling `write` with a fresh temporary path beside it (same
/// directory, so the final rename stays on one file system) and renaming that file to
/// `path` when `write` succeeds; on error or panic the temporary file is removed and an
/// existing file at `path` is left as it was. An existing `path` that is not a regular
/// file is refused ([`target_of`]); temporary files of killed earlier writes are removed
/// after a successful one.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), Error>,
) -> Result<(), Error> {
    let target = target_of(path)?;
    let tmp = temp_name(&target, &local_tag());
    let mut guard = TempFile(Some(tmp.clone()));
    write(&tmp)?;
    std::fs::rename(&tmp, &target).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    guard.0 = None;
    remove_leftovers(&target);
    Ok(())
}

/// A multi-file output being written: the targets, their temporary names and the commit
/// journal (the steps are in the [module docs](self)).
pub(crate) struct Parts {
    pattern: String,
    targets: Vec<PathBuf>,
    tag: String,
}

impl Parts {
    /// The parts of an output whose files `targets` are named by `pattern`'s one `*`
    /// replaced by the partition number. `distributed`: the tag is the same on every rank
    /// (ranks draw tokens in the same order) so one rank can commit the parts all wrote.
    pub(crate) fn new(pattern: &str, targets: Vec<PathBuf>, distributed: bool) -> Self {
        let tag = if distributed {
            format!("c{:x}", fresh_token())
        } else {
            local_tag()
        };
        Parts {
            pattern: pattern.to_owned(),
            targets,
            tag,
        }
    }

    /// Step 1: refuses targets that are not regular files and finishes the commit of a
    /// killed earlier write to the same pattern.
    pub(crate) fn prepare(&self) -> Result<(), Error> {
        for t in &self.targets {
            if target_of(t)? != *t {
                // a link: replacing the file it points to would need its own temporary
                // name there; the link would be replaced by the rename
                return Err(Error::Io {
                    path: t.clone(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::AlreadyExists,
                        "is a symbolic link: a part file must be a regular file",
                    ),
                });
            }
        }
        match self.journal() {
            Some(journal) => finish_commit(&journal).map(drop),
            None => Ok(()),
        }
    }

    /// The temporary file part `i` is written to.
    pub(crate) fn temp(&self, i: usize) -> PathBuf {
        temp_name(&self.targets[i], &self.tag)
    }

    /// Step 2 for part `i`: writes `bytes` to its temporary file and syncs it; errors name
    /// the target.
    pub(crate) fn write(&self, i: usize, bytes: &[u8]) -> Result<(), Error> {
        let tmp = self.temp(i);
        let r = write_file(&tmp, &self.targets[i], |w| w.write_all(bytes));
        if r.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        r
    }

    /// The commit journal's path (beside the first target), if there is a target.
    fn journal(&self) -> Option<PathBuf> {
        let first = crate::bag::text::pattern_paths(&self.pattern, 1).pop()?;
        let name = first.file_name()?.to_string_lossy().into_owned();
        Some(first.with_file_name(format!(".{name}.dagr-commit")))
    }

    /// Steps 3 and 4, once every part is written.
    pub(crate) fn commit(&self) -> Result<(), Error> {
        let Some(journal) = self.journal() else {
            return Ok(());
        };
        let text = format!(
            "dagr commit\n{}\n{}\n{}\n",
            self.targets.len(),
            self.tag,
            self.pattern
        );
        write_atomic(&journal, text.as_bytes())?;
        self.move_into_place(&journal)?;
        let pattern = Path::new(&self.pattern);
        let star_in_name = pattern
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains('*'));
        if star_in_name {
            remove_stale_temps(parent_dir(pattern), |base| {
                crate::bag::text::part_number(&self.pattern, base).is_some()
            });
        } else {
            self.targets.iter().for_each(|t| remove_leftovers(t));
        }
        Ok(())
    }

    /// Renames the parts still at their temporary names into place, removes the files of
    /// a longer old output, then the journal.
    fn move_into_place(&self, journal: &Path) -> Result<(), Error> {
        for (i, t) in self.targets.iter().enumerate() {
            match std::fs::rename(self.temp(i), t) {
                Ok(()) => {}
                // moved already, by the commit a kill interrupted
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(Error::Io {
                        path: t.clone(),
                        source,
                    })
                }
            }
        }
        for extra in crate::bag::text::parts_past(&self.pattern, self.targets.len()) {
            let _ = std::fs::remove_file(extra);
        }
        std::fs::remove_file(journal).or_else(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Ok(()),
            _ => Err(Error::Io {
                path: journal.to_owned(),
                source: e,
            }),
        })
    }

    /// After a failed write: removes the parts' temporary files.
    pub(crate) fn discard(&self) {
        for i in 0..self.targets.len() {
            let _ = std::fs::remove_file(self.temp(i));
        }
    }
}

/// Finishes the commit the journal at `journal` records, if there is one: a write killed
/// while it moved its parts into place. Returns whether there was one. A journal torn by a
/// kill while it was itself written (its parts were never moved) is removed.
fn finish_commit(journal: &Path) -> Result<bool, Error> {
    let text = match std::fs::read_to_string(journal) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(source) => {
            return Err(Error::Io {
                path: journal.to_owned(),
                source,
            })
        }
    };
    let mut lines = text.lines();
    let (Some("dagr commit"), Some(n), Some(tag), Some(pattern)) =
        (lines.next(), lines.next(), lines.next(), lines.next())
    else {
        let _ = std::fs::remove_file(journal);
        return Ok(false);
    };
    let n: usize = n.parse().unwrap_or(0);
    let old = Parts {
        pattern: pattern.to_owned(),
        targets: crate::bag::text::pattern_paths(pattern, n),
        tag: tag.to_owned(),
    };
    old.move_into_place(journal)?;
    Ok(true)
}

/// Finishes the commits of killed writes whose journals are in `dir` (readers call this
/// before they list a directory, so they never see half of a committed output). Returns
/// whether there was one; errors (a directory this process may not write) are ignored, the
/// files being read as they are.
pub(crate) fn finish_commits_in(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let mut any = false;
    for e in entries.flatten() {
        let name = e.file_name();
        let journal = name
            .to_str()
            .is_some_and(|n| n.starts_with('.') && n.ends_with(".dagr-commit"));
        if journal {
            any |= finish_commit(&e.path()).unwrap_or(false);
        }
    }
    any
}

/// Writes a multi-file output through [`Parts`]: `compute` runs the tasks that write the
/// parts (each with [`Parts::write`]); the prepare, commit and discard steps run once, on
/// the first rank of a cluster, so every rank returns the same result.
pub(crate) fn write_parts(
    pattern: &str,
    targets: Vec<PathBuf>,
    scheduler: crate::Scheduler,
    compute: impl FnOnce(&Arc<Parts>) -> Result<(), Error>,
) -> Result<(), Error> {
    let parts = Arc::new(Parts::new(pattern, targets, scheduler.is_distributed()));
    let p = parts.clone();
    once(&scheduler, "prepare-write", move || p.prepare())?;
    match compute(&parts) {
        Ok(()) => {
            let p = parts.clone();
            once(&scheduler, "commit-write", move || p.commit())
        }
        Err(e) => {
            let p = parts.clone();
            let _ = once(&scheduler, "discard-write", move || {
                p.discard();
                Ok(())
            });
            Err(e)
        }
    }
}

/// Runs `f` once: here, or on a cluster as one task (on the first rank) whose result every
/// rank receives.
fn once(
    scheduler: &crate::Scheduler,
    what: &str,
    f: impl Fn() -> Result<(), Error> + Send + Sync + 'static,
) -> Result<(), Error> {
    if !scheduler.is_distributed() {
        return f();
    }
    let node = crate::tree::partition_nodes(
        &[None],
        &crate::bag::layer_name(what),
        Some(crate::wire_of::<()>()),
        move |_, _| f().map_err(TaskError::new),
    );
    crate::Delayed::<()>::from_node(node[0].clone()).compute_with(scheduler.clone())
}
