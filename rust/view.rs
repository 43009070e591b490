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
    /// Where the view's bytes were read from, piece by piece. `None` when the view is the input.
    map: Option<Vec<Piece>>,
}

/// A run of view bytes from `view` on, read from the input at `src`: byte for byte
/// (`src_end == NO_END`: view byte `view + k` is input byte `src + k`), or all of them from the
/// one input range `src..src_end` (a decoded escape, a full-width form). Pieces are in order and
/// each runs to where the next starts; what a view drops (a zero-width character, a line break
/// inside base64) is the gap between two pieces' input ranges. One entry per change, not per
/// byte: most strings that need a view change in a few places.
#[derive(Clone, Copy)]
struct Piece {
    view: u32,
    /// How many view bytes.
    len: u32,
    src: u32,
    src_end: u32,
}

const NO_END: u32 = u32::MAX;

impl Piece {
    fn is_copy(&self) -> bool {
        self.src_end == NO_END
    }
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
        let mut pieces: Vec<Piece> = Vec::new();
        // The byte-for-byte run being copied: it starts at input byte `run`.
        let mut run = 0usize;
        let flush = |out: &mut Vec<u8>, pieces: &mut Vec<Piece>, run: usize, to: usize| {
            if to > run {
                pieces.push(Piece {
                    view: out.len() as u32,
                    len: (to - run) as u32,
                    src: run as u32,
                    src_end: NO_END,
                });
                out.extend_from_slice(&b[run..to]);
            }
        };
        let replace =
            |out: &mut Vec<u8>, pieces: &mut Vec<Piece>, bytes: &[u8], from: usize, to: usize| {
                pieces.push(Piece {
                    view: out.len() as u32,
                    len: bytes.len() as u32,
                    src: from as u32,
                    src_end: to as u32,
                });
                out.extend_from_slice(bytes);
            };
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            // What the view does at `i`: replace `used` input bytes with `with`, or skip them.
            let mut tmp = [0u8; 4];
            let change: Option<(usize, Option<&[u8]>)> = match c {
                b'\\' => text_escape(b, i)
                    .map(|(ch, used)| (used, Some(ch.encode_utf8(&mut tmp).as_bytes()))),
                b'%' => percent(b, i).map(|x| {
                    // `%25XX` is `%XX` encoded once more (a console URL inside a query string).
                    if let Some(y) = (x == b'%').then(|| double_percent(b, i)).flatten() {
                        tmp[0] = y;
                        (5, Some(&tmp[..1]))
                    } else {
                        tmp[0] = x;
                        (3, Some(&tmp[..1]))
                    }
                }),
                b'\n' | b'\r' => wrap_len(b, i, wraps).map(|skip| (skip, None)),
                0xC2.. => {
                    let n = invisible_len(b, i);
                    let spaces = space_len(b, i);
                    if n > 0 {
                        Some((n, None))
                    } else if spaces > 0 {
                        Some((spaces, Some(&b" "[..])))
                    } else {
                        fullwidth(b, i).map(|x| {
                            tmp[0] = x;
                            (3, Some(&tmp[..1]))
                        })
                    }
                }
                _ => None,
            };
            let Some((used, with)) = change else {
                i += 1;
                continue;
            };
            flush(&mut out, &mut pieces, run, i);
            if let Some(bytes) = with {
                replace(&mut out, &mut pieces, bytes, i, i + used);
            }
            i += used;
            run = i;
        }
        flush(&mut out, &mut pieces, run, b.len());
        // Every replacement is ASCII or a whole char, and every skip a whole char or ASCII:
        // the view is valid UTF-8.
        let text = String::from_utf8(out).expect("the view is built from whole characters");
        View {
            text: Cow::Owned(text),
            map: Some(pieces),
        }
    }

    /// True when the view differs from its input.
    #[cfg(test)]
    pub(crate) fn is_normalised(&self) -> bool {
        self.map.is_some()
    }

    /// The view bytes `[start, end)` read from input bytes `a..b`: the inverse of [`View::span`].
    /// (`start`: how many view bytes begin before `a`; `end`: how many end at `b` or before.)
    pub(crate) fn locate(&self, a: usize, b: usize) -> (usize, usize) {
        let Some(pieces) = &self.map else {
            return (a, b);
        };
        let starts_before_a = |p: &Piece| {
            let (s, n) = (p.src as usize, p.len as usize);
            if p.is_copy() {
                a.saturating_sub(s).min(n)
            } else if s < a {
                n
            } else {
                0
            }
        };
        let ends_by_b = |p: &Piece| {
            let (s, n) = (p.src as usize, p.len as usize);
            if p.is_copy() {
                b.saturating_sub(s).min(n)
            } else if (p.src_end as usize) <= b {
                n
            } else {
                0
            }
        };
        (
            Self::count(pieces, self.text.len(), starts_before_a),
            Self::count(pieces, self.text.len(), ends_by_b),
        )
    }

    /// How many view bytes pass a test that is monotone over the view (all of a piece's bytes,
    /// some, then none): the pieces wholly passing, plus what passes of the first that is not.
    fn count(pieces: &[Piece], len: usize, passing: impl Fn(&Piece) -> usize) -> usize {
        let i = pieces.partition_point(|p| passing(p) == p.len as usize);
        pieces.get(i).map_or(len, |p| p.view as usize + passing(p))
    }

    /// The input range `[start, end)` that view bytes `a..b` (non-empty) were read from.
    pub(crate) fn span(&self, a: usize, b: usize) -> (usize, usize) {
        let Some(pieces) = &self.map else {
            return (a, b);
        };
        let at = |v: usize| {
            let p = &pieces[pieces.partition_point(|p| p.view as usize <= v) - 1];
            let k = v - p.view as usize;
            if p.is_copy() {
                (p.src as usize + k, p.src as usize + k + 1)
            } else {
                (p.src as usize, p.src_end as usize)
            }
        };
        (at(a).0, at(b - 1).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The view as it was first written, one map entry per view byte: the reference the
    /// pieces must agree with.
    fn dense(input: &str, wraps: Wraps) -> (String, Vec<usize>, Vec<usize>) {
        let b = input.as_bytes();
        let (mut out, mut starts, mut ends) = (Vec::new(), Vec::new(), Vec::new());
        let mut push = |out: &mut Vec<u8>, bytes: &[u8], from: usize, to: usize| {
            for &x in bytes {
                out.push(x);
                starts.push(from);
                ends.push(to);
            }
        };
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            let mut tmp = [0u8; 4];
            if c == b'\\' {
                if let Some((ch, used)) = text_escape(b, i) {
                    push(&mut out, ch.encode_utf8(&mut tmp).as_bytes(), i, i + used);
                    i += used;
                    continue;
                }
            } else if c == b'%' {
                if let Some(x) = percent(b, i) {
                    if let Some(y) = (x == b'%').then(|| double_percent(b, i)).flatten() {
                        push(&mut out, &[y], i, i + 5);
                        i += 5;
                    } else {
                        push(&mut out, &[x], i, i + 3);
                        i += 3;
                    }
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
        (String::from_utf8(out).unwrap(), starts, ends)
    }

    #[test]
    fn pieces_agree_with_a_map_per_byte() {
        let parts = [
            "ab",
            "i-0123",
            "\\n",
            "\\u002B",
            "\\\"",
            "\\q",
            "%3A",
            "%253A",
            "%zz",
            "%",
            "\u{200b}",
            "\u{ad}",
            "\u{a0}",
            "\u{202f}",
            "１２",
            "\u{3000}",
            "계정",
            "\n",
            "\r\n",
            "QWxhZGRpbjpvcGVuIHNlc2FtZQQWxhZGRpbjpvcGVuIHNlc2FtZQQWxhZGRpbjpvcGVuIHNl",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..3000 {
            let mut s = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut r = seed;
            for _ in 0..(r % 9) {
                r = r.rotate_left(7) ^ 0x5851_f42d;
                s.push_str(parts[(r % parts.len() as u64) as usize]);
            }
            for wraps in [Wraps::Wide, Wraps::Lines] {
                let (text, starts, ends) = dense(&s, wraps);
                let v = if needs_view(s.as_bytes()) || wraps == Wraps::Lines {
                    View::build_with(&s, wraps)
                } else {
                    View::build(&s)
                };
                assert_eq!(v.text, text, "{s:?}");
                for (a, &from) in starts.iter().enumerate() {
                    for (b, &to) in ends.iter().enumerate().skip(a) {
                        assert_eq!(v.span(a, b + 1), (from, to), "{s:?} span {a}..={b}");
                    }
                }
                for a in 0..=s.len() {
                    for b in a..=s.len() {
                        let want = (
                            starts.partition_point(|&x| x < a),
                            ends.partition_point(|&x| x <= b),
                        );
                        assert_eq!(v.locate(a, b), want, "{s:?} locate {a}..{b}");
                    }
                }
            }
        }
    }

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
