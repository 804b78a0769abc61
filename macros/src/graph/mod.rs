//! `graph!`: a declarative pipeline whose wiring is checked at compile time.
//!
//! The macro goes through the house steps, each its own module:
//!
//! 1. [`parse`] reads the block into a typed IR that keeps every token for spans, one
//!    statement at a time, so one malformed statement does not hide the others' errors;
//! 2. [`check`] validates the wiring (names, duplicates, cycles, outputs, unused nodes),
//!    each error at the offending token, and sorts the nodes topologically;
//! 3. [`expand`] writes the `Pipeline` and [`dot`] its static picture.
//!
//! All errors are reported at once; when there is any, the output is the errors plus a
//! stub pipeline with the declared input types, so the code using it does not add errors
//! of its own.

mod check;
mod dot;
mod expand;
mod parse;
mod suggest;

use crate::errors::Errors;
use proc_macro2::TokenStream;
use quote::quote;

/// Expands `graph! { input }`.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let block = parse::parse(input, &mut errors);
    let graph = check::check(&block, &mut errors);
    match (errors.finish(), graph) {
        (Ok(()), Some(graph)) => {
            let dot = dot::dot(&graph);
            let signature = dot::signature(&graph);
            expand::expand(&graph, &dot, &signature)
        }
        (result, _) => {
            // One expression: the errors as statements of a block ending with the stub.
            let errors = match result {
                Err(err) => err.to_compile_error(),
                Ok(()) => TokenStream::new(),
            };
            let stub = stub(&block);
            quote!({ #errors #stub })
        }
    }
}

/// A pipeline that type-checks with the block's input types (`_` for an input that did
/// not parse) and any output type, never run: compilation stops at the errors beside it.
fn stub(block: &parse::Block) -> TokenStream {
    let types = block.input_types.iter().map(|ty| match ty {
        Some(ty) => quote!(#ty),
        None => quote!(_),
    });
    quote!(::dagr::__private::Pipeline::<(#(#types,)*), _>::stub())
}

#[cfg(test)]
mod tests {
    use super::expand;
    use proc_macro2::TokenStream;
    use quote::quote;

    /// The messages of the errors a block reports, in order.
    fn errors(input: TokenStream) -> Vec<String> {
        let out = expand(input).to_string();
        out.split("compile_error !")
            .skip(1)
            .map(|rest| {
                let start = rest.find('"').unwrap() + 1;
                let end = rest[start..].find("\" }").unwrap() + start;
                rest[start..end].to_owned()
            })
            .collect()
    }

    #[test]
    fn accepts_the_issue_example() {
        let block = quote! {
            input x: i64;
            input ys: Vec<i64>;
            c = add(a, b);
            a = inc(x);
            b = double(x);
            s = total(ys);
            output (c, s);
        };
        assert_eq!(errors(block), Vec::<String>::new());
    }

    #[test]
    fn adds_nodes_after_their_dependencies() {
        let out = expand(quote! {
            input x: i64;
            c = add(a, b);
            b = double(a);
            a = inc(x);
            output c;
        })
        .to_string();
        let at = |name: &str| out.find(&format!("node (\"{name}\"")).unwrap();
        assert!(at("a") < at("b") && at("b") < at("c"), "{out}");
        assert!(out.contains("inc :: eager"), "{out}");
    }

    #[test]
    fn plain_calls_the_function_as_written() {
        let out = expand(quote! {
            input x: i64;
            a = plain util::square(x);
            b = plain(a);
            output b;
        })
        .to_string();
        assert!(out.contains("util :: square ("), "{out}");
        assert!(out.contains("plain :: eager ("), "{out}");
        let generic = expand(quote! {
            input x: i64;
            a = describe::<i64>(x);
            output a;
        })
        .to_string();
        assert!(
            generic.contains("describe :: eager :: < i64 > ("),
            "{generic}"
        );
    }

    #[test]
    fn reports_every_error_at_once() {
        let messages = errors(quote! {
            input x: i64;
            input x: i64;
            a = inc(b);
            b = inc(a);
            c = add(a, bb);
            d = inc(x) oops;
            x = inc(c);
            output (c, e);
            output a;
        });
        let expected = [
            "expected `;` after the statement",
            "the input `x` is declared twice",
            "the first declaration of `x` is here",
            "node `x` shadows the input `x`",
            "the input `x` is declared here",
            "`bb` is not defined in this graph: did you mean `b`?",
            "a graph has one `output` statement",
            "the first `output` statement is here",
            "`e` is not defined in this graph",
            "cycle in the graph: `a -> b -> a`: `a` uses `b` here",
            "`b` uses `a` here, closing the cycle `a -> b -> a`",
        ];
        assert_eq!(messages.len(), expected.len(), "{messages:#?}");
        for (message, expected) in messages.iter().zip(expected) {
            assert!(message.contains(expected), "{message:?} lacks {expected:?}");
        }
    }

    #[test]
    fn unused_names_unless_underscored() {
        let messages = errors(quote! {
            input x: i64;
            input y: i64;
            input _z: i64;
            a = inc(x);
            b = inc(a);
            _c = inc(a);
            output a;
        });
        assert_eq!(messages.len(), 2, "{messages:#?}");
        assert!(messages[0].starts_with("no output depends on the input `y`"));
        assert!(messages[1].starts_with("no output depends on `b`"));
    }

    #[test]
    fn stub_keeps_the_input_types() {
        let out = expand(quote! {
            input x: i64;
            input broken;
            output nothing;
        })
        .to_string();
        assert!(
            out.contains("Pipeline :: < (i64 , _ ,) , _ > :: stub ()"),
            "{out}"
        );
        assert!(!out.contains("PipelineRun"), "{out}");
    }

    #[test]
    fn too_many_inputs() {
        let inputs = (0..13_usize).map(|i| {
            let name = quote::format_ident!("x{}", i);
            quote!(input #name: i64;)
        });
        let messages = errors(quote! {
            #(#inputs)*
            a = total([x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12]);
            output a;
        });
        assert_eq!(messages.len(), 1, "{messages:#?}");
        assert!(messages[0].starts_with("a graph takes at most 12 inputs"));
    }
}
