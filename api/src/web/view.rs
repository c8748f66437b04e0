//! Words and numbers as a person reads them: money in yuan from integer fen, times in China
//! time, order states, delivery and payment in words, stock in words.

use chrono::{DateTime, Utc};
use domain::Lang;
use domain::catalog::Category;
use domain::orders::{DeliveryMode, PaymentMethod, PaymentStatus, Status};
use domain::regions::LicenceKind;
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

pub fn status_words(s: Status, lang: Lang) -> &'static str {
    let (zh, en) = match s {
        Status::Placed => ("已下单，等待经销商确认", "Placed, waiting for the dealer"),
        Status::Confirmed => ("经销商已确认，正在备货", "Confirmed by the dealer"),
        Status::ReadyForPickup => ("已备好，可以取货", "Ready to collect"),
        Status::OutForDelivery => ("正在配送", "Out for delivery"),
        Status::Delivered => ("已交货", "Handed over"),
        Status::Completed => ("已完成", "Completed"),
        Status::Cancelled => ("已取消", "Cancelled"),
        Status::Expired => (
            "经销商未按时确认，订单已关闭",
            "Closed: the dealer did not confirm in time",
        ),
    };
    lang.pick(zh, en)
}

pub fn delivery_words(s: DeliveryMode, lang: Lang) -> &'static str {
    let (zh, en) = match s {
        DeliveryMode::Pickup => ("到店自提", "Collect at the store"),
        DeliveryMode::VillageStation => ("村级服务站自提", "Collect at the village station"),
        DeliveryMode::Home => ("送货上门", "Home delivery"),
    };
    lang.pick(zh, en)
}

pub fn payment_words(s: PaymentMethod, lang: Lang) -> &'static str {
    let (zh, en) = match s {
        PaymentMethod::CashOnDelivery => ("货到付款", "Pay on delivery"),
        PaymentMethod::DealerCredit => ("经销商赊账", "Dealer credit"),
        PaymentMethod::Online => ("在线支付", "Online payment"),
    };
    lang.pick(zh, en)
}

pub fn payment_status_words(s: PaymentStatus, lang: Lang) -> &'static str {
    let (zh, en) = match s {
        PaymentStatus::Pending => ("待付款", "to be paid"),
        PaymentStatus::Authorised => ("已授权，交货时扣款", "authorised, charged at hand-over"),
        PaymentStatus::Captured | PaymentStatus::Paid => ("已付款", "paid"),
        PaymentStatus::OnCredit => ("记入赊账", "on credit"),
        PaymentStatus::CreditReleased => ("赊账已撤销", "credit released"),
        PaymentStatus::Voided => ("授权已撤销", "authorisation voided"),
        PaymentStatus::Refunded => ("已退款", "refunded"),
        PaymentStatus::Failed => ("支付失败", "payment failed"),
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

pub fn category_words(c: Category, lang: Lang) -> &'static str {
    let (zh, en) = match c {
        Category::Fertiliser => ("化肥", "Fertiliser"),
        Category::Seed => ("种子", "Seed"),
        Category::Pesticide => ("农药", "Pesticide"),
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

pub fn licence_words(kind: LicenceKind, lang: Lang) -> &'static str {
    let (zh, en) = match kind {
        LicenceKind::PesticideBusiness => ("农药经营许可证", "pesticide dealer licence"),
        LicenceKind::RestrictedPesticide => {
            ("限制使用农药经营许可证", "restricted-use pesticide licence")
        }
        LicenceKind::SeedBusiness => ("种子经营许可证", "seed dealer licence"),
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

/// One application of a recommendation's split, as the pages show it.
pub struct ApplicationRow {
    pub stage: String,
    pub timing: String,
    pub n: String,
    pub p: String,
    pub k: String,
}

/// The basal dressing and the top-dressings of a recommendation, kg per mu of nutrient.
pub fn application_rows(
    r: &domain::entities::recommendation::Model,
    lang: Lang,
) -> Vec<ApplicationRow> {
    domain::agronomy::applications(r)
        .into_iter()
        .map(|a| ApplicationRow {
            stage: lang.pick(&a.stage_zh, &a.stage_en).to_owned(),
            timing: lang.pick(&a.timing_zh, &a.timing_en).to_owned(),
            n: half_kg(a.kg_per_mu[0]),
            p: half_kg(a.kg_per_mu[1]),
            k: half_kg(a.kg_per_mu[2]),
        })
        .collect()
}

/// This year's lime of a recommendation in words, per mu and for the field, with the same
/// neutralising power as quicklime or slaked lime and, when it is spread over years, the whole.
pub fn lime_line(
    r: &domain::entities::recommendation::Model,
    area_mu: f64,
    lang: Lang,
) -> Option<String> {
    let l = domain::agronomy::lime(r).filter(|l| l.this_year_limestone_kg_per_mu > 0.0)?;
    let (now, all) = (
        half_kg(l.this_year_limestone_kg_per_mu),
        half_kg(l.limestone_kg_per_mu),
    );
    let (quick, slaked) = (
        half_kg(l.quicklime_kg_per_mu),
        half_kg(l.slaked_lime_kg_per_mu),
    );
    let field = l.this_year_limestone_kg_per_mu * area_mu;
    let years = l.years;
    Some(match lang {
        Lang::Zh => {
            let later = if years > 1 {
                format!("；共需 {all} 公斤/亩，分 {years} 年施")
            } else {
                String::new()
            };
            format!(
                "今年每亩撒施石灰石粉 {now} 公斤（全块 {field:.0} 公斤），或生石灰 {quick} 公斤、熟石灰 {slaked} 公斤{later}"
            )
        }
        Lang::En => {
            let later = if years > 1 {
                format!("; {all} kg/mu in all, over {years} years")
            } else {
                String::new()
            };
            format!(
                "this year {now} kg/mu of ground limestone ({field:.0} kg for the field), or {quick} kg/mu of quicklime or {slaked} kg/mu of slaked lime{later}"
            )
        }
    })
}
