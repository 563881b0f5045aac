//! `zerobridge send`, `track` and `claim` on the terminal: the transfer's steps and stages as
//! indicatif spinners on a TTY, below the lines already final; elsewhere only the final lines.

use std::io::IsTerminal;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use eyre::Result;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use zb_ops::claim::HolderArgs;
use zb_ops::transfer::{SendArgs, StageView, TrackArgs, TransferView};

pub async fn send(args: &SendArgs) -> Result<()> {
    zb_ops::transfer::send(args, &Terminal::new()).await
}

pub async fn track(args: &TrackArgs) -> Result<()> {
    zb_ops::transfer::track(args, &Terminal::new()).await
}

pub async fn claim(args: &HolderArgs) -> Result<()> {
    zb_ops::claim::claim(args, &Terminal::new()).await
}

/// How many stages a transfer has (`StageView`s per look).
const STAGES: usize = 5;

struct Terminal {
    screen: Mutex<Screen>,
}

impl Terminal {
    fn new() -> Terminal {
        let tty = std::io::stdout().is_terminal();
        let target = if tty { ProgressDrawTarget::stdout() } else { ProgressDrawTarget::hidden() };
        Terminal {
            screen: Mutex::new(Screen {
                tty,
                multi: MultiProgress::with_draw_target(target),
                bars: vec![None; STAGES],
                finished: vec![false; STAGES],
                step: None,
            }),
        }
    }

    fn screen(&self) -> MutexGuard<'_, Screen> {
        // A panic while drawing leaves nothing half-updated that matters: keep drawing.
        self.screen.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl TransferView for Terminal {
    fn begin(&self, line: &str) {
        self.screen().begin(line);
    }

    fn end(&self, line: Option<&str>) {
        let mut screen = self.screen();
        if let Some(bar) = screen.step.take() {
            bar.finish_and_clear();
        }
        if let Some(line) = line {
            screen.print(line);
        }
    }

    fn stages(&self, views: &[StageView]) {
        self.screen().render(views);
    }

    fn close(&self, views: &[StageView]) {
        self.screen().close(views);
    }

    fn line(&self, text: &str) {
        self.screen().print(text);
    }
}

/// The spinners: one per stage still in progress, and one for a step before the transfer.
struct Screen {
    tty: bool,
    multi: MultiProgress,
    bars: Vec<Option<ProgressBar>>,
    /// The stages printed for good (in stage order, so each is printed once).
    finished: Vec<bool>,
    step: Option<ProgressBar>,
}

fn spinner_style() -> Option<ProgressStyle> {
    // wide_msg: cut to the terminal's width, so a long message never wraps and garbles redraws.
    ProgressStyle::with_template("{spinner} {wide_msg}").ok()
}

fn spinner(bar: ProgressBar, message: String) -> ProgressBar {
    if let Some(style) = spinner_style() {
        bar.set_style(style);
    }
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

impl Screen {
    fn begin(&mut self, line: &str) {
        if self.tty {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout());
            self.step = Some(spinner(bar, line.to_string()));
        }
    }

    fn print(&self, line: &str) {
        if !self.tty || self.multi.println(line).is_err() {
            println!("{line}");
        }
    }

    fn spin(&mut self, index: usize, message: String) {
        if !self.tty {
            return;
        }
        let Some(slot) = self.bars.get_mut(index) else {
            return;
        };
        match slot {
            Some(bar) => bar.set_message(message),
            None => *slot = Some(spinner(self.multi.add(ProgressBar::new_spinner()), message)),
        }
    }

    /// Prints a stage's permanent line and removes its spinner.
    fn settle(&mut self, index: usize, line: String) {
        if let Some(bar) = self.bars.get_mut(index).and_then(Option::take) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        self.print(&line);
        if let Some(done) = self.finished.get_mut(index) {
            *done = true;
        }
    }

    fn render(&mut self, views: &[StageView]) {
        // A stage is printed for good only once every stage before it is.
        let mut blocked = false;
        for (index, view) in views.iter().enumerate() {
            if self.finished.get(index).copied().unwrap_or(true) {
                continue;
            }
            let number = index + 1;
            match view {
                StageView::Hidden => {}
                StageView::Waiting(message) => {
                    blocked = true;
                    self.spin(index, format!("{number}. {message}"));
                }
                StageView::Done(message) | StageView::Failed(message) => {
                    let mark = if matches!(view, StageView::Done(_)) { "✓" } else { "✗" };
                    let line = format!("{mark} {number}. {message}");
                    if blocked {
                        self.spin(index, line);
                    } else {
                        self.settle(index, line);
                    }
                }
            }
        }
    }

    /// Prints the stages still in progress as they stand ("…" lines) and removes every spinner.
    fn close(&mut self, views: &[StageView]) {
        for (index, view) in views.iter().enumerate() {
            if self.finished.get(index).copied().unwrap_or(true) {
                continue;
            }
            let number = index + 1;
            let line = match view {
                StageView::Hidden => continue,
                StageView::Waiting(message) => format!("… {number}. {message}"),
                StageView::Done(message) => format!("✓ {number}. {message}"),
                StageView::Failed(message) => format!("✗ {number}. {message}"),
            };
            self.settle(index, line);
        }
    }
}
