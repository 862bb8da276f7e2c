//! Skadi's verification walk: what the IRDL definition cannot say. Every column an op
//! names exists in its input; every body's signature matches the columns it reads and the
//! schema it produces; filters return `i1`; a graph ends in exactly one sink.

use crate::{FlowGraphError, GraphView, OpKind, view::FlowOp};
use skadi_common::{
    Aggregate, AggregateFunction, Choice, ColumnType, Compare, Concat, Exchange, Filter, FlatMap, Iterate, Join,
    JoinKind, Map, Match, MatchKind, Pick, Pipeline, Project, ProjectExpr, Schema, Sink, Sort, Source, StringFunction,
    StringResult, TopK,
};

pub(crate) fn verify(view: &GraphView) -> Result<(), FlowGraphError> {
    let sinks = view.ops.iter().filter(|o| matches!(o.kind, OpKind::Sink(_))).count();
    if sinks != 1 {
        return Err(FlowGraphError::Verify {
            op: "builtin.module".into(),
            location: "<flowgraph>".into(),
            message: format!("must hold exactly one flow.sink, found {sinks}"),
        });
    }
    for op in &view.ops {
        verify_op(view, op)?;
    }
    Ok(())
}

fn verify_op(view: &GraphView, op: &FlowOp) -> Result<(), FlowGraphError> {
    let fail = |message: String| FlowGraphError::Verify {
        op: op.name.clone(),
        location: op.location.clone().unwrap_or_else(|| "<flowgraph>".into()),
        message,
    };
    let input: Schema = op
        .inputs
        .first()
        .map(|&i| view.ops[i].schema.clone())
        .unwrap_or_default();
    let column = |name: &str| -> Result<ColumnType, FlowGraphError> {
        input
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.ty)
            .ok_or_else(|| fail(format!("names column '{name}', which its input does not have")))
    };
    // `validity`: how many i1 parameters (args' validity) follow the args.
    let check_body = |body: &str, args: &[String], validity: usize| -> Result<Vec<String>, FlowGraphError> {
        let b = view
            .bodies
            .get(body)
            .ok_or_else(|| fail(format!("names body @{body}, which the module does not define")))?;
        if b.params.len() != args.len() + validity {
            return Err(fail(format!(
                "passes {} columns and {validity} validities to body @{body}, which takes {}",
                args.len(),
                b.params.len()
            )));
        }
        if b.params[args.len()..].iter().any(|p| p != "i1") {
            return Err(fail(format!("body @{body} takes its args' validity as i1")));
        }
        for (arg, param) in args.iter().zip(&b.params) {
            let ty = column(arg)?;
            match ty.body_scalar() {
                Some(s) if s == param => {}
                Some(s) => {
                    return Err(fail(format!(
                        "passes column '{arg}' ({ty}, a {s} in bodies) to body @{body} parameter of type {param}"
                    )));
                }
                None => {
                    return Err(fail(format!(
                        "passes {ty} column '{arg}' to body @{body}: not supported yet: {ty} values in compiled bodies"
                    )));
                }
            }
        }
        Ok(b.results.clone())
    };
    let check_exprs = |body: &str, exprs: &[ProjectExpr], results: &[String]| -> Result<(), FlowGraphError> {
        if exprs.len() != op.schema.len() {
            return Err(fail(format!(
                "computes {} columns but its result has {}",
                exprs.len(),
                op.schema.len()
            )));
        }
        for (e, out) in exprs.iter().zip(&op.schema) {
            let ty = match e {
                ProjectExpr::Column(c) => column(c)?,
                ProjectExpr::Body(n) => {
                    let r = results
                        .get(*n)
                        .ok_or_else(|| fail(format!("uses result ${n} of @{body}, which has {}", results.len())))?;
                    // A date is an i32 (days) in bodies, a decimal its scaled integer:
                    // the column's type says which the result is.
                    if out.ty.body_scalar() == Some(r.as_str()) {
                        out.ty
                    } else {
                        ColumnType::from_body_scalar(r)
                            .ok_or_else(|| fail(format!("body @{body} returns {r}, which no column type holds")))?
                    }
                }
            };
            if ty != out.ty {
                return Err(fail(format!(
                    "result column '{}' is {} but its expression gives {ty}",
                    out.name, out.ty
                )));
            }
        }
        Ok(())
    };
    match &op.kind {
        OpKind::Source(Source {
            format,
            files,
            columns,
            prune,
            ..
        }) => {
            if let Some(bad) = prune.iter().find(|b| crate::parse_bound(b).is_none()) {
                return Err(fail(format!(
                    "has prune bound '{bad}'; expected 'column <op> number' with op one of < <= > >= ="
                )));
            }
            if columns.len() != op.schema.len() {
                return Err(fail(format!(
                    "reads {} file columns but its result has {}",
                    columns.len(),
                    op.schema.len()
                )));
            }
            if !["parquet", "csv", "text"].contains(&format.as_str()) {
                return Err(fail(format!(
                    "reads format '{format}'; known formats are parquet, csv and text"
                )));
            }
            if format == "text"
                && let Some(c) = columns
                    .iter()
                    .find(|c| !skadi_common::TEXT_COLUMNS.iter().any(|(n, _)| n == c))
            {
                return Err(fail(format!(
                    "reads column '{c}' of text files, which have path, file, line and line_number"
                )));
            }
            if files.is_empty() {
                return Err(fail("reads no files".into()));
            }
        }
        OpKind::Filter(Filter { body, args }) => {
            let results = check_body(body, args, 0)?;
            if results != ["i1"] {
                return Err(fail(format!(
                    "predicate @{body} returns ({}), expected a boolean (i1)",
                    results.join(", ")
                )));
            }
        }
        OpKind::Project(Project { columns }) => {
            if columns.len() != op.schema.len() {
                return Err(fail(format!(
                    "selects {} columns but its result has {}",
                    columns.len(),
                    op.schema.len()
                )));
            }
            for (c, out) in columns.iter().zip(&op.schema) {
                if column(c)? != out.ty {
                    return Err(fail(format!(
                        "result column '{}' is {} but input column '{c}' is {}",
                        out.name,
                        out.ty,
                        column(c)?
                    )));
                }
            }
        }
        OpKind::Map(Map { body, args, exprs }) => {
            let results = check_body(body, args, 0)?;
            check_exprs(body, exprs, &results)?;
        }
        OpKind::Pipeline(Pipeline {
            body,
            args,
            exprs,
            keep,
            strict,
            validity,
            result_validity,
            fault,
        }) => {
            let results = check_body(body, args, validity.len())?;
            check_exprs(body, exprs, &results)?;
            if let Some(k) = keep
                && results.get(*k).map(String::as_str) != Some("i1")
            {
                return Err(fail(format!(
                    "keeps rows by result ${k} of @{body}, which is not an i1"
                )));
            }
            if strict.len() != results.len() || strict.iter().flatten().any(|&a| a >= args.len()) {
                return Err(fail(format!(
                    "'strict' must list, for each of the {} results of @{body}, indices of its {} args",
                    results.len(),
                    args.len()
                )));
            }
            if validity.iter().any(|&a| a >= args.len()) {
                return Err(fail(format!("'validity' must list indices of its {} args", args.len())));
            }
            if let Some(f) = fault
                && results.get(f.result).map(String::as_str) != Some("i1")
            {
                return Err(fail(format!(
                    "fails where result ${} of @{body} is true, which is not an i1 result",
                    f.result
                )));
            }
            if let Some((r, v)) = result_validity
                .iter()
                .find(|&&(r, v)| r >= results.len() || results.get(v).map(String::as_str) != Some("i1"))
            {
                return Err(fail(format!(
                    "'result_validity' pairs result ${r} with ${v}, which is not an i1 result of @{body}"
                )));
            }
        }
        OpKind::Aggregate {
            aggregate: Aggregate { keys, aggregates },
            ..
        } => {
            for k in keys {
                column(k)?;
            }
            for a in aggregates {
                if let Some(c) = &a.input {
                    let ty = column(c)?;
                    if (matches!(a.function, AggregateFunction::Sum | AggregateFunction::Avg)
                        || a.function.is_variance())
                        && !ty.is_numeric()
                    {
                        return Err(fail(format!("computes {}({c}) over a {ty} column", a.function.name())));
                    }
                }
            }
            if keys.len() + aggregates.len() != op.schema.len() {
                return Err(fail(format!(
                    "has {} keys and {} aggregates but its result has {} columns",
                    keys.len(),
                    aggregates.len(),
                    op.schema.len()
                )));
            }
        }
        OpKind::Sort(Sort { keys }) | OpKind::TopK(TopK { keys, .. }) => {
            for k in keys {
                column(&k.column)?;
            }
        }
        OpKind::Window(window) => {
            let types = window.check(&input).map_err(fail)?;
            let got: Vec<_> = op.schema.iter().map(|c| (c.name.as_str(), c.ty)).collect();
            let expected: Vec<_> = input.iter().map(|c| (c.name.as_str(), c.ty)).collect();
            let appended: Vec<ColumnType> = got.iter().skip(expected.len()).map(|c| c.1).collect();
            if got.len() != expected.len() + types.len() || got[..expected.len()] != expected[..] || appended != types {
                return Err(fail(format!(
                    "must return its input's columns, then one column per call of its type ({})",
                    types.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
                )));
            }
        }
        OpKind::Join(join) => verify_join(view, op, join).map_err(fail)?,
        OpKind::Match(Match {
            column: c,
            match_kind: kind,
            patterns,
        }) => {
            if *kind == MatchKind::Regex {
                for p in patterns {
                    check_regex(p).map_err(fail)?;
                }
            }
            let ty = column(c)?;
            let matchable = ty.is_string() || (ty.is_numeric() && *kind == MatchKind::Eq);
            if !matchable {
                return Err(fail(format!(
                    "matches column '{c}' of type {ty}; only strings are matched (numbers and dates only for equality)"
                )));
            }
            appends(&input, &op.schema, |t| t == ColumnType::Bool, "one bool column").map_err(fail)?;
        }
        OpKind::Pick(Pick { index, choices }) => {
            if let Some(i) = index {
                let ty = column(i)?;
                if !matches!(
                    ty,
                    ColumnType::Int8 | ColumnType::Int16 | ColumnType::Int32 | ColumnType::Int64
                ) {
                    return Err(fail(format!("picks by column '{i}' of type {ty}, not an integer")));
                }
            }
            if choices.is_empty() {
                return Err(fail("has no choices".into()));
            }
            for choice in choices {
                if let Choice::Column(c) = choice {
                    let ty = column(c)?;
                    if !ty.is_string() {
                        return Err(fail(format!("picks column '{c}' of type {ty}, not a string")));
                    }
                }
            }
            appends(&input, &op.schema, |t| t.is_string(), "one string column").map_err(fail)?;
        }
        OpKind::Concat(Concat { parts, .. }) => {
            for part in parts {
                if let Choice::Column(c) = part {
                    column(c)?;
                }
            }
            appends(&input, &op.schema, |t| t.is_string(), "one string column").map_err(fail)?;
        }
        OpKind::Compare(Compare { left, right, .. }) => {
            for c in [left, right] {
                let ty = column(c)?;
                if !ty.is_string() {
                    return Err(fail(format!("compares column '{c}' of type {ty}, not a string")));
                }
            }
            appends(&input, &op.schema, |t| t == ColumnType::Bool, "one bool column").map_err(fail)?;
        }
        OpKind::StringFunction(StringFunction {
            function,
            column: c,
            args,
        }) => {
            let ty = column(c)?;
            if !ty.is_string() {
                return Err(fail(format!(
                    "applies {function} to column '{c}' of type {ty}, not a string"
                )));
            }
            let Some(&(_, fewest, most)) = skadi_common::STRING_FUNCTIONS.iter().find(|(f, ..)| f == function) else {
                return Err(fail(format!("not supported yet: string function '{function}'")));
            };
            if args.len() < fewest || args.len() > most {
                return Err(fail(format!(
                    "passes {} arguments to {function}, which takes {fewest} to {most}",
                    args.len()
                )));
            }
            let integers = StringFunction::integer_args(function);
            if let Some(a) = integers
                .iter()
                .filter_map(|&i| args.get(i))
                .find(|a| a.parse::<i64>().is_err())
            {
                return Err(fail(format!("passes '{a}' to {function} where it takes an integer")));
            }
            if function == "regexp_extract" {
                let groups = check_regex(&args[0]).map_err(fail)?;
                if !args[1].parse::<usize>().is_ok_and(|g| g <= groups) {
                    return Err(fail(format!(
                        "extracts group '{}' of a regular expression with {groups} group(s)",
                        args[1]
                    )));
                }
            }
            if function == "regexp_replace" {
                let flags = args.get(2).map_or("", String::as_str);
                check_regex(&StringFunction::regexp_replace_pattern(&args[0], flags).0).map_err(fail)?;
            }
            if function == "split_part" && args[1] == "0" {
                return Err(fail("takes split_part's field 0; fields count from 1 (or -1)".into()));
            }
            let result = StringFunction::result(function);
            let ok = |t: ColumnType| match result {
                StringResult::Number => t.is_numeric(),
                StringResult::Bool => t == ColumnType::Bool,
                StringResult::Text => t.is_string(),
            };
            appends(&input, &op.schema, ok, "one column of the function's result").map_err(fail)?;
        }
        OpKind::FlatMap(FlatMap {
            function,
            column: c,
            pattern,
        }) => {
            if !skadi_common::FLAT_MAP_FUNCTIONS.contains(&function.as_str()) {
                return Err(fail(format!("not supported yet: flat_map function '{function}'")));
            }
            FlatMap::check_pattern(pattern).map_err(fail)?;
            let ty = column(c)?;
            if !ty.is_string() {
                return Err(fail(format!("splits column '{c}' of type {ty}, not a string")));
            }
            let rest: Schema = input.iter().filter(|x| x.name != *c).cloned().collect();
            appends(&rest, &op.schema, ColumnType::is_string, "one string column")
                .map_err(|m| fail(m.replace("its input's columns", &format!("its input's columns but '{c}'"))))?;
        }
        OpKind::Exchange(Exchange { partitioning, keys }) => {
            if !["hash", "gather", "broadcast"].contains(&partitioning.as_str()) {
                return Err(fail(format!(
                    "partitioning '{partitioning}' is not hash, gather or broadcast"
                )));
            }
            for k in keys {
                column(k)?;
            }
        }
        OpKind::Iterate(Iterate {
            training, body, args, ..
        }) => {
            let b = view
                .bodies
                .get(body)
                .ok_or_else(|| fail(format!("names body @{body}, which the module does not define")))?;
            let state = training.state_len();
            if b.params.len() != args.len() + state {
                return Err(fail(format!(
                    "body @{body} takes {} parameters; a {} step over {} columns takes them and {state} state values",
                    b.params.len(),
                    training.model.name(),
                    args.len()
                )));
            }
            for (arg, param) in args.iter().zip(&b.params) {
                let ty = column(arg)?;
                if ty.body_scalar() != Some(param.as_str()) {
                    return Err(fail(format!(
                        "passes column '{arg}' ({ty}) to body @{body} parameter of type {param}"
                    )));
                }
            }
            if let Some(p) = b.params[args.len()..].iter().find(|p| *p != "f64") {
                return Err(fail(format!(
                    "body @{body} takes a state value of type {p}; state is f64"
                )));
            }
            if b.results.len() != training.sums() || b.results.iter().any(|r| r != "f64") {
                return Err(fail(format!(
                    "body @{body} must return {} f64 sums for this model, not ({})",
                    training.sums(),
                    b.results.join(", ")
                )));
            }
            let metrics = [ColumnType::Int64, ColumnType::Float64, ColumnType::Int64];
            let types: Vec<ColumnType> = op.schema.iter().map(|c| c.ty).collect();
            let expected: Vec<ColumnType> = std::iter::repeat_n(ColumnType::Float64, state).chain(metrics).collect();
            if types != expected {
                return Err(fail(format!(
                    "result must be {state} f64 state columns then iterations (i64), loss (f64), rows (i64)"
                )));
            }
        }
        OpKind::Limit(_) => {}
        OpKind::Values(values) => values.check(op.schema.len()).map_err(fail)?,
        // IRDL has checked that every input has the result's table type.
        OpKind::Union(_) => {
            if op.inputs.is_empty() {
                return Err(fail("unions no inputs".into()));
            }
        }
        OpKind::Sink(Sink { names }) => {
            if names.len() != input.len() {
                return Err(fail(format!(
                    "names {} columns but its input has {}",
                    names.len(),
                    input.len()
                )));
            }
        }
    }
    Ok(())
}

