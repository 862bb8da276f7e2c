//! The pipeline frontend: a pipeline spec (TOML, docs/PIPELINE_SPEC.md) → ONE FlowGraph.
//!
//! A pipeline is a list of named steps, each reading the tables of a directory or the
//! results of earlier steps:
//! - `sql`: a query (the SQL frontend's step API, so steps are ordinary FlowGraph ops and
//!   bodies); it may score rows with `predict('model', x...)`;
//! - MapReduce (`[[step.map]]`, `[step.reduce]`, `order`, `limit`): a job's map steps,
//!   reduce and ordering over an earlier step's rows (the MapReduce frontend's
//!   `compile_steps`, so a report is the same ops as a job);
//! - `train`: a model (linear or logistic regression, k-means) fitted on an earlier
//!   step's rows: a `flow.iterate` whose step body (gradient, normal-equation sums,
//!   assignment; written by skadi-ml) is an ordinary body, so the optimizer can fuse the
//!   SQL that feeds it.
//!
//! The last step is the pipeline's result. Errors name the spec file, line and column.

use serde::Deserialize;
use skadi_catalog::Catalog;
use skadi_common::ColumnType;
use skadi_common::ml::{Method, ModelKind, Training};
use skadi_flowgraph::{FlowGraphBuilder, TableValue};
use skadi_mapreduce::{JobError, MapStep, Positions, Reduce, Steps};
use skadi_ml::{Model, ModelInfo, Predict};
use skadi_sql::step;
use std::{
    ops::Range,
    path::{Path, PathBuf},
};
use toml::Spanned;

/// A pipeline spec that cannot be compiled: file, line, column and message.
pub type PipelineError = JobError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    #[serde(default)]
    pipeline: Option<Info>,
    step: Vec<Spanned<Step>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Info {
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    /// The directory whose files are the tables SQL steps read (default: none).
    #[serde(default)]
    tables: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    name: Spanned<String>,
    #[serde(default)]
    sql: Option<Spanned<String>>,
    /// The model kind to train.
    #[serde(default)]
    train: Option<Spanned<String>>,
    /// The step whose rows a train step reads (default: the previous step).
    #[serde(default)]
    input: Option<Spanned<String>>,
    #[serde(default)]
    features: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    label: Option<Spanned<String>>,
    #[serde(default)]
    method: Option<Spanned<String>>,
    #[serde(default)]
    learning_rate: Option<Spanned<f64>>,
    #[serde(default)]
    max_iterations: Option<Spanned<i64>>,
    #[serde(default)]
    tolerance: Option<Spanned<f64>>,
    #[serde(default)]
    clusters: Option<Spanned<i64>>,
    /// Linear/logistic: the starting coefficients, intercept first.
    #[serde(default)]
    init: Option<Spanned<Vec<f64>>>,
    /// k-means: the starting centroids (default: the first `clusters` rows).
    #[serde(default)]
    centroids: Option<Spanned<Vec<Vec<f64>>>>,
    /// MapReduce: map steps (`[[step.map]]`), as in a job spec (docs/JOB_SPEC.md).
    #[serde(default)]
    map: Vec<Spanned<MapStep>>,
    /// MapReduce: the reduce (`[step.reduce]`): key and values.
    #[serde(default)]
    reduce: Option<Spanned<Reduce>>,
    /// MapReduce: sort keys ("column", "column desc").
    #[serde(default)]
    order: Option<Spanned<Vec<Spanned<String>>>>,
    /// MapReduce: keep this many rows.
    #[serde(default)]
    limit: Option<Spanned<i64>>,
    /// Where the step's result is written (the last step only).
    #[serde(default)]
    output: Option<Spanned<String>>,
}

/// What a step does: the field that names its kind.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sql,
    Train,
    MapReduce,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Sql => "sql",
            Kind::Train => "train",
            Kind::MapReduce => "MapReduce",
        }
    }
}

