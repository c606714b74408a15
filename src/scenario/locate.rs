//! Source locations for TOML scenario errors: every bad-input error can be printed as one line
//! `FILE:LINE:COL: message (field path)`. [`from_str_located`] deserializes with `toml` 1.x and turns its error
//! span into a 1-based line/column, a one-line message and a [`FieldPath`] such as `banks[1].bogus` (found by
//! [`path_at`] from the span, since toml's own error only keeps table keys, not array indexes). [`locate`] goes
//! the other way, from a field path to the position of its value (or of its nearest existing ancestor), for
//! errors found after deserialization. [`apply_overrides`] applies `--set path=value` arguments with
//! `toml_edit::DocumentMut`, so untouched text keeps its exact bytes and replaced values keep their line.
//!
//! Field path syntax (shared by [`FieldPath`]'s `Display` and `FromStr`): segments joined by `.`, each a bare key
//! of `[A-Za-z0-9_-]+` or a double-quoted key (`"a.b"`, with `\"` and `\\` as the only escapes, a backslash
//! before any other character standing for that character), each key optionally followed by indexes `[N]`:
//! `banks[2].zone`, `corridors[0].rails[1]`, `calendars."us.east".zone`. The empty path is the document root
//! and displays as the empty string.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use toml::de::{DeTable, DeValue};
use toml_edit::{Item, Table, TableLike, Value};

/// A 1-based line/column position in the source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in chars (not bytes).
    pub col: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// Byte offset -> 1-based line and column (column counted in chars).
///
/// An offset past the end is clamped to the end of the text; an offset inside a multi-byte char is moved back
/// to the start of that char. Lines are split on `\n` only (a `\r` before it is an ordinary char).
pub fn pos_of(text: &str, byte: usize) -> Pos {
    let mut b = byte.min(text.len());
    while !text.is_char_boundary(b) {
        b -= 1;
    }
    let before = &text[..b];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Pos {
        line: before.bytes().filter(|&c| c == b'\n').count() + 1,
        col: before[line_start..].chars().count() + 1,
    }
}

/// One segment of a [`FieldPath`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// A 0-based index into an array (or array of tables).
    Index(usize),
}

/// A field path like `banks[2].zone` or `corridors[0].rails[1]`; see the module docs for the syntax.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    /// True for the root path (no segments).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn is_bare(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Index(n) => write!(f, "[{n}]")?,
                Seg::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if !k.is_empty() && k.chars().all(is_bare) {
                        f.write_str(k)?;
                    } else {
                        f.write_str("\"")?;
                        // Escaped so that a path always prints on one line (keys may hold newlines).
                        for c in k.chars() {
                            match c {
                                '"' | '\\' => write!(f, "\\{c}")?,
                                '\n' => f.write_str("\\n")?,
                                '\r' => f.write_str("\\r")?,
                                '\t' => f.write_str("\\t")?,
                                c if c.is_control() => write!(f, "\\u{{{:x}}}", c as u32)?,
                                c => write!(f, "{c}")?,
                            }
                        }
                        f.write_str("\"")?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A [`FieldPath`] that does not follow the syntax in the module docs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid field path `{input}` at char {at}: {reason}")]
pub struct PathSyntaxError {
    /// The text that was parsed.
    pub input: String,
    /// 0-based char index of the problem.
    pub at: usize,
    /// What was wrong there.
    pub reason: &'static str,
}

impl FromStr for FieldPath {
    type Err = PathSyntaxError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let chars: Vec<char> = s.chars().collect();
        let err = |at: usize, reason| PathSyntaxError {
            input: s.to_string(),
            at,
            reason,
        };
        let mut segs = Vec::new();
        let mut i = 0;
        loop {
            // A key: quoted or bare.
            if chars.get(i) == Some(&'"') {
                let start = i;
                i += 1;
                let mut key = String::new();
                loop {
                    match chars.get(i) {
                        None => return Err(err(start, "unterminated quoted key")),
                        Some('"') => break,
                        Some('\\') => match chars.get(i + 1) {
                            Some('n') => {
                                key.push('\n');
                                i += 2;
                            }
                            Some('r') => {
                                key.push('\r');
                                i += 2;
                            }
                            Some('t') => {
                                key.push('\t');
                                i += 2;
                            }
                            Some('u') if chars.get(i + 2) == Some(&'{') => {
                                let close = (i + 3..chars.len())
                                    .find(|&j| chars[j] == '}')
                                    .ok_or_else(|| err(i, "unterminated \\u{...} escape"))?;
                                let hex: String = chars[i + 3..close].iter().collect();
                                let c = u32::from_str_radix(&hex, 16)
                                    .ok()
                                    .and_then(char::from_u32)
                                    .ok_or_else(|| err(i, "bad \\u{...} escape"))?;
                                key.push(c);
                                i = close + 1;
                            }
                            Some(&c) => {
                                key.push(c);
                                i += 2;
                            }
                            None => return Err(err(i, "unterminated quoted key")),
                        },
                        Some(&c) => {
                            key.push(c);
                            i += 1;
                        }
                    }
                }
                i += 1;
                segs.push(Seg::Key(key));
            } else {
                let start = i;
                while chars.get(i).is_some_and(|&c| is_bare(c)) {
                    i += 1;
                }
                if i == start {
                    return Err(err(i, "expected a key ([A-Za-z0-9_-]+ or \"quoted\")"));
                }
                segs.push(Seg::Key(chars[start..i].iter().collect()));
            }
            // Indexes, then `.` or the end.
            loop {
                match chars.get(i) {
                    None => return Ok(FieldPath(segs)),
                    Some('.') => {
                        i += 1;
                        break;
                    }
                    Some('[') => {
                        let start = i + 1;
                        let mut j = start;
                        while chars.get(j).is_some_and(char::is_ascii_digit) {
                            j += 1;
                        }
                        if j == start || chars.get(j) != Some(&']') {
                            return Err(err(i, "expected an index `[N]`"));
                        }
                        let digits: String = chars[start..j].iter().collect();
                        let n = digits.parse().map_err(|_| err(start, "index too large"))?;
                        segs.push(Seg::Index(n));
                        i = j + 1;
                    }
                    Some(_) => return Err(err(i, "expected `.`, `[` or the end")),
                }
            }
        }
    }
}

