//! Times the stages of masking one input, for profiling: `cargo run --release --example
//! profile_engine -- FILE [text|body|session|cold] [ROUNDS]`. `session` masks a growing text, the
//! way Claude Code resends a conversation: round i masks the first i/ROUNDS of FILE. `cold` masks
//! the body every round as if for the first time (no scan cache, a new namespace each round).
//! `profile_engine turns FILE...` masks the bodies in order in one namespace, scan cache on:
//! the turns of one conversation, each body the one before and a little more.
use std::time::Instant;

use _core::{Catalogue, Engine};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("turns") {
        return turns(&args[2..]);
    }
    let data = std::fs::read(&args[1]).expect("input");
    let mode = args.get(2).map_or("text", String::as_str);
    let rounds: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(5);
    let cold = mode == "cold";
    let catalogue = Catalogue::builtin().unwrap();
    let engine = if cold {
        Engine::with_scan_cache(&catalogue, 0).unwrap()
    } else {
        Engine::new(&catalogue).unwrap()
    };
    for round in 0..=rounds {
        let fresh = format!("p{round}");
        let ns = if cold { fresh.as_str() } else { "p" };
        let input: &[u8] = if mode == "session" {
            let text = std::str::from_utf8(&data).unwrap();
            let mut end = data.len() * (round + 1) / (rounds + 1);
            while !text.is_char_boundary(end) {
                end += 1;
            }
            &data[..end]
        } else {
            &data
        };
        let t = Instant::now();
        let plan = if mode == "body" || cold {
            engine.plan_request(input, ns, &[]).unwrap()
        } else {
            engine.plan_text(std::str::from_utf8(input).unwrap(), ns)
        };
        let planned = t.elapsed();
        for (k, o) in plan.missing(&engine, ns) {
            engine.allocate(ns, &k, &o);
        }
        let allocated = t.elapsed();
        let masked = engine.apply(input, &plan, ns).unwrap();
        let total = t.elapsed();
        let mbs = |d: std::time::Duration| input.len() as f64 / d.as_secs_f64() / 1e6;
        eprintln!(
            "round {round}: {} KB plan {:?} allocate {:?} apply {:?} total {:?} = {:.0} MB/s ({} hits)",
            input.len() / 1000,
            planned,
            allocated.saturating_sub(planned),
            total.saturating_sub(allocated),
            total,
            mbs(total),
            masked.replaced.len()
        );
    }
}

fn turns(files: &[String]) {
    let engine = Engine::new(&Catalogue::builtin().unwrap()).unwrap();
    for f in files {
        let input = std::fs::read(f).expect("input");
        let t = Instant::now();
        let plan = engine.plan_request(&input, "p", &[]).unwrap();
        for (k, o) in plan.missing(&engine, "p") {
            engine.allocate("p", &k, &o);
        }
        let masked = engine.apply(&input, &plan, "p").unwrap();
        eprintln!(
            "{f}: {} KB in {:?} ({} hits)",
            input.len() / 1000,
            t.elapsed(),
            masked.replaced.len()
        );
    }
}
