//! Strings in expressions: string predicates (`=`, `IN`, `LIKE`, regular expressions) and
//! string functions become `flow.match` / `flow.string` ops whose appended columns the
//! bodies read, since bodies take numbers only.

use super::*;

/// A string predicate on one string value: (value, kind, patterns, negated).
pub(super) type StringAtom = (Expr, MatchKind, Vec<String>, bool);

pub(super) fn string_literal(e: &Expr) -> Option<String> {
    match e {
        Expr::Literal(
            ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)),
            _,
        ) => Some(s.clone()),
        _ => None,
    }
}

pub(super) fn is_string_type(dt: &DataType) -> bool {
    matches!(dt, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

/// `e` as a string function a `flow.string` op computes: the function's name there, its
/// string argument and its other arguments' texts (constants only).
pub(super) fn string_call(e: &Expr) -> Option<(&'static str, &Expr, Vec<String>)> {
    // A string cast to a number, a date or a timestamp: computed by `cast` (failing where
    // a value is not one) or, for TRY_CAST, `to_number` (NULL there).
    let numeric = |dt: &DataType| dt.is_numeric() || matches!(dt, DataType::Date32 | DataType::Timestamp(..));
    match e {
        Expr::Cast(c) if numeric(c.field.data_type()) && !matches!(c.expr.as_ref(), Expr::Literal(..)) => {
            return Some(("cast", c.expr.as_ref(), Vec::new()));
        }
        Expr::TryCast(c) if numeric(c.field.data_type()) && !matches!(c.expr.as_ref(), Expr::Literal(..)) => {
            return Some(("to_number", c.expr.as_ref(), Vec::new()));
        }
        _ => {}
    }
    let Expr::ScalarFunction(f) = e else { return None };
    let function = match f.name() {
        "substr" | "substring" => "substr",
        "upper" => "upper",
        "lower" => "lower",
        "btrim" | "trim" => "trim",
        "ltrim" => "ltrim",
        "rtrim" => "rtrim",
        "character_length" | "char_length" | "length" => "length",
        "replace" => "replace",
        "strpos" | "instr" => "strpos",
        "split_part" => "split_part",
        "starts_with" => "starts_with",
        "ends_with" => "ends_with",
        "lpad" => "lpad",
        "rpad" => "rpad",
        "regexp_replace" => "regexp_replace",
        "left" => "left",
        "right" => "right",
        "reverse" => "reverse",
        "repeat" => "repeat",
        "initcap" => "initcap",
        "ascii" => "ascii",
        "octet_length" => "octet_length",
        "translate" => "translate",
        _ => return None,
    };
    let (subject, rest) = f.args.split_first()?;
    let integers = skadi_common::StringFunction::integer_args(function);
    let args: Option<Vec<String>> = rest
        .iter()
        .enumerate()
        .map(|(i, a)| match a {
            Expr::Literal(v, _) if !v.is_null() && integers.contains(&i) => match v.cast_to(&DataType::Int64).ok()? {
                ScalarValue::Int64(Some(n)) => Some(n.to_string()),
                _ => None,
            },
            a => string_literal(a),
        })
        .collect();
    let (_, fewest, most) = skadi_common::STRING_FUNCTIONS.iter().find(|(n, ..)| *n == function)?;
    let args = args?;
    (args.len() >= *fewest && args.len() <= *most).then_some((function, subject, args))
}

/// Whether a `flow.string` function returns a number or a bool (which bodies then read).
pub(super) fn numeric_result(function: &str) -> bool {
    skadi_common::StringFunction::result(function) != skadi_common::StringResult::Text
}

/// Whether `e` is a string value the frontend can materialize as a column: a string
/// column (possibly cast between string types), a string function of one, or a number,
/// date or bool as text.
pub(super) fn is_string_value(e: &Expr, schema: &DFSchema) -> bool {
    match e {
        Expr::Alias(a) => is_string_value(&a.expr, schema),
        Expr::Cast(c) if is_null(&c.expr) => is_string_type(c.field.data_type()),
        e if text_of_column(e, schema).is_some() || text_of_computed(e, schema).is_some() => true,
        Expr::Cast(c) if is_string_type(c.field.data_type()) => is_string_value(&c.expr, schema),
        Expr::Column(c) => schema
            .index_of_column(c)
            .is_ok_and(|i| is_string_type(schema.field(i).data_type())),
        Expr::Literal(v, _) => string_literal(e).is_some() || (v.is_null() && is_string_type(&v.data_type())),
        e if picked(e).is_some() => {
            let (branches, otherwise) = picked(e).expect("checked");
            let value = |v: &Expr| is_null(v) || is_string_value(v, schema);
            branches.iter().all(|(_, v)| value(v)) && value(&otherwise)
        }
        // A concatenation is text whatever its parts; one that cannot be computed says
        // which part when it is.
        e if concat_parts(e).is_some() => true,
        e => string_call(e).is_some_and(|(f, subject, _)| !numeric_result(f) && is_string_value(subject, schema)),
    }
}

pub(super) fn is_null(e: &Expr) -> bool {
    matches!(e, Expr::Literal(v, _) if v.is_null())
}

/// A string-valued CASE, COALESCE, NULLIF or literal as branches (condition, value) and
/// the value where none holds, for a `flow.pick`; `None` for anything else.
fn picked(e: &Expr) -> Option<(Vec<(Expr, Expr)>, Expr)> {
    let null = || Expr::Literal(ScalarValue::Null, None);
    match e {
        Expr::Literal(..) if string_literal(e).is_some() => Some((Vec::new(), e.clone())),
        // A NULL string (a NULL column of a UNION, say): no choice in any row.
        Expr::Literal(v, _) if v.is_null() && is_string_type(&v.data_type()) => Some((Vec::new(), null())),
        Expr::Cast(c) if is_null(&c.expr) && is_string_type(c.field.data_type()) => Some((Vec::new(), null())),
        Expr::Case(case) => {
            let Expr::Case(case) = searched_case(&Expr::Case(case.clone())) else {
                unreachable!("a CASE stays one")
            };
            let branches = case
                .when_then_expr
                .iter()
                .map(|(w, t)| (w.as_ref().clone(), t.as_ref().clone()))
                .collect();
            Some((branches, case.else_expr.map_or_else(null, |x| *x)))
        }
        Expr::ScalarFunction(f) if matches!(f.name(), "coalesce" | "nvl" | "ifnull") => {
            let (last, rest) = f.args.split_last()?;
            let branches = rest
                .iter()
                .map(|a| (Expr::IsNotNull(Box::new(a.clone())), a.clone()))
                .collect();
            Some((branches, last.clone()))
        }
        Expr::ScalarFunction(f) if f.name() == "nullif" && f.args.len() == 2 => {
            let equal = Expr::BinaryExpr(BinaryExpr::new(
                Box::new(f.args[0].clone()),
                DfOperator::Eq,
                Box::new(f.args[1].clone()),
            ));
            Some((vec![(equal, null())], f.args[0].clone()))
        }
        _ => None,
    }
}

/// `IN` lists longer than this over a number or date column become a `flow.match`.
const LONG_IN_LIST: usize = 8;

/// `e` as a predicate a `flow.match` op computes, if it is one: a string predicate, or a
/// long `IN` list of constants.
pub(super) fn string_atom(e: &Expr, schema: &DFSchema) -> Option<StringAtom> {
    match e {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: op @ (DfOperator::Eq | DfOperator::NotEq),
            right,
        }) => {
            let (c, v) = match string_literal(right) {
                Some(v) if is_string_value(left, schema) => (left, v),
                _ if is_string_value(right, schema) => (right, string_literal(left)?),
                _ => return None,
            };
            Some((c.as_ref().clone(), MatchKind::Eq, vec![v], *op == DfOperator::NotEq))
        }
        Expr::BinaryExpr(BinaryExpr {
            left,
            op:
                op @ (DfOperator::RegexMatch
                | DfOperator::RegexNotMatch
                | DfOperator::RegexIMatch
                | DfOperator::RegexNotIMatch),
            right,
        }) if is_string_value(left, schema) => {
            let pattern = string_literal(right)?;
            let insensitive = matches!(op, DfOperator::RegexIMatch | DfOperator::RegexNotIMatch);
            let negated = matches!(op, DfOperator::RegexNotMatch | DfOperator::RegexNotIMatch);
            let pattern = if insensitive { format!("(?i){pattern}") } else { pattern };
            Some((left.as_ref().clone(), MatchKind::Regex, vec![pattern], negated))
        }
        Expr::ScalarFunction(f) if f.name() == "regexp_like" => match f.args.as_slice() {
            [subject, pattern] if is_string_value(subject, schema) => {
                Some((subject.clone(), MatchKind::Regex, vec![string_literal(pattern)?], false))
            }
            _ => None,
        },
        Expr::InList(InList { expr, list, negated }) if is_string_value(expr, schema) => {
            let values: Option<Vec<String>> = list.iter().map(string_literal).collect();
            Some((expr.as_ref().clone(), MatchKind::Eq, values?, *negated))
        }
        // A long list of constants for a number or date column: one hash lookup a row
        // (a `flow.match`), not a body comparing the value with each constant in turn.
        Expr::InList(InList { expr, list, negated }) if list.len() > LONG_IN_LIST => {
            let Expr::Column(c) = expr.as_ref() else { return None };
            let i = schema.index_of_column(c).ok()?;
            let numeric = ColumnType::from_arrow(schema.field(i).data_type()).is_ok_and(ColumnType::is_numeric);
            let values: Option<Vec<String>> = list
                .iter()
                .map(|item| match item {
                    Expr::Literal(v, _) if !v.is_null() => Some(v.to_string()),
                    _ => None,
                })
                .collect();
            numeric.then_some(())?;
            Some((expr.as_ref().clone(), MatchKind::Eq, values?, *negated))
        }
        Expr::Like(Like {
            negated,
            expr,
            pattern,
            escape_char: None,
            case_insensitive,
        }) if is_string_value(expr, schema) => Some((
            expr.as_ref().clone(),
            if *case_insensitive {
                MatchKind::ILike
            } else {
                MatchKind::Like
            },
            vec![string_literal(pattern)?],
            *negated,
        )),
        _ => None,
    }
}

