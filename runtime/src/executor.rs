//! The embedded executor: a pool of worker threads running tasks (stage shards) as their
//! inputs become ready. Exchange inputs are futures on cache entries; an entry is deleted
//! once every task that reads it has finished.

use crate::{
    BackendSet, Cache, CacheKey, CacheStats, RuntimeError, StageInputs, backend::prepare_stages, partition_batches,
};
use arrow::record_batch::RecordBatch;
use skadi_common::{Partitioning, PhysicalPlan};
use std::{
    collections::{HashMap, VecDeque},
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Condvar, Mutex},
    time::{Duration, Instant},
};

/// Called after each finished task with (finished, total).
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

pub struct RunOutput {
    /// The output vertex's batches, in order.
    pub batches: Vec<RecordBatch>,
    pub tasks: usize,
    pub cache: CacheStats,
    pub elapsed: Duration,
}

/// Runs plans on worker threads of this process.
#[derive(Debug, Clone)]
pub struct LocalExecutor {
    pub workers: usize,
}

/// An exchange input of a task: a future on a cache entry.
#[derive(Clone, Copy)]
struct Future {
    key: CacheKey,
    vertex: usize,
    edge: usize,
}

struct State {
    ready: VecDeque<usize>,
    pending: Vec<usize>,
    readers: HashMap<CacheKey, usize>,
    finished: usize,
    error: Option<RuntimeError>,
}

impl LocalExecutor {
    pub fn new(workers: usize) -> Self {
        LocalExecutor {
            workers: workers.max(1),
        }
    }

