//! A small JSON reader that keeps byte positions, so bodies can be rewritten in place.
//!
//! `serde_json` and friends give values, not where they were. Masking must leave every byte
//! outside the rewritten identifiers as it was (signatures and prompt caching depend on it),
//! so we parse into a tree of spans and splice only the identifiers.

use std::borrow::Cow;

use crate::error::{Error, Result};

/// Deep enough for any real request; shallow enough to never exhaust a thread's stack.
pub(crate) const MAX_DEPTH: usize = 128;

/// A string token: `start..end` is the raw content between the quotes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Str {
    pub start: usize,
    pub end: usize,
    pub escaped: bool,
}

#[derive(Debug)]
pub(crate) enum Node {
    Object(Vec<(Str, Node)>),
    Array(Vec<Node>),
    String(Str),
    Bool(bool),
    Other,
}

impl Node {
    /// A member's value. With duplicate keys the last one counts, as in the provider's parser
    /// (and Python's): masking must look at the value the model will be given.
    pub(crate) fn get<'a>(&'a self, raw: &[u8], key: &str) -> Option<&'a Node> {
        match self {
            Node::Object(members) => members
                .iter()
                .rev()
                .find(|(k, _)| k.raw_eq(raw, key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value of a string member, decoded (a type tag may be written with escapes).
    pub(crate) fn str_member<'a>(&self, raw: &'a [u8], key: &str) -> Option<Cow<'a, [u8]>> {
        match self.get(raw, key)? {
            Node::String(s) if !s.escaped => Some(Cow::Borrowed(&raw[s.start..s.end])),
            Node::String(s) => Some(Cow::Owned(
                decode_bytes(raw, *s).text.into_owned().into_bytes(),
            )),
            _ => None,
        }
    }
}

impl Str {
    /// True when the string is `key`, escapes decoded (`"mes\u0073ages"` is `messages`).
    pub(crate) fn raw_eq(&self, raw: &[u8], key: &str) -> bool {
        if self.escaped {
            decode_bytes(raw, *self).text == key
        } else {
            &raw[self.start..self.end] == key.as_bytes()
        }
    }
}

/// A decoded string and, when it had escapes, the raw offset of every decoded byte.
pub(crate) struct Decoded<'a> {
    pub text: std::borrow::Cow<'a, str>,
    raw_start: usize,
    /// `raw_of[i]`: raw offset where decoded byte `i` comes from; one extra entry for the end.
    raw_of: Option<Vec<u32>>,
}

impl<'a> Decoded<'a> {
    /// A text that is not inside JSON: offsets are its own.
    pub(crate) fn plain(text: &'a str) -> Decoded<'a> {
        Decoded {
            text: Cow::Borrowed(text),
            raw_start: 0,
            raw_of: None,
        }
    }

    pub(crate) fn raw_offset(&self, decoded: usize) -> usize {
        match &self.raw_of {
            None => self.raw_start + decoded,
            Some(map) => map[decoded] as usize,
        }
    }
}

/// Decodes string `s` of a document [`parse_text`] returned: the text is UTF-8 already, and
/// a string's bounds and escapes are ASCII, so every piece is sliced, never checked again.
pub(crate) fn decode(raw: &str, s: Str) -> Decoded<'_> {
    decode_content(&raw[s.start..s.end], s)
}

/// [`decode`] for a caller that holds the document as bytes: checks this string only.
pub(crate) fn decode_bytes(raw: &[u8], s: Str) -> Decoded<'_> {
    let content = std::str::from_utf8(&raw[s.start..s.end]).expect("checked UTF-8");
    decode_content(content, s)
}

fn decode_content(text_of: &str, s: Str) -> Decoded<'_> {
    if !s.escaped {
        return Decoded {
            text: text_of.into(),
            raw_start: s.start,
            raw_of: None,
        };
    }
    let content = text_of.as_bytes();
    let mut text = String::with_capacity(content.len());
    let mut map: Vec<u32> = Vec::with_capacity(content.len() + 1);
    let mut i = 0;
    while i < content.len() {
        let at = (s.start + i) as u32;
        if content[i] != b'\\' {
            let run = memchr::memchr(b'\\', &content[i..]).unwrap_or(content.len() - i);
            text.push_str(&text_of[i..i + run]);
            map.extend((0..run as u32).map(|k| at + k));
            i += run;
            continue;
        }
        let (c, used) = match content[i + 1] {
            b'n' => ('\n', 2),
            b't' => ('\t', 2),
            b'r' => ('\r', 2),
            b'b' => ('\u{8}', 2),
            b'f' => ('\u{c}', 2),
            b'u' => {
                let hi = hex4(&content[i + 2..i + 6]);
                let lo = (content.get(i + 6..i + 8) == Some(b"\\u"))
                    .then(|| hex4(&content[i + 8..i + 12]));
                match (hi, lo) {
                    (0xD800..=0xDBFF, Some(lo @ 0xDC00..=0xDFFF)) => {
                        let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        (char::from_u32(c).unwrap_or('\u{fffd}'), 12)
                    }
                    // A lone surrogate (JavaScript strings may hold one): scan it as U+FFFD.
                    _ => (char::from_u32(hi).unwrap_or('\u{fffd}'), 6),
                }
            }
            other => (other as char, 2),
        };
        text.push(c);
        map.extend(std::iter::repeat_n(at, c.len_utf8()));
        i += used;
    }
    map.push(s.end as u32);
    Decoded {
        text: text.into(),
        raw_start: s.start,
        raw_of: Some(map),
    }
}

fn hex4(b: &[u8]) -> u32 {
    b.iter().fold(0, |acc, &c| {
        acc * 16 + (c as char).to_digit(16).unwrap_or(0)
    })
}

