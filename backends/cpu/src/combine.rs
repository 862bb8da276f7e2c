//! String operators that combine several values: `flow.pick` (one of some literals and
//! columns per row), `flow.concat` (`||`, `concat()`) and `flow.compare` (a string
//! compared with another string, not a constant). Each column is read as Utf8 whatever
//! its layout (Utf8, LargeUtf8, Utf8View); `concat` writes other columns as text.

use crate::{
    stage::{Stream, column_index},
    strings::appending,
};
use arrow::{
    array::{Array, ArrayRef, AsArray, StringBuilder},
    compute::{
        cast,
        kernels::cmp::{eq, gt, gt_eq, lt, lt_eq, neq},
    },
    datatypes::{DataType, Int64Type, SchemaRef},
    record_batch::RecordBatch,
};
use skadi_common::{Choice, CompareOp};
use skadi_runtime::RuntimeError;
use std::sync::Arc;

/// A pick's choice or a concatenation's part, resolved against the input: a literal, or
/// the position of a column.
enum Part {
    Literal(String),
    Column(usize),
}

fn parts(choices: &[Choice], schema: &SchemaRef) -> Result<Vec<Part>, String> {
    choices
        .iter()
        .map(|c| match c {
            Choice::Literal(s) => Ok(Part::Literal(s.clone())),
            Choice::Column(c) => column_index(schema, c).map(Part::Column),
        })
        .collect()
}

/// Per part, its column of `b` as Utf8 (`None` for a literal).
fn texts(b: &RecordBatch, parts: &[Part]) -> Result<Vec<Option<ArrayRef>>, String> {
    parts
        .iter()
        .map(|p| match p {
            Part::Literal(_) => Ok(None),
            Part::Column(i) => utf8(b.column(*i)).map(Some),
        })
        .collect()
}

/// The input with the picked strings appended (see `skadi_common::Pick`).
pub(crate) fn pick_stream<'a>(
    op: &skadi_common::Pick,
    input: Stream<'a>,
    in_schema: &SchemaRef,
    out_schema: SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Result<Stream<'a>, RuntimeError> {
    let index = op
        .index
        .as_ref()
        .map(|i| column_index(in_schema, i))
        .transpose()
        .map_err(fail)?;
    let choices = parts(&op.choices, in_schema).map_err(fail)?;
    let to = out_schema.field(out_schema.fields().len() - 1).data_type().clone();
    Ok(appending(input, out_schema, fail, move |b| {
        pick(b, index, &choices, &to)
    }))
}

fn pick(b: &RecordBatch, index: Option<usize>, choices: &[Part], to: &DataType) -> Result<ArrayRef, String> {
    let columns = texts(b, choices)?;
    let indices: Option<ArrayRef> = index
        .map(|i| cast(b.column(i), &DataType::Int64).map_err(|e| e.to_string()))
        .transpose()?;
    let mut out = StringBuilder::new();
    for row in 0..b.num_rows() {
        let k = match &indices {
            None => Some(0),
            Some(a) => {
                let a = a.as_primitive::<Int64Type>();
                (!a.is_null(row)).then(|| a.value(row))
            }
        };
        let choice = k.and_then(|k| usize::try_from(k).ok()).filter(|&k| k < choices.len());
        match choice.map(|k| (&choices[k], &columns[k])) {
            None => out.append_null(),
            Some((Part::Literal(literal), _)) => out.append_value(literal),
            Some((Part::Column(_), Some(c))) => {
                let c = c.as_string::<i32>();
                if c.is_null(row) {
                    out.append_null();
                } else {
                    out.append_value(c.value(row));
                }
            }
            Some((Part::Column(_), None)) => unreachable!("a column choice has its column"),
        }
    }
    let picked: ArrayRef = Arc::new(out.finish());
    cast(&picked, to).map_err(|e| e.to_string())
}

fn utf8(a: &ArrayRef) -> Result<ArrayRef, String> {
    cast(a, &DataType::Utf8).map_err(|e| e.to_string())
}

/// The input with the concatenation appended (see `skadi_common::Concat`).
pub(crate) fn concat_stream<'a>(
    op: &skadi_common::Concat,
    input: Stream<'a>,
    in_schema: &SchemaRef,
    out_schema: SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Result<Stream<'a>, RuntimeError> {
    let parts = parts(&op.parts, in_schema).map_err(fail)?;
    let to = out_schema.field(out_schema.fields().len() - 1).data_type().clone();
    let (skip_nulls, separator) = (op.skip_nulls, op.separator.clone());
    Ok(appending(input, out_schema, fail, move |b| {
        concat(b, &parts, (skip_nulls, separator.as_deref()), &to)
    }))
}

fn concat(
    b: &RecordBatch,
    parts: &[Part],
    (skip_nulls, separator): (bool, Option<&str>),
    to: &DataType,
) -> Result<ArrayRef, String> {
    let columns = texts(b, parts)?;
    let mut out = StringBuilder::new();
    let mut text = String::new();
    for row in 0..b.num_rows() {
        text.clear();
        let mut null = false;
        // The separator goes before every part but the first that is not NULL.
        let mut first = true;
        let mut push = |text: &mut String, part: &str| {
            if let (Some(s), false) = (separator, first) {
                text.push_str(s);
            }
            first = false;
            text.push_str(part);
        };
        for (part, column) in parts.iter().zip(&columns) {
            match (part, column) {
                (Part::Literal(literal), _) => push(&mut text, literal),
                (Part::Column(_), Some(c)) => {
                    let c = c.as_string::<i32>();
                    if c.is_valid(row) {
                        push(&mut text, c.value(row));
                    } else if !skip_nulls {
                        null = true;
                        break;
                    }
                }
                (Part::Column(_), None) => unreachable!("a column part has its column"),
            }
        }
        if null {
            out.append_null();
        } else {
            out.append_value(&text);
        }
    }
    let joined: ArrayRef = Arc::new(out.finish());
    cast(&joined, to).map_err(|e| e.to_string())
}

/// The input with the comparison's boolean column appended (see `skadi_common::Compare`).
pub(crate) fn compare_stream<'a>(
    op: &skadi_common::Compare,
    input: Stream<'a>,
    in_schema: &SchemaRef,
    out_schema: SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Result<Stream<'a>, RuntimeError> {
    let left = column_index(in_schema, &op.left).map_err(fail)?;
    let right = column_index(in_schema, &op.right).map_err(fail)?;
    let compare = match op.op {
        CompareOp::Eq => eq,
        CompareOp::Ne => neq,
        CompareOp::Lt => lt,
        CompareOp::Le => lt_eq,
        CompareOp::Gt => gt,
        CompareOp::Ge => gt_eq,
    };
    Ok(appending(input, out_schema, fail, move |b| {
        let (l, r) = (utf8(b.column(left))?, utf8(b.column(right))?);
        Ok(Arc::new(compare(&l, &r).map_err(|e| e.to_string())?) as ArrayRef)
    }))
}
