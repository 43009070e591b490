//! What the scanner reads: a string normalised the way a person reading it would.
//!
//! Users paste values that no regex over the raw bytes would find: an ID with a zero-width
//! space or a soft hyphen inside, full-width digits from a Japanese IME, an ARN percent-encoded
//! in a console URL, a JSON document escaped inside a string (`\/`, `\u002B`, `\"`), a session
//! token wrapped over several lines. The view undoes all of that for detection only, and maps
//! every byte back, so the span that gets masked is the value *as written* (which is also what
//! unmasking restores: the round trip stays exact).

use std::borrow::Cow;

use memchr::memchr3_iter;

/// A normalised string and, when it differs from the input, where each byte came from.
pub(crate) struct View<'a> {
    /// The text patterns are matched against.
    pub text: Cow<'a, str>,
    /// Per view byte: the input range it was read from. `None` when the view is the input.
    map: Option<(Vec<u32>, Vec<u32>)>,
}

/// A line at least this long that ends in a base64 run of at least `WRAP_MIN_RUN`, followed by a
/// line of nothing but base64, is one value wrapped by a terminal (80 columns), `base64` (76),
/// PEM (64) or `xxd -p` (60). Shorter lines are separate values (a key ID above its secret).
const WRAP_MIN_LINE: usize = 60;
const WRAP_MIN_RUN: usize = 20;

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// A character that is invisible (zero-width, soft hyphen, BOM): dropped from the view.
fn invisible_len(s: &[u8], i: usize) -> usize {
    match s[i..] {
        [0xE2, 0x80, 0x8B..=0x8D, ..]
        | [0xE2, 0x81, 0xA0, ..]
        | [0xEF, 0xBB, 0xBF, ..]
        | [0xE1, 0xA0, 0x8E, ..] => 3,
        [0xC2, 0xAD, ..] => 2,
        _ => 0,
    }
}

/// A space that is not ASCII but reads as one (no-break U+00A0, figure U+2007, thin U+2009,
/// narrow no-break U+202F: web pages and word processors group digits with them): its length.
fn space_len(s: &[u8], i: usize) -> usize {
    match s[i..] {
        [0xC2, 0xA0, ..] => 2,
        [0xE2, 0x80, 0x87 | 0x89 | 0xAF, ..] => 3,
        _ => 0,
    }
}

/// A full-width ASCII form (U+FF01..U+FF5E) or the ideographic space: its ASCII byte.
fn fullwidth(s: &[u8], i: usize) -> Option<u8> {
    match s[i..] {
        [0xEF, 0xBC, b @ 0x81..=0xBF, ..] => Some(b - 0x80 + 0x20),
        [0xEF, 0xBD, b @ 0x80..=0x9E, ..] => Some(b - 0x80 + 0x60),
        [0xE3, 0x80, 0x80, ..] => Some(b' '),
        _ => None,
    }
}

/// `\"`, `\\`, `\/`, `\n`, `\t`, `\r` or `\uXXXX` written out inside a string (JSON inside
/// JSON): the decoded character and how many input bytes it takes.
fn text_escape(s: &[u8], i: usize) -> Option<(char, usize)> {
    match s.get(i + 1)? {
        b'"' => Some(('"', 2)),
        b'\\' => Some(('\\', 2)),
        b'/' => Some(('/', 2)),
        b'n' => Some(('\n', 2)),
        b't' => Some(('\t', 2)),
        b'r' => Some(('\r', 2)),
        b'u' => {
            let h = s.get(i + 2..i + 6)?;
            let mut v = 0u32;
            for &b in h {
                v = v * 16 + u32::from(hex_val(b)?);
            }
            char::from_u32(v).map(|c| (c, 6))
        }
        _ => None,
    }
}

/// `%XX` for a printable ASCII byte.
fn percent(s: &[u8], i: usize) -> Option<u8> {
    let high = hex_val(*s.get(i + 1)?)?;
    let low = hex_val(*s.get(i + 2)?)?;
    let byte = high * 16 + low;
    (0x20..0x7f).contains(&byte).then_some(byte)
}

