//! Trainable models: what a model's state is, what its step body sums over the rows,
//! and the math between two passes over the data (a gradient step, a solve, moving the
//! centroids). A backend runs a `flow.iterate` vertex by calling the step body over every
//! row (that is where the time goes, and it is compiled like any body) and then
//! [`Training::update`] — the same few lines of arithmetic on every backend.
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

/// After a pass: the new state, and whether training is done.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub state: Vec<f64>,
    /// The loss measured by this pass (for the state the pass started from).
    pub loss: f64,
    pub done: bool,
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
            (ModelKind::LinearRegression | ModelKind::LogisticRegression, _) => 1 + (d + 1) + 1,
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
        if t.features == 0 {
            return Err(format!("{} needs at least one feature", model.name()));
        }
        if model == ModelKind::Kmeans && t.clusters == 0 {
            return Err("k-means needs clusters >= 1".into());
        }
        if method == Method::GradientDescent && !(t.learning_rate > 0.0 && t.learning_rate.is_finite()) {
            return Err("gradient descent needs a learning_rate > 0".into());
        }
        if !t.init.is_empty() && t.init.len() != t.state_len() {
            return Err(format!(
                "init has {} values; the state of this model has {}",
                t.init.len(),
                t.state_len()
            ));
        }
        Ok(t)
    }

    /// The state training starts from, given the first rows (k-means' default start).
    pub fn initial_state(&self, first_rows: &[Vec<f64>]) -> Result<Vec<f64>, String> {
        if !self.init.is_empty() {
            return Ok(self.init.clone());
        }
        match self.model {
            ModelKind::Kmeans => {
                if first_rows.len() < self.clusters {
                    return Err(format!(
                        "k-means with {} clusters needs at least {} rows; the input has {}",
                        self.clusters,
                        self.clusters,
                        first_rows.len()
                    ));
                }
                Ok(first_rows[..self.clusters]
                    .iter()
                    .flat_map(|r| r[..self.features].iter().copied())
                    .collect())
            }
            _ => Ok(vec![0.0; self.state_len()]),
        }
    }

    /// The next state from one pass's `sums` (as the step body defines them).
    pub fn update(&self, state: &[f64], sums: &[f64]) -> Result<Update, String> {
        let n = sums[0];
        if n == 0.0 {
            return Err("no rows to train on (every row was filtered out or had a NULL)".into());
        }
        let d = self.features;
        match (self.model, self.method) {
            (_, Method::NormalEquations) => {
                let m = d + 1;
                let mut ata = vec![0.0; m * m];
                let mut k = 1;
                for i in 0..m {
                    for j in i..m {
                        ata[i * m + j] = sums[k];
                        ata[j * m + i] = sums[k];
                        k += 1;
                    }
                }
                let aty = &sums[k..k + m];
                let yy = sums[k + m];
                let w = solve_symmetric(&ata, aty, m)
                    .ok_or("the normal equations are singular: some features are constant or linearly dependent")?;
                // Residual sum of squares: yᵀy − 2wᵀAᵀy + wᵀAᵀAw.
                let mut rss = yy;
                for i in 0..m {
                    rss -= 2.0 * w[i] * aty[i];
                    for j in 0..m {
                        rss += w[i] * ata[i * m + j] * w[j];
                    }
                }
                Ok(Update {
                    state: w,
                    loss: rss.max(0.0) / n,
                    done: true,
                })
            }
            (ModelKind::LinearRegression | ModelKind::LogisticRegression, _) => {
                let gradient: Vec<f64> = sums[1..2 + d].iter().map(|g| g / n).collect();
                let state = state
                    .iter()
                    .zip(&gradient)
                    .map(|(w, g)| w - self.learning_rate * g)
                    .collect();
                let largest = gradient.iter().fold(0.0f64, |a, g| a.max(g.abs()));
                if !largest.is_finite() {
                    return Err(format!(
                        "gradient descent diverged (learning rate {} is too large for this data)",
                        self.learning_rate
                    ));
                }
                Ok(Update {
                    state,
                    loss: sums[2 + d] / n,
                    done: largest <= self.tolerance,
                })
            }
            (ModelKind::Kmeans, _) => {
                let mut next = state.to_vec();
                let mut moved = 0.0f64;
                for c in 0..self.clusters {
                    let base = 1 + c * (d + 1);
                    let count = sums[base];
                    if count == 0.0 {
                        continue; // an empty cluster keeps its centroid
                    }
                    for j in 0..d {
                        let v = sums[base + 1 + j] / count;
                        moved = moved.max((v - state[c * d + j]).abs());
                        next[c * d + j] = v;
                    }
                }
                Ok(Update {
                    state: next,
                    loss: sums[1 + self.clusters * (d + 1)],
                    done: moved <= self.tolerance,
                })
            }
        }
    }
}

/// Solves `a x = b` for a symmetric `m × m` matrix (row-major) by Gaussian elimination
/// with partial pivoting; `None` when it is singular.
pub fn solve_symmetric(a: &[f64], b: &[f64], m: usize) -> Option<Vec<f64>> {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    let scale = a.iter().fold(0.0f64, |s, v| s.max(v.abs())).max(f64::MIN_POSITIVE);
    for col in 0..m {
        let pivot = (col..m).max_by(|&i, &j| a[i * m + col].abs().total_cmp(&a[j * m + col].abs()))?;
        if a[pivot * m + col].abs() <= scale * 1e-13 {
            return None;
        }
        if pivot != col {
            for j in 0..m {
                a.swap(pivot * m + j, col * m + j);
            }
            b.swap(pivot, col);
        }
        for i in col + 1..m {
            let f = a[i * m + col] / a[col * m + col];
            if f != 0.0 {
                for j in col..m {
                    a[i * m + j] -= f * a[col * m + j];
                }
                b[i] -= f * b[col];
            }
        }
    }
    let mut x = vec![0.0; m];
    for i in (0..m).rev() {
        let s: f64 = (i + 1..m).map(|j| a[i * m + j] * x[j]).sum();
        x[i] = (b[i] - s) / a[i * m + i];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_small_system() {
        let a = [4.0, 1.0, 1.0, 3.0];
        let x = solve_symmetric(&a, &[1.0, 2.0], 2).unwrap();
        assert!((x[0] - 1.0 / 11.0).abs() < 1e-15 && (x[1] - 7.0 / 11.0).abs() < 1e-15);
        assert!(solve_symmetric(&[1.0, 2.0, 2.0, 4.0], &[1.0, 1.0], 2).is_none());
    }
}
