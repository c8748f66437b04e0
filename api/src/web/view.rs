//! Words and numbers as a person reads them: money in yuan from integer fen, times in China
//! time, order states, delivery and payment in words, stock in words.

use chrono::{DateTime, Utc};
use domain::Lang;
use domain::orders::{DeliveryMode, PaymentMethod, Status};
use domain::shop::StockWord;

/// `¥12.50` from 1250 fen.
pub fn money(fen: i64) -> String {
    domain::orders::money(fen)
}

/// China Standard Time (UTC+8), to the minute.
pub fn china_time(t: DateTime<Utc>) -> String {
    (t + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// English words that start a cell or a label: the first letter capitalised.
pub fn capitalised(en: &str) -> String {
    let mut c = en.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

pub fn status_words(s: &str, lang: Lang) -> &'static str {
    let (zh, en) = match Status::parse(s) {
        Some(Status::Placed) => ("已下单，等待经销商确认", "Placed, waiting for the dealer"),
        Some(Status::Confirmed) => ("经销商已确认，正在备货", "Confirmed by the dealer"),
        Some(Status::ReadyForPickup) => ("已备好，可以取货", "Ready to collect"),
        Some(Status::OutForDelivery) => ("正在配送", "Out for delivery"),
        Some(Status::Delivered) => ("已交货", "Handed over"),
        Some(Status::Completed) => ("已完成", "Completed"),
        Some(Status::Cancelled) => ("已取消", "Cancelled"),
        Some(Status::Expired) => (
            "经销商未按时确认，订单已关闭",
            "Closed: the dealer did not confirm in time",
        ),
        None => ("未知状态", "Unknown state"),
    };
    lang.pick(zh, en)
}

pub fn delivery_words(s: &str, lang: Lang) -> &'static str {
    let (zh, en) = match DeliveryMode::parse(s) {
        Some(DeliveryMode::Pickup) => ("到店自提", "Collect at the store"),
        Some(DeliveryMode::VillageStation) => ("村级服务站自提", "Collect at the village station"),
        Some(DeliveryMode::Home) => ("送货上门", "Home delivery"),
        None => ("", ""),
    };
    lang.pick(zh, en)
}

pub fn payment_words(s: &str, lang: Lang) -> &'static str {
    let (zh, en) = match PaymentMethod::parse(s) {
        Some(PaymentMethod::CashOnDelivery) => ("货到付款", "Pay on delivery"),
        Some(PaymentMethod::DealerCredit) => ("经销商赊账", "Dealer credit"),
        Some(PaymentMethod::Online) => ("在线支付", "Online payment"),
        None => ("", ""),
    };
    lang.pick(zh, en)
}

pub fn payment_status_words(s: &str, lang: Lang) -> &'static str {
    let (zh, en) = match s {
        "PENDING" => ("待付款", "to be paid"),
        "AUTHORISED" => ("已授权，交货时扣款", "authorised, charged at hand-over"),
        "CAPTURED" | "PAID" => ("已付款", "paid"),
        "ON_CREDIT" | "CREDIT" => ("记入赊账", "on credit"),
        "CREDIT_RELEASED" => ("赊账已撤销", "credit released"),
        "VOIDED" => ("授权已撤销", "authorisation voided"),
        "REFUNDED" => ("已退款", "refunded"),
        "FAILED" => ("支付失败", "payment failed"),
        _ => ("", ""),
    };
    lang.pick(zh, en)
}

/// 有货 / 仅剩 3 袋 / 缺货 (the unit is the pack: 袋 for bags, 瓶 for bottles).
pub fn stock_words(available: i64, pack_unit: &str, lang: Lang) -> String {
    let unit = match (pack_unit, lang) {
        ("L" | "ml", Lang::Zh) => "瓶",
        (_, Lang::Zh) => "袋",
        ("L" | "ml", Lang::En) => "bottles",
        (_, Lang::En) => "bags",
    };
    match domain::shop::stock_word(available) {
        StockWord::InStock => lang.pick("有货", "In stock").into(),
        StockWord::Few(n) => match lang {
            Lang::Zh => format!("仅剩 {n} {unit}"),
            Lang::En => format!("only {n} {unit} left"),
        },
        StockWord::Out => lang.pick("缺货", "Out of stock").into(),
    }
}

/// `few`, `out` or `ok`, for the colour of the stock words.
pub fn stock_class(available: i64) -> &'static str {
    match domain::shop::stock_word(available) {
        StockWord::InStock => "ok",
        StockWord::Few(_) => "few",
        StockWord::Out => "out",
    }
}

pub fn category_words(c: &str, lang: Lang) -> &'static str {
    let (zh, en) = match c {
        "FERTILISER" => ("化肥", "Fertiliser"),
        "SEED" => ("种子", "Seed"),
        "PESTICIDE" => ("农药", "Pesticide"),
        _ => ("", ""),
    };
    lang.pick(zh, en)
}

pub fn crop_words(code: &str, lang: Lang) -> String {
    match domain::catalog::crops::find(code) {
        Some((_, zh, en, _)) => lang.pick(zh, en).to_owned(),
        None => code.to_owned(),
    }
}

pub fn toxicity_words(t: &str, lang: Lang) -> &'static str {
    let (zh, en) = match t {
        "LOW" => ("低毒", "low toxicity"),
        "MODERATE" => ("中等毒", "moderately toxic"),
        "HIGH" => ("高毒", "highly toxic"),
        "SEVERE" => ("剧毒", "extremely toxic"),
        _ => ("", ""),
    };
    lang.pick(zh, en)
}

pub fn licence_words(kind: &str, lang: Lang) -> &'static str {
    let (zh, en) = match kind {
        "PESTICIDE_BUSINESS" => ("农药经营许可证", "pesticide dealer licence"),
        "RESTRICTED_PESTICIDE" => ("限制使用农药经营许可证", "restricted-use pesticide licence"),
        "SEED_BUSINESS" => ("种子经营许可证", "seed dealer licence"),
        _ => ("许可证", "licence"),
    };
    lang.pick(zh, en)
}

/// Half a kilogram is what a farmer can weigh out: rates per mu are shown to 0.5 kg.
pub fn half_kg(x: f64) -> String {
    let r = (x * 2.0).round() / 2.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// A registered use of a pesticide as a row of the uses table.
pub struct UseRow {
    pub crop: String,
    pub target: String,
    pub dose: String,
    pub phi: String,
}

/// The registered uses, in the reader's words: crop, target, dose per mu, pre-harvest interval.
pub fn uses(uses: Vec<domain::entities::pesticide_use::Model>, lang: Lang) -> Vec<UseRow> {
    uses.into_iter()
        .map(|u| UseRow {
            crop: crop_words(&u.crop, lang),
            target: lang.pick(&u.target_zh, &u.target_en).to_owned(),
            dose: format!(
                "{}–{} {}",
                u.dose_min,
                u.dose_max,
                lang.pick(&u.dose_unit.replace("/mu", "/亩"), &u.dose_unit)
            ),
            phi: match lang {
                Lang::Zh => format!("{} 天", u.phi_days),
                Lang::En => format!("{} days", u.phi_days),
            },
        })
        .collect()
}
