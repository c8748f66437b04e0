//! Every CSV the product writes goes through here, so that no cell a user typed can run as a
//! formula when a dealer or regulator opens the file in Excel or WPS (OWASP "CSV Injection"):
//! a text cell starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`.
//! Numeric columns are declared as such and written as they are, so a negative quantity or
//! amount stays a number: the choice is made per column, never by looking at the value.

use std::borrow::Cow;

/// One cell of an exported row.
pub enum Cell<'a> {
    /// Text that may come from a user (names, notes, phones, lot numbers, dates).
    Text(Cow<'a, str>),
    /// A number the product formatted itself (quantities, yuan amounts).
    Number(String),
}

impl<'a> Cell<'a> {
    pub fn text(s: impl Into<Cow<'a, str>>) -> Self {
        Cell::Text(s.into())
    }
    pub fn number(n: impl std::fmt::Display) -> Self {
        Cell::Number(n.to_string())
    }
}

/// The characters a spreadsheet reads as the start of a formula (OWASP CSV Injection).
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `s` as a spreadsheet shows it literally: with a leading `'` when it would start a formula.
pub fn neutralise(s: &str) -> Cow<'_, str> {
    if s.starts_with(FORMULA_START) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// A CSV file for Excel: CRLF line ends and a UTF-8 byte-order mark (so Chinese shows right).
pub struct CsvExport {
    w: csv::Writer<Vec<u8>>,
}

impl CsvExport {
    pub fn new(header: &[&str]) -> Self {
        let mut out = CsvExport {
            w: csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(Vec::new()),
        };
        out.row(header.iter().map(|h| Cell::text(*h)));
        out
    }

    /// A report's CSV: first what it is about (one `name, value` row each: product, lot,
    /// reason, date…), an empty row, then the table with its header. The rows differ in length,
    /// which spreadsheets read as they are.
    pub fn titled(about: &[(&str, &str)], header: &[&str]) -> Self {
        let mut out = CsvExport {
            w: csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .flexible(true)
                .from_writer(Vec::new()),
        };
        for (name, value) in about {
            out.row([Cell::text(*name), Cell::text(*value)]);
        }
        out.row([Cell::text("")]);
        out.row(header.iter().map(|h| Cell::text(*h)));
        out
    }

    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = Cell<'a>>) {
        let record: Vec<String> = cells
            .into_iter()
            .map(|c| match c {
                Cell::Text(t) => neutralise(&t).into_owned(),
                Cell::Number(n) => n,
            })
            .collect();
        // Writing into a Vec cannot fail.
        let _ = self.w.write_record(&record);
    }

    pub fn finish(self) -> String {
        let body = self.w.into_inner().unwrap_or_default();
        let mut out = String::from('\u{feff}');
        out.push_str(&String::from_utf8_lossy(&body));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_titled_report_names_what_it_is_about_before_its_table() {
        let mut w = CsvExport::titled(&[("lot", "L-1"), ("reason", "=bad")], &["a", "b", "c"]);
        w.row([Cell::text("x"), Cell::number(2), Cell::text("y")]);
        let out = w.finish();
        assert_eq!(
            out,
            "\u{feff}lot,L-1\r\nreason,'=bad\r\n\"\"\r\na,b,c\r\nx,2,y\r\n"
        );
    }

    #[test]
    fn formula_starts_are_quoted_and_numbers_are_not() {
        for s in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(s), format!("'{s}"));
        }
        for s in ["", "尿素", "a=b", "1-2", "'=x"] {
            assert_eq!(neutralise(s), s);
        }
        let mut w = CsvExport::new(&["name", "qty"]);
        w.row([Cell::text("-剂"), Cell::number(-3)]);
        assert_eq!(w.finish(), "\u{feff}name,qty\r\n'-剂,-3\r\n");
    }
}
