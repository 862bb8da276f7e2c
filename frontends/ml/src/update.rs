//! The maths between two passes over the data: a solve of the normal equations, a
//! gradient step, moving k-means' centroids. A backend runs a `flow.iterate` vertex by
//! summing the step body (bodies.rs) over every row — that is where the time goes, and
//! it is compiled like any body — then calling [`update`]: the same few lines of
//! arithmetic on every backend.

use skadi_common::ml::{Method, ModelKind, Training};

/// After a pass: the new state, and whether training is done.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub state: Vec<f64>,
    /// The loss measured by this pass (for the state the pass started from).
    pub loss: f64,
    pub done: bool,
}

/// The state training starts from, given the first rows (k-means' default start).
pub fn initial_state(training: &Training, first_rows: &[Vec<f64>]) -> Result<Vec<f64>, String> {
    if !training.init.is_empty() {
        return Ok(training.init.clone());
    }
    match training.model {
        ModelKind::Kmeans => {
            if first_rows.len() < training.clusters {
                return Err(format!(
                    "k-means with {} clusters needs at least {} rows; the input has {}",
                    training.clusters,
                    training.clusters,
                    first_rows.len()
                ));
            }
            Ok(first_rows[..training.clusters]
                .iter()
                .flat_map(|r| r[..training.features].iter().copied())
                .collect())
        }
        _ => Ok(vec![0.0; training.state_len()]),
    }
}

/// The next state from one pass's `sums` (as the step body defines them). Refuses to
/// go on from a state or loss that is no longer a finite number (training diverged) and,
/// for logistic regression, from rows whose label is neither 0 nor 1.
pub fn update(training: &Training, state: &[f64], sums: &[f64]) -> Result<Update, String> {
    let next = step(training, state, sums)?;
    if next.state.iter().chain([&next.loss]).any(|v| !v.is_finite()) {
        return Err(match training.method {
            Method::GradientDescent => format!(
                "gradient descent diverged: the model is no longer finite (learning rate {} is too large for this data)",
                training.learning_rate
            ),
            _ => format!(
                "{} diverged: the model is no longer finite (are some feature values infinite or huge?)",
                training.method.name()
            ),
        });
    }
    Ok(next)
}

fn step(training: &Training, state: &[f64], sums: &[f64]) -> Result<Update, String> {
    let n = sums[0];
    if n == 0.0 {
        return Err("no rows to train on (every row was filtered out or had a NULL)".into());
    }
    let d = training.features;
    match (training.model, training.method) {
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
            if training.model == ModelKind::LogisticRegression && sums[3 + d] > 0.0 {
                return Err(format!(
                    "logistic regression needs a label of 0 or 1 in every row; {} row(s) have another value",
                    sums[3 + d]
                ));
            }
            let gradient: Vec<f64> = sums[1..2 + d].iter().map(|g| g / n).collect();
            let state = state
                .iter()
                .zip(&gradient)
                .map(|(w, g)| w - training.learning_rate * g)
                .collect();
            // A gradient that is no longer finite makes the state so: `update` refuses it.
            let largest = gradient.iter().fold(0.0f64, |a, g| a.max(g.abs()));
            Ok(Update {
                state,
                loss: sums[2 + d] / n,
                done: largest <= training.tolerance,
            })
        }
        (ModelKind::Kmeans, _) => {
            let mut next = state.to_vec();
            let mut moved = 0.0f64;
            for c in 0..training.clusters {
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
                loss: sums[1 + training.clusters * (d + 1)],
                done: moved <= training.tolerance,
            })
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
