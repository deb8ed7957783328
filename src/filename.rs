//! Filename templates: `{YYYY}-{MM}-{DD}/{model.name}.csv`, resolved once per run in UTC.

use crate::error::{Error, Result};
use chrono::{DateTime, Datelike, Duration, Timelike, Utc};

/// The variables a template may use, as written between braces.
pub const VARIABLES: &[&str] = &[
    "YYYY",
    "YY",
    "MM",
    "DD",
    "HH",
    "mm",
    "ss",
    "ms",
    "X",
    "x",
    "model.id",
    "model.name",
    "sync.id",
    "sync.run.id",
    "part",
];

/// What `{part}` resolves to until each part is named (see [`part_name`]).
pub const PART_MARKER: &str = "{part}";

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Var(&'static str),
}

/// A parsed template. Parsing checks the syntax; [`FilenameTemplate::validate`]
/// also checks that resolved names are ones Dropbox and file systems accept.
#[derive(Debug, Clone, PartialEq)]
pub struct FilenameTemplate {
    source: String,
    parts: Vec<Part>,
}

/// Everything a template can refer to, fixed once at the start of a run.
#[derive(Debug, Clone)]
pub struct NameContext<'a> {
    pub started_at: DateTime<Utc>,
    pub offset_seconds: i64,
    pub model_id: &'a str,
    pub model_name: &'a str,
    pub sync_id: &'a str,
    pub run_id: &'a str,
}

impl FilenameTemplate {
    pub fn parse(template: &str) -> Result<Self> {
        let err = |message: String| Error::Filename {
            template: template.to_string(),
            message,
        };
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = template.char_indices().peekable();
        while let Some((pos, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|(_, c)| *c) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|(_, c)| *c) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let rest = &template[pos + 1..];
                    // A variable ends at the first `}`; another `{` before
                    // it means this brace was left open (`{YYYY-{MM}`).
                    let end = match rest.find(['{', '}']) {
                        Some(end) if rest[end..].starts_with('}') => end,
                        _ => {
                            return Err(err(format!(
                                "unclosed `{{` at character {}; close it with `}}` or write `{{{{` for a literal brace",
                                template[..pos].chars().count() + 1
                            )))
                        }
                    };
                    let name = rest[..end].trim();
                    let Some(var) = VARIABLES.iter().find(|v| **v == name) else {
                        return Err(err(format!(
                            "unknown variable {{{name}}}; use one of {}",
                            VARIABLES
                                .iter()
                                .map(|v| format!("{{{v}}}"))
                                .collect::<Vec<_>>()
                                .join(" ")
                        )));
                    };
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Var(var));
                    for _ in 0..end + 1 {
                        chars.next();
                    }
                }
                other => literal.push(other),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        if parts.is_empty() {
            return Err(err("the filename is empty".into()));
        }
        Ok(FilenameTemplate {
            source: template.to_string(),
            parts,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the template uses `{var}` (written without braces).
    pub fn uses(&self, var: &str) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Var(v) if *v == var))
    }

    /// Resolves the template and checks the result is a usable relative path.
    pub fn resolve(&self, ctx: &NameContext<'_>) -> Result<String> {
        let at = ctx.started_at + Duration::seconds(ctx.offset_seconds);
        // chrono counts a leap second as 1000-1999 ms; name it as the last
        // millisecond of :59 so {ms} keeps three digits and {x} = {X}*1000+{ms}.
        let ms = at.timestamp_subsec_millis().min(999);
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Var(v) => out.push_str(&match *v {
                    "YYYY" => format!("{:04}", at.year()),
                    "YY" => format!("{:02}", at.year().rem_euclid(100)),
                    "MM" => format!("{:02}", at.month()),
                    "DD" => format!("{:02}", at.day()),
                    "HH" => format!("{:02}", at.hour()),
                    "mm" => format!("{:02}", at.minute()),
                    "ss" => format!("{:02}", at.second()),
                    "ms" => format!("{ms:03}"),
                    "X" => at.timestamp().to_string(),
                    "x" => (at.timestamp() * 1000 + i64::from(ms)).to_string(),
                    "model.id" => ctx.model_id.to_string(),
                    "model.name" => ctx.model_name.to_string(),
                    "sync.id" => ctx.sync_id.to_string(),
                    "sync.run.id" => ctx.run_id.to_string(),
                    // A run resolves its names once; each part gets its
                    // number when it is cut (`part_name`).
                    "part" => PART_MARKER.to_string(),
                    other => return Err(Error::Internal(format!("unhandled variable {other}"))),
                }),
            }
        }
        check_relative_path(&out).map_err(|message| Error::Filename {
            template: self.source.clone(),
            message: format!("it resolves to {out:?}, which {message}"),
        })?;
        Ok(out)
    }

    /// Setup-time check: resolves with sample values so bad names fail before any run.
    pub fn validate(&self, model_id: &str, model_name: &str, sync_id: &str) -> Result<String> {
        let ctx = NameContext {
            started_at: Utc::now(),
            offset_seconds: 0,
            model_id,
            model_name,
            sync_id,
            run_id: "1",
        };
        self.resolve(&ctx)
    }
}

