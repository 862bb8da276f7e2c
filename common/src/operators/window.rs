//! Window functions: per row, a value computed over the rows of its partition (SQL's
//! `f(...) OVER (PARTITION BY ... ORDER BY ... frame)`).

use super::{AggregateFunction, SortKey};
use crate::ColumnType;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Appends one column per call to every row. The rows are grouped into partitions by
/// `partition_by` (NULL equal to NULL) and ordered within each by `order_by`; rows equal
/// on every order key are peers. The result is the input's columns, then the calls' in
/// order; its rows come partition by partition, each in its order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Window {
    pub partition_by: Vec<String>,
    pub order_by: Vec<SortKey>,
    pub calls: Vec<WindowCall>,
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self.order_by.iter().map(SortKey::to_string).collect();
        let calls: Vec<String> = self.calls.iter().map(|c| format!("{c} {}", c.frame)).collect();
        write!(
            f,
            "window partition_by=[{}] order_by=[{}] [{}]",
            super::list(&self.partition_by),
            keys.join(", "),
            calls.join(", ")
        )
    }
}

impl Window {
    /// Checks the window against its input's columns (every column it names exists, a
    /// `RANGE` frame with an offset orders by one numeric key) and returns the types of
    /// the columns its calls append, in order. The FlowGraph verifier and the physical
    /// plan's check share it.
    pub fn check(&self, input: &[crate::Column]) -> Result<Vec<ColumnType>, String> {
        let find = |name: &str| {
            input
                .iter()
                .find(|c| c.name == name)
                .ok_or_else(|| format!("names column '{name}', which its input lacks"))
        };
        for k in &self.partition_by {
            find(k)?;
        }
        for k in &self.order_by {
            find(&k.column)?;
        }
        let mut types = Vec::with_capacity(self.calls.len());
        for call in &self.calls {
            let input_type = call.input.as_deref().map(find).transpose()?.map(|c| c.ty);
            let offset = |b: &FrameBound| matches!(b, FrameBound::Preceding(_) | FrameBound::Following(_));
            if call.function.uses_frame() && !call.frame.rows && (offset(&call.frame.start) || offset(&call.frame.end))
            {
                let numeric = match self.order_by.as_slice() {
                    [k] => find(&k.column)?.ty.is_numeric(),
                    _ => false,
                };
                if !numeric {
                    return Err(format!(
                        "{call} has a RANGE frame with an offset, which needs exactly one numeric order key"
                    ));
                }
            }
            types.push(call.function.output_type(input_type).ok_or_else(|| {
                format!(
                    "{call} over {} values is not supported",
                    input_type.map_or("no".into(), |t| t.to_string())
                )
            })?);
        }
        Ok(types)
    }
}

/// What a call computes for a row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowFunction {
    /// 1, 2, 3, ... in the partition's order.
    RowNumber,
    /// 1 + the rows before the row's first peer.
    Rank,
    /// 1 + the groups of peers before the row's.
    DenseRank,
    /// (rank - 1) / (partition rows - 1); 0 for a partition of one row.
    PercentRank,
    /// (rows up to the row's last peer) / partition rows.
    CumeDist,
    /// The bucket (1..=n) of `n` as-equal-as-possible buckets, larger ones first.
    Ntile(u64),
    /// The input `offset` rows before the row (after for `lead`), `default` (a literal of
    /// the input's type; NULL when absent) past the partition's edge.
    Lag {
        offset: i64,
        default: Option<String>,
    },
    Lead {
        offset: i64,
        default: Option<String>,
    },
    /// The input at the frame's first (last, n-th from 1) row; NULL for an empty frame.
    FirstValue,
    LastValue,
    NthValue(u64),
    /// An aggregate of the input's values in the frame (sum, count, count(*), min, max,
    /// avg).
    Aggregate(AggregateFunction),
}

