//! Parse, don't validate: identifiers and quantities that arrive from users become these types
//! at the edge, and a `FieldError` names what was wrong (in zh-CN and en).

use std::fmt;

use crate::error::{Code, FieldError};

mod analysis;
mod people;
mod registrations;
mod stored;

pub use analysis::*;
pub use people::*;
pub use registrations::*;
pub use stored::*;

pub(crate) type Parsed<T> = std::result::Result<T, FieldError>;

pub(crate) fn err(
    field: &str,
    code: Code,
    zh: impl Into<String>,
    en: impl Into<String>,
) -> FieldError {
    FieldError::new(field, code, zh, en)
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
