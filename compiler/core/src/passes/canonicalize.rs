//! `canonicalize`: MLIR's canonicalizer (constant folding included) and CSE over the
//! bodies, then symbol DCE to drop bodies no vertex names any more. Vertex ops are left
//! alone: they declare no folding hooks and no memory effects, so MLIR neither folds nor
//! merges them (merging vertices is `cse`'s job).

use super::Pass;
use skadi_flowgraph::{FlowGraph, FlowGraphError};

pub(crate) struct Canonicalize;

const BODY_PIPELINE: &str = "builtin.module(inline{default-pipeline=},canonicalize,cse,symbol-dce)";

impl Pass for Canonicalize {
    fn name(&self) -> &'static str {
        "canonicalize"
    }

    fn summary(&self) -> &'static str {
        "fold constants, simplify and deduplicate body arithmetic; drop unused bodies"
    }

    fn run(&self, graph: &mut FlowGraph) -> Result<bool, FlowGraphError> {
        // Only bodies change (vertex ops declare no folding hooks), so comparing their
        // printed text tells whether anything did; the view prints them anyway.
        let before = graph.view()?;
        graph.run_mlir_passes(BODY_PIPELINE)?;
        Ok(graph.view()?.bodies != before.bodies)
    }
}
