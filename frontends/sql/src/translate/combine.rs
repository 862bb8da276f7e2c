//! String values made of several: `||` and `concat()` (a `flow.concat`, which also
//! writes a number, date or bool column as text: `CAST(x AS VARCHAR)`, computed values
//! too), and a string
//! compared with another string value (a `flow.compare`, read by bodies as a boolean
//! atom like a `flow.match`).

use super::*;
use skadi_common::{Compare, CompareOp, Concat};

/// The parts of a `||` chain or `concat()` call, and whether NULL parts are skipped
/// (`concat()`) rather than making the result NULL (`||`).
pub(super) fn concat_parts(e: &Expr) -> Option<(Vec<Expr>, bool)> {
    fn chain(e: &Expr, out: &mut Vec<Expr>) {
        match e {
            Expr::BinaryExpr(BinaryExpr {
                left,
                op: DfOperator::StringConcat,
                right,
            }) => {
                chain(left, out);
                chain(right, out);
            }
            e => out.push(e.clone()),
        }
    }
    match e {
        Expr::BinaryExpr(BinaryExpr {
            op: DfOperator::StringConcat,
            ..
        }) => {
            let mut parts = Vec::new();
            chain(e, &mut parts);
            Some((parts, false))
        }
        Expr::ScalarFunction(f) if f.name() == "concat" && !f.args.is_empty() => Some((f.args.clone(), true)),
        Expr::ScalarFunction(f) if concat_separator(e).is_some() => Some((f.args[1..].to_vec(), true)),
        _ => None,
    }
}

/// `concat_ws`'s separator, where it is a string literal (then `e` is a concatenation
/// of its other arguments, NULLs skipped, the separator between the others).
fn concat_separator(e: &Expr) -> Option<String> {
    match e {
        Expr::ScalarFunction(f) if f.name() == "concat_ws" && f.args.len() >= 2 => string_literal(&f.args[0]),
        _ => None,
    }
}

/// The column `e` casts to a string, where `e` is such a cast of a column that is not a
/// string (its text is Arrow's, as DataFusion's: `42`, `1.50`, `1995-01-01`, `true`).
pub(super) fn text_of_column<'e>(e: &'e Expr, schema: &DFSchema) -> Option<&'e DfColumn> {
    let (inner, to) = match e {
        Expr::Cast(c) => (c.expr.as_ref(), c.field.data_type()),
        Expr::TryCast(c) => (c.expr.as_ref(), c.field.data_type()),
        _ => return None,
    };
    let Expr::Column(c) = inner else { return None };
    let from = schema.field(schema.index_of_column(c).ok()?).data_type();
    (is_string_type(to) && !is_string_type(from)).then_some(c)
}

/// `a op b` where both are string values, not both literals, and a literal only in an
/// ordering (`=` and `<>` with a literal are a `flow.match`): the two sides and the
/// comparison.
pub(super) fn string_comparison(e: &Expr, schema: &DFSchema) -> Option<(Expr, CompareOp, Expr)> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = e else {
        return None;
    };
    let op = match op {
        DfOperator::Eq => CompareOp::Eq,
        DfOperator::NotEq => CompareOp::Ne,
        DfOperator::Lt => CompareOp::Lt,
        DfOperator::LtEq => CompareOp::Le,
        DfOperator::Gt => CompareOp::Gt,
        DfOperator::GtEq => CompareOp::Ge,
        _ => return None,
    };
    let ordering = !matches!(op, CompareOp::Eq | CompareOp::Ne);
    let literal = |x: &Expr| string_literal(x).is_some();
    let value = |x: &Expr| (ordering || !literal(x)) && !is_null(x) && is_string_value(x, schema);
    (value(left) && value(right) && !(literal(left) && literal(right)))
        .then(|| (left.as_ref().clone(), op, right.as_ref().clone()))
}

