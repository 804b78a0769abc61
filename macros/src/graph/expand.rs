//! The expansion of a checked `graph!` block: a `Pipeline` around a closure that builds and
//! runs one task graph per call.
//!
//! For `input x: i64; a = inc(x); output a;` it writes (names shortened):
//!
//! ```text
//! Pipeline::new(
//!     |scheduler: Scheduler, (x,): (i64,)| -> Result<_, Error> {
//!         let mut run = PipelineRun::new(2, 1);
//!         let hx = run.input("x", x, DataOps::<i64>::new())?;
//!         let ha = run.node(
//!             "a",
//!             &[hx.id()],
//!             move |inputs| {
//!                 let v0 = hx.take(inputs, 0)?;
//!                 let r = inc::eager(v0);
//!                 (&Returned(&r)).dagr_return_kind().into_task_result(r)
//!             },
//!             DataOps::new(),
//!         )?;
//!         let mut out = run.run(scheduler, &[ha.id()])?;
//!         out.take(ha)
//!     },
//!     "digraph dagr { .. }",
//!     "(x: i64) -> a",
//! )
//! ```
//!
//! Every generated name has mixed-site hygiene, so it can clash with no user name, and the
//! user-visible parts carry the user's spans: each argument is located at its name in the
//! block, the call at the function's path, so a type mismatch between nodes is an ordinary
//! rustc error pointing inside the block.

use super::check::{Graph, Ref};
use super::parse::{Arg, NodeDef};
use crate::delayed::first_last_spans;
use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::{Ident, LitStr, PathArguments, PathSegment};

