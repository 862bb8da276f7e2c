//! `FlowGraph`: an MLIR context and a verified module in it, owned together.

use crate::{FlowGraphError, GraphView, context::new_context, verify::verify, view::ReadCache};
use melior::{
    Context,
    diagnostic::DiagnosticHandlerId,
    ir::{Module, operation::OperationLike, operation::OperationPrintingFlags},
};
use std::{cell::RefCell, mem::ManuallyDrop, rc::Rc};

/// An MLIR context with the `flow` dialect loaded from its IRDL module. Preparing one
/// takes ~1.4 ms, a fifth of compiling a small query, so each thread keeps a few between
/// graphs (a graph's module is dropped before its context goes back).
struct Prepared {
    // Field order is drop order: the IRDL module before its context. Only held: the
    // loaded dialect must not outlive its definition.
    _irdl: Module<'static>,
    context: Box<Context>,
    /// Graphs that have used it: a context keeps every type and attribute it ever
    /// uniqued, so it is retired after [`CONTEXT_USES`].
    uses: usize,
}

const CONTEXT_USES: usize = 256;
const POOLED_CONTEXTS: usize = 2;

thread_local! {
    static CONTEXTS: RefCell<Vec<Prepared>> = const { RefCell::new(Vec::new()) };
}

impl Prepared {
    fn take() -> Prepared {
        CONTEXTS
            .try_with(|pool| pool.borrow_mut().pop())
            .ok()
            .flatten()
            .unwrap_or_else(|| {
                let (context, dialect) = new_context();
                Prepared {
                    _irdl: dialect,
                    context: Box::new(context),
                    uses: 0,
                }
            })
    }

    /// Back to this thread's pool, once nothing of a graph lives in it any more.
    fn give_back(mut self) {
        self.uses += 1;
        if self.uses < CONTEXT_USES {
            let _ = CONTEXTS.try_with(|pool| {
                let mut pool = pool.borrow_mut();
                if pool.len() < POOLED_CONTEXTS {
                    pool.push(self);
                }
            });
        }
    }
}

/// A parsed and verified FlowGraph module. It owns its MLIR context, so it is not `Send`:
/// compile on one thread, then hand the physical plan (plain data) to the runtime.
pub struct FlowGraph {
    pub(crate) module: ManuallyDrop<Module<'static>>,
    /// The view of the module as it is now; every rewrite clears it (passes read the view
    /// far more often than they change the module, and reading it prints every body).
    view: RefCell<Option<Rc<GraphView>>>,
    /// What reading views printed (bodies, types, attributes), kept across views: only
    /// MLIR pass pipelines change a body once it is added, and they clear its bodies.
    read: RefCell<ReadCache>,
    /// How many rewrites the module has had (see [`FlowGraph::generation`]).
    generation: u64,
    diagnostics: Rc<RefCell<Vec<String>>>,
    handler: DiagnosticHandlerId,
    prepared: ManuallyDrop<Prepared>,
}

impl std::fmt::Debug for FlowGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.print())
    }
}

impl Drop for FlowGraph {
    fn drop(&mut self) {
        // SAFETY: each field is taken or dropped exactly once, the module before its context.
        let prepared = unsafe {
            ManuallyDrop::drop(&mut self.module);
            ManuallyDrop::take(&mut self.prepared)
        };
        prepared.context.detach_diagnostic_handler(self.handler);
        prepared.give_back();
    }
}

impl FlowGraph {
    /// Parses FlowGraph text, runs MLIR's verifier (IRDL included) and Skadi's own
    /// verification walk. `source_name` names the text in error messages.
    pub fn parse(text: &str, source_name: &str) -> Result<FlowGraph, FlowGraphError> {
        let prepared = Prepared::take();
        let diagnostics = Rc::new(RefCell::new(Vec::new()));
        let sink = diagnostics.clone();
        let handler = prepared.context.attach_diagnostic_handler(move |d| {
            let mut message = format!(
                "{}: error: {}",
                render_location(&d.location().to_string(), source_name),
                d
            );
            for i in 0..d.note_count() {
                if let Ok(note) = d.note(i) {
                    message.push_str(&format!("\n  note: {note}"));
                }
            }
            sink.borrow_mut().push(message);
            true
        });
        // SAFETY: the module is stored next to the boxed context and dropped first.
        let context_ref: &'static Context = unsafe { &*(&*prepared.context as *const Context) };
        let module = Module::parse(context_ref, text);
        let module = match module {
            Some(m) if m.as_operation().verify() => m,
            _ => {
                let mut lines: Vec<String> = diagnostics.borrow().clone();
                if lines.is_empty() {
                    lines.push(format!("{source_name}: error: FlowGraph does not parse"));
                }
                let mut message = name_ops(&lines.join("\n"), text);
                // Ops carry the locations of the source they came from (q.sql:3:7); say
                // which FlowGraph text was being read as well.
                if !message.starts_with(source_name) {
                    message = format!("in {source_name}: {message}");
                }
                drop(module);
                prepared.context.detach_diagnostic_handler(handler);
                prepared.give_back();
                return Err(FlowGraphError::Mlir(message));
            }
        };
        let graph = FlowGraph {
            module: ManuallyDrop::new(module),
            view: RefCell::new(None),
            read: RefCell::new(ReadCache::default()),
            generation: 0,
            diagnostics,
            handler,
            prepared: ManuallyDrop::new(prepared),
        };
        verify(&*graph.view()?)?;
        Ok(graph)
    }

