//! The wiring checks of a `graph!` block, each error at the offending token, and the
//! topological order the expansion adds the nodes in.
//!
//! In order: names defined twice (a node shadowing an input among them) and too many
//! inputs; names used but not defined (with a suggestion); the `output` statement; cycles;
//! inputs and nodes no output depends on. Every check runs, so all errors come out at once;
//! the last one is skipped when an earlier error leaves the wiring incomplete (a misspelt
//! name would make the node it meant look unused).

use super::parse::{Block, Input, NodeDef, Output, Stmt};
use super::suggest::closest;
use crate::errors::Errors;
use proc_macro2::Span;
use std::collections::{BTreeSet, HashMap};
use syn::ext::IdentExt;
use syn::Ident;

/// The most inputs a graph may declare: `Pipeline::compute` is defined up to this arity.
const MAX_INPUTS: usize = 12;

/// A reference to a definition.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Ref {
    /// The input at this position (declaration order).
    Input(usize),
    /// The node at this position (source order of first definitions).
    Node(usize),
}

/// A block whose wiring is sound, ready to expand.
pub(crate) struct Graph<'a> {
    /// The inputs, in declaration order (the order of `compute`'s arguments).
    pub(crate) inputs: Vec<&'a Input>,
    /// The nodes, in source order.
    pub(crate) nodes: Vec<&'a NodeDef>,
    /// Each node's distinct dependencies, in order of first use.
    pub(crate) deps: Vec<Vec<Ref>>,
    /// The nodes in an order where each comes after its dependencies.
    pub(crate) order: Vec<usize>,
    /// The output statement.
    pub(crate) output: &'a Output,
    /// What each output name refers to.
    pub(crate) outputs: Vec<Ref>,
    /// `_`-named nodes no output depends on: computed anyway, for their effects.
    pub(crate) extra: Vec<usize>,
    /// Whether each input is used (an `_`-named input may not be).
    pub(crate) input_used: Vec<bool>,
}

impl Graph<'_> {
    /// The name of a definition, as the user wrote it (raw identifiers unprefixed).
    pub(crate) fn name(&self, r: Ref) -> String {
        match r {
            Ref::Input(i) => self.inputs[i].name.unraw().to_string(),
            Ref::Node(i) => self.nodes[i].name.unraw().to_string(),
        }
    }
}

/// What a name is bound to.
#[derive(Clone, Copy)]
enum Binding {
    /// A definition that parsed.
    Def(Ref),
    /// A statement that did not parse: the name exists, its wiring is unknown.
    Broken,
}

