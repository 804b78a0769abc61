//! `#[delayed]`: turns a free function into a lazy constructor of a `Delayed` call.
//!
//! The attribute goes through three steps, each its own function:
//!
//! 1. [`DelayedFn::from_syn`] parses the function into a typed IR that keeps the syn nodes
//!    (for spans) and records structural errors (methods, receivers, not a function);
//! 2. [`DelayedFn::validate`] checks what the runtime cannot support (async, borrowing,
//!    `impl Trait`, lifetimes, ...), each error at the offending token;
//! 3. [`DelayedFn::expand`] writes the lazy function and, for `name::eager`, a hidden
//!    uninhabited `enum name {}` whose inherent `eager` function is the original.
//!
//! All errors are collected and reported at once; when there is any, the output is the
//! errors plus the original item unchanged, so users see no cascade of follow-up errors.

use crate::errors::Errors;
use crate::options::Options;
use proc_macro2::{Delimiter, Group, Punct, Spacing, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{
    parse_quote_spanned, Attribute, Block, FnArg, GenericArgument, GenericParam, Generics, Ident,
    Item, ItemFn, Lifetime, LitStr, Pat, PathArguments, ReturnType, Signature, Type,
    TypeParamBound, TypeReference, Visibility, WherePredicate,
};

/// Expands `#[delayed(args)] input`.
pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let options = Options::parse(args, &mut errors);
    let func = match syn::parse2::<Item>(input.clone()) {
        Ok(item) => DelayedFn::from_syn(item, &mut errors),
        Err(err) => {
            errors.push(err);
            None
        }
    };
    if let Some(func) = &func {
        func.validate(&mut errors);
    }
    match (errors.finish(), func) {
        (Ok(()), Some(func)) => func.expand(&options),
        (result, _) => {
            // The stub: the original item unchanged, next to the errors, so that its uses
            // elsewhere do not add errors of their own.
            let mut out = match result {
                Err(err) => err.to_compile_error(),
                Ok(()) => TokenStream::new(),
            };
            out.extend(input);
            out
        }
    }
}

/// A function under `#[delayed]`, split into the parts the expansion needs.
struct DelayedFn {
    /// The attributes, sorted by the items they go on.
    attrs: Attrs,
    /// The function's visibility, shared by the lazy function, the `name` enum and `eager`.
    vis: Visibility,
    /// The original signature (`eager`'s, renamed).
    sig: Signature,
    /// The original body (`eager`'s).
    block: Box<Block>,
    /// The typed parameters; receivers were reported and left out.
    params: Vec<Param>,
    /// What the function returns.
    output: Output,
}

/// A function's attributes, by destination.
#[derive(Default)]
struct Attrs {
    /// `#[cfg(...)]`: on every generated item.
    cfg: Vec<Attribute>,
    /// `#[allow(...)]`: on the lazy function and on `eager`.
    lints: Vec<Attribute>,
    /// `#[inline]`, `#[cold]`: about the body, so on `eager`.
    body: Vec<Attribute>,
    /// Docs and everything else: on the lazy function, the one users call.
    lazy: Vec<Attribute>,
}

/// One typed parameter.
struct Param {
    /// The parameter's type.
    ty: Box<Type>,
    /// The lazy function's name for it: the user's identifier when the pattern is a plain
    /// (possibly `mut`) identifier, `__dagr_p<i>` otherwise.
    ident: Ident,
}

/// What a delayed function returns.
enum Output {
    /// Nothing (`()`): a `Delayed<()>`.
    Unit,
    /// A value of this type: a `Delayed<T>`.
    Value(Box<Type>),
    /// A `Result`-like type (the last path segment is `Result`): a `Delayed<Ok type>` whose
    /// error surfaces as a task error.
    Result(Box<Type>),
}

/// Where a type appears, for the wording of its errors.
#[derive(Clone, Copy, PartialEq)]
enum Position {
    /// A parameter's type itself.
    Arg,
    /// Inside a parameter's type.
    NestedArg,
    /// The return type, or inside it.
    Return,
}

