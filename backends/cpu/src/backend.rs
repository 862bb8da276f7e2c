//! The backend the runtime sees: it prepares a plan by compiling (or reusing) the native
//! code of its bodies; the prepared plan runs shards (stage.rs).

use crate::{
    LoweredBodies,
    code::Shared,
    jit,
    planning::{check_bodies, check_values, plan_bodies, plan_kernels},
    stage::CpuPlan,
};
use skadi_common::PhysicalPlan;
use skadi_runtime::{Backend, PreparedPlan, RuntimeError};
use std::sync::{Arc, atomic::Ordering};

/// The CPU backend. Clones share their counters and compiled code.
#[derive(Debug, Default, Clone)]
pub struct CpuBackend {
    shared: Arc<Shared>,
}

impl CpuBackend {
    pub fn new() -> Self {
        Self::default()
    }

    /// Without reuse, every prepared plan compiles its own code (to time compiling).
    pub fn with_code_reuse(self, reuse: bool) -> Self {
        CpuBackend {
            shared: Arc::new(Shared::new(reuse)),
        }
    }

    /// Modules JIT-compiled by this backend: one per prepared plan that has bodies and
    /// whose bodies and kernels it has not compiled before.
    pub fn compilations(&self) -> usize {
        self.shared.compilations.load(Ordering::SeqCst)
    }

    /// Calls into compiled kernels: one per record batch a filter or map processes.
    pub fn kernel_calls(&self) -> usize {
        self.shared.kernel_calls.load(Ordering::SeqCst)
    }

    /// Compiles the plan's bodies as `prepare` does and returns the lowered code.
    pub fn lower_bodies(&self, plan: &PhysicalPlan) -> Result<LoweredBodies, RuntimeError> {
        let compiled = jit::compile(&plan_bodies(plan), &plan_kernels(plan), true).map_err(RuntimeError::Backend)?;
        let (llvm_dialect, llvm_ir) = compiled.text.expect("text was asked for");
        Ok(LoweredBodies { llvm_dialect, llvm_ir })
    }
}

impl Backend for CpuBackend {
    fn name(&self) -> &str {
        "cpu"
    }

    fn prepare(&self, plan: &PhysicalPlan) -> Result<Box<dyn PreparedPlan>, RuntimeError> {
        check_values(plan).map_err(RuntimeError::Plan)?;
        let bodies = plan_bodies(plan);
        let compiled = if bodies.is_empty() {
            None
        } else {
            let compiled = self.shared.compiled(bodies, plan_kernels(plan))?;
            check_bodies(plan, &compiled.signatures).map_err(RuntimeError::Plan)?;
            Some(compiled)
        };
        Ok(Box::new(CpuPlan {
            plan: plan.clone(),
            compiled,
            shared: self.shared.clone(),
        }))
    }
}
