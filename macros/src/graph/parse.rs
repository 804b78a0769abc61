//! The syntax of a `graph!` block, parsed into a typed IR that keeps every token for spans.
//!
//! A block is a list of statements, each ended by `;` (the last one may omit it):
//!
//! ```text
//! input x: i64;              // an input of the pipeline, with its type
//! a = inc(x);                // a node: a #[delayed] function over names and literals
//! n = plain count(a, [x, a]);// a node calling a plain function; [..] collects into a Vec
//! output a;                  // the output: one name, or a tuple `output (a, n);`
//! ```
//!
//! The block is split at its top-level `;` first and each statement is parsed on its own,
//! so one malformed statement does not hide the errors of the others.

use crate::errors::Errors;
use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprPath, Ident, Lit, Token, Type, UnOp};

/// The accepted statements, quoted by every syntax error.
pub(crate) const ACCEPTED: &str = "expected one of the statements of `graph!`: \
     `input name: Type;`, `name = function(arg, ...);`, `name = plain function(arg, ...);`, \
     `output name;` or `output (name, ...);`";

/// The accepted arguments, quoted by argument errors.
const ACCEPTED_ARG: &str = "expected an argument: a name defined in the graph (`a`), \
     a literal (`10`, `\"text\"`), a constant's path (`i64::MAX`) or a list of them \
     (`[a, b]`)";

/// A parsed `graph!` block.
pub(crate) struct Block {
    /// The statements that parsed, in source order.
    pub(crate) stmts: Vec<Stmt>,
    /// Names whose statement did not parse: defined, but not usable for checks.
    pub(crate) broken: Vec<Ident>,
    /// Whether some statement did not parse.
    pub(crate) has_syntax_errors: bool,
    /// Whether an `output` statement did not parse (so the output is not missing).
    pub(crate) broken_output: bool,
    /// The type of each input statement, `None` for one that did not parse: the
    /// pipeline's input types, even when the block has errors.
    pub(crate) input_types: Vec<Option<Type>>,
    /// The span of the block's last token (the call site for an empty block): where a
    /// missing `output` is reported.
    pub(crate) end: Span,
}

/// One statement.
pub(crate) enum Stmt {
    /// `input name: Type`.
    Input(Input),
    /// `name = [plain] function(args)`.
    Node(NodeDef),
    /// `output name` or `output (a, b)`.
    Output(Output),
}

/// `input name: Type`.
pub(crate) struct Input {
    /// The input's name.
    pub(crate) name: Ident,
    /// Its type.
    pub(crate) ty: Type,
}

/// `name = [plain] function(args)`.
pub(crate) struct NodeDef {
    /// The node's name.
    pub(crate) name: Ident,
    /// The `plain` marker: the function is not `#[delayed]` and is called as it is.
    pub(crate) plain: Option<Ident>,
    /// The function (a path, possibly with a turbofish).
    pub(crate) func: ExprPath,
    /// The span of the parentheses around the arguments.
    pub(crate) paren: Span,
    /// The arguments.
    pub(crate) args: Vec<Arg>,
}

/// One argument of a node.
pub(crate) enum Arg {
    /// A name defined in the graph.
    Name(Ident),
    /// A literal or a path with `::`, passed as it is (`10`, `-1`, `"text"`, `i64::MAX`).
    Const(Expr),
    /// `[a, 1, b]`: the values collected into the parameter's type (`From<[T; N]>`).
    List {
        /// The span of the brackets.
        bracket: Span,
        /// The elements: names and literals.
        items: Vec<Arg>,
    },
}

/// `output name` or `output (a, b)`.
pub(crate) struct Output {
    /// The `output` keyword.
    pub(crate) keyword: Ident,
    /// The names, in order.
    pub(crate) names: Vec<Ident>,
    /// Whether they are a parenthesised tuple (`output (a,)` gives a 1-tuple).
    pub(crate) tuple: bool,
}

impl NodeDef {
    /// Every name the arguments use, in source order (list elements included).
    pub(crate) fn arg_names(&self) -> impl Iterator<Item = &Ident> {
        self.args.iter().flat_map(|arg| match arg {
            Arg::Name(name) => std::slice::from_ref(name).iter().collect::<Vec<_>>(),
            Arg::Const(_) => Vec::new(),
            Arg::List { items, .. } => items
                .iter()
                .filter_map(|item| match item {
                    Arg::Name(name) => Some(name),
                    _ => None,
                })
                .collect(),
        })
    }
}

