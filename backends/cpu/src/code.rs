//! The code cache: native code compiled for earlier plans, shared by a backend's clones,
//! and the counters tests and benchmarks read.

use crate::{
    jit::{self, CompiledBodies},
    kernel::KernelSpec,
};
use skadi_runtime::RuntimeError;
use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

/// What a plan's native code is compiled from: its bodies' MLIR and the kernels over them.
type CodeKey = (Vec<(String, String)>, Vec<KernelSpec>);

/// How many plans' code a backend keeps. Compiling is tens of milliseconds per plan
/// (LLVM at -O2), as much as running a small query; a query run again, or another query
/// with the same bodies, reuses the code (like a prepared statement).
const COMPILED_PLANS: usize = 64;

/// What a backend's clones share: counters and the code cache.
pub(crate) struct Shared {
    /// Whether plans reuse code compiled for earlier plans.
    reuse: bool,
    pub(crate) compilations: AtomicUsize,
    pub(crate) kernel_calls: AtomicUsize,
    /// Code compiled for earlier plans, by what it was compiled from, oldest first.
    compiled: Mutex<Vec<(CodeKey, Arc<CompiledBodies>)>>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared::new(true)
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("compilations", &self.compilations)
            .field("kernel_calls", &self.kernel_calls)
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub(crate) fn new(reuse: bool) -> Self {
        Shared {
            reuse,
            compilations: AtomicUsize::new(0),
            kernel_calls: AtomicUsize::new(0),
            compiled: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn count_call(&self) {
        self.kernel_calls.fetch_add(1, Ordering::Relaxed);
    }

    /// The native code of `bodies` and `kernels`: compiled before, or now.
    pub(crate) fn compiled(
        &self,
        bodies: Vec<(String, String)>,
        kernels: Vec<KernelSpec>,
    ) -> Result<Arc<CompiledBodies>, RuntimeError> {
        let key = (bodies, kernels);
        let cache = || self.compiled.lock().expect("the code cache lock is never poisoned");
        if self.reuse
            && let Some((_, code)) = cache().iter().find(|(k, _)| *k == key)
        {
            return Ok(code.clone());
        }
        // Compiled outside the lock: two plans compile at once, each its own code.
        let code = Arc::new(jit::compile(&key.0, &key.1, false).map_err(RuntimeError::Backend)?);
        self.compilations.fetch_add(1, Ordering::SeqCst);
        if !self.reuse {
            return Ok(code);
        }
        let mut cache = cache();
        if cache.len() >= COMPILED_PLANS {
            cache.remove(0);
        }
        cache.push((key, code.clone()));
        Ok(code)
    }
}
