//! DataFusion as a planner: a session whose tables are the catalog's schemas.

use crate::{SqlError, dialect::SkadiDialect, limits};
use datafusion::{
    arrow::datatypes::DataType,
    common::config::ConfigNonZeroUsize,
    datasource::empty::EmptyTable,
    logical_expr::LogicalPlan,
    logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility},
    prelude::{SessionConfig, SessionContext},
    sql::parser::DFParserBuilder,
};
use skadi_catalog::Catalog;
use skadi_flowgraph::functions::RowFunction;
use std::sync::Arc;

/// A DataFusion session that can plan (never run) SQL over the catalog's tables, calling
/// `functions` (row functions from the hook; see `skadi_flowgraph::functions`).
pub fn planning_session(catalog: &Catalog, functions: &[&dyn RowFunction]) -> Result<SessionContext, SqlError> {
    let mut config = SessionConfig::new().with_target_partitions(1);
    config.options_mut().sql_parser.collect_spans = true;
    config.options_mut().sql_parser.recursion_limit =
        ConfigNonZeroUsize::try_new(limits::RECURSION_LIMIT).map_err(SqlError::from)?;
    let ctx = SessionContext::new_with_config(config);
    for f in functions {
        ctx.register_udf(ScalarUDF::new_from_impl(Hooked::new(f.name())));
    }
    for table in catalog.tables() {
        ctx.register_table(table.name.as_str(), Arc::new(EmptyTable::new(table.schema.clone())))?;
    }
    Ok(ctx)
}

/// A row function from the hook as DataFusion sees it: only its name and type matter
/// (any arguments, an f64); Skadi's translation computes it.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Hooked {
    name: String,
    signature: Signature,
}

impl Hooked {
    fn new(name: &str) -> Self {
        // Volatile, so the planner never tries to fold it.
        Hooked {
            name: name.to_string(),
            signature: Signature::variadic_any(Volatility::Volatile),
        }
    }
}

impl ScalarUDFImpl for Hooked {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> datafusion::common::Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> datafusion::common::Result<ColumnarValue> {
        datafusion::common::plan_err!("{}() is computed by Skadi's plans, not by DataFusion", self.name)
    }
}

/// Parses, binds and logically optimizes one SQL query.
pub fn sql_to_logical_plan(sql: &str, catalog: &Catalog) -> Result<LogicalPlan, SqlError> {
    Planner::new(catalog)?.logical_plan(sql)
}

/// A catalog's planning session, made once and kept for every query of that catalog
/// (making one registers DataFusion's functions and the tables: ~0.3 ms a query).
pub struct Planner {
    ctx: SessionContext,
}

impl Planner {
    pub fn new(catalog: &Catalog) -> Result<Planner, SqlError> {
        Ok(Planner {
            ctx: planning_session(catalog, &[])?,
        })
    }

    /// Parses, binds and logically optimizes one query.
    pub fn logical_plan(&self, sql: &str) -> Result<LogicalPlan, SqlError> {
        limits::planning(sql, || plan_in(&self.ctx, sql))
    }

    /// SQL text → FlowGraph text, over `catalog` (the one this planner was made for).
    pub fn compile(&self, sql: &str, source_name: &str, catalog: &Catalog) -> Result<String, SqlError> {
        limits::planning(sql, || {
            let plan = plan_in(&self.ctx, sql)?;
            crate::translate::translate(&plan, sql, source_name, catalog)
        })
    }

    /// A DataFusion logical plan made elsewhere (by an embedding engine, from a Substrait
    /// plan) → FlowGraph text, over `catalog`, whose tables it must scan. It goes through
    /// DataFusion's optimizer first, as SQL does, so its subqueries are decorrelated the
    /// same way; an already optimized plan comes out as it went in. Errors have no
    /// position: such a plan has no text.
    pub fn compile_plan(&self, plan: &LogicalPlan, source_name: &str, catalog: &Catalog) -> Result<String, SqlError> {
        limits::on_deep_stack(|| {
            let optimized = guarded(|| self.ctx.state().optimize(plan))??;
            crate::translate::translate(&optimized, "", source_name, catalog)
        })
    }

    /// DataFusion's state for this planner's session: its tables (the catalog's, schema
    /// only) and functions, as Substrait's producer and consumer need them.
    pub fn state(&self) -> datafusion::execution::SessionState {
        self.ctx.state()
    }
}

/// Parses, binds and logically optimizes one SQL query in `ctx`.
/// (Run through [`limits::planning`], which bounds what `sql` may cost.)
pub(crate) fn plan_in(ctx: &SessionContext, sql: &str) -> Result<LogicalPlan, SqlError> {
    let state = ctx.state();
    let limit = state.config_options().sql_parser.recursion_limit.get();
    let mut statements = DFParserBuilder::new(sql)
        .with_dialect(&SkadiDialect::default())
        .with_recursion_limit(limit)
        .build()?
        .parse_statements()?;
    let statement = match (statements.pop_front(), statements.len()) {
        (Some(statement), 0) => statement,
        (None, _) => {
            return Err(SqlError {
                message: "the query holds no SQL statement".into(),
                position: None,
            });
        }
        (Some(_), more) => {
            return Err(SqlError {
                message: format!("the query holds {} SQL statements; a query is one", more + 1),
                position: None,
            });
        }
    };
    // DataFusion's planner can panic on SQL it parsed (a scalar subquery of no columns
    // indexes its empty schema): that is an error about this query, not a crash.
    let planned = guarded(|| block_on(state.statement_to_plan(statement), "the planner"))??;
    let plan = planned?;
    match &plan {
        LogicalPlan::Ddl(_) | LogicalPlan::Dml(_) | LogicalPlan::Copy(_) | LogicalPlan::Statement(_) => {
            return Err(SqlError::unsupported(format!("statement {}", plan.display())));
        }
        LogicalPlan::Explain(_) | LogicalPlan::Analyze(_) | LogicalPlan::DescribeTable(_) => {
            return Err(SqlError::unsupported(
                "EXPLAIN and DESCRIBE in SQL (use `skadi explain`)",
            ));
        }
        _ => {}
    }
    Ok(guarded(|| state.optimize(&plan))??)
}

/// Runs one of DataFusion's async steps (planning, Substrait's consumer) to completion
/// on this thread; `what` names the step if its runtime cannot start.
pub fn block_on<F: std::future::Future>(future: F, what: &str) -> Result<F::Output, SqlError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| SqlError {
            message: format!("cannot start {what}: {e}"),
            position: None,
        })?;
    Ok(runtime.block_on(future))
}

thread_local! {
    /// Set while a [`guarded`] step runs: the panic hook then stays quiet.
    static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs a step of DataFusion's; its panic becomes an error naming what DataFusion said
/// (and the process's panic hook, which prints panics, is not told of it).
pub fn guarded<T>(step: impl FnOnce() -> T) -> Result<T, SqlError> {
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    GUARDED.with(|g| g.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(step));
    GUARDED.with(|g| g.set(false));
    result.map_err(|panic| {
        let said = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        SqlError::unsupported(format!("this query: DataFusion's planner failed on it ({said})"))
    })
}
