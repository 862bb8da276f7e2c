//! The models as bodies, in `arith`/`math` only (so they lower to any backend): the
//! per-row step a `flow.iterate` sums (what each sum is: `Training::sums`, and how the
//! update reads them: update.rs), and the prediction a scoring query computes from a
//! trained model's state.

use skadi_common::ml::{Method, ModelKind, Training};
use skadi_flowgraph::{BodyBuilder, BodyFunc, FlowGraphBuilder, Scalar, SourceLoc};

/// `v` as an f64 (features and labels may be integers, booleans or floats).
pub fn to_f64(b: &mut BodyBuilder, v: &Scalar) -> Scalar {
    match v.ty.as_str() {
        "f64" => v.clone(),
        "f32" => b.cast("arith.extf", v, "f64"),
        "i1" => b.cast("arith.uitofp", v, "f64"),
        _ => b.cast("arith.sitofp", v, "f64"),
    }
}

/// `b + w·x` with `state = [b, w...]`.
fn linear(b: &mut BodyBuilder, x: &[Scalar], state: &[Scalar]) -> Scalar {
    let mut z = state[0].clone();
    for (xj, wj) in x.iter().zip(&state[1..]) {
        let t = b.binary("arith.mulf", wj, xj);
        z = b.binary("arith.addf", &z, &t);
    }
    z
}

/// `1 / (1 + e^-z)`.
fn sigmoid(b: &mut BodyBuilder, z: &Scalar) -> Scalar {
    let one = b.const_float(1.0, "f64");
    let neg = b.unary("arith.negf", z);
    let e = b.unary("math.exp", &neg);
    let d = b.binary("arith.addf", &one, &e);
    b.binary("arith.divf", &one, &d)
}

/// The nearest centroid to `x` (state = centroids, centroid-major): its index (as f64)
/// and squared distance; ties go to the first.
fn nearest(b: &mut BodyBuilder, x: &[Scalar], state: &[Scalar], clusters: usize) -> (Scalar, Scalar) {
    let d = x.len();
    let mut best: Option<(Scalar, Scalar)> = None;
    for c in 0..clusters {
        let mut dist = b.const_float(0.0, "f64");
        for (j, xj) in x.iter().enumerate() {
            let diff = b.binary("arith.subf", xj, &state[c * d + j]);
            let sq = b.binary("arith.mulf", &diff, &diff);
            dist = b.binary("arith.addf", &dist, &sq);
        }
        let index = b.const_float(c as f64, "f64");
        best = Some(match best {
            None => (index, dist),
            Some((bi, bd)) => {
                let closer = b.compare("arith.cmpf", "olt", &dist, &bd);
                (b.select(&closer, &index, &bi), b.select(&closer, &dist, &bd))
            }
        });
    }
    best.expect("k-means has at least one cluster")
}

/// What a trained model predicts for features `x`: the regression value, the
/// probability of class 1, or the nearest centroid's index.
pub fn predict(b: &mut BodyBuilder, model: ModelKind, x: &[Scalar], state: &[Scalar]) -> Scalar {
    let x: Vec<Scalar> = x.iter().map(|v| to_f64(b, v)).collect();
    match model {
        ModelKind::LinearRegression => linear(b, &x, state),
        ModelKind::LogisticRegression => {
            let z = linear(b, &x, state);
            sigmoid(b, &z)
        }
        ModelKind::Kmeans => {
            let clusters = state.len() / x.len().max(1);
            nearest(b, &x, state, clusters).0
        }
    }
}

