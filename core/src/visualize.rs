//! Pictures of task graphs: DOT, SVG or PNG files (the DOT text itself comes from [`dot`]).
//!
//! `.dot` is written directly. `.svg` goes through Graphviz's `dot` when it is installed and
//! otherwise through the pure-Rust `layout-rs` crate, so it works on a fresh machine. `.png`
//! needs `dot`. Files are written to a temporary name and moved into place, so a failed
//! write never replaces a good picture.

use crate::atomic_file::write_atomic;
use crate::compute::{Computable, Outputs};
use crate::dot::{self, VisualizeOptions};
use crate::{Delayed, Error};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

impl<T> Delayed<T> {
    /// The task graph of this value as Graphviz DOT text, drawn with the default
    /// [`VisualizeOptions`]: one node per task labelled with its function name (and chunk
    /// index), the key as tooltip, edges from inputs to consumers; data are boxes, calls
    /// ellipses (as in Dask's `visualize`), reductions orange; layers of more than 64 tasks
    /// are collapsed into one node.
    ///
    /// ```
    /// let x = dagr::value(1).map(|v| v + 1);
    /// let dot = x.to_dot();
    /// assert!(dot.starts_with("digraph"));
    /// assert!(dot.contains("label=\"map\""));
    /// ```
    pub fn to_dot(&self) -> String {
        self.to_dot_with(&VisualizeOptions::new())
    }

    /// [`Delayed::to_dot`] drawn as `options` say.
    ///
    /// ```
    /// use dagr::VisualizeOptions;
    /// let x = dagr::value(1).map(|v| v + 1).map(|v| v * 2).map(|v| v - 3);
    /// let dot = x.to_dot_with(&VisualizeOptions::new().collapse_over(2));
    /// assert!(dot.contains("label=\"map ×3\""));
    /// ```
    pub fn to_dot_with(&self, options: &VisualizeOptions) -> String {
        dot::to_dot(&[&self.node], options)
    }

    /// Writes a picture of the task graph: `.dot`, `.svg` or `.png` by the file's extension
    /// (Dask: `x.visualize("g.svg")`).
    ///
    /// ```no_run
    /// let x = dagr::value(1).map(|v| v + 1);
    /// x.visualize("graph.svg")?;
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn visualize(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        self.visualize_with(path, &VisualizeOptions::new())
    }

    /// [`Delayed::visualize`] drawn as `options` say: e.g. coloured by the time each task
    /// took in a profiled run.
    ///
    /// ```no_run
    /// use dagr::{diagnostics::Profiler, Scheduler, SchedulerExt, VisualizeOptions};
    /// let x = dagr::value(1).map(|v| v + 1);
    /// let prof = Profiler::new();
    /// x.compute_with(Scheduler::default().profile(&prof))?;
    /// x.visualize_with("timed.svg", &VisualizeOptions::new().timings(&prof))?;
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn visualize_with(
        &self,
        path: impl AsRef<Path>,
        options: &VisualizeOptions,
    ) -> Result<(), Error> {
        write_picture(&self.to_dot_with(options), path.as_ref(), &graphviz_dot())
    }
}

/// The task graph computing all of `what` (Dask: `dask.visualize(a, b)`) as Graphviz DOT
/// text: the tasks of every [`Computable`] output in one picture.
///
/// ```
/// use dagr::{array as da, bag as db};
/// let x = da::ones::<f64>(&[4], &[2])?;
/// let b = db::from_sequence(1..=3, 1)?;
/// let dot = dagr::to_dot((&x.sum(), &x.mean(), &b));
/// assert!(dot.starts_with("digraph"));
/// assert!(dot.contains("label=\"mean\"") && dot.contains("label=\"sum\""));
/// assert!(dot.contains("from-sequence"));
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn to_dot<C: Computable>(what: C) -> String {
    to_dot_with(what, &VisualizeOptions::new())
}

/// [`to_dot`] drawn as `options` say.
pub fn to_dot_with<C: Computable>(what: C, options: &VisualizeOptions) -> String {
    let mut nodes = Outputs::new();
    what.collect_nodes(&mut nodes);
    dot::to_dot(&nodes.refs(), options)
}