/// A deserialization error with its position and field path; `Display` is `LINE:COL: message (path)`
/// (position and path left out when unknown, the path also when it is the root); callers prefix `FILE:`.
#[derive(Debug, thiserror::Error)]
#[error("{}", render_located(.pos, .message, .path))]
pub struct LocatedError {
    /// Where the error is, if toml gave a span.
    pub pos: Option<Pos>,
    /// toml's message, on one line.
    pub message: String,
    /// The field the error is about, if it could be derived from the span.
    pub path: Option<FieldPath>,
}

fn render_located(pos: &Option<Pos>, message: &str, path: &Option<FieldPath>) -> String {
    let mut out = String::new();
    if let Some(p) = pos {
        out.push_str(&format!("{p}: "));
    }
    out.push_str(message);
    if let Some(p) = path.as_ref().filter(|p| !p.is_empty()) {
        out.push_str(&format!(" ({p})"));
    }
    out
}

/// Collapses all whitespace runs (newlines included) to single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Deserialize `T` from TOML text; on failure return a [`LocatedError`] with the position of the start of
/// toml's error span, its message on one line (never toml's multi-line snippet rendering), and the field path
/// from [`path_at`] at that span's start. Spans toml 1.x gives: unknown field → the key; wrong type or value →
/// the value; missing field → the table's header (`[t]`, `[[a.b]]`), its `{ ... }` inline table, or its first
/// dotted key, and the empty span `0..0` for the root table (reported as 1:1 with the root path, which
/// `Display` leaves out); syntax error → the offending text, often an empty span where something was expected.
pub fn from_str_located<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, LocatedError> {
    toml::from_str(text).map_err(|e| {
        let span = e.span();
        let path = span.as_ref().and_then(|s| {
            // Only the root table has the empty span 0..0 in a document that parses.
            if s.is_empty() && s.start == 0 && DeTable::parse(text).is_ok() {
                Some(FieldPath::default())
            } else {
                path_at(text, s.start)
            }
        });
        LocatedError {
            pos: span.map(|s| pos_of(text, s.start)),
            message: one_line(e.message()),
            path,
        }
    })
}

fn contains(span: &Range<usize>, byte: usize) -> bool {
    (span.start <= byte && byte < span.end) || (span.is_empty() && span.start == byte)
}

struct Best {
    byte: usize,
    found: Option<Vec<Seg>>,
}

impl Best {
    fn offer(&mut self, span: &Range<usize>, path: &[Seg]) {
        if contains(span, self.byte) && self.found.as_ref().is_none_or(|f| path.len() > f.len()) {
            self.found = Some(path.to_vec());
        }
    }
}

