//! Bodies → native code: every body a plan names, wrapped in its batch kernel, in one MLIR
//! module lowered to the LLVM dialect and JIT-compiled by MLIR's ExecutionEngine — once
//! per plan, before any task runs.

use crate::kernel::{KernelSpec, check_spec, kernel_mlir};
use melior::{
    Context, ExecutionEngine,
    dialect::DialectRegistry,
    ir::{Module, attribute::TypeAttribute, block::BlockLike, operation::OperationLike, r#type::FunctionType},
    pass::PassManager,
    utility::{parse_pass_pipeline, register_all_dialects, register_all_llvm_translations, register_all_passes},
};
use std::{cell::RefCell, collections::HashMap, rc::Rc};

/// The pipeline from bodies and kernels (func, arith, math, scf, llvm) to the LLVM dialect.
pub const LOWERING_PIPELINE: &str = "builtin.module(inline,symbol-dce,canonicalize,cse,convert-scf-to-cf,convert-math-to-llvm,convert-arith-to-llvm,convert-cf-to-llvm,convert-index-to-llvm,convert-func-to-llvm,reconcile-unrealized-casts)";

/// LLVM optimization level for JIT code; 1 already vectorizes (see DESIGN.md's measurements).
const OPT_LEVEL: usize = 2;

/// `void kernel(int64_t rows, void **columns)`.
pub(crate) type KernelFn = unsafe extern "C" fn(i64, *const *mut u8);

#[derive(Debug, Clone)]
pub(crate) struct Signature {
    pub params: Vec<String>,
    pub results: Vec<String>,
}

/// A compiled kernel: its entry point and its body's signature.
#[derive(Clone)]
pub(crate) struct Kernel {
    pub function: KernelFn,
    pub signature: Signature,
    /// How it reads each argument (see `kernel::ArgForm`).
    pub forms: Vec<crate::kernel::ArgForm>,
}

/// Native code for a plan's bodies. The engine owns the code the kernels point into.
pub(crate) struct CompiledBodies {
    _engine: ExecutionEngine,
    pub kernels: HashMap<KernelSpec, Kernel>,
    /// Every body's signature, by name.
    pub signatures: HashMap<String, Signature>,
    /// The module after lowering, in the LLVM dialect, and as LLVM IR; only kept when
    /// asked for (printing and translating cost milliseconds on every plan).
    pub text: Option<(String, String)>,
}

// SAFETY: the engine is never mutated after construction; its code is pure loops over the
// buffers a caller passes, so calling it from several threads at once is safe.
unsafe impl Send for CompiledBodies {}
unsafe impl Sync for CompiledBodies {}

fn jit_context() -> Context {
    register_all_passes();
    let registry = DialectRegistry::new();
    register_all_dialects(&registry);
    let context = Context::new_with_registry(&registry, false);
    for name in ["builtin", "func", "arith", "math", "scf", "cf", "llvm", "index"] {
        context.get_or_load_dialect(name);
    }
    register_all_llvm_translations(&context);
    context
}

fn parse<'c>(
    context: &'c Context,
    text: &str,
    what: &str,
    diagnostics: &Rc<RefCell<Vec<String>>>,
) -> Result<Module<'c>, String> {
    Module::parse(context, text)
        .filter(|m| m.as_operation().verify())
        .ok_or_else(|| format!("{what} does not verify: {}", diagnostics.borrow().join("; ")))
}

/// The signatures of the `func.func`s in a module.
fn signatures(module: &Module) -> HashMap<String, Signature> {
    let mut out = HashMap::new();
    let mut next = module.body().first_operation();
    while let Some(op) = next {
        next = op.next_in_block();
        let name = op.attribute("sym_name").ok().and_then(skadi_flowgraph::attribute_text);
        let ty = op
            .attribute("function_type")
            .ok()
            .and_then(|a| TypeAttribute::try_from(a).ok())
            .and_then(|t| FunctionType::try_from(t.value()).ok());
        if let (Some(name), Some(ty)) = (name, ty) {
            let params = (0..ty.input_count())
                .filter_map(|i| ty.input(i).ok())
                .map(|t| t.to_string())
                .collect();
            let results = (0..ty.result_count())
                .filter_map(|i| ty.result(i).ok())
                .map(|t| t.to_string())
                .collect();
            out.insert(name, Signature { params, results });
        }
    }
    out
}