/// Checks the wiring; `None` if any error was recorded (here or while parsing).
pub(crate) fn check<'a>(block: &'a Block, errors: &mut Errors) -> Option<Graph<'a>> {
    let mut failed = block.has_syntax_errors;
    let mut inputs: Vec<&Input> = Vec::new();
    let mut nodes: Vec<&NodeDef> = Vec::new();
    let mut others: Vec<&NodeDef> = Vec::new(); // later definitions of a taken name
    let mut output_stmts: Vec<&Output> = Vec::new();
    let mut bindings: HashMap<String, (Binding, &Ident)> = HashMap::new();
    let mut names: Vec<String> = Vec::new(); // defined names in source order, for suggestions
    let mut duplicated = false;

    // 1. Definitions: each name once.
    for stmt in &block.stmts {
        let (name, binding) = match stmt {
            Stmt::Output(output) => {
                output_stmts.push(output);
                continue;
            }
            Stmt::Input(input) => {
                if inputs.len() == MAX_INPUTS {
                    failed = true;
                    errors.push(syn::Error::new(
                        input.name.span(),
                        format!(
                            "a graph takes at most {MAX_INPUTS} inputs: group some of them in \
                             a struct or a tuple"
                        ),
                    ));
                }
                (&input.name, Binding::Def(Ref::Input(inputs.len())))
            }
            Stmt::Node(node) => (&node.name, Binding::Def(Ref::Node(nodes.len()))),
        };
        let key = name.unraw().to_string();
        match bindings.get(&key) {
            Some(&(first, first_name)) => {
                failed = true;
                duplicated = true;
                duplicate(&key, first, first_name, binding, name, errors);
                if let Stmt::Node(node) = stmt {
                    others.push(node);
                }
            }
            None => {
                bindings.insert(key.clone(), (binding, name));
                names.push(key);
                match stmt {
                    Stmt::Input(input) => inputs.push(input),
                    Stmt::Node(node) => nodes.push(node),
                    Stmt::Output(_) => {}
                }
            }
        }
    }
    for name in &block.broken {
        let key = name.unraw().to_string();
        if !bindings.contains_key(&key) {
            bindings.insert(key.clone(), (Binding::Broken, name));
            names.push(key);
        }
    }

    // 2. Uses: every name an argument or the output uses is defined.
    let mut unknown = false;
    let mut resolve = |name: &Ident, own: Option<&str>, errors: &mut Errors| -> Option<Binding> {
        let key = name.unraw().to_string();
        match bindings.get(&key) {
            Some(&(binding, _)) => Some(binding),
            None => {
                unknown = true;
                let candidates = names.iter().map(String::as_str).filter(|n| Some(*n) != own);
                errors.push(unknown_name(name, &key, closest(&key, candidates)));
                None
            }
        }
    };
    // Each node's dependencies, with the span of their first use; `None` for a node that
    // uses a name whose statement did not parse.
    let mut deps: Vec<Option<Vec<(Ref, Span)>>> = Vec::with_capacity(nodes.len());
    for node in &nodes {
        let own = node.name.unraw().to_string();
        let mut node_deps: Option<Vec<(Ref, Span)>> = Some(Vec::new());
        for arg in node.arg_names() {
            match resolve(arg, Some(&own), errors) {
                Some(Binding::Def(r)) => {
                    if let Some(list) = &mut node_deps {
                        if !list.iter().any(|(d, _)| *d == r) {
                            list.push((r, arg.span()));
                        }
                    }
                }
                Some(Binding::Broken) => node_deps = None,
                None => node_deps = None,
            }
        }
        deps.push(node_deps);
    }
    for node in &others {
        let own = node.name.unraw().to_string();
        for arg in node.arg_names() {
            resolve(arg, Some(&own), errors);
        }
    }

    // 3. The output statement: exactly one, naming defined names.
    let mut outputs: Option<Vec<Ref>> = None;
    match output_stmts.as_slice() {
        [] => {
            if !block.broken_output {
                failed = true;
                errors.push(syn::Error::new(
                    block.end,
                    "this graph has no output: end it with `output name;` or `output (a, b);`",
                ));
            }
        }
        [first, rest @ ..] => {
            for extra in rest {
                failed = true;
                errors.push(syn::Error::new(
                    extra.keyword.span(),
                    "a graph has one `output` statement: list every output in it, \
                     `output (a, b);`",
                ));
                errors.push(syn::Error::new(
                    first.keyword.span(),
                    "the first `output` statement is here",
                ));
            }
            let mut refs = Some(Vec::new());
            for name in &first.names {
                match resolve(name, None, errors) {
                    Some(Binding::Def(r)) => {
                        if let Some(refs) = &mut refs {
                            refs.push(r);
                        }
                    }
                    _ => refs = None,
                }
            }
            outputs = refs;
        }
    }
    failed |= unknown;

    // 4. Cycles among the nodes whose wiring is known.
    let cycles = find_cycles(&deps);
    for cycle in &cycles {
        failed = true;
        report_cycle(cycle, &nodes, errors);
    }

    // 5. Inputs and nodes no output depends on (`_` opts out). Skipped when the wiring is
    // incomplete: after a syntax error, an unknown name or a duplicate (whose uses are not
    // part of the graph), or without outputs.
    let mut roots: Vec<Ref> = outputs.clone().unwrap_or_default();
    roots.extend(
        (0..nodes.len())
            .filter(|&i| is_underscore(&nodes[i].name))
            .map(Ref::Node),
    );
    let (input_used, node_used) = reachable(&roots, inputs.len(), &deps);
    let from_outputs = reachable(&outputs.clone().unwrap_or_default(), inputs.len(), &deps).1;
    let incomplete = block.has_syntax_errors || unknown || duplicated;
    if !incomplete && outputs.is_some() {
        for (i, input) in inputs.iter().enumerate() {
            if !input_used[i] && !is_underscore(&input.name) {
                failed = true;
                errors.push(unused(&input.name, "the input "));
            }
        }
        for (i, node) in nodes.iter().enumerate() {
            if !node_used[i] && !is_underscore(&node.name) {
                failed = true;
                errors.push(unused(&node.name, ""));
            }
        }
    }

    if failed {
        return None;
    }
    let deps: Vec<Vec<Ref>> = deps
        .into_iter()
        .map(|d| d.unwrap_or_default().into_iter().map(|(r, _)| r).collect())
        .collect();
    let order = topological_order(&deps);
    let output = output_stmts.first()?;
    let extra = (0..nodes.len())
        .filter(|&i| is_underscore(&nodes[i].name) && !from_outputs[i])
        .collect();
    Some(Graph {
        inputs,
        nodes,
        deps,
        order,
        output,
        outputs: outputs?,
        extra,
        input_used,
    })
}

