//! Aggregates over each row's frame (`sum(x) OVER (... ROWS BETWEEN ...)`): a running
//! state that only adds rows while each row's frame contains the previous one's, else
//! recomputed per row (see the parent module's doc).

use arrow::{
    array::{
        Array, ArrayRef, AsArray, Decimal128Array, DynComparator, Float64Array, Int64Array, UInt64Array,
        make_comparator,
    },
    compute::{SortOptions, cast, take},
    datatypes::{DataType, Decimal128Type},
};
use skadi_common::{AggregateFunction, Frame, FrameBound, WindowCall};
use std::{ops::Range, sync::Arc};

/// An aggregate over each row's frame.
pub(super) fn aggregate(
    call: &WindowCall,
    function: AggregateFunction,
    input: Option<&ArrayRef>,
    frames: &[Range<usize>],
    frame: &Frame,
) -> Result<ArrayRef, String> {
    let mut state = State::new(function, input).map_err(|e| format!("{call}: {e}"))?;
    let n = frames.len();
    let mut out: Vec<Option<Value>> = vec![None; n];
    // Backwards where frames end at the partition's end and their start moves.
    let backwards = frame.end == FrameBound::UnboundedFollowing && frame.start != FrameBound::UnboundedPreceding;
    let order: Box<dyn Iterator<Item = usize>> = if backwards {
        Box::new((0..n).rev())
    } else {
        Box::new(0..n)
    };
    let mut held: Range<usize> = 0..0;
    for i in order {
        let f = frames[i].clone();
        if held.is_empty() || f.start > held.start || f.end < held.end {
            state.reset();
            held = f.start..f.start;
        }
        for j in (f.start..held.start).chain(held.end..f.end) {
            state.add(j)?;
        }
        held = f.start.min(held.start)..f.end.max(held.end);
        out[i] = state.value()?;
    }
    state.finish(out)
}

#[derive(Clone, Copy)]
enum Value {
    Float(f64),
    Int(i64),
    Decimal(i128),
    Row(usize),
}

/// A running aggregate over rows added one at a time.
enum State<'a> {
    Count {
        valid: Option<&'a ArrayRef>,
        rows: i64,
    },
    SumInt {
        values: Int64Array,
        sum: i64,
        rows: usize,
    },
    /// Decimals' scaled integers, summed exactly (an average then divides the sum as
    /// DataFusion's does: see aggregate.rs' decimal_average).
    SumDecimal {
        values: Decimal128Array,
        sum: i128,
        rows: usize,
        avg: bool,
        precision: u8,
        scale: i8,
    },
    SumFloat {
        values: Float64Array,
        sum: f64,
        rows: usize,
        avg: bool,
    },
    /// Welford's running mean and squared deviations.
    Variance {
        values: Float64Array,
        function: AggregateFunction,
        rows: usize,
        mean: f64,
        m2: f64,
    },
    Best {
        input: &'a ArrayRef,
        compare: DynComparator,
        best: Option<usize>,
        max: bool,
    },
}

