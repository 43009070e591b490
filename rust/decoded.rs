//! Values hidden in base64: a Kubernetes Secret's `data:` (`QUtJQV…` is an access key ID), a
//! credentials file pasted as `base64 -w0`, a `docker config` auth. The scanner cannot see
//! them in the encoded text, and the known set only finds encodings of values already seen.
//! So every base64 run long enough to hold an identifier is decoded, and when the decoded text
//! reads as text and the catalogue finds something in it, the whole run is masked (as written,
//! so unmasking restores it exactly).

use base64::alphabet;
use base64::engine::general_purpose::GeneralPurpose;
use base64::engine::{DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine as _;

use crate::scanner::{resolve, Candidate, Scanner, Source};

/// The shortest run decoded: 16 characters hold 12 bytes (an account ID, the start of a key).
const MIN_RUN: usize = 16;
/// How much of the run's line before it is read with the decoded text, at most.
const LEAD: usize = 64;
/// Runs longer than this are not decoded (an image or a wheel pasted as base64).
const MAX_RUN: usize = 64 * 1024;

/// Padding optional, trailing bits allowed: base64 as people paste it (cut, unpadded).
const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const LENIENT_STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const LENIENT_URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// The characters of both base64 alphabets, as a table: the run search looks at every byte
/// of every string.
const B64: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_');
        b += 1;
    }
    t
};

fn is_b64(b: u8) -> bool {
    B64[b as usize]
}

/// Decoded bytes that read as text: UTF-8, and printable or whitespace throughout.
fn as_text(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    text.chars()
        .all(|c| !c.is_control() || c.is_whitespace())
        .then_some(text)
}

/// Candidates covering whole base64 runs of `hay` whose decoded text holds a finding; each
/// takes the source and priority of the strongest finding inside.
pub(crate) fn candidates(scanner: &Scanner, hay: &str) -> Vec<Candidate> {
    let b = hay.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        // Runs are taken whole, so a run starts at the first base64 byte after the last one.
        let Some(skip) = b[i..].iter().position(|&c| is_b64(c)) else {
            break;
        };
        let start = i + skip;
        i = start
            + b[start..]
                .iter()
                .position(|&c| !is_b64(c))
                .unwrap_or(b.len() - start);
        let mut end = i;
        while end < b.len() && b[end] == b'=' && end - i < 2 {
            end += 1;
        }
        let body = &b[start..i];
        if body.len() < MIN_RUN
            || body.len() > MAX_RUN
            || (body.iter().all(u8::is_ascii_alphanumeric) && !mixed(body))
        {
            i = end;
            continue;
        }
        let url_safe = body.iter().any(|&c| c == b'-' || c == b'_');
        let plus = body.iter().any(|&c| c == b'+' || c == b'/');
        if url_safe && plus {
            i = end;
            continue;
        }
        let decoded = if url_safe {
            LENIENT_URL_SAFE.decode(body)
        } else {
            LENIENT_STANDARD.decode(body)
        };
        if let Some(text) = decoded.ok().as_deref().and_then(as_text) {
            // What names the run names its content too (`AWS_SECRET_ACCESS_KEY: <base64>` in
            // a Secret's data): the decoded text is read after the run's line so far.
            let mut from = b[..start]
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(0, |p| p + 1)
                .max(start.saturating_sub(LEAD));
            while !hay.is_char_boundary(from) {
                from += 1;
            }
            let lead = &hay[from..start];
            let joined = format!("{lead}{text}");
            let found = resolve(scanner.candidates(&joined, None));
            let best = found
                .iter()
                .filter(|c| c.start >= lead.len())
                .filter(|c| matches!(c.source, Source::Entry(_)))
                .max_by_key(|c| (c.priority, c.end - c.start));
            if let Some(best) = best {
                out.push(Candidate {
                    start,
                    end,
                    priority: best.priority,
                    source: best.source,
                });
            }
        }
        i = end;
    }
    out
}

/// Upper and lower case letters: what base64 of text looks like (a hex digest, a number or
/// a lowercase name is not worth decoding).
fn mixed(body: &[u8]) -> bool {
    body.iter().any(u8::is_ascii_uppercase) && body.iter().any(u8::is_ascii_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};

    fn scanner() -> Scanner {
        Scanner::new(&crate::Catalogue::builtin().unwrap()).unwrap()
    }

    #[test]
    fn runs_holding_identifiers_are_found_whole() {
        let s = scanner();
        let key = STANDARD.encode("AKIAXMLPV3NPSNULK33A");
        let no_digit = STANDARD.encode("ASIARULGLPAYNRDQRZC7"); // QVNJQVJV…: no digit in it
        let creds = STANDARD.encode(
            "[default]\naws_access_key_id = AKIAXMLPV3NPSNULK33A\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY\n",
        );
        let url = URL_SAFE.encode("bucket arn:aws:s3:::acme-logs-prod>>>?");
        let secret = STANDARD.encode("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
        for (text, run) in [
            (
                format!("  AWS_SECRET_ACCESS_KEY: {secret}\n"),
                secret.as_str(),
            ),
            (format!("  AWS_ACCESS_KEY_ID: {key}\n"), key.as_str()),
            (
                format!("  AWS_ACCESS_KEY_ID: {no_digit}\n"),
                no_digit.as_str(),
            ),
            (format!("credentials: {creds}"), creds.as_str()),
            (format!("x={url};"), url.as_str()),
        ] {
            let found = candidates(&s, &text);
            let at = text.find(run).unwrap();
            assert!(
                found
                    .iter()
                    .any(|c| c.start == at && c.end == at + run.len()),
                "{text}: {found:?}"
            );
        }
    }

    #[test]
    fn other_runs_are_left_alone() {
        let s = scanner();
        for text in [
            STANDARD.encode("hello world, nothing to see here at all"),
            "sha256:3f2a9c0d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f".into(),
            "AssetsBucketNameOutputValue".into(),
            STANDARD.encode([0u8, 159, 146, 150, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
        ] {
            assert!(candidates(&s, &text).is_empty(), "{text}");
        }
    }
}