impl Step {
    /// The step's kind, or an error when it has none or several.
    fn kind(&self, at: Positions<'_>, span: Range<usize>) -> Result<Kind, PipelineError> {
        let mapreduce = !self.map.is_empty() || self.reduce.is_some() || self.order.is_some() || self.limit.is_some();
        let kinds: Vec<Kind> = [
            (self.sql.is_some(), Kind::Sql),
            (self.train.is_some(), Kind::Train),
            (mapreduce, Kind::MapReduce),
        ]
        .into_iter()
        .filter_map(|(given, k)| given.then_some(k))
        .collect();
        let kind = match kinds.as_slice() {
            [one] => *one,
            _ => {
                return Err(at.error(
                    Some(span),
                    "a step is one of: `sql = ...`, `train = ...`, or MapReduce (`[[step.map]]`, \
                     `[step.reduce]`, `order`, `limit`)",
                ));
            }
        };
        // Fields that belong to another kind of step.
        if let Some(i) = &self.input
            && kind == Kind::Sql
        {
            return Err(at.error(
                Some(i.span()),
                "`input` does not apply to a sql step (it reads earlier steps by name in FROM)",
            ));
        }
        let training: [(&str, Option<Range<usize>>); 9] = [
            ("features", self.features.as_ref().map(Spanned::span)),
            ("label", self.label.as_ref().map(Spanned::span)),
            ("method", self.method.as_ref().map(Spanned::span)),
            ("learning_rate", self.learning_rate.as_ref().map(Spanned::span)),
            ("max_iterations", self.max_iterations.as_ref().map(Spanned::span)),
            ("tolerance", self.tolerance.as_ref().map(Spanned::span)),
            ("clusters", self.clusters.as_ref().map(Spanned::span)),
            ("init", self.init.as_ref().map(Spanned::span)),
            ("centroids", self.centroids.as_ref().map(Spanned::span)),
        ];
        if kind != Kind::Train
            && let Some((field, sp)) = training.into_iter().find_map(|(f, sp)| sp.map(|sp| (f, sp)))
        {
            return Err(at.error(
                Some(sp),
                format!(
                    "`{field}` does not apply to a {} step, only to train steps",
                    kind.name()
                ),
            ));
        }
        Ok(kind)
    }
}

/// A compiled pipeline.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The FlowGraph module's text: every step, one graph.
    pub flowgraph: String,
    /// Where the last step's `output` asks its result to be written.
    pub output: Option<PathBuf>,
    /// Set when the last step trains a model: its result row is that model.
    pub model: Option<ModelInfo>,
}

/// Whether `text` looks like a pipeline spec (TOML with `[[step]]` tables).
pub fn is_pipeline_spec(text: &str) -> bool {
    text.lines().any(|l| l.trim_start().starts_with("[[step]]"))
}

/// Compiles a pipeline spec. Relative paths resolve against the current directory.
pub fn compile_pipeline(text: &str, source_name: &str) -> Result<Pipeline, PipelineError> {
    let at = Positions { text, source_name };
    let spec: Spec = toml::from_str(text).map_err(|e| at.error(e.span(), e.message().trim().to_string()))?;
    let catalog = match spec.pipeline.as_ref().and_then(|p| p.tables.as_ref()) {
        Some(dir) => {
            let path = Path::new(dir.get_ref());
            if !path.is_dir() {
                return Err(at.error(
                    Some(dir.span()),
                    format!("tables directory '{}' does not exist", path.display()),
                ));
            }
            Catalog::open(path).map_err(|e| at.error(Some(dir.span()), e.to_string()))?
        }
        None => Catalog::default(),
    };
    if spec.step.is_empty() {
        return Err(at.error(None, "a pipeline needs at least one [[step]]"));
    }
    let mut c = Compiler {
        at,
        g: FlowGraphBuilder::new(),
        tables: Vec::new(),
        predict: Predict::default(),
    };
    let mut output = None;
    let mut model = None;
    let last = spec.step.len() - 1;
    for (i, s) in spec.step.iter().enumerate() {
        let step = s.get_ref();
        let name = step.name.get_ref();
        if c.tables.iter().any(|(n, _)| n == name) || catalog.table(name).is_some() {
            return Err(c.at.error(
                Some(step.name.span()),
                format!("step name '{name}' is already a table or an earlier step"),
            ));
        }
        let (value, trained) = match step.kind(c.at, s.span())? {
            Kind::Sql => {
                let sql = step.sql.as_ref().expect("a sql step");
                let snippet = c.at.snippet(sql);
                let v =
                    step::query(&mut c.g, snippet, &catalog, &c.tables, &[&c.predict], source_name).map_err(|e| {
                        let (line, column) = e
                            .position
                            .map_or((snippet.line as usize, snippet.column as usize), |p| p);
                        JobError {
                            source_name: source_name.to_string(),
                            line,
                            column,
                            message: e.message,
                        }
                    })?;
                (v, None)
            }
            Kind::Train => {
                let (v, info) = c.train(step, step.train.as_ref().expect("a train step"))?;
                (v, Some(info))
            }
            Kind::MapReduce => {
                let input = c.input(step)?;
                let steps = Steps {
                    map: &step.map,
                    reduce: step.reduce.as_ref(),
                    order: step.order.as_ref(),
                    limit: step.limit.as_ref(),
                };
                (skadi_mapreduce::compile_steps(&mut c.g, c.at, input, &steps)?, None)
            }
        };
        if let Some(o) = &step.output {
            if i != last {
                return Err(c.at.error(
                    Some(o.span()),
                    "not supported yet: output of a step other than the last (a pipeline has one result)",
                ));
            }
            let path = PathBuf::from(o.get_ref());
            // Known before anything runs: a model file (a train step's .json) or rows.
            let model_file = trained.is_some() && path.extension().is_some_and(|e| e == "json");
            if !model_file {
                skadi_common::files::result_format(&path).map_err(|message| c.at.error(Some(o.span()), message))?;
            }
            output = Some(path);
        }
        c.tables.push((name.clone(), value));
        if i == last {
            model = trained;
            let names: Vec<String> = c.g.schema(value).iter().map(|col| col.name.clone()).collect();
            let loc = c.at.loc(s.span());
            c.g.sink(value, &names, &loc);
        }
    }
    Ok(Pipeline {
        flowgraph: c.g.finish(),
        output,
        model,
    })
}

