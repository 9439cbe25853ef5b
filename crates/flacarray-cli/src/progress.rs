//! Progress display on stderr (indicatif).
//!
//! Shown only when stderr is a terminal and `--quiet` is not given; otherwise the bar
//! draws to a hidden target, so redirected output and tests never see it. A bar
//! appears only once its work has run for a second, so quick commands print nothing.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Work shorter than this shows no progress.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// A progress bar over `len` units (streams, cases), or a spinner when `len` is `None`.
#[must_use]
pub fn bar(quiet: bool, len: Option<u64>, message: &str) -> Progress {
    let visible = !quiet && std::io::stderr().is_terminal();
    let pb = match len {
        Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::hidden()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden()),
    };
    set_style(&pb, len.is_some());
    pb.set_message(message.to_owned());
    Progress {
        pb,
        visible,
        shown: AtomicBool::new(false),
    }
}

fn set_style(pb: &ProgressBar, counted: bool) {
    let style = if counted {
        ProgressStyle::with_template("{msg:>12} [{elapsed_precise}] {wide_bar} {pos}/{len} ({eta})")
    } else {
        ProgressStyle::with_template("{msg:>12} [{elapsed_precise}] {spinner}")
    };
    if let Ok(style) = style {
        pb.set_style(style);
    }
}

/// A progress display that becomes visible once its work has run for a second.
///
/// Shared by reference (`&self` methods, `Sync`), so the library's worker threads can
/// advance it through a progress hook.
#[derive(Debug)]
pub struct Progress {
    pb: ProgressBar,
    visible: bool,
    shown: AtomicBool,
}

impl Progress {
    fn maybe_show(&self) {
        if self.visible && !self.shown.load(Ordering::Relaxed) && self.pb.elapsed() >= SHOW_AFTER {
            // Only the thread that flips the flag switches the draw target.
            if !self.shown.swap(true, Ordering::Relaxed) {
                self.pb.set_draw_target(ProgressDrawTarget::stderr());
                self.pb.enable_steady_tick(Duration::from_millis(200));
            }
        }
    }

    /// Advances by `n` units.
    pub fn inc(&self, n: u64) {
        self.maybe_show();
        self.pb.inc(n);
    }

    /// Units done so far.
    #[must_use]
    pub fn position(&self) -> u64 {
        self.pb.position()
    }

    /// Turns a spinner into a bar over `len` units (once the amount of work is known).
    pub fn set_length(&self, len: u64) {
        set_style(&self.pb, true);
        self.pb.set_length(len);
        self.pb.set_position(0);
    }

    /// Changes the message (the phase: reading, compressing, ...).
    pub fn phase(&self, message: &str) {
        self.maybe_show();
        self.pb.set_message(message.to_owned());
    }

    /// Removes the display.
    pub fn finish(self) {
        self.pb.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::{Ordering, bar};

    #[test]
    fn quiet_bar_counts_without_drawing() {
        let p = bar(true, Some(10), "testing");
        p.inc(3);
        p.inc(4);
        assert_eq!(p.pb.position(), 7);
        assert!(!p.shown.load(Ordering::Relaxed));
        p.set_length(20);
        p.inc(2);
        assert_eq!((p.pb.position(), p.pb.length()), (2, Some(20)));
        p.finish();
    }
}