/// Parses a block, recording every syntax error.
pub(crate) fn parse(input: TokenStream, errors: &mut Errors) -> Block {
    let mut block = Block {
        stmts: Vec::new(),
        broken: Vec::new(),
        has_syntax_errors: false,
        broken_output: false,
        input_types: Vec::new(),
        end: Span::call_site(),
    };
    for stmt in split(input, &mut block.end) {
        match parse_stmt.parse2(stmt.clone()) {
            Ok(parsed) => {
                if let Stmt::Input(input) = &parsed {
                    block.input_types.push(Some(input.ty.clone()));
                }
                block.stmts.push(parsed);
            }
            Err(err) => {
                block.has_syntax_errors = true;
                errors.push(err);
                match defined_name(stmt) {
                    Broken::Defines(name) => block.broken.push(name),
                    Broken::Input(name) => {
                        block.broken.push(name);
                        block.input_types.push(None);
                    }
                    Broken::Output => block.broken_output = true,
                    Broken::Unknown => {}
                }
            }
        }
    }
    block
}

/// Splits a block after each top-level `;`, dropping empty statements; `end` becomes the
/// span of the last token. Each statement keeps its `;`, where an incomplete statement's
/// error points.
fn split(input: TokenStream, end: &mut Span) -> Vec<TokenStream> {
    let mut stmts = Vec::new();
    let mut current = Vec::new();
    for token in input {
        *end = token.span();
        let is_end = matches!(&token, TokenTree::Punct(punct) if punct.as_char() == ';');
        if is_end && current.is_empty() {
            continue;
        }
        current.push(token);
        if is_end {
            stmts.push(current.drain(..).collect());
        }
    }
    if !current.is_empty() {
        stmts.push(current.into_iter().collect());
    }
    stmts
}

/// What a statement that did not parse meant, as far as it is clear.
enum Broken {
    /// `name = ...`: it defines the node `name`.
    Defines(Ident),
    /// `input name ...`: it declares the input `name`.
    Input(Ident),
    /// `output ...`.
    Output,
    /// Anything else.
    Unknown,
}

/// What a statement that did not parse meant to do.
fn defined_name(stmt: TokenStream) -> Broken {
    let mut tokens = stmt.into_iter();
    let first = tokens.next();
    let second = tokens.next();
    match (first, second) {
        (Some(TokenTree::Ident(name)), Some(TokenTree::Punct(eq))) if eq.as_char() == '=' => {
            Broken::Defines(name)
        }
        (Some(TokenTree::Ident(keyword)), Some(TokenTree::Ident(name))) if keyword == "input" => {
            Broken::Input(name)
        }
        (Some(TokenTree::Ident(keyword)), _) if keyword == "output" => Broken::Output,
        _ => Broken::Unknown,
    }
}

/// One statement and its `;` (the last statement may omit it).
fn parse_stmt(input: ParseStream<'_>) -> syn::Result<Stmt> {
    let stmt = if input.peek(Ident::peek_any) && input.peek2(Token![=]) {
        Stmt::Node(parse_node(input)?)
    } else if input.peek(Ident) && input.fork().parse::<Ident>()? == "input" {
        Stmt::Input(parse_input(input)?)
    } else if input.peek(Ident) && input.fork().parse::<Ident>()? == "output" {
        Stmt::Output(parse_output(input)?)
    } else {
        return Err(input.error(ACCEPTED));
    };
    if input.peek(Token![;]) {
        input.parse::<Token![;]>()?;
    }
    if !input.is_empty() {
        return Err(input.error("expected `;` after the statement"));
    }
    Ok(stmt)
}

/// `input name: Type`.
fn parse_input(input: ParseStream<'_>) -> syn::Result<Input> {
    let _keyword: Ident = input.parse()?;
    let name = input.call(Ident::parse_any).map_err(|err| {
        syn::Error::new(err.span(), format!("expected the input's name: {ACCEPTED}"))
    })?;
    if !input.peek(Token![:]) {
        return Err(input.error(format!(
            "expected `:` and the input's type: `input {}: Type;`",
            name.unraw()
        )));
    }
    input.parse::<Token![:]>()?;
    let ty: Type = input.parse()?;
    Ok(Input { name, ty })
}

