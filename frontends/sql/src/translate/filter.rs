//! Filters: a predicate compiled into one body, after its string predicates are computed
//! into columns; scalar subqueries in it are joined in first (subquery.rs).

use super::*;

impl Translator<'_> {
    pub(super) fn filter_expr(
        &mut self,
        input: TableValue,
        df_schema: &DFSchema,
        predicate: &Expr,
    ) -> Result<TableValue, SqlError> {
        let predicate = &body_form(predicate, df_schema);
        let pos = expr_position(predicate);
        let at = |e: SqlError| e.at(pos.map(|(l, c)| (l as usize, c as usize)));
        let loc = self.loc(pos);
        let width = self.schema_of(input).len();
        let (input, atoms) = self.match_atoms(input, df_schema, &[predicate], &loc).map_err(at)?;
        let columns = self.schema_of(input);
        let body_input = BodyInput {
            df_schema,
            columns: &columns,
            atoms: &atoms,
        };
        if needs_three_valued(&body_input, predicate, true) {
            // Rows where the predicate is TRUE, by SQL's three-valued logic.
            let mut w = BodyWriter::three_valued(self.g, "filter", &body_input, &[predicate], &loc).map_err(at)?;
            let result = w.predicate(predicate).map_err(at)?;
            let (args, validity) = (w.args(), w.validity_args());
            let (body, fault) = w.finish_with_fault(&[result]);
            let exprs: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
            let filtered = self.g.three_valued(
                input,
                &body,
                &args,
                &validity,
                &exprs,
                Some(0),
                &[],
                fault.as_ref(),
                columns.clone(),
                &loc,
            );
            return Ok(self.keep_first(filtered, width, &loc));
        }
        let mut w = BodyWriter::new(self.g, "filter", &body_input, &[predicate], &loc).map_err(at)?;
        let result = w.predicate(predicate).map_err(at)?;
        let args = w.args();
        let body = w.finish(&[result])?;
        let filtered = self.g.filter(input, &body, &args, &loc);
        Ok(self.keep_first(filtered, width, &loc))
    }

    pub(super) fn filter(&mut self, filter: &Filter) -> Result<TableValue, SqlError> {
        if filter
            .predicate
            .exists(|e| Ok(matches!(e, Expr::Exists(_) | Expr::InSubquery(_))))?
        {
            return Err(SqlError::unsupported("EXISTS and IN subqueries that stay correlated"));
        }
        let input = self.plan(&filter.input)?;
        let df = filter.input.schema();
        if !filter.predicate.exists(|e| Ok(matches!(e, Expr::ScalarSubquery(_))))? {
            return self.filter_expr(input, df, &filter.predicate);
        }
        let loc = self.loc(expr_position(&filter.predicate));
        let width = self.schema_of(input).len();
        let (joined, df, predicate) =
            self.join_scalar_subqueries(input, df, std::slice::from_ref(&filter.predicate), &loc)?;
        let filtered = self.filter_expr(joined, &df, &predicate[0])?;
        Ok(self.keep_first(filtered, width, &loc))
    }
}
