//! Receiving by a CSV file: the template to fill in, the upload checked without writing
//! anything (every bad cell with its line and column), and receiving the checked file.

use crate::web::ctx::Query;
use axum::Form;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Redirect};
use domain::Lang;
use domain::stock::{self, CsvPolicy};
use serde::Deserialize;

use crate::state::{AppState, publish_events};
use crate::web::account::messages;
use crate::web::csv_page::{ErrLine, PreviewRow, download, err_lines, preview_row};
use crate::web::ctx::{claim, finish};
use crate::web::ctx::{page, random_token};
use crate::web::dealer::Console;
use crate::web::{Chrome, Ctx, WebError, WebResult};

use super::{LotFields, render};

/// The template's columns: (English header, Chinese header, example cell).
const TEMPLATE: &[(&str, &str, &str)] = &[
    ("gtin", "商品条码", ""),
    ("product", "产品名称", "复合肥 15-15-15"),
    ("pack", "规格", "40 kg"),
    ("lot_no", "批号", "20260301A"),
    ("produced_on", "生产日期", "2026-03-01"),
    ("expires_on", "有效期至", "2028-02-28"),
    ("quantity", "数量", "20"),
    ("unit_cost", "进货单价", "128.50"),
    ("supplier_name", "供货单位", "某某农资有限公司"),
    (
        "supplier_licence_no",
        "供货单位许可证号",
        "农药经营许可证号或营业执照号",
    ),
    ("supplier_contact", "联系方式", "13800000000"),
    ("source_document", "来源单据", "进货单 2026-0301"),
    ("inspection_report_no", "检验报告编号", ""),
    ("inspection_lab", "检验机构", ""),
    ("inspection_result", "检验结果", ""),
    ("inspection_date", "检验日期", ""),
];

