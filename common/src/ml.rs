//! The description of a training vertex: which model, fitted how, with which
//! hyperparameters, and the shape of its step — how long the state is and how many sums
//! the step body returns — which the FlowGraph verifier checks bodies against. What the
//! state means, the update maths, the step and prediction bodies and `predict` live in
//! the ML crate (`skadi-ml`, frontends/ml).
//!
//! Every step body returns f64 sums; result 0 is each row's weight (1 for a kept row), so
//! a filter fused into the body can drop a row by zeroing its results.

use serde::{Deserialize, Serialize};

/// The model families `flow.iterate` trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// `y ≈ b + w·x`, least squares.
    LinearRegression,
    /// `P(y = 1) = σ(b + w·x)`, log loss.
    LogisticRegression,
    /// `k` centroids, each row assigned to the nearest (squared Euclidean distance).
    Kmeans,
}

/// How a model is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// One pass summing `XᵀX` and `Xᵀy`, then a solve (linear regression).
    NormalEquations,
    /// Full-batch gradient descent: a pass per step.
    GradientDescent,
    /// Lloyd's algorithm (k-means): assign, then move each centroid to its rows' mean.
    Lloyd,
}

impl ModelKind {
    pub const ALL: [ModelKind; 3] = [
        ModelKind::LinearRegression,
        ModelKind::LogisticRegression,
        ModelKind::Kmeans,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::LinearRegression => "linear_regression",
            ModelKind::LogisticRegression => "logistic_regression",
            ModelKind::Kmeans => "kmeans",
        }
    }

    pub fn parse(name: &str) -> Option<ModelKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The methods that fit this kind; the first is the default.
    pub fn methods(self) -> &'static [Method] {
        match self {
            ModelKind::LinearRegression => &[Method::NormalEquations, Method::GradientDescent],
            ModelKind::LogisticRegression => &[Method::GradientDescent],
            ModelKind::Kmeans => &[Method::Lloyd],
        }
    }

    /// Whether rows carry a label column (after the features).
    pub fn supervised(self) -> bool {
        self != ModelKind::Kmeans
    }
}

impl Method {
    pub const ALL: [Method; 3] = [Method::NormalEquations, Method::GradientDescent, Method::Lloyd];

    pub fn name(self) -> &'static str {
        match self {
            Method::NormalEquations => "normal_equations",
            Method::GradientDescent => "gradient_descent",
            Method::Lloyd => "lloyd",
        }
    }

    pub fn parse(name: &str) -> Option<Method> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// The columns every model table ends with, after its state: passes made, the loss of the
/// last pass (mean squared error, mean log loss, or k-means inertia) and rows used.
pub const METRIC_COLUMNS: [&str; 3] = ["iterations", "loss", "rows"];

/// The most features a model takes, and clusters k-means finds: far beyond what a step
/// body of that size could compile, and small enough that state sizes cannot overflow.
pub const MAX_FEATURES: usize = 10_000;
pub const MAX_CLUSTERS: usize = 100_000;

/// What to train and how: everything a backend needs besides the step body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Training {
    pub model: ModelKind,
    pub method: Method,
    /// Number of feature columns `d`.
    pub features: usize,
    /// k-means: number of centroids.
    #[serde(default)]
    pub clusters: usize,
    #[serde(default)]
    pub learning_rate: f64,
    pub max_iterations: usize,
    /// Gradient descent stops when every gradient component is at most this; Lloyd when
    /// no centroid coordinate moves more than this.
    pub tolerance: f64,
    /// The initial state (empty: zeros, or for k-means the first `clusters` rows).
    #[serde(default)]
    pub init: Vec<f64>,
}

impl Training {
    /// Length of the state vector: `1 + d` coefficients (intercept first), or `k · d`
    /// centroid coordinates (centroid-major).
    pub fn state_len(&self) -> usize {
        match self.model {
            ModelKind::Kmeans => self.clusters * self.features,
            _ => 1 + self.features,
        }
    }

    /// Number of sums the step body returns.
    pub fn sums(&self) -> usize {
        let d = self.features;
        match (self.model, self.method) {
            // weight, upper triangle of AᵀA over a = (1, x), Aᵀy, yᵀy
            (_, Method::NormalEquations) => 1 + (d + 1) * (d + 2) / 2 + (d + 1) + 1,
            // weight, gradient (d + 1), loss
            (ModelKind::LinearRegression, _) => 1 + (d + 1) + 1,
            // ... and how many rows have a label other than 0 or 1
            (ModelKind::LogisticRegression, _) => 1 + (d + 1) + 1 + 1,
            // weight, per centroid (count, coordinate sums), inertia
            (ModelKind::Kmeans, _) => 1 + self.clusters * (d + 1) + 1,
        }
    }

