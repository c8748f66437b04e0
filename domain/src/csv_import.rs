//! What every CSV import shares: the policies (reject the file, skip bad rows, preview), the
//! row error with its line and column, line numbers that stay right on CRLF files, and the
//! yuan and date cells.

use chrono::NaiveDate;

use crate::error::Code;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvPolicy {
    /// Any bad row rejects the whole file; nothing is written.
    RejectAll,
    /// Good rows are received; bad rows are reported.
    SkipInvalid,
    /// Every row is parsed and checked as if it were received (the database checks included,
    /// inside a transaction that is rolled back), and nothing is written: what a dealer sees
    /// before choosing to receive the file or only its good rows.
    Preview,
}

/// A rejected CSV row: its line in the file (the header is line 1), the column (1-based) and
/// its header name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub column: Option<usize>,
    pub column_name: Option<String>,
    pub code: Code,
    pub zh: String,
    pub en: String,
}

/// A data row of a receipt CSV as read: its line in the file and its cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvLine {
    pub line: usize,
    pub cells: Vec<String>,
}

/// The 1-based line of the file a CSV record starts on. Counted from the byte offset, because
/// the csv crate's own line count is one short for files with CRLF line ends (what Excel on
/// Windows saves). For every record of a file in turn, use a [`CsvLines`] instead: this counts
/// from the start of the text each time.
pub fn csv_line(text: &str, pos: &csv::Position) -> usize {
    CsvLines::new(text).line(pos)
}

/// Lines of the records of one file, asked in file order: each call counts only the line breaks
/// since the previous record, so a whole file costs one pass over its text (not one per row).
pub struct CsvLines<'a> {
    bytes: &'a [u8],
    at: usize,
    breaks: usize,
}

impl<'a> CsvLines<'a> {
    pub fn new(text: &'a str) -> Self {
        CsvLines {
            bytes: text.as_bytes(),
            at: 0,
            breaks: 0,
        }
    }

    pub fn line(&mut self, pos: &csv::Position) -> usize {
        let bytes = self.bytes;
        let mut at = (pos.byte() as usize).min(bytes.len());
        // With CRLF the reported start can sit on the line break before the record.
        while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        if at < self.at {
            // Asked out of order: count again from the start.
            self.at = 0;
            self.breaks = 0;
        }
        self.breaks += bytes[self.at..at].iter().filter(|b| **b == b'\n').count();
        self.at = at;
        self.breaks + 1
    }
}

/// Parses yuan with at most two decimals (`12.5`, `12.50`, `1,200`) into fen, exactly.
pub fn parse_yuan(s: &str) -> Option<i64> {
    let t = s
        .trim()
        .replace([',', '，'], "")
        .trim_start_matches(['¥', '￥'])
        .to_owned();
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let w: i64 = whole.parse().ok()?;
    let f: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    w.checked_mul(100)?.checked_add(f)
}

pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let t = s.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%Y/%m/%d"))
        .ok()
}

/// The columns a kind of file may have: a name, the header names accepted for it (English or
/// Chinese, any ASCII case; the last is the one a missing column is named by in Chinese), and
/// whether it is required.
pub type Columns = [(&'static str, &'static [&'static str], bool)];

/// A file's header, matched against its columns: the header cells, and the position of every
/// column found.
pub struct Header {
    pub cells: csv::StringRecord,
    pub index: std::collections::BTreeMap<&'static str, usize>,
}

/// A reader over a CSV text (a UTF-8 byte-order mark dropped, cells trimmed, rows of any
/// length), and the text it reads, for [`CsvLines`].
pub fn reader(text: &str) -> (csv::Reader<&[u8]>, &str) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    (rdr, text)
}

/// Reads and matches the header: an unreadable header is an error of line 1; otherwise the
/// header, with an error of line 1 for every required column it lacks.
pub fn header<R: std::io::Read>(
    rdr: &mut csv::Reader<R>,
    columns: &Columns,
) -> std::result::Result<(Header, Vec<RowError>), RowError> {
    let cells = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(RowError {
                line: 1,
                column: None,
                column_name: None,
                code: Code::InvalidFormat,
                zh: format!("无法读取表头：{e}"),
                en: format!("cannot read the header: {e}"),
            });
        }
    };
    let mut index = std::collections::BTreeMap::new();
    let mut errors = Vec::new();
    for (name, aliases, required) in columns {
        match cells
            .iter()
            .position(|h| aliases.iter().any(|a| a.eq_ignore_ascii_case(h.trim())))
        {
            Some(i) => {
                index.insert(*name, i);
            }
            None if *required => errors.push(RowError {
                line: 1,
                column: None,
                column_name: Some((*name).into()),
                code: Code::Required,
                zh: format!("缺少列 {}（{}）", name, aliases.last().unwrap_or(name)),
                en: format!("missing column {name}"),
            }),
            None => {}
        }
    }
    Ok((Header { cells, index }, errors))
}
