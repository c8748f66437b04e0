//! Nutrient balance (养分平衡法, NY/T 1118-2006) and soil-fertility difference (地力差减法).

use crate::explain::{Note, Step, num};
use crate::units::{
    Content, FertiliserNutrient, KgPerMu, MgPerKg, Positive, Product, RecoveryRate, Share, Uptake,
    Yield,
};

/// Where the soil's own supply of the nutrient comes from.
#[derive(Debug, Clone, Copy)]
pub enum SoilSupply<F: FertiliserNutrient> {
    /// Soil-test form: soil test (mg/kg) x 0.15 x correction coefficient.
    SoilTest {
        test: MgPerKg<F::SoilForm>,
        correction: Positive,
    },
    /// Soil-test form with the correction coefficient calibrated on a no-fertiliser plot:
    /// coefficient = (no-fertiliser yield x uptake) / (soil test x 0.15).
    Calibrated {
        test: MgPerKg<F::SoilForm>,
        no_fertiliser_yield: KgPerMu<Yield>,
    },
    /// Yield-based (Stanford) form: no-fertiliser yield / 100 x uptake per 100 kg.
    YieldBased { no_fertiliser_yield: KgPerMu<Yield> },
}

/// Inputs of the nutrient balance, every parameter explicit.
#[derive(Debug, Clone, Copy)]
pub struct BalanceInput<F: FertiliserNutrient> {
    pub target_yield: KgPerMu<Yield>,
    pub uptake: Uptake<F>,
    pub soil: SoilSupply<F>,
    pub recovery: RecoveryRate,
    /// Legumes: share of the N need to supply (peanut 0.40). Only meaningful for N.
    pub legume_factor: Option<Share>,
    /// Nutrient content of the fertiliser, to give kg of product as well.
    pub content: Option<Content<F>>,
}

#[derive(Debug, Clone, Copy)]
pub struct BalanceOutcome<F: FertiliserNutrient> {
    /// Uptake per kg yield x target yield.
    pub crop_need: KgPerMu<F>,
    /// Soil test stock in label form (mg/kg x 0.15, then P -> P2O5 or K -> K2O), if a soil test
    /// was used.
    pub soil_stock: Option<KgPerMu<F>>,
    pub correction: Option<f64>,
    pub soil_supply: KgPerMu<F>,
    /// crop need - soil supply; negative when the soil supplies more than the crop needs.
    pub deficit: f64,
    /// Fertiliser nutrient to apply before the legume factor: max(deficit, 0) / recovery.
    pub unscaled_nutrient: KgPerMu<F>,
    /// Fertiliser nutrient to apply (after the legume factor).
    pub nutrient: KgPerMu<F>,
    pub unscaled_product: Option<KgPerMu<Product>>,
    pub product: Option<KgPerMu<Product>>,
}

impl<F: FertiliserNutrient> BalanceOutcome<F> {
    /// The soil alone covers the crop's need; the rate was set to zero.
    pub fn soil_sufficient(&self) -> bool {
        self.deficit <= 0.0
    }
}

/// The soil-test form. Pure arithmetic, no allocation: this is what the benchmark times.
pub fn nutrient_balance<F: FertiliserNutrient>(input: &BalanceInput<F>) -> BalanceOutcome<F> {
    let crop_need = input.uptake.of(input.target_yield);
    let (soil_stock, correction, soil_supply) = match input.soil {
        SoilSupply::SoilTest { test, correction } => {
            let stock = KgPerMu::<F>::from_soil_form(test.plough_layer_kg_per_mu());
            (
                Some(stock),
                Some(correction.value()),
                stock.scale(correction.value()),
            )
        }
        SoilSupply::Calibrated {
            test,
            no_fertiliser_yield,
        } => {
            let stock = KgPerMu::<F>::from_soil_form(test.plough_layer_kg_per_mu());
            let omission_uptake = input.uptake.of(no_fertiliser_yield);
            // stock x (omission uptake / stock) is the omission uptake itself; computing it
            // directly keeps a zero soil test (no coefficient) from dividing by zero.
            let correction = (stock.value() > 0.0).then(|| omission_uptake / stock);
            (Some(stock), correction, omission_uptake)
        }
        SoilSupply::YieldBased {
            no_fertiliser_yield,
        } => (None, None, input.uptake.of(no_fertiliser_yield)),
    };
    let deficit = crop_need.signed_diff(soil_supply);
    let unscaled_nutrient = crop_need
        .saturating_sub(soil_supply)
        .scale(1.0 / input.recovery.value());
    let nutrient = match input.legume_factor {
        Some(f) => unscaled_nutrient.scale(f.value()),
        None => unscaled_nutrient,
    };
    let (unscaled_product, product) = match input.content {
        Some(c) => (unscaled_nutrient.product(c), nutrient.product(c)),
        None => (None, None),
    };
    BalanceOutcome {
        crop_need,
        soil_stock,
        correction,
        soil_supply,
        deficit,
        unscaled_nutrient,
        nutrient,
        unscaled_product,
        product,
    }
}