/// A join's keys exist on their sides with equal types, its result is left ++ right (left
/// alone for semi and anti) with unique names, and its filter reads the joined row.
fn verify_join(view: &GraphView, op: &FlowOp, join: &Join) -> Result<(), String> {
    let Join {
        join_kind: kind,
        left_keys,
        right_keys,
        filter,
        filter_args,
        filter_validity,
        filter_fault,
        null_aware,
    } = join;
    let (kind, null_aware, filter) = (*kind, *null_aware, filter.as_deref());
    let [l, r] = op.inputs[..] else {
        return Err("must read two tables".into());
    };
    let (left, right) = (&view.ops[l].schema, &view.ops[r].schema);
    if left_keys.len() != right_keys.len() {
        return Err(format!(
            "has {} left keys but {} right keys",
            left_keys.len(),
            right_keys.len()
        ));
    }
    fn find<'s>(schema: &'s Schema, side: &str, name: &str) -> Result<&'s skadi_common::Column, String> {
        schema
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| format!("names {side} key '{name}', which its {side} input does not have"))
    }
    for (lk, rk) in left_keys.iter().zip(right_keys) {
        let (a, b) = (find(left, "left", lk)?, find(right, "right", rk)?);
        if a.ty != b.ty {
            return Err(format!(
                "joins '{lk}' ({}) with '{rk}' ({}): key types must be equal",
                a.ty, b.ty
            ));
        }
    }
    if null_aware && kind != JoinKind::Anti {
        return Err(format!(
            "is null_aware, which only anti joins can be, but is a {} join",
            kind.name()
        ));
    }
    let joined: Schema = left.iter().chain(right.iter()).cloned().collect();
    let mut names = std::collections::HashSet::new();
    if let Some(dup) = joined.iter().find(|c| !names.insert(c.name.as_str())) {
        return Err(format!(
            "reads column '{}' from both inputs; join inputs need distinct names",
            dup.name
        ));
    }
    let expected: Vec<(&str, ColumnType)> = if kind.outputs_right() {
        joined.iter().map(|c| (c.name.as_str(), c.ty)).collect()
    } else {
        left.iter().map(|c| (c.name.as_str(), c.ty)).collect()
    };
    let got: Vec<(&str, ColumnType)> = op.schema.iter().map(|c| (c.name.as_str(), c.ty)).collect();
    if got != expected {
        return Err(format!(
            "a {} join must return {} but returns different columns",
            kind.name(),
            if kind.outputs_right() {
                "left ++ right columns"
            } else {
                "its left input's columns"
            }
        ));
    }
    if let Some(body) = filter {
        let b = view
            .bodies
            .get(body)
            .ok_or_else(|| format!("names filter body @{body}, which the module does not define"))?;
        let validity = &b.params[filter_args.len().min(b.params.len())..];
        let results: &[&str] = if filter_fault.is_some() { &["i1", "i1"] } else { &["i1"] };
        if b.results != results
            || b.params.len() != filter_args.len() + filter_validity.len()
            || validity.iter().any(|p| p != "i1")
            || filter_validity.iter().any(|&a| a >= filter_args.len())
        {
            return Err(format!(
                "filter @{body} must take its {} filter_args, then an i1 per filter_validity entry (an index of filter_args), and return one i1 (two with filter_fault: the second where it failed)",
                filter_args.len()
            ));
        }
        for (arg, param) in filter_args.iter().zip(&b.params) {
            let c = joined
                .iter()
                .find(|c| &c.name == arg)
                .ok_or_else(|| format!("passes column '{arg}', which neither input has, to @{body}"))?;
            if c.ty.body_scalar() != Some(param.as_str()) {
                return Err(format!(
                    "passes column '{arg}' ({}) to @{body} parameter of type {param}",
                    c.ty
                ));
            }
        }
    } else if !filter_args.is_empty() {
        return Err("has filter_args but no filter".into());
    }
    Ok(())
}

/// `output` is `input`'s columns and one more, whose type `ok` accepts.
/// Checks a regular expression; returns how many capture groups it has.
fn check_regex(pattern: &str) -> Result<usize, String> {
    regex::Regex::new(pattern)
        .map(|r| r.captures_len() - 1)
        .map_err(|e| format!("bad regular expression '{pattern}': {e}"))
}

fn appends(input: &Schema, output: &Schema, ok: impl Fn(ColumnType) -> bool, what: &str) -> Result<(), String> {
    let expected: Vec<_> = input.iter().map(|c| (c.name.as_str(), c.ty)).collect();
    let got: Vec<_> = output.iter().map(|c| (c.name.as_str(), c.ty)).collect();
    if got.len() != expected.len() + 1 || got[..expected.len()] != expected[..] || !got.last().is_some_and(|c| ok(c.1))
    {
        return Err(format!("must return its input's columns and {what} after them"));
    }
    Ok(())
}
