//! Steps: a SQL predicate or SQL expressions over a table already in a FlowGraph being
//! built. Other frontends (MapReduce job specs, pipelines) write their row-wise steps in
//! SQL's expression language and get the same bodies, string ops, type rules and NULL
//! semantics as queries, with locations in their own files.

use crate::{
    SqlError,
    session::{plan_in, planning_session},
    translate::{map_position, translate_step},
};
use datafusion::datasource::empty::EmptyTable;
use skadi_catalog::Catalog;
use skadi_flowgraph::{FlowGraphBuilder, TableValue, functions::RowFunction};
use std::sync::Arc;

/// The name a step's query gives the table it reads.
pub const INPUT: &str = "input";

/// SQL text taken from a file, and where (1-based line, column) it starts there.
#[derive(Debug, Clone, Copy)]
pub struct Snippet<'a> {
    pub text: &'a str,
    pub line: u32,
    pub column: u32,
}

/// A whole query whose tables are the catalog's files or, for the names in `tables`,
/// values already in the graph (earlier steps of a pipeline); expressions may call
/// `functions` (row functions from the hook, such as ML's `predict`).
/// The result's columns carry the query's output names.
pub fn query(
    g: &mut FlowGraphBuilder,
    sql: Snippet<'_>,
    catalog: &Catalog,
    tables: &[(String, TableValue)],
    functions: &[&dyn RowFunction],
    source_name: &str,
) -> Result<TableValue, SqlError> {
    let mut q = Query::new(sql);
    q.snippet(sql);
    q.run_in(g, catalog, tables.to_vec(), functions, source_name)
}

/// Keeps the rows of `input` where `predicate` is true.
pub fn filter(
    g: &mut FlowGraphBuilder,
    input: TableValue,
    predicate: Snippet<'_>,
    source_name: &str,
) -> Result<TableValue, SqlError> {
    let mut q = Query::new(predicate);
    q.push("SELECT * FROM \"input\" WHERE", None);
    q.snippet(predicate);
    q.run(g, input, source_name)
}

/// `input` with columns computed by SQL expressions: a name already in `input` is
/// replaced in place, a new name is appended (in the order given).
pub fn compute(
    g: &mut FlowGraphBuilder,
    input: TableValue,
    columns: &[(String, Snippet<'_>)],
    source_name: &str,
) -> Result<TableValue, SqlError> {
    let Some((_, first)) = columns.first() else {
        return Ok(input);
    };
    let mut q = Query::new(*first);
    q.push("SELECT", None);
    let existing: Vec<String> = g.schema(input).iter().map(|c| c.name.clone()).collect();
    let mut items: Vec<(String, Option<Snippet<'_>>)> = existing
        .iter()
        .map(|name| (name.clone(), columns.iter().find(|(n, _)| n == name).map(|(_, s)| *s)))
        .collect();
    for (name, s) in columns {
        if !existing.contains(name) && !items.iter().any(|(n, _)| n == name) {
            items.push((name.clone(), Some(*s)));
        }
    }
    let last = items.len() - 1;
    for (i, (name, expr)) in items.iter().enumerate() {
        let comma = if i == last { "" } else { "," };
        match expr {
            Some(s) => {
                q.snippet(*s);
                q.push(&format!("AS {}{comma}", quote(name)), Some(*s));
            }
            None => q.push(&format!("{}{comma}", quote(name)), None),
        }
    }
    q.push("FROM \"input\"", None);
    q.run(g, input, source_name)
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A query written line by line, remembering where each line came from.
struct Query {
    text: String,
    lines: Vec<(u32, u32)>,
    /// Where lines that are not the user's point: the step's start.
    home: (u32, u32),
}

impl Query {
    fn new(at: Snippet<'_>) -> Self {
        Query {
            text: String::new(),
            lines: Vec::new(),
            home: (at.line, at.column),
        }
    }

    fn push(&mut self, line: &str, from: Option<Snippet<'_>>) {
        self.text.push_str(line);
        self.text.push('\n');
        self.lines.push(from.map_or(self.home, |s| (s.line, s.column)));
    }

    /// The user's text, each of its lines mapped to where it is in their file.
    fn snippet(&mut self, s: Snippet<'_>) {
        for (i, line) in s.text.lines().enumerate() {
            self.text.push_str(line);
            self.text.push('\n');
            self.lines.push(if i == 0 {
                (s.line, s.column)
            } else {
                (s.line + i as u32, 1)
            });
        }
    }

    fn run(self, g: &mut FlowGraphBuilder, input: TableValue, source_name: &str) -> Result<TableValue, SqlError> {
        self.run_in(
            g,
            &Catalog::default(),
            vec![(INPUT.to_string(), input)],
            &[],
            source_name,
        )
    }

    fn run_in(
        self,
        g: &mut FlowGraphBuilder,
        catalog: &Catalog,
        tables: Vec<(String, TableValue)>,
        functions: &[&dyn RowFunction],
        source_name: &str,
    ) -> Result<TableValue, SqlError> {
        let lines = self.lines.clone();
        let located = |mut e: SqlError| {
            e.position = e.position.map(|(l, c)| {
                let (l, c) = map_position(&lines, (l as u32, c as u32));
                (l as usize, c as usize)
            });
            e
        };
        let ctx = planning_session(catalog, functions).map_err(located)?;
        for (name, value) in &tables {
            let schema = skadi_common::types::to_arrow_schema(g.schema(*value));
            ctx.register_table(name.as_str(), Arc::new(EmptyTable::new(Arc::new(schema))))
                .map_err(|e| located(e.into()))?;
        }
        let text = &self.text;
        crate::limits::planning(text, || {
            let plan = plan_in(&ctx, text)?;
            translate_step(&plan, g, catalog, tables, functions, source_name, lines.clone())
        })
        .map_err(located)
    }
}