    pub fn module(&self) -> &Module<'_> {
        &self.module
    }

    pub fn context(&self) -> &Context {
        &self.prepared.context
    }

    /// Messages MLIR reported while this graph was processed (after parsing: passes).
    pub fn take_diagnostics(&self) -> Vec<String> {
        std::mem::take(&mut *self.diagnostics.borrow_mut())
    }

    /// The Rust view of the module's ops, for passes and lowering to read. It is read
    /// once per version of the module and shared until the next rewrite.
    pub fn view(&self) -> Result<Rc<GraphView>, FlowGraphError> {
        if let Some(view) = self.view.borrow().as_ref() {
            return Ok(view.clone());
        }
        let view = Rc::new(GraphView::read_reusing(&self.module, &mut self.read.borrow_mut())?);
        *self.view.borrow_mut() = Some(view.clone());
        Ok(view)
    }

    /// Forgets the printed bodies: an MLIR pass pipeline is about to rewrite them.
    pub(crate) fn bodies_changed(&mut self) {
        self.read.get_mut().bodies.clear();
    }

    /// Forgets the printed text of a function of this name (one that went may have had it).
    pub(crate) fn body_added(&mut self, name: &str) {
        self.read.get_mut().bodies.remove(name);
    }

    /// Forgets the cached view: the module is about to change.
    pub(crate) fn changed(&mut self) {
        self.view.get_mut().take();
        self.generation += 1;
    }

    /// A number that grows with every rewrite primitive called on the module, so callers
    /// can tell whether it may have changed (the pass manager re-verifies only then).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The module's text: `flow` ops in generic form, bodies in their dialects' syntax.
    /// Parsing this text gives back an equal module (printing it again gives this text).
    pub fn print(&self) -> String {
        self.module.as_operation().to_string()
    }

    /// Like [`FlowGraph::print`], with each op's source location.
    pub fn print_with_locations(&self) -> String {
        self.module
            .as_operation()
            .to_string_with_flags(OperationPrintingFlags::new().enable_debug_info(true, false))
            .expect("MLIR prints valid UTF-8")
    }
}

/// Parses and verifies MLIR text in a FlowGraph context (the `flow` dialect loaded) without
/// Skadi's FlowGraph walk, for other modules of `flow` ops (the physical plan's MLIR form);
/// returns the module as MLIR prints it.
pub fn verify_mlir(text: &str, source_name: &str) -> Result<String, FlowGraphError> {
    let (context, dialect) = new_context();
    let diagnostics = Rc::new(RefCell::new(Vec::new()));
    let sink = diagnostics.clone();
    context.attach_diagnostic_handler(move |d| {
        sink.borrow_mut().push(d.to_string());
        true
    });
    let printed = match Module::parse(&context, text) {
        Some(m) if m.as_operation().verify() => Ok(m.as_operation().to_string()),
        _ => Err(FlowGraphError::Mlir(format!(
            "{source_name}: error: does not verify: {}",
            diagnostics.borrow().join("; ")
        ))),
    };
    drop(dialect);
    printed
}

/// `loc("q.sql":3:7)` → `q.sql:3:7`; MLIR's own locations for parsed text name no file,
/// so those get `source_name`.
pub(crate) fn render_location(loc: &str, source_name: &str) -> String {
    let inner = loc
        .strip_prefix("loc(")
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(loc);
    if let Some(rest) = inner.strip_prefix('"')
        && let Some((file, pos)) = rest.split_once('"')
    {
        let pos = pos.trim_start_matches(':');
        let file = if file.is_empty() || file == "-" {
            source_name
        } else {
            file
        };
        return if pos.is_empty() {
            file.to_string()
        } else {
            format!("{file}:{pos}")
        };
    }
    if inner == "unknown" {
        source_name.to_string()
    } else {
        inner.to_string()
    }
}

/// IRDL's verifier reports "op expects ..." or "expected '<type>' but got ..." without
/// naming the op; name it from the text at the reported line and column.
fn name_ops(message: &str, text: &str) -> String {
    message
        .lines()
        .map(|line| {
            let Some((head, rest)) = line.split_once(": error: ") else {
                return line.to_string();
            };
            if rest.starts_with('\'') {
                return line.to_string();
            }
            let mut parts = head.rsplitn(3, ':');
            let (Some(col), Some(row)) = (parts.next(), parts.next()) else {
                return line.to_string();
            };
            let (Ok(col), Ok(row)) = (col.parse::<usize>(), row.parse::<usize>()) else {
                return line.to_string();
            };
            let src = text.lines().nth(row.saturating_sub(1)).unwrap_or("");
            let at = src.get(col.saturating_sub(1)..).unwrap_or("");
            let rest = rest.strip_prefix("op ").unwrap_or(rest);
            match at.strip_prefix('"').and_then(|s| s.split_once('"')) {
                Some((op, _)) => format!("{head}: error: '{op}' op {rest}"),
                None => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
