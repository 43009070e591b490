use proptest::prelude::*;

use super::*;

fn scanner(toml: &str) -> Scanner {
    let mut cat = Catalogue::builtin().unwrap();
    for e in cat.entries().to_vec() {
        cat.set_enabled(&e.name, false, "t").unwrap();
    }
    cat.merge_str(toml, "test.toml", false).unwrap();
    Scanner::new(&cat).unwrap()
}

fn builtin() -> &'static Scanner {
    static SCANNER: std::sync::OnceLock<Scanner> = std::sync::OnceLock::new();
    SCANNER.get_or_init(|| {
        let mut cat = Catalogue::builtin().unwrap();
        cat.set_enabled("private-network", true, "t").unwrap();
        Scanner::new(&cat).unwrap()
    })
}

fn spans(s: &Scanner, hay: &str) -> Vec<(usize, usize, String)> {
    s.scan(hay, None)
        .into_iter()
        .map(|f| {
            let Source::Entry(i) = f.source else { panic!() };
            (f.start, f.end, s.entry(i).name.clone())
        })
        .collect()
}

const LADDER: &str = r#"
[[pattern]]
name = "low-long"
kind = "low"
regex = 'ab[a-z]{6}'
priority = 1
[[pattern]]
name = "high-short"
kind = "high"
regex = 'cdef'
priority = 9
[[pattern]]
name = "mid-a"
kind = "mid"
regex = 'xy\d+'
priority = 5
[[pattern]]
name = "mid-b"
kind = "mid"
regex = 'xy\d{2}z'
priority = 5
"#;

#[test]
fn overlaps_resolve_by_priority_then_length_and_never_drop_a_byte() {
    let s = scanner(LADDER);
    // high-short inside low-long: both are masked, as one value of the higher priority.
    assert_eq!(spans(&s, "abcdefgh"), vec![(0, 8, "high-short".into())]);
    // equal priority: the longer wins, whichever starts first.
    assert_eq!(spans(&s, "xy12z"), vec![(0, 5, "mid-b".into())]);
    assert_eq!(
        spans(&s, "..xy123 xy12z"),
        vec![(2, 7, "mid-a".into()), (8, 13, "mid-b".into())]
    );
}

#[test]
fn a_match_that_consumes_context_hides_no_other_value() {
    let s = builtin();
    let key = "AKIA2MWUFXBV54BYVSEH";
    let secret = "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";
    for text in [
        format!("{key}:{secret}"),
        format!("user,{key},{secret}\n"),
        format!("{key}\n{secret}\n"),
        format!("NewStaticCredentials(\"{key}\", \"{secret}\", \"\")"),
    ] {
        let found: Vec<&str> = s
            .scan(&text, None)
            .iter()
            .map(|f| &text[f.start..f.end])
            .collect();
        assert!(
            found.contains(&key) && found.contains(&secret),
            "{text:?}: {found:?}"
        );
    }
}

#[test]
fn edges_allow_dash_and_underscore() {
    let s = builtin();
    for (text, value) in [
        ("host-i-0123456789abcdef0", "i-0123456789abcdef0"),
        ("i-0123456789abcdef0_old", "i-0123456789abcdef0"),
        ("key AKIA2MWUFXBV54BYVSEH_backup", "AKIA2MWUFXBV54BYVSEH"),
    ] {
        let found: Vec<&str> = s
            .scan(text, None)
            .iter()
            .map(|f| &text[f.start..f.end])
            .collect();
        assert_eq!(found, [value], "{text}");
    }
    assert!(s.scan("xi-0123456789abcdef0", None).is_empty());
    assert!(s.scan("i-0123456789abcdef0a", None).is_empty());
    let t = "tgw-rtb-0123456789abcdef0";
    let found = s.scan(t, None);
    assert_eq!(
        (found.len(), found[0].start, found[0].end),
        (1, 0, t.len()),
        "the longer ID wins"
    );
}