/// The steps of a nutrient balance, for a pencil check.
pub fn balance_steps<F: FertiliserNutrient>(
    input: &BalanceInput<F>,
    out: &BalanceOutcome<F>,
) -> (Vec<Step>, Vec<Note>) {
    let nut = F::KIND.label();
    let mut steps = Vec::new();
    let mut notes = Vec::new();
    steps.push(Step::new(
        "crop need = uptake per kg yield × target yield",
        format!(
            "{} × {}",
            num(input.uptake.value()),
            num(input.target_yield.value())
        ),
        format!("{} kg {nut}/mu", num(out.crop_need.value())),
        "目标产量需养分量",
        "nutrient the target yield takes up",
    ));
    match input.soil {
        SoilSupply::SoilTest { test, correction } => {
            push_stock_step::<F>(&mut steps, test, out);
            steps.push(Step::new(
                "soil supply = soil stock × correction coefficient",
                format!(
                    "{} × {}",
                    num(out.soil_stock.map_or(0.0, |s| s.value())),
                    num(correction.value())
                ),
                format!("{} kg {nut}/mu", num(out.soil_supply.value())),
                "土壤供肥量（校正系数法）",
                "soil supply (soil test with correction coefficient)",
            ));
        }
        SoilSupply::Calibrated {
            test,
            no_fertiliser_yield,
        } => {
            push_stock_step::<F>(&mut steps, test, out);
            steps.push(Step::new(
                "correction coefficient = no-fertiliser yield × uptake per kg yield / soil stock",
                format!(
                    "{} × {} / {}",
                    num(no_fertiliser_yield.value()),
                    num(input.uptake.value()),
                    num(out.soil_stock.map_or(0.0, |s| s.value()))
                ),
                num(out.correction.unwrap_or(0.0)),
                "土壤有效养分校正系数（由无肥区产量求得）",
                "correction coefficient calibrated on the no-fertiliser plot",
            ));
            steps.push(Step::new(
                "soil supply = soil stock × correction coefficient",
                format!(
                    "{} × {}",
                    num(out.soil_stock.map_or(0.0, |s| s.value())),
                    num(out.correction.unwrap_or(0.0))
                ),
                format!("{} kg {nut}/mu", num(out.soil_supply.value())),
                "土壤供肥量",
                "soil supply",
            ));
        }
        SoilSupply::YieldBased {
            no_fertiliser_yield,
        } => {
            steps.push(Step::new(
                "soil supply = no-fertiliser yield / 100 × uptake per 100 kg yield",
                format!(
                    "{} / 100 × {}",
                    num(no_fertiliser_yield.value()),
                    num(input.uptake.value() * 100.0)
                ),
                format!("{} kg {nut}/mu", num(out.soil_supply.value())),
                "土壤供肥量（无肥区产量法，Stanford）",
                "soil supply from the no-fertiliser yield (Stanford)",
            ));
        }
    }
    steps.push(Step::new(
        "fertiliser nutrient = (crop need − soil supply) / recovery rate",
        format!(
            "({} − {}) / {}",
            num(out.crop_need.value()),
            num(out.soil_supply.value()),
            num(input.recovery.value())
        ),
        format!("{} kg {nut}/mu", num(out.unscaled_nutrient.value())),
        "需施肥料养分量（负值取零）",
        "fertiliser nutrient to apply (a negative value becomes zero)",
    ));
    if let (Some(c), Some(p)) = (input.content, out.unscaled_product) {
        steps.push(Step::new(
            "fertiliser product = fertiliser nutrient / nutrient content",
            format!(
                "{} / {}",
                num(out.unscaled_nutrient.value()),
                num(c.value())
            ),
            format!("{} kg product/mu", num(p.value())),
            "需施肥料实物量",
            "fertiliser product to apply",
        ));
    }
    if let Some(f) = input.legume_factor {
        let (base, scaled, what) = match (out.unscaled_product, out.product) {
            (Some(b), Some(s)) => (b.value(), s.value(), "kg product/mu"),
            _ => (
                out.unscaled_nutrient.value(),
                out.nutrient.value(),
                "kg N/mu",
            ),
        };
        steps.push(Step::new(
            "legume rate = rate × legume N factor",
            format!("{} × {}", num(base), num(f.value())),
            format!("{} {what}", num(scaled)),
            "豆科作物只需供给部分氮（其余来自根瘤固氮）",
            "a legume needs only part of its N from soil and fertiliser (the rest is fixed)",
        ));
    }
    if out.soil_sufficient() {
        notes.push(soil_supplies_note(
            nut,
            out.crop_need.value(),
            out.soil_supply.value(),
        ));
    }
    (steps, notes)
}