/// The expression `e` casts to a string, where `e` is such a cast of a computed value
/// (not a column) whose text bodies can give as DataFusion does: an integer, float,
/// decimal (computed exactly, at its type's scale), date or bool.
pub(super) fn text_of_computed<'e>(e: &'e Expr, schema: &DFSchema) -> Option<&'e Expr> {
    let (inner, to) = match e {
        Expr::Cast(c) => (c.expr.as_ref(), c.field.data_type()),
        Expr::TryCast(c) => (c.expr.as_ref(), c.field.data_type()),
        _ => return None,
    };
    if !is_string_type(to) || matches!(inner, Expr::Column(_)) || is_null(inner) {
        return None;
    }
    let from = inner.get_type(schema).ok()?;
    (from.is_integer()
        || from.is_floating()
        || matches!(from, DataType::Date32 | DataType::Boolean | DataType::Decimal128(..)))
    .then_some(inner)
}

impl Translator<'_> {
    /// Appends the concatenation `e` ([`concat_parts`]) to `input`; returns its position.
    pub(super) fn concat_value(
        &mut self,
        input: &mut TableValue,
        df_schema: &DFSchema,
        e: &Expr,
        loc: &SourceLoc,
    ) -> Result<usize, SqlError> {
        let (parts, skip_nulls) = concat_parts(e).unwrap_or_else(|| (vec![e.clone()], false));
        let mut choices = Vec::new();
        let mut nullable = false;
        for part in &parts {
            if is_null(part) || matches!(part, Expr::Cast(c) if is_null(&c.expr)) {
                if skip_nulls {
                    continue;
                }
                return self.pick_value(input, df_schema, &Expr::Literal(ScalarValue::Utf8(None), None), loc);
            }
            choices.push(match string_literal(part) {
                Some(s) => Choice::Literal(s),
                None if let Some(c) = text_of_column(part, df_schema) => {
                    let column = &self.schema_of(*input)[column_index(df_schema, c)?];
                    nullable |= column.nullable;
                    Choice::Column(column.name.clone())
                }
                None if let Some(inner) = text_of_computed(part, df_schema) => {
                    let i = self.computed_column(input, df_schema, inner, false, loc)?;
                    let column = &self.schema_of(*input)[i];
                    nullable |= column.nullable;
                    Choice::Column(column.name.clone())
                }
                None if is_string_value(part, df_schema) => {
                    let i = self.string_value(input, df_schema, part, loc)?;
                    let column = &self.schema_of(*input)[i];
                    nullable |= column.nullable;
                    Choice::Column(column.name.clone())
                }
                None => {
                    return Err(SqlError::unsupported(format!(
                        "concatenating {part}, which is not a string or a column cast to one"
                    )));
                }
            });
        }
        let (_, field) = e.to_field(df_schema)?;
        let ty = ColumnType::from_arrow(field.data_type()).map_err(|err| SqlError::unsupported(err.to_string()))?;
        let out = Column::new(self.fresh_name("concat"), ty, nullable && !skip_nulls);
        let concat = Concat {
            parts: choices,
            skip_nulls,
            separator: concat_separator(e),
        };
        *input = self.g.concat(*input, &concat, out, loc);
        Ok(self.schema_of(*input).len() - 1)
    }

    /// Appends the comparison of two string values ([`string_comparison`]) as a bool
    /// column; returns its position.
    pub(super) fn compare_value(
        &mut self,
        input: &mut TableValue,
        df_schema: &DFSchema,
        (left, op, right): &(Expr, CompareOp, Expr),
        loc: &SourceLoc,
    ) -> Result<usize, SqlError> {
        let l = self.string_value(input, df_schema, left, loc)?;
        let r = self.string_value(input, df_schema, right, loc)?;
        let schema = self.schema_of(*input);
        let compare = Compare {
            left: schema[l].name.clone(),
            op: *op,
            right: schema[r].name.clone(),
        };
        let out = self.fresh_name("compare");
        *input = self.g.compare(*input, &compare, &out, loc);
        Ok(self.schema_of(*input).len() - 1)
    }
}