#[test]
fn id_groups_validators_and_context() {
    let s = scanner(
        r#"
[[pattern]]
name = "s3"
kind = "bucket"
regex = 's3://(?P<id>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])'
priority = 1
[[pattern]]
name = "acct"
kind = "acct"
regex = '\b\d{12}\b'
priority = 1
validate = { context = ["account", "계정"], window = 16 }
[[pattern]]
name = "secret"
kind = "secret"
regex = '\b[A-Za-z0-9]{20}\b'
priority = 1
validate = { min_entropy = 3.5, reject = '^[0-9a-f]+$' }
"#,
    );
    assert_eq!(
        spans(&s, "cp s3://my-bucket/x ."),
        vec![(8, 17, "s3".into())]
    );
    assert!(
        spans(&s, "s3://bucket-001/x").is_empty(),
        "a pseudonym is never a finding"
    );
    assert_eq!(spans(&s, "Account: 123456789012").len(), 1);
    assert_eq!(spans(&s, "계정 123456789012").len(), 1);
    assert!(spans(&s, "ts 123456789012").is_empty());
    assert_eq!(
        spans(&s, "account                  123456789012").len(),
        1,
        "alignment padding counts as one space"
    );
    assert!(
        spans(&s, "account is what we talk about here 123456789012").is_empty(),
        "outside the window"
    );
    assert_eq!(
        s.scan_with_context("123456789012", Some("AccountId"), None)
            .len(),
        1,
        "the key names it"
    );
    assert!(spans(&s, "aaaaaaaaaaaaaaaaaaaa").is_empty(), "low entropy");
    assert!(spans(&s, "0123456789abcdef0123").is_empty(), "rejected");
    assert_eq!(spans(&s, "Zq8rT2mX9pL4vN7kW3yB").len(), 1);
}

#[test]
fn known_values_win_and_need_whole_tokens() {
    let s = scanner(LADDER);
    let known = Known::of_values(&[("123456", "acct")]).unwrap();
    let f = s.scan("id 123456 and x123456 and 123456_b", Some(&known));
    let got: Vec<(usize, usize)> = f.iter().map(|f| (f.start, f.end)).collect();
    assert_eq!(got, vec![(3, 9), (26, 32)]);
}

#[test]
fn a_known_value_inside_a_longer_match_stays_part_of_it() {
    let s = builtin();
    let arn = "assume arn:aws:iam::123456789013:role/deploy";
    let fresh = s.scan(arn, None);
    let known = Known::of_values(&[("123456789013", "acct")]).unwrap();
    assert_eq!(s.scan(arn, Some(&known)), fresh);
    assert_eq!(fresh.len(), 1);
    assert_eq!((fresh[0].start, fresh[0].end), (7, arn.len()));
    let alone = s.scan("then 123456789013 again", Some(&known));
    assert_eq!(alone.len(), 1, "found on its own without context");
}

#[test]
fn every_builtin_entry_is_anchored() {
    // A pattern without an anchor is searched over the whole text: a slow path, kept for user
    // catalogues. The built-in catalogue never needs it.
    let slow: Vec<&str> = builtin()
        .anchors()
        .filter(|(_, a)| matches!(a, Anchor::Scan))
        .map(|(e, _)| e.name.as_str())
        .collect();
    assert!(slow.is_empty(), "unanchored: {slow:?}");
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Scanner>();
    check::<Known>();
}

// -- the fast scanner finds exactly what the reference finds ---------------------------------

fn assert_same(s: &Scanner, hay: &str) {
    let fast = s.candidates(hay, None);
    let slow = s.reference(hay, None);
    if fast != slow {
        let name = |c: &Candidate| match c.source {
            Source::Entry(i) => s.entry(i).name.clone(),
            _ => String::new(),
        };
        let only = |a: &[Candidate], b: &[Candidate]| -> Vec<String> {
            a.iter()
                .filter(|c| !b.contains(c))
                .map(|c| format!("{} {:?}", name(c), &hay[c.start..c.end]))
                .collect()
        };
        panic!(
            "fast and reference disagree on {hay:?}\nonly fast: {:?}\nonly reference: {:?}",
            only(&fast, &slow),
            only(&slow, &fast)
        );
    }
}