/// Whether a name opts out of the unused check.
fn is_underscore(name: &Ident) -> bool {
    name.unraw().to_string().starts_with('_')
}

/// The errors for a name defined a second time: at the second definition, then a pointer
/// to the first.
fn duplicate(
    key: &str,
    first: Binding,
    first_name: &Ident,
    second: Binding,
    second_name: &Ident,
    errors: &mut Errors,
) {
    let first_is_input = matches!(first, Binding::Def(Ref::Input(_)));
    let second_is_input = matches!(second, Binding::Def(Ref::Input(_)));
    match (first_is_input, second_is_input) {
        (true, false) => {
            errors.push(syn::Error::new(
                second_name.span(),
                format!(
                    "node `{key}` shadows the input `{key}`: a graph defines each name once; \
                     rename the node"
                ),
            ));
            errors.push(syn::Error::new(
                first_name.span(),
                format!("the input `{key}` is declared here"),
            ));
        }
        (false, true) => {
            errors.push(syn::Error::new(
                first_name.span(),
                format!(
                    "node `{key}` shadows the input `{key}`: a graph defines each name once; \
                     rename the node"
                ),
            ));
            errors.push(syn::Error::new(
                second_name.span(),
                format!("the input `{key}` is declared here"),
            ));
        }
        (true, true) => {
            errors.push(syn::Error::new(
                second_name.span(),
                format!("the input `{key}` is declared twice: rename one of them"),
            ));
            errors.push(syn::Error::new(
                first_name.span(),
                format!("the first declaration of `{key}` is here"),
            ));
        }
        (false, false) => {
            errors.push(syn::Error::new(
                second_name.span(),
                format!(
                    "`{key}` is defined twice: a graph defines each name once; rename one of \
                     them"
                ),
            ));
            errors.push(syn::Error::new(
                first_name.span(),
                format!("the first definition of `{key}` is here"),
            ));
        }
    }
}

/// The error for a name that is not defined.
fn unknown_name(name: &Ident, key: &str, suggestion: Option<&str>) -> syn::Error {
    let message = match suggestion {
        Some(close) => format!("`{key}` is not defined in this graph: did you mean `{close}`?"),
        None => format!(
            "`{key}` is not defined in this graph: define it with `{key} = function(..);` or \
             declare it with `input {key}: Type;`"
        ),
    };
    syn::Error::new(name.span(), message)
}

/// The error for an input or node no output depends on.
fn unused(name: &Ident, what: &str) -> syn::Error {
    let key = name.unraw();
    syn::Error::new(
        name.span(),
        format!(
            "no output depends on {what}`{key}`: use it, remove it, or rename it `_{key}` to \
             keep it"
        ),
    )
}

/// One edge of a cycle: `from` uses `to` at `span`.
struct Edge {
    from: usize,
    to: usize,
    span: Span,
}

/// A node on the path of the depth-first search.
struct Frame {
    /// The node.
    node: usize,
    /// Its dependencies among nodes, with the span of their use.
    deps: Vec<(usize, Span)>,
    /// The next dependency to visit.
    next: usize,
    /// The span of the use that led here (unused for the first frame).
    entered_by: Span,
}

