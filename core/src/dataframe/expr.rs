//! Column expressions: `col("x") * 2.0 + col("y")`, `col("city").eq("Paris")`,
//! `col("age").between(20, 30)`.
//!
//! An expression is checked against the dataframe's column types when it is used (so a
//! mistake is reported before any data is read) and evaluated a partition at a time. Errors
//! show the expression as it was written.

use super::table::{Column, DType, Table};
use super::Schema;
use crate::Error;
use std::fmt;
use std::ops::{Add, BitAnd, BitOr, Div, Mul, Not, Sub};

/// A constant: in an expression, a value of [`crate::dataframe::DataFrame::fillna`], an
/// element of [`Expr::isin`]. Made from Rust values with `into()`: `2.5`, `20`, `true`,
/// `"Paris"`.
///
/// ```
/// use dagr::dataframe::Scalar;
/// assert_eq!(Scalar::from(20), Scalar::I64(20));
/// assert_eq!(Scalar::from("Paris"), Scalar::Str("Paris".into()));
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Scalar {
    /// A boolean.
    Bool(bool),
    /// An integer.
    I64(i64),
    /// A float.
    F64(f64),
    /// A string.
    Str(String),
}

impl Scalar {
    /// The type of a column holding this value.
    pub fn dtype(&self) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::I64(_) => DType::I64,
            Scalar::F64(_) => DType::F64,
            Scalar::Str(_) => DType::Str,
        }
    }

    /// A column of `n` copies.
    pub(crate) fn repeat(&self, n: usize) -> Column {
        match self {
            Scalar::Bool(b) => Column::Bool(vec![*b; n]),
            Scalar::I64(x) => Column::I64(vec![*x; n]),
            Scalar::F64(x) => Column::F64(vec![*x; n]),
            Scalar::Str(s) => Column::Str(vec![Some(s.clone()); n]),
        }
    }

    /// The value as a number (booleans as 0 and 1).
    fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::Bool(b) => Some(f64::from(u8::from(*b))),
            Scalar::I64(x) => Some(*x as f64),
            Scalar::F64(x) => Some(*x),
            Scalar::Str(_) => None,
        }
    }
}

impl fmt::Display for Scalar {
    /// As it is written in Rust: `2.0`, `20`, `true`, `"Paris"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::I64(x) => write!(f, "{x}"),
            Scalar::F64(x) => write!(f, "{x:?}"),
            Scalar::Str(s) => write!(f, "{s:?}"),
        }
    }
}

macro_rules! scalar_from {
    ($($t:ty => $v:ident via $conv:expr),* $(,)?) => {$(
        impl From<$t> for Scalar {
            fn from(x: $t) -> Scalar {
                #[allow(clippy::redundant_closure_call)]
                Scalar::$v(($conv)(x))
            }
        }
        impl From<$t> for Expr {
            fn from(x: $t) -> Expr {
                Expr(Node::Lit(Scalar::from(x)))
            }
        }
    )*};
}
scalar_from!(
    bool => Bool via |x| x,
    i32 => I64 via i64::from,
    i64 => I64 via |x| x,
    u32 => I64 via i64::from,
    f32 => F64 via f64::from,
    f64 => F64 via |x| x,
    &str => Str via str::to_owned,
    String => Str via |x| x,
    &String => Str via String::clone,
);

impl From<Scalar> for Expr {
    fn from(x: Scalar) -> Expr {
        Expr(Node::Lit(x))
    }
}

