//! The hash join: one input (the build side) goes into a hash table on its key columns;
//! the other (the probe side) streams through it a batch at a time. Keys are compared
//! as SQL does: a NULL key equals nothing. A single integer key (or date) sits inline in
//! an open-addressing table (`crate::slots`) with the chain's head, probes prefetched a
//! few rows ahead; every other key list goes through Arrow's row format.
//!
//! Kinds are read relative to the sides: unmatched probe rows are emitted (NULL-padded)
//! as each probe batch is joined; unmatched build rows once the probe side is done —
//! which is why lowering never broadcasts a build side whose unmatched rows are kept.
//! An inner, semi or anti join builds on whichever side turns out smaller (see [`hash_join`]).

use crate::stage::{CpuPlan, Stream, column_indices};
use crate::{eval, jit::Kernel};
use arrow::{
    array::{Array, ArrayRef, RecordBatch, UInt32Array},
    compute::{concat_batches, take},
    datatypes::SchemaRef,
    row::{RowConverter, SortField},
};
use skadi_common::{Join, JoinKind, Operator};
use skadi_runtime::RuntimeError;

mod table;

use table::{Table, is_int, keys_of};

const NONE: u32 = u32::MAX;

/// What a join needs besides its inputs.
#[derive(Clone)]
pub(crate) struct JoinSpec<'a> {
    pub kind: JoinKind,
    /// The input the table is built on: 0 (left) or 1 (right).
    pub build: usize,
    /// Key column indices in the left and right inputs.
    pub keys: [Vec<usize>; 2],
    /// A condition on the joined row (left ++ right columns).
    pub filter: Option<Condition<'a>>,
    pub null_aware: bool,
    pub schemas: [SchemaRef; 2],
    pub out_schema: SchemaRef,
}

/// A join's condition: its kernel, argument indices (of left ++ right columns), the
/// arguments whose validity it also takes, and what fails where its second result is
/// true (see `skadi_common::Join`).
#[derive(Clone)]
pub(crate) struct Condition<'a> {
    pub kernel: &'a Kernel,
    pub args: Vec<usize>,
    pub validity: Vec<usize>,
    pub fault: Option<String>,
}

/// `batch`'s rows at `indices`; a NULL index gives a NULL row.
fn take_all(batch: &RecordBatch, indices: &UInt32Array) -> Result<Vec<ArrayRef>, String> {
    batch
        .columns()
        .iter()
        .map(|c| {
            if indices.null_count() == indices.len() {
                Ok(arrow::array::new_null_array(c.data_type(), indices.len()))
            } else {
                take(c, indices, None).map_err(|e| e.to_string())
            }
        })
        .collect()
}

/// The joined rows: probe rows `p` beside build rows `b` (a NULL index pads with NULLs),
/// columns in left ++ right order.
fn joined(
    spec: &JoinSpec,
    schema: &SchemaRef,
    probe: &RecordBatch,
    p: &UInt32Array,
    build: &RecordBatch,
    b: &UInt32Array,
) -> Result<RecordBatch, String> {
    let probe_cols = take_all(probe, p)?;
    let build_cols = take_all(build, b)?;
    let columns = if spec.build == 1 {
        [probe_cols, build_cols].concat()
    } else {
        [build_cols, probe_cols].concat()
    };
    crate::stage::batch(schema, columns, p.len())
}

/// The join of a shard's two inputs (left, right) through a table built on `build`.
pub(crate) fn stream<'a>(
    plan: &'a CpuPlan,
    op: &Operator,
    join: &Join,
    build: usize,
    mut inputs: Vec<(Stream<'a>, SchemaRef)>,
    out_schema: SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Result<Stream<'a>, RuntimeError> {
    let (Some((right, right_schema)), Some((left, left_schema)), None, 0 | 1) =
        (inputs.pop(), inputs.pop(), inputs.pop(), build)
    else {
        return Err(fail("a hash join reads two inputs and builds on one of them".into()));
    };
    let joined = arrow::datatypes::Schema::new(
        left_schema
            .fields()
            .iter()
            .chain(right_schema.fields().iter())
            .cloned()
            .collect::<Vec<_>>(),
    );
    let filter = match &join.filter {
        Some(_) => Some(Condition {
            kernel: plan.kernel(op, &joined).map_err(fail)?,
            args: column_indices(&joined, &join.filter_args).map_err(fail)?,
            validity: join.filter_validity.clone(),
            fault: join.filter_fault.clone(),
        }),
        None => None,
    };
    let spec = JoinSpec {
        kind: join.join_kind,
        build,
        keys: [
            column_indices(&left_schema, &join.left_keys).map_err(fail)?,
            column_indices(&right_schema, &join.right_keys).map_err(fail)?,
        ],
        filter,
        null_aware: join.null_aware,
        schemas: [left_schema, right_schema],
        out_schema,
    };
    let as_strings = |s: Stream<'a>| -> Batches<'a> { Box::new(s.map(|b| b.map_err(|e| e.to_string()))) };
    let mut out = Vec::new();
    hash_join(&spec, [as_strings(left), as_strings(right)], |b| {
        out.push(b);
        Ok(())
    })
    .map_err(fail)?;
    Ok(Box::new(out.into_iter().map(Ok)))
}

