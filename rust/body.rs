//! Which strings of an Anthropic Messages body the model can read: all of them, but a few.
//!
//! Default-deny: every string of a request is scanned (values and object keys, every copy of
//! a duplicated key, fields not invented yet), except this allowlist, which must reach the
//! provider byte for byte and never holds prompt text:
//! - `thinking` and `redacted_thinking` blocks (their signatures bind them);
//! - `signature`, `id` and `tool_use_id` of content blocks, and their `type` tags;
//! - `data` of base64 sources and `file_id` of file sources (documents and images);
//! - `cache_control` objects;
//! - the top-level `model` (routing needs it; logs see it masked, and the gateway refuses a model
//!   name that holds a credential: `gateway/headers.py`);
//! - the first system block when its whole text is Claude Code's attribution line
//!   (`x-anthropic-billing-header: cc_version=…; cc_entrypoint=…;`), exactly that format, and
//!   the catalogue finds nothing in it (the namespace's known values are not looked for there:
//!   a bucket named `cli` must not rewrite `cc_entrypoint=cli`).
//!
//! Response side: text blocks, tool inputs and tool names are restored.

use crate::json::{Node, Str};

/// A string to scan, with the object key it is the value of (context for validators) and the
/// run of adjacent text blocks it belongs to (a value may be split across two of them).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target {
    pub s: Str,
    pub key: Option<Str>,
    /// Nonzero for text blocks: consecutive text blocks of one content array share it.
    pub run: u32,
    /// The attribution line: left alone unless the catalogue finds something in it.
    pub attribution: bool,
}

const ATTRIBUTION: &[u8] = b"x-anthropic-billing-header: ";

/// Claude Code's attribution line: `x-anthropic-billing-header: ` then `name=value;` fields.
fn is_attribution(text: &[u8]) -> bool {
    let Some(rest) = text.strip_prefix(ATTRIBUTION) else {
        return false;
    };
    let rest = rest.trim_ascii_end();
    if rest.is_empty() {
        return false;
    }
    rest.split(|&b| b == b';').enumerate().all(|(i, field)| {
        let field = if i == 0 {
            field
        } else {
            field.strip_prefix(b" ").unwrap_or(field)
        };
        if field.is_empty() {
            // Only after the last `;`.
            return true;
        }
        let Some(eq) = field.iter().position(|&b| b == b'=') else {
            return false;
        };
        let (name, value) = (&field[..eq], &field[eq + 1..]);
        !name.is_empty()
            && name.iter().all(|&b| b.is_ascii_lowercase() || b == b'_')
            && value.len() <= 64
            && value
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    }) && rest.ends_with(b";")
}

pub(crate) fn request_targets(raw: &[u8], root: &Node) -> Vec<Target> {
    let mut w = Walk {
        raw,
        out: Vec::new(),
        runs: 0,
    };
    let Node::Object(members) = root else {
        return w.out;
    };
    for (key, value) in members {
        if key.raw_eq(raw, "model") {
            continue;
        }
        if key.raw_eq(raw, "system") {
            w.system(value);
        } else if key.raw_eq(raw, "messages") {
            for message in array(value) {
                w.message(message);
            }
        } else {
            w.push(*key, None);
            w.everything(value, Some(*key));
        }
    }
    w.out
}

