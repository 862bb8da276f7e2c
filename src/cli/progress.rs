//! Progress on standard error: bars for counted work, spinners for the rest.

use indicatif::{ProgressBar, ProgressStyle};
use skadi::Error;

pub(crate) fn bar(len: u64, template: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(ProgressStyle::with_template(template).expect("progress templates are valid"));
    bar
}

/// Runs `work` with a spinner saying `what` on standard error.
pub(crate) fn spinning<T>(what: &str, work: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    let spinner = bar(1, &format!("{{spinner}} {what} {{msg}}"));
    spinner.enable_steady_tick(std::time::Duration::from_millis(100));
    let result = work();
    spinner.finish_and_clear();
    result
}

/// A generator's or peer's failure, as the CLI reports it.
pub(crate) fn workload(e: skadi_workloads::Error) -> Error {
    Error::Other(e.to_string())
}