/// Writes the pipeline of a checked block.
pub(crate) fn expand(graph: &Graph<'_>, dot: &str, signature: &str) -> TokenStream {
    let site = Span::mixed_site();
    let run = Ident::new("__dagr_run", site);
    let scheduler = Ident::new("__dagr_scheduler", site);
    let out = Ident::new("__dagr_out", site);

    // The closure's parameter: the tuple of inputs.
    let params: Vec<Ident> = (0..graph.inputs.len())
        .map(|i| format_ident!("__dagr_i{}", i, span = site))
        .collect();
    let types: Vec<&syn::Type> = graph.inputs.iter().map(|input| &input.ty).collect();

    let mut body = TokenStream::new();
    for (i, input) in graph.inputs.iter().enumerate() {
        let param = &params[i];
        if graph.input_used[i] {
            let input_handle = handle(Ref::Input(i));
            let name = key_name(&input.name);
            let ty = &input.ty;
            // Spanned over the type: a type that is not `Data` is reported there, once.
            let (first, last) = first_last_spans(ty);
            let new = Ident::new("new", last);
            let ops = quote_spanned!(first=> ::dagr::__private::DataOps::<#ty>::#new());
            body.extend(quote!(let #input_handle = #run.input(#name, #param, #ops)?;));
        } else {
            body.extend(quote!(let _ = #param;));
        }
    }
    for &n in &graph.order {
        body.extend(node(graph, n, &run));
    }

    // Outputs, then `_`-named nodes no output needs (computed for their effects).
    let wanted: Vec<Ident> = graph
        .outputs
        .iter()
        .map(|&r| handle(r))
        .chain(graph.extra.iter().map(|&n| handle(Ref::Node(n))))
        .collect();
    body.extend(quote!(let mut #out = #run.run(#scheduler, &[#(#wanted.id()),*])?;));
    let outputs: Vec<Ident> = graph.outputs.iter().map(|&r| handle(r)).collect();
    if graph.output.tuple {
        body.extend(quote!(::dagr::__private::Ok((#(#out.take(#outputs)?,)*))));
    } else {
        let single = &outputs[0];
        body.extend(quote!(#out.take(#single)));
    }

    let nodes = graph.inputs.len() + graph.nodes.len();
    let edges: usize = graph.deps.iter().map(Vec::len).sum();
    quote! {
        ::dagr::__private::Pipeline::new(
            |#scheduler: ::dagr::__private::Scheduler, (#(#params,)*): (#(#types,)*)|
                -> ::dagr::__private::Result<_, ::dagr::__private::Error>
            {
                #[allow(unused_imports)]
                use ::dagr::__private::{ReturnsResult as _, ReturnsValue as _};
                let mut #run = ::dagr::__private::PipelineRun::new(#nodes, #edges);
                #body
            },
            #dot,
            #signature,
        )
    }
}

/// The statement adding node `n`: a task over its dependencies calling its function.
fn node(graph: &Graph<'_>, n: usize, run: &Ident) -> TokenStream {
    let site = Span::mixed_site();
    let def = graph.nodes[n];
    let deps = &graph.deps[n];
    let this = handle(Ref::Node(n));
    let name = key_name(&def.name);
    let inputs = Ident::new("__dagr_in", site);
    let result = Ident::new("__dagr_r", site);

    // Each dependency is taken once; a name used several times is cloned for all its uses
    // but the last, which moves it.
    let dep_handles: Vec<Ident> = deps.iter().map(|&d| handle(d)).collect();
    let values: Vec<Ident> = (0..deps.len())
        .map(|i| format_ident!("__dagr_v{}", i, span = site))
        .collect();
    let takes = dep_handles
        .iter()
        .zip(&values)
        .enumerate()
        .map(|(i, (h, v))| quote!(let #v = #h.take(#inputs, #i)?;));
    let mut remaining: Vec<usize> = vec![0; deps.len()];
    for used in def.arg_names() {
        if let Some(i) = position(graph, deps, used) {
            remaining[i] += 1;
        }
    }
    let mut arg_value = |ident: &Ident| -> TokenStream {
        let Some(i) = position(graph, deps, ident) else {
            return TokenStream::new();
        };
        remaining[i] -= 1;
        let at = site.located_at(ident.span());
        let value = Ident::new(&values[i].to_string(), at);
        if remaining[i] == 0 {
            value.into_token_stream()
        } else {
            quote_spanned!(at=> ::dagr::__private::Clone::clone(&#value))
        }
    };
    let mut args = TokenStream::new();
    for (k, arg) in def.args.iter().enumerate() {
        if k > 0 {
            args.extend(quote!(,));
        }
        match arg {
            Arg::Name(ident) => args.extend(arg_value(ident)),
            Arg::Const(expr) => expr.to_tokens(&mut args),
            Arg::List { bracket, items } => {
                let mut elems = TokenStream::new();
                for (j, item) in items.iter().enumerate() {
                    if j > 0 {
                        elems.extend(quote!(,));
                    }
                    match item {
                        Arg::Name(ident) => elems.extend(arg_value(ident)),
                        Arg::Const(expr) => expr.to_tokens(&mut elems),
                        Arg::List { .. } => {}
                    }
                }
                let mut array = Group::new(Delimiter::Bracket, elems);
                array.set_span(*bracket);
                let at = site.located_at(*bracket);
                args.extend(quote_spanned!(at=> ::dagr::__private::From::from(#array)));
            }
        }
    }
    let mut call_args = Group::new(Delimiter::Parenthesis, args);
    call_args.set_span(def.paren);
    let func = callee(def);
    let func_span = path_span(def);
    // Spanned at the function: a result type that is not `Data` is reported there, once.
    let ops = quote_spanned!(func_span=> ::dagr::__private::DataOps::new());
    let closure_input = if deps.is_empty() {
        quote!(_)
    } else {
        inputs.to_token_stream()
    };
    let kind = quote_spanned!(site.located_at(func_span)=>
        (&::dagr::__private::Returned(&#result)).dagr_return_kind().into_task_result(#result)
    );
    quote! {
        let #this = #run.node(
            #name,
            &[#(#dep_handles.id()),*],
            move |#closure_input| {
                #(#takes)*
                let #result = #func #call_args;
                #kind
            },
            #ops,
        )?;
        #run.set_wire(#this.id(), {
            #[allow(unused_imports)]
            use ::dagr::__private::{ProbeOpaque as _, ProbeSerde as _};
            #[allow(clippy::needless_borrow)]
            let wire = (&#this.probe()).wire();
            wire
        });
    }
}

/// Where `ident` is among a node's dependencies.
fn position(graph: &Graph<'_>, deps: &[Ref], ident: &Ident) -> Option<usize> {
    let key = ident.unraw().to_string();
    deps.iter().position(|&d| graph.name(d) == key)
}

/// The handle variable of a definition.
fn handle(r: Ref) -> Ident {
    let site = Span::mixed_site();
    match r {
        Ref::Input(i) => format_ident!("__dagr_x{}", i, span = site),
        Ref::Node(i) => format_ident!("__dagr_n{}", i, span = site),
    }
}

/// The key name of a definition: its name, raw identifiers unprefixed.
fn key_name(ident: &Ident) -> LitStr {
    LitStr::new(&ident.unraw().to_string(), ident.span())
}

/// The function a node calls: the path as written for `plain` functions; for `#[delayed]`
/// ones, its `eager` function (`inc` → `inc::eager`, `f::<T>` → `f::eager::<T>`).
fn callee(def: &NodeDef) -> TokenStream {
    if def.plain.is_some() {
        return def.func.to_token_stream();
    }
    let mut func = def.func.clone();
    if let Some(last) = func.path.segments.last_mut() {
        let arguments = std::mem::replace(&mut last.arguments, PathArguments::None);
        let eager = PathSegment {
            ident: Ident::new("eager", last.ident.span()),
            arguments,
        };
        func.path.segments.push(eager);
    }
    func.to_token_stream()
}

/// The span of the function's name (the last segment of its path).
fn path_span(def: &NodeDef) -> Span {
    def.func
        .path
        .segments
        .last()
        .map_or_else(Span::call_site, |last| last.ident.span())
}