impl<'a> State<'a> {
    fn new(function: AggregateFunction, input: Option<&'a ArrayRef>) -> Result<State<'a>, String> {
        let input_or = || input.ok_or_else(|| format!("{}() needs an input column", function.name()));
        let as_type = |ty: &DataType| -> Result<ArrayRef, String> { cast(input_or()?, ty).map_err(|e| e.to_string()) };
        Ok(match function {
            AggregateFunction::CountRows => State::Count { valid: None, rows: 0 },
            AggregateFunction::Count => State::Count {
                valid: Some(input_or()?),
                rows: 0,
            },
            AggregateFunction::Sum if input_or()?.data_type().is_integer() => State::SumInt {
                values: as_type(&DataType::Int64)?
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .expect("i64")
                    .clone(),
                sum: 0,
                rows: 0,
            },
            AggregateFunction::Sum | AggregateFunction::Avg
                if let DataType::Decimal128(precision, scale) | DataType::Decimal64(precision, scale) =
                    *input_or()?.data_type() =>
            {
                State::SumDecimal {
                    values: as_type(&DataType::Decimal128(precision, scale))?
                        .as_primitive::<Decimal128Type>()
                        .clone(),
                    sum: 0,
                    rows: 0,
                    avg: function == AggregateFunction::Avg,
                    precision,
                    scale,
                }
            }
            AggregateFunction::Sum | AggregateFunction::Avg => State::SumFloat {
                values: as_type(&DataType::Float64)?
                    .as_any()
                    .downcast_ref::<Float64Array>()
                    .expect("f64")
                    .clone(),
                sum: 0.0,
                rows: 0,
                avg: function == AggregateFunction::Avg,
            },
            AggregateFunction::Min | AggregateFunction::Max => {
                let input = input_or()?;
                let compare = make_comparator(input.as_ref(), input.as_ref(), SortOptions::default())
                    .map_err(|e| e.to_string())?;
                State::Best {
                    input,
                    compare,
                    best: None,
                    max: function == AggregateFunction::Max,
                }
            }
            AggregateFunction::VarSamp
            | AggregateFunction::VarPop
            | AggregateFunction::StddevSamp
            | AggregateFunction::StddevPop => State::Variance {
                values: as_type(&DataType::Float64)?
                    .as_any()
                    .downcast_ref::<Float64Array>()
                    .expect("f64")
                    .clone(),
                function,
                rows: 0,
                mean: 0.0,
                m2: 0.0,
            },
            AggregateFunction::Collect
            | AggregateFunction::CollectSet
            | AggregateFunction::CountDistinct
            | AggregateFunction::Single
            | AggregateFunction::Median => {
                return Err(format!("not supported yet: {} in windows", function.name()));
            }
        })
    }

    fn reset(&mut self) {
        match self {
            State::Count { rows, .. } => *rows = 0,
            State::SumInt { sum, rows, .. } => (*sum, *rows) = (0, 0),
            State::SumDecimal { sum, rows, .. } => (*sum, *rows) = (0, 0),
            State::SumFloat { sum, rows, .. } => (*sum, *rows) = (0.0, 0),
            State::Variance { rows, mean, m2, .. } => (*rows, *mean, *m2) = (0, 0.0, 0.0),
            State::Best { best, .. } => *best = None,
        }
    }

    fn add(&mut self, j: usize) -> Result<(), String> {
        match self {
            State::Count { valid, rows } => *rows += i64::from(valid.is_none_or(|v| v.is_valid(j))),
            State::SumInt { values, sum, rows } => {
                if values.is_valid(j) {
                    *sum = sum.checked_add(values.value(j)).ok_or("sum overflows i64")?;
                    *rows += 1;
                }
            }
            State::SumFloat { values, sum, rows, .. } => {
                if values.is_valid(j) {
                    *sum += values.value(j);
                    *rows += 1;
                }
            }
            State::SumDecimal {
                values, sum, rows, avg, ..
            } => {
                if values.is_valid(j) {
                    *sum = match avg {
                        true => sum.checked_add(values.value(j)).ok_or("decimal overflow in avg")?,
                        false => sum.wrapping_add(values.value(j)),
                    };
                    *rows += 1;
                }
            }
            State::Variance {
                values, rows, mean, m2, ..
            } => {
                if values.is_valid(j) {
                    let v = values.value(j);
                    *rows += 1;
                    let delta = v - *mean;
                    *mean += delta / *rows as f64;
                    *m2 += delta * (v - *mean);
                }
            }
            State::Best {
                input,
                compare,
                best,
                max,
            } => {
                if input.is_valid(j) {
                    let better = best.is_none_or(|b| {
                        let o = compare(j, b);
                        if *max { o.is_gt() } else { o.is_lt() }
                    });
                    if better {
                        *best = Some(j);
                    }
                }
            }
        }
        Ok(())
    }

    fn value(&self) -> Result<Option<Value>, String> {
        Ok(match self {
            State::Count { rows, .. } => Some(Value::Int(*rows)),
            State::SumInt { sum, rows, .. } => (*rows > 0).then_some(Value::Int(*sum)),
            State::SumDecimal { rows: 0, .. } => None,
            State::SumDecimal {
                sum,
                rows,
                avg: true,
                precision,
                scale,
                ..
            } => {
                // Up to four more digits of scale, truncated; overflowing the precision
                // fails.
                let overflow = || "decimal overflow in avg".to_string();
                let up = 10i128.pow(((*scale + 4).min(38) - *scale) as u32);
                let avg = sum.checked_mul(up).ok_or_else(overflow)? / *rows as i128;
                let bound = 10i128.checked_pow(u32::from((*precision + 4).min(38)));
                if bound.is_some_and(|b| avg.unsigned_abs() >= b as u128) {
                    return Err(overflow());
                }
                Some(Value::Decimal(avg))
            }
            State::SumDecimal { sum, .. } => Some(Value::Decimal(*sum)),
            State::SumFloat { sum, rows, avg, .. } => {
                (*rows > 0).then_some(Value::Float(if *avg { sum / *rows as f64 } else { *sum }))
            }
            State::Best { best, .. } => best.map(Value::Row),
            State::Variance { function, rows, m2, .. } => {
                let variance = match function {
                    AggregateFunction::VarPop | AggregateFunction::StddevPop if *rows > 0 => m2 / *rows as f64,
                    AggregateFunction::VarSamp | AggregateFunction::StddevSamp if *rows > 1 => m2 / (*rows - 1) as f64,
                    _ => return Ok(None),
                };
                Some(Value::Float(match function {
                    AggregateFunction::StddevSamp | AggregateFunction::StddevPop => variance.sqrt(),
                    _ => variance,
                }))
            }
        })
    }

    fn finish(&self, values: Vec<Option<Value>>) -> Result<ArrayRef, String> {
        Ok(match self {
            State::Count { .. } | State::SumInt { .. } => {
                Arc::new(Int64Array::from_iter(values.into_iter().map(|v| match v {
                    Some(Value::Int(x)) => Some(x),
                    _ => None,
                })))
            }
            State::SumDecimal {
                avg, precision, scale, ..
            } => {
                let (p, s) = match avg {
                    true => ((*precision + 4).min(38), (*scale + 4).min(38)),
                    false => ((*precision + 10).min(38), *scale),
                };
                let array = Decimal128Array::from_iter(values.into_iter().map(|v| match v {
                    Some(Value::Decimal(x)) => Some(x),
                    _ => None,
                }));
                Arc::new(array.with_precision_and_scale(p, s).map_err(|e| e.to_string())?)
            }
            State::SumFloat { .. } | State::Variance { .. } => {
                Arc::new(Float64Array::from_iter(values.into_iter().map(|v| match v {
                    Some(Value::Float(x)) => Some(x),
                    _ => None,
                })))
            }
            State::Best { input, .. } => {
                let at = UInt64Array::from_iter(values.into_iter().map(|v| match v {
                    Some(Value::Row(j)) => Some(j as u64),
                    _ => None,
                }));
                take(input.as_ref(), &at, None).map_err(|e| e.to_string())?
            }
        })
    }
}