/// The byte of a doubly encoded `%25XX` at `i`, when `XX` is a printable one.
fn double_percent(s: &[u8], i: usize) -> Option<u8> {
    let high = hex_val(*s.get(i + 3)?)?;
    let low = hex_val(*s.get(i + 4)?)?;
    let byte = high * 16 + low;
    (0x20..0x7f).contains(&byte).then_some(byte)
}

/// Which line breaks inside base64 a view joins.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wraps {
    /// Only where the line is as long as a wrapping tool makes it.
    Wide,
    /// Also between two lines of nothing but base64, however short: a value split by hand
    /// ("split so Slack doesn't unfurl it"). Read as a second view only: the same shape is a
    /// key ID above its secret.
    Lines,
}

/// If a line break at `i` (`\n`, or `\r\n` starting at `i`) continues a wrapped base64
/// value, the number of bytes to skip: the break and the next line's indentation.
fn wrap_len(s: &[u8], i: usize, wraps: Wraps) -> Option<usize> {
    let run = s[..i].iter().rev().take_while(|&&b| is_b64(b)).count();
    let line_start = memchr::memrchr(b'\n', &s[..i]).map_or(0, |p| p + 1);
    let line = i - line_start;
    let whole_line = s[line_start..i - run]
        .iter()
        .all(|&b| b == b' ' || b == b'\t');
    let wide = run >= WRAP_MIN_RUN && line >= WRAP_MIN_LINE;
    // By hand: a line of nothing but base64, or a value right after its name (`key = …`,
    // `"SecretAccessKey": "…`) whose rest follows on the next line.
    let named = s[line_start..i - run]
        .trim_ascii_end()
        .last()
        .is_some_and(|b| matches!(b, b'=' | b':' | b'"' | b'\''));
    let by_hand = wraps == Wraps::Lines && run >= 8 && (whole_line || named);
    if !wide && !by_hand {
        return None;
    }
    let brk = match s[i] {
        b'\n' => 1,
        b'\r' if s.get(i + 1) == Some(&b'\n') => 2,
        _ => return None,
    };
    let indent = s[i + brk..]
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let line_start = i + brk + indent;
    let line_end = s[line_start..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(s.len(), |p| line_start + p);
    let line = &s[line_start..line_end];
    let body = line.iter().take_while(|&&b| is_b64(b) || b == b'=').count();
    let rest = &line[body..];
    let closing = rest
        .iter()
        .all(|&b| matches!(b, b'"' | b'\'' | b'`' | b',' | b';' | b')' | b' ' | b'\t'));
    (body >= 4 && closing).then_some(brk + indent)
}

/// True when [`View::build`] would change `s`. Cheap: looks only where a change can start.
pub(crate) fn needs_view(s: &[u8]) -> bool {
    for i in memchr3_iter(b'%', b'\\', b'\n', s) {
        let hit = match s[i] {
            b'%' => percent(s, i).is_some(),
            b'\\' => text_escape(s, i).is_some(),
            _ => {
                wrap_len(s, i, Wraps::Wide).is_some()
                    || (i > 0 && s[i - 1] == b'\r' && wrap_len(s, i - 1, Wraps::Wide).is_some())
            }
        };
        if hit {
            return true;
        }
    }
    for i in memchr3_iter(0xC2, 0xE1, 0xE2, s).chain(memchr::memchr2_iter(0xE3, 0xEF, s)) {
        if invisible_len(s, i) > 0 || space_len(s, i) > 0 || fullwidth(s, i).is_some() {
            return true;
        }
    }
    false
}

impl<'a> View<'a> {
    /// The view of `s`: borrowed as is unless something needs undoing.
    pub(crate) fn build(input: &'a str) -> View<'a> {
        if !needs_view(input.as_bytes()) {
            return View {
                text: Cow::Borrowed(input),
                map: None,
            };
        }
        Self::build_with(input, Wraps::Wide)
    }

    /// A second view that also joins base64 lines split by hand, when there are any.
    pub(crate) fn joined(input: &'a str) -> Option<View<'a>> {
        let b = input.as_bytes();
        let any = memchr::memchr_iter(b'\n', b).any(|i| {
            let at = if i > 0 && b[i - 1] == b'\r' { i - 1 } else { i };
            wrap_len(b, at, Wraps::Lines).is_some() && wrap_len(b, at, Wraps::Wide).is_none()
        });
        any.then(|| Self::build_with(input, Wraps::Lines))
    }

    fn build_with(input: &'a str, wraps: Wraps) -> View<'a> {
        let b = input.as_bytes();
        let mut out: Vec<u8> = Vec::with_capacity(b.len());
        let (mut starts, mut ends) = (Vec::with_capacity(b.len()), Vec::with_capacity(b.len()));
        let mut push = |out: &mut Vec<u8>, bytes: &[u8], from: usize, to: usize| {
            for &x in bytes {
                out.push(x);
                starts.push(from as u32);
                ends.push(to as u32);
            }
        };
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c == b'\\' {
                if let Some((ch, used)) = text_escape(b, i) {
                    let mut tmp = [0u8; 4];
                    push(&mut out, ch.encode_utf8(&mut tmp).as_bytes(), i, i + used);
                    i += used;
                    continue;
                }
            } else if c == b'%' {
                if let Some(x) = percent(b, i) {
                    // `%25XX` is `%XX` encoded once more (a console URL inside a query string).
                    let twice = (x == b'%').then(|| double_percent(b, i)).flatten();
                    if let Some(y) = twice {
                        push(&mut out, &[y], i, i + 5);
                        i += 5;
                        continue;
                    }
                    push(&mut out, &[x], i, i + 3);
                    i += 3;
                    continue;
                }
            } else if c == b'\n' || c == b'\r' {
                if let Some(skip) = wrap_len(b, i, wraps) {
                    i += skip;
                    continue;
                }
            } else if c >= 0xC2 {
                let n = invisible_len(b, i);
                if n > 0 {
                    i += n;
                    continue;
                }
                let n = space_len(b, i);
                if n > 0 {
                    push(&mut out, b" ", i, i + n);
                    i += n;
                    continue;
                }
                if let Some(x) = fullwidth(b, i) {
                    push(&mut out, &[x], i, i + 3);
                    i += 3;
                    continue;
                }
            }
            push(&mut out, &[c], i, i + 1);
            i += 1;
        }
        // Every replacement is ASCII or a whole char, and every skip a whole char or ASCII:
        // the view is valid UTF-8.
        let text = String::from_utf8(out).expect("the view is built from whole characters");
        View {
            text: Cow::Owned(text),
            map: Some((starts, ends)),
        }
    }

    /// True when the view differs from its input.
    #[cfg(test)]
    pub(crate) fn is_normalised(&self) -> bool {
        self.map.is_some()
    }

    /// The view bytes `[start, end)` read from input bytes `a..b`: the inverse of [`View::span`].
    pub(crate) fn locate(&self, a: usize, b: usize) -> (usize, usize) {
        match &self.map {
            None => (a, b),
            Some((starts, ends)) => (
                starts.partition_point(|&s| (s as usize) < a),
                ends.partition_point(|&e| (e as usize) <= b),
            ),
        }
    }

    /// The input range `[start, end)` that view bytes `a..b` (non-empty) were read from.
    pub(crate) fn span(&self, a: usize, b: usize) -> (usize, usize) {
        match &self.map {
            None => (a, b),
            Some((starts, ends)) => (starts[a] as usize, ends[b - 1] as usize),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(s: &str) -> (String, Vec<(usize, usize)>) {
        let v = View::build(s);
        let spans = (0..v.text.len()).map(|i| v.span(i, i + 1)).collect();
        (v.text.into_owned(), spans)
    }

    #[test]
    fn identity_when_nothing_to_undo() {
        for s in [
            "plain i-0123abcd",
            "한국어 계정 123456789012",
            "a%zz b\\q",
            "short\nlines",
        ] {
            let v = View::build(s);
            assert!(!v.is_normalised(), "{s:?}");
            assert_eq!(v.text, s);
        }
    }

    #[test]
    fn undoes_what_people_paste() {
        let rows: &[(&str, &str)] = &[
            ("i-0123\u{200b}abcd", "i-0123abcd"),
            ("i-01\u{ad}23abcd", "i-0123abcd"),
            ("\u{feff}AKIA", "AKIA"),
            ("アカウント１２３４５６７８９０１２", "アカウント123456789012"),
            ("ＡＫＩＡ\u{3000}x", "AKIA x"),
            ("arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fx", "arn:aws:iam::123456789012:role/x"),
            ("arn%253Aaws%253Aiam%253A%253A123456789012%253Arole%252Fx", "arn:aws:iam::123456789012:role/x"),
            ("100%25 done", "100% done"),
            ("account 5209\u{a0}5280\u{202f}1946", "account 5209 5280 1946"),
            (r#"{\"k\": \"a\/b\u002Bc\"}"#, r#"{"k": "a/b+c"}"#),
            ("token = IQoJb3JpZ2luX2VjEJr0123456789abcdefghijklmnopqrstuvwxyz012345\n    ABCDEFGHIJ+/abcdef==\n", "token = IQoJb3JpZ2luX2VjEJr0123456789abcdefghijklmnopqrstuvwxyz012345ABCDEFGHIJ+/abcdef==\n"),
            ("k: abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\nZZZZ\",", "k: abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyzZZZZ\","),
        ];
        for (input, want) in rows {
            let v = View::build(input);
            assert_eq!(v.text, *want, "{input:?}");
        }
    }

    #[test]
    fn wraps_only_join_base64_lines() {
        for s in [
            "aws_secret_access_key = abcdefghijklmnopqrstuvwxyz0123456789ABCD\nregion = us-east-1",
            "short\nABCDEFGH",
            "abcdefghijklmnopqrstuvwxyz\n",
            "abcdefghijklmnopqrstuvwxyz\nnext line of prose",
            "AKIA2MWUFXBV54BYVSEH\nPtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA/\nIQoJb3JpZ2luX2VjEJr0123456789",
        ] {
            assert_eq!(View::build(s).text, s, "{s:?}");
        }
    }

    #[test]
    fn a_second_view_joins_lines_split_by_hand() {
        let s = "key:\nAKIA2MWUFXBV54BYVSEH\nsecret:\nQh+I3ImQLxfciUzS5e8C\neZHQpS7XBBeStzUfffpn\n";
        assert_eq!(
            View::build(s).text,
            s,
            "the first view keeps short lines apart"
        );
        let joined = View::joined(s).unwrap();
        assert!(joined
            .text
            .contains("Qh+I3ImQLxfciUzS5e8CeZHQpS7XBBeStzUfffpn"));
        let at = joined.text.find("Qh+").unwrap();
        let (a, b) = joined.span(at, at + 40);
        assert_eq!(&s[a..b], "Qh+I3ImQLxfciUzS5e8C\neZHQpS7XBBeStzUfffpn");
        let first = View::build(s);
        assert_eq!(first.locate(a, b), (a, b));
        assert!(View::joined("plain\ntext\n").is_none());
    }

    #[test]
    fn spans_map_back_to_what_was_written() {
        let s = "x i-01\u{200b}23abcd y";
        let v = View::build(s);
        let at = v.text.find("i-").unwrap();
        let (a, b) = v.span(at, at + "i-0123abcd".len());
        assert_eq!(&s[a..b], "i-01\u{200b}23abcd");
        let (text, spans) = round("%41b");
        assert_eq!(text, "Ab");
        assert_eq!(spans, vec![(0, 3), (3, 4)]);
    }
}
