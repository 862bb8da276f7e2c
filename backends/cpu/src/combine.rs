//! String operators over several columns: `flow.concat` (`||`, `concat()`) and
//! `flow.compare` (a string compared with another string, not a constant). Each column is
//! read as Utf8 whatever its layout (Utf8, LargeUtf8, Utf8View).

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
    datatypes::{DataType, SchemaRef},
    record_batch::RecordBatch,
};
use skadi_common::{Choice, CompareOp};
use skadi_runtime::RuntimeError;
use std::sync::Arc;

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
    // Per part: a literal, or the position of a string column.
    let parts: Vec<Result<String, usize>> = op
        .parts
        .iter()
        .map(|c| match c {
            Choice::Literal(s) => Ok(Ok(s.clone())),
            Choice::Column(c) => column_index(in_schema, c).map(Err),
        })
        .collect::<Result<_, _>>()
        .map_err(fail)?;
    let skip_nulls = op.skip_nulls;
    let to = out_schema.field(out_schema.fields().len() - 1).data_type().clone();
    Ok(appending(input, out_schema, fail, move |b| {
        concat(b, &parts, skip_nulls, &to)
    }))
}

fn concat(
    b: &RecordBatch,
    parts: &[Result<String, usize>],
    skip_nulls: bool,
    to: &DataType,
) -> Result<ArrayRef, String> {
    let columns: Vec<Option<ArrayRef>> = parts
        .iter()
        .map(|p| p.as_ref().err().map(|&i| utf8(b.column(i))).transpose())
        .collect::<Result<_, _>>()?;
    let mut out = StringBuilder::new();
    let mut text = String::new();
    for row in 0..b.num_rows() {
        text.clear();
        let mut null = false;
        for (part, column) in parts.iter().zip(&columns) {
            match (part, column) {
                (Ok(literal), _) => text.push_str(literal),
                (Err(_), Some(c)) => {
                    let c = c.as_string::<i32>();
                    if c.is_valid(row) {
                        text.push_str(c.value(row));
                    } else if !skip_nulls {
                        null = true;
                        break;
                    }
                }
                (Err(_), None) => unreachable!("a column part has its column"),
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
