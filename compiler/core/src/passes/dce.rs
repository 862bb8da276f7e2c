//! `dce`: erases vertices whose result nothing reads.

use super::Pass;
use skadi_flowgraph::{FlowGraph, FlowGraphError};

pub(crate) struct DeadVertices;

impl Pass for DeadVertices {
    fn name(&self) -> &'static str {
        "dce"
    }

    fn summary(&self) -> &'static str {
        "erase vertices whose result no other vertex reads"
    }

    fn run(&self, graph: &mut FlowGraph) -> Result<bool, FlowGraphError> {
        Ok(graph.erase_dead()? > 0)
    }
}
