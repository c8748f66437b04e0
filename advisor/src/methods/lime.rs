//! Lime requirement from the Mehlich buffer pH (NCDA&CS).

use crate::data::LimeConstants;
use crate::explain::{Note, Step, num};
use crate::units::{Lime, Ph, UsTonPerAcre};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimeInput {
    pub current_ph: Ph,
    pub buffer_ph: Ph,
    pub target_ph: Ph,
    /// Credit for lime applied in recent years, US t/acre.
    pub residual_credit: UsTonPerAcre<Lime>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimeOutcome {
    /// Exchangeable acidity, meq/100 cm3 (0 when the buffer pH is at or above the reference).
    pub acidity: f64,
    /// 0 when the soil is already at or above the target.
    pub factor: f64,
    /// Before clamping at zero.
    pub raw_t_per_acre: f64,
    pub lime: UsTonPerAcre<Lime>,
}

pub fn lime_requirement(input: &LimeInput, k: &LimeConstants) -> LimeOutcome {
    let acidity = ((k.reference_ph - input.buffer_ph.value()) * k.meq_per_ph_unit).max(0.0);
    let current = input.current_ph.value();
    // At or above the reference pH the factor's denominator is <= 0; such a soil needs no lime.
    let factor = if input.target_ph.value() <= current || current >= k.reference_ph {
        0.0
    } else {
        (input.target_ph.value() - current) / (k.reference_ph - current)
    };
    let raw = acidity * factor - input.residual_credit.value();
    LimeOutcome {
        acidity,
        factor,
        raw_t_per_acre: raw,
        lime: UsTonPerAcre::new(raw.max(0.0)),
    }
}

pub fn lime_steps(
    input: &LimeInput,
    k: &LimeConstants,
    out: &LimeOutcome,
) -> (Vec<Step>, Vec<Note>) {
    let t_acre = out.lime.value();
    let kg_ha = out.lime.to_lb_per_acre().to_kg_per_ha();
    let steps = vec![
        Step::new(
            "acidity (meq/100 cm3) = (6.6 − buffer pH) × 4",
            format!(
                "({} − {}) × {}",
                num(k.reference_ph),
                num(input.buffer_ph.value()),
                num(k.meq_per_ph_unit)
            ),
            format!("{} meq/100 cm3", num(out.acidity)),
            "交换性酸度（缓冲液 pH 法）",
            "exchangeable acidity from the buffer pH",
        ),
        Step::new(
            "factor = (target pH − current pH) / (6.6 − current pH)",
            format!(
                "({} − {}) / ({} − {})",
                num(input.target_ph.value()),
                num(input.current_ph.value()),
                num(k.reference_ph),
                num(input.current_ph.value())
            ),
            num(out.factor),
            "目标 pH 校正系数",
            "share of the acidity to neutralise to reach the target pH",
        ),
        Step::new(
            "lime (US t/acre) = acidity × factor − residual credit",
            format!(
                "{} × {} − {}",
                num(out.acidity),
                num(out.factor),
                num(input.residual_credit.value())
            ),
            format!("{} US t/acre", num(t_acre)),
            "石灰用量（美吨/英亩，负值取零）",
            "lime rate (US t/acre; a negative value becomes zero)",
        ),
        Step::new(
            "kg/ha = t/acre × 2000 × 1.12085; kg/mu = kg/ha / 15",
            format!("{} × 2000 × 1.12085", num(t_acre)),
            format!(
                "{} kg/ha = {} kg/mu",
                num(kg_ha.value()),
                num(kg_ha.to_kg_per_mu().value())
            ),
            "换算为公斤/公顷与公斤/亩",
            "converted to kg/ha and kg/mu",
        ),
    ];
    let mut notes = Vec::new();
    if out.raw_t_per_acre <= 0.0 {
        notes.push(Note::new(
            "no_lime_needed",
            "土壤 pH 已达到目标（或残效抵扣后无需石灰），石灰用量为 0",
            "the soil is at its target pH (or the residual credit covers it): no lime",
        ));
    }
    (steps, notes)
}
