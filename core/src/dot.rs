//! The lazy DAG as Graphviz DOT text, readable at any size.
//!
//! Nodes are grouped into *layers*: the tasks sharing a key prefix and a key form (the
//! chunks `('sum-1f3a9c2e', i, j)` of one collection operation, or the calls `inc-<token>`
//! of one function). Labels leave a layer's token out (`sum`), as Dask's `key_split` does. A layer with more than [`VisualizeOptions::collapse_over`] tasks is drawn as
//! one node, `sum ×1000`, and the edges into and out of it are merged, each labelled with
//! how many it stands for; a smaller layer of chunks is drawn as a cluster of its chunks.
//! Nodes are coloured by kind (data, compute, reduction — a call with many inputs) or, with
//! [`VisualizeOptions::timings`], by measured time.

use crate::diagnostics::{Human, Profiler};
use crate::key_split::key_split;
use crate::node::{NodeKind, NodeRef};
use crate::plan::AddrMap;
use dagr_runtime::Key;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

/// Layers bigger than this are collapsed by default.
const DEFAULT_COLLAPSE_OVER: usize = 64;

/// A call with at least this many inputs is drawn as a reduction.
const REDUCTION_FAN_IN: usize = 3;

const DATA_FILL: &str = "#c6dbef";
const COMPUTE_FILL: &str = "#c7e9c0";
const REDUCTION_FILL: &str = "#fdd0a2";
const UNTIMED_FILL: &str = "#f0f0f0";

/// How [`Delayed::to_dot_with`](crate::Delayed::to_dot_with) and
/// [`Delayed::visualize_with`](crate::Delayed::visualize_with) draw a graph.
///
/// ```
/// use dagr::{value, VisualizeOptions};
/// let mut x = value(0);
/// for _ in 0..1000 {
///     x = x.map(|v| v + 1);
/// }
/// // 1001 tasks drawn as 2 nodes: value -> map ×1000, which feeds itself 999 times
/// let dot = x.to_dot_with(&VisualizeOptions::new());
/// assert!(dot.contains("label=\"map ×1000\""));
/// assert!(dot.contains("label=\"×999\""));
/// // every task, one node each
/// let all = x.to_dot_with(&VisualizeOptions::new().collapse_over(usize::MAX));
/// assert_eq!(all.matches("label=\"map\"").count(), 1000);
/// ```
#[derive(Clone, Debug)]
pub struct VisualizeOptions {
    collapse_over: usize,
    clusters: bool,
    timings: Option<Arc<HashMap<Key, Duration>>>,
}

impl Default for VisualizeOptions {
    fn default() -> Self {
        VisualizeOptions::new()
    }
}

impl VisualizeOptions {
    /// The defaults: layers over 64 tasks collapsed, chunk layers clustered, coloured by
    /// kind.
    pub fn new() -> Self {
        VisualizeOptions {
            collapse_over: DEFAULT_COLLAPSE_OVER,
            clusters: true,
            timings: None,
        }
    }

    /// Draws a layer of more than `n` tasks as one node (`usize::MAX`: never).
    ///
    /// ```
    /// let opts = dagr::VisualizeOptions::new().collapse_over(10);
    /// # drop(opts);
    /// ```
    pub fn collapse_over(mut self, n: usize) -> Self {
        self.collapse_over = n;
        self
    }

    /// Whether the chunks of one layer are drawn inside a box named after it (default yes).
    ///
    /// ```
    /// let opts = dagr::VisualizeOptions::new().clusters(false);
    /// # drop(opts);
    /// ```
    pub fn clusters(mut self, yes: bool) -> Self {
        self.clusters = yes;
        self
    }

    /// Colours every task by the time it took in the runs `profiler` recorded (yellow to
    /// red, the slowest reddest) and adds the time to its label; tasks it did not see are
    /// grey. The times are copied now: later runs do not change these options.
    ///
    /// ```
    /// use dagr::{value, diagnostics::Profiler, Scheduler, SchedulerExt, VisualizeOptions};
    /// let x = value(2).map(|v| v * 2);
    /// let prof = Profiler::new();
    /// x.compute_with(Scheduler::sync().profile(&prof))?;
    /// let dot = x.to_dot_with(&VisualizeOptions::new().timings(&prof));
    /// assert!(dot.contains("colour: measured time"));
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn timings(mut self, profiler: &Profiler) -> Self {
        self.timings = Some(Arc::new(profiler.time_by_key()));
        self
    }
}

