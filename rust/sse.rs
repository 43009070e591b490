//! Restoring pseudonyms in a streamed Messages response, event by event.
//!
//! Upstream chunks are cut anywhere, so whole SSE events are rebuilt first. Each text or
//! tool-use block gets its own [`StreamUnmasker`]; a delta is relayed at once minus a possible
//! pseudonym prefix at its end, which is carried into the block's next delta (or a delta of
//! its own just before `content_block_stop`). Every other event, and every event with
//! nothing to restore, is relayed byte for byte, in order.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::unmask::{Restored, StreamUnmasker, Unmasker};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Delta {
    Text,
    Json,
}

impl Delta {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Delta::Text => ("text_delta", "text"),
            Delta::Json => ("input_json_delta", "partial_json"),
        }
    }
}

/// Rewrites an SSE byte stream.
///
/// ```
/// use std::sync::Arc;
/// use _core::{SseRewriter, Unmasker};
/// let u = Arc::new(Unmasker::new(vec![("ec2-001".into(), "i-0123456789abcdef0".into())]));
/// let mut sse = SseRewriter::new(u);
/// let mut out = sse.feed(b"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
/// out.extend(sse.feed(b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"on ec2-001 \"}}\n\n"));
/// assert!(String::from_utf8(out).unwrap().contains("on i-0123456789abcdef0 "));
/// ```
pub struct SseRewriter {
    unmasker: Arc<Unmasker>,
    buf: Vec<u8>,
    blocks: HashMap<u64, (Delta, StreamUnmasker)>,
    restored: Restored,
}

impl SseRewriter {
    /// A rewriter restoring the pseudonyms `unmasker` knows.
    pub fn new(unmasker: Arc<Unmasker>) -> Self {
        SseRewriter {
            unmasker,
            buf: Vec::new(),
            blocks: HashMap::new(),
            restored: Restored::new(),
        }
    }