/// The step body of `training` over row columns of MLIR types `row_types` (the features,
/// then the label; a decimal is its scaled integer, of the scale `scales` gives, 0 for
/// other columns): `(row..., state...) -> (f64 sums...)`, as `Training::sums` counts.
pub fn step_body(
    g: &mut FlowGraphBuilder,
    training: &Training,
    row_types: &[String],
    scales: &[i8],
    loc: &SourceLoc,
) -> BodyFunc {
    let d = training.features;
    let mut params = row_types.to_vec();
    params.extend(std::iter::repeat_n("f64".to_string(), training.state_len()));
    let mut b = g.body("step", params, loc);
    let row: Vec<Scalar> = (0..row_types.len()).map(|i| b.param(i)).collect();
    let row: Vec<Scalar> = row
        .iter()
        .zip(scales.iter().copied().chain(std::iter::repeat(0)))
        .map(|(v, scale)| {
            let f = to_f64(&mut b, v);
            match scale {
                0 => f,
                s => {
                    let div = b.const_float(10f64.powi(s as i32), "f64");
                    b.binary("arith.divf", &f, &div)
                }
            }
        })
        .collect();
    let state: Vec<Scalar> = (0..training.state_len())
        .map(|i| b.param(row_types.len() + i))
        .collect();
    let x = &row[..d];
    let one = b.const_float(1.0, "f64");
    let mut out = vec![one.clone()];
    match (training.model, training.method) {
        (_, Method::NormalEquations) => {
            let y = &row[d];
            let a: Vec<Scalar> = std::iter::once(one.clone()).chain(x.iter().cloned()).collect();
            for i in 0..a.len() {
                for j in i..a.len() {
                    out.push(if i == 0 {
                        a[j].clone()
                    } else {
                        b.binary("arith.mulf", &a[i], &a[j])
                    });
                }
            }
            for ai in &a {
                out.push(b.binary("arith.mulf", ai, y));
            }
            out.push(b.binary("arith.mulf", y, y));
        }
        (ModelKind::LinearRegression | ModelKind::LogisticRegression, _) => {
            let y = &row[d];
            let z = linear(&mut b, x, &state);
            let (g, loss) = if training.model == ModelKind::LinearRegression {
                let err = b.binary("arith.subf", &z, y);
                let sq = b.binary("arith.mulf", &err, &err);
                (err, sq)
            } else {
                let p = sigmoid(&mut b, &z);
                let g = b.binary("arith.subf", &p, y);
                // log(1 + e^z) − y·z, computed as max(z, 0) + log1p(e^-|z|) − y·z.
                let zero = b.const_float(0.0, "f64");
                let pos = b.binary("arith.maximumf", &z, &zero);
                let abs = b.unary("math.absf", &z);
                let neg = b.unary("arith.negf", &abs);
                let e = b.unary("math.exp", &neg);
                let l = b.unary("math.log1p", &e);
                let softplus = b.binary("arith.addf", &pos, &l);
                let yz = b.binary("arith.mulf", y, &z);
                (g, b.binary("arith.subf", &softplus, &yz))
            };
            out.push(g.clone());
            for xj in x {
                out.push(b.binary("arith.mulf", &g, xj));
            }
            out.push(loss);
            if training.model == ModelKind::LogisticRegression {
                // 1 for a row whose label is neither 0 nor 1: the update refuses those.
                let zero = b.const_float(0.0, "f64");
                let is_zero = b.compare("arith.cmpf", "oeq", y, &zero);
                let is_one = b.compare("arith.cmpf", "oeq", y, &one);
                let valid = b.binary("arith.ori", &is_zero, &is_one);
                out.push(b.select(&valid, &zero, &one));
            }
        }
        (ModelKind::Kmeans, _) => {
            let (index, dist) = nearest(&mut b, x, &state, training.clusters);
            let zero = b.const_float(0.0, "f64");
            for c in 0..training.clusters {
                let ci = b.const_float(c as f64, "f64");
                let mine = b.compare("arith.cmpf", "oeq", &index, &ci);
                let w = b.select(&mine, &one, &zero);
                out.push(w.clone());
                for xj in x {
                    out.push(b.binary("arith.mulf", &w, xj));
                }
            }
            out.push(dist);
        }
    }
    b.finish(&out)
}
