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

/// A bar over a sweep's runs: done/total, rate and ETA; None when quiet or stderr is not a terminal.
pub fn runs_bar(total: u64, done: u64, quiet: bool) -> Option<ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} sweep [{bar:30}] {pos}/{len} runs, {rate} runs/s, {elapsed} elapsed, ETA {eta}",
        )
        .expect("valid template")
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.1}", state.per_sec());
            },
        )
        .progress_chars("=> "),
    );
    // Runs already done (resume) count as progress but not toward the rate.
    bar.set_position(done);
    bar.reset_eta();
    Some(bar)
}
