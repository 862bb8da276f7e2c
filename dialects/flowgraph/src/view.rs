//! A read-only Rust view of a FlowGraph module: its vertex ops in order, their inputs,
//! schemas and attributes, and its bodies. The module stays the IR; the view is rebuilt
//! from it whenever a reader needs one.

use crate::{
    FlowGraphError,
    graph::render_location,
    syntax::{attribute_text, parse_index_lists, parse_string_list, parse_table_type},
};
use melior::ir::{
    Module, Type, ValueLike,
    attribute::{Attribute, AttributeLike, FlatSymbolRefAttribute, IntegerAttribute, StringAttribute, TypeAttribute},
    block::BlockLike,
    operation::{OperationLike, OperationRef, OperationResult},
    r#type::{FunctionType, TypeLike},
};
use skadi_common::{
    Aggregate, AggregateCall, Choice, Compare, CompareOp, Concat, Exchange, Fault, Filter, FlatMap, Iterate, Join,
    JoinKind, Limit, Map, Match, MatchKind, Pick, Pipeline, Project, ProjectExpr, Schema, Sink, Sort, SortKey, Source,
    StringFunction, TopK, Union, Values, Window, WindowCall, ml::Training,
};
use std::collections::{BTreeMap, HashMap};

/// What a vertex op does: its operator's payload (shared with the physical plan; see
/// `skadi_common::operators`), read from the op's attributes.
#[derive(Debug, Clone, PartialEq)]
pub enum OpKind {
    Source(Source),
    Filter(Filter),
    Project(Project),
    Map(Map),
    /// A fused row-wise vertex: see `flow.pipeline` in the dialect definition.
    Pipeline(Pipeline),
    Aggregate {
        aggregate: Aggregate,
        /// Whether lowering may combine rows per shard before the shuffle.
        combine: bool,
    },
    /// See `flow.join` in the dialect definition; inputs are (left, right).
    Join(Join),
    Match(Match),
    StringFunction(StringFunction),
    Pick(Pick),
    Concat(Concat),
    Compare(Compare),
    FlatMap(FlatMap),
    Union(Union),
    Values(Values),
    Iterate(Iterate),
    Sort(Sort),
    TopK(TopK),
    Window(Window),
    Limit(Limit),
    Exchange(Exchange),
    Sink(Sink),
}

impl OpKind {
    /// Whether the op can output fewer rows than its input has (or, for a join, than its
    /// left input has) by itself: passes that move work across ops (pushdown-semijoins)
    /// must not move it past one that does. Exhaustive, so a new op decides.
    pub fn filters_rows(&self) -> bool {
        match self {
            OpKind::Filter(_) | OpKind::Limit(_) | OpKind::TopK(_) => true,
            OpKind::Pipeline(p) => p.keep.is_some(),
            OpKind::Join(j) => matches!(j.join_kind, JoinKind::Semi | JoinKind::Anti),
            OpKind::Source(_)
            | OpKind::Project(_)
            | OpKind::Map(_)
            | OpKind::Aggregate { .. }
            | OpKind::Match(_)
            | OpKind::StringFunction(_)
            | OpKind::Pick(_)
            | OpKind::Concat(_)
            | OpKind::Compare(_)
            | OpKind::FlatMap(_)
            | OpKind::Union(_)
            | OpKind::Values(_)
            | OpKind::Iterate(_)
            | OpKind::Sort(_)
            | OpKind::Window(_)
            | OpKind::Exchange(_)
            | OpKind::Sink(_) => false,
        }
    }
}

/// One vertex op of the module.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowOp {
    /// The op's name, e.g. `flow.filter`.
    pub name: String,
    pub kind: OpKind,
    /// Indices (into [`GraphView::ops`]) of the ops whose results this op reads.
    pub inputs: Vec<usize>,
    /// The schema of the op's result; empty for `flow.sink`.
    pub schema: Schema,
    /// `file:line:col` of the source construct, if the op carries one.
    pub location: Option<String>,
}

/// A body function: its MLIR text and signature.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    pub name: String,
    pub params: Vec<String>,
    pub results: Vec<String>,
    pub mlir: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct GraphView {
    pub ops: Vec<FlowOp>,
    pub bodies: BTreeMap<String, Body>,
}

