//! When a sync runs on its own: `manual`, `every 15m` / `6h` / `1d` (slots
//! anchored at `schedule_start`, else at the Unix epoch, so `every 1d` is
//! midnight UTC), or a cron expression with seconds, evaluated in UTC.

use chrono::{DateTime, Duration, Utc};
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    Manual,
    Every {
        period: Duration,
        anchor: DateTime<Utc>,
        text: String,
    },
    Cron {
        expr: Box<cron::Schedule>,
        text: String,
    },
}

impl Schedule {
    /// Parses `[sync] schedule` (and `schedule_start`); the error says what
    /// to write instead.
    pub fn parse(text: &str, start: Option<&str>) -> Result<Schedule, String> {
        let t = text.trim();
        let anchor = match start {
            None => DateTime::<Utc>::UNIX_EPOCH,
            Some(s) => DateTime::parse_from_rfc3339(s.trim())
                .map(|d| d.with_timezone(&Utc))
                .map_err(|e| {
                    format!("schedule_start {s:?} is not an RFC 3339 time ({e}); write e.g. \"2026-01-01T06:00:00Z\"")
                })?,
        };
        if t.eq_ignore_ascii_case("manual") || t.is_empty() {
            if start.is_some() {
                return Err(
                    "schedule_start needs an interval schedule such as \"every 6h\"".into(),
                );
            }
            return Ok(Schedule::Manual);
        }
        if let Some(rest) = t.strip_prefix("every ") {
            let period = parse_period(rest.trim()).ok_or_else(|| {
                format!("{t:?}: write the interval as a number and a unit, e.g. \"every 15m\", \"every 6h\" or \"every 1d\" (units s, m, h, d)")
            })?;
            return Ok(Schedule::Every {
                period,
                anchor,
                text: t.to_string(),
            });
        }
        if start.is_some() {
            return Err("schedule_start only applies to interval schedules (\"every ...\"); a cron expression sets its own times".into());
        }
        let fields = t.split_whitespace().count();
        if fields == 5 {
            return Err(format!(
                "{t:?} has 5 fields; Dropsync's cron expressions start with seconds: write \"0 {t}\""
            ));
        }
        let expr = cron::Schedule::from_str(t).map_err(|e| {
            format!("{t:?} is not a schedule: {e}. Write \"manual\", \"every 15m\", or a cron expression with seconds such as \"0 0 6 * * *\" (06:00 UTC daily)")
        })?;
        if expr.after(&DateTime::<Utc>::UNIX_EPOCH).next().is_none() {
            return Err(format!("{t:?} never fires"));
        }
        Ok(Schedule::Cron {
            expr: Box::new(expr),
            text: t.to_string(),
        })
    }

    /// The first slot strictly after `t`; `None` for manual syncs.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Manual => None,
            Schedule::Every { period, anchor, .. } => {
                let period_ms = period.num_milliseconds();
                let since = (t - *anchor).num_milliseconds();
                let slots = since.div_euclid(period_ms) + 1;
                Some(*anchor + Duration::milliseconds(slots * period_ms))
            }
            Schedule::Cron { expr, .. } => expr.after(&t).next(),
        }
    }

    /// The next `n` slots after `t`.
    pub fn upcoming(&self, t: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(n);
        let mut at = t;
        while out.len() < n {
            match self.next_after(at) {
                Some(next) => {
                    out.push(next);
                    at = next;
                }
                None => break,
            }
        }
        out
    }

    pub fn is_manual(&self) -> bool {
        matches!(self, Schedule::Manual)
    }
}

impl std::fmt::Display for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Schedule::Manual => f.write_str("manual"),
            Schedule::Every { text, .. } | Schedule::Cron { text, .. } => f.write_str(text),
        }
    }
}

/// `15m`, `6h`, `1d`, `30s`: a positive length of at most a year.
pub fn parse_period(s: &str) -> Option<Duration> {
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().ok().filter(|&n| n > 0)?;
    let secs = match unit.trim() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        _ => return None,
    };
    n.checked_mul(secs)
        .filter(|&s| s <= 366 * 86_400)
        .map(Duration::seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn intervals_are_anchored() {
        let s = Schedule::parse("every 15m", None).unwrap();
        assert_eq!(
            s.next_after(at("2026-03-01T10:07:00Z")),
            Some(at("2026-03-01T10:15:00Z"))
        );
        // A slot time itself is not "after" it.
        assert_eq!(
            s.next_after(at("2026-03-01T10:15:00Z")),
            Some(at("2026-03-01T10:30:00Z"))
        );
        let d = Schedule::parse("every 1d", Some("2026-01-01T06:30:00Z")).unwrap();
        assert_eq!(
            d.next_after(at("2026-03-01T07:00:00Z")),
            Some(at("2026-03-02T06:30:00Z"))
        );
        // Before the anchor, slots count back from it.
        assert_eq!(
            d.next_after(at("2025-12-30T00:00:00Z")),
            Some(at("2025-12-30T06:30:00Z"))
        );
        let h = Schedule::parse("every 6h", None).unwrap();
        assert_eq!(
            h.upcoming(at("2026-03-01T05:00:00Z"), 3),
            vec![
                at("2026-03-01T06:00:00Z"),
                at("2026-03-01T12:00:00Z"),
                at("2026-03-01T18:00:00Z")
            ]
        );
    }

    #[test]
    fn cron_has_seconds_and_is_utc() {
        let s = Schedule::parse("0 0 6 * * *", None).unwrap();
        assert_eq!(
            s.next_after(at("2026-03-01T06:00:00Z")),
            Some(at("2026-03-02T06:00:00Z"))
        );
        assert_eq!(
            s.next_after(at("2026-03-01T05:59:59Z")),
            Some(at("2026-03-01T06:00:00Z"))
        );
    }

    #[test]
    fn manual_never_fires() {
        let s = Schedule::parse("manual", None).unwrap();
        assert!(s.is_manual());
        assert_eq!(s.next_after(Utc::now()), None);
        assert!(s.upcoming(Utc::now(), 3).is_empty());
    }

    #[test]
    fn bad_schedules_say_what_to_write() {
        for (text, start, hint) in [
            ("every", None, "every 15m"),
            ("every 15", None, "units"),
            ("every 0m", None, "units"),
            ("every 15 parsecs", None, "units"),
            ("0 6 * * *", None, "\"0 0 6 * * *\""),
            ("at noon", None, "cron expression with seconds"),
            ("61 * * * * *", None, "not a schedule"),
            ("every 1h", Some("tomorrow"), "RFC 3339"),
            ("0 0 6 * * *", Some("2026-01-01T00:00:00Z"), "interval"),
            ("manual", Some("2026-01-01T00:00:00Z"), "interval"),
        ] {
            let e = Schedule::parse(text, start).unwrap_err();
            assert!(e.contains(hint), "{text}: {e}");
        }
    }
}
