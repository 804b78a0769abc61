//! The options of `#[delayed(...)]`: `pure` and `name = "..."`.

use crate::errors::Errors;
use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitStr, Meta, Path, Token};

/// The accepted forms, quoted by every option error.
const ACCEPTED: &str = "expected `#[delayed]`, `#[delayed(pure)]` or `#[delayed(name = \"...\")]`";

/// The parsed options; each keeps the syn node it came from, for spans.
#[derive(Default)]
pub(crate) struct Options {
    /// `pure`: identical calls share one key (arguments are hashed).
    pub(crate) pure: Option<Path>,
    /// `name = "prefix"`: the key prefix; the function's name when absent.
    pub(crate) name: Option<LitStr>,
}

impl Options {
    /// Parses the attribute's arguments, recording every problem in `errors`.
    ///
    /// Options that fail to parse are left unset, so expansion can go on and
    /// report the function's own errors too.
    pub(crate) fn parse(args: TokenStream, errors: &mut Errors) -> Options {
        let mut options = Options::default();
        let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
            Ok(metas) => metas,
            Err(err) => {
                errors.push(syn::Error::new(err.span(), format!("{err}; {ACCEPTED}")));
                return options;
            }
        };
        for meta in metas {
            options.apply(meta, errors);
        }
        options
    }

    fn apply(&mut self, meta: Meta, errors: &mut Errors) {
        let path = meta.path();
        if path.is_ident("pure") {
            match meta {
                Meta::Path(path) => {
                    if self.pure.is_some() {
                        errors.push(syn::Error::new_spanned(path, "duplicate option `pure`"));
                    } else {
                        self.pure = Some(path);
                    }
                }
                Meta::List(list) => errors.push(syn::Error::new_spanned(
                    list,
                    "`pure` takes no value: write `#[delayed(pure)]`",
                )),
                Meta::NameValue(nv) => errors.push(syn::Error::new_spanned(
                    nv,
                    "`pure` takes no value: write `#[delayed(pure)]`",
                )),
            }
        } else if path.is_ident("name") {
            match meta {
                Meta::NameValue(nv) => match nv.value {
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(lit), ..
                    }) => {
                        if self.name.is_some() {
                            errors
                                .push(syn::Error::new_spanned(nv.path, "duplicate option `name`"));
                        } else if lit.value().is_empty() {
                            errors.push(syn::Error::new_spanned(
                                lit,
                                "the key prefix cannot be empty: \
                                 `#[delayed(name = \"...\")]` takes a non-empty string",
                            ));
                        } else {
                            self.name = Some(lit);
                        }
                    }
                    value => errors.push(syn::Error::new_spanned(
                        value,
                        "expected a string literal: `#[delayed(name = \"...\")]`",
                    )),
                },
                Meta::Path(path) => errors.push(syn::Error::new_spanned(
                    path,
                    "`name` needs a value: `#[delayed(name = \"...\")]`",
                )),
                Meta::List(list) => errors.push(syn::Error::new_spanned(
                    list,
                    "`name` is set with `=`: `#[delayed(name = \"...\")]`",
                )),
            }
        } else {
            let shown = match path.get_ident() {
                Some(ident) => format!("unknown option `{ident}`: {ACCEPTED}"),
                None => format!("unknown option: {ACCEPTED}"),
            };
            errors.push(syn::Error::new_spanned(path, shown));
        }
    }
}
