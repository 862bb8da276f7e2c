//! `skadi gen text` and `skadi gen logs`: deterministic corpora for MapReduce jobs.
//! Text is lines of words drawn from a made-up vocabulary with a skewed (Zipf-like)
//! frequency, capitalized and punctuated; logs are web-server access logs in the Common
//! Log Format. Each file is written under a temporary name and renamed when complete.

use crate::Error;
use std::{fmt::Write as _, fs, path::Path};

/// A small, fast, deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const SYLLABLES: [&str; 24] = [
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "den", "mar", "sil", "tor", "bra", "qu", "ex", "ion", "ar", "el",
    "om", "un", "is", "ha", "pe", "zy",
];

/// Words in the vocabulary; word 0 is the most frequent.
pub const VOCABULARY: usize = 5000;

fn word(i: usize) -> String {
    // Distinct for every i: the syllables spell i in base 24, at least two of them.
    let mut n = i;
    let mut w = String::new();
    loop {
        w.push_str(SYLLABLES[n % SYLLABLES.len()]);
        n /= SYLLABLES.len();
        if n == 0 && w.len() >= 4 {
            break;
        }
    }
    if i % 97 == 13 {
        w.push_str("'s");
    }
    w
}

/// Writes `files` text files of `lines` lines each into `out`.
pub fn generate_text(out: &Path, files: usize, lines: usize, seed: u64) -> Result<(), Error> {
    let vocabulary: Vec<String> = (0..VOCABULARY).map(word).collect();
    generate(out, files, "txt", |file, text| {
        let mut rng = Rng(seed ^ (file as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
        for _ in 0..lines {
            let words = 3 + rng.below(14);
            for k in 0..words {
                // u^3 skews toward the front of the vocabulary (frequent words).
                let u = rng.unit();
                let w = &vocabulary[((u * u * u) * VOCABULARY as f64) as usize];
                if k > 0 {
                    text.push(' ');
                }
                if k == 0 || rng.below(20) == 0 {
                    let mut c = w.chars();
                    let first = c.next().expect("words are not empty");
                    text.extend(first.to_uppercase());
                    text.push_str(c.as_str());
                } else {
                    text.push_str(w);
                }
                match rng.below(16) {
                    0 => text.push(','),
                    1 if k + 1 < words => text.push_str(" -"),
                    _ => {}
                }
            }
            text.push(if rng.below(5) == 0 { '?' } else { '.' });
            text.push('\n');
        }
    })
}

const PATHS: [&str; 12] = [
    "/",
    "/index.html",
    "/about",
    "/products",
    "/products/42",
    "/products/7",
    "/cart",
    "/checkout",
    "/api/v1/items",
    "/api/v1/login",
    "/static/app.js",
    "/static/style.css",
];
const METHODS: [&str; 4] = ["GET", "GET", "POST", "PUT"];
/// Status codes and their weights.
const STATUSES: [(u16, usize); 8] = [
    (200, 70),
    (304, 8),
    (301, 4),
    (404, 9),
    (403, 2),
    (500, 4),
    (502, 1),
    (503, 2),
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Writes `files` access logs of `lines` requests each into `out`: Common Log Format,
/// `host - user [time] "METHOD path HTTP/1.1" status bytes` (bytes `-` when none).
pub fn generate_logs(out: &Path, files: usize, lines: usize, seed: u64) -> Result<(), Error> {
    let total: usize = STATUSES.iter().map(|(_, w)| w).sum();
    generate(out, files, "log", |file, text| {
        let mut rng = Rng(seed ^ (file as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let day = 1 + file % 28;
        for i in 0..lines {
            let host = format!("10.{}.{}.{}", rng.below(4), rng.below(256), 1 + rng.below(254));
            let user = if rng.below(10) == 0 { "alice" } else { "-" };
            let seconds = i * 86_400 / lines.max(1);
            let mut pick = rng.below(total);
            let status = STATUSES
                .iter()
                .find(|(_, w)| {
                    if pick < *w {
                        true
                    } else {
                        pick -= w;
                        false
                    }
                })
                .map_or(200, |(s, _)| *s);
            let bytes = if status == 304 {
                "-".to_string()
            } else {
                (200 + rng.below(50_000)).to_string()
            };
            writeln!(
                text,
                "{host} - {user} [{day:02}/{}/2026:{:02}:{:02}:{:02} +0000] \"{} {} HTTP/1.1\" {status} {bytes}",
                MONTHS[file % 12],
                seconds / 3600,
                seconds / 60 % 60,
                seconds % 60,
                METHODS[rng.below(METHODS.len())],
                PATHS[rng.below(PATHS.len())],
            )
            .expect("writing to a String");
        }
    })
}

fn generate(out: &Path, files: usize, ext: &str, mut fill: impl FnMut(usize, &mut String)) -> Result<(), Error> {
    fs::create_dir_all(out).map_err(Error::io(out))?;
    for file in 0..files.max(1) {
        let mut text = String::new();
        fill(file, &mut text);
        let path = out.join(format!("part-{file:05}.{ext}"));
        let tmp = out.join(format!(".part-{file:05}.{ext}.partial"));
        fs::write(&tmp, text).map_err(Error::io(&tmp))?;
        fs::rename(&tmp, &path).map_err(Error::io(&path))?;
    }
    Ok(())
}

/// The coefficients `skadi gen ml` draws its regression labels from: intercept 1.5, then
/// 2, −3, 4, −5, ... (feature j gets ±(j + 2)).
pub fn true_coefficients(features: usize) -> Vec<f64> {
    std::iter::once(1.5)
        .chain((0..features).map(|j| if j % 2 == 0 { (j + 2) as f64 } else { -((j + 2) as f64) }))
        .collect()
}

/// Coordinate `j` of blob `c`'s center in `skadi gen ml`'s `blobs` table.
pub fn blob_center(c: usize, j: usize) -> f64 {
    let angle = c as f64 * 2.399_963 + j as f64 * 1.3; // golden angle: well-spread centers
    8.0 * angle.cos() + 2.0 * c as f64
}

/// A standard normal draw (Box–Muller).
fn gaussian(rng: &mut Rng) -> f64 {
    let u = rng.unit().max(f64::MIN_POSITIVE);
    let v = rng.unit();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Writes three tables for the ML examples into `out` as Parquet, `rows` rows each over
/// features `x1..x{features}`:
/// - `linear`: x uniform in [−1, 1), `y` = [`true_coefficients`] · (1, x) + N(0, 0.1²);
/// - `logistic`: the same x, `label` = 1 where that linear function is > 0 (separable);
/// - `blobs`: `clusters` Gaussian blobs (σ = 1) around [`blob_center`]s, with the true
///   `cluster`.
pub fn generate_ml(out: &Path, rows: usize, features: usize, clusters: usize, seed: u64) -> Result<(), Error> {
    use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
    use std::sync::Arc;
    fs::create_dir_all(out).map_err(Error::io(out))?;
    let features = features.max(1);
    let w = true_coefficients(features);
    let mut rng = Rng(seed ^ 0x005E_ED0F_1A7A);
    let mut x: Vec<Vec<f64>> = vec![Vec::with_capacity(rows); features];
    let (mut y, mut label) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    for _ in 0..rows {
        let mut z = w[0];
        for (j, col) in x.iter_mut().enumerate() {
            let v = rng.unit() * 2.0 - 1.0;
            col.push(v);
            z += w[j + 1] * v;
        }
        y.push(z + 0.1 * gaussian(&mut rng));
        label.push(i64::from(z > 0.0));
    }
    let names: Vec<String> = (1..=features).map(|j| format!("x{j}")).collect();
    let table = |extra: Vec<(&str, ArrayRef)>, columns: &[Vec<f64>]| -> Result<RecordBatch, Error> {
        let mut all: Vec<(String, ArrayRef)> = names
            .iter()
            .zip(columns)
            .map(|(n, c)| (n.clone(), Arc::new(Float64Array::from(c.clone())) as ArrayRef))
            .collect();
        all.extend(extra.into_iter().map(|(n, a)| (n.to_string(), a)));
        RecordBatch::try_from_iter(all).map_err(|e| Error::Other(e.to_string()))
    };
    write_table(
        &out.join("linear.parquet"),
        table(vec![("y", Arc::new(Float64Array::from(y)))], &x)?,
    )?;
    write_table(
        &out.join("logistic.parquet"),
        table(vec![("label", Arc::new(Int64Array::from(label)))], &x)?,
    )?;
    let clusters = clusters.max(1);
    let mut blobs: Vec<Vec<f64>> = vec![Vec::with_capacity(rows); features];
    let mut truth = Vec::with_capacity(rows);
    for _ in 0..rows {
        let c = rng.below(clusters);
        for (j, col) in blobs.iter_mut().enumerate() {
            col.push(blob_center(c, j) + gaussian(&mut rng));
        }
        truth.push(c as i64);
    }
    write_table(
        &out.join("blobs.parquet"),
        table(vec![("cluster", Arc::new(Int64Array::from(truth)))], &blobs)?,
    )?;
    Ok(())
}

fn write_table(path: &Path, batch: arrow::array::RecordBatch) -> Result<(), Error> {
    crate::tpch::write_parquet(path, Box::new(std::iter::once(Ok(batch)))).map(|_| ())
}