/// Dropbox rejects some names (and so do common file systems); catch them at setup.
pub fn check_relative_path(path: &str) -> std::result::Result<(), String> {
    if path.starts_with('/') {
        return Err("starts with '/'; the filename is relative to the destination folder, so remove the leading '/'".into());
    }
    for component in path.split('/') {
        if component.is_empty() {
            return Err("has an empty folder name ('//' or a trailing '/')".into());
        }
        if component == "." || component == ".." {
            return Err(format!(
                "has a {component:?} component; name folders below the destination folder explicitly"
            ));
        }
        if component.len() > 255 {
            return Err(format!(
                "has a name of {} bytes; Dropbox allows at most 255",
                component.len()
            ));
        }
        if let Some(c) = component
            .chars()
            .find(|c| c.is_control() || matches!(c, '\\' | '\u{7f}'))
        {
            return Err(format!(
                "contains the character {c:?}, which Dropbox rejects; remove it"
            ));
        }
        if component.ends_with(' ') || component.ends_with('.') {
            return Err(format!(
                "has the name {component:?} ending in a space or dot, which Dropbox rejects"
            ));
        }
    }
    Ok(())
}

/// `upload/2024-01-19-result.csv` + `added` -> `upload/2024-01-19-result_added.csv`.
/// The name of part `n` (from 1) of a file: `{part}` replaced, or `_n`
/// put before the extension (`.csv.gz` counts as one) when the template
/// has no `{part}`.
pub fn part_name(resolved: &str, n: u32) -> String {
    if resolved.contains(PART_MARKER) {
        resolved.replace(PART_MARKER, &n.to_string())
    } else {
        with_suffix(resolved, &n.to_string())
    }
}

/// `path` with `.gz` appended unless it already ends so.
pub fn gz_name(path: &str) -> String {
    if path.to_ascii_lowercase().ends_with(".gz") {
        path.to_string()
    } else {
        format!("{path}.gz")
    }
}

/// `path` with `_suffix` put before its extension; a compressed file's two
/// extensions count as one (`result.csv.gz` -> `result_added.csv.gz`).
pub fn with_suffix(path: &str, suffix: &str) -> String {
    let lower = path.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix(".gz") {
        let name_start = stem.rfind('/').map(|i| i + 1).unwrap_or(0);
        if stem[name_start..].rfind('.').is_some_and(|d| d > 0) {
            let inner = with_suffix(&path[..stem.len()], suffix);
            return format!("{inner}{}", &path[stem.len()..]);
        }
    }
    with_suffix_one(path, suffix)
}