fn walk_table(table: &DeTable<'_>, path: &mut Vec<Seg>, best: &mut Best) {
    for (k, v) in table.iter() {
        path.push(Seg::Key(k.get_ref().to_string()));
        best.offer(&k.span(), path);
        walk_value(v.get_ref(), &v.span(), path, best);
        path.pop();
    }
}

fn walk_value(value: &DeValue<'_>, span: &Range<usize>, path: &mut Vec<Seg>, best: &mut Best) {
    best.offer(span, path);
    match value {
        DeValue::Table(t) => walk_table(t, path, best),
        DeValue::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                walk_value(v.get_ref(), &v.span(), path, best);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Reverse lookup: the field path of the innermost key/value whose key or value span contains `byte`.
///
/// Uses toml's own parser (`toml::de::DeTable`, the spans its errors carry) in its error-recovering mode, so it
/// also finds paths in documents with syntax errors. A header `[a.b]` or `[[a.b]]` is the span of table `a.b`
/// (or that element of array `a.b`), not its body. Returns `None` when no key or value contains `byte`.
pub fn path_at(text: &str, byte: usize) -> Option<FieldPath> {
    let (root, _errors) = DeTable::parse_recoverable(text);
    let mut best = Best { byte, found: None };
    walk_table(root.get_ref(), &mut Vec::new(), &mut best);
    best.found.map(FieldPath)
}

enum Node<'a> {
    Item(&'a Item),
    Table(&'a Table),
    Value(&'a Value),
}

impl<'a> Node<'a> {
    fn span(&self) -> Option<Range<usize>> {
        match self {
            Node::Item(i) => i.span(),
            Node::Table(t) => t.span(),
            Node::Value(v) => v.span(),
        }
    }

    fn table_like(&self) -> Option<&'a dyn TableLike> {
        match *self {
            Node::Item(i) => i.as_table_like(),
            Node::Table(t) => Some(t),
            Node::Value(Value::InlineTable(t)) => Some(t),
            Node::Value(_) => None,
        }
    }

    /// The child at `seg`, with the span of its key when it has one.
    fn child(&self, seg: &Seg) -> Option<(Node<'a>, Option<Range<usize>>)> {
        match seg {
            Seg::Key(k) => {
                let (key, item) = self.table_like()?.get_key_value(k)?;
                Some((Node::Item(item), key.span()))
            }
            Seg::Index(n) => match *self {
                Node::Item(Item::ArrayOfTables(a)) => Some((Node::Table(a.get(*n)?), None)),
                Node::Item(Item::Value(Value::Array(a))) | Node::Value(Value::Array(a)) => {
                    Some((Node::Value(a.get(*n)?), None))
                }
                _ => None,
            },
        }
    }
}

/// Find the span of the value (or, if the value is absent, of the nearest existing ancestor table/array header or key)
/// at `path` in the TOML text, returning the position to report. Works for dotted keys, inline tables, arrays of tables ([[banks]]), and nested arrays of tables ([[rails.routes]]).
///
/// What is reported for each kind of node: a value → its first char; a table with a header → `[` of its
/// header; a dotted-key table (`a.b = 1`) or a table only implied by a longer header (`a` in `[a.b]`) → its
/// key; an array of tables → its first `[[..]]` header; the root → 1:1. Returns `None` only when the text does
/// not parse.
pub fn locate(text: &str, path: &FieldPath) -> Option<Pos> {
    let doc = toml_edit::Document::parse(text).ok()?;
    let mut node = Node::Item(doc.as_item());
    let mut at = 0;
    for seg in &path.0 {
        let Some((child, key_span)) = node.child(seg) else {
            break;
        };
        if let Some(span) = child.span().or(key_span) {
            at = span.start;
        }
        node = child;
    }
    Some(pos_of(text, at))
}

/// A `--set` argument that could not be applied; each variant names the argument.
#[derive(Debug, thiserror::Error)]
pub enum OverrideError {
    /// No `=` outside quotes.
    #[error("--set `{arg}`: expected PATH=VALUE")]
    Syntax {
        /// The offending argument.
        arg: String,
    },
    /// The left-hand side is not a valid [`FieldPath`].
    #[error("--set `{arg}`: {source}")]
    BadPath {
        /// The offending argument.
        arg: String,
        /// Why the path does not parse.
        source: PathSyntaxError,
    },
    /// A table or array element on the way does not exist, or is not a table/array.
    #[error(
        "--set `{arg}`: no such field `{path}` (only a missing last key inside an existing table may be added)"
    )]
    UnknownPath {
        /// The offending argument.
        arg: String,
        /// The path that was asked for.
        path: FieldPath,
    },
    /// The path names a table or array of tables, which a value may not replace.
    #[error("--set `{arg}`: `{path}` is a table; set one of its fields instead")]
    NotAValue {
        /// The offending argument.
        arg: String,
        /// The path that was asked for.
        path: FieldPath,
    },
    /// The document itself does not parse.
    #[error("{0}")]
    Document(LocatedError),
}

/// Splits `path=value` at its first `=` outside a quoted key (the `--set` and `--grid` syntax).
pub fn split_override(arg: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in arg.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '=' if !quoted => return Some((&arg[..i], &arg[i + 1..])),
            _ => {}
        }
    }
    None
}

