//! The static descriptions of a pipeline, written at compile time: its Graphviz picture
//! (`Pipeline::to_dot`) and its signature (`Debug`).

use super::check::{Graph, Ref};
use super::parse::Arg;
use crate::delayed::show;
use std::fmt::Write as _;
use syn::ext::IdentExt;

/// The DOT text of the pipeline: inputs are boxes labelled `x: i64`, nodes are ellipses
/// labelled with their definition `c = add(a, b)`, outputs have a double border, edges go
/// from a value to its consumers (bottom to top, as `Delayed::to_dot` draws them).
pub(crate) fn dot(graph: &Graph<'_>) -> String {
    let is_output = |r: Ref| graph.outputs.contains(&r);
    let id = |r: Ref| match r {
        Ref::Input(i) => format!("i{i}"),
        Ref::Node(i) => format!("n{i}"),
    };
    let mut s = String::from("digraph dagr {\n  rankdir=BT;\n  node [fontname=\"Helvetica\"];\n");
    for (i, input) in graph.inputs.iter().enumerate() {
        let r = Ref::Input(i);
        let label = format!("{}: {}", input.name.unraw(), show(&input.ty));
        let border = if is_output(r) { ", peripheries=2" } else { "" };
        let _ = writeln!(
            s,
            "  {} [label=\"{}\", shape=box{border}];",
            id(r),
            escape(&label)
        );
    }
    for (i, node) in graph.nodes.iter().enumerate() {
        let r = Ref::Node(i);
        let args: Vec<String> = node.args.iter().map(show_arg).collect();
        let label = format!(
            "{} = {}({})",
            node.name.unraw(),
            show(&node.func),
            args.join(", ")
        );
        let border = if is_output(r) { ", peripheries=2" } else { "" };
        let _ = writeln!(
            s,
            "  {} [label=\"{}\", shape=ellipse{border}];",
            id(r),
            escape(&label)
        );
    }
    for &n in &graph.order {
        for &d in &graph.deps[n] {
            let _ = writeln!(s, "  {} -> {};", id(d), id(Ref::Node(n)));
        }
    }
    s.push_str("}\n");
    s
}

/// The pipeline's signature: `(x: i64, ys: Vec<i64>) -> (c, s)`.
pub(crate) fn signature(graph: &Graph<'_>) -> String {
    let inputs: Vec<String> = graph
        .inputs
        .iter()
        .map(|input| format!("{}: {}", input.name.unraw(), show(&input.ty)))
        .collect();
    let outputs: Vec<String> = graph.outputs.iter().map(|&r| graph.name(r)).collect();
    let outputs = if graph.output.tuple {
        if outputs.len() == 1 {
            format!("({},)", outputs[0])
        } else {
            format!("({})", outputs.join(", "))
        }
    } else {
        outputs.join(", ")
    };
    format!("({}) -> {outputs}", inputs.join(", "))
}

/// An argument as written.
fn show_arg(arg: &Arg) -> String {
    match arg {
        Arg::Name(ident) => ident.unraw().to_string(),
        Arg::Const(expr) => {
            let text = show(expr);
            match text.strip_prefix("- ") {
                Some(negated) => format!("-{negated}"),
                None => text,
            }
        }
        Arg::List { items, .. } => {
            let items: Vec<String> = items.iter().map(show_arg).collect();
            format!("[{}]", items.join(", "))
        }
    }
}

/// Escapes a DOT string.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