fn bad(op: &str, location: &Option<String>, message: impl Into<String>) -> FlowGraphError {
    FlowGraphError::Verify {
        op: op.to_string(),
        location: location.clone().unwrap_or_else(|| "<flowgraph>".into()),
        message: message.into(),
    }
}

impl GraphView {
    pub fn read(module: &Module) -> Result<GraphView, FlowGraphError> {
        GraphView::read_reusing(module, &mut ReadCache::default())
    }

    /// Like [`GraphView::read`], taking what `cache` already read instead of printing it
    /// again, and leaving in it what this read.
    pub(crate) fn read_reusing(module: &Module, cache: &mut ReadCache) -> Result<GraphView, FlowGraphError> {
        let mut known = std::mem::take(&mut cache.bodies);
        let mut view = GraphView::default();
        let mut index_of: HashMap<usize, usize> = HashMap::new();
        let mut next = module.body().first_operation();
        while let Some(op) = next {
            next = op.next_in_block();
            let name = op.name().as_string_ref().as_str().unwrap_or("").to_string();
            if name == "func.func" {
                let body = read_body(&op, &mut known)?;
                cache.bodies.insert(body.name.clone(), body.clone());
                view.bodies.insert(body.name.clone(), body);
                continue;
            }
            if !name.starts_with("flow.") {
                return Err(bad(
                    &name,
                    &None,
                    "is not a FlowGraph op; a FlowGraph module holds flow ops and func.func bodies",
                ));
            }
            let location = cache.location(&op);
            let mut inputs = Vec::new();
            for operand in op.operands() {
                let producer = OperationResult::try_from(operand)
                    .map(|r| r.owner().to_raw().ptr as usize)
                    .ok()
                    .and_then(|p| index_of.get(&p).copied())
                    .ok_or_else(|| bad(&name, &location, "reads a value that no earlier flow op produces"))?;
                inputs.push(producer);
            }
            let schema = match op.result(0) {
                Ok(r) => cache.schema(r.r#type()).ok_or_else(|| {
                    bad(
                        &name,
                        &location,
                        format!("result type {} is not a valid table type", r.r#type()),
                    )
                })?,
                Err(_) => Vec::new(),
            };
            let kind = read_kind(&op, &name, &location, &mut cache.lists)?;
            index_of.insert(op.to_raw().ptr as usize, view.ops.len());
            view.ops.push(FlowOp {
                name,
                kind,
                inputs,
                schema,
                location,
            });
        }
        Ok(view)
    }
}

/// What reading views of one module has learned, so the next view need not print it
/// again: printing is most of reading a view, and most rewrites change a few ops.
/// Types, attributes and locations are uniqued in their context, so what one pointer
/// reads as never changes while the context lives.
#[derive(Default)]
pub(crate) struct ReadCache {
    /// Each body function, by name: exactly the bodies of the module last read (a body
    /// is rewritten in place only by MLIR pass pipelines, which clear these).
    pub(crate) bodies: HashMap<String, Body>,
    schemas: HashMap<usize, Option<Schema>>,
    locations: HashMap<usize, Option<String>>,
    /// Printed attributes that are lists (of strings, of index lists), by attribute.
    lists: HashMap<usize, String>,
}

impl ReadCache {
    fn schema(&mut self, ty: Type) -> Option<Schema> {
        self.schemas
            .entry(ty.to_raw().ptr as usize)
            .or_insert_with(|| parse_table_type(&ty.to_string()))
            .clone()
    }

    fn location(&mut self, op: &OperationRef) -> Option<String> {
        let location = op.location();
        self.locations
            .entry(location.to_raw().ptr as usize)
            .or_insert_with(|| op_location(op))
            .clone()
    }
}

fn op_location(op: &OperationRef) -> Option<String> {
    let loc = op.location().to_string();
    if loc.contains("unknown") || !loc.contains('"') {
        None
    } else {
        Some(render_location(&loc, "<flowgraph>"))
    }
}