impl DelayedFn {
    /// Lowers the annotated item; `None` (with an error recorded) if it is not a function.
    fn from_syn(item: Item, errors: &mut Errors) -> Option<DelayedFn> {
        let ItemFn {
            attrs,
            vis,
            sig,
            block,
        } = match item {
            Item::Fn(func) => func,
            other => {
                errors.push(syn::Error::new_spanned(
                    item_head(&other),
                    "expected a function: `#[delayed]` applies to free functions \
                     like `fn name(arg: T) -> R { ... }`",
                ));
                return None;
            }
        };

        let attrs = Attrs::sort(attrs, errors);

        let mut params = Vec::new();
        for (i, input) in sig.inputs.iter().enumerate() {
            match input {
                FnArg::Receiver(receiver) => errors.push(syn::Error::new_spanned(
                    receiver,
                    "`#[delayed]` works on free functions only, not methods",
                )),
                FnArg::Typed(typed) => {
                    let ident = match &*typed.pat {
                        Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                            pat.ident.clone()
                        }
                        _ => format_ident!("__dagr_p{}", i),
                    };
                    params.push(Param {
                        ty: typed.ty.clone(),
                        ident,
                    });
                }
            }
        }

        let output = match &sig.output {
            ReturnType::Default => Output::Unit,
            ReturnType::Type(_, ty) => match peel(ty) {
                Type::Tuple(tuple) if tuple.elems.is_empty() => Output::Unit,
                Type::Path(path)
                    if path.qself.is_none()
                        && path
                            .path
                            .segments
                            .last()
                            .is_some_and(|last| last.ident == "Result") =>
                {
                    Output::Result(ty.clone())
                }
                _ => Output::Value(ty.clone()),
            },
        };