/// What a node does, as drawn.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Look {
    Data,
    Compute,
    Reduction,
}

impl Look {
    fn of(n: &NodeRef) -> Look {
        match n.kind() {
            NodeKind::Data => Look::Data,
            NodeKind::Call if n.deps().len() >= REDUCTION_FAN_IN => Look::Reduction,
            NodeKind::Call => Look::Compute,
        }
    }

    fn shape(self) -> &'static str {
        match self {
            Look::Data => "box",
            Look::Compute | Look::Reduction => "ellipse",
        }
    }

    fn fill(self) -> &'static str {
        match self {
            Look::Data => DATA_FILL,
            Look::Compute => COMPUTE_FILL,
            Look::Reduction => REDUCTION_FILL,
        }
    }
}

/// Tasks sharing a key prefix and key form.
struct Layer<'a> {
    prefix: &'a str,
    chunks: bool,
    members: Vec<usize>,
    collapsed: bool,
}

/// A drawn node: one task, or a collapsed layer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Unit {
    Task(usize),
    Layer(usize),
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unit::Task(i) => write!(f, "n{i}"),
            Unit::Layer(l) => write!(f, "l{l}"),
        }
    }
}

fn addr(n: &NodeRef) -> usize {
    Arc::as_ptr(n) as *const () as usize
}

