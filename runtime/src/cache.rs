//! The shared cache: task outputs as Arrow record batches, keyed by the producing task and
//! the consumer edge and partition they are for. Readers get the producer's batches
//! themselves (`Arc`s over Arrow buffers), never copies.

use arrow::record_batch::RecordBatch;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub stage: usize,
    pub shard: usize,
    /// The consuming vertex (the edge's head).
    pub consumer: usize,
    /// Which of the consumer's inputs (a join reads two, possibly from one producer).
    pub edge: usize,
    pub partition: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub entries: usize,
    pub bytes: usize,
    pub peak_bytes: usize,
    pub puts: usize,
}

#[derive(Default)]
pub struct Cache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<CacheKey, Arc<Vec<RecordBatch>>>,
    stats: CacheStats,
}

fn size(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::get_array_memory_size).sum()
}

impl Cache {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn put(&self, key: CacheKey, batches: Vec<RecordBatch>) {
        let bytes = size(&batches);
        let mut inner = self.inner.lock().expect("cache lock is never poisoned");
        if let Some(old) = inner.entries.insert(key, Arc::new(batches)) {
            inner.stats.bytes -= size(&old);
        }
        inner.stats.bytes += bytes;
        inner.stats.puts += 1;
        inner.stats.peak_bytes = inner.stats.peak_bytes.max(inner.stats.bytes);
        inner.stats.entries = inner.entries.len();
    }

    pub fn get(&self, key: &CacheKey) -> Option<Arc<Vec<RecordBatch>>> {
        self.inner
            .lock()
            .expect("cache lock is never poisoned")
            .entries
            .get(key)
            .cloned()
    }

    pub fn delete(&self, key: &CacheKey) {
        let mut inner = self.inner.lock().expect("cache lock is never poisoned");
        if let Some(old) = inner.entries.remove(key) {
            inner.stats.bytes -= size(&old);
        }
        inner.stats.entries = inner.entries.len();
    }

    pub fn stats(&self) -> CacheStats {
        self.inner.lock().expect("cache lock is never poisoned").stats
    }
}
