//! Target yield from the last three years' yields.

use crate::explain::{Note, Step, num};
use crate::units::{KgPerMu, Positive, Yield};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetYield {
    pub mean: KgPerMu<Yield>,
    pub target: KgPerMu<Yield>,
}

/// target = mean of the yields × factor. The caller passes the years to average (the last
/// three by default, METHODS.md §1).
pub fn target_yield(yields: &[KgPerMu<Yield>], factor: Positive) -> TargetYield {
    let sum: KgPerMu<Yield> = yields.iter().copied().sum();
    let mean = sum.scale(1.0 / yields.len().max(1) as f64);
    TargetYield {
        mean,
        target: mean.scale(factor.value()),
    }
}

pub fn target_yield_steps(
    yields: &[KgPerMu<Yield>],
    factor: Positive,
    out: &TargetYield,
    common: (f64, f64),
) -> (Vec<Step>, Vec<Note>) {
    let list: Vec<String> = yields.iter().map(|y| num(y.value())).collect();
    let steps = vec![
        Step::new(
            "mean = (y1 + y2 + y3) / 3",
            format!("({}) / {}", list.join(" + "), yields.len()),
            format!("{} kg/mu", num(out.mean.value())),
            "前三年平均产量",
            "mean yield of the last three years",
        ),
        Step::new(
            "target yield = mean × factor",
            format!("{} × {}", num(out.mean.value()), num(factor.value())),
            format!("{} kg/mu", num(out.target.value())),
            "目标产量",
            "target yield",
        ),
    ];
    let mut notes = Vec::new();
    let f = factor.value();
    if f < common.0 || f > common.1 {
        notes.push(Note::new(
            "factor_outside_common_range",
            format!(
                "增产系数 {} 不在粮食作物常用范围 {}-{} 内（经济作物常用 1.2-1.4）",
                num(f),
                num(common.0),
                num(common.1)
            ),
            format!(
                "factor {} is outside the common {}-{} for grain crops (cash crops often use 1.2-1.4)",
                num(f),
                num(common.0),
                num(common.1)
            ),
        ));
    }
    (steps, notes)
}