/// DOT text for the graph of `outputs`.
pub(crate) fn to_dot(outputs: &[&NodeRef], opts: &VisualizeOptions) -> String {
    // The graph as a compute of these outputs runs it: the work several tasks share made
    // once, by a task of its own (see `crate::share`).
    let rebuilt = crate::share::rewire(outputs);
    // Every node once, outputs first.
    let mut ids: AddrMap<usize> = AddrMap::default();
    let mut order: Vec<&NodeRef> = Vec::new();
    let mut stack: Vec<&NodeRef> = outputs
        .iter()
        .map(|n| rebuilt.get(&addr(n)).unwrap_or(n))
        .collect();
    while let Some(n) = stack.pop() {
        if let std::collections::hash_map::Entry::Vacant(slot) = ids.entry(addr(n)) {
            slot.insert(order.len());
            order.push(n);
            stack.extend(n.deps().iter().map(|d| rebuilt.get(&addr(d)).unwrap_or(d)));
        }
    }
    let id = |n: &NodeRef| ids[&addr(rebuilt.get(&addr(n)).unwrap_or(n))];

    // Layers, in order of first appearance.
    let mut layers: Vec<Layer<'_>> = Vec::new();
    let mut layer_of_key: HashMap<(&str, bool), usize> = HashMap::new();
    let mut layer_of = Vec::with_capacity(order.len());
    for (i, n) in order.iter().enumerate() {
        let key = n.key();
        let chunks = key.index_value().is_some();
        let l = *layer_of_key
            .entry((key.prefix(), chunks))
            .or_insert_with(|| {
                layers.push(Layer {
                    prefix: key.prefix(),
                    chunks,
                    members: Vec::new(),
                    collapsed: false,
                });
                layers.len() - 1
            });
        layers[l].members.push(i);
        layer_of.push(l);
    }
    for layer in &mut layers {
        layer.collapsed = layer.members.len() > opts.collapse_over;
    }
    let unit = |i: usize| {
        let l = layer_of[i];
        if layers[l].collapsed {
            Unit::Layer(l)
        } else {
            Unit::Task(i)
        }
    };

    // Measured time per drawn node.
    let time_of =
        |i: usize| -> Option<Duration> { opts.timings.as_ref()?.get(order[i].key()).copied() };
    let layer_time = |l: &Layer<'_>| -> Option<Duration> {
        l.members
            .iter()
            .filter_map(|&i| time_of(i))
            .fold(None, |acc, d| Some(acc.unwrap_or(Duration::ZERO) + d))
    };
    let slowest = if opts.timings.is_some() {
        let tasks = (0..order.len())
            .filter(|&i| !layers[layer_of[i]].collapsed)
            .filter_map(time_of);
        let collapsed = layers.iter().filter(|l| l.collapsed).filter_map(layer_time);
        tasks.chain(collapsed).max()
    } else {
        None
    };

    let mut s = String::from("digraph dagr {\n  rankdir=BT;\n  fontname=\"Helvetica\";\n");
    s.push_str("  node [fontname=\"Helvetica\", style=filled, color=\"#606060\"];\n");
    s.push_str("  edge [color=\"#606060\", fontname=\"Helvetica\", fontsize=10];\n");
    if let Some(max) = slowest {
        let _ = writeln!(
            s,
            "  label=\"colour: measured time, slowest {} (red)\";",
            Human(max)
        );
    }
    let style = |look: Look, time: Option<Duration>| -> String {
        match (opts.timings.is_some(), time) {
            (false, _) => format!("shape={}, fillcolor=\"{}\"", look.shape(), look.fill()),
            (true, None) => format!("shape={}, fillcolor=\"{UNTIMED_FILL}\"", look.shape()),
            (true, Some(t)) => {
                let f = slowest.map_or(0.0, |m| {
                    t.as_secs_f64() / m.as_secs_f64().max(f64::MIN_POSITIVE)
                });
                let font = if f > 0.7 { ", fontcolor=white" } else { "" };
                format!("shape={}, fillcolor=\"{}\"{font}", look.shape(), heat(f))
            }
        }
    };
    let with_time = |label: String, time: Option<Duration>| match time {
        Some(t) => format!("{label}\\n{}", Human(t)),
        None => label,
    };
    let task_line = |i: usize, indent: &str| -> String {
        let n = order[i];
        let key = n.key();
        let label = match key.index_value() {
            Some(ix) if !ix.is_empty() => {
                format!("{}\\n{}", escape(key_split(key.prefix())), index_text(&ix))
            }
            _ => escape(key_split(key.prefix())),
        };
        let time = time_of(i);
        format!(
            "{indent}n{i} [label=\"{}\", tooltip=\"{}\", {}];\n",
            with_time(label, time),
            escape(&key.to_string()),
            style(Look::of(n), time)
        )
    };

    // Small chunk layers as clusters, then the other single tasks.
    let mut drawn = vec![false; order.len()];
    for (l, layer) in layers.iter().enumerate() {
        if !opts.clusters || layer.collapsed || !layer.chunks || layer.members.len() < 2 {
            continue;
        }
        let _ = writeln!(
            s,
            "  subgraph cluster_{l} {{\n    label=\"{}\";\n    tooltip=\"{}\";\n    style=rounded;\n    color=\"#a0a0a0\";",
            escape(key_split(layer.prefix)),
            escape(layer.prefix)
        );
        for &i in &layer.members {
            s.push_str(&task_line(i, "    "));
            drawn[i] = true;
        }
        s.push_str("  }\n");
    }
    for i in 0..order.len() {
        if !drawn[i] && !layers[layer_of[i]].collapsed {
            s.push_str(&task_line(i, "  "));
        }
    }
    // Collapsed layers.
    for (l, layer) in layers.iter().enumerate().filter(|(_, l)| l.collapsed) {
        let members = &layer.members;
        let mut label = format!("{} ×{}", escape(key_split(layer.prefix)), members.len());
        if layer.chunks {
            if let Some(range) = index_range(members.iter().map(|&i| order[i].key())) {
                let _ = write!(label, "\\n{range}");
            }
        }
        let looks: Vec<Look> = members.iter().map(|&i| Look::of(order[i])).collect();
        let look = if looks.contains(&Look::Reduction) {
            Look::Reduction
        } else if looks.iter().all(|&k| k == Look::Data) {
            Look::Data
        } else {
            Look::Compute
        };
        let (first, last) = (
            order[members[0]].key(),
            order[members[members.len() - 1]].key(),
        );
        let time = layer_time(layer);
        let _ = writeln!(
            s,
            "  l{l} [label=\"{}\", tooltip=\"{} tasks: {} … {}\", {}, penwidth=2];",
            with_time(label, time),
            members.len(),
            escape(&first.to_string()),
            escape(&last.to_string()),
            style(look, time)
        );
    }

    // Edges from input to consumer, merged between drawn nodes.
    let mut edges: HashMap<(Unit, Unit), usize> = HashMap::new();
    let mut edge_order: Vec<(Unit, Unit)> = Vec::new();
    for (i, n) in order.iter().enumerate() {
        let to = unit(i);
        for d in n.deps() {
            let e = (unit(id(d)), to);
            let count = edges.entry(e).or_insert_with(|| {
                edge_order.push(e);
                0
            });
            *count += 1;
        }
    }
    for e in edge_order {
        match edges[&e] {
            1 => {
                let _ = writeln!(s, "  {} -> {};", e.0, e.1);
            }
            n => {
                let _ = writeln!(s, "  {} -> {} [label=\"×{n}\"];", e.0, e.1);
            }
        }
    }
    s.push_str("}\n");
    s
}

