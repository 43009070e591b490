//! Any bytes as a provider's SSE stream, cut anywhere: the rewriter never panics, and a text
//! stream unmasks the same whatever the chunking.
#![no_main]

use std::sync::Arc;

use _core::{SseRewriter, StreamUnmasker, Unmasker};
use libfuzzer_sys::fuzz_target;

fn unmasker() -> Arc<Unmasker> {
    Arc::new(Unmasker::new(vec![
        ("ec2-001".into(), "i-0123456789abcdef0".into()),
        ("ec2-0010".into(), "i-0fedcba9876543210".into()),
        ("acct-001".into(), "123456789012".into()),
        (
            "arn-001".into(),
            "arn:aws:iam::123456789012:role/x\"y\\z".into(),
        ),
    ]))
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, body)) = data.split_first() else {
        return;
    };
    let step = usize::from(cut % 17) + 1;
    let mut sse = SseRewriter::new(unmasker());
    for piece in body.chunks(step) {
        let _ = sse.feed(piece);
    }
    let _ = sse.finish(cut % 2 == 0);

    let text = String::from_utf8_lossy(body);
    let whole = {
        let mut s = StreamUnmasker::new(unmasker(), false);
        let mut out = s.push(&text);
        out.push_str(&s.finish());
        out
    };
    let mut s = StreamUnmasker::new(unmasker(), false);
    let mut out = String::new();
    let mut rest: &str = &text;
    while !rest.is_empty() {
        let mut at = step.min(rest.len());
        while !rest.is_char_boundary(at) {
            at += 1;
        }
        out.push_str(&s.push(&rest[..at]));
        rest = &rest[at..];
    }
    out.push_str(&s.finish());
    assert_eq!(out, whole, "chunking changed the unmasked text");
});
