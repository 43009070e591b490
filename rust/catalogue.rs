//! Loading the declarative pattern catalogue: the built-in TOML plus the user's overrides.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::pseudonym;

/// The built-in catalogue, shipped in the Python package and compiled into the crate.
pub(crate) const BUILTIN: &str = include_str!("../python/maskgate/patterns/builtin.toml");
const BUILTIN_ORIGIN: &str = "<builtin>";
const MAX_PRIORITY: u32 = 1000;
const MAX_WINDOW: usize = 1024;
const DEFAULT_WINDOW: usize = 32;

/// What may touch a value on either side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Edges {
    /// Anything (the regex says what it needs).
    #[default]
    Any,
    /// Not an ASCII letter or digit: `host-i-0123abcd` and `i-0123abcd_old` hold an ID,
    /// `xi-0123abcd` and `i-0123abcde` do not.
    Alnum,
}

/// Extra checks a match must pass to count as a finding.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validate {
    /// At least one of these words (ASCII case-insensitive, any script) must name the value:
    /// in the `window` bytes before it (runs of spaces and tabs count as one), in the JSON key
    /// whose value it starts, or in the header cell of its column in a `|` table.
    #[serde(default)]
    pub context: Vec<String>,
    /// Words that overrule `context`: one of them written nearer the value than the last
    /// context word (or holding it, as `accessKeyId` holds `keyid`) says the value is
    /// something else (`order`, `request id`), and the context does not count there.
    #[serde(default)]
    pub veto: Vec<String>,
    /// How many bytes before the value `context` looks at.
    pub window: Option<usize>,
    /// Minimum Shannon entropy of the value, in bits per byte.
    pub min_entropy: Option<f64>,
    /// A value this regex matches is not a finding.
    pub reject: Option<String>,
}

impl Validate {
    /// The context window in bytes.
    pub fn window(&self) -> usize {
        self.window.unwrap_or(DEFAULT_WINDOW)
    }
}

/// One catalogue entry, after merging and validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Unique name.
    pub name: String,
    /// Pseudonym prefix.
    pub kind: String,
    /// Rust regex, compiled in ASCII mode.
    pub regex: String,
    /// Higher wins overlaps.
    pub priority: u32,
    /// What may touch the value on either side.
    pub edges: Edges,
    /// What the entry finds, for people.
    pub description: String,
    /// Opt-in group, if any.
    pub group: Option<String>,
    /// Whether the scanner uses it.
    pub enabled: bool,
    /// Extra checks.
    pub validate: Validate,
    /// A regex of separators: the value is a list (`a\tb\tc`, `"a", "b"`), and each piece
    /// between separators is a value of its own, checked and masked on its own.
    pub split: Option<String>,
    /// `(text, value)` pairs the entry must find.
    pub positive: Vec<(String, String)>,
    /// Texts in which the entry must find nothing.
    pub negative: Vec<String>,
    /// The file the entry (or its last override) came from.
    pub origin: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    version: Option<u32>,
    #[serde(default)]
    pattern: Vec<RawEntry>,
    #[serde(default)]
    enable: Vec<String>,
    #[serde(default)]
    disable: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: String,
    kind: Option<String>,
    regex: Option<String>,
    priority: Option<u32>,
    edges: Option<Edges>,
    description: Option<String>,
    group: Option<String>,
    enabled: Option<bool>,
    validate: Option<Validate>,
    split: Option<String>,
    positive: Option<Vec<Example>>,
    negative: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Example {
    Whole(String),
    Marked { text: String, value: String },
}

/// An ordered, validated set of entries.
///
/// ```
/// use _core::Catalogue;
/// let cat = Catalogue::builtin().unwrap();
/// assert!(cat.entries().iter().any(|e| e.kind == "ec2"));
/// ```
#[derive(Debug, Clone)]
pub struct Catalogue {
    entries: Vec<Entry>,
}

impl Catalogue {
    /// The built-in catalogue.
    pub fn builtin() -> Result<Self> {
        let mut cat = Catalogue {
            entries: Vec::new(),
        };
        cat.merge_str(BUILTIN, BUILTIN_ORIGIN, true)?;
        Ok(cat)
    }

    /// Applies a user file's additions, overrides, `enable` and `disable` lists.
    pub fn merge_str(&mut self, source: &str, origin: &str, builtin: bool) -> Result<()> {
        let doc: FileDoc =
            toml::from_str(source).map_err(|e| Error::catalogue(origin, None, e.message()))?;
        if let Some(v) = doc.version {
            if v != 1 {
                return Err(Error::catalogue(
                    origin,
                    None,
                    format!("unsupported version {v} (expected 1)"),
                ));
            }
        }
        let mut seen = BTreeSet::new();
        for raw in doc.pattern {
            if !seen.insert(raw.name.clone()) {
                return Err(Error::catalogue(
                    origin,
                    Some(&raw.name),
                    "defined twice in this file",
                ));
            }
            let existing = self.entries.iter().position(|e| e.name == raw.name);
            let entry = match existing {
                Some(i) if !builtin => Ok(merge_into(self.entries[i].clone(), raw, origin)),
                Some(_) => return Err(Error::catalogue(origin, Some(&raw.name), "defined twice")),
                None => new_entry(raw, origin),
            }?;
            check_entry(&entry)?;
            match existing {
                Some(i) => self.entries[i] = entry,
                None => self.entries.push(entry),
            }
        }
        for name in &doc.enable {
            self.set_enabled(name, true, origin)?;
        }
        for name in &doc.disable {
            self.set_enabled(name, false, origin)?;
        }
        Ok(())
    }

