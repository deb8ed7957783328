//! PostgreSQL's binary wire format, decoded into Dropsync's values.
//!
//! Rows arrive in binary (the extended protocol asks for it), so numbers need
//! no parsing and timestamps no time-zone games: we get microseconds since
//! 2000-01-01 and print ISO 8601 ourselves. Each column gets a [`Decoder`]
//! when the query is prepared, so an unsupported type fails before any row
//! is read, naming the column and the cast that fixes it.

use crate::value::ValueRef;
use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, TimeDelta, Timelike};
use postgres::types::{Kind, Type};
use std::fmt::Write as _;

/// How one column's bytes become a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoder {
    Bool,
    Int2,
    Int4,
    Int8,
    Oid,
    Float4,
    Float8,
    Numeric,
    /// UTF-8 text as is: text, varchar, char(n), name, enums, citext, xml.
    Text,
    /// PostgreSQL's one-byte `"char"`.
    Char,
    Bytea,
    Date,
    Time,
    TimeTz,
    Timestamp,
    TimestampTz,
    Interval,
    Uuid,
    Json,
    Jsonb,
    Inet,
    Array(Box<Decoder>),
}

impl Decoder {
    /// The decoder for a column type, or `None` when Dropsync cannot read it.
    pub fn for_type(ty: &Type) -> Option<Decoder> {
        match ty.kind() {
            Kind::Enum(_) => return Some(Decoder::Text),
            Kind::Domain(base) => return Decoder::for_type(base),
            Kind::Array(elem) => {
                return Decoder::for_type(elem).map(|d| Decoder::Array(Box::new(d)))
            }
            _ => {}
        }
        Some(match *ty {
            Type::BOOL => Decoder::Bool,
            Type::INT2 => Decoder::Int2,
            Type::INT4 => Decoder::Int4,
            Type::INT8 => Decoder::Int8,
            Type::OID | Type::XID | Type::CID | Type::REGPROC | Type::REGCLASS | Type::REGTYPE => {
                Decoder::Oid
            }
            Type::FLOAT4 => Decoder::Float4,
            Type::FLOAT8 => Decoder::Float8,
            Type::NUMERIC => Decoder::Numeric,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::XML => {
                Decoder::Text
            }
            Type::CHAR => Decoder::Char,
            Type::BYTEA => Decoder::Bytea,
            Type::DATE => Decoder::Date,
            Type::TIME => Decoder::Time,
            Type::TIMETZ => Decoder::TimeTz,
            Type::TIMESTAMP => Decoder::Timestamp,
            Type::TIMESTAMPTZ => Decoder::TimestampTz,
            Type::INTERVAL => Decoder::Interval,
            Type::UUID => Decoder::Uuid,
            Type::JSON => Decoder::Json,
            Type::JSONB => Decoder::Jsonb,
            Type::INET | Type::CIDR => Decoder::Inet,
            // Extension types whose binary form is their text.
            _ if ty.name() == "citext" => Decoder::Text,
            _ => return None,
        })
    }

