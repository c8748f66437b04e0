//! The QR codes of a lot's or unit's trace page: the page's address and the SVG/PNG downloads.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use domain::lots::trace;

use super::RestError;
use crate::state::{AppState, lang_of};

pub(crate) fn trace_url(headers: &HeaderMap, code: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("http");
    format!("{scheme}://{host}/t/{code}")
}

/// `GET /t/{code}/qr.svg` and `/qr.png`: the QR code of the trace page of a lot or unit.
pub async fn trace_qr(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((code, file)): Path<(String, String)>,
) -> Result<Response, RestError> {
    let lang = lang_of(&headers);
    match trace::resolve_code(state.db(), &code).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Err(RestError::not_found(
                lang,
                "未找到该追溯码",
                "unknown trace code",
            ));
        }
        // Only a database error: logged with its causes, answered with the short message.
        Err(e) => {
            let short = RestError::internal(lang);
            return Err(RestError::from_domain(e, lang).with_message(short.message()));
        }
    }
    let url = trace_url(&headers, &code);
    let qr = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| RestError::bad_input(lang, "追溯码过长", "trace code too long"))?;
    let name = format!(
        "attachment; filename=\"nongzi-{code}.{}\"",
        if file == "qr.png" { "png" } else { "svg" }
    );
    match file.as_str() {
        "qr.svg" => {
            let svg = qr
                .render::<qrcode::render::svg::Color>()
                .min_dimensions(256, 256)
                .quiet_zone(true)
                .build();
            Ok((
                [
                    (header::CONTENT_TYPE, "image/svg+xml"),
                    (header::CONTENT_DISPOSITION, name.as_str()),
                ],
                svg,
            )
                .into_response())
        }
        "qr.png" => match qr_png(&qr) {
            Ok(png) => Ok((
                [
                    (header::CONTENT_TYPE, "image/png"),
                    (header::CONTENT_DISPOSITION, name.as_str()),
                ],
                png,
            )
                .into_response()),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "png");
                Err(RestError::internal(lang))
            }
        },
        _ => Err(RestError::not_found(lang, "未找到", "not found")),
    }
}

/// Renders a QR code as a grayscale PNG: 8 pixels a module, with a 4-module quiet zone
/// (ISO/IEC 18004 asks for at least 4).
fn qr_png(qr: &qrcode::QrCode) -> anyhow::Result<Vec<u8>> {
    const SCALE: usize = 8;
    const QUIET: usize = 4;
    let w = qr.width();
    let side = (w + 2 * QUIET) * SCALE;
    let colors = qr.to_colors();
    let mut pixels = vec![255u8; side * side];
    for y in 0..w {
        for x in 0..w {
            if colors[y * w + x] == qrcode::Color::Dark {
                for dy in 0..SCALE {
                    let row = (y + QUIET) * SCALE + dy;
                    let start = row * side + (x + QUIET) * SCALE;
                    pixels[start..start + SCALE].fill(0);
                }
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, side as u32, side as u32);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header()?;
        w.write_image_data(&pixels)?;
    }
    Ok(out)
}
