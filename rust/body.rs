//! Which strings of an Anthropic Messages body reach the model, and so get masked or restored.
//!
//! Request side: system text, message text, `tool_result` content, `tool_use` inputs (keys and
//! values), document text, tool descriptions. Left alone: `thinking`, `redacted_thinking`,
//! signatures, base64 and URL sources, ids, `cache_control`, `model`, every other top-level
//! field, and the first system block when it is Claude Code's attribution line.

use crate::json::{Node, Str};

/// A string to scan, with the object key it is the value of (context for validators).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target {
    pub s: Str,
    pub key: Option<Str>,
}

const ATTRIBUTION: &[u8] = b"x-anthropic-billing-header";

/// Keys whose values are never prompt text, in blocks of unknown types.
const NOT_TEXT: &[&str] = &[
    "type",
    "id",
    "tool_use_id",
    "signature",
    "media_type",
    "name",
    "role",
    "cache_control",
    "source",
    "url",
];

pub(crate) fn request_targets(raw: &[u8], root: &Node) -> Vec<Target> {
    let mut w = Walk {
        raw,
        out: Vec::new(),
    };
    let Node::Object(members) = root else {
        return w.out;
    };
    for (key, value) in members {
        if key.raw_eq(raw, "system") {
            w.system(value);
        } else if key.raw_eq(raw, "messages") {
            for message in array(value) {
                if let Some(content) = message.get(raw, "content") {
                    w.content(content);
                }
            }
        } else if key.raw_eq(raw, "tools") {
            for tool in array(value) {
                w.member_string(tool, "description");
                if let Some(schema) = tool.get(raw, "input_schema") {
                    w.schema(schema);
                }
            }
        }
    }
    w.out
}

pub(crate) fn response_targets(raw: &[u8], root: &Node) -> Vec<Target> {
    let mut w = Walk {
        raw,
        out: Vec::new(),
    };
    if let Some(content) = root.get(raw, "content") {
        for block in array(content) {
            match block.str_member(raw, "type").as_deref() {
                Some(b"text") => w.member_string(block, "text"),
                Some(b"tool_use" | b"server_tool_use" | b"mcp_tool_use") => {
                    if let Some(input) = block.get(raw, "input") {
                        w.everything(input, None);
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

struct Walk<'a> {
    raw: &'a [u8],
    out: Vec<Target>,
}

impl Walk<'_> {
    fn push(&mut self, s: Str, key: Option<Str>) {
        if s.end > s.start {
            self.out.push(Target { s, key });
        }
    }

    fn member_string(&mut self, node: &Node, key: &str) {
        if let Node::Object(members) = node {
            for (k, v) in members {
                if let (true, Node::String(s)) = (k.raw_eq(self.raw, key), v) {
                    self.push(*s, None);
                }
            }
        }
    }

    fn system(&mut self, node: &Node) {
        match node {
            Node::String(s) => self.push(*s, None),
            Node::Array(blocks) => {
                for (i, block) in blocks.iter().enumerate() {
                    let attribution = i == 0
                        && matches!(block.get(self.raw, "text"), Some(Node::String(s)) if self.raw[s.start..s.end].starts_with(ATTRIBUTION));
                    if !attribution {
                        self.block(block);
                    }
                }
            }
            _ => {}
        }
    }

    fn content(&mut self, node: &Node) {
        match node {
            Node::String(s) => self.push(*s, None),
            Node::Array(blocks) => blocks.iter().for_each(|b| self.block(b)),
            _ => {}
        }
    }

    fn block(&mut self, block: &Node) {
        let raw = self.raw;
        match block.str_member(raw, "type").as_deref() {
            Some(b"thinking" | b"redacted_thinking" | b"image") => {}
            Some(b"text") => {
                self.member_string(block, "text");
                if let Some(citations) = block.get(raw, "citations") {
                    for c in array(citations) {
                        self.member_string(c, "cited_text");
                    }
                }
            }
            Some(b"tool_use" | b"server_tool_use" | b"mcp_tool_use") => {
                if let Some(input) = block.get(raw, "input") {
                    self.everything(input, None);
                }
            }
            Some(b"document") => {
                self.member_string(block, "title");
                self.member_string(block, "context");
                if let Some(source) = block.get(raw, "source") {
                    match source.str_member(raw, "type").as_deref() {
                        Some(b"text") => self.member_string(source, "data"),
                        Some(b"content") => {
                            if let Some(c) = source.get(raw, "content") {
                                self.content(c);
                            }
                        }
                        _ => {}
                    }
                }
            }
            // tool_result, mcp_tool_result, web_search_tool_result, search_result and blocks
            // not invented yet: every string except those that are never prompt text.
            _ => self.generic(block),
        }
    }

    fn generic(&mut self, node: &Node) {
        match node {
            Node::Object(members) => {
                for (k, v) in members {
                    if NOT_TEXT.iter().any(|n| k.raw_eq(self.raw, n)) {
                        continue;
                    }
                    match v {
                        Node::String(s) => self.push(*s, Some(*k)),
                        Node::Array(items) if k.raw_eq(self.raw, "content") => {
                            for b in items {
                                self.block(b);
                            }
                        }
                        other => self.generic(other),
                    }
                }
            }
            Node::Array(items) => items.iter().for_each(|b| self.block(b)),
            Node::String(s) => self.push(*s, None),
            Node::Bool(_) | Node::Other => {}
        }
    }

    /// Tool inputs: the model sees keys and values alike.
    fn everything(&mut self, node: &Node, key: Option<Str>) {
        match node {
            Node::Object(members) => {
                for (k, v) in members {
                    self.push(*k, None);
                    self.everything(v, Some(*k));
                }
            }
            Node::Array(items) => items.iter().for_each(|v| self.everything(v, key)),
            Node::String(s) => self.push(*s, key),
            Node::Bool(_) | Node::Other => {}
        }
    }

    /// JSON schemas: only descriptions are prose; names, enums and patterns are structure.
    fn schema(&mut self, node: &Node) {
        match node {
            Node::Object(members) => {
                for (k, v) in members {
                    match v {
                        Node::String(s) if k.raw_eq(self.raw, "description") => self.push(*s, None),
                        other => self.schema(other),
                    }
                }
            }
            Node::Array(items) => items.iter().for_each(|v| self.schema(v)),
            _ => {}
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
            .map(|t| json::decode(raw, t.s).text.into_owned())
            .collect()
    }

    #[test]
    fn escaped_keys_and_type_tags_are_read_decoded() {
        let body =
            r#"{"mes\u0073ages":[{"role":"user","content":[{"type":"t\u0065xt","text":"i-1"}]}]}"#;
        assert_eq!(scanned(body), ["i-1"]);
    }

    #[test]
    fn with_duplicate_keys_the_last_one_counts() {
        let body = r#"{"messages":[{"role":"user","content":[{"type":"thinking","type":"text","thinking":"a","text":"i-1"}]}]}"#;
        assert_eq!(scanned(body), ["i-1"]);
        let both = r#"{"messages":[{"role":"user","content":"i-1"}],"messages":[{"role":"user","content":"i-2"}]}"#;
        assert_eq!(
            scanned(both),
            ["i-1", "i-2"],
            "every copy of a top-level field is masked"
        );
    }
}
