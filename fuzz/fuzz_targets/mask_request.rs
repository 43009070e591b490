//! Any bytes as a Messages request body: masking never panics, its output is JSON whenever the
//! input was, and the replies built from it unmask without panicking, whole or streamed.
#![no_main]

use std::sync::{Arc, OnceLock};

use _core::{unmask_response, Catalogue, Engine, SseRewriter};
use libfuzzer_sys::fuzz_target;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(&Catalogue::builtin().unwrap()).unwrap())
}

fuzz_target!(|data: &[u8]| {
    let engine = engine();
    let ns = "fuzz";
    let Ok(plan) = engine.plan_request(data, ns, &[]) else {
        return;
    };
    for (kind, original) in plan.missing(engine, ns) {
        engine.allocate(ns, &kind, &original);
    }
    let masked = engine
        .apply(data, &plan, ns)
        .expect("every hit was just mapped");
    let was_json = serde_json::from_slice::<serde_json::Value>(data).is_ok();
    let output = serde_json::from_slice::<serde_json::Value>(&masked.output);
    assert!(
        !was_json || output.is_ok(),
        "masking broke a valid JSON body"
    );
    for (hit, _) in &masked.replaced {
        assert!(hit.start < hit.end && hit.end <= data.len());
    }
    let unmasker = masked.unmasker();
    // The masked request echoed as a response, and as a stream cut in uneven pieces.
    let _ = unmask_response(&masked.output, &unmasker);
    let mut sse = SseRewriter::new(Arc::new(unmasker));
    let mut rest = masked.output.as_slice();
    let mut step = 1;
    while !rest.is_empty() {
        let (head, tail) = rest.split_at(step.min(rest.len()));
        let _ = sse.feed(head);
        rest = tail;
        step = step % 13 + 1;
    }
    let _ = sse.finish(true);
    engine.mapping().forget(ns);
});
