//! What each vertex computes: one payload type per operator, shared by the FlowGraph view
//! (`skadi_flowgraph::OpKind`, read from a module's attributes) and the physical plan
//! ([`crate::Operator`]), so lowering moves a payload instead of copying its fields.
//! Each payload's `Display` is its text in `skadi explain`, the DOT graph and the
//! visualizer, written beside its definition.
//!
//! Adding an operator: its payload here (one file per family), its FlowGraph op (the IRDL
//! definition, reading and writing its attributes, its verification), a frontend construct
//! that emits it, its lowering decision, and each backend's implementation; see "Where to
//! change what" in docs/ARCHITECTURE.md.

mod aggregate;
mod iterate;
mod join;
mod order;
mod rows;
mod scan;
mod sets;
mod strings;
mod values;
mod window;

pub use aggregate::{Aggregate, AggregateCall, AggregateFunction, AggregateMode};
pub use iterate::Iterate;
pub use join::{Join, JoinKind};
pub use order::{Limit, Sink, Sort, SortKey, TopK};
pub use rows::{Fault, Filter, Map, Pipeline, Project, ProjectExpr};
pub use scan::{Exchange, FileSlice, Scan, Source, TEXT_COLUMNS};
pub use sets::Union;
pub use strings::{
    Choice, Compare, CompareOp, Concat, FLAT_MAP_FUNCTIONS, FlatMap, Match, MatchKind, Pick, STRING_FUNCTIONS,
    StringFunction, StringResult,
};
pub use values::Values;
pub use window::{Frame, FrameBound, Window, WindowCall, WindowFunction};

/// `a, b, c`.
fn list(items: &[String]) -> String {
    items.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_and_sort_keys_round_trip() {
        for a in [
            "sum(x)",
            "count(*)",
            "count(y)",
            "avg(a(b))",
            "min(m)",
            "max(m)",
            "var_samp(v)",
            "stddev_pop(v)",
        ] {
            assert_eq!(AggregateCall::parse(a).unwrap().to_string(), a);
        }
        assert!(AggregateCall::parse("mode(x)").is_none());
        for k in ["a ASC NULLS LAST", "b c DESC NULLS FIRST"] {
            assert_eq!(SortKey::parse(k).unwrap().to_string(), k);
        }
    }
}