/// An expression over the columns of a row, evaluated a partition at a time (Dask: an
/// expression on the dataframe's columns, `df.x * 2 > df.y`).
///
/// | dagr | pandas / Dask | type |
/// |---|---|---|
/// | `col("x")` | `df.x` | the column's |
/// | `lit(2.5)`, `2.5`, `20`, `true`, `"Paris"` (as an operand) | a constant | its own |
/// | `a + b`, `a - b`, `a * b` | `a + b`, … | int64 for two ints (wrapping as NumPy), else float64 |
/// | `a / b` | `a / b` | float64 |
/// | `a + b`, `a * b` of two booleans | the same | bool: `a \| b`, `a & b` (NumPy's, as pandas) |
/// | `a.gt(b)`, `ge`, `lt`, `le`, `eq`, `ne` | `a > b`, `>=`, `<`, `<=`, `==`, `!=` | bool |
/// | `a.between(lo, hi)` | `a.between(lo, hi)` (both ends included) | bool |
/// | `a.and(b)` or `a & b`, `a.or(b)` or `a \| b`, `a.not()` or `!a` | `a & b`, `a \| b`, `~a` | bool |
/// | `a.isna()`, `a.notna()` | `a.isna()`, `a.notna()` | bool |
/// | `a.isin(["x", "y"])` | `a.isin(["x", "y"])` | bool |
///
/// Arithmetic takes numbers (int64, float64) and booleans, as pandas: a boolean with a number
/// counts as 0 or 1 (`col("flag") + 1` is int64), two booleans add as `|` and multiply as
/// `&`, and their `-` and `/` are errors (pandas raises). Comparisons take two numbers (booleans count
/// as 0 and 1), two strings (compared by bytes) or two booleans. Missing values follow
/// pandas: NaN and a missing string are unequal to everything (`ne` holds, every other
/// comparison fails), `isna` finds them, `isin` matches NaN only when the list has NaN.
/// A mistake (an unknown column, a string compared with a number, a filter that is not a
/// boolean) is reported before anything is read, showing the expression as written.
///
/// ```
/// use dagr::{bag as db, dataframe::{col, lit}};
/// let df = db::from_sequence(vec![("Paris", 31_i64, 1.5), ("Lyon", 20, f64::NAN), ("Nice", 45, 0.5)], 2)?
///     .to_dataframe(&["city", "age", "x"])?;
/// assert_eq!(df.filter(col("city").eq("Paris")).len()?, 1);
/// assert_eq!(df.filter(col("city").ne("Paris").and(col("age").between(20, 40))).len()?, 1);
/// assert_eq!(df.filter(!col("city").isin(["Paris", "Nice"])).len()?, 1);
/// assert_eq!(df.filter(col("x").isna() | col("x").gt(lit(1.0))).len()?, 2);
/// let t = df.with_column("next", col("age") + 1).compute()?;
/// assert_eq!(t.column("next")?.f64(0), Some(32.0));
/// assert_eq!(df.with_column("next", col("age") + 1).dtypes()[3].1.to_string(), "int64");
/// let err = df.filter(col("city").gt(2)).len().unwrap_err();
/// assert_eq!(err.to_string(), r#"comparison: cannot compare `col("city")` (string) with `2` (int64)"#);
/// # Ok::<(), dagr::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Expr(Node);