/// The cycles among nodes, one per back edge of a depth-first search in source order, each
/// rotated to start at its earliest node.
fn find_cycles(deps: &[Option<Vec<(Ref, Span)>>]) -> Vec<Vec<Edge>> {
    const NEW: u8 = 0;
    const OPEN: u8 = 1;
    const DONE: u8 = 2;
    let frame = |node: usize, entered_by: Span| Frame {
        node,
        deps: deps[node]
            .iter()
            .flatten()
            .filter_map(|&(r, span)| match r {
                Ref::Node(j) => Some((j, span)),
                Ref::Input(_) => None,
            })
            .collect(),
        next: 0,
        entered_by,
    };
    let mut state = vec![NEW; deps.len()];
    let mut cycles = Vec::new();
    let mut seen: BTreeSet<Vec<usize>> = BTreeSet::new();
    for start in 0..deps.len() {
        if state[start] != NEW {
            continue;
        }
        state[start] = OPEN;
        let mut path: Vec<Frame> = vec![frame(start, Span::call_site())];
        while let Some(top) = path.last_mut() {
            let node = top.node;
            let Some(&(dep, span)) = top.deps.get(top.next) else {
                state[node] = DONE;
                path.pop();
                continue;
            };
            top.next += 1;
            match state[dep] {
                NEW => {
                    state[dep] = OPEN;
                    path.push(frame(dep, span));
                }
                OPEN => {
                    let at = path.iter().position(|f| f.node == dep).unwrap_or(0);
                    let mut edges: Vec<Edge> = path[at..]
                        .windows(2)
                        .map(|pair| Edge {
                            from: pair[0].node,
                            to: pair[1].node,
                            span: pair[1].entered_by,
                        })
                        .collect();
                    edges.push(Edge {
                        from: node,
                        to: dep,
                        span,
                    });
                    let first = (0..edges.len()).min_by_key(|&k| edges[k].from).unwrap_or(0);
                    edges.rotate_left(first);
                    let members: Vec<usize> = edges.iter().map(|e| e.from).collect();
                    if seen.insert(members) {
                        cycles.push(edges);
                    }
                }
                _ => {}
            }
        }
    }
    cycles
}

/// One error per edge of a cycle, each naming the whole path.
fn report_cycle(edges: &[Edge], nodes: &[&NodeDef], errors: &mut Errors) {
    let name = |i: usize| nodes[i].name.unraw().to_string();
    let mut path: Vec<String> = edges.iter().map(|e| name(e.from)).collect();
    path.push(name(edges[0].from));
    let path = path.join(" -> ");
    let last = edges.len() - 1;
    for (k, edge) in edges.iter().enumerate() {
        let (from, to) = (name(edge.from), name(edge.to));
        let message = if edges.len() == 1 {
            format!("cycle in the graph: `{path}`: `{from}` uses itself here")
        } else if k == 0 {
            format!("cycle in the graph: `{path}`: `{from}` uses `{to}` here")
        } else if k == last {
            format!("`{from}` uses `{to}` here, closing the cycle `{path}`")
        } else {
            format!("`{from}` uses `{to}` here, in the cycle `{path}`")
        };
        errors.push(syn::Error::new(edge.span, message));
    }
}

/// Which inputs and nodes the `roots` depend on, themselves included.
fn reachable(
    roots: &[Ref],
    inputs: usize,
    deps: &[Option<Vec<(Ref, Span)>>],
) -> (Vec<bool>, Vec<bool>) {
    let mut input_used = vec![false; inputs];
    let mut node_used = vec![false; deps.len()];
    let mut stack: Vec<Ref> = roots.to_vec();
    while let Some(r) = stack.pop() {
        match r {
            Ref::Input(i) => input_used[i] = true,
            Ref::Node(i) => {
                if !node_used[i] {
                    node_used[i] = true;
                    stack.extend(deps[i].iter().flatten().map(|(d, _)| *d));
                }
            }
        }
    }
    (input_used, node_used)
}

/// The nodes in an order where each follows its dependencies; among the nodes ready at
/// once, the earliest in the source comes first (Kahn's algorithm). The graph is acyclic.
fn topological_order(deps: &[Vec<Ref>]) -> Vec<usize> {
    let n = deps.len();
    let mut pending: Vec<usize> = vec![0; n];
    let mut consumers: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, node_deps) in deps.iter().enumerate() {
        for d in node_deps {
            if let Ref::Node(j) = *d {
                pending[i] += 1;
                consumers[j].push(i);
            }
        }
    }
    let mut ready: BTreeSet<usize> = (0..n).filter(|&i| pending[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &c in &consumers[i] {
            pending[c] -= 1;
            if pending[c] == 0 {
                ready.insert(c);
            }
        }
    }
    order
}