/// Parses a whole JSON document.
#[cfg(test)]
pub(crate) fn parse(raw: &[u8]) -> Result<Node> {
    parse_text(raw).map(|(_, node)| node)
}

/// Parses a whole JSON document, and gives it back as the text it was checked to be.
pub(crate) fn parse_text(raw: &[u8]) -> Result<(&str, Node)> {
    if raw.len() > u32::MAX as usize {
        return Err(Error::body("body is over 4 GiB"));
    }
    let Ok(text) = std::str::from_utf8(raw) else {
        return Err(Error::body("body is not valid UTF-8"));
    };
    let mut p = Parser { raw, pos: 0 };
    p.ws();
    let node = p.value(0)?;
    p.ws();
    if p.pos != raw.len() {
        return Err(p.err("trailing data after the JSON value"));
    }
    Ok((text, node))
}

struct Parser<'a> {
    raw: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> Error {
        Error::body(format!("invalid JSON at byte {}: {what}", self.pos))
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.raw.get(self.pos) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, b: u8, what: &str) -> Result<()> {
        if self.raw.get(self.pos) == Some(&b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(what))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node> {
        if depth > MAX_DEPTH {
            return Err(self.err(&format!("nested deeper than {MAX_DEPTH} levels")));
        }
        match self.raw.get(self.pos) {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => Ok(Node::String(self.string()?)),
            Some(b't') => self.literal(b"true").map(|_| Node::Bool(true)),
            Some(b'f') => self.literal(b"false").map(|_| Node::Bool(false)),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("expected a value")),
            None => Err(self.err("unexpected end of input")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Node> {
        self.pos += 1;
        let mut members = Vec::new();
        self.ws();
        if self.raw.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Node::Object(members));
        }
        loop {
            self.ws();
            if self.raw.get(self.pos) != Some(&b'"') {
                return Err(self.err("expected a string key"));
            }
            let key = self.string()?;
            self.ws();
            self.expect(b':', "expected ':'")?;
            self.ws();
            let value = self.value(depth + 1)?;
            members.push((key, value));
            self.ws();
            match self.raw.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Node::Object(members));
                }
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Node> {
        self.pos += 1;
        let mut items = Vec::new();
        self.ws();
        if self.raw.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Node::Array(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth + 1)?);
            self.ws();
            match self.raw.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Node::Array(items));
                }
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn string(&mut self) -> Result<Str> {
        self.pos += 1;
        let start = self.pos;
        let mut escaped = false;
        loop {
            let Some(off) = memchr::memchr2(b'"', b'\\', &self.raw[self.pos..]) else {
                return Err(self.err("unterminated string"));
            };
            let off = self.pos + off;
            // Without an early exit the check compiles to SIMD; the rare error case looks again.
            let run = &self.raw[self.pos..off];
            if run.iter().fold(0u8, |bad, &b| bad | u8::from(b < 0x20)) != 0 {
                self.pos += run.iter().position(|&b| b < 0x20).expect("found above");
                return Err(self.err("control character in string"));
            }
            self.pos = off;
            if self.raw[off] == b'"' {
                self.pos += 1;
                return Ok(Str {
                    start,
                    end: off,
                    escaped,
                });
            }
            escaped = true;
            match self.raw.get(off + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.pos += 2,
                Some(b'u')
                    if self
                        .raw
                        .get(off + 2..off + 6)
                        .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
                {
                    self.pos += 6;
                }
                _ => return Err(self.err("invalid escape")),
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<Node> {
        if self.raw[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(Node::Other)
        } else {
            Err(self.err("invalid literal"))
        }
    }

    fn number(&mut self) -> Result<Node> {
        let start = self.pos;
        if self.raw.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.raw.get(p.pos).is_some_and(u8::is_ascii_digit) {
                p.pos += 1;
            }
            p.pos - s
        };
        let int = digits(self);
        if int == 0 || (int > 1 && self.raw[self.pos - int] == b'0') {
            self.pos = start;
            return Err(self.err("invalid number"));
        }
        if self.raw.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return Err(self.err("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.raw.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.raw.get(self.pos) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.err("invalid number"));
            }
        }
        Ok(Node::Other)
    }
}

/// Position of the next `a` or `b` at or after `from`. The scan is the hot loop of parsing.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert!(parse(br#"{"a":[1,-2.5e3,true,null,"x\"y"],"b":{}}"#).is_ok());
        for (bad, want) in [
            (&b"[1"[..], "expected ',' or ']'"),
            (b"[", "unexpected end"),
            (b"{\"a\" 1}", "expected ':'"),
            (b"[1,]", "expected a value"),
            (b"\"a\\x\"", "invalid escape"),
            (b"\"a\nb\"", "control character"),
            (b"01", "invalid number"),
            (b"{} x", "trailing"),
            (b"\xff", "not valid UTF-8"),
        ] {
            let got = parse(bad).unwrap_err().to_string();
            assert!(got.contains(want), "{bad:?}: {got}");
        }
        let deep = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
        assert!(parse(deep.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("nested deeper"));
    }

    #[test]
    fn decodes_with_offsets() {
        let raw = br#""a\u0041KIA\ud83d\ude00\n\/z""#;
        let Node::String(s) = parse(raw).unwrap() else {
            panic!()
        };
        let d = decode_bytes(raw, s);
        assert_eq!(d.text, "aAKIA\u{1f600}\n/z");
        assert_eq!(d.raw_offset(1), 2, "A comes from the \\u0041 escape");
        assert_eq!(d.raw_offset(2), 8);
        assert_eq!(d.raw_offset(d.text.len()), raw.len() - 1);
    }
}
