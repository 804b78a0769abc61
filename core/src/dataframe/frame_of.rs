//! `Bag<(A, B, …)>::to_dataframe`: tuples become rows.

use super::table::{Column, DType, Table};
use super::{DataFrame, Schema};
use crate::bag::{layer_name, Bag};
use crate::delayed::Data;
use crate::Error;
use std::sync::Arc;

/// A value that can be a dataframe cell.
pub trait IntoCell: Data {
    /// The column type it makes.
    const DTYPE: DType;
    /// Appends it to a column of that type.
    fn push(self, c: &mut Column);
}

macro_rules! int_cell {
    ($($t:ty),*) => {$(
        impl IntoCell for $t {
            const DTYPE: DType = DType::I64;
            fn push(self, c: &mut Column) {
                if let Column::I64(v) = c { v.push(self as i64) }
            }
        }
    )*};
}
int_cell!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl IntoCell for f64 {
    const DTYPE: DType = DType::F64;
    fn push(self, c: &mut Column) {
        if let Column::F64(v) = c {
            v.push(self)
        }
    }
}

impl IntoCell for f32 {
    const DTYPE: DType = DType::F64;
    fn push(self, c: &mut Column) {
        if let Column::F64(v) = c {
            v.push(f64::from(self))
        }
    }
}

impl IntoCell for bool {
    const DTYPE: DType = DType::Bool;
    fn push(self, c: &mut Column) {
        if let Column::Bool(v) = c {
            v.push(self)
        }
    }
}

impl IntoCell for String {
    const DTYPE: DType = DType::Str;
    fn push(self, c: &mut Column) {
        if let Column::Str(v) = c {
            v.push(Some(self))
        }
    }
}

impl IntoCell for &'static str {
    const DTYPE: DType = DType::Str;
    fn push(self, c: &mut Column) {
        if let Column::Str(v) = c {
            v.push(Some(self.to_owned()))
        }
    }
}

impl IntoCell for Option<String> {
    const DTYPE: DType = DType::Str;
    fn push(self, c: &mut Column) {
        if let Column::Str(v) = c {
            v.push(self)
        }
    }
}

impl IntoCell for Option<&'static str> {
    const DTYPE: DType = DType::Str;
    fn push(self, c: &mut Column) {
        if let Column::Str(v) = c {
            v.push(self.map(str::to_owned))
        }
    }
}

/// A tuple that can be a dataframe row.
pub trait IntoRow: Data {
    /// The column types.
    fn dtypes() -> Vec<DType>;
    /// Appends the row's cells to the columns.
    fn push(self, cols: &mut [Column]);
}

macro_rules! row_tuple {
    ($($n:tt $t:ident),+) => {
        impl<$($t: IntoCell),+> IntoRow for ($($t,)+) {
            fn dtypes() -> Vec<DType> { vec![$($t::DTYPE),+] }
            fn push(self, cols: &mut [Column]) { $(self.$n.push(&mut cols[$n]);)+ }
        }
    };
}
row_tuple!(0 A);
row_tuple!(0 A, 1 B);
row_tuple!(0 A, 1 B, 2 C);
row_tuple!(0 A, 1 B, 2 C, 3 D);
row_tuple!(0 A, 1 B, 2 C, 3 D, 4 E);
row_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F);
row_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G);
row_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H);

impl<R: IntoRow> Bag<R> {
    /// A dataframe with one row per tuple, columns named `names`, one partition per bag
    /// partition (Dask: `Bag.to_dataframe(columns=…)`).
    ///
    /// ```
    /// let b = dagr::bag::from_sequence(vec![("a", 1_u64), ("b", 2)], 1)?;
    /// let df = b.to_dataframe(&["word", "n"])?;
    /// assert_eq!(df.compute()?.len(), 2);
    /// # Ok::<(), dagr::Error>(())
    /// ```
    pub fn to_dataframe(&self, names: &[&str]) -> Result<DataFrame, Error> {
        let dtypes = R::dtypes();
        if names.len() != dtypes.len() {
            return Err(Error::InvalidArgument {
                what: "to_dataframe",
                message: format!(
                    "{} column names for rows of {} values",
                    names.len(),
                    dtypes.len()
                ),
            });
        }
        let schema = Arc::new(Schema {
            names: names.iter().map(|s| s.to_string()).collect(),
            dtypes,
        });
        let s2 = schema.clone();
        let name = layer_name("to-dataframe");
        let nodes = self.partition_nodes_with(&name, move |it| {
            let mut cols: Vec<Column> = s2.dtypes.iter().map(|&d| Column::empty(d, 0)).collect();
            for row in it {
                row.push(&mut cols);
            }
            Table::from_parts(s2.names.clone(), cols)
        });
        Ok(DataFrame::from_nodes(name, schema, nodes))
    }
}
