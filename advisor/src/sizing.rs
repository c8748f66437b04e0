//! Sequential sizing, as extension agents do it by hand: each compound is sized to the nutrient
//! it would over-supply first, then straight fertilisers top up what is still missing.

use serde::{Deserialize, Serialize};

use crate::explain::{Note, Step, num};
use crate::products::Analysis;
use crate::targets::{NutrientLine, RateTargets, nutrient_lines};
use crate::units::{KgPerMu, Nutrient, Product};

/// Below this (kg/mu) a remaining need counts as met: it absorbs float noise, not agronomy.
const MET_EPS: f64 = 1e-9;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizingProduct {
    pub name: String,
    pub analysis: Analysis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "role")]
pub enum SizingRole {
    /// A compound sized to the nutrient it would over-supply first.
    Compound { sized_to: Nutrient },
    /// A straight fertiliser topping up one nutrient.
    TopUp { nutrient: Nutrient },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SizingLine {
    pub product: String,
    pub analysis: Analysis,
    pub kg_per_mu: KgPerMu<Product>,
    #[serde(flatten)]
    pub role: SizingRole,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SizingOutcome {
    pub lines: Vec<SizingLine>,
    /// kg/mu supplied against target, N, P2O5, K2O.
    pub nutrients: Vec<NutrientLine>,
    /// Nutrients still short because no straight fertiliser for them was offered.
    pub shortfalls: Vec<Nutrient>,
    pub steps: Vec<crate::explain::Step>,
    pub notes: Vec<Note>,
}

pub fn sequential_sizing(targets: &RateTargets, products: &[SizingProduct]) -> SizingOutcome {
    let target = targets.values();
    let mut remaining = target;
    let mut supplied = [0.0; 3];
    let mut lines = Vec::new();
    let mut steps = Vec::new();
    let mut notes = Vec::new();

    for p in products.iter().filter(|p| p.analysis.is_compound()) {
        let f = p.analysis.fractions();
        // The nutrient with the smallest remaining/content ratio is the one this compound would
        // over-supply first; sizing to it keeps every nutrient at or below its target.
        let Some((limit, qty)) = Nutrient::ALL
            .iter()
            .filter(|n| f[n.index()] > 0.0)
            .map(|&n| (n, remaining[n.index()].max(0.0) / f[n.index()]))
            .min_by(|a, b| a.1.total_cmp(&b.1))
        else {
            continue;
        };
        let ratios: Vec<String> = Nutrient::ALL
            .iter()
            .filter(|n| f[n.index()] > 0.0)
            .map(|n| {
                format!(
                    "{}: {} / {}",
                    n.label(),
                    num(remaining[n.index()].max(0.0)),
                    num(f[n.index()])
                )
            })
            .collect();
        steps.push(Step::new(
            "compound = min over its nutrients of (remaining need / content)",
            ratios.join("; "),
            format!("{} kg/mu, sized to {}", num(qty), limit.label()),
            format!("复合肥 {} 按最先过量的养分 {} 定量", p.name, limit.zh()),
            format!(
                "compound {} sized to {}, the nutrient it would over-supply first",
                p.name,
                limit.label()
            ),
        ));
        if qty <= MET_EPS {
            notes.push(Note::new(
                "compound_not_used",
                format!("{} 的 {} 需求已满足，不再施用该复合肥", p.name, limit.zh()),
                format!(
                    "{} is not used: its {} is already covered",
                    p.name,
                    limit.label()
                ),
            ));
            continue;
        }
        for i in 0..3 {
            remaining[i] -= qty * f[i];
            supplied[i] += qty * f[i];
        }
        lines.push(SizingLine {
            product: p.name.clone(),
            analysis: p.analysis,
            kg_per_mu: KgPerMu::new(qty),
            role: SizingRole::Compound { sized_to: limit },
        });
    }

    let mut shortfalls = Vec::new();
    for n in Nutrient::ALL {
        let i = n.index();
        if remaining[i] <= MET_EPS {
            continue;
        }
        let straight = products
            .iter()
            .find(|p| !p.analysis.is_compound() && p.analysis.fraction(n) > 0.0);
        let Some(p) = straight else {
            shortfalls.push(n);
            notes.push(Note::new(
                "no_straight_fertiliser",
                format!("没有单质{}肥可补足剩余 {} kg/亩", n.zh(), num(remaining[i])),
                format!(
                    "no straight {} fertiliser offered to top up the remaining {} kg/mu",
                    n.label(),
                    num(remaining[i])
                ),
            ));
            continue;
        };
        let c = p.analysis.fraction(n);
        let qty = remaining[i] / c;
        steps.push(Step::new(
            "straight = remaining need / content",
            format!("{} / {}", num(remaining[i]), num(c)),
            format!("{} kg/mu of {}", num(qty), p.name),
            format!("用单质肥 {} 补足{}", p.name, n.zh()),
            format!("top up {} with {}", n.label(), p.name),
        ));
        supplied[i] += qty * c;
        remaining[i] = 0.0;
        lines.push(SizingLine {
            product: p.name.clone(),
            analysis: p.analysis,
            kg_per_mu: KgPerMu::new(qty),
            role: SizingRole::TopUp { nutrient: n },
        });
    }

    SizingOutcome {
        lines,
        nutrients: nutrient_lines(target, supplied),
        shortfalls,
        steps,
        notes,
    }
}
