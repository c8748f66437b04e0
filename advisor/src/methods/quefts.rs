//! QUEFTS soil supply of N, P and K from soil properties (Janssen et al. 1990).

use crate::data::QueftsCoefficients;
use crate::explain::{Note, Step, num};
use crate::units::{K, KgPerHa, N, P, Ph};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueftsInput {
    pub ph: Ph,
    /// Soil organic carbon, g/kg.
    pub soc_g_per_kg: f64,
    /// Exchangeable K, mmol/kg.
    pub k_ex_mmol_per_kg: f64,
    /// Olsen P, mg/kg.
    pub olsen_p_mg_per_kg: f64,
}

/// Supplies are of the elements (QUEFTS works in N, P, K, not oxides).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueftsOutcome {
    pub f_n: f64,
    pub f_p: f64,
    pub f_k: f64,
    pub sn: KgPerHa<N>,
    pub sp: KgPerHa<P>,
    pub sk: KgPerHa<K>,
    /// Which supplies were negative before being set to zero (N, P, K).
    pub clamped: [bool; 3],
}

pub fn quefts(input: &QueftsInput, c: &QueftsCoefficients) -> QueftsOutcome {
    let ph = input.ph.value();
    let soc = input.soc_g_per_kg;
    let f_n = c.n_slope * (ph - c.n_ph0);
    let f_p = 1.0 - c.p_curv * (ph - c.p_ph0).powi(2);
    let f_k = c.k_scale * (c.k_a - c.k_b * ph);
    let sn = f_n * c.n_soc * soc;
    let sp = f_p * c.p_soc * soc + c.p_olsen * input.olsen_p_mg_per_kg;
    let sk = f_k * c.k_num * input.k_ex_mmol_per_kg / (c.k_den0 + c.k_den_soc * soc);
    // METHODS.md §5: negative supplies are set to zero.
    QueftsOutcome {
        f_n,
        f_p,
        f_k,
        sn: KgPerHa::new(sn.max(0.0)),
        sp: KgPerHa::new(sp.max(0.0)),
        sk: KgPerHa::new(sk.max(0.0)),
        clamped: [sn < 0.0, sp < 0.0, sk < 0.0],
    }
}

pub fn quefts_steps(
    input: &QueftsInput,
    c: &QueftsCoefficients,
    out: &QueftsOutcome,
) -> (Vec<Step>, Vec<Note>) {
    let ph = input.ph.value();
    let soc = input.soc_g_per_kg;
    let steps = vec![
        Step::new(
            "fN = 0.25 (pH − 3)",
            format!("{} × ({} − {})", num(c.n_slope), num(ph), num(c.n_ph0)),
            num(out.f_n),
            "氮的 pH 校正系数",
            "pH factor for N",
        ),
        Step::new(
            "SN = fN × 6.8 × SOC",
            format!("{} × {} × {}", num(out.f_n), num(c.n_soc), num(soc)),
            format!("{} kg N/ha", num(out.sn.value())),
            "土壤供氮量",
            "soil N supply",
        ),
        Step::new(
            "fP = 1 − 0.5 (pH − 6)²",
            format!("1 − {} × ({} − {})²", num(c.p_curv), num(ph), num(c.p_ph0)),
            num(out.f_p),
            "磷的 pH 校正系数",
            "pH factor for P",
        ),
        Step::new(
            "SP = fP × 0.35 × SOC + 0.5 × P_Olsen",
            format!(
                "{} × {} × {} + {} × {}",
                num(out.f_p),
                num(c.p_soc),
                num(soc),
                num(c.p_olsen),
                num(input.olsen_p_mg_per_kg)
            ),
            format!("{} kg P/ha", num(out.sp.value())),
            "土壤供磷量（以 P 计）",
            "soil P supply (as P)",
        ),
        Step::new(
            "fK = 0.625 (3.4 − 0.4 pH)",
            format!(
                "{} × ({} − {} × {})",
                num(c.k_scale),
                num(c.k_a),
                num(c.k_b),
                num(ph)
            ),
            num(out.f_k),
            "钾的 pH 校正系数",
            "pH factor for K",
        ),
        Step::new(
            "SK = fK × 400 × K_ex / (2 + 0.9 SOC)",
            format!(
                "{} × {} × {} / ({} + {} × {})",
                num(out.f_k),
                num(c.k_num),
                num(input.k_ex_mmol_per_kg),
                num(c.k_den0),
                num(c.k_den_soc),
                num(soc)
            ),
            format!("{} kg K/ha", num(out.sk.value())),
            "土壤供钾量（以 K 计）",
            "soil K supply (as K)",
        ),
    ];
    let mut notes = Vec::new();
    for (i, name) in ["N", "P", "K"].iter().enumerate() {
        if out.clamped[i] {
            notes.push(Note::new(
                "negative_supply_set_to_zero",
                format!("{name} 供应量计算为负，取 0"),
                format!("the computed {name} supply was negative and is set to 0"),
            ));
        }
    }
    (steps, notes)
}