fn push_stock_step<F: FertiliserNutrient>(
    steps: &mut Vec<Step>,
    test: MgPerKg<F::SoilForm>,
    out: &BalanceOutcome<F>,
) {
    let nut = F::KIND.label();
    let stock = out.soil_stock.map_or(0.0, |s| s.value());
    if F::LABEL_PER_SOIL_FORM == 1.0 {
        steps.push(Step::new(
            "soil stock = soil test (mg/kg) × 0.15",
            format!("{} × 0.15", num(test.value())),
            format!("{} kg {nut}/mu", num(stock)),
            "耕层土壤养分量（0-20 cm，每亩 15 万 kg 土，NY/T 1118-2006）",
            "plough-layer stock (0-20 cm, 150 000 kg soil per mu, NY/T 1118-2006)",
        ));
    } else {
        steps.push(Step::new(
            format!("soil stock = soil test (mg/kg, as element) × 0.15 × {nut} per element"),
            format!(
                "{} × 0.15 × {}",
                num(test.value()),
                num(F::LABEL_PER_SOIL_FORM)
            ),
            format!("{} kg {nut}/mu", num(stock)),
            "耕层土壤养分量，换算为氧化物（P×2.2913，K×1.2046）",
            "plough-layer stock converted to the oxide (P × 2.2913, K × 1.2046)",
        ));
    }
}

pub(crate) fn soil_supplies_note(nutrient: &str, need: f64, supply: f64) -> Note {
    Note::new(
        "soil_supplies_enough",
        format!(
            "土壤供{nutrient} {} 已满足作物需要 {}，{nutrient} 推荐用量为 0",
            num(supply),
            num(need)
        ),
        format!(
            "the soil supplies {} of the {} {nutrient} the crop needs: the {nutrient} rate is zero",
            num(supply),
            num(need)
        ),
    )
}

/// Inputs of the soil-fertility difference method.
#[derive(Debug, Clone, Copy)]
pub struct FertilityDifferenceInput<F: FertiliserNutrient> {
    pub target_yield: KgPerMu<Yield>,
    pub no_fertiliser_yield: KgPerMu<Yield>,
    pub uptake: Uptake<F>,
    pub recovery: RecoveryRate,
    pub content: Option<Content<F>>,
}

#[derive(Debug, Clone, Copy)]
pub struct FertilityDifferenceOutcome<F: FertiliserNutrient> {
    /// Target yield - no-fertiliser yield; negative when the target is below the check plot.
    pub yield_gap: f64,
    pub nutrient: KgPerMu<F>,
    pub product: Option<KgPerMu<Product>>,
}

