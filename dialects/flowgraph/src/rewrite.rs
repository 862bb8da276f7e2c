//! In-place rewriting of a FlowGraph module, for passes. Ops are addressed by their index
//! in [`FlowGraph::view`] (flow ops in module order); any rewrite makes earlier views and
//! indices stale, so a pass re-reads the view after each change. Every primitive edits the
//! MLIR module itself; [`FlowGraph::verify`] checks the result (MLIR's verifier, IRDL
//! included, then Skadi's walk).

use crate::{FlowGraph, FlowGraphError, syntax::table_type, verify::verify};
use melior::{
    Context,
    ir::{
        Attribute, Identifier, Module, Type, ValueLike,
        block::BlockLike,
        operation::{OperationBuilder, OperationLike, OperationMutLike, OperationRef},
    },
    pass::PassManager,
    utility::{parse_pass_pipeline, register_all_passes},
};
use mlir_sys::MlirOperation;
use skadi_common::Schema;
use std::collections::HashMap;

/// Runs MLIR pass `pipeline` over `module`. MLIR's own verification after each pass is
/// off: the pass manager verifies the FlowGraph after every pass that rewrote it.
fn run_passes(context: &Context, module: &mut Module, pipeline: &str) -> Result<(), String> {
    register_all_passes();
    let manager = PassManager::new(context);
    manager.enable_verifier(false);
    parse_pass_pipeline(manager.as_operation_pass_manager(), pipeline)
        .map_err(|e| format!("pass pipeline {pipeline}: {e}"))?;
    manager.run(module).map_err(|_| format!("{pipeline} failed: "))
}

/// The functions (any op with a symbol name) of a module's block, by name.
fn functions<'a>(block: &'a melior::ir::BlockRef<'_, '_>) -> impl Iterator<Item = (String, MlirOperation)> + 'a {
    std::iter::successors(block.first_operation(), |op| op.next_in_block()).filter_map(|op| {
        let symbol = crate::syntax::attribute_text(op.attribute("sym_name").ok()?)?;
        Some((symbol, op.to_raw()))
    })
}

/// A vertex op to insert with [`FlowGraph::replace`].
#[derive(Debug, Clone)]
pub struct NewOp {
    /// e.g. `flow.pipeline`.
    pub name: String,
    /// View indices of the ops whose results it reads, in operand order.
    pub inputs: Vec<usize>,
    /// Attribute names and their MLIR text (`["a", "b"]`, `@body`, `-1 : i64`).
    pub attributes: Vec<(String, String)>,
    /// The result's schema; `None` for an op without a result (a sink).
    pub schema: Option<Schema>,
}

fn rewrite_error(message: impl Into<String>) -> FlowGraphError {
    FlowGraphError::Mlir(format!("<pass>: error: {}", message.into()))
}

/// Redirects the uses of `of`'s result to `with`'s result.
fn replace_uses(of: mlir_sys::MlirOperation, with: mlir_sys::MlirOperation) {
    // SAFETY: callers pass live ops of one module.
    let (of, with) = unsafe { (OperationRef::from_raw(of), OperationRef::from_raw(with)) };
    if let (Ok(from), Ok(to)) = (of.result(0), with.result(0)) {
        // SAFETY: both values belong to live ops.
        unsafe { mlir_sys::mlirValueReplaceAllUsesOfWith(from.to_raw(), to.to_raw()) };
    }
}

