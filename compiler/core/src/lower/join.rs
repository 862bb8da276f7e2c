//! Joins: which side the hash table is built on, and whether that side is broadcast to
//! the probe side's shards or both sides are hash-partitioned on the keys.

use super::{Lowering, stage_root, upstream};
use skadi_common::{Edge, HASH_SCHEME, Join, JoinKind, Operator, Partitioning};
use skadi_flowgraph::FlowOp;

/// Rows of a build side up to which it is broadcast whatever the probe side's size.
const BROADCAST_ROWS: f64 = 100_000.0;

/// Lowers a join: picks the build side (the smaller for inner joins; otherwise the side
/// whose unmatched rows need no tracking), then broadcasts it to the probe side's shards
/// when that moves fewer rows than hash-partitioning both sides on the keys (or when it is
/// small), and hash-partitions both sides otherwise. Joins whose build side must see every
/// probe row (full joins without keys) gather both sides into one shard.
pub(super) fn lower(l: &mut Lowering, join: Join, op: &FlowOp, sides: [usize; 2], workers: usize) -> usize {
    let Join {
        join_kind: kind,
        left_keys,
        right_keys,
        null_aware,
        ..
    } = &join;
    let (kind, null_aware) = (*kind, *null_aware);
    let rows = [l.rows[sides[0]], l.rows[sides[1]]];
    // Semi and anti joins may build on the left (tracking its matched rows) unless NOT
    // IN semantics need every right key in each shard.
    let build = match kind {
        JoinKind::Inner if rows[0] < rows[1] => 0,
        JoinKind::Semi | JoinKind::Anti if !null_aware && rows[0] < rows[1] => 0,
        JoinKind::Right => 0,
        _ => 1,
    };
    let probe = 1 - build;
    let keys = [left_keys.clone(), right_keys.clone()];
    let no_keys = keys[0].is_empty();
    let must_broadcast = no_keys || null_aware;
    // A build side whose rows are emitted after probing must not be copied to every shard.
    let tracked = kind.preserves(build) || (build == 0 && matches!(kind, JoinKind::Semi | JoinKind::Anti));
    let can_broadcast = !tracked;
    let p_probe = l.vertices[sides[probe]].parallelism;
    let side_name = |s: usize| if s == 0 { "left" } else { "right" };
    let location = op.location.clone();
    let wants_broadcast = can_broadcast
        && (must_broadcast
            || p_probe == 1
            || rows[build] <= BROADCAST_ROWS
            || rows[build] * (p_probe - 1) as f64 <= rows[probe]);
    // The join runs in its probe side's stage; a broadcast build side must not be in or
    // depend on that stage (a scan both sides read, say), or the stage would wait on itself.
    let separate = |l: &Lowering, sides: [usize; 2]| {
        let probe_root = stage_root(&l.vertices, sides[probe]);
        !upstream(&l.vertices, sides[build]).any(|v| stage_root(&l.vertices, v) == probe_root)
    };
    let mut sides = sides;
    if wants_broadcast && !separate(l, sides) && matches!(l.vertices[sides[probe]].op, Operator::Scan(_)) {
        // The probe side is a scan the build side also reads (after CSE): reading it
        // again costs less than hash-partitioning the probe rows.
        let scan = l.vertices[sides[probe]].clone();
        let reason = format!("{}; read again for a join whose build side reads it too", scan.reason);
        let copy = l.add(
            scan.op,
            scan.schema,
            scan.parallelism,
            scan.inputs,
            scan.location,
            reason,
        );
        l.rows[copy] = l.rows[sides[probe]];
        sides[probe] = copy;
    }
    let edge = |from: usize, partitioning: Partitioning| Edge { from, partitioning };
    let mut edges = [
        edge(sides[0], Partitioning::Forward),
        edge(sides[1], Partitioning::Forward),
    ];
    let (p, reason);
    if wants_broadcast && separate(l, sides) {
        p = p_probe;
        edges[build].partitioning = Partitioning::Broadcast;
        reason = format!(
            "{} join: builds on the {} side (~{:.0} rows), broadcast to the {p_probe} shard(s) of the {} side (~{:.0} rows){}",
            kind.name(),
            side_name(build),
            rows[build],
            side_name(probe),
            rows[probe],
            if must_broadcast && p_probe > 1 {
                if no_keys {
                    ": no keys to partition on"
                } else {
                    ": NOT IN needs every build key"
                }
            } else {
                ""
            }
        );
    } else if must_broadcast {
        p = 1;
        for e in &mut edges {
            e.partitioning = Partitioning::Gather;
        }
        reason = format!("{} join without keys: both sides gathered into one shard", kind.name());
    } else {
        let p_in = l.vertices[sides[0]].parallelism.max(l.vertices[sides[1]].parallelism);
        p = p_in.min(workers);
        for s in 0..2 {
            edges[s].partitioning = Partitioning::Hash {
                keys: keys[s].clone(),
                scheme: HASH_SCHEME.into(),
            };
        }
        reason = format!(
            "{} join: both sides hash-partitioned on the keys into {p} shard(s); builds on the {} side (~{:.0} rows){}",
            kind.name(),
            side_name(build),
            rows[build],
            if can_broadcast {
                format!(", too large to broadcast to {p_probe} shard(s)")
            } else {
                ", whose unmatched rows the join keeps".to_string()
            }
        );
    }
    // Only one input can be forward (a vertex belongs to its forward input's stage).
    if matches!(edges[0].partitioning, Partitioning::Forward) && matches!(edges[1].partitioning, Partitioning::Forward)
    {
        edges[build].partitioning = Partitioning::Broadcast;
    }
    for e in &mut edges {
        if matches!(e.partitioning, Partitioning::Forward) && l.vertices[e.from].parallelism != p {
            e.partitioning = Partitioning::Gather;
        }
    }
    l.add(
        Operator::HashJoin { join, build },
        op.schema.clone(),
        p,
        edges.to_vec(),
        location,
        reason,
    )
}