#[derive(Clone, Debug)]
enum Node {
    Col(String),
    Lit(Scalar),
    Arith(Op, Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    Between(Box<Expr>, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// `isna` (`false`) or `notna` (`true`).
    IsNa(Box<Expr>, bool),
    IsIn(Box<Expr>, Vec<Scalar>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CmpOp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl CmpOp {
    fn method(self) -> &'static str {
        match self {
            CmpOp::Gt => "gt",
            CmpOp::Ge => "ge",
            CmpOp::Lt => "lt",
            CmpOp::Le => "le",
            CmpOp::Eq => "eq",
            CmpOp::Ne => "ne",
        }
    }

    /// The result of comparing two values in this order.
    fn holds(self, o: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            CmpOp::Gt => o == Greater,
            CmpOp::Ge => o != Less,
            CmpOp::Lt => o == Less,
            CmpOp::Le => o != Greater,
            CmpOp::Eq => o == Equal,
            CmpOp::Ne => o != Equal,
        }
    }

    /// The result when either side is missing (NaN or a missing string), as in pandas.
    fn with_missing(self) -> bool {
        self == CmpOp::Ne
    }
}

/// The column called `name` (pandas: `df[name]`).
pub fn col(name: &str) -> Expr {
    Expr(Node::Col(name.to_owned()))
}

/// A constant: `lit(2.5)`, `lit(20)`, `lit("Paris")` (an operand of a method takes the
/// value itself too: `col("x").gt(20)`).
pub fn lit(x: impl Into<Scalar>) -> Expr {
    Expr(Node::Lit(x.into()))
}

macro_rules! arith {
    ($tr:ident, $m:ident, $op:ident) => {
        impl<R: Into<Expr>> $tr<R> for Expr {
            type Output = Expr;
            fn $m(self, rhs: R) -> Expr {
                Expr(Node::Arith(Op::$op, Box::new(self), Box::new(rhs.into())))
            }
        }
    };
}
arith!(Add, add, Add);
arith!(Sub, sub, Sub);
arith!(Mul, mul, Mul);
arith!(Div, div, Div);

impl BitAnd for Expr {
    type Output = Expr;
    /// [`Expr::and`] (pandas: `a & b`).
    fn bitand(self, rhs: Expr) -> Expr {
        self.and(rhs)
    }
}

impl BitOr for Expr {
    type Output = Expr;
    /// [`Expr::or`] (pandas: `a | b`).
    fn bitor(self, rhs: Expr) -> Expr {
        self.or(rhs)
    }
}

impl Not for Expr {
    type Output = Expr;
    /// Negation of a boolean expression (pandas: `~a`).
    fn not(self) -> Expr {
        Expr(Node::Not(Box::new(self)))
    }
}

impl Expr {
    fn cmp(self, op: CmpOp, rhs: impl Into<Expr>) -> Expr {
        Expr(Node::Cmp(op, Box::new(self), Box::new(rhs.into())))
    }
    /// `self > rhs`
    pub fn gt(self, rhs: impl Into<Expr>) -> Expr {
        self.cmp(CmpOp::Gt, rhs)
    }
    /// `self >= rhs`
    pub fn ge(self, rhs: impl Into<Expr>) -> Expr {
        self.cmp(CmpOp::Ge, rhs)
    }
    /// `self < rhs`
    pub fn lt(self, rhs: impl Into<Expr>) -> Expr {
        self.cmp(CmpOp::Lt, rhs)
    }
    /// `self <= rhs`
    pub fn le(self, rhs: impl Into<Expr>) -> Expr {
        self.cmp(CmpOp::Le, rhs)
    }
    /// `self == rhs` (false where either side is missing).
    pub fn eq(self, rhs: impl Into<Expr>) -> Expr {
        self.cmp(CmpOp::Eq, rhs)
    }
    /// `self != rhs` (true where either side is missing, as in pandas).
    pub fn ne(self, rhs: impl Into<Expr>) -> Expr {
        self.cmp(CmpOp::Ne, rhs)
    }
    /// `lo <= self <= hi` (pandas: `between(lo, hi)`, both ends included).
    pub fn between(self, lo: impl Into<Expr>, hi: impl Into<Expr>) -> Expr {
        Expr(Node::Between(
            Box::new(self),
            Box::new(lo.into()),
            Box::new(hi.into()),
        ))
    }
    /// Both hold (pandas: `a & b`).
    pub fn and(self, rhs: Expr) -> Expr {
        Expr(Node::And(Box::new(self), Box::new(rhs)))
    }
    /// Either holds (pandas: `a | b`).
    pub fn or(self, rhs: Expr) -> Expr {
        Expr(Node::Or(Box::new(self), Box::new(rhs)))
    }
    /// Does not hold (pandas: `~a`); also written `!a`.
    #[allow(clippy::should_implement_trait)] // it is implemented too; this reads as pandas
    pub fn not(self) -> Expr {
        Not::not(self)
    }
    /// Whether the value is missing: NaN or a missing string (pandas: `isna`).
    pub fn isna(self) -> Expr {
        Expr(Node::IsNa(Box::new(self), false))
    }
    /// Whether the value is present (pandas: `notna`).
    pub fn notna(self) -> Expr {
        Expr(Node::IsNa(Box::new(self), true))
    }
    /// Whether the value is one of `values` (pandas: `isin`): numbers match numbers of
    /// equal value whatever their type, strings match strings, NaN matches NaN.
    pub fn isin<T: Into<Scalar>>(self, values: impl IntoIterator<Item = T>) -> Expr {
        Expr(Node::IsIn(
            Box::new(self),
            values.into_iter().map(Into::into).collect(),
        ))
    }

    /// Checks names and types against a schema; returns the result type. A predicate
    /// (`want_bool`) must be boolean.
    pub(crate) fn check(
        &self,
        schema: &Schema,
        want_bool: Option<&'static str>,
    ) -> Result<DType, Error> {
        let t = self.dtype(schema)?;
        match want_bool {
            Some(what) if t != DType::Bool => Err(self.type_error(t, what, "a boolean expression")),
            _ => Ok(t),
        }
    }

    /// An error saying that this expression (of type `dtype`) does not fit `what`.
    fn type_error(&self, dtype: DType, what: &'static str, expected: &'static str) -> Error {
        match &self.0 {
            Node::Col(name) => Error::ColumnType {
                column: name.clone(),
                dtype,
                what,
                expected,
            },
            _ => Error::ExprType {
                expr: self.to_string(),
                dtype,
                what,
                expected,
            },
        }
    }

    fn dtype(&self, schema: &Schema) -> Result<DType, Error> {
        let numeric = |e: &Expr, what| -> Result<DType, Error> {
            let t = e.dtype(schema)?;
            if t.is_numeric() || t == DType::Bool {
                Ok(t)
            } else {
                Err(e.type_error(t, what, "a number"))
            }
        };
        let boolean = |e: &Expr, what| -> Result<(), Error> {
            match e.dtype(schema)? {
                DType::Bool => Ok(()),
                t => Err(e.type_error(t, what, "a boolean expression")),
            }
        };
        let comparable = |a: &Expr, b: &Expr| -> Result<(), Error> {
            let (ta, tb) = (a.dtype(schema)?, b.dtype(schema)?);
            if (ta == DType::Str) == (tb == DType::Str) {
                Ok(())
            } else {
                Err(Error::InvalidArgument {
                    what: "comparison",
                    message: format!("cannot compare `{a}` ({ta}) with `{b}` ({tb})"),
                })
            }
        };
        Ok(match &self.0 {
            Node::Col(n) => schema.dtypes[super::table::position(&schema.names, n)?],
            Node::Lit(x) => x.dtype(),
            Node::Arith(op, a, b) => {
                let what = "arithmetic";
                match (numeric(a, what)?, numeric(b, what)?, op) {
                    (DType::Bool, DType::Bool, Op::Add | Op::Mul) => DType::Bool,
                    (DType::Bool, DType::Bool, _) => {
                        return Err(Error::InvalidArgument {
                            what: "arithmetic",
                            message: format!(
                                "`{self}`: booleans cannot be {} (pandas raises); \
                                 `^` of two masks is `a.ne(b)`",
                                if *op == Op::Sub {
                                    "subtracted"
                                } else {
                                    "divided"
                                }
                            ),
                        })
                    }
                    (
                        DType::I64 | DType::Bool,
                        DType::I64 | DType::Bool,
                        Op::Add | Op::Sub | Op::Mul,
                    ) => DType::I64,
                    _ => DType::F64,
                }
            }
            Node::Cmp(_, a, b) => {
                comparable(a, b)?;
                DType::Bool
            }
            Node::Between(x, lo, hi) => {
                comparable(x, lo)?;
                comparable(x, hi)?;
                DType::Bool
            }
            Node::And(a, b) | Node::Or(a, b) => {
                let what = if matches!(self.0, Node::And(..)) {
                    "and"
                } else {
                    "or"
                };
                boolean(a, what)?;
                boolean(b, what)?;
                DType::Bool
            }
            Node::Not(a) => {
                boolean(a, "not")?;
                DType::Bool
            }
            Node::IsNa(a, _) | Node::IsIn(a, _) => {
                a.dtype(schema)?;
                DType::Bool
            }
        })
    }

    /// Evaluates over a table.
    pub(crate) fn eval(&self, t: &Table) -> Result<Column, Error> {
        Ok(match &self.0 {
            Node::Col(n) => t.column(n)?.clone(),
            Node::Lit(x) => x.repeat(t.len()),
            Node::Arith(op, a, b) => arith(*op, a.eval(t)?, b.eval(t)?, a, b)?,
            Node::Cmp(op, a, b) => Column::Bool(compare(*op, &a.eval(t)?, &b.eval(t)?, a, b)?),
            Node::Between(x, lo, hi) => {
                let v = x.eval(t)?;
                let ge = compare(CmpOp::Ge, &v, &lo.eval(t)?, x, lo)?;
                let le = compare(CmpOp::Le, &v, &hi.eval(t)?, x, hi)?;
                Column::Bool(ge.iter().zip(&le).map(|(&a, &b)| a && b).collect())
            }
            Node::And(a, b) => {
                Column::Bool(zip_masks(a.eval_mask(t)?, b.eval_mask(t)?, |x, y| x && y))
            }
            Node::Or(a, b) => {
                Column::Bool(zip_masks(a.eval_mask(t)?, b.eval_mask(t)?, |x, y| x || y))
            }
            Node::Not(a) => Column::Bool(a.eval_mask(t)?.into_iter().map(|x| !x).collect()),
            Node::IsNa(a, negate) => {
                let c = a.eval(t)?;
                Column::Bool((0..c.len()).map(|i| c.is_null(i) != *negate).collect())
            }
            Node::IsIn(a, values) => Column::Bool(isin(&a.eval(t)?, values)),
        })
    }

    /// Evaluates a boolean expression.
    pub(crate) fn eval_mask(&self, t: &Table) -> Result<Vec<bool>, Error> {
        match self.eval(t)? {
            Column::Bool(v) => Ok(v),
            c => Err(self.type_error(c.dtype(), "filter", "a boolean expression")),
        }
    }
}

fn zip_masks(a: Vec<bool>, b: Vec<bool>, f: impl Fn(bool, bool) -> bool) -> Vec<bool> {
    a.into_iter().zip(b).map(|(x, y)| f(x, y)).collect()
}

fn arith(op: Op, a: Column, b: Column, ea: &Expr, eb: &Expr) -> Result<Column, Error> {
    if let (Column::Bool(x), Column::Bool(y), Op::Add | Op::Mul) = (&a, &b, op) {
        // NumPy's boolean add and multiply: or, and
        let f = if op == Op::Add {
            |x: bool, y: bool| x || y
        } else {
            |x: bool, y: bool| x && y
        };
        return Ok(Column::Bool(
            x.iter().zip(y).map(|(&x, &y)| f(x, y)).collect(),
        ));
    }
    // a boolean with an integer counts as 0 or 1
    let as_int = |c: Column, other: &Column| match (c, other) {
        (Column::Bool(v), Column::I64(_) | Column::Bool(_)) => {
            Column::I64(v.into_iter().map(i64::from).collect())
        }
        (c, _) => c,
    };
    let a = as_int(a, &b);
    let b = as_int(b, &a);
    if let (Column::I64(x), Column::I64(y), Op::Add | Op::Sub | Op::Mul) = (&a, &b, op) {
        let f = match op {
            Op::Add => i64::wrapping_add,
            Op::Sub => i64::wrapping_sub,
            _ => i64::wrapping_mul,
        };
        return Ok(Column::I64(
            x.iter().zip(y).map(|(&x, &y)| f(x, y)).collect(),
        ));
    }
    let number = |c: Column, e: &Expr| {
        numbers(&c).ok_or_else(|| e.type_error(c.dtype(), "arithmetic", "a number"))
    };
    let (x, y) = (number(a, ea)?, number(b, eb)?);
    let f = match op {
        Op::Add => |x: f64, y: f64| x + y,
        Op::Sub => |x, y| x - y,
        Op::Mul => |x, y| x * y,
        Op::Div => |x, y| x / y,
    };
    Ok(Column::F64(
        x.iter().zip(&y).map(|(&x, &y)| f(x, y)).collect(),
    ))
}

/// A number column's values as floats, booleans as 0 and 1.
fn numbers(c: &Column) -> Option<Vec<f64>> {
    match c {
        Column::Bool(v) => Some(v.iter().map(|&b| f64::from(u8::from(b))).collect()),
        c => c.to_f64(),
    }
}

fn compare(op: CmpOp, a: &Column, b: &Column, ea: &Expr, eb: &Expr) -> Result<Vec<bool>, Error> {
    Ok(match (a, b) {
        (Column::I64(x), Column::I64(y)) => {
            x.iter().zip(y).map(|(x, y)| op.holds(x.cmp(y))).collect()
        }
        (Column::Bool(x), Column::Bool(y)) => {
            x.iter().zip(y).map(|(x, y)| op.holds(x.cmp(y))).collect()
        }
        (Column::Str(x), Column::Str(y)) => x
            .iter()
            .zip(y)
            .map(|(x, y)| match (x, y) {
                (Some(x), Some(y)) => op.holds(x.cmp(y)),
                _ => op.with_missing(),
            })
            .collect(),
        _ => match (numbers(a), numbers(b)) {
            (Some(x), Some(y)) => x
                .iter()
                .zip(&y)
                .map(|(x, y)| x.partial_cmp(y).map_or(op.with_missing(), |o| op.holds(o)))
                .collect(),
            _ => {
                return Err(Error::InvalidArgument {
                    what: "comparison",
                    message: format!(
                        "cannot compare `{ea}` ({}) with `{eb}` ({})",
                        a.dtype(),
                        b.dtype()
                    ),
                })
            }
        },
    })
}

fn isin(c: &Column, values: &[Scalar]) -> Vec<bool> {
    let n = c.len();
    match c {
        Column::Str(v) => {
            let set: std::collections::HashSet<&str> = values
                .iter()
                .filter_map(|s| match s {
                    Scalar::Str(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect();
            v.iter()
                .map(|s| s.as_deref().is_some_and(|s| set.contains(s)))
                .collect()
        }
        Column::I64(v) => v
            .iter()
            .map(|&x| {
                values.iter().any(|s| match s {
                    Scalar::I64(y) => x == *y,
                    s => s.as_f64().is_some_and(|y| x as f64 == y),
                })
            })
            .collect(),
        _ => {
            let x = numbers(c).unwrap_or_default();
            let wanted: Vec<f64> = values.iter().filter_map(Scalar::as_f64).collect();
            let nan = wanted.iter().any(|y| y.is_nan());
            (0..n)
                .map(|i| {
                    let x = x[i];
                    if x.is_nan() {
                        nan
                    } else {
                        wanted.contains(&x)
                    }
                })
                .collect()
        }
    }
}

impl fmt::Display for Expr {
    /// The expression as it is written in Rust: `(col("x") + 1) * 2.0`,
    /// `col("city").eq("Paris")`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // an operand of an operator is parenthesised when it is an operator expression
        let operand = |f: &mut fmt::Formatter<'_>, e: &Expr| match e.0 {
            Node::Arith(..) => write!(f, "({e})"),
            _ => write!(f, "{e}"),
        };
        match &self.0 {
            Node::Col(n) => write!(f, "col({n:?})"),
            Node::Lit(x) => write!(f, "{x}"),
            Node::Arith(op, a, b) => {
                operand(f, a)?;
                let sym = match op {
                    Op::Add => "+",
                    Op::Sub => "-",
                    Op::Mul => "*",
                    Op::Div => "/",
                };
                write!(f, " {sym} ")?;
                operand(f, b)
            }
            Node::Cmp(op, a, b) => {
                operand(f, a)?;
                write!(f, ".{}({b})", op.method())
            }
            Node::Between(x, lo, hi) => {
                operand(f, x)?;
                write!(f, ".between({lo}, {hi})")
            }
            Node::And(a, b) => {
                operand(f, a)?;
                write!(f, ".and({b})")
            }
            Node::Or(a, b) => {
                operand(f, a)?;
                write!(f, ".or({b})")
            }
            Node::Not(a) => {
                operand(f, a)?;
                f.write_str(".not()")
            }
            Node::IsNa(a, negate) => {
                operand(f, a)?;
                f.write_str(if *negate { ".notna()" } else { ".isna()" })
            }
            Node::IsIn(a, values) => {
                operand(f, a)?;
                f.write_str(".isin([")?;
                for (i, v) in values.iter().enumerate() {
                    write!(f, "{}{v}", if i > 0 { ", " } else { "" })?;
                }
                f.write_str("])")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_print_as_written() {
        let e = (col("x") + 1) * 2.0;
        assert_eq!(e.to_string(), r#"(col("x") + 1) * 2.0"#);
        let e = col("city").eq("Paris").and(col("age").between(20, 30.5));
        assert_eq!(
            e.to_string(),
            r#"col("city").eq("Paris").and(col("age").between(20, 30.5))"#
        );
        let e = !col("x").isin([1, 2]) | col("y").notna();
        assert_eq!(
            e.to_string(),
            r#"col("x").isin([1, 2]).not().or(col("y").notna())"#
        );
    }
}
