//! Any text: scanning, masking and unmasking never panic, hits lie in order on character
//! boundaries, and the output stays UTF-8.
#![no_main]

use std::sync::OnceLock;

use _core::{Catalogue, Engine};
use libfuzzer_sys::fuzz_target;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(&Catalogue::builtin().unwrap()).unwrap())
}

fuzz_target!(|text: &str| {
    let engine = engine();
    let ns = "fuzz";
    let plan = engine.plan_text(text, ns);
    let mut last = 0;
    for hit in &plan.hits {
        assert!(last <= hit.start && hit.start < hit.end && hit.end <= text.len());
        assert!(text.is_char_boundary(hit.start) && text.is_char_boundary(hit.end));
        last = hit.end;
    }
    for (kind, original) in plan.missing(engine, ns) {
        engine.allocate(ns, &kind, &original);
    }
    let masked = engine
        .apply(text.as_bytes(), &plan, ns)
        .expect("every hit was just mapped");
    let unmasker = masked.unmasker();
    let once = String::from_utf8(masked.output).expect("masking keeps UTF-8");
    let _ = unmasker.unmask(&once);
    let _ = engine.unmasker(ns, None).unmask_json(&once);
    engine.mapping().forget(ns);
});