/// fertiliser = uptake per kg yield x (target yield - no-fertiliser yield) / (content x recovery)
pub fn fertility_difference<F: FertiliserNutrient>(
    input: &FertilityDifferenceInput<F>,
) -> FertilityDifferenceOutcome<F> {
    let gap = input.target_yield.saturating_sub(input.no_fertiliser_yield);
    let nutrient = input.uptake.of(gap).scale(1.0 / input.recovery.value());
    FertilityDifferenceOutcome {
        yield_gap: input.target_yield.signed_diff(input.no_fertiliser_yield),
        nutrient,
        product: input.content.and_then(|c| nutrient.product(c)),
    }
}

pub fn fertility_difference_steps<F: FertiliserNutrient>(
    input: &FertilityDifferenceInput<F>,
    out: &FertilityDifferenceOutcome<F>,
) -> (Vec<Step>, Vec<Note>) {
    let nut = F::KIND.label();
    let mut steps = vec![Step::new(
        "fertiliser nutrient = uptake per kg yield × (target yield − no-fertiliser yield) / recovery rate",
        format!(
            "{} × ({} − {}) / {}",
            num(input.uptake.value()),
            num(input.target_yield.value()),
            num(input.no_fertiliser_yield.value()),
            num(input.recovery.value())
        ),
        format!("{} kg {nut}/mu", num(out.nutrient.value())),
        "地力差减法：增产部分所需养分由肥料供给",
        "soil-fertility difference: fertiliser supplies the nutrient of the extra yield",
    )];
    if let (Some(c), Some(p)) = (input.content, out.product) {
        steps.push(Step::new(
            "fertiliser product = fertiliser nutrient / nutrient content",
            format!("{} / {}", num(out.nutrient.value()), num(c.value())),
            format!("{} kg product/mu", num(p.value())),
            "需施肥料实物量",
            "fertiliser product to apply",
        ));
    }
    let mut notes = Vec::new();
    if out.yield_gap <= 0.0 {
        let need = input.uptake.of(input.target_yield).value();
        let supply = input.uptake.of(input.no_fertiliser_yield).value();
        notes.push(soil_supplies_note(nut, need, supply));
    }
    (steps, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{N, P2O5};

    fn peanut(uptake: f64) -> BalanceInput<N> {
        BalanceInput {
            target_yield: KgPerMu::new(300.0),
            uptake: Uptake::per_kg(uptake),
            soil: SoilSupply::SoilTest {
                test: MgPerKg::new(60.0),
                correction: Positive::new(0.55),
            },
            recovery: RecoveryRate::new(0.5),
            legume_factor: None,
            content: Some(Content::new(0.46)),
        }
    }

    #[test]
    fn calibrated_coefficient_makes_supply_equal_omission_uptake() {
        let input = BalanceInput::<P2O5> {
            target_yield: KgPerMu::new(500.0),
            uptake: Uptake::per_100kg(0.86).unwrap(),
            soil: SoilSupply::Calibrated {
                test: MgPerKg::new(12.0),
                no_fertiliser_yield: KgPerMu::new(350.0),
            },
            recovery: RecoveryRate::new(0.2),
            legume_factor: None,
            content: None,
        };
        let out = nutrient_balance(&input);
        assert!((out.soil_supply.value() - 350.0 * 0.0086).abs() < 1e-9);
        // and equals the fertility-difference answer
        let fd = fertility_difference(&FertilityDifferenceInput::<P2O5> {
            target_yield: input.target_yield,
            no_fertiliser_yield: KgPerMu::new(350.0),
            uptake: input.uptake,
            recovery: input.recovery,
            content: None,
        });
        assert!((fd.nutrient.value() - out.nutrient.value()).abs() < 1e-9);
    }

    #[test]
    fn surplus_soil_gives_zero_and_a_note() {
        let mut input = peanut(0.05);
        input.soil = SoilSupply::SoilTest {
            test: MgPerKg::new(300.0),
            correction: Positive::new(1.0),
        };
        let out = nutrient_balance(&input);
        assert_eq!(out.nutrient.value(), 0.0);
        assert!(out.deficit < 0.0);
        let (_, notes) = balance_steps(&input, &out);
        assert_eq!(notes[0].code, "soil_supplies_enough");
    }
}
