//! Projections: plain columns pass through; every computed expression is a result of a
//! body (one map per group of expressions that read the same nullable columns).

use super::*;

impl Translator<'_> {
    /// Output columns computed from `exprs` over `input`: plain column references pass
    /// through, everything else becomes a result of one body. Returns a project or map op.
    pub(super) fn compute(
        &mut self,
        input: TableValue,
        df_schema: &DFSchema,
        exprs: &[Expr],
        names: &[String],
        loc: &SourceLoc,
    ) -> Result<TableValue, SqlError> {
        let exprs: &[Expr] = &exprs.iter().map(|e| body_form(e, df_schema)).collect::<Vec<_>>();
        // String functions are computed first (flow.string) and then pass through.
        let mut input = input;
        let mut derived: Vec<(Expr, usize)> = Vec::new();
        for e in exprs {
            let e = e.clone().unalias_nested().data;
            let string = string_call(&e).is_some_and(|(_, subject, _)| is_string_value(subject, df_schema))
                || (!matches!(e, Expr::Column(_)) && is_string_value(&e, df_schema));
            if string && !derived.iter().any(|(x, _)| *x == e) {
                let i = self.string_value(&mut input, df_schema, &e, loc)?;
                derived.push((e, i));
            }
        }
        let columns = self.schema_of(input);
        let passthrough = |e: &Expr| -> Option<usize> {
            let e = e.clone().unalias_nested().data;
            if let Some((_, i)) = derived.iter().find(|(x, _)| *x == e) {
                return Some(*i);
            }
            match e {
                Expr::Column(c) => column_index(df_schema, &c).ok(),
                _ => None,
            }
        };
        let computed: Vec<&Expr> = exprs.iter().filter(|e| passthrough(e).is_none()).collect();
        let (input, atoms) = self.match_atoms(input, df_schema, &computed, loc)?;
        if computed.is_empty() {
            let picked: Vec<usize> = exprs
                .iter()
                .map(|e| passthrough(e).expect("every expression is a column"))
                .collect();
            let out = picked
                .iter()
                .zip(names)
                .map(|(&i, n)| Column::new(n, columns[i].ty, columns[i].nullable))
                .collect();
            let cols: Vec<String> = picked.iter().map(|&i| columns[i].name.clone()).collect();
            return Ok(self.g.project(input, &cols, out, loc));
        }
        let with_atoms = self.schema_of(input);
        let body_input = BodyInput {
            df_schema,
            columns: &with_atoms,
            atoms: &atoms,
        };
        if computed.iter().any(|e| needs_three_valued(&body_input, e, false)) {
            return self.compute_three_valued(input, &body_input, exprs, names, &passthrough, loc);
        }
        // Bodies are strict: a NULL argument makes every result of the row NULL. That is
        // SQL's answer for each computed column only if they all read the same nullable
        // columns; otherwise each such group gets a map of its own.
        let nullable_deps = |e: &Expr| -> Vec<usize> {
            let mut deps: Vec<usize> = e
                .column_refs()
                .into_iter()
                .filter_map(|c| column_index(df_schema, c).ok())
                .filter(|&i| columns[i].nullable)
                .collect();
            deps.sort_unstable();
            deps
        };
        let mut groups: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
        for (k, e) in exprs.iter().enumerate().filter(|(_, e)| passthrough(e).is_none()) {
            let deps = nullable_deps(e);
            match groups.iter_mut().find(|(d, _)| *d == deps) {
                Some((_, members)) => members.push(k),
                None => groups.push((deps, vec![k])),
            }
        }
        // Each map keeps every column it reads (so input positions stay valid) and appends
        // its group's results; a final project picks and names the outputs.
        let single = groups.len() == 1;
        let mut current = input;
        let mut computed_name: Vec<Option<String>> = vec![None; exprs.len()];
        for (_, members) in &groups {
            let current_columns = self.schema_of(current);
            let body_input = BodyInput {
                df_schema,
                columns: &current_columns,
                atoms: &atoms,
            };
            let group: Vec<&Expr> = members.iter().map(|&k| &exprs[k]).collect();
            let mut w = BodyWriter::new(self.g, "map", &body_input, &group, loc)?;
            let (mut out_exprs, mut out): (Vec<String>, Vec<Column>) = if single {
                (Vec::new(), Vec::new())
            } else {
                (
                    current_columns.iter().map(|c| c.name.clone()).collect(),
                    current_columns.clone(),
                )
            };
            let mut results = Vec::new();
            for (&k, e) in members.iter().zip(&group) {
                let v = w
                    .expr(e)
                    .map_err(|err| err.at(expr_position(e).map(|(l, c)| (l as usize, c as usize))))?;
                let ty = result_type(&v.ty, e, df_schema);
                let name = if single {
                    names[k].clone()
                } else {
                    format!("__computed{k}")
                };
                out_exprs.push(format!("${}", results.len()));
                out.push(Column::new(&name, ty, w.any_nullable()));
                computed_name[k] = Some(name);
                results.push(v);
            }
            if single {
                // One map computes everything: passed-through columns go in place.
                let mut ordered_exprs = Vec::new();
                let mut ordered = Vec::new();
                let mut next = 0;
                for (k, e) in exprs.iter().enumerate() {
                    match passthrough(e) {
                        Some(i) => {
                            ordered_exprs.push(columns[i].name.clone());
                            ordered.push(Column::new(&names[k], columns[i].ty, columns[i].nullable));
                        }
                        None => {
                            ordered_exprs.push(out_exprs[next].clone());
                            ordered.push(out[next].clone());
                            next += 1;
                        }
                    }
                }
                let args = w.args();
                let (body, fault) = w.finish_with_fault(&results);
                return Ok(self
                    .g
                    .map_with_fault(current, &body, &args, &ordered_exprs, fault.as_ref(), ordered, loc));
            }
            let args = w.args();
            let (body, fault) = w.finish_with_fault(&results);
            current = self
                .g
                .map_with_fault(current, &body, &args, &out_exprs, fault.as_ref(), out, loc);
        }
        let current_columns = self.schema_of(current);
        let picked: Vec<String> = exprs
            .iter()
            .enumerate()
            .map(|(k, e)| match passthrough(e) {
                Some(i) => columns[i].name.clone(),
                None => computed_name[k]
                    .clone()
                    .expect("every computed expression has a column"),
            })
            .collect();
        let out = picked
            .iter()
            .zip(names)
            .map(|(c, n)| {
                let col = current_columns
                    .iter()
                    .find(|x| &x.name == c)
                    .expect("picked columns exist");
                Column::new(n, col.ty, col.nullable)
            })
            .collect();
        Ok(self.g.project(current, &picked, out, loc))
    }

    /// [`Self::compute`] where some expression needs SQL's three-valued logic: one
    /// three-valued body computes every expression, with its validity.
    fn compute_three_valued(
        &mut self,
        input: TableValue,
        body_input: &BodyInput<'_>,
        exprs: &[Expr],
        names: &[String],
        passthrough: &dyn Fn(&Expr) -> Option<usize>,
        loc: &SourceLoc,
    ) -> Result<TableValue, SqlError> {
        let columns = body_input.columns;
        let computed: Vec<&Expr> = exprs.iter().filter(|e| passthrough(e).is_none()).collect();
        let mut w = BodyWriter::three_valued(self.g, "map", body_input, &computed, loc)?;
        let (mut values, mut validities) = (Vec::new(), Vec::new());
        let (mut out_exprs, mut out) = (Vec::new(), Vec::new());
        for (k, e) in exprs.iter().enumerate() {
            if let Some(i) = passthrough(e) {
                out_exprs.push(columns[i].name.clone());
                out.push(Column::new(&names[k], columns[i].ty, columns[i].nullable));
                continue;
            }
            let (v, valid) = w
                .value(e)
                .map_err(|err| err.at(expr_position(e).map(|(l, c)| (l as usize, c as usize))))?;
            let ty = result_type(&v.ty, e, body_input.df_schema);
            out_exprs.push(format!("${}", values.len()));
            out.push(Column::new(&names[k], ty, valid.is_some()));
            if let Some(valid) = valid {
                validities.push((values.len(), valid));
            }
            values.push(v);
        }
        let result_validity: Vec<(usize, usize)> = validities
            .iter()
            .enumerate()
            .map(|(j, (r, _))| (*r, values.len() + j))
            .collect();
        let results: Vec<Scalar> = values
            .into_iter()
            .chain(validities.into_iter().map(|(_, v)| v))
            .collect();
        let (args, validity) = (w.args(), w.validity_args());
        let (body, fault) = w.finish_with_fault(&results);
        Ok(self.g.three_valued(
            input,
            &body,
            &args,
            &validity,
            &out_exprs,
            None,
            &result_validity,
            fault.as_ref(),
            out,
            loc,
        ))
    }

    pub(super) fn projection(&mut self, p: &Projection) -> Result<TableValue, SqlError> {
        let input = self.plan(&p.input)?;
        let names = column_names(&p.schema);
        let loc = self.loc(p.expr.iter().find_map(expr_position));
        if p.expr
            .iter()
            .any(|e| e.exists(|e| Ok(matches!(e, Expr::ScalarSubquery(_)))).unwrap_or(false))
        {
            let (joined, df, exprs) = self.join_scalar_subqueries(input, p.input.schema(), &p.expr, &loc)?;
            return self.compute(joined, &df, &exprs, &names, &loc);
        }
        self.compute(input, p.input.schema(), &p.expr, &names, &loc)
    }
}