fn read_body(op: &OperationRef, known: &mut HashMap<String, Body>) -> Result<Body, FlowGraphError> {
    let name = op
        .attribute("sym_name")
        .ok()
        .and_then(attribute_text)
        .ok_or_else(|| bad("func.func", &op_location(op), "has no name"))?;
    if let Some(body) = known.remove(&name) {
        return Ok(body);
    }
    let ty = op
        .attribute("function_type")
        .ok()
        .and_then(|a| TypeAttribute::try_from(a).ok())
        .and_then(|t| FunctionType::try_from(t.value()).ok())
        .ok_or_else(|| bad("func.func", &op_location(op), "has no function type"))?;
    let params = (0..ty.input_count())
        .map(|i| ty.input(i).map(|t| t.to_string()))
        .collect::<Result<_, _>>();
    let results = (0..ty.result_count())
        .map(|i| ty.result(i).map(|t| t.to_string()))
        .collect::<Result<_, _>>();
    let (Ok(params), Ok(results)) = (params, results) else {
        return Err(bad("func.func", &op_location(op), "has an unreadable signature"));
    };
    Ok(Body {
        name,
        params,
        results,
        mlir: op.to_string(),
    })
}

fn read_kind(
    op: &OperationRef,
    name: &str,
    location: &Option<String>,
    lists: &mut HashMap<usize, String>,
) -> Result<OpKind, FlowGraphError> {
    let attr = |key: &str| -> Result<Attribute, FlowGraphError> {
        op.attribute(key)
            .map_err(|_| bad(name, location, format!("has no '{key}' attribute")))
    };
    let lists = std::cell::RefCell::new(lists);
    let printed = |key: &str| -> Result<String, FlowGraphError> {
        let attribute = attr(key)?;
        Ok(lists
            .borrow_mut()
            .entry(attribute.to_raw().ptr as usize)
            .or_insert_with(|| attribute.to_string())
            .clone())
    };
    let string = |key: &str| -> Result<String, FlowGraphError> {
        let attribute = attr(key)?;
        StringAttribute::try_from(attribute)
            .ok()
            .and_then(|_| attribute_text(attribute))
            .ok_or_else(|| bad(name, location, format!("'{key}' must be a string")))
    };
    let strings = |key: &str| -> Result<Vec<String>, FlowGraphError> {
        parse_string_list(&printed(key)?)
            .ok_or_else(|| bad(name, location, format!("'{key}' must be an array of strings")))
    };
    let symbol = |key: &str| -> Result<String, FlowGraphError> {
        let attribute = attr(key)?;
        FlatSymbolRefAttribute::try_from(attribute)
            .ok()
            .and_then(|_| attribute_text(attribute))
            .ok_or_else(|| bad(name, location, format!("'{key}' must name a body function (@name)")))
    };
    let integer = |key: &str| -> Result<i64, FlowGraphError> {
        IntegerAttribute::try_from(attr(key)?)
            .map(|i| i.value())
            .map_err(|_| bad(name, location, format!("'{key}' must be an integer")))
    };
    let exprs = |key: &str| -> Result<Vec<ProjectExpr>, FlowGraphError> {
        Ok(strings(key)?.into_iter().map(ProjectExpr::parse).collect())
    };
    Ok(match name {
        "flow.source" => OpKind::Source(Source {
            table: string("table")?,
            format: string("format")?,
            files: strings("files")?,
            columns: strings("columns")?,
            prune: if op.has_attribute("prune") {
                strings("prune")?
            } else {
                Vec::new()
            },
        }),
        "flow.filter" => OpKind::Filter(Filter {
            body: symbol("body")?,
            args: strings("args")?,
        }),
        "flow.project" => OpKind::Project(Project {
            columns: strings("columns")?,
        }),
        "flow.map" => OpKind::Map(Map {
            body: symbol("body")?,
            args: strings("args")?,
            exprs: exprs("exprs")?,
        }),
        "flow.pipeline" => {
            let keep = integer("keep")?;
            let strict = parse_index_lists(&printed("strict")?)
                .ok_or_else(|| bad(name, location, "'strict' must be an array of integer arrays"))?;
            // Optional: the args whose validity the body takes, and results' validity.
            let validity = match op.has_attribute("validity") {
                true => parse_index_lists(&format!("[{}]", printed("validity")?))
                    .and_then(|mut l| l.pop())
                    .ok_or_else(|| bad(name, location, "'validity' must be an array of integers"))?,
                false => Vec::new(),
            };
            let result_validity = match op.has_attribute("result_validity") {
                true => parse_index_lists(&printed("result_validity")?)
                    .and_then(|pairs| {
                        pairs
                            .iter()
                            .map(|p| match p[..] {
                                [r, v] => Some((r, v)),
                                _ => None,
                            })
                            .collect()
                    })
                    .ok_or_else(|| {
                        bad(
                            name,
                            location,
                            "'result_validity' must be an array of [result, validity] pairs",
                        )
                    })?,
                false => Vec::new(),
            };
            // Optional: the result that is true where the body's arithmetic failed.
            let fault = match op.has_attribute("fault") {
                true => Some(Fault {
                    result: usize::try_from(integer("fault")?)
                        .map_err(|_| bad(name, location, "'fault' must be a result's index"))?,
                    what: string("fault_what")?,
                    kept: op.has_attribute("fault_kept"),
                }),
                false => None,
            };
            OpKind::Pipeline(Pipeline {
                body: symbol("body")?,
                args: strings("args")?,
                exprs: exprs("exprs")?,
                keep: (keep >= 0).then_some(keep as usize),
                strict,
                validity,
                result_validity,
                fault,
            })
        }
        "flow.aggregate" => {
            let aggregates = strings("aggregates")?
                .iter()
                .map(|a| AggregateCall::parse(a).ok_or_else(|| bad(name, location, format!("unknown aggregate '{a}'"))))
                .collect::<Result<_, _>>()?;
            OpKind::Aggregate {
                aggregate: Aggregate {
                    keys: strings("keys")?,
                    aggregates,
                },
                combine: !op.has_attribute("no_combiner"),
            }
        }
        "flow.join" => {
            let kind = string("kind")?;
            let join_kind = JoinKind::parse(&kind).ok_or_else(|| {
                bad(
                    name,
                    location,
                    format!("join kind '{kind}' is not inner, left, right, full, semi or anti"),
                )
            })?;
            let filter = if op.has_attribute("filter") {
                Some(symbol("filter")?)
            } else {
                None
            };
            let filter_args = if op.has_attribute("filter_args") {
                strings("filter_args")?
            } else {
                Vec::new()
            };
            let filter_validity = match op.has_attribute("filter_validity") {
                true => parse_index_lists(&format!("[{}]", printed("filter_validity")?))
                    .and_then(|mut l| l.pop())
                    .ok_or_else(|| bad(name, location, "'filter_validity' must be an array of integers"))?,
                false => Vec::new(),
            };
            OpKind::Join(Join {
                join_kind,
                left_keys: strings("left_keys")?,
                right_keys: strings("right_keys")?,
                filter,
                filter_args,
                filter_validity,
                filter_fault: match op.has_attribute("filter_fault") {
                    true => Some(string("filter_fault")?),
                    false => None,
                },
                null_aware: op.has_attribute("null_aware"),
            })
        }
        "flow.match" => {
            let kind = string("kind")?;
            OpKind::Match(Match {
                column: string("column")?,
                match_kind: MatchKind::parse(&kind)
                    .ok_or_else(|| bad(name, location, format!("match kind '{kind}' is not eq, like or regex")))?,
                patterns: strings("patterns")?,
            })
        }
        "flow.string" => OpKind::StringFunction(StringFunction {
            function: string("function")?,
            column: string("column")?,
            args: strings("args")?,
        }),
        "flow.pick" => OpKind::Pick(Pick {
            index: if op.has_attribute("index") {
                Some(string("index")?)
            } else {
                None
            },
            choices: strings("choices")?
                .iter()
                .map(|c| {
                    Choice::parse(c).ok_or_else(|| {
                        bad(
                            name,
                            location,
                            format!("choice '{c}' is not literal:TEXT or column:NAME"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        }),
        "flow.concat" => OpKind::Concat(Concat {
            parts: strings("parts")?
                .iter()
                .map(|c| {
                    Choice::parse(c)
                        .ok_or_else(|| bad(name, location, format!("part '{c}' is not literal:TEXT or column:NAME")))
                })
                .collect::<Result<_, _>>()?,
            skip_nulls: match string("nulls")?.as_str() {
                "skip" => true,
                "propagate" => false,
                other => return Err(bad(name, location, format!("nulls '{other}' is not skip or propagate"))),
            },
            separator: if op.has_attribute("separator") {
                Some(string("separator")?)
            } else {
                None
            },
        }),
        "flow.compare" => {
            let op = string("op")?;
            OpKind::Compare(Compare {
                left: string("left")?,
                op: CompareOp::parse(&op)
                    .ok_or_else(|| bad(name, location, format!("op '{op}' is not eq, ne, lt, le, gt or ge")))?,
                right: string("right")?,
            })
        }
        "flow.union" => OpKind::Union(Union {}),
        "flow.values" => OpKind::Values(
            Values::from_row_texts(&strings("rows")?).map_err(|m| bad(name, location, format!("'rows': {m}")))?,
        ),
        "flow.flat_map" => OpKind::FlatMap(FlatMap {
            function: string("function")?,
            column: string("column")?,
            pattern: string("pattern")?,
        }),
        "flow.iterate" => {
            let args = strings("args")?;
            let training = Training::from_attributes(
                &string("model")?,
                &string("method")?,
                args.len(),
                &strings("options")?,
                &strings("init")?,
            )
            .map_err(|e| bad(name, location, e))?;
            let strict = strings("strict")?
                .iter()
                .map(|s| {
                    args.iter().position(|a| a == s).ok_or_else(|| {
                        bad(
                            name,
                            location,
                            format!("lists '{s}' as strict, which is not one of its args"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?;
            OpKind::Iterate(Iterate {
                training,
                body: symbol("body")?,
                args,
                strict,
            })
        }
        "flow.sort" => {
            let keys = strings("keys")?
                .iter()
                .map(|k| SortKey::parse(k).ok_or_else(|| bad(name, location, format!("malformed sort key '{k}'"))))
                .collect::<Result<_, _>>()?;
            OpKind::Sort(Sort { keys })
        }
        "flow.window" => {
            let keys = strings("order_by")?
                .iter()
                .map(|k| SortKey::parse(k).ok_or_else(|| bad(name, location, format!("malformed sort key '{k}'"))))
                .collect::<Result<_, _>>()?;
            let (calls, frames) = (strings("calls")?, strings("frames")?);
            if calls.len() != frames.len() {
                return Err(bad(name, location, "has one frame per call"));
            }
            let calls = calls
                .iter()
                .zip(&frames)
                .map(|(c, f)| {
                    WindowCall::parse(c, f)
                        .ok_or_else(|| bad(name, location, format!("malformed window call '{c}' over '{f}'")))
                })
                .collect::<Result<_, _>>()?;
            OpKind::Window(Window {
                partition_by: strings("partition_by")?,
                order_by: keys,
                calls,
            })
        }
        "flow.top_k" => {
            let keys = strings("keys")?
                .iter()
                .map(|k| SortKey::parse(k).ok_or_else(|| bad(name, location, format!("malformed sort key '{k}'"))))
                .collect::<Result<_, _>>()?;
            let fetch = integer("fetch")?;
            OpKind::TopK(TopK {
                keys,
                fetch: usize::try_from(fetch).map_err(|_| bad(name, location, "fetch must be >= 0"))?,
            })
        }
        "flow.limit" => {
            let skip = integer("skip")?;
            let fetch = integer("fetch")?;
            if skip < 0 || fetch < -1 {
                return Err(bad(name, location, "skip must be >= 0 and fetch >= -1"));
            }
            OpKind::Limit(Limit {
                skip: skip as usize,
                fetch: (fetch >= 0).then_some(fetch as usize),
            })
        }
        "flow.exchange" => OpKind::Exchange(Exchange {
            partitioning: string("partitioning")?,
            keys: strings("keys")?,
        }),
        "flow.sink" => OpKind::Sink(Sink {
            names: strings("names")?,
        }),
        other => return Err(bad(other, location, "is not an op of this version of the flow dialect")),
    })
}