#[test]
fn fast_equals_reference_on_every_catalogue_example() {
    let s = builtin();
    let cat = Catalogue::builtin().unwrap();
    let mut all = String::new();
    for e in cat.entries() {
        for (text, _) in &e.positive {
            assert_same(s, text);
            all.push_str(text);
            all.push('\n');
        }
        for text in &e.negative {
            assert_same(s, text);
            all.push_str(text);
            all.push(' ');
        }
    }
    assert_same(s, &all);
}

#[test]
fn fast_equals_reference_where_line_literals_crowd_or_straddle_lines() {
    // Line-start entries anchored on a literal on their first line: many literals on one long
    // line, literals that hold the line break, and `\r`, `\r\n` and `\n` line ends.
    let s = builtin();
    let crowd = "password: x passwd pwd ".repeat(200);
    for hay in [
        format!("{crowd}\npassword: hunter2hunter2\n{crowd}"),
        format!("  db_password: s3cr3tPassw0rd!\r\n{crowd}\r  pwd: Another-One-9\r\n"),
        "Parameters:\n  LogsBucket:\n    Type: String\n    Default: my-logs-bucket-1\n".to_string(),
        "Parameters:\r\n  LogsBucket:\r\n    Default: my-logs-bucket-2\r\n".to_string(),
        format!("{crowd}Name: my-bucket-name-3\n  - Name: other-bucket-4\n"),
    ] {
        assert_same(s, &hay);
    }
}

/// Pieces real text is made of: identifiers, their look-alikes, context words in three
/// languages, separators, table borders.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "i-[0-9a-f]{17}",
        "i-[0-9a-f]{8}",
        "(vpc|subnet|sg|tgw-rtb|eni-attach|export-i|r|h|s)-[0-9a-f]{8,17}",
        "(AKIA|ASIA|AROA)[A-Z2-7]{16,17}",
        "[A-Za-z0-9/+]{40}",
        "[0-9]{12}",
        "[0-9]{4}-[0-9]{4}-[0-9]{4}",
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "arn:aws:(iam|s3|kms|ec2):(us-east-1)?:([0-9]{12})?:[a-z/-]{1,20}",
        "s3://[a-z0-9-]{3,20}(/[a-z]{1,8})?",
        "[a-z0-9-]{3,12}\\.s3\\.(us-west-2\\.)?amazonaws\\.com",
        "[a-z]{3,8}\\.cluster-[a-z0-9]{12}\\.us-east-1\\.rds\\.amazonaws\\.com",
        "IQoJb3JpZ2luX2Vj[A-Za-z0-9+/]{30,80}",
        "E[A-Z0-9]{13}",
        "Z[A-Z0-9]{12}",
        "(alias/[a-z-]{3,10}|mrk-[0-9a-f]{32}|o-[a-z0-9]{10}|sir-[0-9a-z]{8})",
        "(account|Account|AccountId|OwnerId|owner|secret|aws_secret_access_key|SecretAccessKey|bucket|BucketName|--bucket|kms|KeyId|distribution|hostedzone/|session_token|계정|アカウント)",
        "( |  |\t|\n|: |=|\"|'|,|\\||-|_|/|\\.|—|é)",
        "(\\|  |  \\||\\+--+\\+|\\|\\|)",
        "[a-z]{1,8}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]
    #[test]
    fn fast_equals_reference_on_generated_text(pieces in prop::collection::vec(piece(), 1..40)) {
        let s = builtin();
        let hay: String = pieces.concat();
        assert_same(s, &hay);
    }
}