/// The right-hand side as a TOML value, or else as a string (surrounding whitespace trimmed either way).
fn override_value(rhs: &str) -> Value {
    let rhs = rhs.trim();
    rhs.parse::<Value>().unwrap_or_else(|_| Value::from(rhs))
}

enum NodeMut<'a> {
    Item(&'a mut Item),
    Table(&'a mut Table),
    Value(&'a mut Value),
}

impl<'a> NodeMut<'a> {
    fn table_like(self) -> Option<&'a mut dyn TableLike> {
        match self {
            NodeMut::Item(i) => i.as_table_like_mut(),
            NodeMut::Table(t) => Some(t),
            NodeMut::Value(Value::InlineTable(t)) => Some(t),
            NodeMut::Value(_) => None,
        }
    }

    fn child(self, seg: &Seg) -> Option<NodeMut<'a>> {
        match seg {
            Seg::Key(k) => self.table_like()?.get_mut(k).map(NodeMut::Item),
            Seg::Index(n) => match self {
                NodeMut::Item(Item::ArrayOfTables(a)) => a.get_mut(*n).map(NodeMut::Table),
                NodeMut::Item(Item::Value(Value::Array(a))) | NodeMut::Value(Value::Array(a)) => {
                    a.get_mut(*n).map(NodeMut::Value)
                }
                _ => None,
            },
        }
    }
}

/// Puts `new` in place of `old`, keeping `old`'s surrounding whitespace and comments.
fn replace_value(old: &mut Value, mut new: Value) {
    *new.decor_mut() = old.decor().clone();
    *old = new;
}

fn apply_one(
    doc: &mut toml_edit::DocumentMut,
    arg: &str,
    sections: &[&str],
) -> Result<(), OverrideError> {
    let (lhs, rhs) =
        split_override(arg).ok_or_else(|| OverrideError::Syntax { arg: arg.into() })?;
    let path: FieldPath = lhs
        .trim()
        .parse()
        .map_err(|source| OverrideError::BadPath {
            arg: arg.into(),
            source,
        })?;
    let unknown = || OverrideError::UnknownPath {
        arg: arg.into(),
        path: path.clone(),
    };
    let not_value = || OverrideError::NotAValue {
        arg: arg.into(),
        path: path.clone(),
    };
    let (last, parents) = path.0.split_last().ok_or_else(unknown)?;
    // `section.key=value` for an optional section the document leaves out: the section is created (empty).
    if let [Seg::Key(section)] = parents
        && sections.contains(&section.as_str())
        && !doc.as_table().contains_key(section)
    {
        doc.as_table_mut()
            .insert(section, Item::Table(Table::new()));
    }
    let mut node = NodeMut::Item(doc.as_item_mut());
    for seg in parents {
        node = node.child(seg).ok_or_else(unknown)?;
    }
    let value = override_value(rhs);
    match last {
        Seg::Key(k) => {
            let table = node.table_like().ok_or_else(unknown)?;
            match table.get_mut(k) {
                Some(Item::Value(old)) => replace_value(old, value),
                Some(Item::None) | None => {
                    table.insert(k, Item::Value(value));
                }
                Some(Item::Table(_) | Item::ArrayOfTables(_)) => return Err(not_value()),
            }
        }
        Seg::Index(_) => match node.child(last).ok_or_else(unknown)? {
            NodeMut::Value(old) => replace_value(old, value),
            NodeMut::Item(Item::Value(old)) => replace_value(old, value),
            _ => return Err(not_value()),
        },
    }
    Ok(())
}