impl WindowFunction {
    /// The function's name in SQL.
    pub fn name(&self) -> &'static str {
        match self {
            WindowFunction::RowNumber => "row_number",
            WindowFunction::Rank => "rank",
            WindowFunction::DenseRank => "dense_rank",
            WindowFunction::PercentRank => "percent_rank",
            WindowFunction::CumeDist => "cume_dist",
            WindowFunction::Ntile(_) => "ntile",
            WindowFunction::Lag { .. } => "lag",
            WindowFunction::Lead { .. } => "lead",
            WindowFunction::FirstValue => "first_value",
            WindowFunction::LastValue => "last_value",
            WindowFunction::NthValue(_) => "nth_value",
            WindowFunction::Aggregate(a) => a.name(),
        }
    }

    /// Whether the function reads the frame (the others read the partition and peers).
    pub fn uses_frame(&self) -> bool {
        matches!(
            self,
            WindowFunction::FirstValue
                | WindowFunction::LastValue
                | WindowFunction::NthValue(_)
                | WindowFunction::Aggregate(_)
        )
    }

    /// The result's type over an input of type `input` (`None` for functions without
    /// one), or `None` where that is not supported yet. Ranks are i64; aggregates type
    /// as in `flow.aggregate`.
    pub fn output_type(&self, input: Option<ColumnType>) -> Option<ColumnType> {
        match (self, input) {
            (
                WindowFunction::RowNumber | WindowFunction::Rank | WindowFunction::DenseRank | WindowFunction::Ntile(_),
                None,
            ) => Some(ColumnType::Int64),
            (WindowFunction::PercentRank | WindowFunction::CumeDist, None) => Some(ColumnType::Float64),
            (
                WindowFunction::Lag { .. }
                | WindowFunction::Lead { .. }
                | WindowFunction::FirstValue
                | WindowFunction::LastValue
                | WindowFunction::NthValue(_),
                Some(t),
            ) => Some(t),
            (
                WindowFunction::Aggregate(
                    AggregateFunction::Collect
                    | AggregateFunction::CollectSet
                    | AggregateFunction::CountDistinct
                    | AggregateFunction::Single
                    | AggregateFunction::Median,
                ),
                _,
            ) => None,
            (WindowFunction::Aggregate(a), t) => a.output_type(t),
            _ => None,
        }
    }
}

/// One window function call, written `rank()`, `sum(x)`, `ntile[4]()`, `lag[1](x)` or
/// `lead[2, 0](x)` (offset, default), with its frame (which only functions that read
/// one look at).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WindowCall {
    pub function: WindowFunction,
    /// The input column; `None` for ranks and `count(*)`.
    pub input: Option<String>,
    pub frame: Frame,
    /// `IGNORE NULLS` (lag, lead, first_value, last_value, nth_value): the rows counted
    /// and picked are those whose input is not NULL.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_nulls: bool,
}

impl WindowCall {
    /// Reads a call from `WindowCall`'s `Display` text and its frame's.
    pub fn parse(text: &str, frame: &str) -> Option<WindowCall> {
        let frame = Frame::parse(frame)?;
        let (text, ignore_nulls) = match text.strip_suffix(" IGNORE NULLS") {
            Some(call) => (call, true),
            None => (text, false),
        };
        let (head, rest) = text.split_once('(')?;
        let arg = rest.strip_suffix(')')?;
        let input = (!arg.is_empty()).then(|| arg.to_string());
        let (name, params) = match head.split_once('[') {
            Some((name, p)) => (name, Some(p.strip_suffix(']')?)),
            None => (head, None),
        };
        let number = |p: Option<&str>| p?.parse::<u64>().ok().filter(|&n| n > 0);
        let shift = |p: Option<&str>| -> Option<(i64, Option<String>)> {
            let (offset, default) = match p?.split_once(", ") {
                Some((o, d)) => (o, Some(d.to_string())),
                None => (p?, None),
            };
            Some((offset.parse().ok()?, default))
        };
        let function = match (name, &input) {
            ("row_number", None) => WindowFunction::RowNumber,
            ("rank", None) => WindowFunction::Rank,
            ("dense_rank", None) => WindowFunction::DenseRank,
            ("percent_rank", None) => WindowFunction::PercentRank,
            ("cume_dist", None) => WindowFunction::CumeDist,
            ("ntile", None) => WindowFunction::Ntile(number(params)?),
            ("lag", Some(_)) => {
                let (offset, default) = shift(params)?;
                WindowFunction::Lag { offset, default }
            }
            ("lead", Some(_)) => {
                let (offset, default) = shift(params)?;
                WindowFunction::Lead { offset, default }
            }
            ("first_value", Some(_)) => WindowFunction::FirstValue,
            ("last_value", Some(_)) => WindowFunction::LastValue,
            ("nth_value", Some(_)) => WindowFunction::NthValue(number(params)?),
            _ => {
                let call = super::AggregateCall::parse(text)?;
                return (!ignore_nulls).then_some(WindowCall {
                    function: WindowFunction::Aggregate(call.function),
                    input: call.input,
                    frame,
                    ignore_nulls,
                });
            }
        };
        let takes_params = matches!(
            function,
            WindowFunction::Ntile(_)
                | WindowFunction::Lag { .. }
                | WindowFunction::Lead { .. }
                | WindowFunction::NthValue(_)
        );
        let skips_nulls = matches!(
            function,
            WindowFunction::Lag { .. }
                | WindowFunction::Lead { .. }
                | WindowFunction::FirstValue
                | WindowFunction::LastValue
                | WindowFunction::NthValue(_)
        );
        (takes_params == params.is_some() && (skips_nulls || !ignore_nulls)).then_some(WindowCall {
            function,
            input,
            frame,
            ignore_nulls,
        })
    }
}

