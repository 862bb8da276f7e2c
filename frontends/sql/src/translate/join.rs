//! Joins: equi-join keys (computed and cast to one type where needed), the rest of the
//! condition as a filter body over the joined row, and the join kinds DataFusion leaves.

use super::*;

impl Translator<'_> {
    /// Columns holding `exprs` over `input`: a plain column itself (unless it must be
    /// cast), others appended to `input` by one map.
    pub(super) fn key_columns(
        &mut self,
        input: &mut TableValue,
        df_schema: &DFSchema,
        exprs: &[(Expr, Option<DataType>)],
        loc: &SourceLoc,
    ) -> Result<Vec<String>, SqlError> {
        let columns = self.schema_of(*input);
        let mut all: Vec<Expr> = df_schema.columns().into_iter().map(Expr::Column).collect();
        let mut names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        let mut out = Vec::new();
        for (e, cast_to) in exprs {
            let e = e.clone().unalias_nested().data;
            if cast_to.is_none()
                && let Expr::Column(c) = &e
            {
                out.push(columns[column_index(df_schema, c)?].name.clone());
                continue;
            }
            let e = match cast_to {
                Some(t) => Expr::Cast(datafusion::logical_expr::Cast::new(Box::new(e), t.clone())),
                None => e,
            };
            let name = self.fresh_name("key");
            all.push(e);
            names.push(name.clone());
            out.push(name);
        }
        if all.len() > df_schema.fields().len() {
            *input = self.compute(*input, df_schema, &all, &names, loc)?;
        }
        Ok(out)
    }

    pub(super) fn join(&mut self, j: &Join) -> Result<TableValue, SqlError> {
        // NULL equal to NULL (INTERSECT, EXCEPT, IS NOT DISTINCT FROM) differs from SQL's
        // equality only where a key can be NULL on both sides. There the pair becomes two
        // keys a hash join matches as usual: the value with NULL as a placeholder (zero,
        // or empty text), and whether it is NULL.
        let mut on: Vec<(Expr, Expr)> = Vec::with_capacity(j.on.len());
        for (a, b) in &j.on {
            let both = j.null_equality == NullEquality::NullEqualsNull
                && a.nullable(j.left.schema())?
                && b.nullable(j.right.schema())?;
            if !both {
                on.push((a.clone(), b.clone()));
                continue;
            }
            let placeheld = |e: &Expr, schema: &DFSchema| -> Result<Expr, SqlError> {
                let ty = e.get_type(schema)?;
                let zero = match &ty {
                    DataType::Utf8 => ScalarValue::Utf8(Some(String::new())),
                    DataType::Utf8View => ScalarValue::Utf8View(Some(String::new())),
                    DataType::LargeUtf8 => ScalarValue::LargeUtf8(Some(String::new())),
                    ty => ScalarValue::new_zero(ty)
                        .map_err(|_| SqlError::unsupported(format!("NULL-equal join keys of type {ty}")))?,
                };
                Ok(Expr::Case(datafusion::logical_expr::Case::new(
                    None,
                    vec![(
                        Box::new(Expr::IsNull(Box::new(e.clone()))),
                        Box::new(Expr::Literal(zero, None)),
                    )],
                    Some(Box::new(e.clone())),
                )))
            };
            on.push((placeheld(a, j.left.schema())?, placeheld(b, j.right.schema())?));
            on.push((Expr::IsNull(Box::new(a.clone())), Expr::IsNull(Box::new(b.clone()))));
        }
        let (kind, swap) = match j.join_type {
            JoinType::Inner => (JoinKind::Inner, false),
            JoinType::Left => (JoinKind::Left, false),
            JoinType::Right => (JoinKind::Right, false),
            JoinType::Full => (JoinKind::Full, false),
            JoinType::LeftSemi => (JoinKind::Semi, false),
            JoinType::RightSemi => (JoinKind::Semi, true),
            JoinType::LeftAnti => (JoinKind::Anti, false),
            JoinType::RightAnti => (JoinKind::Anti, true),
            JoinType::LeftMark | JoinType::RightMark => return self.mark_join(j),
        };
        let loc = self.loc(on.iter().find_map(|(l, _)| expr_position(l)));
        let (lp, rp) = if swap { (&j.right, &j.left) } else { (&j.left, &j.right) };
        let (ldf, rdf) = (lp.schema().clone(), rp.schema().clone());
        let mut left = self.plan(lp)?;
        let mut right = self.plan(rp)?;
        let (lw, rw) = (self.schema_of(left).len(), self.schema_of(right).len());
        let (mut lkeys, mut rkeys) = (Vec::new(), Vec::new());
        for (a, b) in &on {
            let (a, b) = if swap { (b, a) } else { (a, b) };
            // Both sides' keys must have one type here; where ours differ (an aggregate's
            // f64 against a decimal column), both are compared as the wider body type.
            let ta = self.key_type(left, &ldf, a)?;
            let tb = self.key_type(right, &rdf, b)?;
            let cast = if ta == tb {
                None
            } else {
                let wider = wider_numeric(&[ta, tb]);
                Some(wider.ok_or_else(|| SqlError::unsupported(format!("joining {ta} keys with {tb} keys")))?)
            };
            lkeys.push((a.clone(), cast.clone()));
            rkeys.push((b.clone(), cast));
        }
        let lnames = self.key_columns(&mut left, &ldf, &lkeys, &loc)?;
        let rnames = self.key_columns(&mut right, &rdf, &rkeys, &loc)?;
        let keys: Vec<(String, String)> = lnames.into_iter().zip(rnames).collect();
        // String predicates of the filter read one column each: computed on its side.
        let (mut latoms, mut ratoms) = (Vec::new(), Vec::new());
        let mut filter_expr = j.filter.as_ref().map(searched_case);
        // A join's filter body is strict, and reads string predicates computed on one
        // side. An inner join's condition that needs SQL's NULL logic (a CASE over
        // nullable columns) or compares strings of both sides filters the joined rows
        // instead: the same rows, by a (three-valued) filter after the join.
        let mut after = None;
        if kind == JoinKind::Inner
            && let Some(f) = &filter_expr
        {
            let joined_df = ldf.join(&rdf)?;
            let (lcols, rcols) = (self.schema_of(left), self.schema_of(right));
            let joined: Vec<Column> = lcols[..lw].iter().chain(&rcols[..rw]).cloned().collect();
            let body_input = BodyInput {
                df_schema: &joined_df,
                columns: &joined,
                atoms: &[],
            };
            let mut compares = false;
            f.apply(|e| {
                compares |= string_comparison(e, &joined_df).is_some();
                Ok(TreeNodeRecursion::Continue)
            })?;
            if compares || needs_three_valued(&body_input, f, true) {
                after = filter_expr.take().map(|f| (f, joined_df));
            }
        }
        if let Some(f) = &filter_expr {
            (left, latoms) = self.match_atoms(left, &ldf, &[f], &loc)?;
            (right, ratoms) = self.match_atoms(right, &rdf, &[f], &loc)?;
        }
        let (lcols, rcols) = (self.schema_of(left), self.schema_of(right));
        let filter = match &filter_expr {
            None => None,
            Some(f) => {
                let joined_df = ldf.join(&rdf)?;
                let mut joined: Vec<Column> = lcols[..lw].iter().chain(&rcols[..rw]).cloned().collect();
                let mut atoms = Vec::new();
                for (a, cols) in latoms
                    .iter()
                    .map(|a| (a, &lcols))
                    .chain(ratoms.iter().map(|a| (a, &rcols)))
                {
                    atoms.push(Atom {
                        column: joined.len(),
                        ..a.clone()
                    });
                    joined.push(cols[a.column].clone());
                }
                let body_input = BodyInput {
                    df_schema: &joined_df,
                    columns: &joined,
                    atoms: &atoms,
                };
                let pos = expr_position(f);
                let at = |e: SqlError| e.at(pos.map(|(l, c)| (l as usize, c as usize)));
                // An outer (or semi, anti, mark) join's condition that needs SQL's NULL
                // logic is a three-valued body: a match is where it is TRUE.
                let mut w = match needs_three_valued(&body_input, f, true) {
                    true => BodyWriter::three_valued(self.g, "join_filter", &body_input, &[f], &loc),
                    false => BodyWriter::new(self.g, "join_filter", &body_input, &[f], &loc),
                }
                .map_err(at)?;
                let result = w.predicate(f).map_err(at)?;
                let (args, validity) = (w.args(), w.validity_args());
                // Where its arithmetic can fail, the body's second result says where it
                // did, on the candidate pairs the join evaluates it on.
                let (body, fault) = w.finish_with_fault(&[result]);
                Some((body, args, validity, fault.map(|f| f.what)))
            }
        };
        // Our output: left ++ right (as DataFusion's join schema orders them), NULLs
        // on the side an outer join pads.
        let pad = |cols: &[Column], padded: bool| -> Vec<Column> {
            cols.iter()
                .map(|c| Column::new(&c.name, c.ty, c.nullable || padded))
                .collect()
        };
        let mut out = pad(&lcols, kind.preserves(1));
        if kind.outputs_right() {
            out.extend(pad(&rcols, kind.preserves(0)));
        }
        let joined = self.g.join(
            left,
            right,
            kind,
            &keys,
            filter.as_ref().map(|(body, args, validity, fault)| JoinFilter {
                body,
                args,
                validity,
                fault: fault.as_deref(),
            }),
            j.null_aware,
            out,
            &loc,
        );
        // Drop computed key columns: the result has DataFusion's columns.
        let wanted: Vec<Column> = {
            let all = self.schema_of(joined);
            let mut w: Vec<Column> = all[..lw].to_vec();
            if kind.outputs_right() {
                w.extend(all[lcols.len()..lcols.len() + rw].iter().cloned());
            }
            w
        };
        let joined = if wanted.len() == self.schema_of(joined).len() {
            joined
        } else {
            let names: Vec<String> = wanted.iter().map(|c| c.name.clone()).collect();
            self.g.project(joined, &names, wanted, &loc)
        };
        match after {
            Some((f, joined_df)) => self.filter_expr(joined, &joined_df, &f),
            None => Ok(joined),
        }
    }

    /// The column type of a join key expression over `input`.
    pub(super) fn key_type(&self, input: TableValue, df_schema: &DFSchema, e: &Expr) -> Result<ColumnType, SqlError> {
        if let Expr::Column(c) = e.clone().unalias_nested().data {
            return Ok(self.schema_of(input)[column_index(df_schema, &c)?].ty);
        }
        let (_, field) = e.to_field(df_schema)?;
        ColumnType::from_arrow(field.data_type()).map_err(|err| SqlError::unsupported(err.to_string()))
    }
}