fn with_suffix_one(path: &str, suffix: &str) -> String {
    let name_start = path.rfind('/').map(|i| i + 1).unwrap_or(0);
    match path[name_start..].rfind('.') {
        Some(dot) if dot > 0 => {
            let dot = name_start + dot;
            format!("{}_{}{}", &path[..dot], suffix, &path[dot..])
        }
        _ => format!("{path}_{suffix}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ctx(at: DateTime<Utc>, offset: i64) -> NameContext<'static> {
        NameContext {
            started_at: at,
            offset_seconds: offset,
            model_id: "m1",
            model_name: "customers",
            sync_id: "s7",
            run_id: "42",
        }
    }

    #[test]
    fn resolves_every_variable() {
        let at = Utc.with_ymd_and_hms(2024, 1, 19, 8, 5, 9).unwrap() + Duration::milliseconds(7);
        let t = FilenameTemplate::parse(
            "{YYYY}{YY}{MM}{DD}{HH}{mm}{ss}{ms}-{X}-{x}-{model.id}-{model.name}-{sync.id}-{sync.run.id}.csv",
        )
        .unwrap();
        assert_eq!(
            t.resolve(&ctx(at, 0)).unwrap(),
            "2024240119080509007-1705651509-1705651509007-m1-customers-s7-42.csv"
        );
    }

    #[test]
    fn offset_crosses_day_and_year() {
        let at = Utc.with_ymd_and_hms(2025, 1, 1, 0, 30, 0).unwrap();
        let t = FilenameTemplate::parse("{YYYY}-{MM}-{DD}T{HH}.csv").unwrap();
        assert_eq!(t.resolve(&ctx(at, -3600)).unwrap(), "2024-12-31T23.csv");
        assert_eq!(t.resolve(&ctx(at, 86400)).unwrap(), "2025-01-02T00.csv");
    }

    #[test]
    fn errors_name_the_problem() {
        let e = FilenameTemplate::parse("{YYYY}-{month}.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown variable {month}"), "{e}");
        let e = FilenameTemplate::parse("{YYYY.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unclosed `{` at character 1"), "{e}");
        let t = FilenameTemplate::parse("a\\b.csv").unwrap();
        assert!(t.validate("1", "m", "s").is_err());
        let t = FilenameTemplate::parse("../x.csv").unwrap();
        assert!(t.validate("1", "m", "s").is_err());
        assert_eq!(
            FilenameTemplate::parse("{{x}}.csv")
                .unwrap()
                .validate("1", "m", "s")
                .unwrap(),
            "{x}.csv"
        );
    }

    #[test]
    fn a_brace_left_open_before_another_variable_is_unclosed() {
        // `rest.find('}')` used to reach the `}` of {MM}: "unknown variable {YYYY-{MM}".
        let e = FilenameTemplate::parse("{YYYY-{MM}.csv")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "unclosed `{` at character 1; close it with `}` or write `{{` for a literal brace"
            ),
            "{e}"
        );
        assert!(!e.contains("unknown variable"), "{e}");
        // Counted in characters, not bytes, and after earlier variables.
        let e = FilenameTemplate::parse("é/{DD}-{HH.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unclosed `{` at character 8"), "{e}");
        // A literal `{{` before a variable is still fine.
        assert_eq!(
            FilenameTemplate::parse("{{{DD}}}.csv")
                .unwrap()
                .resolve(&ctx(
                    chrono::Utc.with_ymd_and_hms(2024, 1, 19, 0, 0, 0).unwrap(),
                    0
                ))
                .unwrap(),
            "{19}.csv"
        );
    }

    #[test]
    fn diff_suffixes_go_before_the_extension() {
        assert_eq!(
            with_suffix("upload/2024-01-19-result.csv", "added"),
            "upload/2024-01-19-result_added.csv"
        );
        assert_eq!(with_suffix("a.b/result", "removed"), "a.b/result_removed");
        assert_eq!(with_suffix(".hidden", "changed"), ".hidden_changed");
    }
}
