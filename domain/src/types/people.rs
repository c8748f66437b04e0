//! Who a user is: a mobile number, a password, a resident ID number (GB 11643).

use super::{Parsed, err};
use crate::error::Code;

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
