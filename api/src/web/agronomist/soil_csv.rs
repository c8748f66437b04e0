//! A lab's soil tests by a CSV file: the template to fill in (Chinese or English headers), the
//! upload checked without writing anything (every bad cell with its line and column), and the
//! checked file imported whole (a file with a bad row imports nothing).

use axum::Form;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Redirect};
use domain::Lang;
use domain::stock::CsvPolicy;
use serde::Deserialize;

use super::Desk;
use crate::state::AppState;
use crate::web::account::messages;
use crate::web::csv_page::{ErrLine, PreviewRow, download, err_lines, preview_row};
use crate::web::ctx::{Query, claim, finish, page, random_token};
use crate::web::{Chrome, Ctx, WebError, WebResult};

/// The largest CSV accepted (a county's season of samples is a few thousand rows).
const MAX_CSV: usize = 2 * 1024 * 1024;

#[derive(askama::Template)]
#[template(path = "agronomist/soil_upload.html")]
struct UploadPage {
    c: Chrome,
    errors: Vec<String>,
    imported: usize,
}

#[derive(Deserialize, Default)]
pub struct UploadQuery {
    #[serde(default)]
    imported: usize,
}

async fn render_upload(
    state: &AppState,
    ctx: &Ctx,
    errors: Vec<String>,
    imported: usize,
) -> WebResult {
    let desk = Desk::open(
        state,
        ctx,
        ctx.l("导入化验单", "Import a lab's CSV"),
        "soil",
    )
    .await?;
    page(&UploadPage {
        c: desk.c,
        errors,
        imported,
    })
}

/// `GET /agronomist/soil-tests`.
pub async fn upload_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<UploadQuery>,
) -> WebResult {
    render_upload(&state, &ctx, vec![], q.imported).await
}

#[derive(Deserialize, Default)]
pub struct LangQuery {
    #[serde(default)]
    lang: String,
}

/// `GET /agronomist/soil-tests/template.csv?lang=zh|en`: the columns with one example row, in
/// UTF-8 with a BOM so Excel opens the Chinese right.
pub async fn template(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<LangQuery>,
) -> WebResult {
    Desk::open(&state, &ctx, "", "soil").await?;
    let zh = match q.lang.as_str() {
        "zh" => true,
        "en" => false,
        _ => ctx.lang == Lang::Zh,
    };
    // The lab-style headers the import reads, with their units, and one example row
    // (`domain::agronomy::soil_csv_template`, UTF-8 with a BOM so Excel opens the Chinese).
    let body = domain::agronomy::soil_csv_template(if zh { Lang::Zh } else { Lang::En });
    let name = if zh {
        "soil-tests-template-zh.csv"
    } else {
        "soil-tests-template-en.csv"
    };
    download(name, body)
}

#[derive(askama::Template)]
#[template(path = "agronomist/soil_preview.html")]
struct PreviewPage {
    c: Chrome,
    headers: Vec<String>,
    rows: Vec<PreviewRow>,
    errors: Vec<ErrLine>,
    good: usize,
    bad: usize,
    text: String,
    idem: String,
    refused: bool,
}

async fn preview_page(state: &AppState, ctx: &Ctx, text: String, refused: bool) -> WebResult {
    let desk = Desk::open(
        state,
        ctx,
        ctx.l("核对化验单", "Check the lab's CSV"),
        "soil",
    )
    .await?;
    let o = domain::agronomy::check_soil_csv(state.db(), desk.actor(), &text).await?;
    let lang = ctx.lang;
    let errors = err_lines(&o.errors, lang);
    // The file as the import reads it (same reader, same line numbers), for the table.
    let (mut rdr, body) = domain::csv_import::reader(&text);
    let mut counter = domain::csv_import::CsvLines::new(body);
    let mut lines: Vec<(usize, Vec<String>)> = Vec::new();
    if let Ok(h) = rdr.headers() {
        lines.push((1, h.iter().map(str::to_owned).collect()));
    }
    for rec in rdr.records().flatten() {
        let line = rec.position().map(|p| counter.line(p)).unwrap_or(0);
        lines.push((line, rec.iter().map(str::to_owned).collect()));
    }
    let headers = lines.first().map(|l| l.1.clone()).unwrap_or_default();
    let width = lines.iter().map(|l| l.1.len()).max().unwrap_or(0);
    let rows: Vec<PreviewRow> = lines
        .iter()
        .skip(1)
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()))
        .map(|(line, cells)| preview_row(*line, cells, width, &o.errors, lang))
        .collect();
    // Counted from the rows as read, not from what the check would store, so the page says the
    // same whatever the import does with a checked file's rows.
    let bad_lines: std::collections::BTreeSet<usize> = o.errors.iter().map(|e| e.line).collect();
    let good = rows.iter().filter(|r| !r.bad).count();
    let mut headers = headers;
    headers.resize(width, String::new());
    page(&PreviewPage {
        c: desk.c,
        headers,
        good,
        bad: bad_lines.len(),
        rows,
        errors,
        text,
        idem: random_token(),
        refused,
    })
}

