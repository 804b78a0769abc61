//! Writing files atomically: to a temporary name beside the target, then renamed into
//! place, so a failed write never replaces a good file and readers never see half of one.

use crate::tokenize::fresh_token;
use crate::Error;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Writes what `fill` writes to `path` atomically, through a buffer.
pub(crate) fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    write_atomically(path, |tmp| {
        std::fs::File::create(tmp)
            .and_then(|f| {
                let mut w = BufWriter::new(f);
                fill(&mut w)?;
                w.into_inner().map_err(|e| e.into_error())?.sync_all()
            })
            .map_err(|source| Error::Io {
                path: path.to_owned(),
                source,
            })
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

/// Writes the file `path` by calling `write` with a fresh temporary path beside it (same
/// directory, so the final rename stays on one file system) and renaming that file to
/// `path` when `write` succeeds; on error or panic the temporary file is removed and an
/// existing file at `path` is left as it was.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), Error>,
) -> Result<(), Error> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(
        ".{name}.tmp-{}-{:x}",
        std::process::id(),
        fresh_token()
    ));
    let mut guard = TempFile(Some(tmp.clone()));
    write(&tmp)?;
    std::fs::rename(&tmp, path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    guard.0 = None;
    Ok(())
}