/// Apply `--set path=value` overrides to the document text and return the new text.
///
/// The argument splits at its first `=` outside a quoted key; both sides are trimmed. The value is parsed as a
/// TOML value (`seed=7`, `enabled=true`, `rate=1.5`, `hours=[1,2]`, `x="a b"`, `t={a=1}`) and otherwise taken as
/// a bare string (`duration=2d` gives `"2d"`). Every segment but the last must exist (a table, an inline table,
/// an array-of-tables element `banks[1]` or an array element); the last may be a new key in an existing table,
/// or an existing array element. A replaced value keeps its surrounding whitespace and comment, so replacing a
/// value in place never shifts lines; a new key is appended to its table (and does shift later lines). Tables
/// and arrays of tables cannot be replaced by a value. With no overrides the text is returned unchanged, unparsed.
pub fn apply_overrides(text: &str, overrides: &[String]) -> Result<String, OverrideError> {
    apply_overrides_creating(text, overrides, &[])
}

/// [`apply_overrides`], where a `section.key=value` argument whose top-level table `section` is one of `sections`
/// and missing from the document first creates that table (appended at the end, so no line before it moves):
/// optional sections such as `[liquidity]` can be set on any scenario.
pub fn apply_overrides_creating(
    text: &str,
    overrides: &[String],
    sections: &[&str],
) -> Result<String, OverrideError> {
    if overrides.is_empty() {
        return Ok(text.to_string());
    }
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        OverrideError::Document(LocatedError {
            pos: e.span().map(|s| pos_of(text, s.start)),
            message: one_line(e.message()),
            path: e.span().and_then(|s| path_at(text, s.start)),
        })
    })?;
    for arg in overrides {
        apply_one(&mut doc, arg, sections)?;
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Scenario {
        name: String,
        seed: u64,
        #[serde(default)]
        banks: Vec<Bank>,
        #[serde(default)]
        rails: Vec<Rail>,
    }

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Bank {
        id: String,
        zone: String,
        #[serde(default)]
        stp_rate: f64,
    }

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Rail {
        name: String,
        #[serde(default)]
        routes: Vec<Route>,
    }

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Route {
        from: String,
        to: String,
    }

    const GOOD: &str = r#"# a scenario
name = "demo"
seed = 42

[[banks]]
id = "a"
zone = "UTC"

[[banks]]
id = "b"
zone = "Europe/Berlin"
stp_rate = 0.9

[[rails]]
name = "swift"

[[rails.routes]]
from = "a"
to = "b"
"#;

    fn p(s: &str) -> FieldPath {
        s.parse().unwrap()
    }

    #[test]
    fn good_document_deserializes() {
        let s: Scenario = from_str_located(GOOD).unwrap();
        assert_eq!(s.banks.len(), 2);
        assert_eq!(s.rails[0].routes[0].to, "b");
    }

    #[test]
    fn malformed_inputs_are_located() {
        // (input, "LINE:COL", message fragment, path)
        let cases: &[(&str, &str, &str, Option<&str>)] = &[
            (
                "name = \"x\"\nseed = 1\nbogus = 3\n",
                "3:1",
                "unknown field `bogus`",
                Some("bogus"),
            ),
            (
                "name = \"x\"\nseed = 1\n[[banks]]\nid = \"a\"\nzone = \"UTC\"\n\n[[banks]]\nid = \"b\"\nzone = \"UTC\"\n  bogus = 1\n",
                "10:3",
                "unknown field `bogus`, expected one of `id`, `zone`, `stp_rate`",
                Some("banks[1].bogus"),
            ),
            (
                "name = \"x\"\nseed = 1\n[[rails]]\nname = \"r\"\n[[rails.routes]]\nfrom = \"a\"\nto = \"b\"\n[[rails.routes]]\nfrom = \"a\"\nto = \"b\"\nvia = \"c\"\n",
                "11:1",
                "unknown field `via`",
                Some("rails[0].routes[1].via"),
            ),
            (
                "name = \"x\"\nseed = \"forty-two\"\n",
                "2:8",
                "invalid type: string \"forty-two\", expected u64",
                Some("seed"),
            ),
            (
                "name = \"x\"\nseed = 1\n[[banks]]\nid = \"a\"\nzone = 5\n",
                "5:8",
                "invalid type: integer `5`, expected a string",
                Some("banks[0].zone"),
            ),
            (
                "name = \"x\nseed = 1\n",
                "1:10",
                "invalid basic string",
                None,
            ),
            (
                "name = \"x\"\nseed = 1\n\n[[banks]]\nid = \"a\"\nzone = \"UTC\"\n\n[[banks]]\nid = \"b\"\n",
                "8:1",
                "missing field `zone`",
                Some("banks[1]"),
            ),
            (
                "name = \"x\"\nseed = 1\n[[rails]]\nname = \"r\"\n[[rails.routes]]\nfrom = \"a\"\n",
                "5:1",
                "missing field `to`",
                Some("rails[0].routes[0]"),
            ),
            (
                "name = \"x\"\nseed = 1\nbanks = [{ id = \"a\", zone = \"z\" }, { id = \"b\" }]\n",
                "3:36",
                "missing field `zone`",
                Some("banks[1]"),
            ),
            (
                "# nothing\nname = \"x\"\n",
                "1:1",
                "missing field `seed`",
                Some(""),
            ),
        ];
        for (input, at, fragment, path) in cases {
            let e = from_str_located::<Scenario>(input).unwrap_err();
            let pos = e.pos.expect("a position");
            assert_eq!(&pos.to_string(), at, "position for {input:?}: {e}");
            assert!(
                e.message.contains(fragment),
                "message {:?} for {input:?}",
                e.message
            );
            assert!(!e.message.contains('\n'), "one line: {:?}", e.message);
            assert_eq!(
                e.path.as_ref().map(|p| p.to_string()).as_deref(),
                *path,
                "path for {input:?}"
            );
            let shown = e.to_string();
            assert!(shown.starts_with(&format!("{at}: ")), "{shown}");
            if let Some(p) = path.filter(|p| !p.is_empty()) {
                assert!(shown.ends_with(&format!(" ({p})")), "{shown}");
            }
            assert!(!shown.contains('\n'), "{shown}");
        }
    }

    #[test]
    fn located_error_display() {
        let e = LocatedError {
            pos: Some(Pos { line: 3, col: 7 }),
            message: "bad".into(),
            path: Some(p("banks[2].zone")),
        };
        assert_eq!(e.to_string(), "3:7: bad (banks[2].zone)");
        let e = LocatedError {
            pos: None,
            message: "bad".into(),
            path: None,
        };
        assert_eq!(e.to_string(), "bad");
    }

    #[test]
    fn pos_of_counts_chars_and_clamps() {
        let t = "a = 1\nb = \"é\" # x\n";
        assert_eq!(pos_of(t, 0), Pos { line: 1, col: 1 });
        assert_eq!(pos_of(t, 6), Pos { line: 2, col: 1 });
        let hash = t.find('#').unwrap();
        assert_eq!(pos_of(t, hash), Pos { line: 2, col: 9 });
        // Inside the two-byte é: back to its start.
        let e = t.find('é').unwrap();
        assert_eq!(pos_of(t, e + 1), pos_of(t, e));
        assert_eq!(pos_of(t, 10_000), Pos { line: 3, col: 1 });
        assert_eq!(pos_of("", 5), Pos { line: 1, col: 1 });
    }

    #[test]
    fn field_path_round_trips() {
        for s in [
            "banks[2].zone",
            "corridors[0].rails[1]",
            "a.b-c.d_e",
            "m[0][1]",
            "calendars.\"us.east\".zone",
            "\"\"",
            "\"q\\\"uote\\\\\"",
        ] {
            assert_eq!(p(s).to_string(), s);
        }
        assert_eq!(
            p("banks[2].zone").0,
            vec![
                Seg::Key("banks".into()),
                Seg::Index(2),
                Seg::Key("zone".into())
            ]
        );
        assert_eq!(p("\"a.b\"").0, vec![Seg::Key("a.b".into())]);
        for bad in [
            "",
            ".a",
            "a.",
            "a..b",
            "[0]",
            "a[",
            "a[x]",
            "a[]",
            "a b",
            "\"a",
            "a[99999999999999999999999]",
        ] {
            assert!(
                bad.parse::<FieldPath>().is_err(),
                "{bad:?} should not parse"
            );
        }
    }

    #[test]
    fn path_at_finds_innermost() {
        let t = "x = { a = [1, { b = 2 }] }\n[t.u]\nv.w = 3\n";
        let at = |s: &str| path_at(t, t.find(s).unwrap()).map(|p| p.to_string());
        assert_eq!(at("2").as_deref(), Some("x.a[1].b"));
        assert_eq!(at("1").as_deref(), Some("x.a[0]"));
        assert_eq!(at("[t.u]").as_deref(), Some("t.u"));
        assert_eq!(at("w").as_deref(), Some("t.u.v.w"));
        assert_eq!(at("3").as_deref(), Some("t.u.v.w"));
        assert_eq!(path_at(t, 10_000), None);
    }

    #[test]
    fn locate_finds_values_and_ancestors() {
        let t = r#"name = "demo"
limits.drain = "21d"
site = { zone = "UTC", hours = [8, 17] }

[calendars.us]
zone = "America/New_York"

[[banks]]
id = "a"

[[banks]]
id = "b"

[[rails]]
name = "swift"

[[rails.routes]]
from = "a"

[[rails.routes]]
from = "b"
"#;
        let at = |s: &str| locate(t, &p(s)).map(|p| p.to_string());
        // Dotted keys.
        assert_eq!(at("limits.drain").as_deref(), Some("2:16"));
        assert_eq!(at("limits").as_deref(), Some("2:1"));
        assert_eq!(at("limits.missing").as_deref(), Some("2:1"));
        // Inline tables and arrays inside them.
        assert_eq!(at("site.zone").as_deref(), Some("3:17"));
        assert_eq!(at("site.hours[1]").as_deref(), Some("3:36"));
        assert_eq!(at("site.hours[5]").as_deref(), Some("3:32"));
        assert_eq!(at("site.missing").as_deref(), Some("3:8"));
        // Header tables and the implicit table above them.
        assert_eq!(at("calendars.us.zone").as_deref(), Some("6:8"));
        assert_eq!(at("calendars.us.cutoff").as_deref(), Some("5:1"));
        assert_eq!(at("calendars").as_deref(), Some("5:2"));
        // Arrays of tables, nested ones too.
        assert_eq!(at("banks[1].id").as_deref(), Some("12:6"));
        assert_eq!(at("banks[1].zone").as_deref(), Some("11:1"));
        assert_eq!(at("banks[7].zone").as_deref(), Some("8:1"));
        assert_eq!(at("rails[0].routes[1].from").as_deref(), Some("21:8"));
        assert_eq!(at("rails[0].routes[1].to").as_deref(), Some("20:1"));
        // Absent at the top: the document.
        assert_eq!(at("nothing.here").as_deref(), Some("1:1"));
        assert_eq!(
            locate(t, &FieldPath::default()),
            Some(Pos { line: 1, col: 1 })
        );
        assert_eq!(locate("a = ", &p("a")), None);
    }

    fn set(text: &str, args: &[&str]) -> Result<String, OverrideError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        apply_overrides(text, &args)
    }

    #[test]
    fn scalar_replace_keeps_lines() {
        let out = set(GOOD, &["seed=7", "name = \"other name\""]).unwrap();
        let (a, b): (Vec<_>, Vec<_>) = (GOOD.lines().collect(), out.lines().collect());
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            match i {
                1 => assert_eq!(*y, "name = \"other name\""),
                2 => assert_eq!(*y, "seed = 7"),
                _ => assert_eq!(x, y, "line {}", i + 1),
            }
        }
        assert!(out.ends_with('\n'));
    }

    #[test]
    fn replace_keeps_trailing_comment_and_alignment() {
        let t = "duration = \"28d\"      # four weeks\nseed = 42\n";
        let out = set(t, &["duration=2d"]).unwrap();
        assert_eq!(out, "duration = \"2d\"      # four weeks\nseed = 42\n");
        let v: toml::Table = toml::from_str(&out).unwrap();
        assert_eq!(v["duration"].as_str(), Some("2d"));
    }

    #[test]
    fn value_kinds() {
        let t = "a = 0\n";
        let out = set(
            t,
            &[
                "a=true",
                "b=1.5",
                "c=[1,2]",
                "d=\"a b\"",
                "e=2d",
                "f=",
                "g={x=1}",
            ],
        )
        .unwrap();
        let v: toml::Table = toml::from_str(&out).unwrap();
        assert_eq!(v["a"].as_bool(), Some(true));
        assert_eq!(v["b"].as_float(), Some(1.5));
        assert_eq!(v["c"].as_array().map(|a| a.len()), Some(2));
        assert_eq!(v["d"].as_str(), Some("a b"));
        assert_eq!(v["e"].as_str(), Some("2d"));
        assert_eq!(v["f"].as_str(), Some(""));
        assert_eq!(v["g"]["x"].as_integer(), Some(1));
    }

    #[test]
    fn array_of_tables_index_and_nested() {
        let out = set(
            GOOD,
            &[
                "banks[1].stp_rate=0.8",
                "banks[0].stp_rate=0.5",
                "rails[0].routes[0].to=c",
            ],
        )
        .unwrap();
        let s: Scenario = toml::from_str(&out).unwrap();
        assert_eq!(s.banks[1].stp_rate, 0.8);
        assert_eq!(s.banks[0].stp_rate, 0.5);
        assert_eq!(s.rails[0].routes[0].to, "c");
        // The replaced value stays on its line; the new key is added inside banks[0] only.
        assert_eq!(out.lines().nth(12), Some("stp_rate = 0.8"));
        assert_eq!(out.lines().count(), GOOD.lines().count() + 1);
    }

    #[test]
    fn inline_and_array_elements() {
        let t = "site = { zone = \"UTC\", hours = [8, 17] }\n";
        let out = set(t, &["site.hours[1]=18", "site.zone=CET"]).unwrap();
        assert_eq!(out, "site = { zone = \"CET\", hours = [8, 18] }\n");
    }

    #[test]
    fn override_errors_name_the_argument() {
        let cases: &[(&str, &str)] = &[
            ("seed", "expected PATH=VALUE"),
            ("nope.seed=1", "no such field `nope.seed`"),
            ("banks[5].id=x", "no such field `banks[5].id`"),
            ("banks.id=x", "no such field `banks.id`"),
            ("seed.x=1", "no such field `seed.x`"),
            ("banks=1", "`banks` is a table"),
            ("banks[0]=1", "`banks[0]` is a table"),
            ("ba nks=1", "invalid field path"),
            ("=1", "invalid field path"),
        ];
        for (arg, fragment) in cases {
            let e = set(GOOD, &[arg]).unwrap_err();
            let shown = e.to_string();
            assert!(shown.starts_with(&format!("--set `{arg}`")), "{shown}");
            assert!(shown.contains(fragment), "{shown}");
        }
        assert!(matches!(
            set(GOOD, &["seed"]),
            Err(OverrideError::Syntax { .. })
        ));
        assert!(matches!(
            set(GOOD, &["x.y=1"]),
            Err(OverrideError::UnknownPath { .. })
        ));
        let e = set("a = \"x\n", &["a=1"]).unwrap_err();
        assert!(matches!(e, OverrideError::Document(_)));
        assert!(e.to_string().starts_with("1:7: "), "{e}");
    }

    #[test]
    fn quoted_keys_in_overrides() {
        let t = "[\"a=b\"]\n\"c.d\" = 1\n";
        let out = set(t, &["\"a=b\".\"c.d\"=2"]).unwrap();
        assert_eq!(out, "[\"a=b\"]\n\"c.d\" = 2\n");
    }

    #[test]
    fn no_overrides_returns_text_unchanged() {
        assert_eq!(
            set("not = toml = at all", &[]).unwrap(),
            "not = toml = at all"
        );
    }

    mod never_panics {
        use super::*;
        use proptest::prelude::*;

        fn tomlish() -> impl Strategy<Value = String> {
            prop::collection::vec(
                prop::sample::select(vec![
                    "[",
                    "]",
                    "[[",
                    "]]",
                    "{",
                    "}",
                    "=",
                    ".",
                    ",",
                    "\"",
                    "'",
                    "\n",
                    " ",
                    "a",
                    "b",
                    "banks",
                    "1",
                    "-",
                    "#",
                    "\\",
                    "é",
                    "\r",
                    "\t",
                    "\"\"\"",
                    "true",
                    "1.5",
                    "1979-05-27",
                ]),
                0..40,
            )
            .prop_map(|v| v.concat())
        }

        fn check(text: &str, path: &str, byte: usize) {
            let _ = from_str_located::<Scenario>(text);
            let _ = from_str_located::<toml::Table>(text);
            let _ = path_at(text, byte);
            if let Ok(fp) = path.parse::<FieldPath>() {
                let _ = locate(text, &fp);
                assert_eq!(fp.to_string().parse::<FieldPath>().ok(), Some(fp));
            }
            let _ = apply_overrides(text, &[format!("{path}={text}"), path.to_string()]);
            let _ = pos_of(text, byte);
        }

        proptest! {
            #[test]
            fn arbitrary_strings_never_panic(text in ".{0,60}", path in ".{0,12}", byte in 0usize..80) {
                check(&text, &path, byte);
            }

            #[test]
            fn mangled_scenarios_never_panic(at in 0usize..GOOD.len(), len in 0usize..8, insert in ".{0,3}", path in "[a-z\\[\\]0-9.]{0,10}") {
                let mut text = GOOD.as_bytes().to_vec();
                let end = (at + len).min(text.len());
                text.splice(at..end, insert.bytes());
                let text = String::from_utf8_lossy(&text);
                check(&text, &path, at);
            }

            #[test]
            fn tomlish_strings_never_panic(text in tomlish(), path in "[a-z\\[\\]0-9.\"]{0,10}", byte in 0usize..80) {
                check(&text, &path, byte);
            }
        }
    }
}
