//! Times the stages of masking one input, for profiling: `cargo run --release --example
//! profile_engine -- FILE [text|body] [ROUNDS]`.
use std::time::Instant;

use _core::{Catalogue, Engine};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let data = std::fs::read(&args[1]).expect("input");
    let body = args.get(2).is_some_and(|m| m == "body");
    let rounds: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(5);
    let engine = Engine::new(&Catalogue::builtin().unwrap()).unwrap();
    let ns = "p";
    for round in 0..=rounds {
        let t = Instant::now();
        let plan = if body {
            engine.plan_request(&data, ns, &[]).unwrap()
        } else {
            engine.plan_text(std::str::from_utf8(&data).unwrap(), ns)
        };
        let planned = t.elapsed();
        let missing = plan.missing(&engine, ns);
        for (k, o) in missing {
            engine.allocate(ns, &k, &o);
        }
        let allocated = t.elapsed();
        let masked = engine.apply(&data, &plan, ns).unwrap();
        let total = t.elapsed();
        let mbs = |d: std::time::Duration| data.len() as f64 / d.as_secs_f64() / 1e6;
        eprintln!(
            "round {round}: plan {:?} allocate {:?} apply {:?} total {:?} = {:.0} MB/s ({} hits)",
            planned,
            allocated.saturating_sub(planned),
            total.saturating_sub(allocated),
            total,
            mbs(total),
            masked.replaced.len()
        );
    }
}
