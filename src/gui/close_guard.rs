//! Closing the window while jobs run: ask, never cancel in silence. "Wait and close when
//! done" keeps the window until they end; "Cancel them and quit" cancels each (on the
//! provider where it can be) and closes when they have stopped; "Back" keeps working.
//! While waiting, "Close now" leaves them Interrupted, to Retry at the next start.

/// What the user chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum CloseChoice {
    /// Keep the window until every job has ended, then close.
    WaitThenClose,
    /// Cancel every job, close when they have stopped.
    CancelAndQuit,
    /// Close at once; running jobs come back Interrupted.
    CloseNow,
    /// Do not close.
    Back,
}

/// The question and what was answered.
#[derive(Debug, Default)]
pub struct CloseGuard {
    asking: bool,
    /// Closing once no job runs (after Wait or Cancel).
    pub closing: Option<CloseChoice>,
    /// Set once the window may close without asking.
    pub allowed: bool,
}

impl CloseGuard {
    /// Asks (again) whether to close.
    pub fn ask(&mut self) {
        self.asking = true;
    }

    /// Whether the question or the waiting note is on screen.
    pub fn is_open(&self) -> bool {
        self.asking || self.closing.is_some()
    }

    /// Draws the question, or the note while closing waits; `running` jobs costing
    /// about `cost` (words, e.g. "$0.27") are still going.
    pub fn ui(&mut self, ctx: &egui::Context, running: usize, cost: &str) -> Option<CloseChoice> {
        if !self.is_open() {
            return None;
        }
        let jobs = if running == 1 {
            "1 job is".to_owned()
        } else {
            format!("{running} jobs are")
        };
        let mut choice = None;
        egui::Modal::new(egui::Id::unique("close-guard")).show(ctx, |ui| {
            ui.set_max_width(440.0);
            match self.closing {
                None => {
                    ui.heading(format!("{jobs} still running ({cost})"));
                    ui.label(
                        "Closing now would leave them unfinished. Wait for them, or cancel \
                         them and quit (each is cancelled on its provider too, where the \
                         provider allows it).",
                    );
                    ui.add_space(8.0);
                    ui.horizontal(|ui| {
                        if ui.button("Wait and close when done").clicked() {
                            choice = Some(CloseChoice::WaitThenClose);
                        }
                        if ui.button("Cancel them and quit").clicked() {
                            choice = Some(CloseChoice::CancelAndQuit);
                        }
                        if ui.button("Back").clicked()
                            || ui.input(|i| i.key_pressed(egui::Key::Escape))
                        {
                            choice = Some(CloseChoice::Back);
                        }
                    });
                }
                Some(CloseChoice::CancelAndQuit) => {
                    ui.heading("Cancelling…");
                    ui.label(format!(
                        "{jobs} stopping; the window closes when they have."
                    ));
                    if ui
                        .button("Close now")
                        .on_hover_text("They come back as Interrupted, with Retry")
                        .clicked()
                    {
                        choice = Some(CloseChoice::CloseNow);
                    }
                }
                Some(_) => {
                    ui.heading("Closing when the jobs are done");
                    ui.label(format!("{jobs} still running ({cost})."));
                    ui.horizontal(|ui| {
                        if ui
                            .button("Close now")
                            .on_hover_text("They come back as Interrupted, with Retry")
                            .clicked()
                        {
                            choice = Some(CloseChoice::CloseNow);
                        }
                        if ui.button("Don't close").clicked() {
                            choice = Some(CloseChoice::Back);
                        }
                    });
                }
            }
        });
        match choice {
            Some(CloseChoice::Back) => {
                self.asking = false;
                self.closing = None;
            }
            Some(CloseChoice::CloseNow) => {
                self.asking = false;
                self.allowed = true;
            }
            Some(c) => {
                self.asking = false;
                self.closing = Some(c);
            }
            None => {}
        }
        choice
    }
}
