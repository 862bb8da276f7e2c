//! Grouping: hash aggregation, its functions and their partial states.

use crate::ColumnType;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Groups rows by `keys` (NULL equal to NULL) and computes `aggregates` per group. The
/// result is the keys, then one column per call (a final or single aggregate) or its
/// states (a partial one: see [`AggregateFunction::state_types`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Aggregate {
    pub keys: Vec<String>,
    pub aggregates: Vec<AggregateCall>,
}

impl fmt::Display for Aggregate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let calls: Vec<String> = self.aggregates.iter().map(AggregateCall::to_string).collect();
        write!(f, "keys=[{}] [{}]", super::list(&self.keys), calls.join(", "))
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AggregateMode {
    /// Raw rows in, per-shard states out (`keys ++ states`).
    Partial,
    /// States in (after a hash exchange on the keys), final values out.
    Final,
    /// Raw rows in, final values out (one shard sees every row of its groups).
    Single,
}

impl AggregateMode {
    /// The physical operator's name in this mode.
    pub fn operator_name(self) -> &'static str {
        match self {
            AggregateMode::Partial => "partial_aggregate",
            AggregateMode::Final => "final_aggregate",
            AggregateMode::Single => "aggregate",
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum AggregateFunction {
    Sum,
    Count,
    /// `count(*)`: rows, not values.
    CountRows,
    Min,
    Max,
    Avg,
    /// The group's values as a string: sorted, joined by ", ".
    Collect,
    /// The group's distinct values as a string: sorted, joined by ", ".
    CollectSet,
    /// How many distinct values the group has (`count(DISTINCT x)`); like the collects,
    /// its state is every value, so rows are not combined before the shuffle.
    CountDistinct,
    /// Variance of the group's values over n - 1 (NULL for fewer than two), or n (`var_pop`);
    /// the standard deviations are their square roots. Computed in f64 (Welford's running
    /// mean and sum of squared deviations, merged across shards by Chan's rule).
    VarSamp,
    VarPop,
    StddevSamp,
    StddevPop,
    /// The value of the group's only row (NULL without rows); a second row is an error.
    /// A scalar subquery not known to yield one row reads its value through this.
    /// Like the collects, rows are not combined before the shuffle.
    Single,
    /// The middle value of the group's numbers (of two middle ones, their mean, in the
    /// input's type: integers and decimals truncated toward zero), NULL without any.
    /// Like the collects, its state is every value.
    Median,
}

impl AggregateFunction {
    /// The functions a call may name, by name (`count(*)` is [`AggregateFunction::CountRows`]).
    const NAMED: [AggregateFunction; 14] = [
        AggregateFunction::CountDistinct,
        AggregateFunction::Sum,
        AggregateFunction::Count,
        AggregateFunction::Min,
        AggregateFunction::Max,
        AggregateFunction::Avg,
        AggregateFunction::Collect,
        AggregateFunction::CollectSet,
        AggregateFunction::VarSamp,
        AggregateFunction::VarPop,
        AggregateFunction::StddevSamp,
        AggregateFunction::StddevPop,
        AggregateFunction::Single,
        AggregateFunction::Median,
    ];

    /// How many state columns a partial aggregate emits for this function.
    pub fn state_width(self) -> usize {
        match self {
            AggregateFunction::Avg => 2,
            f if f.is_variance() => 3,
            _ => 1,
        }
    }

    /// Whether the function is a variance or a standard deviation.
    pub fn is_variance(self) -> bool {
        matches!(
            self,
            AggregateFunction::VarSamp
                | AggregateFunction::VarPop
                | AggregateFunction::StddevSamp
                | AggregateFunction::StddevPop
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            AggregateFunction::Sum => "sum",
            AggregateFunction::Count | AggregateFunction::CountRows => "count",
            AggregateFunction::Min => "min",
            AggregateFunction::Max => "max",
            AggregateFunction::Avg => "avg",
            AggregateFunction::Collect => "collect",
            AggregateFunction::CollectSet => "collect_set",
            AggregateFunction::CountDistinct => "count_distinct",
            AggregateFunction::VarSamp => "var_samp",
            AggregateFunction::VarPop => "var_pop",
            AggregateFunction::StddevSamp => "stddev_samp",
            AggregateFunction::StddevPop => "stddev_pop",
            AggregateFunction::Single => "single",
            AggregateFunction::Median => "median",
        }
    }

    /// The type of the aggregate's final value over an input of type `input` (`None` for
    /// `count(*)`), or `None` where that is not supported yet. Sums of integers are i64,
    /// of floats f64; averages of numbers f64. Decimals stay exact, typed as DataFusion
    /// types them: a sum of `decimal(p,s)` is `decimal(min(38,p+10),s)`, an average
    /// `decimal(min(38,p+4),min(38,s+4))`.
    pub fn output_type(self, input: Option<ColumnType>) -> Option<ColumnType> {
        use ColumnType as T;
        match (self, input) {
            (AggregateFunction::Count | AggregateFunction::CountRows, _) => Some(T::Int64),
            (AggregateFunction::CountDistinct, Some(_)) => Some(T::Int64),
            (AggregateFunction::Avg, Some(T::Decimal(p, s))) => Some(T::Decimal((p + 4).min(38), (s + 4).min(38))),
            (AggregateFunction::Avg, Some(t)) if t.is_numeric() && t != T::Date32 => Some(T::Float64),
            (f, Some(t)) if f.is_variance() && t.is_numeric() && t != T::Date32 => Some(T::Float64),
            (AggregateFunction::Sum, Some(T::Int8 | T::Int16 | T::Int32 | T::Int64)) => Some(T::Int64),
            (AggregateFunction::Sum, Some(T::Float32 | T::Float64)) => Some(T::Float64),
            (AggregateFunction::Sum, Some(T::Decimal(p, s))) => Some(T::Decimal((p + 10).min(38), s)),
            (AggregateFunction::Min | AggregateFunction::Max | AggregateFunction::Single, Some(t))
                if t.is_numeric() || t.is_string() =>
            {
                Some(t)
            }
            (AggregateFunction::Collect | AggregateFunction::CollectSet, Some(_)) => Some(T::Utf8),
            (AggregateFunction::Median, Some(t)) if t.is_numeric() && t != T::Date32 => Some(t),
            _ => None,
        }
    }

    /// Whether partial states can be combined before the shuffle (a combiner): false for
    /// the collects, whose state is every value.
    pub fn combinable(self) -> bool {
        !matches!(
            self,
            AggregateFunction::Collect
                | AggregateFunction::CollectSet
                | AggregateFunction::CountDistinct
                | AggregateFunction::Single
                | AggregateFunction::Median
        )
    }

    /// The types of the partial state columns for an input of type `input`.
    pub fn state_types(self, input: Option<ColumnType>) -> Option<Vec<ColumnType>> {
        use ColumnType as T;
        Some(match self {
            // An average of decimals sums them exactly, at their scale.
            AggregateFunction::Avg => match input {
                Some(T::Decimal(_, s)) => vec![T::Decimal(38, s), T::Int64],
                _ => vec![T::Float64, T::Int64],
            },
            // The running mean, the sum of squared deviations from it, the count.
            f if f.is_variance() => {
                f.output_type(input)?;
                vec![T::Float64, T::Float64, T::Int64]
            }
            f => vec![f.output_type(input)?],
        })
    }
}

/// One aggregate of a group, written `sum(x)`, `count(*)`, `collect_set(w)`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AggregateCall {
    pub function: AggregateFunction,
    /// The input column; `None` only for `count(*)`.
    pub input: Option<String>,
}

impl AggregateCall {
    /// Reads a call as [`AggregateCall`]'s `Display` writes it.
    pub fn parse(text: &str) -> Option<AggregateCall> {
        let (name, rest) = text.split_once('(')?;
        let arg = rest.strip_suffix(')')?;
        if (name, arg) == ("count", "*") {
            return Some(AggregateCall {
                function: AggregateFunction::CountRows,
                input: None,
            });
        }
        let function = AggregateFunction::NAMED.into_iter().find(|f| f.name() == name)?;
        (!arg.is_empty()).then(|| AggregateCall {
            function,
            input: Some(arg.to_string()),
        })
    }
}

impl fmt::Display for AggregateCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.function, &self.input) {
            (AggregateFunction::CountRows, _) => f.write_str("count(*)"),
            (function, Some(c)) => write!(f, "{}({c})", function.name()),
            (function, None) => write!(f, "{}()", function.name()),
        }
    }
}