/// `output name` or `output (a, b)`.
fn parse_output(input: ParseStream<'_>) -> syn::Result<Output> {
    let keyword: Ident = input.parse()?;
    let accepted = "expected the output: `output name;` or `output (name, ...);`";
    if input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in input);
        let names =
            Punctuated::<Ident, Token![,]>::parse_terminated_with(&content, Ident::parse_any)
                .map_err(|err| syn::Error::new(err.span(), accepted))?;
        if names.is_empty() {
            return Err(syn::Error::new(
                keyword.span(),
                "`output ()` lists no output: name at least one, `output (a, b);`",
            ));
        }
        let tuple = names.len() > 1 || names.trailing_punct();
        Ok(Output {
            keyword,
            names: names.into_iter().collect(),
            tuple,
        })
    } else {
        let name = input
            .call(Ident::parse_any)
            .map_err(|err| syn::Error::new(err.span(), accepted))?;
        if input.peek(Token![,]) {
            return Err(input.error(format!(
                "several outputs go in parentheses: `output ({}, ...);`",
                name.unraw()
            )));
        }
        Ok(Output {
            keyword,
            names: vec![name],
            tuple: false,
        })
    }
}

/// `name = [plain] function(args)`.
fn parse_node(input: ParseStream<'_>) -> syn::Result<NodeDef> {
    let name = input.call(Ident::parse_any)?;
    input.parse::<Token![=]>()?;
    // `plain` is a marker when a path follows it; `plain(..)` and `plain::f(..)` are calls.
    let plain = if input.peek(Ident) && (input.peek2(Ident::peek_any) || input.peek2(Token![<])) {
        let fork = input.fork();
        match fork.parse::<Ident>() {
            Ok(ident) if ident == "plain" => Some(input.parse::<Ident>()?),
            _ => None,
        }
    } else {
        None
    };
    let func: ExprPath = if input.peek(Ident::peek_any)
        || input.peek(Token![::])
        || input.peek(Token![<])
        || input.peek(Token![self])
        || input.peek(Token![Self])
        || input.peek(Token![super])
        || input.peek(Token![crate])
    {
        input.parse()?
    } else {
        return Err(input.error(format!(
            "expected a function call: `{} = function(arg, ...);`",
            name.unraw()
        )));
    };
    if !input.peek(syn::token::Paren) {
        return Err(input.error(format!(
            "expected the arguments in parentheses: `{} = {}(arg, ...);` (a node calls a \
             function)",
            name.unraw(),
            crate::delayed::show(&func)
        )));
    }
    let content;
    let paren = syn::parenthesized!(content in input);
    let exprs = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
    let args = exprs
        .into_iter()
        .map(|expr| parse_arg(expr, true))
        .collect::<syn::Result<Vec<_>>>()?;
    Ok(NodeDef {
        name,
        plain,
        func,
        paren: paren.span.join(),
        args,
    })
}

/// Classifies one argument expression.
fn parse_arg(expr: Expr, list_allowed: bool) -> syn::Result<Arg> {
    match expr {
        // A single identifier names a node; a longer path is a constant (`i64::MAX`).
        Expr::Path(ref path) if path.attrs.is_empty() => match path.path.get_ident() {
            Some(ident) if path.qself.is_none() => Ok(Arg::Name(ident.clone())),
            _ => Ok(Arg::Const(expr)),
        },
        Expr::Lit(_) => Ok(Arg::Const(expr)),
        Expr::Unary(ref unary)
            if matches!(unary.op, UnOp::Neg(_))
                && matches!(&*unary.expr, Expr::Lit(lit)
                    if matches!(lit.lit, Lit::Int(_) | Lit::Float(_))) =>
        {
            Ok(Arg::Const(expr))
        }
        Expr::Array(array) if list_allowed => {
            let bracket = array.bracket_token.span.join();
            let items = array
                .elems
                .into_iter()
                .map(|item| parse_arg(item, false))
                .collect::<syn::Result<Vec<_>>>()?;
            Ok(Arg::List { bracket, items })
        }
        Expr::Array(array) => Err(syn::Error::new(
            array.bracket_token.span.join(),
            "lists cannot nest: the elements of `[..]` are names and literals",
        )),
        // A group from a `macro_rules!` expansion: look inside.
        Expr::Group(group) => parse_arg(*group.expr, list_allowed),
        other => Err(syn::Error::new_spanned(
            other,
            format!("{ACCEPTED_ARG}; compute other values in a node of their own"),
        )),
    }
}
