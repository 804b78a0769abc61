//! Column expressions: `col("x") * 2.0 + col("y")`, `col("x").gt(0.5)`.

use super::table::{Column, DType, Table};
use super::Schema;
use crate::Error;
use std::ops::{Add, Div, Mul, Sub};

/// An expression over the columns of a row, evaluated a partition at a time.
///
/// Arithmetic works on numeric columns (integers are read as floats) and gives floats;
/// comparisons give booleans, combined with [`Expr::and`] / [`Expr::or`].
///
/// ```
/// use dagr_core::dataframe::{col, lit};
/// let e = (col("x") + col("y")) * 2.0;
/// let keep = col("x").gt(0.5).and(col("y").le(lit(3.0)));
/// # drop((e, keep));
/// ```
#[derive(Clone, Debug)]
pub enum Expr {
    /// A column by name.
    Col(String),
    /// A number.
    Lit(f64),
    /// Arithmetic on two numeric expressions.
    Arith(Op, Box<Expr>, Box<Expr>),
    /// A comparison of two numeric expressions.
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    /// Both boolean expressions hold.
    And(Box<Expr>, Box<Expr>),
    /// Either boolean expression holds.
    Or(Box<Expr>, Box<Expr>),
}

/// An arithmetic operator.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug)]
pub enum CmpOp {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `==`
    Eq,
}

/// The column called `name`.
pub fn col(name: &str) -> Expr {
    Expr::Col(name.to_owned())
}

/// A constant.
pub fn lit(x: f64) -> Expr {
    Expr::Lit(x)
}

impl From<f64> for Expr {
    fn from(x: f64) -> Expr {
        Expr::Lit(x)
    }
}

macro_rules! arith {
    ($tr:ident, $m:ident, $op:ident) => {
        impl<R: Into<Expr>> $tr<R> for Expr {
            type Output = Expr;
            fn $m(self, rhs: R) -> Expr {
                Expr::Arith(Op::$op, Box::new(self), Box::new(rhs.into()))
            }
        }
    };
}
arith!(Add, add, Add);
arith!(Sub, sub, Sub);
arith!(Mul, mul, Mul);
arith!(Div, div, Div);

impl Expr {
    fn cmp(self, op: CmpOp, rhs: impl Into<Expr>) -> Expr {
        Expr::Cmp(op, Box::new(self), Box::new(rhs.into()))
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
    /// `self == rhs`
    pub fn eq(self, rhs: impl Into<Expr>) -> Expr {
        self.cmp(CmpOp::Eq, rhs)
    }
    /// Both hold.
    pub fn and(self, rhs: Expr) -> Expr {
        Expr::And(Box::new(self), Box::new(rhs))
    }
    /// Either holds.
    pub fn or(self, rhs: Expr) -> Expr {
        Expr::Or(Box::new(self), Box::new(rhs))
    }

    /// Checks names and types against a schema; returns the result type.
    pub(crate) fn check(&self, schema: &Schema, want_bool: bool) -> Result<DType, Error> {
        let t = self.dtype(schema)?;
        if want_bool && t != DType::Bool {
            return Err(Error::InvalidArgument {
                what: "filter",
                message: format!("the predicate {self:?} is not a comparison"),
            });
        }
        Ok(t)
    }

    fn dtype(&self, schema: &Schema) -> Result<DType, Error> {
        let numeric = |e: &Expr| -> Result<(), Error> {
            let t = e.dtype(schema)?;
            if t.is_numeric() {
                Ok(())
            } else {
                Err(Error::ColumnType {
                    column: format!("{e:?}"),
                    dtype: t,
                    what: "arithmetic and comparisons",
                    expected: "a numeric column",
                })
            }
        };
        match self {
            Expr::Col(n) => Ok(schema.dtypes[super::table::position(&schema.names, n)?]),
            Expr::Lit(_) => Ok(DType::F64),
            Expr::Arith(_, a, b) => {
                numeric(a)?;
                numeric(b)?;
                Ok(DType::F64)
            }
            Expr::Cmp(_, a, b) => {
                numeric(a)?;
                numeric(b)?;
                Ok(DType::Bool)
            }
            Expr::And(a, b) | Expr::Or(a, b) => {
                for e in [a, b] {
                    if e.dtype(schema)? != DType::Bool {
                        return Err(Error::InvalidArgument {
                            what: "and/or",
                            message: format!("{e:?} is not a comparison"),
                        });
                    }
                }
                Ok(DType::Bool)
            }
        }
    }

    /// Evaluates over a table.
    pub(crate) fn eval(&self, t: &Table) -> Result<Column, Error> {
        Ok(match self {
            Expr::Col(n) => t.column(n)?.clone(),
            Expr::Lit(x) => Column::F64(vec![*x; t.len()]),
            Expr::Arith(op, a, b) => {
                let (a, b) = (a.eval_f64(t)?, b.eval_f64(t)?);
                let f = match op {
                    Op::Add => |x: f64, y: f64| x + y,
                    Op::Sub => |x, y| x - y,
                    Op::Mul => |x, y| x * y,
                    Op::Div => |x, y| x / y,
                };
                Column::F64(a.iter().zip(&b).map(|(&x, &y)| f(x, y)).collect())
            }
            Expr::Cmp(..) | Expr::And(..) | Expr::Or(..) => Column::Bool(self.eval_mask(t)?),
        })
    }

    fn eval_f64(&self, t: &Table) -> Result<Vec<f64>, Error> {
        let c = self.eval(t)?;
        let dtype = c.dtype();
        c.to_f64().ok_or_else(|| Error::ColumnType {
            column: format!("{self:?}"),
            dtype,
            what: "arithmetic",
            expected: "a numeric column",
        })
    }

    /// Evaluates a boolean expression; comparisons with NaN are false, as in pandas.
    pub(crate) fn eval_mask(&self, t: &Table) -> Result<Vec<bool>, Error> {
        Ok(match self {
            Expr::Cmp(op, a, b) => {
                let (a, b) = (a.eval_f64(t)?, b.eval_f64(t)?);
                let f = match op {
                    CmpOp::Gt => |x: f64, y: f64| x > y,
                    CmpOp::Ge => |x, y| x >= y,
                    CmpOp::Lt => |x, y| x < y,
                    CmpOp::Le => |x, y| x <= y,
                    CmpOp::Eq => |x, y| x == y,
                };
                a.iter().zip(&b).map(|(&x, &y)| f(x, y)).collect()
            }
            Expr::And(a, b) => a
                .eval_mask(t)?
                .iter()
                .zip(b.eval_mask(t)?)
                .map(|(&x, y)| x && y)
                .collect(),
            Expr::Or(a, b) => a
                .eval_mask(t)?
                .iter()
                .zip(b.eval_mask(t)?)
                .map(|(&x, y)| x || y)
                .collect(),
            Expr::Col(n) => match t.column(n)? {
                Column::Bool(v) => v.clone(),
                c => {
                    return Err(Error::ColumnType {
                        column: n.clone(),
                        dtype: c.dtype(),
                        what: "filter",
                        expected: "a bool column",
                    })
                }
            },
            other => {
                return Err(Error::InvalidArgument {
                    what: "filter",
                    message: format!("{other:?} is not a comparison"),
                })
            }
        })
    }
}