/// Compiles bodies (name, `func.func` text) and the kernels `specs` over them.
pub(crate) fn compile(
    bodies: &[(String, String)],
    specs: &[KernelSpec],
    keep_text: bool,
) -> Result<CompiledBodies, String> {
    let context = jit_context();
    let diagnostics = Rc::new(RefCell::new(Vec::new()));
    let sink = diagnostics.clone();
    context.attach_diagnostic_handler(move |d| {
        sink.borrow_mut().push(format!("{}: {}", d.location(), d));
        true
    });
    let functions: String = bodies.iter().map(|(_, text)| format!("  {text}\n")).collect();
    let sigs = signatures(&parse(
        &context,
        &format!("module {{\n{functions}}}\n"),
        "bodies",
        &diagnostics,
    )?);
    let mut text = format!("module {{\n{functions}");
    for spec in specs {
        let name = &spec.body;
        let sig = sigs
            .get(name)
            .ok_or_else(|| format!("body @{name} is not a func.func named {name}"))?;
        check_spec(spec, &sig.params, &sig.results)?;
        text.push_str(&kernel_mlir(spec, &sig.params, &sig.results));
    }
    text.push_str("}\n");
    let mut module = parse(&context, &text, "kernels", &diagnostics)?;
    let pm = PassManager::new(&context);
    parse_pass_pipeline(pm.as_operation_pass_manager(), LOWERING_PIPELINE).map_err(|e| e.to_string())?;
    pm.run(&mut module).map_err(|e| {
        format!(
            "lowering bodies to LLVM failed: {e}: {}",
            diagnostics.borrow().join("; ")
        )
    })?;
    let text = keep_text.then(|| (module.as_operation().to_string(), translate_to_llvm_ir(&module)));
    let engine = ExecutionEngine::new(&module, OPT_LEVEL, &[], false, false);
    let mut kernels = HashMap::new();
    for spec in specs {
        let symbol = spec.symbol();
        let ptr = engine.lookup(&symbol);
        if ptr.is_null() {
            return Err(format!("JIT: kernel {symbol} was not emitted"));
        }
        // SAFETY: the symbol is a kernel from `kernel_mlir`, whose C signature is KernelFn.
        let function = unsafe { std::mem::transmute::<*mut (), KernelFn>(ptr) };
        kernels.insert(
            spec.clone(),
            Kernel {
                function,
                signature: sigs[&spec.body].clone(),
                forms: spec.forms.clone(),
            },
        );
    }
    Ok(CompiledBodies {
        _engine: engine,
        kernels,
        signatures: sigs,
        text,
    })
}

unsafe extern "C" {
    fn LLVMContextCreate() -> *mut std::ffi::c_void;
    fn LLVMContextDispose(context: *mut std::ffi::c_void);
    fn LLVMPrintModuleToString(module: *mut std::ffi::c_void) -> *mut std::ffi::c_char;
    fn LLVMDisposeMessage(message: *mut std::ffi::c_char);
    fn LLVMDisposeModule(module: *mut std::ffi::c_void);
}

/// The LLVM IR MLIR translates a lowered module to (what the ExecutionEngine compiles).
fn translate_to_llvm_ir(module: &Module) -> String {
    // SAFETY: plain LLVM-C calls on objects created and disposed here.
    unsafe {
        let llvm_context = LLVMContextCreate();
        let llvm_module = mlir_sys::mlirTranslateModuleToLLVMIR(module.as_operation().to_raw(), llvm_context as _);
        let text = if llvm_module.is_null() {
            String::from("; translation to LLVM IR failed")
        } else {
            let raw = LLVMPrintModuleToString(llvm_module as _);
            let text = std::ffi::CStr::from_ptr(raw).to_string_lossy().into_owned();
            LLVMDisposeMessage(raw);
            LLVMDisposeModule(llvm_module as _);
            text
        };
        LLVMContextDispose(llvm_context);
        text
    }
}
