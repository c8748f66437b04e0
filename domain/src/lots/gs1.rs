//! GS1 lot data from a scanned bag: element strings (`(01)...(10)...`, or raw with FNC1/GS
//! separators) and Digital Link URIs (`https://id.gs1.org/01/{gtin}/10/{lot}?17=YYMMDD`).
//! AIs handled: 01 GTIN, 10 lot, 11 production date, 17 expiry (GS1 General Specifications).

use chrono::NaiveDate;

use crate::error::{Code, FieldError};
use crate::types::Gtin;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gs1Data {
    pub gtin: Option<String>,
    pub lot: Option<String>,
    pub produced_on: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
}

const GS: char = '\u{1d}';

fn bad(msg_zh: &str, msg_en: &str) -> FieldError {
    FieldError::new("code", Code::InvalidFormat, msg_zh, msg_en)
}

/// YYMMDD; day `00` means the last day of the month (GS1 General Specifications 3.4.2).
/// Years 00-49 are 20xx, 50-99 19xx (the GS1 sliding window simplified for current dates).
pub fn parse_yymmdd(s: &str) -> Option<NaiveDate> {
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let yy: i32 = s[0..2].parse().ok()?;
    let mm: u32 = s[2..4].parse().ok()?;
    let dd: u32 = s[4..6].parse().ok()?;
    let year = if yy < 50 { 2000 + yy } else { 1900 + yy };
    if dd == 0 {
        let (ny, nm) = if mm == 12 {
            (year + 1, 1)
        } else {
            (year, mm + 1)
        };
        return NaiveDate::from_ymd_opt(ny, nm, 1)?.pred_opt();
    }
    NaiveDate::from_ymd_opt(year, mm, dd)
}

fn set(data: &mut Gs1Data, ai: &str, value: &str) -> Result<(), FieldError> {
    match ai {
        "01" => {
            let g = Gtin::parse("code", value)
                .map_err(|_| bad("GTIN（AI 01）无效", "GTIN (AI 01) is invalid"))?;
            data.gtin = Some(g.as_str().to_owned());
        }
        "10" => {
            if value.is_empty() || value.chars().count() > 20 {
                return Err(bad(
                    "批号（AI 10）应为 1 到 20 个字符",
                    "lot (AI 10) must be 1 to 20 characters",
                ));
            }
            data.lot = Some(value.to_owned());
        }
        "11" => {
            data.produced_on = Some(parse_yymmdd(value).ok_or_else(|| {
                bad(
                    "生产日期（AI 11）无效",
                    "production date (AI 11) is invalid",
                )
            })?)
        }
        "17" => {
            data.expires_on = Some(
                parse_yymmdd(value)
                    .ok_or_else(|| bad("有效期（AI 17）无效", "expiry date (AI 17) is invalid"))?,
            )
        }
        _ => {}
    }
    Ok(())
}

/// Parses a human-readable `(01)..(10)..` string, a raw string with GS separators, or a
/// Digital Link URI.
pub fn parse(input: &str) -> Result<Gs1Data, FieldError> {
    let s = input.trim();
    let mut data = Gs1Data::default();
    if let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    {
        // Digital Link: /01/{gtin}/10/{lot}?17=...&11=...
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        let mut i = 0;
        while i + 1 < segments.len() {
            set(&mut data, segments[i], &percent_decode(segments[i + 1]))?;
            i += 2;
        }
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            if let Some((k, v)) = pair.split_once('=') {
                set(&mut data, k, &percent_decode(v))?;
            }
        }
    } else if s.starts_with('(') {
        let mut rest = s;
        while let Some(r) = rest.strip_prefix('(') {
            let (ai, r) = r
                .split_once(')')
                .ok_or_else(|| bad("GS1 元素串格式错误", "malformed GS1 element string"))?;
            let end = r.find('(').unwrap_or(r.len());
            set(&mut data, ai, &r[..end])?;
            rest = &r[end..];
        }
    } else {
        // Raw: fixed-length AIs (01: 14, 11/17: 6) and variable-length 10 ended by GS or the end.
        let s = s
            .trim_start_matches("]C1")
            .trim_start_matches("]d2")
            .trim_start_matches("]Q3");
        let mut rest = s;
        while !rest.is_empty() {
            if rest.len() < 2 || !rest.is_char_boundary(2) {
                return Err(bad("GS1 元素串格式错误", "malformed GS1 element string"));
            }
            let (ai, r) = rest.split_at(2);
            let len = match ai {
                "01" => Some(14),
                "11" | "17" => Some(6),
                "10" => None,
                _ => {
                    return Err(bad(
                        "不支持的 GS1 应用标识符",
                        "unsupported GS1 application identifier",
                    ));
                }
            };
            let (value, r) = match len {
                Some(n) if r.len() >= n && r.is_char_boundary(n) => r.split_at(n),
                Some(_) => return Err(bad("GS1 元素串长度不足", "GS1 element string too short")),
                None => r.split_at(r.find(GS).unwrap_or(r.len())),
            };
            set(&mut data, ai, value)?;
            rest = r.trim_start_matches(GS);
        }
    }
    if data.gtin.is_none() && data.lot.is_none() {
        return Err(bad("没有找到 GTIN 或批号", "no GTIN or lot found"));
    }
    Ok(data)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(h) = std::str::from_utf8(&b[i + 1..i + 3])
            && let Ok(v) = u8::from_str_radix(h, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_strings_and_digital_links() {
        let d = parse("(01)06901234567892(10)A2405(17)270600(11)250115").unwrap();
        assert_eq!(d.gtin.as_deref(), Some("06901234567892"));
        assert_eq!(d.lot.as_deref(), Some("A2405"));
        assert_eq!(d.expires_on, NaiveDate::from_ymd_opt(2027, 6, 30));
        assert_eq!(d.produced_on, NaiveDate::from_ymd_opt(2025, 1, 15));

        let raw = parse("0106901234567892172706301A2405\u{1d}11250115").unwrap_err();
        assert_eq!(raw.code, Code::InvalidFormat);
        let raw = parse("010690123456789217270630").unwrap();
        assert_eq!(raw.expires_on, NaiveDate::from_ymd_opt(2027, 6, 30));
        let raw = parse("]d2010690123456789210A2405\u{1d}17270630").unwrap();
        assert_eq!(raw.lot.as_deref(), Some("A2405"));
        assert_eq!(raw.expires_on, NaiveDate::from_ymd_opt(2027, 6, 30));

        let dl = parse("https://id.gs1.org/01/06901234567892/10/A%2F24?17=271231").unwrap();
        assert_eq!(dl.lot.as_deref(), Some("A/24"));
        assert_eq!(dl.expires_on, NaiveDate::from_ymd_opt(2027, 12, 31));
        assert!(parse("(01)06901234567893(10)X").is_err(), "bad check digit");
        assert_eq!(parse_yymmdd("240200"), NaiveDate::from_ymd_opt(2024, 2, 29));
    }
}
