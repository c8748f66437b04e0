//! What the CSV pages of the consoles share: a template download, and a checked file shown as
//! a table (each row with its line number, each bad cell marked with why) and a list of every
//! error by line and column letter. The dealer's receiving and the agronomist's lab CSV use it.

use axum::http::header;
use axum::response::IntoResponse;
use domain::Lang;
use domain::csv_import::RowError;

use super::WebResult;

pub struct Cell {
    pub text: String,
    pub bad: bool,
    pub why: String,
}

pub struct PreviewRow {
    pub line: usize,
    pub cells: Vec<Cell>,
    pub bad: bool,
    /// Messages about the whole row (no column).
    pub notes: Vec<String>,
}

pub struct ErrLine {
    pub line: usize,
    pub column: String,
    pub message: String,
}

/// Spreadsheet letters: 1 -> A, 27 -> AA.
pub fn col_name(n: usize) -> String {
    let mut n = n;
    let mut s = String::new();
    while n > 0 {
        let r = (n - 1) % 26;
        s.insert(0, (b'A' + r as u8) as char);
        n = (n - 1) / 26;
    }
    s
}

/// Every error by line and column (letter and header), in the reader's language.
pub fn err_lines(errors: &[RowError], lang: Lang) -> Vec<ErrLine> {
    errors
        .iter()
        .map(|e| ErrLine {
            line: e.line,
            column: match (e.column, &e.column_name) {
                (Some(c), Some(n)) => format!("{} ({n})", col_name(c)),
                (Some(c), None) => col_name(c),
                (None, Some(n)) => n.clone(),
                (None, None) => String::new(),
            },
            message: lang.pick(&e.zh, &e.en).to_owned(),
        })
        .collect()
}

/// One row of the file as read, `width` cells wide, its bad cells marked with their errors.
pub fn preview_row(
    line: usize,
    cells: &[String],
    width: usize,
    errors: &[RowError],
    lang: Lang,
) -> PreviewRow {
    let mine: Vec<&RowError> = errors.iter().filter(|e| e.line == line).collect();
    PreviewRow {
        line,
        bad: !mine.is_empty(),
        notes: mine
            .iter()
            .filter(|e| e.column.is_none())
            .map(|e| lang.pick(&e.zh, &e.en).to_owned())
            .collect(),
        cells: (0..width)
            .map(|i| {
                let why: Vec<&str> = mine
                    .iter()
                    .filter(|e| e.column == Some(i + 1))
                    .map(|e| lang.pick(&e.zh, &e.en))
                    .collect();
                Cell {
                    text: cells.get(i).cloned().unwrap_or_default(),
                    bad: !why.is_empty(),
                    why: why.join("；"),
                }
            })
            .collect(),
    }
}

/// A CSV template as a download, never cached.
pub fn download(name: &str, body: String) -> WebResult {
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_are_named_as_a_spreadsheet_names_them() {
        assert_eq!(super::col_name(1), "A");
        assert_eq!(super::col_name(12), "L");
        assert_eq!(super::col_name(16), "P");
        assert_eq!(super::col_name(26), "Z");
        assert_eq!(super::col_name(27), "AA");
    }
}
