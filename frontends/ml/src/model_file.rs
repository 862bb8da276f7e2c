//! A trained model as a file: what it is (kind, method, features, label) and, from the
//! model's row (the result of a pipeline whose last step trains), its coefficients or
//! centroids, hyperparameters and metrics as JSON.

use arrow::record_batch::RecordBatch;
use skadi_common::ml::{Method, ModelKind, Training};

/// What a pipeline's train step trains, for writing its model file.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub name: String,
    pub training: Training,
    pub features: Vec<String>,
    pub label: Option<String>,
}

/// A trained model's row (the result of a pipeline whose last step trains) as a model
/// file: kind, method, features, the coefficients or centroids, hyperparameters, metrics.
pub fn model_json(model: &ModelInfo, batches: &[RecordBatch]) -> Result<String, String> {
    use arrow::array::{AsArray, Float64Array};
    use arrow::datatypes::{Float64Type, Int64Type};
    let batch = batches
        .iter()
        .find(|b| b.num_rows() == 1)
        .ok_or("the training produced no model row")?;
    let t = &model.training;
    let n = t.state_len();
    let state: Vec<f64> = (0..n)
        .map(|i| {
            batch
                .column(i)
                .as_any()
                .downcast_ref::<Float64Array>()
                .map(|a| a.value(0))
        })
        .collect::<Option<_>>()
        .ok_or("a model row's state is f64")?;
    let metric_i64 = |i: usize| batch.column(i).as_primitive_opt::<Int64Type>().map(|a| a.value(0));
    let loss = batch
        .column(n + 1)
        .as_primitive_opt::<Float64Type>()
        .map(|a| a.value(0));
    let mut doc = serde_json::json!({
        "name": model.name,
        "model": t.model.name(),
        "method": t.method.name(),
        "features": model.features,
        "label": model.label,
        "hyperparameters": {
            "learning_rate": (t.method == Method::GradientDescent).then_some(t.learning_rate),
            "max_iterations": t.max_iterations,
            "tolerance": t.tolerance,
        },
        "metrics": {
            "iterations": metric_i64(n),
            "loss": loss,
            "rows": metric_i64(n + 2),
        },
    });
    if t.model == ModelKind::Kmeans {
        let centroids: Vec<&[f64]> = state.chunks(t.features.max(1)).collect();
        doc["centroids"] = serde_json::json!(centroids);
    } else {
        doc["intercept"] = serde_json::json!(state[0]);
        let coefficients: serde_json::Map<String, serde_json::Value> = model
            .features
            .iter()
            .zip(&state[1..])
            .map(|(f, w)| (f.clone(), serde_json::json!(w)))
            .collect();
        doc["coefficients"] = serde_json::Value::Object(coefficients);
    }
    let mut text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text)
}