/// `(1, 2)`
fn index_text(ix: &[u64]) -> String {
    let parts: Vec<String> = ix.iter().map(u64::to_string).collect();
    format!("({})", parts.join(", "))
}

/// `(0..9, 0..99)`: the span of the chunk indices of a layer, per dimension.
fn index_range<'a>(keys: impl Iterator<Item = &'a Key>) -> Option<String> {
    let mut bounds: Vec<(u64, u64)> = Vec::new();
    for key in keys {
        let ix = key.index_value()?;
        if bounds.is_empty() {
            bounds = ix.iter().map(|&i| (i, i)).collect();
        } else if bounds.len() != ix.len() {
            return None;
        }
        for (b, &i) in bounds.iter_mut().zip(ix.iter()) {
            *b = (b.0.min(i), b.1.max(i));
        }
    }
    let parts: Vec<String> = bounds
        .iter()
        .map(|&(lo, hi)| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}..{hi}")
            }
        })
        .collect();
    Some(format!("({})", parts.join(", ")))
}

/// A colour from pale yellow (0) through orange to dark red (1).
fn heat(f: f64) -> String {
    const STOPS: [(f64, [f64; 3]); 3] = [
        (0.0, [255.0, 255.0, 204.0]),
        (0.5, [253.0, 141.0, 60.0]),
        (1.0, [189.0, 0.0, 38.0]),
    ];
    let f = if f.is_finite() {
        f.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (lo, hi) = if f <= 0.5 {
        (STOPS[0], STOPS[1])
    } else {
        (STOPS[1], STOPS[2])
    };
    let t = (f - lo.0) / (hi.0 - lo.0);
    let c: Vec<u8> = (0..3)
        .map(|k| (lo.1[k] + (hi.1[k] - lo.1[k]) * t).round() as u8)
        .collect();
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{new_node, Deps};
    use dagr_runtime::{Inputs, TaskResult, Value};

    fn chunk(name: &'static str, ix: &[u64], deps: Vec<NodeRef>) -> NodeRef {
        let kind = if deps.is_empty() {
            NodeKind::Data
        } else {
            NodeKind::Call
        };
        new_node(
            Key::index(name, ix),
            Deps::from(deps),
            kind,
            false,
            |_: &mut Inputs<'_>| -> TaskResult { Ok(Value::new(0_i64)) },
        )
    }

    /// `ones` (rows × cols chunks) -> `add` per chunk -> `sum` of everything.
    fn array(rows: u64, cols: u64) -> NodeRef {
        let mut adds = Vec::new();
        for i in 0..rows {
            for j in 0..cols {
                let one = chunk("ones", &[i, j], vec![]);
                adds.push(chunk("add", &[i, j], vec![one]));
            }
        }
        chunk("sum", &[0], adds)
    }

    #[test]
    fn small_chunk_layers_are_clusters_labelled_by_index() {
        let g = array(2, 3);
        let dot = to_dot(&[&g], &VisualizeOptions::new());
        assert_eq!(dot.matches("subgraph cluster_").count(), 2, "{dot}");
        assert!(dot.contains("label=\"ones\";"), "{dot}");
        assert!(dot.contains("label=\"add\\n(1, 2)\""), "{dot}");
        assert_eq!(dot.matches("->").count(), 12, "{dot}");
        // kinds
        assert_eq!(dot.matches(DATA_FILL).count(), 6, "{dot}");
        assert_eq!(dot.matches(COMPUTE_FILL).count(), 6, "{dot}");
        assert_eq!(dot.matches(REDUCTION_FILL).count(), 1, "{dot}");
        let flat = to_dot(&[&g], &VisualizeOptions::new().clusters(false));
        assert!(!flat.contains("subgraph"), "{flat}");
    }

    #[test]
    fn big_layers_collapse_into_one_node_with_merged_edges() {
        let g = array(10, 20);
        let dot = to_dot(&[&g], &VisualizeOptions::new().collapse_over(100));
        assert!(dot.contains("label=\"ones ×200\\n(0..9, 0..19)\""), "{dot}");
        assert!(dot.contains("label=\"add ×200\\n(0..9, 0..19)\""), "{dot}");
        assert_eq!(dot.matches("->").count(), 2, "{dot}");
        assert_eq!(dot.matches("[label=\"×200\"]").count(), 2, "{dot}");
        assert!(!dot.contains("subgraph"), "{dot}");
        assert_eq!(dot.matches(" [label=").count(), 3 + 2, "{dot}");
        // at the limit, nothing collapses
        let full = to_dot(&[&g], &VisualizeOptions::new().collapse_over(200));
        assert_eq!(full.matches("->").count(), 400);
    }

    #[test]
    fn labels_leave_layer_tokens_out() {
        let parts: Vec<NodeRef> = (0..3)
            .map(|i| chunk("ones-1f3a9c2e", &[i], vec![]))
            .collect();
        let total = chunk("sum-8450b017b946d8d3-final", &[], parts);
        let dot = to_dot(&[&total], &VisualizeOptions::new());
        assert!(dot.contains("label=\"ones\";"), "{dot}");
        assert!(dot.contains("tooltip=\"ones-1f3a9c2e\";"), "{dot}");
        assert!(dot.contains("label=\"ones\\n(2)\""), "{dot}");
        assert!(
            dot.contains("label=\"sum\", tooltip=\"('sum-8450b017b946d8d3-final')\""),
            "{dot}"
        );
    }

    #[test]
    fn a_collapsed_chain_loops_on_itself() {
        let mut last = chunk("step", &[0], vec![]);
        for i in 1..1000 {
            last = chunk("step", &[i], vec![last]);
        }
        let dot = to_dot(&[&last], &VisualizeOptions::new());
        assert!(dot.contains("l0 -> l0 [label=\"×999\"]"), "{dot}");
    }

    #[test]
    fn every_form_renders_without_graphviz() {
        let dir = std::env::temp_dir().join(format!("dagr-dot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let no_dot = std::path::Path::new("/nonexistent/dot");
        for (name, opts) in [
            ("clusters", VisualizeOptions::new()),
            ("collapsed", VisualizeOptions::new().collapse_over(4)),
        ] {
            let dot = to_dot(&[&array(2, 3)], &opts);
            let path = dir.join(format!("{name}.svg"));
            crate::visualize::write_picture(&dot, &path, no_dot).unwrap();
            let svg = std::fs::read_to_string(&path).unwrap();
            assert!(svg.contains("<svg") && svg.contains("sum"), "{name}: {svg}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Whether Graphviz's `dot -Tsvg` accepts `text` without a warning (`None`: no Graphviz).
    fn graphviz_accepts(text: &str) -> Option<bool> {
        use std::io::Write as _;
        use std::process::{Command, Stdio};
        let mut child = Command::new("dot")
            .arg("-Tsvg")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .ok()?;
        child.stdin.take()?.write_all(text.as_bytes()).ok()?;
        let out = child.wait_with_output().ok()?;
        Some(out.status.success() && out.stderr.is_empty())
    }

    #[test]
    fn graphviz_accepts_every_form() {
        let g = crate::Delayed::<i64>::from_node(array(3, 4));
        let prof = crate::diagnostics::Profiler::new();
        use crate::SchedulerExt as _;
        g.compute_with(dagr_runtime::Scheduler::threads(2).profile(&prof))
            .unwrap();
        let forms = [
            VisualizeOptions::new(),
            VisualizeOptions::new().clusters(false),
            VisualizeOptions::new().collapse_over(5),
            VisualizeOptions::new().timings(&prof),
            VisualizeOptions::new().collapse_over(5).timings(&prof),
        ];
        for opts in forms {
            let text = to_dot(&[&g.node], &opts);
            match graphviz_accepts(&text) {
                Some(ok) => assert!(ok, "{text}"),
                None => eprintln!("Graphviz is not installed: DOT syntax not checked"),
            }
        }
        let timed = to_dot(&[&g.node], &VisualizeOptions::new().timings(&prof));
        assert!(timed.contains("colour: measured time"), "{timed}");
        assert!(
            !timed.contains(UNTIMED_FILL),
            "every task was timed: {timed}"
        );
    }

    #[test]
    fn heat_runs_from_yellow_to_red() {
        assert_eq!(heat(0.0), "#ffffcc");
        assert_eq!(heat(0.5), "#fd8d3c");
        assert_eq!(heat(1.0), "#bd0026");
        assert_eq!(heat(f64::NAN), "#ffffcc");
    }
}
