//! UNION ALL (and UNION, which DataFusion plans as a grouping over it): the inputs' rows
//! one after another. Every input of `flow.union` has the result's table type, so each
//! input is brought to it: DataFusion has cast the inputs to the union's types, but ours
//! can still differ where a cast computed a decimal as f64; such a column is computed as
//! the wider numeric type in every input (as join keys are). Then each input is renamed
//! to the union's column names, nullable where any input's column is.

use super::*;

impl Translator<'_> {
    pub(super) fn union(&mut self, u: &datafusion::logical_expr::Union) -> Result<TableValue, SqlError> {
        let mut inputs = u.inputs.iter().map(|p| self.plan(p)).collect::<Result<Vec<_>, _>>()?;
        let names = column_names(&u.schema);
        let schemas: Vec<Vec<Column>> = inputs.iter().map(|&t| self.schema_of(t)).collect();
        if let Some((k, s)) = schemas.iter().enumerate().find(|(_, s)| s.len() != names.len()) {
            return Err(SqlError::unsupported(format!(
                "UNION input {} with {} columns where the union has {}",
                k + 1,
                s.len(),
                names.len()
            )));
        }
        let mut schema: Vec<Column> = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let types: Vec<ColumnType> = schemas.iter().map(|s| s[i].ty).collect();
            let ty = match wider_numeric(&types) {
                _ if types.iter().all(|t| *t == types[0]) => types[0],
                Some(DataType::Float64) => ColumnType::Float64,
                Some(_) => ColumnType::Int64,
                None => {
                    return Err(SqlError::unsupported(format!(
                        "UNION of column {name} as {} in one input and {} in another",
                        types[0],
                        types.iter().find(|t| **t != types[0]).expect("types differ")
                    )));
                }
            };
            schema.push(Column::new(name, ty, false));
        }
        let loc = self.loc(None);
        for (k, input) in inputs.iter_mut().enumerate() {
            if schemas[k].iter().zip(&schema).all(|(c, u)| c.ty == u.ty) {
                continue;
            }
            let df = u.inputs[k].schema();
            let exprs: Vec<Expr> = df
                .columns()
                .into_iter()
                .zip(&schema)
                .zip(&schemas[k])
                .map(|((c, u), own)| {
                    let column = Expr::Column(c);
                    if own.ty == u.ty {
                        return column;
                    }
                    let to = if u.ty == ColumnType::Float64 {
                        DataType::Float64
                    } else {
                        DataType::Int64
                    };
                    Expr::Cast(datafusion::logical_expr::Cast::new(Box::new(column), to))
                })
                .collect();
            let fresh: Vec<String> = (0..exprs.len()).map(|_| self.fresh_name("union")).collect();
            *input = self.compute(*input, df, &exprs, &fresh, &loc)?;
        }
        for (i, out) in schema.iter_mut().enumerate() {
            out.nullable = inputs.iter().any(|&t| self.schema_of(t)[i].nullable);
        }
        let renamed: Vec<TableValue> = inputs
            .into_iter()
            .map(|input| {
                let columns = self.schema_of(input);
                if columns == schema {
                    return input;
                }
                let selected: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
                self.g.project(input, &selected, schema.clone(), &loc)
            })
            .collect();
        Ok(self.g.union(&renamed, schema, &loc))
    }
}
