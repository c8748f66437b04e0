//! Registration and approval numbers printed on labels (pesticide, fertiliser, seed), and
//! GS1 GTINs.

use super::{Parsed, err};
use crate::error::Code;

/// Province abbreviations used in registration numbers and licences (简称).
pub const PROVINCE_ABBR: &[char] = &[
    '京', '津', '冀', '晋', '蒙', '辽', '吉', '黑', '沪', '苏', '浙', '皖', '闽', '赣', '鲁', '豫',
    '鄂', '湘', '粤', '桂', '琼', '渝', '川', '蜀', '贵', '黔', '云', '滇', '藏', '陕', '秦', '甘',
    '陇', '青', '宁', '新',
];

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

fn all_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// Full-width brackets and spaces typed on a Chinese keyboard become their ASCII forms.
fn normalise(s: &str) -> String {
    s.trim()
        .replace('（', "(")
        .replace('）', ")")
        .replace(' ', "")
}

/// A pesticide registration number: `PD`/`WP`/`LS`/`WL` + 4-digit year + 4-digit serial,
/// optionally followed by a repackaging suffix starting with `F` (RULES.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PesticideRegNo(String);

impl PesticideRegNo {
    pub fn parse(field: &str, s: &str) -> Parsed<Self> {
        let t = normalise(s).to_ascii_uppercase();
        let bad = || {
            err(
                field,
                Code::InvalidRegistration,
                "农药登记证号格式应为 PD+年份4位+序号4位，如 PD20080005",
                "pesticide registration must be PD + 4-digit year + 4-digit serial, e.g. PD20080005",
            )
        };
        // Byte offsets below are only character boundaries in ASCII text: anything else (a
        // Chinese or full-width character typed into the number) is not a registration number.
        if t.len() < 10 || !t.is_ascii() {
            return Err(bad());
        }
        let (prefix, rest) = t.split_at(2);
        if !matches!(prefix, "PD" | "WP" | "LS" | "WL") || !all_digits(&rest[..8], 8) {
            return Err(bad());
        }
        let suffix = &rest[8..];
        let repack_ok = suffix
            .strip_prefix('F')
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
        if !suffix.is_empty() && !repack_ok {
            return Err(bad());
        }
        Ok(PesticideRegNo(t))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The digit a unit trace code starts with: 1 = PD, 2 = WP, 3 = temporary (LS/WL).
    pub fn category_digit(&self) -> u8 {
        match &self.0[..2] {
            "PD" => b'1',
            "WP" => b'2',
            _ => b'3',
        }
    }
    /// The last 6 digits of the base number: digits 2-7 of a unit trace code (Announcement 2579).
    pub fn last6(&self) -> &str {
        &self.0[4..10]
    }
}

/// A fertiliser registration: `农肥(YYYY)准字NNNN号`, a provincial `鄂农肥(YYYY)准字NNNN号`,
/// or a microbial `微生物肥(YYYY)准字NNNN号` (RULES.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FertiliserRegNo(String);

impl FertiliserRegNo {
    pub fn parse(field: &str, s: &str) -> Parsed<Self> {
        let t = normalise(s);
        let bad = || {
            err(
                field,
                Code::InvalidRegistration,
                "肥料登记证号格式应为 农肥(年份)准字编号号，如 农肥(2015)准字4024号",
                "fertiliser registration must look like 农肥(2015)准字4024号",
            )
        };
        let rest = if let Some(r) = t.strip_prefix("微生物肥") {
            r
        } else {
            let mut chars = t.chars();
            let first = chars.next().ok_or_else(bad)?;
            let r = if PROVINCE_ABBR.contains(&first) {
                chars.as_str()
            } else {
                t.as_str()
            };
            r.strip_prefix("农肥").ok_or_else(bad)?
        };
        let rest = rest.strip_prefix('(').ok_or_else(bad)?;
        let (year, rest) = rest.split_once(')').ok_or_else(bad)?;
        if !all_digits(year, 4) {
            return Err(bad());
        }
        let serial = rest
            .strip_prefix("准字")
            .and_then(|r| r.strip_suffix('号'))
            .ok_or_else(bad)?;
        if serial.is_empty() || serial.len() > 6 || !serial.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        Ok(FertiliserRegNo(t))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A seed variety approval (`国审稻20170080`, `鄂审稻2019006`) or a non-major crop registration
/// (`GPD结球甘蓝(2019)310027`) (RULES.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedApprovalNo(String);

impl SeedApprovalNo {
    pub fn parse(field: &str, s: &str) -> Parsed<Self> {
        let t = normalise(s);
        let bad = || {
            err(
                field,
                Code::InvalidRegistration,
                "品种审定编号格式应如 国审稻20170080 或 鄂审稻2019006，登记编号如 GPD结球甘蓝(2019)310027",
                "variety approval must look like 国审稻20170080 or 鄂审稻2019006, or a registration like GPD结球甘蓝(2019)310027",
            )
        };
        if let Some(r) = t.strip_prefix("GPD") {
            let (crop, r) = r.split_once('(').ok_or_else(bad)?;
            let (year, serial) = r.split_once(')').ok_or_else(bad)?;
            if crop.is_empty()
                || !crop.chars().all(is_cjk)
                || !all_digits(year, 4)
                || !all_digits(serial, 6)
            {
                return Err(bad());
            }
            return Ok(SeedApprovalNo(t));
        }
        let mut chars = t.chars();
        let first = chars.next().ok_or_else(bad)?;
        if first != '国' && !PROVINCE_ABBR.contains(&first) {
            return Err(bad());
        }
        let r = chars.as_str().strip_prefix('审').ok_or_else(bad)?;
        let crop: String = r.chars().take_while(|c| is_cjk(*c)).collect();
        let digits = &r[crop.len()..];
        let ok_len = if first == '国' {
            digits.len() == 8
        } else {
            (7..=8).contains(&digits.len())
        };
        if crop.is_empty()
            || crop.chars().count() > 4
            || !ok_len
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        Ok(SeedApprovalNo(t))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A GS1 GTIN (8, 12, 13 or 14 digits with a valid check digit), kept as GTIN-14.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gtin(String);

impl Gtin {
    pub fn parse(field: &str, s: &str) -> Parsed<Self> {
        let t = s.trim();
        if !matches!(t.len(), 8 | 12 | 13 | 14) || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(
                field,
                Code::InvalidGtin,
                "GTIN 应为 8、12、13 或 14 位数字",
                "GTIN must be 8, 12, 13 or 14 digits",
            ));
        }
        let padded = format!("{t:0>14}");
        if Self::check_digit(&padded.as_bytes()[..13]) != padded.as_bytes()[13] {
            return Err(err(
                field,
                Code::InvalidGtin,
                "GTIN 校验位不正确",
                "the GTIN's check digit is wrong",
            ));
        }
        Ok(Gtin(padded))
    }
    /// GS1 mod-10: weights 3,1,3,... from the right of the digits before the check digit.
    pub fn check_digit(body: &[u8]) -> u8 {
        let sum: u32 = body
            .iter()
            .rev()
            .enumerate()
            .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
            .sum();
        b'0' + ((10 - sum % 10) % 10) as u8
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
