//! Values held inside others: what a finding gives away about its neighbours.
//!
//! An ARN holds its account (and an S3 ARN its bucket); an ECR registry host holds its
//! account; a modern access key ID encodes its account in its base32 body. The containing
//! value is masked whole, but the account alone can turn up bare a few lines later (`aws sts
//! get-caller-identity --output text` prints it beside the ARN), where nothing names it. So
//! these held values join the known set as soon as their container is seen.

use std::sync::Arc;

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_bucket(s: &str) -> bool {
    (3..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()
}

/// A KMS key ID: a UUID (`1234abcd-12ab-34cd-56ef-1234567890ab`) or a multi-Region `mrk-` ID.
fn is_key_id(s: &str) -> bool {
    let b = s.as_bytes();
    let uuid = b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    let mrk = s
        .strip_prefix("mrk-")
        .is_some_and(|h| h.len() == 32 && h.bytes().all(|c| c.is_ascii_hexdigit()));
    uuid || mrk
}

/// A distribution ID of `CloudFront`: `E` and 12 to 14 capitals or digits.
fn is_distribution_id(s: &str) -> bool {
    (13..=15).contains(&s.len())
        && s.starts_with('E')
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A Route 53 hosted zone ID: `Z` and 7 to 31 capitals or digits.
fn is_zone_id(s: &str) -> bool {
    (8..=32).contains(&s.len())
        && s.starts_with('Z')
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// An Organizations ID: `o-` plus 10 to 32, or `ou-` plus two runs, of lowercase letters and digits.
fn is_org_id(s: &str) -> bool {
    let run = |r: &str, lo: usize| {
        r.len() >= lo
            && r.len() <= 32
            && r.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if let Some(r) = s.strip_prefix("ou-") {
        return r
            .split_once('-')
            .is_some_and(|(a, b)| run(a, 4) && run(b, 8));
    }
    s.strip_prefix("o-").is_some_and(|r| run(r, 10))
}

/// The account a modern access key ID (`AKIA`/`ASIA` + 16 base32) was created in.
fn key_account(key: &str) -> Option<String> {
    let b = key.as_bytes();
    if b.len() != 20 || !(b.starts_with(b"AKIA") || b.starts_with(b"ASIA")) {
        return None;
    }
    let mut bits: u128 = 0;
    for &c in &b[4..] {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        bits = (bits << 5) | u128::from(v);
    }
    // 80 bits; the account is in bits 1..40 of the first 48 (then shifted by 7).
    let first48 = (bits >> 32) as u64;
    let account = (first48 & 0x7fff_ffff_ff80) >> 7;
    (account > 0 && account < 1_000_000_000_000).then(|| format!("{account:012}"))
}

/// `(kind, value)` pairs held inside a finding of `kind` whose value is `value`.
pub(crate) fn held(kind: &str, value: &str) -> Vec<(Arc<str>, Arc<str>)> {
    let mut out: Vec<(Arc<str>, Arc<str>)> = Vec::new();
    match kind {
        "arn" => {
            let parts: Vec<&str> = value.splitn(6, ':').collect();
            if parts.len() == 6 {
                if is_account(parts[4]) {
                    out.push(("acct".into(), parts[4].into()));
                }
                if parts[2] == "organizations" {
                    // account/o-<org>/<account>: list-accounts prints the member account bare.
                    if let Some(acct) = parts[5]
                        .strip_prefix("account/")
                        .and_then(|r| r.rsplit('/').next())
                        .filter(|a| is_account(a))
                    {
                        out.push(("acct".into(), acct.into()));
                    }
                }
                if parts[2] == "organizations" {
                    // organization/o-<org>, ou/o-<org>/ou-<root>-<ou>, account/o-<org>/…: the org
                    // and OU IDs are printed bare in "Id" fields beside the ARN.
                    for id in parts[5].split('/').skip(1).filter(|i| is_org_id(i)) {
                        out.push(("org".into(), id.into()));
                    }
                }
                if parts[2] == "cloudfront" {
                    // distribution/<ID>: list-distributions prints "Id": "<ID>" beside the ARN.
                    if let Some(id) = parts[5]
                        .strip_prefix("distribution/")
                        .filter(|i| is_distribution_id(i))
                    {
                        out.push(("cdn".into(), id.into()));
                    }
                }
                if parts[2] == "route53" {
                    if let Some(id) = parts[5]
                        .strip_prefix("hostedzone/")
                        .filter(|i| is_zone_id(i))
                    {
                        out.push(("zone".into(), id.into()));
                    }
                }
                if parts[2] == "kms" {
                    // key/<id> or alias/<name>: `list-keys`/`list-aliases` print them bare
                    // beside the ARN.
                    if let Some(id) = parts[5].strip_prefix("key/").filter(|i| is_key_id(i)) {
                        out.push(("kms".into(), id.into()));
                    } else if parts[5].starts_with("alias/") && parts[5].len() > "alias/".len() {
                        out.push(("kms".into(), parts[5].into()));
                    }
                }
                if parts[2] == "s3" && parts[3].is_empty() && parts[4].is_empty() {
                    let bucket = parts[5].split('/').next().unwrap_or("");
                    if is_bucket(bucket) {
                        out.push(("bucket".into(), bucket.into()));
                    }
                }
            }
        }
        "ecr" => {
            if let Some(acct) = value.get(..12).filter(|a| is_account(a)) {
                out.push(("acct".into(), acct.into()));
            }
        }
        "iam" => {
            if let Some(acct) = key_account(value) {
                out.push(("acct".into(), acct.into()));
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_values() {
        type Row<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
        let rows: &[Row] = &[
            (
                "arn",
                "arn:aws:iam::123456789012:role/deploy",
                &[("acct", "123456789012")],
            ),
            (
                "arn",
                "arn:aws:s3:::acme-logs/2024/*",
                &[("bucket", "acme-logs")],
            ),
            ("arn", "arn:aws:iam::aws:policy/ReadOnly", &[]),
            (
                "arn",
                "arn:aws:kms:us-east-1:123456789012:key/679bf6a3-ed99-47ed-99b1-22a41501fde1",
                &[
                    ("acct", "123456789012"),
                    ("kms", "679bf6a3-ed99-47ed-99b1-22a41501fde1"),
                ],
            ),
            (
                "arn",
                "arn:aws:kms:eu-west-2:123456789012:alias/acme-payments-prod",
                &[
                    ("acct", "123456789012"),
                    ("kms", "alias/acme-payments-prod"),
                ],
            ),
            (
                "arn",
                "arn:aws:organizations::111111111111:account/o-aeehotxigy/222222222222",
                &[
                    ("acct", "111111111111"),
                    ("acct", "222222222222"),
                    ("org", "o-aeehotxigy"),
                ],
            ),
            (
                "arn",
                "arn:aws:cloudfront::123456789012:distribution/EV5T8GQ6HDBHBL",
                &[("acct", "123456789012"), ("cdn", "EV5T8GQ6HDBHBL")],
            ),
            (
                "arn",
                "arn:aws:route53:::hostedzone/Z9OS2QLQOG689TEXCPKQY",
                &[("zone", "Z9OS2QLQOG689TEXCPKQY")],
            ),
            (
                "arn",
                "arn:aws:organizations::111111111111:ou/o-aeehotxigy/ou-ab12-cd34ef56",
                &[
                    ("acct", "111111111111"),
                    ("org", "o-aeehotxigy"),
                    ("org", "ou-ab12-cd34ef56"),
                ],
            ),
            (
                "arn",
                "arn:aws:cloudfront::123456789012:distribution/e123",
                &[("acct", "123456789012")],
            ),
            (
                "arn",
                "arn:aws:kms:us-east-1:123456789012:key/not-a-key",
                &[("acct", "123456789012")],
            ),
            (
                "ecr",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com",
                &[("acct", "123456789012")],
            ),
            ("ec2", "i-0123456789abcdef0", &[]),
        ];
        for (kind, value, want) in rows {
            let got: Vec<(String, String)> = held(kind, value)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect();
            assert_eq!(got, want, "{value}");
        }
    }

    #[test]
    fn the_account_inside_an_access_key_id() {
        // The documented decoding: base32 body, 48 bits, mask, shift.
        assert_eq!(
            key_account("ASIAY34FZKBOKMUTVV7A").as_deref(),
            Some("609629065308")
        );
        assert_eq!(key_account("AKIA1234"), None);
    }
}