    /// Decodes one non-NULL value. Text that has to be built (dates,
    /// numerics, arrays) goes into `buf`, which the value then borrows.
    pub fn decode<'a>(&self, raw: &'a [u8], buf: &'a mut String) -> Result<ValueRef<'a>, String> {
        buf.clear();
        Ok(match self {
            Decoder::Bool => ValueRef::Bool(raw.first().copied().unwrap_or(0) != 0),
            Decoder::Int2 => ValueRef::Int(i16::from_be_bytes(fixed(raw)?) as i64),
            Decoder::Int4 => ValueRef::Int(i32::from_be_bytes(fixed(raw)?) as i64),
            Decoder::Int8 => ValueRef::Int(i64::from_be_bytes(fixed(raw)?)),
            Decoder::Oid => ValueRef::Int(u32::from_be_bytes(fixed(raw)?) as i64),
            // Through its shortest decimal form, so a real 0.1 stays 0.1
            // instead of becoming 0.10000000149011612.
            Decoder::Float4 => {
                let f = f32::from_be_bytes(fixed(raw)?);
                ValueRef::Float(if f.is_finite() {
                    f.to_string().parse().unwrap_or(f as f64)
                } else {
                    f as f64
                })
            }
            Decoder::Float8 => ValueRef::Float(f64::from_be_bytes(fixed(raw)?)),
            Decoder::Numeric => match numeric(raw, buf)? {
                Some(special) => ValueRef::Float(special),
                None => ValueRef::Decimal(buf),
            },
            Decoder::Text => ValueRef::Text(text(raw, buf)),
            Decoder::Char => {
                buf.push(raw.first().copied().unwrap_or(0) as char);
                ValueRef::Text(buf)
            }
            Decoder::Bytea => ValueRef::Bytes(raw),
            Decoder::Date => {
                date(i32::from_be_bytes(fixed(raw)?), buf);
                ValueRef::Text(buf)
            }
            Decoder::Time => {
                time_of_day(i64::from_be_bytes(fixed(raw)?), buf);
                ValueRef::Text(buf)
            }
            Decoder::TimeTz => {
                let b: [u8; 12] = fixed(raw)?;
                let micros = i64::from_be_bytes(b[..8].try_into().unwrap_or_default());
                // Stored as seconds *west* of UTC.
                let west = i32::from_be_bytes(b[8..].try_into().unwrap_or_default());
                time_of_day(micros, buf);
                offset(-west, buf);
                ValueRef::Text(buf)
            }
            Decoder::Timestamp => {
                timestamp(i64::from_be_bytes(fixed(raw)?), false, buf);
                ValueRef::Text(buf)
            }
            Decoder::TimestampTz => {
                timestamp(i64::from_be_bytes(fixed(raw)?), true, buf);
                ValueRef::Text(buf)
            }
            Decoder::Interval => {
                let b: [u8; 16] = fixed(raw)?;
                let micros = i64::from_be_bytes(b[..8].try_into().unwrap_or_default());
                let days = i32::from_be_bytes(b[8..12].try_into().unwrap_or_default());
                let months = i32::from_be_bytes(b[12..].try_into().unwrap_or_default());
                interval(months, days, micros, buf);
                ValueRef::Text(buf)
            }
            Decoder::Uuid => {
                let u = uuid::Uuid::from_bytes(fixed(raw)?);
                let _ = write!(buf, "{}", u.hyphenated());
                ValueRef::Text(buf)
            }
            Decoder::Json => ValueRef::Json(text(raw, buf)),
            // jsonb's binary form is a version byte, then the document's text.
            Decoder::Jsonb => match raw.split_first() {
                Some((1, doc)) => ValueRef::Json(text(doc, buf)),
                _ => return Err("unknown jsonb format version".into()),
            },
            Decoder::Inet => {
                inet(raw, buf)?;
                ValueRef::Text(buf)
            }
            Decoder::Array(elem) => {
                let mut out = Vec::with_capacity(raw.len() + 2);
                array(elem, raw, &mut out)?;
                buf.push_str(&String::from_utf8_lossy(&out));
                ValueRef::Json(buf)
            }
        })
    }
}

fn fixed<const N: usize>(raw: &[u8]) -> Result<[u8; N], String> {
    raw.try_into()
        .map_err(|_| format!("expected {N} bytes, the server sent {}", raw.len()))
}

/// Borrows valid UTF-8 as is; repairs anything else into `buf`.
fn text<'a>(raw: &'a [u8], buf: &'a mut String) -> &'a str {
    match std::str::from_utf8(raw) {
        Ok(s) => s,
        Err(_) => {
            buf.push_str(&String::from_utf8_lossy(raw));
            buf
        }
    }
}

fn epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

fn date(days: i32, out: &mut String) {
    match days {
        i32::MAX => out.push_str("infinity"),
        i32::MIN => out.push_str("-infinity"),
        d => {
            let e = epoch().date();
            let date = if d >= 0 {
                e.checked_add_days(Days::new(d as u64))
            } else {
                e.checked_sub_days(Days::new(d.unsigned_abs() as u64))
            };
            match date {
                Some(date) => ymd(date, out),
                None => out.push_str("out of range"),
            }
        }
    }
}

/// `2024-02-29`. Written by hand: chrono's `format` parses its pattern on
/// every call, which shows in a million-row export.
fn ymd(date: NaiveDate, out: &mut String) {
    if (0..=9999).contains(&date.year()) {
        let _ = write!(
            out,
            "{:04}-{:02}-{:02}",
            date.year(),
            date.month(),
            date.day()
        );
    } else {
        let _ = write!(out, "{}", date.format("%Y-%m-%d"));
    }
}

/// `.5`, `.123456`: the fraction of a second, without trailing zeros.
fn fraction(micros: u32, out: &mut String) {
    if micros > 0 {
        let s = format!("{micros:06}");
        out.push('.');
        out.push_str(s.trim_end_matches('0'));
    }
}