/// `e` with every `CASE x WHEN v THEN ...` written as `CASE WHEN x = v THEN ...`, so a
/// string `x` becomes string predicates (atoms) like any other.
pub(super) fn searched_case(e: &Expr) -> Expr {
    e.clone()
        .transform(|e| {
            Ok(match e {
                Expr::Case(mut case) if case.expr.is_some() => {
                    let base = case.expr.take().expect("checked above");
                    for (when, _) in &mut case.when_then_expr {
                        **when = Expr::BinaryExpr(BinaryExpr::new(base.clone(), DfOperator::Eq, when.clone()));
                    }
                    datafusion::common::tree_node::Transformed::yes(Expr::Case(case))
                }
                e => datafusion::common::tree_node::Transformed::no(e),
            })
        })
        .map(|t| t.data)
        .unwrap_or_else(|_| e.clone())
}

/// `e` as bodies take it: simple CASEs searched ([`searched_case`]), and a string's
/// `IS [NOT] NULL` asked of `s LIKE '%'` instead (a `flow.match` column, NULL exactly
/// where `s` is), since bodies cannot take strings.
pub(super) fn body_form(e: &Expr, schema: &DFSchema) -> Expr {
    searched_case(e)
        .transform(|e| {
            Ok(match e {
                Expr::IsNull(ref inner) | Expr::IsNotNull(ref inner) if is_string_value(inner, schema) => {
                    let every = Expr::Like(Like::new(
                        false,
                        inner.clone(),
                        Box::new(Expr::Literal(ScalarValue::Utf8(Some("%".into())), None)),
                        None,
                        false,
                    ));
                    let null = matches!(e, Expr::IsNull(_));
                    datafusion::common::tree_node::Transformed::yes(if null {
                        Expr::IsNull(Box::new(every))
                    } else {
                        Expr::IsNotNull(Box::new(every))
                    })
                }
                e => datafusion::common::tree_node::Transformed::no(e),
            })
        })
        .map(|t| t.data)
        .unwrap_or_else(|_| e.clone())
}