/// Writes a picture of the task graph computing all of `what`: `.dot`, `.svg` or `.png` by
/// the file's extension (Dask: `dask.visualize(a, b, filename="g.svg")`).
///
/// ```no_run
/// use dagr::array as da;
/// let x = da::random::random(&[100, 100], &[50, 50], 1)?;
/// dagr::visualize((&x.mean(), &x.std(), &(&x - x.mean())), "stats.svg")?;
/// # Ok::<(), dagr::Error>(())
/// ```
pub fn visualize<C: Computable>(what: C, path: impl AsRef<Path>) -> Result<(), Error> {
    visualize_with(what, path, &VisualizeOptions::new())
}

/// [`visualize`] drawn as `options` say.
pub fn visualize_with<C: Computable>(
    what: C,
    path: impl AsRef<Path>,
    options: &VisualizeOptions,
) -> Result<(), Error> {
    write_picture(&to_dot_with(what, options), path.as_ref(), &graphviz_dot())
}

/// The Graphviz program to use: `$DAGR_DOT` if set, else `dot` from `PATH`.
fn graphviz_dot() -> PathBuf {
    std::env::var_os("DAGR_DOT").map_or_else(|| PathBuf::from("dot"), PathBuf::from)
}

/// Writes `dot` text as the picture `path` asks for, rendering with the Graphviz program
/// `graphviz` when needed (and present).
pub(crate) fn write_picture(dot: &str, path: &Path, graphviz: &Path) -> Result<(), Error> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let bytes = match ext.as_deref() {
        Some("dot" | "gv") => dot.as_bytes().to_vec(),
        Some("svg") => match run_graphviz(graphviz, "svg", dot, path)? {
            Some(svg) => svg,
            None => layout_svg(dot).into_bytes(),
        },
        Some("png") => {
            run_graphviz(graphviz, "png", dot, path)?.ok_or_else(|| Error::GraphvizMissing {
                path: path.to_owned(),
            })?
        }
        _ => {
            return Err(Error::UnknownFormat {
                path: path.to_owned(),
            })
        }
    };
    write_atomic(path, &bytes)
}

/// Renders with Graphviz; `Ok(None)` when the program is not installed.
fn run_graphviz(
    program: &Path,
    format: &str,
    dot: &str,
    path: &Path,
) -> Result<Option<Vec<u8>>, Error> {
    let child = Command::new(program)
        .arg(format!("-T{format}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::Graphviz {
                path: path.to_owned(),
                message: e.to_string(),
            })
        }
    };
    let fail = |message: String| Error::Graphviz {
        path: path.to_owned(),
        message,
    };
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(dot.as_bytes())
            .map_err(|e| fail(e.to_string()))?;
    }
    let out = child.wait_with_output().map_err(|e| fail(e.to_string()))?;
    if !out.status.success() {
        return Err(fail(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
    }
    Ok(Some(out.stdout))
}

/// Lays the graph out with the pure-Rust `layout-rs` crate.
fn layout_svg(dot: &str) -> String {
    use layout::backends::svg::SVGWriter;
    use layout::gv::{DotParser, GraphBuilder};
    let mut parser = DotParser::new(dot);
    let Ok(ast) = parser.process() else {
        return String::new();
    };
    let mut builder = GraphBuilder::new();
    builder.visit_graph(&ast);
    let mut graph = builder.get();
    let mut svg = SVGWriter::new();
    graph.do_it(false, false, false, &mut svg);
    svg.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_without_graphviz_uses_layout_rs() {
        let dir = std::env::temp_dir().join(format!("dagr-vis-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let x = crate::value(1).map(|v| v + 1);
        let path = dir.join("g.svg");
        write_picture(&x.to_dot(), &path, Path::new("/nonexistent/dot")).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.contains("<svg"), "{svg}");
        assert!(svg.contains("map"));
        let png = dir.join("g.png");
        let err = write_picture(&x.to_dot(), &png, Path::new("/nonexistent/dot")).unwrap_err();
        assert!(matches!(err, Error::GraphvizMissing { .. }));
        assert!(err.to_string().contains("graphviz"));
        assert!(!png.exists());
        let bad = write_picture("", &dir.join("g.jpg"), Path::new("dot")).unwrap_err();
        assert!(matches!(bad, Error::UnknownFormat { .. }));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
