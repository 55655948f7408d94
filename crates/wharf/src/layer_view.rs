//! How `pull` and `push` show their layers: one indicatif bar per layer when stderr is a
//! terminal, else Docker's plain lines (one per layer and step, no byte counts).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use wharf_engine::{LayerEvent, LayerProgress};
use wharf_oci::Digest;

/// Which transfer the layers take part in: the words differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    Pull,
    Push,
}

pub enum LayerView<'a> {
    Bars {
        transfer: Transfer,
        multi: MultiProgress,
        bars: Mutex<HashMap<Digest, ProgressBar>>,
    },
    Lines {
        transfer: Transfer,
        say: &'a (dyn Fn(String) + Sync),
    },
    Quiet,
}

impl<'a> LayerView<'a> {
    /// Bars on a terminal, else lines sent to `say`; nothing at all when `quiet`.
    pub fn new(transfer: Transfer, quiet: bool, say: &'a (dyn Fn(String) + Sync)) -> Self {
        if quiet {
            Self::Quiet
        } else if std::io::stderr().is_terminal() {
            Self::Bars {
                transfer,
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                bars: Mutex::new(HashMap::new()),
            }
        } else {
            Self::Lines { transfer, say }
        }
    }

    /// Ends `layer`'s bar or line with `message` (push: how the layer got there).
    pub fn finish(&self, layer: &Digest, message: &str) {
        match self {
            Self::Bars { .. } => self.bar(layer, 0).finish_with_message(message.to_string()),
            Self::Lines { say, .. } => say(format!("{}: {message}", layer.short())),
            Self::Quiet => {}
        }
    }

    /// The bar of `layer`, made (below the others) on its first event.
    fn bar(&self, layer: &Digest, total: u64) -> ProgressBar {
        let Self::Bars { multi, bars, .. } = self else {
            unreachable!("only bars have bars")
        };
        let mut bars = bars.lock().expect("bars lock");
        bars.entry(layer.clone())
            .or_insert_with(|| {
                let bar = multi.add(ProgressBar::new(total));
                bar.set_style(text_style());
                bar.set_prefix(layer.short().to_string());
                bar
            })
            .clone()
    }
}

/// `abc123def456: Waiting`.
fn text_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix}: {msg}").expect("a valid template")
}

/// `abc123def456: Downloading [=====>     ] 1.2 MiB/3.4 MiB`.
fn bytes_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix}: {msg:11} [{bar:40}] {bytes}/{total_bytes}")
        .expect("a valid template")
        .progress_chars("=> ")
}

impl LayerProgress for LayerView<'_> {
    fn layer(&self, layer: &Digest, event: LayerEvent) {
        match self {
            Self::Quiet => {}
            Self::Lines { transfer, say } => {
                let line = match (transfer, event) {
                    (_, LayerEvent::AlreadyExists) => "Already exists",
                    (Transfer::Pull, LayerEvent::Waiting) => "Pulling fs layer",
                    (Transfer::Push, LayerEvent::Waiting) => "Preparing",
                    (_, LayerEvent::Verifying) => "Verifying Checksum",
                    (_, LayerEvent::Downloaded) => "Download complete",
                    (Transfer::Pull, LayerEvent::Done) => "Pull complete",
                    // Byte counts and the start of extraction are for bars; a push's end is
                    // said by `finish` with how the layer got there.
                    (_, LayerEvent::Moving { .. } | LayerEvent::Extracting)
                    | (Transfer::Push, LayerEvent::Done) => return,
                };
                say(format!("{}: {line}", layer.short()));
            }
            Self::Bars { transfer, .. } => {
                let bar = self.bar(layer, 0);
                match event {
                    LayerEvent::AlreadyExists => bar.finish_with_message("Already exists"),
                    LayerEvent::Waiting => bar.set_message("Waiting"),
                    LayerEvent::Moving { done, total } => {
                        if bar.length() != Some(total) {
                            bar.set_length(total);
                            bar.set_style(bytes_style());
                            bar.set_message(match transfer {
                                Transfer::Pull => "Downloading",
                                Transfer::Push => "Pushing",
                            });
                        }
                        bar.set_position(done);
                    }
                    LayerEvent::Verifying => {
                        bar.set_style(text_style());
                        bar.set_message("Verifying Checksum");
                    }
                    LayerEvent::Downloaded => bar.set_message("Download complete"),
                    LayerEvent::Extracting => bar.set_message("Extracting"),
                    LayerEvent::Done if *transfer == Transfer::Pull => {
                        bar.finish_with_message("Pull complete")
                    }
                    LayerEvent::Done => {
                        bar.set_style(text_style());
                        bar.set_message("Pushed");
                    }
                }
            }
        }
    }
}