/// Joins the two input streams; returns the output batches in order.
pub(crate) fn hash_join(
    spec: &JoinSpec,
    mut inputs: [Batches<'_>; 2],
    emit: impl FnMut(RecordBatch) -> Result<(), String>,
) -> Result<(), String> {
    // An inner, semi or anti join builds on the smaller side: the plan's estimate chose
    // one; when the other side turns out smaller (its stream ends before it has as many
    // rows as the built side), the table is built on it instead. Either way each output
    // row is the same (a pair, or a left row that found a match or none); only their
    // order differs. Nothing more is buffered than would be built. A semi or anti join
    // built on its left keeps its left rows' outcomes until the right side is done, which
    // holds in any plan: each left row's shard sees every right row with its key. A
    // null-aware anti join must see the right side's NULLs first, so it never flips.
    let flips = match spec.kind {
        JoinKind::Inner => true,
        JoinKind::Semi | JoinKind::Anti => !spec.null_aware,
        _ => false,
    };
    if flips {
        let (build, probe) = (spec.build, 1 - spec.build);
        let built: Vec<RecordBatch> = take_input(&mut inputs[build]).collect::<Result<_, _>>()?;
        let built_rows: usize = built.iter().map(|b| b.num_rows()).sum();
        let mut rest = take_input(&mut inputs[probe]);
        let (mut seen, mut seen_rows) = (Vec::new(), 0);
        while seen_rows <= built_rows {
            let Some(batch) = rest.next() else {
                inputs[build] = Box::new(built.into_iter().map(Ok));
                inputs[probe] = Box::new(seen.into_iter().map(Ok));
                let flipped = JoinSpec {
                    build: probe,
                    ..spec.clone()
                };
                return join_building_on(&flipped, inputs, emit);
            };
            let batch = batch?;
            seen_rows += batch.num_rows();
            seen.push(batch);
        }
        inputs[build] = Box::new(built.into_iter().map(Ok));
        inputs[probe] = Box::new(seen.into_iter().map(Ok).chain(rest));
    }
    join_building_on(spec, inputs, emit)
}

/// A join's input: record batches, in order.
pub(crate) type Batches<'a> = Box<dyn Iterator<Item = Result<RecordBatch, String>> + 'a>;

fn take_input<'a>(input: &mut Batches<'a>) -> Batches<'a> {
    std::mem::replace(input, Box::new(std::iter::empty()))
}