    /// Feeds upstream bytes; returns the bytes to relay now.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<u8> {
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::with_capacity(self.buf.len());
        let mut start = 0;
        while let Some(end) = event_end(&self.buf[start..]) {
            let event = self.buf[start..start + end].to_vec();
            self.event(&event, &mut out);
            start += end;
        }
        self.buf.drain(..start);
        out
    }

    /// Ends the stream: flushes held text of unfinished blocks, then any partial event as is
    /// (or drops it, when the stream broke and the caller will send an `error` event).
    pub fn finish(&mut self, keep_partial: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut open: Vec<u64> = self.blocks.keys().copied().collect();
        open.sort_unstable();
        for index in open {
            self.flush_block(index, &mut out);
        }
        if keep_partial {
            out.append(&mut self.buf);
        }
        self.buf.clear();
        out
    }

    /// Pseudonyms restored so far, with counts (blocks still open not included).
    pub fn restored(&self) -> &Restored {
        &self.restored
    }

    fn event(&mut self, raw: &[u8], out: &mut Vec<u8>) {
        let Some((name, data)) = fields(raw) else {
            out.extend_from_slice(raw);
            return;
        };
        let interesting = matches!(
            name.as_str(),
            "" | "content_block_start" | "content_block_delta" | "content_block_stop"
        );
        let parsed: Option<Value> = if interesting {
            serde_json::from_str(&data).ok()
        } else {
            None
        };
        let Some(mut value) = parsed else {
            out.extend_from_slice(raw);
            return;
        };
        let index = value.get("index").and_then(Value::as_u64);
        match (value.get("type").and_then(Value::as_str), index) {
            (Some("content_block_start"), Some(index)) => {
                let kind = value.pointer("/content_block/type").and_then(Value::as_str);
                let delta = match kind {
                    Some("text") => Some(Delta::Text),
                    Some("tool_use" | "server_tool_use" | "mcp_tool_use") => Some(Delta::Json),
                    _ => None,
                };
                if let Some(delta) = delta {
                    let stream = StreamUnmasker::new(self.unmasker.clone(), delta == Delta::Json);
                    self.blocks.insert(index, (delta, stream));
                }
                // A tool whose name was masked in the request is called by its masked name.
                let tool = (delta == Some(Delta::Json))
                    .then(|| value.pointer("/content_block/name").and_then(Value::as_str))
                    .flatten()
                    .map(|n| (n.to_owned(), self.unmasker.unmask(n)));
                match tool {
                    Some((masked, restored)) if masked != restored => {
                        value["content_block"]["name"] = Value::String(restored);
                        write_event(out, &name, &value);
                    }
                    _ => out.extend_from_slice(raw),
                }
            }
            (Some("content_block_delta"), Some(index)) => {
                let Some((delta, stream)) = self.blocks.get_mut(&index) else {
                    out.extend_from_slice(raw);
                    return;
                };
                let (delta_type, field) = delta.names();
                let text = match value.get("delta") {
                    Some(d) if d.get("type").and_then(Value::as_str) == Some(delta_type) => {
                        d.get(field).and_then(Value::as_str).map(str::to_owned)
                    }
                    _ => None,
                };
                let Some(text) = text else {
                    out.extend_from_slice(raw);
                    return;
                };
                let emitted = stream.push(&text);
                if emitted == text {
                    out.extend_from_slice(raw);
                } else {
                    value["delta"][field] = Value::String(emitted);
                    write_event(out, &name, &value);
                }
            }
            (Some("content_block_stop"), Some(index)) => {
                self.flush_block(index, out);
                out.extend_from_slice(raw);
            }
            _ => out.extend_from_slice(raw),
        }
    }

    fn flush_block(&mut self, index: u64, out: &mut Vec<u8>) {
        let Some((delta, mut stream)) = self.blocks.remove(&index) else {
            return;
        };
        let rest = stream.finish();
        for (p, n) in stream.restored() {
            *self.restored.entry(p.clone()).or_default() += n;
        }
        if rest.is_empty() {
            return;
        }
        let (delta_type, field) = delta.names();
        let mut d = serde_json::Map::new();
        d.insert("type".into(), delta_type.into());
        d.insert(field.into(), rest.into());
        let mut v = serde_json::Map::new();
        v.insert("type".into(), "content_block_delta".into());
        v.insert("index".into(), index.into());
        v.insert("delta".into(), Value::Object(d));
        write_event(out, "content_block_delta", &Value::Object(v));
    }
}

fn write_event(out: &mut Vec<u8>, name: &str, value: &Value) {
    if !name.is_empty() {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
    }
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(
        serde_json::to_string(value)
            .expect("a Value serialises")
            .as_bytes(),
    );
    out.extend_from_slice(b"\n\n");
}

/// Length of the first complete event (through its blank line), if the buffer holds one.
fn event_end(buf: &[u8]) -> Option<usize> {
    let mut line_start = 0;
    let mut i = 0;
    while i < buf.len() {
        let eol = match buf[i] {
            // A lone CR at the very end may be the first half of CRLF: wait for more.
            b'\r' if i + 1 == buf.len() => return None,
            b'\r' if buf[i + 1] == b'\n' => 2,
            b'\n' | b'\r' => 1,
            _ => {
                i += 1;
                continue;
            }
        };
        let empty = i == line_start;
        i += eol;
        if empty {
            return Some(i);
        }
        line_start = i;
    }
    None
}