struct Compiler<'a> {
    at: Positions<'a>,
    g: FlowGraphBuilder,
    /// Every earlier step's result, by name.
    tables: Vec<(String, TableValue)>,
    /// `predict` over the models earlier steps trained, for SQL steps to call.
    predict: Predict,
}

impl Compiler<'_> {
    /// The table a train or MapReduce step reads: its `input`, else the previous step.
    fn input(&self, step: &Step) -> Result<TableValue, PipelineError> {
        match &step.input {
            Some(i) => Ok(self
                .tables
                .iter()
                .find(|(n, _)| n == i.get_ref())
                .ok_or_else(|| {
                    self.at
                        .error(Some(i.span()), format!("no earlier step named '{}'", i.get_ref()))
                })?
                .1),
            None => Ok(self
                .tables
                .last()
                .ok_or_else(|| {
                    self.at.error(
                        Some(step.name.span()),
                        "this step reads the previous step's rows, and it is the first step",
                    )
                })?
                .1),
        }
    }

    fn train(&mut self, step: &Step, kind: &Spanned<String>) -> Result<(TableValue, ModelInfo), PipelineError> {
        let at = self.at;
        let name = step.name.get_ref().clone();
        let model = ModelKind::parse(kind.get_ref()).ok_or_else(|| {
            at.error(
                Some(kind.span()),
                format!(
                    "not supported yet: model '{}' (known: linear_regression, logistic_regression, kmeans)",
                    kind.get_ref()
                ),
            )
        })?;
        let method = match &step.method {
            None => model.methods()[0],
            Some(m) => Method::parse(m.get_ref())
                .filter(|x| model.methods().contains(x))
                .ok_or_else(|| {
                    let known: Vec<&str> = model.methods().iter().map(|x| x.name()).collect();
                    at.error(
                        Some(m.span()),
                        format!(
                            "{} is fitted by {}, not '{}'",
                            model.name(),
                            known.join(" or "),
                            m.get_ref()
                        ),
                    )
                })?,
        };
        let input = self.input(step)?;
        let schema = self.g.schema(input).clone();
        let features = step
            .features
            .as_ref()
            .ok_or_else(|| at.error(Some(step.name.span()), "a train step needs `features = [...]`"))?;
        if features.get_ref().is_empty() {
            return Err(at.error(Some(features.span()), "`features` is empty"));
        }
        let mut columns: Vec<&Spanned<String>> = features.get_ref().iter().collect();
        match (&step.label, model.supervised()) {
            (Some(l), true) => columns.push(l),
            (None, true) => {
                return Err(at.error(
                    Some(step.name.span()),
                    format!("{} needs a `label` column", model.name()),
                ));
            }
            (Some(l), false) => return Err(at.error(Some(l.span()), "k-means takes no label")),
            (None, false) => {}
        }
        let (mut row_types, mut scales) = (Vec::new(), Vec::new());
        for col in &columns {
            let c = schema.iter().find(|c| c.name == *col.get_ref()).ok_or_else(|| {
                let have: Vec<&str> = schema.iter().map(|c| c.name.as_str()).collect();
                at.error(
                    Some(col.span()),
                    format!(
                        "no column '{}' in the input (it has: {})",
                        col.get_ref(),
                        have.join(", ")
                    ),
                )
            })?;
            match c.ty.body_scalar() {
                Some(t) if !c.ty.is_string() => {
                    row_types.push(t.to_string());
                    scales.push(match c.ty {
                        ColumnType::Decimal(_, s) => s,
                        _ => 0,
                    });
                }
                _ => {
                    return Err(at.error(
                        Some(col.span()),
                        format!("column '{}' is {}; features and labels must be numbers", c.name, c.ty),
                    ));
                }
            }
        }
        let count = |v: &Option<Spanned<i64>>, default: usize, what: &str| -> Result<usize, PipelineError> {
            match v {
                None => Ok(default),
                Some(x) if *x.get_ref() >= 1 => Ok(*x.get_ref() as usize),
                Some(x) => Err(at.error(Some(x.span()), format!("{what} must be 1 or more"))),
            }
        };
        let positive = |v: &Option<Spanned<f64>>, default: f64, what: &str| -> Result<f64, PipelineError> {
            match v {
                None => Ok(default),
                Some(x) if *x.get_ref() >= 0.0 && x.get_ref().is_finite() => Ok(*x.get_ref()),
                Some(x) => Err(at.error(Some(x.span()), format!("{what} must be a number >= 0"))),
            }
        };
        let d = features.get_ref().len();
        let mut init = Vec::new();
        let mut clusters = 0;
        if model == ModelKind::Kmeans {
            if let Some(cs) = &step.centroids {
                if cs.get_ref().iter().any(|c| c.len() != d) {
                    return Err(at.error(
                        Some(cs.span()),
                        format!("each centroid needs {d} coordinates, one per feature"),
                    ));
                }
                init = cs.get_ref().iter().flatten().copied().collect();
                clusters = cs.get_ref().len();
            }
            clusters = match (&step.clusters, clusters) {
                (Some(k), n) if n > 0 && *k.get_ref() as usize != n => {
                    return Err(at.error(
                        Some(k.span()),
                        format!("clusters = {} but {n} centroids are given", k.get_ref()),
                    ));
                }
                (k, n) => count(k, n.max(2), "clusters")?,
            };
        } else if let Some(w) = &step.init {
            if w.get_ref().len() != d + 1 {
                return Err(at.error(
                    Some(w.span()),
                    format!("init needs {} values: the intercept, then one per feature", d + 1),
                ));
            }
            init = w.get_ref().clone();
        } else if let Some(cs) = &step.centroids {
            return Err(at.error(Some(cs.span()), "only k-means takes centroids"));
        }
        let (default_iterations, default_tolerance) = match method {
            Method::NormalEquations => (1, 0.0),
            Method::GradientDescent => (1000, 1e-6),
            Method::Lloyd => (300, 0.0),
        };
        let training = Training {
            model,
            method,
            features: d,
            clusters,
            learning_rate: positive(&step.learning_rate, 0.1, "learning_rate")?,
            max_iterations: count(&step.max_iterations, default_iterations, "max_iterations")?,
            tolerance: positive(&step.tolerance, default_tolerance, "tolerance")?,
            init,
        };
        if method == Method::GradientDescent && training.learning_rate == 0.0 {
            let span = step.learning_rate.as_ref().map(|l| l.span());
            return Err(at.error(span, "learning_rate must be more than 0"));
        }
        let loc = at.loc(kind.span());
        let body = skadi_ml::step_body(&mut self.g, &training, &row_types, &scales, &loc);
        let args: Vec<String> = columns.iter().map(|c| c.get_ref().clone()).collect();
        let feature_names: Vec<String> = features.get_ref().iter().map(|f| f.get_ref().clone()).collect();
        let state_names = state_names(&name, &training, &feature_names);
        let value = self
            .g
            .iterate(input, &training, &body, &args, &state_names, &format!("{name}."), &loc);
        self.predict.models.push(Model {
            name: name.clone(),
            kind: model,
            features: feature_names.clone(),
            table: value,
            state: training.state_len(),
        });
        let info = ModelInfo {
            name,
            training,
            features: feature_names,
            label: step.label.as_ref().map(|l| l.get_ref().clone()),
        };
        Ok((value, info))
    }
}

/// The model table's state column names: `{model}.intercept`, `{model}.{feature}`, or
/// for k-means `{model}.c{i}.{feature}`.
pub fn state_names(model: &str, training: &Training, features: &[String]) -> Vec<String> {
    match training.model {
        ModelKind::Kmeans => (0..training.clusters)
            .flat_map(|c| features.iter().map(move |f| format!("{model}.c{c}.{f}")))
            .collect(),
        _ => std::iter::once(format!("{model}.intercept"))
            .chain(features.iter().map(|f| format!("{model}.{f}")))
            .collect(),
    }
}