#[derive(Deserialize, Default)]
pub struct LangQuery {
    #[serde(default)]
    lang: String,
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// `GET /dealer/receiving/template.csv?lang=zh|en`: the columns, with one example row, in
/// UTF-8 with a BOM so Excel opens the Chinese right.
pub async fn template(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<LangQuery>,
) -> WebResult {
    Console::open(&state, &ctx, "", "receiving").await?;
    let zh = match q.lang.as_str() {
        "zh" => true,
        "en" => false,
        _ => ctx.lang == Lang::Zh,
    };
    let head: Vec<&str> = TEMPLATE
        .iter()
        .map(|c| if zh { c.1 } else { c.0 })
        .collect();
    let example: Vec<String> = TEMPLATE.iter().map(|c| csv_cell(c.2)).collect();
    let body = format!("\u{feff}{}\r\n{}\r\n", head.join(","), example.join(","));
    let name = if zh {
        "receiving-template-zh.csv"
    } else {
        "receiving-template-en.csv"
    };
    download(name, body)
}

#[derive(askama::Template)]
#[template(path = "dealer/receiving_preview.html")]
struct PreviewPage {
    c: Chrome,
    headers: Vec<String>,
    rows: Vec<PreviewRow>,
    errors: Vec<ErrLine>,
    good: usize,
    bad: usize,
    text: String,
    idem: String,
    /// True when a receive was tried and refused (the file changed between preview and send).
    refused: bool,
}

async fn preview_page(state: &AppState, ctx: &Ctx, text: String, refused: bool) -> WebResult {
    let con = Console::open(state, ctx, ctx.l("核对 CSV", "Check the CSV"), "receiving").await?;
    let (o, _) = stock::receive_csv(
        state.db(),
        con.actor(),
        con.dealer_id(),
        &text,
        CsvPolicy::Preview,
    )
    .await?;
    let lang = ctx.lang;
    let errors = err_lines(&o.errors, lang);
    let width = o
        .rows
        .iter()
        .map(|r| r.cells.len())
        .max()
        .unwrap_or(0)
        .max(o.headers.len());
    let rows: Vec<PreviewRow> = o
        .rows
        .iter()
        .map(|r| preview_row(r.line, &r.cells, width, &o.errors, lang))
        .collect();
    let good = o.good_lines.len();
    let bad = rows.iter().filter(|r| r.bad).count();
    let mut headers = o.headers.clone();
    headers.resize(width, String::new());
    page(&PreviewPage {
        c: con.c,
        headers,
        rows,
        errors,
        good,
        bad,
        text,
        idem: random_token(),
        refused,
    })
}

/// The largest CSV accepted (a day's delivery is a few hundred rows).
const MAX_CSV: usize = 1024 * 1024;

/// `POST /dealer/receiving/csv` (multipart: `csrf`, `file`): checks the file and shows it,
/// writing nothing.
pub async fn upload(State(state): State<AppState>, ctx: Ctx, mut mp: Multipart) -> WebResult {
    let mut csrf = String::new();
    let mut bytes: Option<Vec<u8>> = None;
    let bad_form = |zh: &'static str, en: &'static str| WebError::Refused { zh, en };
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|_| bad_form("上传中断，请重试", "the upload was cut off: try again"))?
    {
        match field.name() {
            Some("csrf") => {
                csrf = field.text().await.unwrap_or_default();
            }
            Some("file") => {
                let b = field.bytes().await.map_err(|_| {
                    bad_form("上传中断，请重试", "the upload was cut off: try again")
                })?;
                bytes = Some(b.to_vec());
            }
            _ => {}
        }
    }
    ctx.check_csrf(&csrf)?;
    Console::open(&state, &ctx, "", "receiving").await?;
    let problem = match &bytes {
        None => Some(ctx.l("请选择要上传的 CSV 文件", "Choose a CSV file to upload")),
        Some(b) if b.iter().all(|c| c.is_ascii_whitespace()) => {
            Some(ctx.l("文件是空的", "The file is empty"))
        }
        Some(b) if b.len() > MAX_CSV => Some(ctx.l(
            "文件太大（最大 1 MB）：请分成几个文件上传",
            "The file is too large (1 MB at most): split it into several files",
        )),
        Some(b) if std::str::from_utf8(b).is_err() => Some(ctx.l(
            "文件不是 UTF-8 编码：在 Excel 中请“另存为 CSV UTF-8（逗号分隔）”",
            "The file is not UTF-8: in Excel use Save As \"CSV UTF-8 (Comma delimited)\"",
        )),
        _ => None,
    };
    if let Some(p) = problem {
        return render(
            &state,
            &ctx,
            LotFields::default(),
            vec![],
            vec![p.to_owned()],
            &[],
        )
        .await;
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
    /// `skip` receives only the good rows; anything else the whole file or nothing.
    #[serde(default)]
    policy: String,
}

/// `POST /dealer/receiving/csv/apply`: receives the checked file (one-shot).
pub async fn apply(State(state): State<AppState>, ctx: Ctx, Form(f): Form<ApplyForm>) -> WebResult {
    ctx.check_csrf(&f.csrf)?;
    let con = Console::open(&state, &ctx, "", "receiving").await?;
    if let Err(done) = claim(&state, con.session, &f.idem, "/dealer/receiving").await? {
        return Ok(done);
    }
    let policy = if f.policy == "skip" {
        CsvPolicy::SkipInvalid
    } else {
        CsvPolicy::RejectAll
    };
    let result =
        stock::receive_csv(state.db(), con.actor(), con.dealer_id(), &f.text, policy).await;
    match result {
        Ok((o, events)) if o.committed && !o.received.is_empty() => {
            publish_events(&state, events).await;
            let mut lots: Vec<i64> = o.received.iter().map(|r| r.lot_id).collect();
            lots.dedup();
            let url = format!(
                "/dealer/receiving?lots={}",
                lots.iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            );
            finish(&state, con.session, &f.idem, Some(&url)).await?;
            Ok(Redirect::to(&url).into_response())
        }
        Ok(_) => {
            finish(&state, con.session, &f.idem, None).await?;
            preview_page(&state, &ctx, f.text, true).await
        }
        Err(e) => {
            finish(&state, con.session, &f.idem, None).await?;
            let errors = messages(e, &ctx)?;
            render(&state, &ctx, LotFields::default(), vec![], errors, &[]).await
        }
    }
}
