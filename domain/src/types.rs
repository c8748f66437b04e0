//! Parse, don't validate: identifiers and quantities that arrive from users become these types
//! at the edge, and a `FieldError` names what was wrong (in zh-CN and en).

use std::fmt;

use crate::error::{Code, FieldError};

mod stored;
pub use stored::*;

type Parsed<T> = std::result::Result<T, FieldError>;

fn err(field: &str, code: Code, zh: impl Into<String>, en: impl Into<String>) -> FieldError {
    FieldError::new(field, code, zh, en)
}

/// A mainland China mobile number: 11 digits starting with 1[3-9].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    pub fn parse(field: &str, s: &str) -> Parsed<Self> {
        let t: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        let t = t.strip_prefix("+86").unwrap_or(&t).to_owned();
        let ok = t.len() == 11
            && t.bytes().all(|b| b.is_ascii_digit())
            && t.as_bytes()[0] == b'1'
            && (b'3'..=b'9').contains(&t.as_bytes()[1]);
        if ok {
            Ok(Phone(t))
        } else {
            Err(err(
                field,
                Code::InvalidPhone,
                "手机号应为 11 位数字，以 1 开头",
                "phone must be 11 digits starting with 1",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// `138****0001`: how a phone is shown to someone other than its owner.
    pub fn masked(s: &str) -> String {
        match (s.len(), s.get(..3), s.get(7..)) {
            (11, Some(head), Some(tail)) => format!("{head}****{tail}"),
            _ => "****".into(),
        }
    }
}

/// A password as typed: 8 to 128 characters, not all digits.
pub struct Password(String);

impl Password {
    pub fn parse(field: &str, s: &str) -> Parsed<Self> {
        let n = s.chars().count();
        if !(8..=128).contains(&n) {
            return Err(err(
                field,
                Code::WeakPassword,
                "密码长度应为 8 到 128 个字符",
                "password must be 8 to 128 characters",
            ));
        }
        if s.chars().all(|c| c.is_ascii_digit()) {
            return Err(err(
                field,
                Code::WeakPassword,
                "密码不能全是数字",
                "password must not be digits only",
            ));
        }
        Ok(Password(s.to_owned()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// An 18-character resident identity number (GB 11643-1999): 17 digits and an ISO 7064
/// MOD 11-2 check character (0-9 or X), with a real birth date in digits 7-14 that is neither
/// after today (China time) nor more than 150 years ago.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdNumber(String);

impl IdNumber {
    pub fn parse(field: &str, s: &str) -> Parsed<Self> {
        Self::parse_on(field, s, crate::today())
    }

    /// As [`IdNumber::parse`], with `today` given (the birth date is checked against it).
    pub fn parse_on(field: &str, s: &str, today: chrono::NaiveDate) -> Parsed<Self> {
        let t = s.trim().to_ascii_uppercase();
        let b = t.as_bytes();
        if b.len() != 18
            || !b[..17].iter().all(u8::is_ascii_digit)
            || !(b[17].is_ascii_digit() || b[17] == b'X')
        {
            return Err(err(
                field,
                Code::InvalidIdNumber,
                "身份证号应为 18 位（最后一位可为 X）",
                "ID number must be 18 characters (the last may be X)",
            ));
        }
        // The first 17 bytes are ASCII digits, so 6..14 is on character boundaries.
        let digits = &t[6..14];
        let Ok(birth) = chrono::NaiveDate::parse_from_str(digits, "%Y%m%d") else {
            return Err(err(
                field,
                Code::InvalidIdNumber,
                format!("身份证号中的出生日期（第 7-14 位 {digits}）不是真实的日期"),
                format!(
                    "the birth date in the ID number (digits 7-14, {digits}) is not a real date"
                ),
            ));
        };
        if birth > today {
            return Err(err(
                field,
                Code::InvalidIdNumber,
                format!("身份证号中的出生日期 {birth} 晚于今天"),
                format!("the birth date in the ID number, {birth}, is after today"),
            ));
        }
        // Nobody alive was born more than 150 years ago; such a date is a typing error.
        let oldest = chrono::Months::new(150 * 12);
        if today.checked_sub_months(oldest).is_some_and(|o| birth < o) {
            return Err(err(
                field,
                Code::InvalidIdNumber,
                format!("身份证号中的出生日期 {birth} 早于 150 年前"),
                format!("the birth date in the ID number, {birth}, is more than 150 years ago"),
            ));
        }
        if Self::check_char(&b[..17]) != b[17] {
            return Err(err(
                field,
                Code::IdChecksum,
                "身份证号校验位不正确",
                "the ID number's check digit is wrong",
            ));
        }
        Ok(IdNumber(t))
    }

    /// ISO 7064 MOD 11-2 as GB 11643-1999 applies it: weights 2^(17-i) mod 11.
    pub fn check_char(first17: &[u8]) -> u8 {
        const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        const C: &[u8; 11] = b"10X98765432";
        let sum: u32 = first17
            .iter()
            .zip(W)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        C[(sum % 11) as usize]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `4208**********123X`: only the region prefix and the last four stay readable.
    pub fn masked(s: &str) -> String {
        match (s.len(), s.get(..4), s.get(14..)) {
            (18, Some(head), Some(tail)) => format!("{head}{}{tail}", "*".repeat(10)),
            _ => "*".repeat(s.chars().count()),
        }
    }
}

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

/// Compound fertiliser concentration grade (GB/T 15063-2020): total N+P2O5+K2O >= 40 % high,
/// >= 30 % medium, >= 25 % low.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompoundGrade {
    High,
    Medium,
    Low,
    BelowStandard,
}

/// An N-P2O5-K2O analysis in percent (`15-15-15`). Each declared nutrient is at least 4.0 %
/// (GB 18382 / GB/T 15063); secondary and trace elements are not part of the total.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Analysis {
    pub n: f64,
    pub p2o5: f64,
    pub k2o: f64,
}

impl Analysis {
    pub fn new(
        field: &str,
        n: f64,
        p2o5: f64,
        k2o: f64,
    ) -> std::result::Result<Self, Vec<FieldError>> {
        Self::checked(field, n, p2o5, k2o, true)
    }

    /// As [`Analysis::new`]; `per_nutrient_minimum` is false for organic and microbial products,
    /// whose standards (NY/T 525, GB 20287) limit the total instead of each nutrient.
    pub fn checked(
        field: &str,
        n: f64,
        p2o5: f64,
        k2o: f64,
        per_nutrient_minimum: bool,
    ) -> std::result::Result<Self, Vec<FieldError>> {
        let mut errs = Vec::new();
        for (name, v) in [("nPct", n), ("p2o5Pct", p2o5), ("k2oPct", k2o)] {
            let f = format!("{field}.{name}");
            if !v.is_finite() || !(0.0..=100.0).contains(&v) {
                errs.push(err(
                    &f,
                    Code::OutOfRange,
                    "养分含量应在 0 到 100% 之间",
                    "nutrient content must be between 0 and 100 %",
                ));
            } else if per_nutrient_minimum && v > 0.0 && v < 4.0 {
                errs.push(err(
                    &f,
                    Code::NutrientBelowMinimum,
                    "标明的单一养分含量不得低于 4.0%（GB/T 15063）",
                    "each declared nutrient must be at least 4.0 % (GB/T 15063)",
                ));
            }
        }
        if errs.is_empty() && n + p2o5 + k2o > 100.0 {
            errs.push(err(
                field,
                Code::InvalidAnalysis,
                "总养分不能超过 100%",
                "total nutrients cannot exceed 100 %",
            ));
        }
        if errs.is_empty() && per_nutrient_minimum && n + p2o5 + k2o == 0.0 {
            errs.push(err(
                field,
                Code::InvalidAnalysis,
                "至少应标明一种大量元素养分",
                "at least one of N, P2O5, K2O must be declared",
            ));
        }
        if errs.is_empty() {
            Ok(Analysis { n, p2o5, k2o })
        } else {
            Err(errs)
        }
    }

    /// Parses `15-15-15` (also with `:`/`／` separators a keyboard might give).
    pub fn parse(field: &str, s: &str) -> std::result::Result<Self, Vec<FieldError>> {
        let parts: Vec<&str> = s
            .trim()
            .split(['-', ':', '／', '/'])
            .map(str::trim)
            .collect();
        let nums: Option<Vec<f64>> = parts.iter().map(|p| p.parse::<f64>().ok()).collect();
        match nums.as_deref() {
            Some([n, p, k]) => Self::new(field, *n, *p, *k),
            _ => Err(vec![err(
                field,
                Code::InvalidAnalysis,
                "养分标识应为 N-P2O5-K2O，如 15-15-15",
                "analysis must be N-P2O5-K2O, e.g. 15-15-15",
            )]),
        }
    }

    pub fn total(&self) -> f64 {
        self.n + self.p2o5 + self.k2o
    }

    pub fn declared_count(&self) -> usize {
        [self.n, self.p2o5, self.k2o]
            .iter()
            .filter(|v| **v > 0.0)
            .count()
    }

    pub fn compound_grade(&self) -> Option<CompoundGrade> {
        if self.declared_count() < 2 {
            return None;
        }
        let t = self.total();
        Some(if t >= 40.0 {
            CompoundGrade::High
        } else if t >= 30.0 {
            CompoundGrade::Medium
        } else if t >= 25.0 {
            CompoundGrade::Low
        } else {
            CompoundGrade::BelowStandard
        })
    }
}

impl fmt::Display for Analysis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: f64| {
            if v.fract() == 0.0 {
                format!("{v:.0}")
            } else {
                format!("{v}")
            }
        };
        write!(f, "{}-{}-{}", show(self.n), show(self.p2o5), show(self.k2o))
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

/// Money in integer fen (分). Never a float.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fen(pub i64);

impl Fen {
    pub fn parse_positive(field: &str, v: i64) -> Parsed<Self> {
        if v <= 0 {
            return Err(err(
                field,
                Code::InvalidPrice,
                "价格必须大于 0（单位：分）",
                "price must be greater than 0 (in fen)",
            ));
        }
        if v > 10_000_000_000 {
            return Err(err(
                field,
                Code::InvalidPrice,
                "价格过高",
                "price is too high",
            ));
        }
        Ok(Fen(v))
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}¥{}.{:02}", a / 100, a % 100)
    }
}

/// A non-empty, trimmed text of at most `max` characters.
pub fn name(field: &str, s: &str, max: usize) -> Parsed<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(err(field, Code::Required, "不能为空", "must not be empty"));
    }
    if t.chars().count() > max {
        return Err(err(
            field,
            Code::TooLong,
            format!("不能超过 {max} 个字符"),
            format!("must be at most {max} characters"),
        ));
    }
    Ok(t.to_owned())
}

/// A percentage in [0, 100].
pub fn percent(field: &str, v: f64) -> Parsed<f64> {
    if v.is_finite() && (0.0..=100.0).contains(&v) {
        Ok(v)
    } else {
        Err(err(
            field,
            Code::OutOfRange,
            "百分比应在 0 到 100 之间",
            "percentage must be between 0 and 100",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_number_check_digit() {
        // The example number printed in GB 11643-1999 itself.
        assert!(IdNumber::parse("id", "11010519491231002X").is_ok());
        let e = IdNumber::parse("id", "110105194912310021").unwrap_err();
        assert_eq!(e.code, Code::IdChecksum);
        assert_eq!(
            IdNumber::parse("id", "11010519491331002X")
                .unwrap_err()
                .code,
            Code::InvalidIdNumber
        );
        assert_eq!(IdNumber::masked("11010519491231002X"), "1101**********002X");
    }

    #[test]
    fn id_number_birth_date_is_a_real_past_day() {
        let with_check = |birth: &str| {
            let body = format!("420802{birth}123");
            let c = IdNumber::check_char(body.as_bytes()) as char;
            format!("{body}{c}")
        };
        let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        for ok in ["20260301", "19491231", "18760301", "20000229"] {
            assert!(
                IdNumber::parse_on("id", &with_check(ok), today).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "20260302", "29990101", "19901301", "20000230", "19000229", "18760229",
        ] {
            let e = IdNumber::parse_on("id", &with_check(bad), today).unwrap_err();
            assert_eq!(e.code, Code::InvalidIdNumber, "{bad}");
        }
    }

    #[test]
    fn registrations() {
        let p = PesticideRegNo::parse("r", "PD20080005").unwrap();
        assert_eq!(p.last6(), "080005");
        assert_eq!(p.category_digit(), b'1');
        assert!(PesticideRegNo::parse("r", "PD20080005F040123").is_ok());
        assert!(PesticideRegNo::parse("r", "PX20080005").is_err());
        assert!(PesticideRegNo::parse("r", "PD2008005").is_err());
        for s in [
            "中PD20080005x",
            "P中D2008000512",
            "ＰＤ20080005",
            "PD2008000５",
            "PD200800０５",
        ] {
            assert!(PesticideRegNo::parse("r", s).is_err(), "{s}");
        }
        assert_eq!(Phone::masked("13800000001"), "138****0001");
        assert_eq!(Phone::masked("1中3800000"), "****");
        assert_eq!(IdNumber::masked("11010519491231002X"), "1101**********002X");
        assert_eq!(IdNumber::masked("12中010519491231X"), "*".repeat(16));
        assert!(FertiliserRegNo::parse("r", "农肥(2015)准字4024号").is_ok());
        assert!(FertiliserRegNo::parse("r", "鄂农肥（2019）准字0856号").is_ok());
        assert!(FertiliserRegNo::parse("r", "微生物肥(2020)准字12345号").is_ok());
        assert!(FertiliserRegNo::parse("r", "农肥2015准字4024号").is_err());
        assert!(FertiliserRegNo::parse("r", "X农肥(2015)准字4024号").is_err());
        assert!(SeedApprovalNo::parse("r", "国审稻20170080").is_ok());
        assert!(SeedApprovalNo::parse("r", "鄂审稻2019006").is_ok());
        assert!(SeedApprovalNo::parse("r", "GPD结球甘蓝(2019)310027").is_ok());
        assert!(SeedApprovalNo::parse("r", "国审稻2017008").is_err());
    }

    #[test]
    fn analysis_rules() {
        let a = Analysis::parse("a", "15-15-15").unwrap();
        assert_eq!(a.compound_grade(), Some(CompoundGrade::High));
        assert_eq!(a.to_string(), "15-15-15");
        assert_eq!(
            Analysis::parse("a", "46-0-0").unwrap().compound_grade(),
            None
        );
        let e = Analysis::parse("a", "15-3-10").unwrap_err();
        assert_eq!(e[0].code, Code::NutrientBelowMinimum);
        assert_eq!(e[0].field, "a.p2o5Pct");
        assert_eq!(
            Analysis::parse("a", "12-10-8").unwrap().compound_grade(),
            Some(CompoundGrade::Medium)
        );
        assert_eq!(
            Analysis::parse("a", "10-10-8").unwrap().compound_grade(),
            Some(CompoundGrade::Low)
        );
        assert!(Analysis::parse("a", "15-15").is_err());
    }

    #[test]
    fn gtin_and_phone_and_money() {
        assert_eq!(
            Gtin::parse("g", "6901234567892").unwrap().as_str(),
            "06901234567892"
        );
        assert!(Gtin::parse("g", "6901234567893").is_err());
        assert_eq!(
            Phone::parse("p", "+86 138-0000-0001").unwrap().as_str(),
            "13800000001"
        );
        assert!(Phone::parse("p", "12800000001").is_err());
        assert_eq!(Fen(12345).to_string(), "¥123.45");
        assert_eq!(Fen(-5).to_string(), "-¥0.05");
    }
}