    /// Turns on (or off) every entry whose name or group is `name`.
    pub fn set_enabled(&mut self, name: &str, on: bool, origin: &str) -> Result<()> {
        let mut hit = false;
        for e in &mut self.entries {
            if e.name == name || e.group.as_deref() == Some(name) {
                e.enabled = on;
                hit = true;
            }
        }
        if hit {
            Ok(())
        } else {
            Err(Error::catalogue(
                origin,
                None,
                format!("no pattern or group named \"{name}\""),
            ))
        }
    }

    /// All entries, enabled or not, in catalogue order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Every kind any entry (enabled or not) can produce.
    pub fn kinds(&self) -> BTreeSet<String> {
        self.entries.iter().map(|e| e.kind.clone()).collect()
    }

    /// Returns a catalogue holding only `name`, enabled; used to test one entry's examples.
    pub fn only(&self, name: &str) -> Option<Catalogue> {
        let mut e = self.entries.iter().find(|e| e.name == name)?.clone();
        e.enabled = true;
        Some(Catalogue { entries: vec![e] })
    }
}

fn examples(raw: Option<Vec<Example>>) -> Vec<(String, String)> {
    raw.unwrap_or_default()
        .into_iter()
        .map(|ex| match ex {
            Example::Whole(s) => (s.clone(), s),
            Example::Marked { text, value } => (text, value),
        })
        .collect()
}

fn new_entry(raw: RawEntry, origin: &str) -> Result<Entry> {
    let missing =
        |field: &str| Error::catalogue(origin, Some(&raw.name), format!("missing field `{field}`"));
    Ok(Entry {
        kind: raw.kind.clone().ok_or_else(|| missing("kind"))?,
        regex: raw.regex.clone().ok_or_else(|| missing("regex"))?,
        priority: raw.priority.ok_or_else(|| missing("priority"))?,
        edges: raw.edges.unwrap_or_default(),
        description: raw.description.clone().unwrap_or_default(),
        enabled: raw.enabled.unwrap_or(raw.group.is_none()),
        group: raw.group,
        validate: raw.validate.unwrap_or_default(),
        split: raw.split,
        positive: examples(raw.positive),
        negative: raw.negative.unwrap_or_default(),
        origin: origin.to_owned(),
        name: raw.name,
    })
}

fn merge_into(mut e: Entry, raw: RawEntry, origin: &str) -> Entry {
    let regex_changed = raw.regex.is_some();
    if let Some(v) = raw.kind {
        e.kind = v;
    }
    if let Some(v) = raw.regex {
        e.regex = v;
    }
    if let Some(v) = raw.priority {
        e.priority = v;
    }
    if let Some(v) = raw.edges {
        e.edges = v;
    }
    if let Some(v) = raw.description {
        e.description = v;
    }
    if raw.group.is_some() {
        e.group = raw.group;
    }
    if let Some(v) = raw.enabled {
        e.enabled = v;
    }
    if let Some(v) = raw.validate {
        e.validate = v;
    }
    if raw.split.is_some() {
        e.split = raw.split;
    }
    match raw.positive {
        Some(p) => e.positive = examples(Some(p)),
        // The built-in examples describe the built-in regex, not the user's.
        None if regex_changed => e.positive.clear(),
        None => {}
    }
    match raw.negative {
        Some(n) => e.negative = n,
        None if regex_changed => e.negative.clear(),
        None => {}
    }
    origin.clone_into(&mut e.origin);
    e
}

/// Parses a catalogue regex the way the scanner compiles it.
pub(crate) fn syntax_config() -> regex_automata::util::syntax::Config {
    regex_automata::util::syntax::Config::new()
        .unicode(false)
        .utf8(false)
}