    /// Runs `plan`, each stage on the backend its vertices name (one of `backends`).
    pub fn run(
        &self,
        plan: &PhysicalPlan,
        backends: &dyn BackendSet,
        progress: Option<Progress>,
    ) -> Result<RunOutput, RuntimeError> {
        let start = Instant::now();
        plan.check().map_err(RuntimeError::Plan)?;
        let prepared = prepare_stages(plan, backends)?;
        let cache = Cache::new();

        // Task t is shard t - offset[s] of stage s.
        let mut offset = Vec::new();
        let mut tasks: Vec<(usize, usize)> = Vec::new();
        for s in &plan.stages {
            offset.push(tasks.len());
            tasks.extend((0..s.parallelism).map(|shard| (s.id, shard)));
        }
        // Each task's futures, and how many reads each cache entry will get.
        let mut inputs: Vec<Vec<Future>> = vec![Vec::new(); tasks.len()];
        let mut readers: HashMap<CacheKey, usize> = HashMap::new();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); tasks.len()];
        let mut pending = vec![0usize; tasks.len()];
        for (t, &(stage, shard)) in tasks.iter().enumerate() {
            for &v in &plan.stages[stage].vertices {
                for (k, e) in plan.vertices[v].inputs.iter().enumerate() {
                    if !e.partitioning.is_exchange() {
                        continue;
                    }
                    let from_stage = plan.vertices[e.from].stage;
                    let partition = if matches!(e.partitioning, Partitioning::Hash { .. }) {
                        shard
                    } else {
                        0
                    };
                    for producer_shard in 0..plan.stages[from_stage].parallelism {
                        let key = CacheKey {
                            stage: from_stage,
                            shard: producer_shard,
                            consumer: v,
                            edge: k,
                            partition,
                        };
                        inputs[t].push(Future {
                            key,
                            vertex: v,
                            edge: k,
                        });
                        *readers.entry(key).or_default() += 1;
                        dependents[offset[from_stage] + producer_shard].push(t);
                        pending[t] += 1;
                    }
                }
            }
        }
        // Per stage, its vertices that other stages read (and the plan's output).
        let exports: Vec<Vec<usize>> = plan
            .stages
            .iter()
            .map(|s| {
                s.vertices
                    .iter()
                    .copied()
                    .filter(|&v| v == plan.output || plan.consumers(v).any(|(_, _, e)| e.partitioning.is_exchange()))
                    .collect()
            })
            .collect();
        let ready: VecDeque<usize> = (0..tasks.len()).filter(|&t| pending[t] == 0).collect();
        let state = Mutex::new(State {
            ready,
            pending,
            readers,
            finished: 0,
            error: None,
        });
        let wake = Condvar::new();
        let result: Mutex<Vec<RecordBatch>> = Mutex::new(Vec::new());
        let total = tasks.len();

        let run_task = |t: usize| -> Result<(), RuntimeError> {
            let (stage_id, shard) = tasks[t];
            let stage = &plan.stages[stage_id];
            let mut stage_inputs = StageInputs::new();
            for f in &inputs[t] {
                let batches = cache
                    .get(&f.key)
                    .ok_or_else(|| RuntimeError::Plan(format!("cache entry {:?} is missing", f.key)))?;
                stage_inputs
                    .entry((f.vertex, f.edge))
                    .or_default()
                    .extend(batches.iter().cloned());
            }
            let began = start.elapsed();
            let mut outs = prepared[stage_id].run_shard(stage, shard, stage_inputs, &exports[stage_id])?;
            if crate::profiling() {
                let ended = start.elapsed();
                eprintln!(
                    "profile stage {stage_id} shard {shard}: {:.1} ms, from {:.1} to {:.1} ms into the run",
                    (ended - began).as_secs_f64() * 1e3,
                    began.as_secs_f64() * 1e3,
                    ended.as_secs_f64() * 1e3
                );
            }
            for &v in &exports[stage_id] {
                let out = outs
                    .remove(&v)
                    .ok_or_else(|| RuntimeError::Plan(format!("stage {stage_id} did not return vertex #{v}")))?;
                if v == plan.output {
                    result
                        .lock()
                        .expect("result lock is never poisoned")
                        .extend(out.iter().cloned());
                }
                for (consumer, k, edge) in plan.consumers(v) {
                    if !edge.partitioning.is_exchange() {
                        continue;
                    }
                    let start = Instant::now();
                    let parts = partition_batches(out.clone(), &edge.partitioning, consumer.parallelism)?;
                    if crate::profiling() {
                        eprintln!(
                            "profile stage {stage_id} shard {shard} exchange #{v} → #{}: {:.1} ms",
                            consumer.id,
                            start.elapsed().as_secs_f64() * 1e3
                        );
                    }
                    for (p, batches) in parts.into_iter().enumerate() {
                        cache.put(
                            CacheKey {
                                stage: stage_id,
                                shard,
                                consumer: consumer.id,
                                edge: k,
                                partition: p,
                            },
                            batches,
                        );
                    }
                }
            }
            Ok(())
        };

        let worker = || {
            loop {
                let t = {
                    let mut s = state.lock().expect("scheduler lock is never poisoned");
                    loop {
                        if s.error.is_some() || s.finished == total {
                            return;
                        }
                        if let Some(t) = s.ready.pop_front() {
                            break t;
                        }
                        s = wake.wait(s).expect("scheduler lock is never poisoned");
                    }
                };
                let outcome = catch_unwind(AssertUnwindSafe(|| run_task(t))).unwrap_or_else(|panic| {
                    let message = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "unknown panic".into());
                    Err(RuntimeError::Backend(format!("task panicked: {message}")))
                });
                let mut s = state.lock().expect("scheduler lock is never poisoned");
                match outcome {
                    Ok(()) => {
                        s.finished += 1;
                        for f in &inputs[t] {
                            let left = s.readers.get_mut(&f.key).expect("every future has a reader count");
                            *left -= 1;
                            if *left == 0 {
                                cache.delete(&f.key);
                            }
                        }
                        for &d in &dependents[t] {
                            s.pending[d] -= 1;
                            if s.pending[d] == 0 {
                                s.ready.push_back(d);
                            }
                        }
                        if let Some(p) = progress {
                            p(s.finished, total);
                        }
                    }
                    Err(e) => {
                        s.error.get_or_insert(e);
                    }
                }
                drop(s);
                wake.notify_all();
            }
        };
        std::thread::scope(|scope| {
            for _ in 0..self.workers.min(total.max(1)) {
                scope.spawn(worker);
            }
        });
        let s = state.into_inner().expect("scheduler lock is never poisoned");
        if let Some(e) = s.error {
            return Err(e);
        }
        Ok(RunOutput {
            batches: result.into_inner().expect("result lock is never poisoned"),
            tasks: total,
            cache: cache.stats(),
            elapsed: start.elapsed(),
        })
    }
}