fn time_of_day(micros: i64, out: &mut String) {
    let secs = micros.div_euclid(1_000_000);
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    fraction(micros.rem_euclid(1_000_000) as u32, out);
}

fn offset(east_seconds: i32, out: &mut String) {
    let sign = if east_seconds < 0 { '-' } else { '+' };
    let s = east_seconds.unsigned_abs();
    let _ = write!(out, "{sign}{:02}:{:02}", s / 3600, s / 60 % 60);
    if !s.is_multiple_of(60) {
        let _ = write!(out, ":{:02}", s % 60);
    }
}

/// ISO 8601; a time-zone-aware value is in UTC with a `Z`.
fn timestamp(micros: i64, utc: bool, out: &mut String) {
    match micros {
        i64::MAX => return out.push_str("infinity"),
        i64::MIN => return out.push_str("-infinity"),
        _ => {}
    }
    match epoch().checked_add_signed(TimeDelta::microseconds(micros)) {
        Some(t) => {
            ymd(t.date(), out);
            let _ = write!(out, "T{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second());
            fraction(micros.rem_euclid(1_000_000) as u32, out);
            if utc {
                out.push('Z');
            }
        }
        None => out.push_str("out of range"),
    }
}

/// ISO 8601 duration, written as PostgreSQL's `IntervalStyle = iso_8601`
/// does: each part keeps its own sign (`P-1Y-2M3DT-4H`), zero is `PT0S`.
fn interval(months: i32, days: i32, micros: i64, out: &mut String) {
    if months == 0 && days == 0 && micros == 0 {
        return out.push_str("PT0S");
    }
    out.push('P');
    let (years, months) = (months / 12, months % 12);
    for (n, unit) in [(years, 'Y'), (months, 'M'), (days, 'D')] {
        if n != 0 {
            let _ = write!(out, "{n}{unit}");
        }
    }
    if micros != 0 {
        out.push('T');
        let hours = micros / 3_600_000_000;
        let minutes = micros / 60_000_000 % 60;
        let rest = micros % 60_000_000;
        for (n, unit) in [(hours, 'H'), (minutes, 'M')] {
            if n != 0 {
                let _ = write!(out, "{n}{unit}");
            }
        }
        if rest != 0 {
            if rest < 0 {
                out.push('-');
            }
            let r = rest.unsigned_abs();
            let _ = write!(out, "{}", r / 1_000_000);
            fraction((r % 1_000_000) as u32, out);
            out.push('S');
        }
    }
}

/// Writes a numeric's exact decimal text into `out`; NaN and the
/// infinities, which no decimal can hold, come back as floats instead.
fn numeric(raw: &[u8], out: &mut String) -> Result<Option<f64>, String> {
    let word = |i: usize| -> Result<u16, String> {
        raw.get(i * 2..i * 2 + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "a numeric value is cut short".to_string())
    };
    let ndigits = word(0)? as usize;
    let weight = word(1)? as i16 as i64;
    let sign = word(2)?;
    let dscale = word(3)? as usize;
    match sign {
        0xC000 => return Ok(Some(f64::NAN)),
        0xD000 => return Ok(Some(f64::INFINITY)),
        0xF000 => return Ok(Some(f64::NEG_INFINITY)),
        _ => {}
    }
    let digit = |i: i64| -> Result<u16, String> {
        if i >= 0 && (i as usize) < ndigits {
            word(4 + i as usize)
        } else {
            Ok(0)
        }
    };
    if sign == 0x4000 {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        for i in 0..=weight {
            let d = digit(i)?;
            if i == 0 {
                let _ = write!(out, "{d}");
            } else {
                let _ = write!(out, "{d:04}");
            }
        }
    }
    if dscale > 0 {
        out.push('.');
        let start = out.len();
        let mut k = 0;
        while out.len() - start < dscale {
            let _ = write!(out, "{:04}", digit(weight + 1 + k)?);
            k += 1;
        }
        out.truncate(start + dscale);
    }
    Ok(None)
}

fn inet(raw: &[u8], out: &mut String) -> Result<(), String> {
    let [family, bits, is_cidr, len, addr @ ..] = raw else {
        return Err("an inet value is cut short".into());
    };
    let full = match (*family, *len as usize, addr.len()) {
        (2, 4, 4) => {
            let a: [u8; 4] = fixed(addr)?;
            let _ = write!(out, "{}", std::net::Ipv4Addr::from(a));
            32
        }
        (3, 16, 16) => {
            let a: [u8; 16] = fixed(addr)?;
            let _ = write!(out, "{}", std::net::Ipv6Addr::from(a));
            128
        }
        _ => return Err("an inet value has an unknown address family".into()),
    };
    // As PostgreSQL prints it: a host address without its /32 or /128.
    if *is_cidr != 0 || *bits != full {
        let _ = write!(out, "/{bits}");
    }
    Ok(())
}

/// An array as JSON: nested arrays for each dimension, elements as the
/// JSON output would write them (NULL is null, text a string, ...).
fn array(elem: &Decoder, raw: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let short = || "an array value is cut short".to_string();
    let int = |at: usize| -> Result<i32, String> {
        raw.get(at..at + 4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(short)
    };
    let ndim = int(0)?;
    if ndim <= 0 {
        out.extend_from_slice(b"[]");
        return Ok(());
    }
    let dims: Vec<usize> = (0..ndim as usize)
        .map(|d| int(12 + d * 8).map(|n| n.max(0) as usize))
        .collect::<Result<_, _>>()?;
    let mut at = 12 + dims.len() * 8;
    let mut buf = String::new();
    fn level(
        elem: &Decoder,
        raw: &[u8],
        dims: &[usize],
        at: &mut usize,
        buf: &mut String,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        out.push(b'[');
        for i in 0..dims[0] {
            if i > 0 {
                out.push(b',');
            }
            if dims.len() > 1 {
                level(elem, raw, &dims[1..], at, buf, out)?;
                continue;
            }
            let len = raw
                .get(*at..*at + 4)
                .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or("an array value is cut short")?;
            *at += 4;
            if len < 0 {
                out.extend_from_slice(b"null");
                continue;
            }
            let bytes = raw
                .get(*at..*at + len as usize)
                .ok_or("an array value is cut short")?;
            *at += len as usize;
            elem.decode(bytes, buf)?.write_json(out);
        }
        out.push(b']');
        Ok(())
    }
    level(elem, raw, &dims, &mut at, &mut buf, out)
}

/// The type as a person writes it (`integer[]` rather than `_int4`).
pub fn type_label(ty: &Type) -> String {
    match ty.kind() {
        Kind::Array(elem) => format!("{}[]", type_label(elem)),
        _ => ty.name().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_text(ndigits: &[u16], weight: i16, sign: u16, dscale: u16) -> String {
        let mut raw = Vec::new();
        for w in [ndigits.len() as u16, weight as u16, sign, dscale] {
            raw.extend_from_slice(&w.to_be_bytes());
        }
        for d in ndigits {
            raw.extend_from_slice(&d.to_be_bytes());
        }
        let mut s = String::new();
        assert_eq!(numeric(&raw, &mut s).unwrap(), None);
        s
    }

    #[test]
    fn numerics_keep_every_digit() {
        assert_eq!(numeric_text(&[1, 2345, 6789], 1, 0, 4), "12345.6789");
        assert_eq!(numeric_text(&[12, 3400], 0, 0x4000, 4), "-12.3400");
        assert_eq!(numeric_text(&[5000], -1, 0, 1), "0.5");
        assert_eq!(numeric_text(&[1200], -2, 0, 6), "0.000012");
        assert_eq!(numeric_text(&[], 0, 0, 0), "0");
        assert_eq!(numeric_text(&[1], 2, 0, 0), "100000000");
        assert_eq!(numeric_text(&[1], 0, 0, 2), "1.00");
    }

    #[test]
    fn intervals_follow_iso_8601() {
        let iv = |m, d, us| {
            let mut s = String::new();
            interval(m, d, us, &mut s);
            s
        };
        assert_eq!(iv(0, 0, 0), "PT0S");
        assert_eq!(
            iv(14, 3, 4 * 3_600_000_000 + 5 * 60_000_000 + 6_500_000),
            "P1Y2M3DT4H5M6.5S"
        );
        assert_eq!(iv(-1, 0, -500_000), "P-1MT-0.5S");
        assert_eq!(iv(0, 1, 0), "P1D");
    }

    #[test]
    fn times_are_iso_8601() {
        let mut s = String::new();
        timestamp(0, true, &mut s);
        assert_eq!(s, "2000-01-01T00:00:00Z");
        s.clear();
        timestamp(-1, false, &mut s);
        assert_eq!(s, "1999-12-31T23:59:59.999999");
        s.clear();
        date(-1, &mut s);
        assert_eq!(s, "1999-12-31");
        s.clear();
        time_of_day(3_600_000_000 + 120_000, &mut s);
        offset(-(5 * 3600 + 30 * 60), &mut s);
        assert_eq!(s, "01:00:00.12-05:30");
    }
}