fn check_entry(e: &Entry) -> Result<()> {
    let err = |msg: String| Error::catalogue(&e.origin, Some(&e.name), msg);
    if e.name.is_empty()
        || !e
            .name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        return Err(err("name must match [a-z0-9-]+".into()));
    }
    if !pseudonym::is_valid_kind(&e.kind) {
        return Err(err(format!(
            "kind \"{}\" must match [a-z][a-z0-9]*(-[a-z][a-z0-9]*)*",
            e.kind
        )));
    }
    if e.priority > MAX_PRIORITY {
        return Err(err(format!(
            "priority {} is over {MAX_PRIORITY}",
            e.priority
        )));
    }
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(&e.regex)
        .map_err(|x| err(format!("regex: {}", first_line(&x.to_string()))))?;
    if hir.properties().minimum_len() == Some(0) {
        return Err(err("regex can match the empty string".into()));
    }
    regex_automata::meta::Regex::builder()
        .syntax(syntax_config())
        .build(&e.regex)
        .map_err(|x| err(format!("regex: {x}")))?;
    if let Some(reject) = &e.validate.reject {
        regex_automata::meta::Regex::builder()
            .syntax(syntax_config())
            .build(reject)
            .map_err(|x| err(format!("validate.reject: {x}")))?;
    }
    if let Some(split) = &e.split {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(split)
            .map_err(|x| err(format!("split: {}", first_line(&x.to_string()))))?;
        if hir.properties().minimum_len() == Some(0) {
            return Err(err("split can match the empty string".into()));
        }
    }
    if e.validate.window() > MAX_WINDOW {
        return Err(err(format!("validate.window is over {MAX_WINDOW}")));
    }
    if e.validate.window.is_some() && e.validate.context.is_empty() {
        return Err(err("validate.window without validate.context".into()));
    }
    if e.validate.context.iter().any(String::is_empty) {
        return Err(err("validate.context words must be non-empty".into()));
    }
    if !e.validate.veto.is_empty() && e.validate.context.is_empty() {
        return Err(err("validate.veto without validate.context".into()));
    }
    if e.validate.veto.iter().any(String::is_empty) {
        return Err(err("validate.veto words must be non-empty".into()));
    }
    if let Some(h) = e.validate.min_entropy {
        if !(0.0..=8.0).contains(&h) {
            return Err(err("validate.min_entropy must be within 0..=8".into()));
        }
    }
    Ok(())
}

fn first_line(s: &str) -> String {
    // regex-syntax errors draw the pattern with carets over several lines; keep the gist.
    s.lines()
        .filter(|l| l.starts_with("error:"))
        .map(|l| l.trim_start_matches("error: "))
        .next()
        .unwrap_or(s)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
version = 1
[[pattern]]
name = "ec2-instance"
kind = "ec2"
regex = '\bi-(?:[0-9a-f]{17}|[0-9a-f]{8})\b'
priority = 50
positive = ["i-0123456789abcdef0"]
[[pattern]]
name = "private-ip"
kind = "ip"
regex = '\b10\.\d{1,3}\.\d{1,3}\.\d{1,3}\b'
priority = 10
group = "private-network"
"#;

    fn base() -> Catalogue {
        let mut c = Catalogue { entries: vec![] };
        c.merge_str(BASE, "base.toml", true).unwrap();
        c
    }

    #[test]
    fn groups_are_off_until_enabled() {
        let mut c = base();
        assert!(!c.entries()[1].enabled);
        c.set_enabled("private-network", true, "x").unwrap();
        assert!(c.entries()[1].enabled);
    }

    #[test]
    fn user_files_override_add_and_disable() {
        let mut c = base();
        c.merge_str(
            "disable = [\"ec2-instance\"]\nenable = [\"private-ip\"]\n[[pattern]]\nname = \"ec2-instance\"\npriority = 70\n\n[[pattern]]\nname = \"corp\"\nkind = \"corp\"\nregex = 'CORP-\\d+'\npriority = 5\n",
            "my.toml",
            false,
        )
        .unwrap();
        let e = &c.entries()[0];
        assert_eq!(
            (e.priority, e.enabled, e.origin.as_str()),
            (70, false, "my.toml")
        );
        assert_eq!(
            e.positive.len(),
            1,
            "examples kept when the regex is unchanged"
        );
        assert!(c.entries()[1].enabled);
        assert_eq!(c.entries()[2].kind, "corp");
    }

    #[test]
    fn bad_entries_name_file_entry_and_problem() {
        let rows: &[(&str, &str)] = &[
            (
                "[[pattern]]\nname='x'\nkind='x'\nregex='(a'\npriority=1",
                "my.toml: pattern \"x\": regex:",
            ),
            (
                "[[pattern]]\nname='x'\nkind='X'\nregex='a'\npriority=1",
                "my.toml: pattern \"x\": kind \"X\"",
            ),
            (
                "[[pattern]]\nname='x'\nkind='x'\nregex='a*'\npriority=1",
                "empty string",
            ),
            (
                "[[pattern]]\nname='x'\nkind='x'\npriority=1",
                "missing field `regex`",
            ),
            (
                "[[pattern]]\nname='x'\nkind='x'\nregex='a'\npriority=1\ncolour='red'",
                "my.toml: unknown field",
            ),
            (
                "[[pattern]]\nname='x'\nkind='x'\nregex='a'\npriority=5000",
                "priority 5000",
            ),
            ("disable=['nope']", "no pattern or group named \"nope\""),
            ("version=2", "unsupported version 2"),
            (
                "[[pattern]]\nname='x'\nkind='x'\nregex='a'\npriority=1\nvalidate={reject='(('}",
                "validate.reject",
            ),
        ];
        for (src, want) in rows {
            let mut c = base();
            let got = c.merge_str(src, "my.toml", false).unwrap_err().to_string();
            assert!(got.contains(want), "{src:?}: got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn builtin_loads() {
        let c = Catalogue::builtin().unwrap();
        assert!(!c.entries().is_empty());
    }
}