impl fmt::Display for WindowCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arg = self.input.as_deref().unwrap_or("");
        match &self.function {
            WindowFunction::Aggregate(AggregateFunction::CountRows) => f.write_str("count(*)"),
            WindowFunction::Ntile(n) | WindowFunction::NthValue(n) => {
                write!(f, "{}[{n}]({arg})", self.function.name())
            }
            WindowFunction::Lag { offset, default } | WindowFunction::Lead { offset, default } => {
                write!(f, "{}[{offset}", self.function.name())?;
                if let Some(d) = default {
                    write!(f, ", {d}")?;
                }
                write!(f, "]({arg})")
            }
            function => write!(f, "{}({arg})", function.name()),
        }?;
        if self.ignore_nulls {
            f.write_str(" IGNORE NULLS")?;
        }
        Ok(())
    }
}

/// The rows a frame-reading call sees, relative to the current row: `ROWS` counts
/// rows, `RANGE` compares the (one, numeric) order key's value; `CURRENT ROW` in a
/// `RANGE` frame includes the row's peers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Frame {
    pub rows: bool,
    pub start: FrameBound,
    pub end: FrameBound,
}

impl Frame {
    /// The whole partition (a call without ORDER BY).
    pub fn whole() -> Frame {
        Frame {
            rows: true,
            start: FrameBound::UnboundedPreceding,
            end: FrameBound::UnboundedFollowing,
        }
    }

    /// Reads a frame as its `Display` writes it.
    pub fn parse(text: &str) -> Option<Frame> {
        let (units, rest) = text.split_once(" BETWEEN ")?;
        let rows = match units {
            "ROWS" => true,
            "RANGE" => false,
            _ => return None,
        };
        let (start, end) = rest.split_once(" AND ")?;
        Some(Frame {
            rows,
            start: FrameBound::parse(start)?,
            end: FrameBound::parse(end)?,
        })
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = if self.rows { "ROWS" } else { "RANGE" };
        write!(f, "{units} BETWEEN {} AND {}", self.start, self.end)
    }
}

/// One end of a frame; offsets are non-negative (rows, or order-key units).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum FrameBound {
    UnboundedPreceding,
    Preceding(f64),
    CurrentRow,
    Following(f64),
    UnboundedFollowing,
}

impl FrameBound {
    fn parse(text: &str) -> Option<FrameBound> {
        Some(match text {
            "UNBOUNDED PRECEDING" => FrameBound::UnboundedPreceding,
            "CURRENT ROW" => FrameBound::CurrentRow,
            "UNBOUNDED FOLLOWING" => FrameBound::UnboundedFollowing,
            _ => {
                let (n, dir) = text.split_once(' ')?;
                let n: f64 = n.parse().ok().filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
                match dir {
                    "PRECEDING" => FrameBound::Preceding(n),
                    "FOLLOWING" => FrameBound::Following(n),
                    _ => return None,
                }
            }
        })
    }
}

impl fmt::Display for FrameBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameBound::UnboundedPreceding => f.write_str("UNBOUNDED PRECEDING"),
            FrameBound::Preceding(n) => write!(f, "{n} PRECEDING"),
            FrameBound::CurrentRow => f.write_str("CURRENT ROW"),
            FrameBound::Following(n) => write!(f, "{n} FOLLOWING"),
            FrameBound::UnboundedFollowing => f.write_str("UNBOUNDED FOLLOWING"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_and_frames_round_trip() {
        let frames = [
            "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW",
            "RANGE BETWEEN 2.5 PRECEDING AND 3 FOLLOWING",
            "ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING",
        ];
        let calls = [
            "row_number()",
            "rank()",
            "dense_rank()",
            "percent_rank()",
            "cume_dist()",
            "ntile[4]()",
            "lag[1](x)",
            "lead[2, -7.5](a(b))",
            "first_value(x)",
            "last_value(x)",
            "nth_value[3](x)",
            "sum(x)",
            "count(*)",
            "avg(sum(y))",
        ];
        for frame in frames {
            for call in calls {
                let c = WindowCall::parse(call, frame).unwrap_or_else(|| panic!("{call} {frame}"));
                assert_eq!(
                    (c.to_string(), c.frame.to_string()),
                    (call.to_string(), frame.to_string())
                );
            }
        }
        for bad in [
            "rank(x)",
            "ntile()",
            "ntile[0]()",
            "lag(x)",
            "row_number[1]()",
            "mode(x)",
        ] {
            assert!(WindowCall::parse(bad, frames[0]).is_none(), "{bad}");
        }
        assert!(Frame::parse("GROUPS BETWEEN CURRENT ROW AND CURRENT ROW").is_none());
        assert!(Frame::parse("ROWS BETWEEN -1 PRECEDING AND CURRENT ROW").is_none());
    }
}