impl Translator<'_> {
    /// Computes every string predicate in `exprs` into a boolean column appended to
    /// `input` (one `flow.match` op each), for bodies to read.
    pub(super) fn match_atoms(
        &mut self,
        mut input: TableValue,
        df_schema: &DFSchema,
        exprs: &[&Expr],
        loc: &SourceLoc,
    ) -> Result<(TableValue, Vec<Atom>), SqlError> {
        // A predicate, or (None) a numeric string function a body reads as a column.
        let mut found: Vec<(Expr, Option<StringAtom>)> = Vec::new();
        for e in exprs {
            e.apply(|node| {
                let atom = string_atom(node, df_schema);
                let numeric = || {
                    string_call(node)
                        .is_some_and(|(f, subject, _)| numeric_result(f) && is_string_value(subject, df_schema))
                };
                if atom.is_some() || numeric() || string_comparison(node, df_schema).is_some() {
                    if !found.iter().any(|(x, _)| x == node) {
                        found.push((node.clone(), atom));
                    }
                    return Ok(TreeNodeRecursion::Jump);
                }
                Ok(TreeNodeRecursion::Continue)
            })?;
        }
        let mut atoms = Vec::new();
        self.function_calls(&mut input, df_schema, exprs, &mut atoms, loc)?;
        for (expr, atom) in found {
            let (column, negated) = match atom {
                Some((value, kind, patterns, negated)) => {
                    if kind == MatchKind::Regex {
                        for p in &patterns {
                            regex::Regex::new(p).map_err(|e| SqlError {
                                message: format!(
                                    "bad regular expression '{p}': {}",
                                    e.to_string().lines().last().unwrap_or_default().trim()
                                ),
                                position: expr_position(&expr).map(|(l, c)| (l as usize, c as usize)),
                            })?;
                        }
                    }
                    let i = self.string_value(&mut input, df_schema, &value, loc)?;
                    let name = self.schema_of(input)[i].name.clone();
                    let out = self.fresh_name("match");
                    input = self.g.string_match(input, &name, kind, &patterns, &out, loc);
                    (self.schema_of(input).len() - 1, negated)
                }
                None => match string_comparison(&expr, df_schema) {
                    Some(comparison) => (self.compare_value(&mut input, df_schema, &comparison, loc)?, false),
                    None => (self.string_value(&mut input, df_schema, &expr, loc)?, false),
                },
            };
            atoms.push(Atom { expr, column, negated });
        }
        Ok((input, atoms))
    }

    /// The position in `input` of a column holding string value `e` (a string column,
    /// or a string function of one, computed by `flow.string` ops appended to `input`).
    pub(super) fn string_value(
        &mut self,
        input: &mut TableValue,
        df_schema: &DFSchema,
        e: &Expr,
        loc: &SourceLoc,
    ) -> Result<usize, SqlError> {
        match e {
            Expr::Alias(a) => self.string_value(input, df_schema, &a.expr, loc),
            Expr::Cast(c) if is_null(&c.expr) && is_string_type(c.field.data_type()) => {
                self.pick_value(input, df_schema, e, loc)
            }
            e if text_of_column(e, df_schema).is_some() || text_of_computed(e, df_schema).is_some() => {
                self.concat_value(input, df_schema, e, loc)
            }
            Expr::Cast(c) if is_string_type(c.field.data_type()) => self.string_value(input, df_schema, &c.expr, loc),
            Expr::Column(c) => column_index(df_schema, c),
            e if picked(e).is_some() && is_string_value(e, df_schema) => self.pick_value(input, df_schema, e, loc),
            e if concat_parts(e).is_some() => self.concat_value(input, df_schema, e, loc),
            e => {
                let Some((function, subject, args)) = string_call(e) else {
                    return Err(SqlError::unsupported(format!("string expression {e}")));
                };
                let i = self.string_value(input, df_schema, subject, loc)?;
                let from = self.schema_of(*input)[i].clone();
                let (_, field) = e.to_field(df_schema)?;
                let ty =
                    ColumnType::from_arrow(field.data_type()).map_err(|err| SqlError::unsupported(err.to_string()))?;
                // TRY_CAST is NULL where the text is not a value; the others only where it is.
                let out = Column::new(self.fresh_name("str"), ty, from.nullable || function == "to_number");
                *input = self.g.string_function(*input, function, &from.name, &args, out, loc);
                Ok(self.schema_of(*input).len() - 1)
            }
        }
    }

    /// A string-valued CASE, COALESCE, NULLIF or literal ([`picked`]) as a column: a
    /// body computes each row's branch number (-1: NULL), a `flow.pick` the string.
    pub(super) fn pick_value(
        &mut self,
        input: &mut TableValue,
        df_schema: &DFSchema,
        e: &Expr,
        loc: &SourceLoc,
    ) -> Result<usize, SqlError> {
        let (branches, otherwise) = picked(e).expect("the caller checked");
        let mut choices: Vec<Choice> = Vec::new();
        let mut number = |this: &mut Self, input: &mut TableValue, v: &Expr| -> Result<i64, SqlError> {
            if is_null(v) {
                return Ok(-1);
            }
            let choice = match string_literal(v) {
                Some(s) => Choice::Literal(s),
                None => {
                    let i = this.string_value(input, df_schema, v, loc)?;
                    Choice::Column(this.schema_of(*input)[i].name.clone())
                }
            };
            Ok(match choices.iter().position(|c| *c == choice) {
                Some(k) => k as i64,
                None => {
                    choices.push(choice);
                    choices.len() as i64 - 1
                }
            })
        };
        let mut whens = Vec::new();
        for (condition, value) in &branches {
            let k = number(self, input, value)?;
            whens.push((
                Box::new(condition.clone()),
                Box::new(Expr::Literal(ScalarValue::Int64(Some(k)), None)),
            ));
        }
        let last = number(self, input, &otherwise)?;
        let index = match whens.is_empty() {
            true => None,
            false => {
                let case = Expr::Case(datafusion::logical_expr::Case::new(
                    None,
                    whens,
                    Some(Box::new(Expr::Literal(ScalarValue::Int64(Some(last)), None))),
                ));
                let i = self.computed_column(input, df_schema, &case, true, loc)?;
                Some(self.schema_of(*input)[i].name.clone())
            }
        };
        if choices.is_empty() {
            choices.push(Choice::Literal(String::new()));
        }
        let (_, field) = e.to_field(df_schema)?;
        let ty = ColumnType::from_arrow(field.data_type()).map_err(|err| SqlError::unsupported(err.to_string()))?;
        let out = Column::new(self.fresh_name("pick"), ty, index.is_some() || last < 0);
        // Only a NULL: an index of -1 in every row.
        let index = match (index, last) {
            (None, -1) => {
                let minus = Expr::Literal(ScalarValue::Int64(Some(-1)), None);
                let i = self.computed_column(input, df_schema, &minus, true, loc)?;
                Some(self.schema_of(*input)[i].name.clone())
            }
            (index, _) => index,
        };
        *input = self.g.pick(*input, index.as_deref(), &choices, out, loc);
        Ok(self.schema_of(*input).len() - 1)
    }

    /// Appends numeric expression `e` over `input` as a column, keeping every column
    /// `input` has; returns its position. A map (NULL where an argument is), or, for a
    /// branch index (`index`), a three-valued pipeline where `e` needs one, its NULLs as -1.
    pub(super) fn computed_column(
        &mut self,
        input: &mut TableValue,
        df_schema: &DFSchema,
        e: &Expr,
        index: bool,
        loc: &SourceLoc,
    ) -> Result<usize, SqlError> {
        let e = body_form(e, df_schema);
        let (with_atoms, atoms) = self.match_atoms(*input, df_schema, &[&e], loc)?;
        let columns = self.schema_of(with_atoms);
        let body_input = BodyInput {
            df_schema,
            columns: &columns,
            atoms: &atoms,
        };
        let three_valued = needs_three_valued(&body_input, &e, false);
        if three_valued && !index {
            return Err(SqlError::unsupported(format!(
                "as text, a value that needs NULL logic or can fail ({e})"
            )));
        }
        let mut w = match three_valued {
            true => BodyWriter::three_valued(self.g, "pick", &body_input, &[&e], loc)?,
            false => BodyWriter::new(self.g, "pick", &body_input, &[&e], loc)?,
        };
        let (v, valid) = w.value(&e)?;
        let v = match valid {
            Some(valid) => {
                let minus = w.builder().const_int(-1, &v.ty);
                w.builder().select(&valid, &v, &minus)
            }
            None => v,
        };
        let ty = result_type(&v.ty, &e, df_schema);
        let mut exprs: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        exprs.push("$0".into());
        let mut out = columns.clone();
        out.push(Column::new(
            self.fresh_name(if index { "index" } else { "value" }),
            ty,
            !three_valued && w.any_nullable(),
        ));
        let (args, validity) = (w.args(), w.validity_args());
        let (body, fault) = w.finish_with_fault(&[v]);
        *input = match three_valued {
            true => self.g.three_valued(
                with_atoms,
                &body,
                &args,
                &validity,
                &exprs,
                None,
                &[],
                fault.as_ref(),
                out,
                loc,
            ),
            false => self
                .g
                .map_with_fault(with_atoms, &body, &args, &exprs, fault.as_ref(), out, loc),
        };
        Ok(columns.len())
    }
}
