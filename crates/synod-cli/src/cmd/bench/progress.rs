//! The progress bar (stderr), drawn only when stdout is a terminal and
//! without --json. It shows the phase and the rate over the last second.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::load::Ctx;
use super::Plan;

/// Starts the ticker; the returned task ends once the load is done.
pub fn spawn(visible: bool, ctx: Arc<Ctx>, plan: &Plan) -> Option<tokio::task::JoinHandle<()>> {
    if !visible {
        return None;
    }
    let total_ms = ctx.end.duration_since(ctx.start).as_millis() as u64;
    let bar = ProgressBar::with_draw_target(Some(total_ms), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix} [{bar:30}] {msg}")
            .expect("progress template")
            .progress_chars("=> "),
    );
    let shape = match plan.rate {
        Some(r) => format!("open loop {r} req/s"),
        None => format!("{} clients", plan.clients),
    };
    bar.set_prefix(format!("{shape} × {}/req", plan.batch));
    Some(tokio::spawn(async move {
        let mut window: std::collections::VecDeque<(Instant, u64, u64)> = std::collections::VecDeque::new();
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        while !ctx.live.done.load(Ordering::Relaxed) {
            tick.tick().await;
            let now = Instant::now();
            let committed = ctx.live.committed.load(Ordering::Relaxed);
            let requests = ctx.live.requests.load(Ordering::Relaxed);
            window.push_back((now, committed, requests));
            while window.len() > 6 {
                window.pop_front();
            }
            let (t0, c0, r0) = window[0];
            let dt = now.duration_since(t0).as_secs_f64().max(1e-3);
            let phase = if now < ctx.warmup_end {
                "warmup"
            } else if now < ctx.end {
                "measuring"
            } else {
                "finishing"
            };
            bar.set_position(now.saturating_duration_since(ctx.start).as_millis() as u64);
            bar.set_message(format!(
                "{phase}: {:.0} transfers/s, {:.0} req/s, {} committed, {} errors",
                (committed - c0) as f64 / dt,
                (requests - r0) as f64 / dt,
                committed,
                ctx.live.errors.load(Ordering::Relaxed)
            ));
        }
        bar.finish_and_clear();
    }))
}
