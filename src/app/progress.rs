//! Progress bars on stderr, only when stderr is a terminal and not silenced.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over simulated time (in whole seconds), or None when it would only clutter a log.
pub fn span_bar(max_time_us: u64, quiet: bool) -> Option<ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(max_time_us / 1_000_000);
    bar.set_style(
        ProgressStyle::with_template("{spinner} simulating [{bar:30}] {percent}% of simulated time, {elapsed} elapsed, ETA {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    Some(bar)
}