impl FlowGraph {
    /// The context with the lifetime the module's ops are typed with.
    fn static_context(&self) -> &'static Context {
        // SAFETY: the context is boxed, owned by `self` and dropped after the module, so
        // every op made here lives inside it; the 'static only erases that pairing.
        unsafe { &*(self.context() as *const Context) }
    }

    /// The module's flow ops, in the order of [`FlowGraph::view`]'s ops.
    fn flow_ops(&self) -> Vec<OperationRef<'static, '_>> {
        let mut out = Vec::new();
        let mut next = self.module().body().first_operation();
        while let Some(op) = next {
            next = op.next_in_block();
            if op.name().as_string_ref().as_str().is_ok_and(|n| n.starts_with("flow.")) {
                // SAFETY: lifetimes as in `static_context`.
                out.push(unsafe { OperationRef::from_raw(op.to_raw()) });
            }
        }
        out
    }

    fn op_at(&self, index: usize) -> Result<OperationRef<'static, '_>, FlowGraphError> {
        self.flow_ops()
            .get(index)
            .copied()
            .ok_or_else(|| rewrite_error(format!("no flow op #{index}")))
    }

    fn parse_attribute(&self, name: &str, text: &str) -> Result<Attribute<'static>, FlowGraphError> {
        Attribute::parse(self.static_context(), text)
            .ok_or_else(|| rewrite_error(format!("attribute {name} = {text} does not parse")))
    }

    /// Inserts `new` before op `at`, with `at`'s location, and redirects every use of op
    /// `replaces`' result to the new op's result. The replaced ops stay until
    /// [`FlowGraph::erase_dead`] removes them.
    pub fn replace(&mut self, new: &NewOp, at: usize, replaces: usize) -> Result<(), FlowGraphError> {
        let inserted = self.insert_op(new, at)?;
        let replaced = self
            .op_at(if replaces >= at { replaces + 1 } else { replaces })?
            .to_raw();
        replace_uses(replaced, inserted);
        Ok(())
    }

    /// Inserts `new` before op `at`, with `at`'s location; nothing reads it yet. The new
    /// op's index is `at`; ops from `at` on move up by one.
    pub fn insert(&mut self, new: &NewOp, at: usize) -> Result<(), FlowGraphError> {
        self.insert_op(new, at).map(|_| ())
    }

    fn insert_op(&mut self, new: &NewOp, at: usize) -> Result<MlirOperation, FlowGraphError> {
        self.changed();
        let context = self.static_context();
        let ops = self.flow_ops();
        let anchor = *ops.get(at).ok_or_else(|| rewrite_error(format!("no flow op #{at}")))?;
        let mut operands = Vec::new();
        for &i in &new.inputs {
            let producer = ops.get(i).ok_or_else(|| rewrite_error(format!("no flow op #{i}")))?;
            operands.push(
                producer
                    .result(0)
                    .map_err(|_| rewrite_error(format!("flow op #{i} has no result")))?
                    .into(),
            );
        }
        let mut attributes = Vec::new();
        for (name, text) in &new.attributes {
            attributes.push((Identifier::new(context, name), self.parse_attribute(name, text)?));
        }
        let mut builder = OperationBuilder::new(&new.name, anchor.location())
            .add_operands(&operands)
            .add_attributes(&attributes);
        if let Some(schema) = &new.schema {
            let ty = table_type(schema);
            let ty = Type::parse(context, &ty).ok_or_else(|| rewrite_error(format!("type {ty} does not parse")))?;
            builder = builder.add_results(&[ty]);
        }
        let op = builder
            .build()
            .map_err(|e| rewrite_error(format!("cannot build {}: {e}", new.name)))?;
        let block = self.module().body();
        Ok(block.insert_operation_before(anchor, op).to_raw())
    }

    /// Op `index`'s attributes: names and MLIR text, as [`NewOp::attributes`] takes them.
    pub fn attributes(&self, index: usize) -> Result<Vec<(String, String)>, FlowGraphError> {
        let op = self.op_at(index)?;
        Ok(op
            .attributes()
            .map(|(name, value)| {
                (
                    name.as_string_ref().as_str().unwrap_or_default().to_string(),
                    value.to_string(),
                )
            })
            .collect())
    }

    /// Redirects every use of op `of`'s result to op `with`'s result (same table type).
    pub fn redirect(&mut self, of: usize, with: usize) -> Result<(), FlowGraphError> {
        self.changed();
        replace_uses(self.op_at(of)?.to_raw(), self.op_at(with)?.to_raw());
        Ok(())
    }

    /// Erases flow ops whose result nothing reads (a sink is always live), until none is
    /// left, then the bodies no op names any more; returns how many ops went.
    pub fn erase_dead(&mut self) -> Result<usize, FlowGraphError> {
        let mut erased = 0;
        loop {
            let dead: Vec<_> = self
                .flow_ops()
                .into_iter()
                .filter(|op| {
                    op.result(0).is_ok_and(|r| {
                        // SAFETY: the value belongs to a live op.
                        unsafe { mlir_sys::mlirOpOperandIsNull(mlir_sys::mlirValueGetFirstUse(r.to_raw())) }
                    })
                })
                .map(|op| op.to_raw())
                .collect();
            if dead.is_empty() {
                if erased > 0 {
                    // Drops functions, changes none.
                    self.run_pipeline("builtin.module(symbol-dce)")?;
                }
                return Ok(erased);
            }
            self.changed();
            for op in dead.into_iter().rev() {
                // SAFETY: the op is in this module and no value of it is used.
                unsafe { mlir_sys::mlirOperationDestroy(op) };
                erased += 1;
            }
        }
    }

    /// Sets attribute `name` of op `index` to the MLIR attribute `text`.
    pub fn set_attribute(&mut self, index: usize, name: &str, text: &str) -> Result<(), FlowGraphError> {
        self.changed();
        let attribute = self.parse_attribute(name, text)?;
        let op = self.op_at(index)?;
        // SAFETY: the module is owned by `self`, borrowed mutably here.
        let mut op = unsafe { melior::ir::operation::OperationRefMut::from_raw(op.to_raw()) };
        op.set_attribute(name, attribute);
        Ok(())
    }

    /// Sets the schema of op `index`'s result.
    pub fn set_schema(&mut self, index: usize, schema: &Schema) -> Result<(), FlowGraphError> {
        self.changed();
        let text = table_type(schema);
        let ty = Type::parse(self.static_context(), &text)
            .ok_or_else(|| rewrite_error(format!("type {text} does not parse")))?;
        let op = self.op_at(index)?;
        let result = op
            .result(0)
            .map_err(|_| rewrite_error(format!("flow op #{index} has no result")))?;
        result.set_type(ty);
        Ok(())
    }

    /// Adds function `name` of `text` to this module, before its first op. `text` is a
    /// module that may also declare functions of this module that `name` calls.
    ///
    /// With `pipeline`, each such declaration is first replaced by a copy of this module's
    /// definition and the pipeline runs over the temporary module (`inline,canonicalize,cse`
    /// folds the calls into `name` and cleans up across them); only `name` is added. The
    /// rest of the module is neither rewritten nor re-read, so this costs what the new
    /// function costs, not what the module does.
    pub fn add_function(&mut self, text: &str, name: &str, pipeline: Option<&str>) -> Result<(), FlowGraphError> {
        self.changed();
        self.body_added(name);
        let context = self.static_context();
        let mut parsed = Module::parse(context, text)
            .ok_or_else(|| rewrite_error(format!("a generated function does not parse:\n{text}")))?;
        if let Some(pipeline) = pipeline {
            let definitions: HashMap<String, MlirOperation> = functions(&self.module().body()).collect();
            let declared: Vec<(String, MlirOperation)> = functions(&parsed.body())
                .filter(|(symbol, _)| symbol != name && definitions.contains_key(symbol))
                .collect();
            for (symbol, declaration) in declared {
                // SAFETY: the clone is a new op owned by nobody until the temporary module's
                // block takes it; the declaration it replaces is detached and destroyed.
                unsafe {
                    let copy = mlir_sys::mlirOperationClone(definitions[&symbol]);
                    mlir_sys::mlirBlockInsertOwnedOperationBefore(parsed.body().to_raw(), declaration, copy);
                    mlir_sys::mlirOperationDestroy(declaration);
                }
            }
            // MLIR's inliner erases private functions nothing calls: `name` is public while
            // the pipeline runs.
            let composed = functions(&parsed.body()).find(|(symbol, _)| symbol == name);
            let visibility = composed.and_then(|(_, op)| {
                // SAFETY: `op` is in the temporary module, alive until it is dropped.
                let mut op = unsafe { melior::ir::operation::OperationRefMut::from_raw(op) };
                let visibility = op.attribute("sym_visibility").ok()?;
                op.remove_attribute("sym_visibility").ok()?;
                Some((op.to_raw(), visibility))
            });
            run_passes(context, &mut parsed, pipeline).map_err(|e| {
                let diagnostics = self.take_diagnostics().join("\n");
                rewrite_error(format!("{e}{diagnostics}"))
            })?;
            if let Some((op, visibility)) = visibility {
                // SAFETY: as above; the pipeline keeps a public function.
                unsafe { melior::ir::operation::OperationRefMut::from_raw(op) }
                    .set_attribute("sym_visibility", visibility);
            }
        }
        let Some((_, function)) = functions(&parsed.body()).find(|(symbol, _)| symbol == name) else {
            return Err(rewrite_error(format!("generated text defines no @{name}")));
        };
        // SAFETY: the function is detached from the temporary module and handed to this
        // module's block, which takes ownership; both live in the same context.
        let owned = unsafe {
            mlir_sys::mlirOperationRemoveFromParent(function);
            melior::ir::Operation::from_raw(function)
        };
        let target = self.module().body();
        match target.first_operation() {
            Some(anchor) => target.insert_operation_before(anchor, owned),
            None => target.append_operation(owned),
        };
        Ok(())
    }

    /// A symbol name starting with `prefix` that no function of the module has yet.
    pub fn fresh_symbol(&self, prefix: &str) -> String {
        let view = self.view().ok();
        (0..)
            .map(|i| format!("{prefix}_{i}"))
            .find(|n| !view.as_ref().is_some_and(|v| v.bodies.contains_key(n)))
            .expect("some suffix is free")
    }

    /// Runs an MLIR pass pipeline (`builtin.module(canonicalize,cse)`) on the module.
    pub fn run_mlir_passes(&mut self, pipeline: &str) -> Result<(), FlowGraphError> {
        self.bodies_changed();
        self.run_pipeline(pipeline)
    }

    fn run_pipeline(&mut self, pipeline: &str) -> Result<(), FlowGraphError> {
        self.changed();
        run_passes(self.static_context(), &mut self.module, pipeline).map_err(|e| {
            let diagnostics = self.take_diagnostics().join("\n");
            rewrite_error(format!("{e}{diagnostics}"))
        })
    }

    /// Runs MLIR's verifier (IRDL's checks included) and Skadi's verification walk.
    pub fn verify(&self) -> Result<(), FlowGraphError> {
        if !self.module().as_operation().verify() {
            let diagnostics = self.take_diagnostics().join("\n");
            return Err(FlowGraphError::Mlir(format!(
                "the rewritten FlowGraph does not verify: {diagnostics}"
            )));
        }
        verify(&*self.view()?)
    }
}