    /// The hyperparameters as `key=value` strings (FlowGraph's `options` attribute).
    pub fn options(&self) -> Vec<String> {
        let mut out = vec![
            format!("features={}", self.features),
            format!("max_iterations={}", self.max_iterations),
        ];
        out.push(format!("tolerance={:?}", self.tolerance));
        if self.method == Method::GradientDescent {
            out.push(format!("learning_rate={:?}", self.learning_rate));
        }
        if self.model == ModelKind::Kmeans {
            out.push(format!("clusters={}", self.clusters));
        }
        out
    }

    /// Reads a training back from FlowGraph's attributes: the model and method names, the
    /// number of row args (the features and label, unless `features=N` says how many
    /// features the step body computes from its args), `key=value` options and the
    /// initial state.
    pub fn from_attributes(
        model: &str,
        method: &str,
        row_args: usize,
        options: &[String],
        init: &[String],
    ) -> Result<Training, String> {
        let model = ModelKind::parse(model).ok_or_else(|| {
            format!("not supported yet: model '{model}' (known: linear_regression, logistic_regression, kmeans)")
        })?;
        let method = Method::parse(method)
            .filter(|m| model.methods().contains(m))
            .ok_or_else(|| format!("not supported yet: method '{method}' for {}", model.name()))?;
        let features = row_args.saturating_sub(usize::from(model.supervised()));
        let mut t = Training {
            model,
            method,
            features,
            clusters: 0,
            learning_rate: 0.0,
            max_iterations: 1,
            tolerance: 0.0,
            init: Vec::new(),
        };
        for o in options {
            let (key, value) = o
                .split_once('=')
                .ok_or_else(|| format!("option '{o}' is not key=value"))?;
            let bad = || format!("option {key}: '{value}' is not a valid value");
            match key {
                "max_iterations" => t.max_iterations = value.parse().map_err(|_| bad())?,
                "tolerance" => t.tolerance = value.parse().map_err(|_| bad())?,
                "learning_rate" => t.learning_rate = value.parse().map_err(|_| bad())?,
                "clusters" => t.clusters = value.parse().map_err(|_| bad())?,
                "features" => t.features = value.parse().ok().filter(|&d| d > 0).ok_or_else(bad)?,
                _ => return Err(format!("unknown option '{key}'")),
            }
        }
        t.init = init
            .iter()
            .map(|v| {
                v.parse::<f64>()
                    .map_err(|_| format!("init value '{v}' is not a number"))
            })
            .collect::<Result<_, _>>()?;
        t.check()?;
        Ok(t)
    }

    /// Whether this is a training a backend can run: a method that fits the model, a
    /// feature at least, k-means' clusters, gradient descent's learning rate, an initial
    /// state of the model's length, a finite tolerance.
    pub fn check(&self) -> Result<(), String> {
        let t = self;
        if !t.model.methods().contains(&t.method) {
            return Err(format!(
                "not supported yet: method '{}' for {}",
                t.method.name(),
                t.model.name()
            ));
        }
        if t.features == 0 || t.features > MAX_FEATURES {
            return Err(format!(
                "{} needs from 1 to {MAX_FEATURES} features, not {}",
                t.model.name(),
                t.features
            ));
        }
        if t.model == ModelKind::Kmeans && !(1..=MAX_CLUSTERS).contains(&t.clusters) {
            return Err(format!(
                "k-means needs from 1 to {MAX_CLUSTERS} clusters, not {}",
                t.clusters
            ));
        }
        if t.method == Method::GradientDescent && !(t.learning_rate > 0.0 && t.learning_rate.is_finite()) {
            return Err("gradient descent needs a learning_rate > 0".into());
        }
        if !t.tolerance.is_finite() || t.init.iter().any(|v| !v.is_finite()) {
            return Err("the tolerance and the initial state must be finite numbers".into());
        }
        if !t.init.is_empty() && t.init.len() != t.state_len() {
            return Err(format!(
                "init has {} values; the state of this model has {}",
                t.init.len(),
                t.state_len()
            ));
        }
        Ok(())
    }
}
