//! `SKADI_PROFILE=1`: each shard reports each vertex's own time and output rows.

use crate::stage::Stream;
use arrow::array::RecordBatch;
use skadi_common::{PhysicalPlan, Stage, VertexId};
use std::collections::HashMap;

/// Per-vertex inclusive time and rows of one shard's streams, when `SKADI_PROFILE` is set:
/// the shard then reports each vertex's own time (its stream's time less that of the
/// streamed inputs it pulled) and its output rows.
#[derive(Default)]
pub(crate) struct Profile {
    spent: std::rc::Rc<std::cell::RefCell<HashMap<VertexId, (std::time::Duration, usize)>>>,
}

impl Profile {
    /// Times `inner`'s batches, counting `setup` (making the stream, which may already have
    /// pulled its inputs) as the vertex's too.
    pub(crate) fn wrap<'a>(&self, id: VertexId, setup: std::time::Duration, inner: Stream<'a>) -> Stream<'a> {
        self.spent.borrow_mut().entry(id).or_default().0 += setup;
        let spent = self.spent.clone();
        let mut inner = inner;
        Box::new(std::iter::from_fn(move || {
            let start = std::time::Instant::now();
            let next = inner.next();
            let mut spent = spent.borrow_mut();
            let entry = spent.entry(id).or_default();
            entry.0 += start.elapsed();
            if let Some(Ok(b)) = &next {
                entry.1 += b.num_rows();
            }
            next
        }))
    }

    pub(crate) fn report(
        &self,
        plan: &PhysicalPlan,
        stage: &Stage,
        shard: usize,
        kept: &HashMap<VertexId, Vec<RecordBatch>>,
    ) {
        let spent = self.spent.borrow();
        let mut lines = String::new();
        for &id in &stage.vertices {
            let v = &plan.vertices[id];
            let (total, rows) = spent.get(&id).copied().unwrap_or_default();
            // Streamed inputs ran inside this vertex's calls; materialized ones did not.
            let nested: std::time::Duration = v
                .inputs
                .iter()
                .filter(|e| !e.partitioning.is_exchange() && !kept.contains_key(&e.from))
                .filter_map(|e| spent.get(&e.from).map(|s| s.0))
                .sum();
            lines.push_str(&format!(
                "profile stage {} shard {shard} #{id} {}: {:.1} ms, {rows} rows\n",
                stage.id,
                v.op.name(),
                total.saturating_sub(nested).as_secs_f64() * 1e3
            ));
        }
        eprint!("{lines}");
    }
}