/// The join with its table built on `spec.build`.
fn join_building_on(
    spec: &JoinSpec,
    mut inputs: [Batches<'_>; 2],
    mut emit: impl FnMut(RecordBatch) -> Result<(), String>,
) -> Result<(), String> {
    let (build, probe) = (spec.build, 1 - spec.build);
    let semi_anti = matches!(spec.kind, JoinKind::Semi | JoinKind::Anti);
    if semi_anti && build == 0 && spec.null_aware {
        return Err("a null-aware anti join must build on its right input".into());
    }
    // Build rows whose matches are tracked: an outer join's kept side, or the left rows
    // of a semi/anti join built on the left (emitted once the probe side is done).
    let track_build = spec.kind.preserves(build) || (semi_anti && build == 0);
    // Integer keys of one column hash as i64; everything else through the row format.
    let converter = match &spec.keys[build][..] {
        [] => None,
        [i] if is_int(spec.schemas[build].field(*i).data_type()) => None,
        keys => Some(
            RowConverter::new(
                keys.iter()
                    .map(|&i| SortField::new(spec.schemas[build].field(i).data_type().clone()))
                    .collect(),
            )
            .map_err(|e| e.to_string())?,
        ),
    };
    let build_batches: Vec<RecordBatch> = take_input(&mut inputs[build]).collect::<Result<_, _>>()?;
    let build_batch = concat_batches(&spec.schemas[build], &build_batches).map_err(|e| e.to_string())?;
    drop(build_batches);
    let keys = keys_of(&build_batch, &spec.keys[build], &converter)?;
    let mut table = Table::build(build_batch, keys);
    if track_build {
        table.matched = vec![false; table.batch.num_rows()];
    }
    // The filter's arguments, in order: the candidate pairs' columns it reads.
    let (filter_schema, filter_columns): (SchemaRef, Vec<usize>) = {
        let fields: Vec<_> = spec.schemas[0]
            .fields()
            .iter()
            .chain(spec.schemas[1].fields().iter())
            .collect();
        let args = spec.filter.as_ref().map_or(&[][..], |c| c.args.as_slice());
        let picked: Vec<_> = args
            .iter()
            .enumerate()
            .map(|(i, &a)| fields[a].as_ref().clone().with_name(format!("{i}")).with_nullable(true))
            .collect();
        (
            std::sync::Arc::new(arrow::datatypes::Schema::new(picked)),
            (0..args.len()).collect(),
        )
    };
    let build_empty = table.batch.num_rows() == 0;
    let probe_stream = take_input(&mut inputs[probe]);
    for batch in probe_stream {
        let batch = batch?;
        let rows = batch.num_rows();
        let keys = keys_of(&batch, &spec.keys[probe], &converter)?;
        let (mut p, mut b) = table.candidates(&keys, rows);
        if let Some(Condition {
            kernel,
            args,
            validity,
            fault,
        }) = &spec.filter
            && !p.is_empty()
        {
            // Only the columns the filter reads are gathered for the candidate pairs.
            let (p_rows, b_rows) = (UInt32Array::from(p.clone()), UInt32Array::from(b.clone()));
            let left_width = spec.schemas[0].fields().len();
            let columns = args
                .iter()
                .map(|&a| {
                    let (side, column) = if a < left_width { (0, a) } else { (1, a - left_width) };
                    let (rows, indices) = if side == build {
                        (&table.batch, &b_rows)
                    } else {
                        (&batch, &p_rows)
                    };
                    take(rows.column(column), indices, None).map_err(|e| e.to_string())
                })
                .collect::<Result<Vec<_>, _>>()?;
            let pairs = RecordBatch::try_new(filter_schema.clone(), columns).map_err(|e| e.to_string())?;
            // A three-valued filter computes its NULLs itself: strict in nothing.
            const STRICT_IN_NOTHING: &[Vec<usize>] = &[Vec::new(), Vec::new()];
            let nulls = eval::Nulls {
                strict: (!validity.is_empty()).then_some(STRICT_IN_NOTHING),
                validity,
                ..Default::default()
            };
            let results = eval::evaluate(kernel, &pairs, &filter_columns, nulls)?.0;
            // Every candidate pair's condition is evaluated, as DataFusion's are.
            if let Some(what) = fault
                && eval::keep_mask(&results[1]).true_count() > 0
            {
                return Err(what.clone());
            }
            let keep = eval::keep_mask(&results[0]);
            let mut k = 0;
            for i in 0..p.len() {
                if keep.value(i) {
                    p[k] = p[i];
                    b[k] = b[i];
                    k += 1;
                }
            }
            p.truncate(k);
            b.truncate(k);
        }
        if !table.matched.is_empty() {
            for &r in &b {
                table.matched[r as usize] = true;
            }
        }
        match spec.kind {
            JoinKind::Semi | JoinKind::Anti if build == 0 => {}
            JoinKind::Semi | JoinKind::Anti => {
                let mut hit = vec![false; rows];
                for &r in &p {
                    hit[r as usize] = true;
                }
                let want = spec.kind == JoinKind::Semi;
                let kept: Vec<u32> = (0..rows as u32)
                    .filter(|&r| {
                        let r_ = r as usize;
                        if spec.null_aware && !build_empty && (table.null_key || keys.null_key(r_)) {
                            // x NOT IN (..., NULL) and NULL NOT IN (non-empty) are unknown.
                            return false;
                        }
                        hit[r_] == want
                    })
                    .collect();
                if !kept.is_empty() {
                    let columns = take_all(&batch, &UInt32Array::from(kept))?;
                    let n = columns.first().map_or(0, |c| c.len());
                    emit(crate::stage::batch(&spec.out_schema, columns, n)?)?;
                }
            }
            _ => {
                let mut p: Vec<Option<u32>> = p.into_iter().map(Some).collect();
                let mut b: Vec<Option<u32>> = b.into_iter().map(Some).collect();
                if spec.kind.preserves(probe) {
                    let mut hit = vec![false; rows];
                    for r in p.iter().flatten() {
                        hit[*r as usize] = true;
                    }
                    for (r, h) in hit.into_iter().enumerate() {
                        if !h {
                            p.push(Some(r as u32));
                            b.push(None);
                        }
                    }
                }
                if !p.is_empty() {
                    let out = joined(
                        spec,
                        &spec.out_schema,
                        &batch,
                        &UInt32Array::from(p),
                        &table.batch,
                        &UInt32Array::from(b),
                    )?;
                    emit(out)?;
                }
            }
        }
    }
    if semi_anti && build == 0 {
        let want = spec.kind == JoinKind::Semi;
        let rows: Vec<u32> = (0..table.batch.num_rows() as u32)
            .filter(|&r| table.matched[r as usize] == want)
            .collect();
        if !rows.is_empty() {
            let n = rows.len();
            let columns = take_all(&table.batch, &UInt32Array::from(rows))?;
            emit(crate::stage::batch(&spec.out_schema, columns, n)?)?;
        }
    } else if spec.kind.preserves(build) {
        let unmatched: Vec<u32> = (0..table.batch.num_rows() as u32)
            .filter(|&r| !table.matched[r as usize])
            .collect();
        if !unmatched.is_empty() {
            let probe_nulls = RecordBatch::new_empty(spec.schemas[probe].clone());
            let n = unmatched.len();
            let out = joined(
                spec,
                &spec.out_schema,
                &probe_nulls,
                &UInt32Array::from(vec![None; n]),
                &table.batch,
                &UInt32Array::from(unmatched),
            )?;
            emit(out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::{
        array::{AsArray, Int64Array},
        datatypes::{DataType, Field, Int64Type, Schema},
    };
    use std::sync::Arc;

    fn side(name: &str, keys: &[i64]) -> (SchemaRef, RecordBatch) {
        let schema = Arc::new(Schema::new(vec![
            Field::new(format!("{name}.k"), DataType::Int64, true),
            Field::new(format!("{name}.v"), DataType::Int64, true),
        ]));
        let values: Vec<i64> = (0..keys.len() as i64).collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(keys.to_vec())),
            Arc::new(Int64Array::from(values)),
        ];
        (schema.clone(), RecordBatch::try_new(schema, columns).unwrap())
    }

    /// Joined rows as (left value, right value), sorted.
    fn inner_join(build: usize, left: &[i64], right: &[i64]) -> Vec<(i64, i64)> {
        let (ls, lb) = side("l", left);
        let (rs, rb) = side("r", right);
        let fields: Vec<_> = ls.fields().iter().chain(rs.fields().iter()).cloned().collect();
        let spec = JoinSpec {
            kind: JoinKind::Inner,
            build,
            keys: [vec![0], vec![0]],
            filter: None,
            null_aware: false,
            schemas: [ls, rs],
            out_schema: Arc::new(Schema::new(fields)),
        };
        // The right side in batches of two rows, as a stream would bring it.
        let right_batches: Vec<_> = (0..rb.num_rows())
            .step_by(2)
            .map(|i| Ok(rb.slice(i, 2.min(rb.num_rows() - i))))
            .collect();
        let mut out = Vec::new();
        hash_join(
            &spec,
            [Box::new(std::iter::once(Ok(lb))), Box::new(right_batches.into_iter())],
            |b| {
                let l = b.column(1).as_primitive::<Int64Type>().clone();
                let r = b.column(3).as_primitive::<Int64Type>().clone();
                out.extend(l.values().iter().zip(r.values().iter()).map(|(a, b)| (*a, *b)));
                Ok(())
            },
        )
        .unwrap();
        out.sort();
        out
    }

    #[test]
    fn an_inner_join_gives_the_same_pairs_whichever_side_it_is_planned_to_build_on() {
        let left = [1, 2, 3, 3];
        let right = [3, 1, 7, 3, 9, 1, 1, 5, 2, 8];
        let expected: Vec<(i64, i64)> = {
            let mut pairs: Vec<_> = left
                .iter()
                .enumerate()
                .flat_map(|(i, l)| {
                    right
                        .iter()
                        .enumerate()
                        .filter(move |(_, r)| *r == l)
                        .map(move |(j, _)| (i as i64, j as i64))
                })
                .collect();
            pairs.sort();
            pairs
        };
        // Planned on the larger right side: the left side turns out smaller and is built.
        assert_eq!(inner_join(1, &left, &right), expected);
        // Planned on the smaller left side, and the larger side streamed past it.
        assert_eq!(inner_join(0, &left, &right), expected);
        // A right side smaller than the built left: flipped while streaming.
        assert_eq!(inner_join(0, &right, &left).len(), expected.len());
    }
}