pub(crate) fn response_targets(raw: &[u8], root: &Node) -> Vec<Target> {
    let mut w = Walk {
        raw,
        out: Vec::new(),
        runs: 0,
    };
    for (k, content) in members(root) {
        if !k.raw_eq(raw, "content") {
            continue;
        }
        for block in array(content) {
            match block.str_member(raw, "type").as_deref() {
                Some(b"text") => w.member_string(block, "text"),
                Some(b"tool_use" | b"server_tool_use" | b"mcp_tool_use") => {
                    w.member_string(block, "name");
                    for (k, input) in members(block) {
                        if k.raw_eq(raw, "input") {
                            w.everything(input, None);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    w.out
}

fn array(node: &Node) -> &[Node] {
    match node {
        Node::Array(items) => items,
        _ => &[],
    }
}

fn members(node: &Node) -> &[(Str, Node)] {
    match node {
        Node::Object(m) => m,
        _ => &[],
    }
}

struct Walk<'a> {
    raw: &'a [u8],
    out: Vec<Target>,
    runs: u32,
}

impl Walk<'_> {
    fn push(&mut self, s: Str, key: Option<Str>) {
        self.push_in(s, key, 0);
    }

    fn push_in(&mut self, s: Str, key: Option<Str>, run: u32) {
        if s.end > s.start {
            self.out.push(Target {
                s,
                key,
                run,
                attribution: false,
            });
        }
    }

    fn member_string(&mut self, node: &Node, key: &str) {
        for (k, v) in members(node) {
            if let (true, Node::String(s)) = (k.raw_eq(self.raw, key), v) {
                self.push(*s, None);
            }
        }
    }

    fn system(&mut self, node: &Node) {
        match node {
            Node::Array(blocks) => {
                let raw = self.raw;
                let attribution = blocks.first().and_then(|b| {
                    let texts = members(b)
                        .iter()
                        .filter(|(k, _)| k.raw_eq(raw, "text"))
                        .count();
                    match b.get(raw, "text") {
                        Some(Node::String(s))
                            if texts == 1
                                && matches!(
                                    b.str_member(raw, "type").as_deref(),
                                    Some(b"text")
                                )
                                && !s.escaped
                                && is_attribution(&raw[s.start..s.end]) =>
                        {
                            Some(s.start)
                        }
                        _ => None,
                    }
                });
                let before = self.out.len();
                self.blocks(blocks);
                if let Some(at) = attribution {
                    for t in &mut self.out[before..] {
                        t.attribution |= t.s.start == at;
                    }
                }
            }
            other => self.content(other),
        }
    }

    fn message(&mut self, node: &Node) {
        let Node::Object(ms) = node else {
            return self.everything(node, None);
        };
        for (k, v) in ms {
            if k.raw_eq(self.raw, "content") {
                self.content(v);
            } else if !k.raw_eq(self.raw, "role") {
                self.push(*k, None);
                self.everything(v, Some(*k));
            }
        }
    }

    fn content(&mut self, node: &Node) {
        match node {
            Node::String(s) => self.push(*s, None),
            Node::Array(blocks) => self.blocks(blocks),
            Node::Object(_) => self.block(node, 0),
            other => self.everything(other, None),
        }
    }

    /// Blocks of one content array; consecutive text blocks form a run.
    fn blocks(&mut self, blocks: &[Node]) {
        let mut run = 0;
        for b in blocks {
            let is_text = matches!(b.str_member(self.raw, "type").as_deref(), Some(b"text"));
            if is_text {
                if run == 0 {
                    self.runs += 1;
                    run = self.runs;
                }
                self.block(b, run);
            } else {
                run = 0;
                self.block(b, 0);
            }
        }
    }

    fn block(&mut self, block: &Node, run: u32) {
        let raw = self.raw;
        let Node::Object(ms) = block else {
            return self.everything(block, None);
        };
        let kind = block.str_member(raw, "type");
        if matches!(kind.as_deref(), Some(b"thinking" | b"redacted_thinking")) {
            return;
        }
        for (k, v) in ms {
            if ["type", "id", "tool_use_id", "signature", "cache_control"]
                .iter()
                .any(|n| k.raw_eq(raw, n))
            {
                continue;
            }
            if k.raw_eq(raw, "text") && run != 0 {
                if let Node::String(s) = v {
                    self.push_in(*s, None, run);
                    continue;
                }
            }
            if k.raw_eq(raw, "source") {
                self.source(v);
            } else if k.raw_eq(raw, "content") {
                self.content(v);
            } else {
                self.push(*k, None);
                self.everything(v, Some(*k));
            }
        }
    }

    /// Document and image sources: base64 data and file ids stay, URLs and texts are read.
    fn source(&mut self, node: &Node) {
        let raw = self.raw;
        let Node::Object(ms) = node else {
            return self.everything(node, None);
        };
        let kind = node.str_member(raw, "type");
        let base64 = matches!(kind.as_deref(), Some(b"base64"));
        for (k, v) in ms {
            if k.raw_eq(raw, "type")
                || k.raw_eq(raw, "file_id")
                || (base64 && k.raw_eq(raw, "data"))
            {
                continue;
            }
            if k.raw_eq(raw, "content") {
                self.content(v);
            } else {
                self.push(*k, None);
                self.everything(v, Some(*k));
            }
        }
    }

    /// Tool inputs, schemas and every field not listed above: keys and values alike.
    fn everything(&mut self, node: &Node, key: Option<Str>) {
        match node {
            Node::Object(ms) => {
                for (k, v) in ms {
                    self.push(*k, None);
                    self.everything(v, Some(*k));
                }
            }
            Node::Array(items) => items.iter().for_each(|v| self.everything(v, key)),
            Node::String(s) => self.push(*s, key),
            Node::Bool(_) | Node::Other => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn scanned(body: &str) -> Vec<String> {
        let raw = body.as_bytes();
        let root = json::parse(raw).unwrap();
        request_targets(raw, &root)
            .into_iter()
            .filter(|t| !t.attribution)
            .map(|t| json::decode_bytes(raw, t.s).text.into_owned())
            .collect()
    }

    #[test]
    fn escaped_keys_and_type_tags_are_read_decoded() {
        let body =
            r#"{"mes\u0073ages":[{"role":"user","content":[{"type":"t\u0065xt","text":"i-1"}]}]}"#;
        assert_eq!(scanned(body), ["i-1"]);
    }

    #[test]
    fn every_copy_of_a_duplicate_key_is_read() {
        let body = r#"{"messages":[{"role":"user","content":[{"type":"text","text":"i-1","text":"i-2"}],"content":"i-3"}]}"#;
        assert_eq!(scanned(body), ["i-1", "i-2", "i-3"]);
        let both = r#"{"messages":[{"role":"user","content":"i-1"}],"messages":[{"role":"user","content":"i-2"}]}"#;
        assert_eq!(scanned(both), ["i-1", "i-2"]);
    }

    #[test]
    fn default_deny_reads_tools_schemas_and_unknown_fields() {
        let body = r#"{"model":"arn-model","tools":[{"name":"t-1","description":"d","input_schema":{"type":"object","properties":{"p-1":{"enum":["e-1"],"default":"x-1"}}}}],"metadata":{"user_id":"u-1"},"stop_sequences":["s-1"],"brand_new":{"k":"v-1"}}"#;
        let got = scanned(body);
        for want in ["t-1", "p-1", "e-1", "x-1", "u-1", "s-1", "v-1", "brand_new"] {
            assert!(got.iter().any(|g| g == want), "{want} in {got:?}");
        }
        assert!(!got.iter().any(|g| g == "arn-model"));
    }

    #[test]
    fn the_allowlist_stays() {
        let body = r#"{"system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.332.a1b; cc_entrypoint=cli;"},{"type":"text","text":"sys","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"assistant","content":[{"type":"thinking","thinking":"th","signature":"sg"},{"type":"redacted_thinking","data":"rd"},{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"c"}},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}},{"type":"document","source":{"type":"url","url":"https://b.s3.amazonaws.com/x?X-Amz-Credential=AKIA"}}]}]}"#;
        let got = scanned(body);
        for gone in ["th", "sg", "rd", "toolu_1", "AAAA", "ephemeral"] {
            assert!(!got.iter().any(|g| g == gone), "{gone} in {got:?}");
        }
        assert!(!got.iter().any(|g| g.starts_with("x-anthropic")));
        for want in [
            "sys",
            "Bash",
            "c",
            "https://b.s3.amazonaws.com/x?X-Amz-Credential=AKIA",
        ] {
            assert!(got.iter().any(|g| g == want), "{want} in {got:?}");
        }
    }

    #[test]
    fn attribution_means_exactly_that_format() {
        assert!(is_attribution(
            b"x-anthropic-billing-header: cc_version=2.1.332.a1b; cc_entrypoint=cli;"
        ));
        assert!(is_attribution(
            b"x-anthropic-billing-header: cc_version=2.1.332;"
        ));
        for bad in [
            "x-anthropic-billing-header: cc_version=2.1; account 123456789012",
            "x-anthropic-billing-header: cc_version=2.1;\nnow the real prompt with AKIA",
            "x-anthropic-billing-header: note=i-0123456789abcdef0 here;",
            "x-anthropic-billing-header:",
        ] {
            assert!(!is_attribution(bad.as_bytes()), "{bad}");
        }
    }
}
