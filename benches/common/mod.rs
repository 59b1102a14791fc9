//! Timing shared by the benches.

use std::time::Instant;

/// Runs `f` once to warm up, then `runs` times; median and slowest run in milliseconds.
pub fn time_ms(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
    f();
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[runs / 2], times[runs - 1])
}