/// The event name and joined data of one event; `None` when it carries no data.
fn fields(raw: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut name = String::new();
    let mut data: Option<String> = None;
    for line in text.split(['\n', '\r']).filter(|l| !l.is_empty()) {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => value.clone_into(&mut name),
            "data" => match &mut data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
    Some((name, data?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(name: &str, data: &str) -> String {
        format!("event: {name}\ndata: {data}\n\n")
    }

    fn stream(text_parts: &[&str], json_parts: &[&str]) -> String {
        let mut s = ev(
            "message_start",
            r#"{"type":"message_start","message":{"id":"m","content":[]}}"#,
        );
        s += &ev(
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        );
        s += &ev("ping", r#"{"type": "ping"}"#);
        for p in text_parts {
            let v = serde_json::json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":p}});
            s += &ev("content_block_delta", &v.to_string());
        }
        s += &ev(
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        );
        s += &ev(
            "content_block_start",
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"Bash","input":{}}}"#,
        );
        for p in json_parts {
            let v = serde_json::json!({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":p}});
            s += &ev("content_block_delta", &v.to_string());
        }
        s += &ev(
            "content_block_stop",
            r#"{"type":"content_block_stop","index":1}"#,
        );
        s += &ev(
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"}}"#,
        );
        s += &ev("message_stop", r#"{"type":"message_stop"}"#);
        s
    }

    /// Concatenated text and tool JSON of a rewritten stream, plus event types in order.
    fn digest(out: &[u8]) -> (String, String, Vec<String>) {
        let (mut text, mut json, mut types) = (String::new(), String::new(), Vec::new());
        let mut rest = out;
        while let Some(end) = event_end(rest) {
            let (_, data) = fields(&rest[..end]).unwrap();
            let v: Value = serde_json::from_str(&data).unwrap();
            types.push(v["type"].as_str().unwrap().to_owned());
            if let Some(t) = v.pointer("/delta/text").and_then(Value::as_str) {
                text += t;
            }
            if let Some(t) = v.pointer("/delta/partial_json").and_then(Value::as_str) {
                json += t;
            }
            rest = &rest[end..];
        }
        assert!(rest.is_empty());
        (text, json, types)
    }

    fn unmasker() -> Arc<Unmasker> {
        Arc::new(Unmasker::new(vec![
            ("ec2-001".into(), "i-0123456789abcdef0".into()),
            ("secret-001".into(), "a\"b".into()),
        ]))
    }

    #[test]
    fn restores_across_deltas_and_chunks() {
        let input = stream(
            &["Stop ec2-0", "01 now, then secret-0", "01"],
            &["{\"cmd\": \"echo ec", "2-001 secret-001\"}"],
        );
        for chunk in [1, 2, 7, 64, input.len()] {
            let mut sse = SseRewriter::new(unmasker());
            let mut out = Vec::new();
            for piece in input.as_bytes().chunks(chunk) {
                out.extend(sse.feed(piece));
            }
            out.extend(sse.finish(true));
            let (text, json, types) = digest(&out);
            assert_eq!(
                text, "Stop i-0123456789abcdef0 now, then a\"b",
                "chunk {chunk}"
            );
            assert_eq!(json, r#"{"cmd": "echo i-0123456789abcdef0 a\"b"}"#);
            let v: Value = serde_json::from_str(&json).unwrap();
            assert_eq!(v["cmd"], "echo i-0123456789abcdef0 a\"b");
            let want: Vec<&str> = vec![
                "message_start",
                "content_block_start",
                "ping",
                "content_block_delta",
                "content_block_delta",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop",
            ];
            assert_eq!(
                types, want,
                "one extra delta flushes the held pseudonym of block 0"
            );
        }
    }

    #[test]
    fn passes_untouched_events_byte_for_byte() {
        let input = stream(&["nothing to restore"], &["{}"])
            + "event: brand_new\ndata: {\"x\":1}\n\n: comment\n\n";
        let mut sse = SseRewriter::new(unmasker());
        let mut out = sse.feed(input.as_bytes());
        out.extend(sse.finish(true));
        assert_eq!(out, input.as_bytes());
    }

    #[test]
    fn crlf_and_partial_trailing_event() {
        let mut sse = SseRewriter::new(unmasker());
        let out = sse.feed(b"event: ping\r\ndata: {}\r\n\r\nevent: pi");
        assert_eq!(out, b"event: ping\r\ndata: {}\r\n\r\n");
        assert_eq!(sse.finish(true), b"event: pi");
    }
}
