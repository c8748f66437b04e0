//! The farmer's complaints (投诉): `GET /complaints` lists them with their outcome;
//! `GET /complaints/new?order=…` or `?code=…` is the form (reached from an order's page and from
//! the trace page), `POST /complaints` files it (multipart, so it works without JavaScript: the
//! text, one JPEG/PNG/WebP photo of at most 2 MB); `GET /complaints/{id}/photo` serves the photo
//! to the farmer who filed it and the county's regulators only.

use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::bureau::complaints::{self as bc, ComplaintInput, Photo};
use serde::Deserialize;

use crate::state::AppState;
use crate::web::account::messages;
use crate::web::ctx::{Path, Query, page};
use crate::web::view::china_time;
use crate::web::{Chrome, Ctx, WebError, WebResult};

pub struct MyComplaint {
    pub id: i64,
    pub at: String,
    pub about: String,
    pub body: String,
    pub has_photo: bool,
    pub status: &'static str,
    pub open: bool,
    pub outcome: String,
    pub resolved_at: String,
}

#[derive(askama::Template)]
#[template(path = "complaints.html")]
struct ComplaintsPage {
    c: Chrome,
    rows: Vec<MyComplaint>,
    filed: Option<i64>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    filed: Option<i64>,
}

/// `GET /complaints`.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult {
    let (actor, _) = ctx.farmer()?;
    let rows = bc::my_complaints(state.db(), actor)
        .await?
        .into_iter()
        .map(|v| {
            let (zh, en) = bc::status_words(v.c.status);
            let about = match (v.c.order_id, &v.c.code) {
                (Some(o), _) => format!("{} {o}", ctx.l("订单", "Order")),
                (None, Some(code)) => format!("{} {code}", ctx.l("追溯码", "Trace code")),
                _ => String::new(),
            };
            let dealer = v
                .dealer
                .as_ref()
                .map(|d| format!(" · {}", ctx.l(&d.name_zh, &d.name_en)))
                .unwrap_or_default();
            MyComplaint {
                id: v.c.id,
                at: china_time(v.c.created_at),
                about: format!("{about}{dealer}"),
                body: v.c.body.clone(),
                has_photo: v.has_photo,
                status: ctx.l(zh, en),
                open: v.c.status == domain::types::ComplaintStatus::Open,
                outcome: v.c.outcome.clone().unwrap_or_default(),
                resolved_at: v.c.resolved_at.map(china_time).unwrap_or_default(),
            }
        })
        .collect();
    page(&ComplaintsPage {
        c: Chrome::new(&ctx, ctx.l("我的投诉", "My complaints"), "orders"),
        rows,
        filed: q.filed,
    })
}

#[derive(askama::Template)]
#[template(path = "complaint_new.html")]
struct NewPage {
    c: Chrome,
    order: String,
    code: String,
    body: String,
    errors: Vec<String>,
    max_chars: usize,
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    order: Option<i64>,
    #[serde(default)]
    code: String,
}

/// `GET /complaints/new?order=…|code=…`.
pub async fn form(ctx: Ctx, Query(q): Query<NewQuery>) -> WebResult {
    ctx.farmer()?;
    render_form(
        &ctx,
        q.order.map(|o| o.to_string()).unwrap_or_default(),
        q.code.trim().chars().take(300).collect(),
        String::new(),
        vec![],
    )
}

fn render_form(
    ctx: &Ctx,
    order: String,
    code: String,
    body: String,
    errors: Vec<String>,
) -> WebResult {
    let refused = !errors.is_empty();
    let mut r = page(&NewPage {
        c: Chrome::new(ctx, ctx.l("投诉", "Complain"), "orders"),
        order,
        code,
        body,
        errors,
        max_chars: bc::MAX_BODY_CHARS,
    })?;
    if refused {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

/// The largest request the form may send: the photo's limit and room for the text, so a photo
/// somewhat over 2 MB still reaches the check that says so in words.
pub const MAX_FORM_BODY: usize = 8 * 1024 * 1024;

/// `POST /complaints` (multipart: `csrf`, `order` or `code`, `body`, `photo`).
pub async fn file(State(state): State<AppState>, ctx: Ctx, mut mp: Multipart) -> WebResult {
    let mut csrf = String::new();
    let (mut order, mut code, mut body) = (String::new(), String::new(), String::new());
    let mut photo: Option<Photo> = None;
    let cut = || WebError::Refused {
        zh: "上传中断或照片太大，请重试（照片最大 2 MB）",
        en: "the upload was cut off or the photo is too big: try again (2 MB at most)",
    };
    while let Some(field) = mp.next_field().await.map_err(|_| cut())? {
        match field.name() {
            Some("csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("order") => order = field.text().await.unwrap_or_default(),
            Some("code") => code = field.text().await.unwrap_or_default(),
            Some("body") => body = field.text().await.unwrap_or_default(),
            Some("photo") => {
                let declared = field.content_type().map(str::to_owned);
                let bytes = field.bytes().await.map_err(|_| cut())?;
                // A form sent without choosing a file carries an empty part.
                if !bytes.is_empty() {
                    photo = Some(Photo {
                        declared_type: declared,
                        bytes: bytes.to_vec(),
                    });
                }
            }
            _ => {}
        }
    }
    ctx.check_csrf(&csrf)?;
    let (actor, _) = ctx.farmer()?;
    let order_id = match order.trim() {
        "" => None,
        o => match o.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                let e = vec![
                    ctx.l("订单号不对", "That is not an order number")
                        .to_owned(),
                ];
                return render_form(&ctx, order, code, body, e);
            }
        },
    };
    let input = ComplaintInput {
        order_id,
        code: Some(code.clone()).filter(|c| !c.trim().is_empty()),
        body: body.clone(),
        photo,
    };
    match bc::file_complaint(state.db(), actor, input).await {
        Ok(c) => {
            Ok(Redirect::to(&format!("/complaints?filed={}#c-{}", c.id, c.id)).into_response())
        }
        Err(e) => {
            let errors = messages(e, &ctx)?;
            render_form(&ctx, order, code, body, errors)
        }
    }
}

/// `GET /complaints/{id}/photo`: the farmer who filed it, the county's regulators, admins.
pub async fn photo(State(state): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> WebResult {
    let s = ctx.signed_in()?;
    // A station keeper acting for a farmer sees what that farmer sees.
    let actor = s.farmer().map(|(a, _)| a).unwrap_or(&s.actor);
    let (t, bytes) = bc::complaint_photo(state.db(), actor, id).await?;
    let r: Response = (
        [
            (header::CONTENT_TYPE, t),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response();
    Ok(r)
}
