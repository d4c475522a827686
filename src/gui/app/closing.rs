//! The app's side of closing: a close asked for while jobs run is held and the
//! question shown (see `close_guard`); the window closes when the answer allows.

use super::super::close_guard::CloseChoice;
use super::BananaApp;

impl BananaApp {
    /// Holds a close while jobs run, asks, and closes when the answer allows.
    pub(super) fn guard_close(&mut self, ctx: &egui::Context) {
        let running = self.engine.running_count();
        if ctx.input(|i| i.viewport().close_requested()) && !self.close_guard.allowed {
            if running > 0 {
                ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
                if self.close_guard.closing.is_none() {
                    self.close_guard.ask();
                }
            } else {
                self.close_guard.allowed = true;
            }
        }
        let cost = self.jobs.active_cost_words();
        match self.close_guard.ui(ctx, running, &cost) {
            Some(CloseChoice::CancelAndQuit) => {
                tracing::info!(running, "cancelling running jobs to quit");
                self.engine.cancel_all();
            }
            Some(CloseChoice::CloseNow) => {
                tracing::warn!(
                    running,
                    "closing with jobs running; they will be Interrupted"
                );
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            _ => {}
        }
        if self.close_guard.closing.is_some() && running == 0 {
            // Everything ended (done, failed or cancelled): close as asked.
            self.close_guard.closing = None;
            self.close_guard.allowed = true;
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if self.close_guard.closing.is_some() {
            // Elapsed time and the count change without events.
            ctx.request_repaint_after(std::time::Duration::from_millis(250));
        }
    }

    /// Whether closing waits for jobs or asks about them (for tests).
    #[cfg(feature = "testing")]
    pub fn is_asking_to_close(&self) -> bool {
        self.close_guard.is_open()
    }
}
