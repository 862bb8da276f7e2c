//! Map steps, row by row: split and tokens (`flow.flat_map`), lowercase, uppercase,
//! trim and extract (`flow.string`), grep (`flow.match` + filter), filter and compute (SQL
//! expressions through the SQL frontend's step API), select.

use super::*;

impl Compiler<'_, '_> {
    pub(crate) fn map_step(&mut self, input: TableValue, step: &Spanned<MapStep>) -> Result<TableValue, JobError> {
        let s = step.get_ref();
        let span = step.span();
        let loc = self.at.loc(span.clone());
        let given: Vec<&str> = STEP_KINDS
            .into_iter()
            .filter(|k| match *k {
                "split" => s.split.is_some(),
                "tokens" => s.tokens.is_some(),
                "lowercase" => s.lowercase.is_some(),
                "uppercase" => s.uppercase.is_some(),
                "trim" => s.trim.is_some(),
                "filter" => s.filter.is_some(),
                "grep" => s.grep.is_some(),
                "compute" => s.compute.is_some(),
                "extract" => s.extract.is_some(),
                _ => s.select.is_some(),
            })
            .collect();
        let kind = match given.as_slice() {
            [one] => *one,
            [] => {
                return Err(self.at.error(
                    Some(span),
                    format!("a map step needs one of: {}", STEP_KINDS.join(", ")),
                ));
            }
            [a, b, ..] => {
                return Err(self.at.error(
                    Some(span),
                    format!("a map step does one thing; this one has both '{a}' and '{b}' (write two [[map]] steps)"),
                ));
            }
        };
        // Options that only some kinds take.
        let misplaced = |name: &str, field: Option<Range<usize>>, kinds: &[&str]| -> Result<(), JobError> {
            match field {
                Some(sp) if !kinds.contains(&kind) => Err(self.at.error(
                    Some(sp),
                    format!(
                        "'{name}' does not apply to a '{kind}' step (only to {})",
                        kinds.join(", ")
                    ),
                )),
                _ => Ok(()),
            }
        };
        misplaced("pattern", s.pattern.as_ref().map(Spanned::span), &["split", "tokens"])?;
        misplaced("regex", s.regex.as_ref().map(Spanned::span), &["extract", "grep"])?;
        misplaced("group", s.group.as_ref().map(Spanned::span), &["extract"])?;
        misplaced("invert", s.invert.map(|_| span.clone()), &["grep"])?;
        misplaced(
            "as",
            s.as_.as_ref().map(Spanned::span),
            &["split", "tokens", "extract", "lowercase", "uppercase", "trim"],
        )?;
        let new_name = |default: &str| s.as_.as_ref().map_or(default.to_string(), |a| a.get_ref().clone());
        match kind {
            "split" | "tokens" => {
                let column = s.split.as_ref().or(s.tokens.as_ref()).expect("the kind is given");
                self.string_column(input, column)?;
                let default = if kind == "split" { DEFAULT_SPLIT } else { DEFAULT_TOKENS };
                let pattern = s.pattern.as_ref().map_or(default.to_string(), |p| p.get_ref().clone());
                if let Some(p) = &s.pattern {
                    self.regex(p)?;
                    skadi_common::FlatMap::check_pattern(p.get_ref())
                        .map_err(|message| self.at.error(Some(p.span()), message))?;
                }
                let out = new_name(column.get_ref());
                self.check_new(input, &out, column.get_ref(), s.as_.as_ref(), span)?;
                Ok(self.g.flat_map(input, kind, column.get_ref(), &pattern, &out, &loc))
            }
            "lowercase" | "uppercase" | "trim" => {
                let column = s
                    .lowercase
                    .as_ref()
                    .or(s.uppercase.as_ref())
                    .or(s.trim.as_ref())
                    .expect("the kind is given");
                let from = self.string_column(input, column)?;
                let function = match kind {
                    "lowercase" => "lower",
                    "uppercase" => "upper",
                    _ => "trim",
                };
                let out = new_name(column.get_ref());
                self.check_new(input, &out, column.get_ref(), s.as_.as_ref(), span)?;
                let tmp = Column::new(self.fresh("str"), ColumnType::Utf8, from.nullable);
                let appended = self.g.string_function(input, function, &from.name, &[], tmp, &loc);
                Ok(self.place(appended, &from.name, &out, &loc))
            }
            "extract" => {
                let column = s.extract.as_ref().expect("the kind is given");
                let from = self.string_column(input, column)?;
                let Some(regex) = &s.regex else {
                    return Err(self.at.error(Some(span), "an extract step needs 'regex'"));
                };
                let compiled = self.regex(regex)?;
                let groups = compiled.captures_len() - 1;
                let group = match &s.group {
                    Some(g) => {
                        let n = *g.get_ref();
                        if n < 0 || n as usize > groups {
                            return Err(self.at.error(
                                Some(g.span()),
                                format!("group {n} does not exist: the regex has {groups} capture group(s)"),
                            ));
                        }
                        n as usize
                    }
                    None => usize::from(groups > 0),
                };
                let Some(out) = &s.as_ else {
                    return Err(self.at.error(
                        Some(span),
                        "an extract step needs 'as', the name of the column it makes",
                    ));
                };
                self.check_new(input, out.get_ref(), "", Some(out), span)?;
                let col = Column::new(out.get_ref(), ColumnType::Utf8, true);
                let args = [regex.get_ref().clone(), group.to_string()];
                Ok(self
                    .g
                    .string_function(input, "regexp_extract", &from.name, &args, col, &loc))
            }
            "grep" => {
                let column = s.grep.as_ref().expect("the kind is given");
                self.string_column(input, column)?;
                let Some(regex) = &s.regex else {
                    return Err(self.at.error(Some(span), "a grep step needs 'regex'"));
                };
                self.regex(regex)?;
                let width = self.g.schema(input).len();
                let flag = self.fresh("grep");
                let matched = self.g.string_match(
                    input,
                    column.get_ref(),
                    MatchKind::Regex,
                    std::slice::from_ref(regex.get_ref()),
                    &flag,
                    &loc,
                );
                let mut b = self.g.body("grep", vec!["i1".into()], &loc);
                let mut keep = b.param(0);
                if s.invert == Some(true) {
                    let one = b.const_int(1, "i1");
                    keep = b.binary("arith.xori", &keep, &one);
                }
                let body = b.finish(&[keep]);
                let filtered = self.g.filter(matched, &body, &[flag], &loc);
                let kept: Vec<Column> = self.g.schema(filtered)[..width].to_vec();
                let names: Vec<String> = kept.iter().map(|c| c.name.clone()).collect();
                Ok(self.g.project(filtered, &names, kept, &loc))
            }
            "filter" => {
                let predicate = s.filter.as_ref().expect("the kind is given");
                let snippet = self.at.snippet(predicate);
                step::filter(self.g, input, snippet, self.at.source_name).map_err(|e| self.sql_error(e, snippet))
            }
            "compute" => {
                let columns = s.compute.as_ref().expect("the kind is given");
                if columns.get_ref().is_empty() {
                    return Err(self.at.error(Some(columns.span()), "compute lists no columns"));
                }
                let items: Vec<(String, Snippet<'_>)> = columns
                    .get_ref()
                    .iter()
                    .map(|(name, e)| (name.clone(), self.at.snippet(e)))
                    .collect();
                let first = items[0].1;
                step::compute(self.g, input, &items, self.at.source_name).map_err(|e| self.sql_error(e, first))
            }
            _ => {
                let columns = s.select.as_ref().expect("the kind is given");
                let mut picked = Vec::new();
                for c in columns.get_ref() {
                    picked.push(self.column(input, c.get_ref(), c.span())?);
                }
                if picked.is_empty() {
                    return Err(self.at.error(Some(columns.span()), "select lists no columns"));
                }
                let names: Vec<String> = picked.iter().map(|c| c.name.clone()).collect();
                Ok(self.g.project(input, &names, picked, &loc))
            }
        }
    }
}
