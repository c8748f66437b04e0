//! AHDB RB209: soil indices from mg/l results and the yield adjustment of table values.

use serde::Serialize;

use crate::data::IndexScale;
use crate::explain::{Step, num};
use crate::units::{KgPerHa, MgPerLitre};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoilIndex {
    pub value_mg_per_l: f64,
    /// The index label (`0`, `1`, `2-`, `2+`, ...); `> 4` style when above the table.
    pub index: String,
    pub range_mg_per_l: String,
    /// Relative to the target index (P 2, K 2-), when the scale has one: `below`, `at`, `above`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versus_target: Option<&'static str>,
}

/// The index whose lowest value the result reaches. mg/l stays mg/l: no density is assumed.
pub fn soil_index<Q>(value: MgPerLitre<Q>, scale: &IndexScale) -> SoilIndex {
    let v = value.value();
    let pos = scale
        .indices
        .iter()
        .rposition(|r| v >= r.min_mg_per_l)
        .unwrap_or(0);
    let last = scale.indices.len() - 1;
    let (index, range) = if v > scale.max_mg_per_l {
        (
            format!("> {}", scale.indices[last].index),
            format!("> {}", num(scale.max_mg_per_l)),
        )
    } else {
        let lo = scale.indices[pos].min_mg_per_l;
        // The printed tables use whole mg/l: an index ends one below the next index's start.
        let hi = scale
            .indices
            .get(pos + 1)
            .map_or(scale.max_mg_per_l, |n| n.min_mg_per_l - 1.0);
        (
            scale.indices[pos].index.clone(),
            format!("{}-{}", num(lo), num(hi)),
        )
    };
    let versus_target = scale.target_index.as_ref().and_then(|t| {
        let target = scale.indices.iter().position(|r| &r.index == t)?;
        let here = if v > scale.max_mg_per_l {
            last + 1
        } else {
            pos
        };
        Some(match here.cmp(&target) {
            std::cmp::Ordering::Less => "below",
            std::cmp::Ordering::Equal => "at",
            std::cmp::Ordering::Greater => "above",
        })
    });
    SoilIndex {
        value_mg_per_l: v,
        index,
        range_mg_per_l: range,
        versus_target,
    }
}

pub fn index_step(what: &str, zh: &str, idx: &SoilIndex) -> Step {
    Step::new(
        "index = the RB209 band that holds the mg/l result",
        format!("{} mg/l in {}", num(idx.value_mg_per_l), idx.range_mg_per_l),
        format!("index {}", idx.index),
        format!("{zh} 指数 {}", idx.index),
        format!("{what} index {}", idx.index),
    )
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YieldAdjustment<F> {
    /// Expected − table yield, t/ha (signed).
    pub yield_difference_t: f64,
    pub adjustment_kg: f64,
    pub rate: KgPerHa<F>,
    /// The adjustment would have made the rate negative.
    pub clamped: bool,
}

/// rate = table value + (expected yield − table yield) × offtake per tonne.
pub fn adjust_for_yield<F>(
    table_value: KgPerHa<F>,
    table_yield_t_per_ha: f64,
    expected_yield_t_per_ha: f64,
    offtake_kg_per_t: f64,
) -> YieldAdjustment<F> {
    let diff = expected_yield_t_per_ha - table_yield_t_per_ha;
    let adjustment = diff * offtake_kg_per_t;
    let raw = table_value.value() + adjustment;
    YieldAdjustment {
        yield_difference_t: diff,
        adjustment_kg: adjustment,
        rate: KgPerHa::new(raw.max(0.0)),
        clamped: raw < 0.0,
    }
}

pub fn adjustment_step<F>(
    oxide: &str,
    table_value: KgPerHa<F>,
    offtake: f64,
    adj: &YieldAdjustment<F>,
) -> Step {
    Step::new(
        "rate = table value + (expected yield − table yield) × offtake per t",
        format!(
            "{} + {} × {}",
            num(table_value.value()),
            num(adj.yield_difference_t),
            num(offtake)
        ),
        format!("{} kg {oxide}/ha", num(adj.rate.value())),
        "按预期产量与表列产量之差调整（RB209 带走量）",
        "table value adjusted by the yield difference times the offtake (RB209)",
    )
}
