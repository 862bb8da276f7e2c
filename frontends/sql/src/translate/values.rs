//! Literal rows: `VALUES` lists, the one row without columns a FROM-less `SELECT` reads
//! (DataFusion's EmptyRelation that produces a row), and a relation the optimizer proved
//! empty (`WHERE false`), which keeps its columns and has no rows.

use super::*;
use datafusion::logical_expr::{EmptyRelation, Values as DfValues};
use skadi_common::Values;

impl Translator<'_> {
    pub(super) fn values(&mut self, v: &DfValues) -> Result<TableValue, SqlError> {
        let mut rows = Vec::with_capacity(v.values.len());
        for row in &v.values {
            let cells = row
                .iter()
                .map(|e| match e.clone().unalias_nested().data {
                    Expr::Literal(value, _) if value.is_null() => Ok(None),
                    Expr::Literal(value, _) => Ok(Some(value.to_string())),
                    other => Err(
                        SqlError::unsupported(format!("VALUES holding the non-constant {other}"))
                            .at(expr_position(e).map(|(l, c)| (l as usize, c as usize))),
                    ),
                })
                .collect::<Result<Vec<_>, _>>()?;
            rows.push(cells);
        }
        self.literal_rows(Values { rows }, &v.schema)
    }

    pub(super) fn empty_relation(&mut self, e: &EmptyRelation) -> Result<TableValue, SqlError> {
        let width = e.schema.fields().len();
        let rows = if e.produce_one_row {
            vec![vec![None; width]]
        } else {
            Vec::new()
        };
        self.literal_rows(Values { rows }, &e.schema)
    }

    fn literal_rows(&mut self, values: Values, schema: &DFSchema) -> Result<TableValue, SqlError> {
        let columns = column_names(schema)
            .iter()
            .zip(schema.fields())
            .map(|(name, field)| {
                let ty = ColumnType::from_arrow(field.data_type()).map_err(|e| SqlError::unsupported(e.to_string()))?;
                Ok(Column::new(name, ty, field.is_nullable()))
            })
            .collect::<Result<Vec<_>, SqlError>>()?;
        let loc = self.loc(None);
        Ok(self.g.values(&values, columns, &loc))
    }
}