/// `POST /agronomist/soil-tests/csv` (multipart: `csrf`, `file`): checks the file and shows
/// it, writing nothing.
pub async fn upload(State(state): State<AppState>, ctx: Ctx, mut mp: Multipart) -> WebResult {
    let mut csrf = String::new();
    let mut bytes: Option<Vec<u8>> = None;
    let cut = || WebError::Refused {
        zh: "上传中断，请重试",
        en: "the upload was cut off: try again",
    };
    while let Some(field) = mp.next_field().await.map_err(|_| cut())? {
        match field.name() {
            Some("csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("file") => bytes = Some(field.bytes().await.map_err(|_| cut())?.to_vec()),
            _ => {}
        }
    }
    ctx.check_csrf(&csrf)?;
    Desk::open(&state, &ctx, "", "soil").await?;
    let problem = match &bytes {
        None => Some(ctx.l("请选择要上传的 CSV 文件", "Choose a CSV file to upload")),
        Some(b) if b.iter().all(|c| c.is_ascii_whitespace()) => {
            Some(ctx.l("文件是空的", "The file is empty"))
        }
        Some(b) if b.len() > MAX_CSV => Some(ctx.l(
            "文件太大（最大 2 MB）：请分成几个文件上传",
            "The file is too large (2 MB at most): split it into several files",
        )),
        Some(b) if std::str::from_utf8(b).is_err() => Some(ctx.l(
            "文件不是 UTF-8 编码：在 Excel 中请“另存为 CSV UTF-8（逗号分隔）”",
            "The file is not UTF-8: in Excel use Save As \"CSV UTF-8 (Comma delimited)\"",
        )),
        _ => None,
    };
    if let Some(p) = problem {
        return super::refused(render_upload(&state, &ctx, vec![p.to_owned()], 0).await);
    }
    let text = String::from_utf8(bytes.unwrap_or_default()).unwrap_or_default();
    preview_page(&state, &ctx, text, false).await
}

#[derive(Deserialize)]
pub struct ApplyForm {
    csrf: String,
    #[serde(default)]
    idem: String,
    text: String,
}

/// `POST /agronomist/soil-tests/csv/apply` (one-shot): imports the checked file whole; if a
/// row has gone bad since the check, nothing is imported and the check is shown again.
pub async fn apply(State(state): State<AppState>, ctx: Ctx, Form(f): Form<ApplyForm>) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let desk = Desk::open(&state, &ctx, "", "soil").await?;
    if let Err(done) = claim(&state, desk.session, &f.idem, "/agronomist/soil-tests").await? {
        return Ok(done);
    }
    let result =
        domain::agronomy::import_soil_csv(state.db(), desk.actor(), &f.text, CsvPolicy::RejectAll)
            .await;
    match result {
        Ok(o) if o.committed && !o.imported.is_empty() => {
            let url = format!("/agronomist/soil-tests?imported={}", o.imported.len());
            finish(&state, desk.session, &f.idem, Some(&url)).await?;
            Ok(Redirect::to(&url).into_response())
        }
        Ok(_) => {
            finish(&state, desk.session, &f.idem, None).await?;
            super::refused(preview_page(&state, &ctx, f.text, true).await)
        }
        Err(e) => {
            finish(&state, desk.session, &f.idem, None).await?;
            let errors = messages(e, &ctx)?;
            super::refused(render_upload(&state, &ctx, errors, 0).await)
        }
    }
}