        Some(DelayedFn {
            attrs,
            vis,
            sig,
            block,
            params,
            output,
        })
    }

    /// Records everything `#[delayed]` cannot support, each at its own token.
    fn validate(&self, errors: &mut Errors) {
        let sig = &self.sig;
        if let Some(asyncness) = &sig.asyncness {
            errors.push(syn::Error::new_spanned(
                asyncness,
                "`#[delayed]` functions cannot be async: the runtime runs plain functions; \
                 make it synchronous (block on the future inside it if you must)",
            ));
        }
        if let Some(unsafety) = &sig.unsafety {
            errors.push(syn::Error::new_spanned(
                unsafety,
                "`#[delayed]` functions cannot be `unsafe`: the graph calls them from safe \
                 code; make the function safe and put the unsafe part in an `unsafe` block",
            ));
        }
        if let Some(abi) = &sig.abi {
            errors.push(syn::Error::new_spanned(
                abi,
                "`#[delayed]` functions cannot have an `extern` ABI: the graph calls them \
                 as Rust functions",
            ));
        }
        if let Some(variadic) = &sig.variadic {
            errors.push(syn::Error::new_spanned(
                variadic,
                "`#[delayed]` functions cannot be variadic: take a `Vec<T>` instead",
            ));
        }
        for param in &sig.generics.params {
            if let GenericParam::Lifetime(lifetime) = param {
                errors.push(syn::Error::new_spanned(
                    lifetime,
                    "delayed functions cannot borrow: take owned arguments",
                ));
            }
        }
        for param in &self.params {
            check_type(&param.ty, Position::Arg, errors);
        }
        match &self.output {
            Output::Unit => {}
            Output::Value(ty) | Output::Result(ty) => check_type(ty, Position::Return, errors),
        }
    }

    /// Writes the lazy function, and the original as `name::eager`.
    fn expand(&self, options: &Options) -> TokenStream {
        let DelayedFn {
            attrs,
            vis,
            sig,
            block,
            params,
            output,
        } = self;
        let Attrs {
            cfg,
            lints,
            body,
            lazy,
        } = attrs;
        let ident = &sig.ident;
        // `name::eager`: the original function, renamed, as the inherent function of an
        // uninhabited enum named like it. The enum lives in the type namespace, the lazy
        // function in the value namespace, so both are `name`; unlike a module, an enum
        // works inside a block too (`fn main() { #[delayed] fn f() {} }`, doctests), and
        // needs no visibility of its own beyond the function's.
        let mut eager_sig = sig.clone();
        eager_sig.ident = Ident::new("eager", ident.span());
        let enum_doc = format!(
            "`{}::eager(..)` calls the original function.",
            ident.unraw()
        );
        // `eager` names the lazy function, so that code calling only `name::eager` (as
        // `graph!` does) counts as a use of it for the dead-code lint. The name is given
        // the type `fn(NeverArg, ..) -> _`, which every parameter accepts, so it adds no
        // requirement that could fail. A generic function would need its parameters' lazy
        // bounds, which `eager` does not have: its lazy function is exempt from the lint.
        let generic = sig
            .generics
            .params
            .iter()
            .any(|param| matches!(param, GenericParam::Type(_) | GenericParam::Const(_)));
        let never = sig
            .inputs
            .iter()
            .filter(|input| matches!(input, FnArg::Typed(_)))
            .map(|_| quote!(::dagr::__private::NeverArg));
        let eager_body = if generic {
            quote!(#block)
        } else {
            // The user's statements right in the body, under the user's braces: a block
            // nested as the body's value would be `unused_braces` at the user's tokens.
            let stmts = &block.stmts;
            let mut body = Group::new(
                Delimiter::Brace,
                quote! {
                    let _: fn(#(#never),*) -> _ = #ident;
                    #(#stmts)*
                },
            );
            body.set_span(block.brace_token.span.join());
            body.into_token_stream()
        };
        let lazy_exempt = generic.then(|| quote!(#[allow(dead_code)]));
        let eager_fn = quote! {
            #(#cfg)*
            #[doc = #enum_doc]
            #[doc(hidden)]
            #[allow(non_camel_case_types, dead_code)]
            #vis enum #ident {}

            #(#cfg)*
            #[allow(dead_code)]
            impl #ident {
                /// The original function, called eagerly.
                #(#lints)*
                #(#body)*
                #[allow(clippy::too_many_arguments)]
                #vis #eager_sig #eager_body
            }
        };

        // The lazy function.
        let key_name = match &options.name {
            Some(name) => name.clone(),
            None => LitStr::new(&ident.unraw().to_string(), ident.span()),
        };
        let pure = options.pure.is_some();
        let arg_trait = if pure { "PureArg" } else { "IntoArg" };
        let lazy_generics = lazy_generics(&sig.generics);
        let (generics, _, where_clause) = lazy_generics.split_for_impl();
        let turbofish = turbofish(&sig.generics);

        // Each parameter takes `impl` a trait of its own, `__dagr_<fn>_arg<i>`, a hidden
        // subtrait of `IntoArg<T>` (`PureArg<T>`) implemented for every argument that fits,
        // whose diagnostic names the function, the parameter and the accepted forms when an
        // argument does not fit. Spanned at the type: rustc shows it as the bound an
        // argument fails.
        let fn_name = ident.unraw().to_string();
        let (trait_params, trait_args) = arg_trait_generics(&sig.generics);
        let mut arg_traits = Vec::new();
        let mut lazy_params = Vec::new();
        let arg_trait = Ident::new(arg_trait, Span::call_site());
        for (i, Param { ty, ident: param }) in params.iter().enumerate() {
            let name = format_ident!("__dagr_{}_arg{}", fn_name, i);
            let shown = param.unraw().to_string();
            let shown = if shown.starts_with("__dagr_p") {
                format!("argument {}", i + 1)
            } else {
                format!("the argument `{shown}`")
            };
            let (message, label, note) = arg_diagnostic(&fn_name, &shown, ty, pure);
            let doc = format!("What {shown} of `{fn_name}` accepts.");
            arg_traits.push(quote! {
                #(#cfg)*
                #[doc = #doc]
                #[doc(hidden)]
                #[allow(non_camel_case_types, dead_code)]
                #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
                #vis trait #name<#(#trait_params),*>: ::dagr::__private::#arg_trait<#ty> {}
                #(#cfg)*
                impl<__DagrA: ::dagr::__private::#arg_trait<#ty>, #(#trait_params),*>
                    #name<#(#trait_args),*> for __DagrA {}
            });
            let mut name = name;
            name.set_span(ty.span());
            lazy_params.push(quote_spanned!(ty.span()=> #param: impl #name<#(#trait_args),*>));
        }

        // Every use of a parameter's type is spanned at the type, and so is its
        // `assert_data`: rustc reports a type that is not `Data` once, there, instead of once
        // per use inside the expansion.
        let mut asserts = Vec::new();
        let mut args = Vec::new();
        let mut gets = Vec::new();
        let mut values = Vec::new();
        for (i, Param { ty, ident }) in params.iter().enumerate() {
            let span = ty.span();
            let slot = Ident::new(&format!("__dagr_a{i}"), span);
            let value = Ident::new(&format!("__dagr_v{i}"), span);
            let method = Ident::new(if pure { "pure_arg" } else { "arg" }, span);
            asserts.push(assert_data(ty.to_token_stream(), span));
            // The use of the parameter is the macro's, not the user's (whose `_x` would
            // otherwise count as a used underscore binding).
            let mut use_ident = ident.clone();
            use_ident.set_span(Span::call_site());
            args.push(quote_spanned!(span=> let #slot = __dagr_b.#method::<#ty, _>(#use_ident);));
            gets.push(quote_spanned!(span=>
                let #value = __dagr_get::<#ty>(&#slot, __dagr_in)?;
            ));
            values.push(value);
        }
        let call = quote!(#ident::eager #turbofish(#(#values),*));

        // The output: the type the `Delayed` holds, and the body's last expression. Its
        // tokens stretch from the first to the last token of the user's return type, so
        // that rustc reports a wrong return type (not `Data`, or a `Result` whose error does
        // not convert) there, once.
        let (ret, result, ret_span) = match output {
            Output::Unit => (
                quote!(()),
                quote! {
                    #call;
                    ::dagr::__private::Ok(())
                },
                (Span::call_site(), Span::call_site()),
            ),
            Output::Value(ty) => (
                ty.to_token_stream(),
                quote!(::dagr::__private::Ok(#call)),
                first_last_spans(ty),
            ),
            Output::Result(ty) => {
                let (first, last) = first_last_spans(ty);
                let ok = Ident::new("Ok", last);
                // An error type that does not convert is reported at this path.
                let convert = Ident::new("into_task_result", last);
                (
                    quote_spanned!(first=> <#ty as ::dagr::__private::ResultLike>::#ok),
                    // Named before the call: rustc reports the bound at the path, the
                    // return type, rather than at the call.
                    quote_spanned!(first=> {
                        let __dagr_convert = <#ty as ::dagr::__private::ResultLike>::#convert;
                        __dagr_convert(#call)
                    }),
                    (first, last),
                )
            }
        };
        let (first, last) = ret_span;
        if !matches!(output, Output::Unit) {
            asserts.push(assert_data(ret.clone(), first));
        }
        let finish = quote_spanned!(first=> __dagr_b.finish::<#ret, _>);
        // How the result crosses between processes: serde's codec when the type has one.
        let probe = quote! {{
            #[allow(unused_imports)]
            use ::dagr::__private::{ProbeOpaque as _, ProbeSerde as _};
            #[allow(clippy::needless_borrow)]
            let wire = (&::dagr::__private::Probe::<#ret>::new()).wire();
            wire
        }};
        let mut close = Punct::new('>', Spacing::Alone);
        close.set_span(last);
        let delayed = quote_spanned!(first=> ::dagr::__private::Delayed<#ret #close);

        // `Slot::get` through a function that takes the type as an explicit generic
        // argument, for the reason above (the method would give its own error).
        let getter = (!params.is_empty()).then(|| {
            quote! {
                fn __dagr_get<__DagrT: ::dagr::Data>(
                    __dagr_slot: &impl ::dagr::__private::Slot<__DagrT>,
                    __dagr_in: &mut ::dagr::__private::Inputs<'_>,
                ) -> ::core::result::Result<__DagrT, ::dagr::__private::TaskError> {
                    __dagr_slot.get(__dagr_in)
                }
            }
        });
        // Without arguments the builder is never borrowed mutably.
        let builder_mut = (!params.is_empty()).then(|| quote!(mut));
        // The user's `fn` token and body braces: rustc's dead-code lint skips an item whose
        // span comes from a macro, and an unused `#[delayed]` function deserves the usual
        // warning.
        let fn_token = &sig.fn_token;
        let mut lazy_body = Group::new(
            Delimiter::Brace,
            quote! {
                #(#asserts)*
                let #builder_mut __dagr_b = ::dagr::__private::CallBuilder::new(#key_name, #pure)
                    .with_wire(#probe);
                #(#args)*
                #getter
                #finish(move |__dagr_in| {
                    #(#gets)*
                    #result
                })
            },
        );
        lazy_body.set_span(block.brace_token.span.join());
        let lazy_fn = quote! {
            #(#cfg)*
            #(#lints)*
            #(#lazy)*
            #lazy_exempt
            #[allow(clippy::too_many_arguments)]
            #vis #fn_token #ident #generics (#(#lazy_params),*) -> #delayed
            #where_clause
            #lazy_body
        };

        quote! {
            #(#arg_traits)*
            #eager_fn
            #lazy_fn
        }
    }
}

/// The generic parameters of a parameter's argument trait (the function's type and const
/// parameters, without bounds), and the arguments naming them.
fn arg_trait_generics(generics: &Generics) -> (Vec<TokenStream>, Vec<TokenStream>) {
    let mut params = Vec::new();
    let mut args = Vec::new();
    for param in &generics.params {
        match param {
            GenericParam::Type(t) => {
                let ident = &t.ident;
                params.push(quote!(#ident));
                args.push(quote!(#ident));
            }
            GenericParam::Const(c) => {
                let (ident, ty) = (&c.ident, &c.ty);
                params.push(quote!(const #ident: #ty));
                args.push(quote!(#ident));
            }
            GenericParam::Lifetime(_) => {}
        }
    }
    (params, args)
}

/// The message, label and note rustc shows when an argument does not fit parameter `shown`
/// (of type `ty`) of function `fn_name`: what was given, and the forms accepted.
fn arg_diagnostic(fn_name: &str, shown: &str, ty: &Type, pure: bool) -> (String, String, String) {
    // `{` and `}` are the diagnostic's own format syntax
    let t = show(ty).replace('{', "{{").replace('}', "}}");
    let kind = if pure {
        "#[delayed(pure)]"
    } else {
        "#[delayed]"
    };
    let message = format!(
        "`{{Self}}` cannot be {shown} of `{fn_name}`, a `{t}` parameter of a `{kind}` function"
    );
    let plain = if pure {
        format!("a `{t}` (that implements `Tokenize`)")
    } else {
        format!("a `{t}`")
    };
    let mut forms = vec![
        plain,
        format!("a `Delayed<{t}>`"),
        format!("a `&Delayed<{t}>`"),
    ];
    if let Type::Path(path) = peel(ty) {
        if let Some(last) = path.path.segments.last() {
            if last.ident == "String" {
                forms.push("a `&str`".to_owned());
            }
            if last.ident == "Vec" {
                if let PathArguments::AngleBracketed(args) = &last.arguments {
                    if let Some(GenericArgument::Type(x)) = args.args.first() {
                        let x = show(x).replace('{', "{{").replace('}', "}}");
                        forms.push(format!("a `Vec<Delayed<{x}>>`"));
                        forms.push(format!("a `&Vec<Delayed<{x}>>`"));
                    }
                }
            }
        }
    }
    let last = forms.pop().unwrap_or_default();
    let label = format!("expected {} or {last}", forms.join(", "));
    let note = if pure {
        format!(
            "{shown} accepts {} or {last}; a plain value of a `pure` function must implement \
             `Tokenize`, which names it in the call's key",
            forms.join(", ")
        )
    } else {
        format!("{shown} accepts {} or {last}", forms.join(", "))
    };
    (message, label, note)
}

impl Attrs {
    /// Sorts a function's attributes by the generated items they belong on.
    fn sort(attrs: Vec<Attribute>, errors: &mut Errors) -> Attrs {
        let mut sorted = Attrs::default();
        for attr in attrs {
            let path = attr.path();
            if path
                .segments
                .last()
                .is_some_and(|last| last.ident == "delayed")
            {
                errors.push(syn::Error::new_spanned(
                    attr,
                    "duplicate `#[delayed]` attribute",
                ));
            } else if path.is_ident("cfg") {
                sorted.cfg.push(attr);
            } else if path.is_ident("allow") {
                sorted.lints.push(attr);
            } else if path.is_ident("inline") || path.is_ident("cold") {
                sorted.body.push(attr);
            } else {
                sorted.lazy.push(attr);
            }
        }
        sorted
    }
}

/// The lazy function's generics: the original ones, each type parameter bounded by `Data`
/// (`Clone + Send + Sync + 'static`, spelled out so users see the familiar traits). The
/// bounds join the parameter's `where` predicate when it has one, its inline bounds
/// otherwise, so a parameter's bounds stay in one place.
fn lazy_generics(generics: &Generics) -> Generics {
    let mut generics = generics.clone();
    let Generics {
        params,
        where_clause,
        ..
    } = &mut generics;
    for param in params {
        let GenericParam::Type(param) = param else {
            continue;
        };
        // Spanned at the parameter, where rustc shows "required by this bound".
        let span = param.ident.span();
        let data: [TypeParamBound; 4] = [
            parse_quote_spanned!(span=> ::core::clone::Clone),
            parse_quote_spanned!(span=> ::core::marker::Send),
            parse_quote_spanned!(span=> ::core::marker::Sync),
            parse_quote_spanned!(span=> 'static),
        ];
        let predicate = where_clause
            .iter_mut()
            .flat_map(|clause| &mut clause.predicates)
            .find_map(|predicate| match predicate {
                WherePredicate::Type(predicate)
                    if predicate.lifetimes.is_none()
                        && matches!(peel(&predicate.bounded_ty), Type::Path(path)
                            if path.qself.is_none() && path.path.is_ident(&param.ident)) =>
                {
                    Some(predicate)
                }
                _ => None,
            });
        match predicate {
            Some(predicate) => predicate.bounds.extend(data),
            None => param.bounds.extend(data),
        }
    }
    generics
}

/// `::<T, N>` naming the type and const parameters, so the `eager` call never relies on
/// inference; empty without parameters.
fn turbofish(generics: &Generics) -> TokenStream {
    let args: Vec<&Ident> = generics
        .params
        .iter()
        .filter_map(|param| match param {
            GenericParam::Type(param) => Some(&param.ident),
            GenericParam::Const(param) => Some(&param.ident),
            GenericParam::Lifetime(_) => None,
        })
        .collect();
    if args.is_empty() {
        TokenStream::new()
    } else {
        quote!(::<#(#args),*>)
    }
}

/// Checks that a type owns its data and is nameable, recursing into generic arguments,
/// tuples, arrays and slices (not into function pointers or trait objects, whose elided
/// lifetimes are higher-ranked, not borrows).
fn check_type(ty: &Type, position: Position, errors: &mut Errors) {
    let nested = match position {
        Position::Return => Position::Return,
        Position::Arg | Position::NestedArg => Position::NestedArg,
    };
    match ty {
        Type::Reference(reference) => {
            let is_static = reference
                .lifetime
                .as_ref()
                .is_some_and(|lifetime| lifetime.ident == "static");
            if is_static && reference.mutability.is_none() {
                check_type(&reference.elem, nested, errors);
            } else {
                errors.push(borrow_error(reference, position));
            }
        }
        Type::ImplTrait(impl_trait) => errors.push(syn::Error::new_spanned(
            impl_trait,
            if position == Position::Return {
                "`#[delayed]` functions cannot return `impl Trait`: the result is stored in \
                 the graph, so name a concrete type"
            } else {
                "`#[delayed]` arguments cannot be `impl Trait`: name a concrete type or a \
                 generic parameter"
            },
        )),
        Type::Path(path) => {
            if let Some(qself) = &path.qself {
                check_type(&qself.ty, nested, errors);
            }
            for segment in &path.path.segments {
                if let PathArguments::AngleBracketed(args) = &segment.arguments {
                    for arg in &args.args {
                        match arg {
                            GenericArgument::Type(ty) => check_type(ty, nested, errors),
                            GenericArgument::AssocType(assoc) => {
                                check_type(&assoc.ty, nested, errors)
                            }
                            GenericArgument::Lifetime(lifetime) => check_lifetime(lifetime, errors),
                            _ => {}
                        }
                    }
                }
            }
        }
        Type::Tuple(tuple) => {
            for elem in &tuple.elems {
                check_type(elem, nested, errors);
            }
        }
        Type::Array(array) => check_type(&array.elem, nested, errors),
        Type::Slice(slice) => check_type(&slice.elem, nested, errors),
        Type::Paren(paren) => check_type(&paren.elem, position, errors),
        Type::Group(group) => check_type(&group.elem, position, errors),
        _ => {}
    }
}

/// Lifetimes other than `'static` mean borrowing.
fn check_lifetime(lifetime: &Lifetime, errors: &mut Errors) {
    if lifetime.ident != "static" {
        errors.push(syn::Error::new_spanned(
            lifetime,
            "delayed functions cannot borrow: take owned arguments",
        ));
    }
}

/// The error for a reference, suggesting the owned type to use instead.
fn borrow_error(reference: &TypeReference, position: Position) -> syn::Error {
    let borrowed = show(&Type::Reference(reference.clone()));
    let owned = owned(&reference.elem);
    let message = match (position, reference.mutability.is_some()) {
        (Position::Arg, false) => format!(
            "`#[delayed]` functions take their arguments by value, not by reference: \
             take `{owned}` instead of `{borrowed}`"
        ),
        (Position::Arg, true) => format!(
            "`#[delayed]` functions take their arguments by value and cannot mutate them: \
             take `{owned}` instead of `{borrowed}` and return the new value"
        ),
        (Position::NestedArg, _) => format!(
            "`#[delayed]` arguments must own their data: use `{owned}` instead of `{borrowed}`"
        ),
        (Position::Return, _) => format!(
            "`#[delayed]` functions return owned values: return `{owned}` instead of \
             `{borrowed}`"
        ),
    };
    syn::Error::new_spanned(reference, message)
}

/// The owned counterpart of a borrowed type, as users would write it.
fn owned(elem: &Type) -> String {
    match peel(elem) {
        Type::Slice(slice) => format!("Vec<{}>", show(&slice.elem)),
        Type::TraitObject(_) => format!("Arc<{}>", show(elem)),
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last().map(|last| &last.ident);
            match last {
                Some(last) if last == "str" => "String".to_owned(),
                Some(last) if last == "Path" => "PathBuf".to_owned(),
                Some(last) if last == "OsStr" => "OsString".to_owned(),
                Some(last) if last == "CStr" => "CString".to_owned(),
                _ => show(elem),
            }
        }
        _ => show(elem),
    }
}

/// A type or path as users write it (`Vec<i64>`, not the token printer's `Vec < i64 >`).
pub(crate) fn show(ty: &impl ToTokens) -> String {
    let mut text = ty.to_token_stream().to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" ::", "::"),
        ("< ", "<"),
        (" <", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& ", "&"),
        ("[ ", "["),
        (" ]", "]"),
        ("( ", "("),
        (" )", ")"),
        (" ;", ";"),
    ] {
        text = text.replace(from, to);
    }
    text
}

/// `assert_data::<T>();` spanned at `span`: where a type that is not `Data` is reported.
/// (The type's other uses in the expansion name it the same way, as an explicit generic
/// argument, so rustc reports the error once, at the type.)
fn assert_data(ty: TokenStream, span: Span) -> TokenStream {
    quote_spanned!(span=> ::dagr::__private::assert_data::<#ty>();)
}

/// The spans of the first and last tokens of a type (for a trailing group, its closing
/// delimiter). Generated tokens spanning from one to the other span the whole type, which
/// `Spanned::span` cannot give on stable Rust.
pub(crate) fn first_last_spans(ty: &Type) -> (Span, Span) {
    let first = ty.span();
    let last = ty
        .to_token_stream()
        .into_iter()
        .last()
        .map_or(first, |token| match token {
            TokenTree::Group(group) => group.span_close(),
            other => other.span(),
        });
    (first, last)
}

/// Looks through invisible groups and parentheses.
fn peel(mut ty: &Type) -> &Type {
    loop {
        match ty {
            Type::Group(group) => ty = &group.elem,
            Type::Paren(paren) => ty = &paren.elem,
            _ => return ty,
        }
    }
}

/// The tokens an "expected a function" error points at: the item's keyword and name
/// where it has them, the whole item otherwise.
fn item_head(item: &Item) -> TokenStream {
    match item {
        Item::Struct(item) => {
            let (token, ident) = (&item.struct_token, &item.ident);
            quote!(#token #ident)
        }
        Item::Enum(item) => {
            let (token, ident) = (&item.enum_token, &item.ident);
            quote!(#token #ident)
        }
        Item::Union(item) => {
            let (token, ident) = (&item.union_token, &item.ident);
            quote!(#token #ident)
        }
        Item::Trait(item) => {
            let (token, ident) = (&item.trait_token, &item.ident);
            quote!(#token #ident)
        }
        Item::Type(item) => {
            let (token, ident) = (&item.type_token, &item.ident);
            quote!(#token #ident)
        }
        Item::Const(item) => {
            let (token, ident) = (&item.const_token, &item.ident);
            quote!(#token #ident)
        }
        Item::Static(item) => {
            let (token, ident) = (&item.static_token, &item.ident);
            quote!(#token #ident)
        }
        Item::Mod(item) => {
            let (token, ident) = (&item.mod_token, &item.ident);
            quote!(#token #ident)
        }
        Item::Impl(item) => {
            let (token, ty) = (&item.impl_token, &item.self_ty);
            quote!(#token #ty)
        }
        Item::Use(item) => item.use_token.to_token_stream(),
        Item::Macro(item) => item.mac.path.to_token_stream(),
        other => other.to_token_stream(),
    }
}

#[cfg(test)]
mod tests {
    use super::expand;
    use proc_macro2::TokenStream;
    use quote::quote;

    /// The messages of the errors `#[delayed(args)] input` reports, in order.
    fn errors(args: TokenStream, input: TokenStream) -> Vec<String> {
        let out = expand(args, input).to_string();
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
    fn accepts_a_plain_function() {
        assert!(errors(
            quote!(),
            quote!(
                fn add(x: i64, y: i64) -> i64 {
                    x + y
                }
            )
        )
        .is_empty());
        assert!(errors(
            quote!(pure, name = "load"),
            quote!(
                fn f() {}
            )
        )
        .is_empty());
        assert!(errors(
            quote!(),
            quote!(
                fn f(s: &'static str) {}
            )
        )
        .is_empty());
        assert!(errors(
            quote!(),
            quote!(
                fn f(f: fn(&str) -> usize) {}
            )
        )
        .is_empty());
        assert!(errors(
            quote!(),
            quote!(
                fn f<T: Clone, const N: usize>(x: [T; N]) {}
            )
        )
        .is_empty());
    }

    #[test]
    fn reports_every_error_at_once() {
        let messages = errors(
            quote!(pur, pure, pure, name = load),
            quote!(
                async unsafe fn f<'a>(
                    &self,
                    x: &str,
                    y: &mut Vec<i64>,
                    z: impl Copy,
                    w: Vec<&[u8]>,
                ) -> impl Copy {
                }
            ),
        );
        let expected = [
            "unknown option `pur`",
            "duplicate option `pure`",
            "expected a string literal",
            "`#[delayed]` works on free functions only",
            "cannot be async",
            "cannot be `unsafe`",
            "delayed functions cannot borrow",
            "take `String` instead of `&str`",
            "take `Vec<i64>` instead of `&mut Vec<i64>`",
            "arguments cannot be `impl Trait`",
            "use `Vec<u8>` instead of `&[u8]`",
            "cannot return `impl Trait`",
        ];
        assert_eq!(messages.len(), expected.len(), "{messages:#?}");
        for (message, expected) in messages.iter().zip(expected) {
            assert!(message.contains(expected), "{message:?} lacks {expected:?}");
        }
    }

    #[test]
    fn keeps_the_original_item_on_error() {
        let out = expand(
            quote!(nope),
            quote!(
                fn f(x: i64) -> i64 {
                    x
                }
            ),
        )
        .to_string();
        assert!(out.contains("fn f (x : i64) -> i64 { x }"), "{out}");
        assert!(!out.contains("__dagr"), "{out}");
    }

    #[test]
    fn rejects_other_items() {
        let messages = errors(
            quote!(),
            quote!(
                struct S;
            ),
        );
        assert_eq!(messages.len(), 1);
        assert!(messages[0].starts_with("expected a function"));
    }

    #[test]
    fn names_plain_parameters_after_the_user() {
        let out = expand(
            quote!(),
            quote!(
                pub fn f(mut x: i64, (a, b): (i64, i64), _: u8) {}
            ),
        )
        .to_string();
        assert!(out.contains("x : impl __dagr_f_arg0 < >"), "{out}");
        assert!(
            out.contains("pub trait __dagr_f_arg0 < > : :: dagr :: __private :: IntoArg < i64 >"),
            "{out}"
        );
        assert!(
            out.contains("`{Self}` cannot be the argument `x` of `f`, a `i64` parameter"),
            "{out}"
        );
        assert!(
            out.contains("`{Self}` cannot be argument 2 of `f`"),
            "{out}"
        );
        assert!(out.contains("__dagr_p1 : impl"), "{out}");
        assert!(out.contains("__dagr_p2 : impl"), "{out}");
        assert!(
            out.contains("fn eager (mut x : i64 , (a , b) : (i64 , i64) , _ : u8)"),
            "{out}"
        );
    }
}
