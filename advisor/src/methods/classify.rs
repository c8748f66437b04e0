//! Soil nutrient classes: China's 6 grades and the abundance/deficiency index.

use serde::{Deserialize, Serialize};

use crate::data::{AbundanceClass, GradeScale};
use crate::error::{Error, Result};
use crate::explain::{Step, num};
use crate::units::{KgPerMu, MgPerKg, Yield};

/// Grade 1 (richest) to 6 of the 2nd National Soil Survey. A value strictly above the lower
/// edge of grade g (and not above grade g-1) is in grade g; at or below the last edge is grade 6.
pub fn china_grade<Q>(value: MgPerKg<Q>, lower_bounds: &[f64]) -> u8 {
    let above = lower_bounds
        .iter()
        .position(|&edge| value.value() > edge)
        .unwrap_or(lower_bounds.len());
    // lower_bounds has 5 edges, so the grade fits in a u8.
    (above + 1) as u8
}

/// The printed range of a grade, e.g. `20-40` or `> 40`.
pub fn grade_range(grade: u8, lower_bounds: &[f64]) -> String {
    let g = usize::from(grade);
    match g {
        1 => format!("> {}", num(lower_bounds[0])),
        _ if g > lower_bounds.len() => format!("≤ {}", num(lower_bounds[lower_bounds.len() - 1])),
        _ => format!("{}-{}", num(lower_bounds[g - 1]), num(lower_bounds[g - 2])),
    }
}

/// Checks a grade scale given in a request: 5 strictly descending finite edges >= 0.
pub fn check_scale(field: &str, edges: &[f64]) -> Result<()> {
    if edges.len() != 5 {
        return Err(Error::invalid(
            field,
            format!("needs the 5 lower edges of grades 1-5, got {}", edges.len()),
        ));
    }
    if edges.iter().any(|e| !e.is_finite() || *e < 0.0) || edges.windows(2).any(|w| w[0] <= w[1]) {
        return Err(Error::invalid(
            field,
            "edges must be finite, >= 0 and strictly descending",
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Graded {
    pub value_mg_per_kg: f64,
    pub grade: u8,
    pub range_mg_per_kg: String,
}

pub fn grade_with_step<Q>(value: MgPerKg<Q>, scale: &GradeScale, edges: &[f64]) -> (Graded, Step) {
    let grade = china_grade(value, edges);
    let range = grade_range(grade, edges);
    let step = Step::new(
        format!(
            "grade = first g with value > edge_g, edges {} mg/kg",
            edges
                .iter()
                .map(|e| num(*e))
                .collect::<Vec<_>>()
                .join(" / ")
        ),
        format!("{} mg/kg in {range}", num(value.value())),
        format!("grade {grade}"),
        format!("{}：第二次全国土壤普查 {grade} 级", scale.zh),
        format!(
            "{}: grade {grade} of the 2nd National Soil Survey",
            scale.en
        ),
    );
    (
        Graded {
            value_mg_per_kg: value.value(),
            grade,
            range_mg_per_kg: range,
        },
        step,
    )
}

/// Relative yield in per cent and its abundance class (the last class whose `min_pct` it
/// reaches).
pub fn abundance_class(
    omission: KgPerMu<Yield>,
    full: KgPerMu<Yield>,
    classes: &[AbundanceClass],
) -> Result<(f64, &AbundanceClass)> {
    if full.value() <= 0.0 {
        return Err(Error::invalid(
            "full_fertiliser_yield_kg_per_mu",
            "must be > 0 (relative yield divides by it)",
        ));
    }
    let relative = omission / full * 100.0;
    let class = classes
        .iter()
        .rev()
        .find(|c| relative >= c.min_pct)
        .or_else(|| classes.first())
        .ok_or_else(|| Error::invalid("classes", "needs at least one class"))?;
    Ok((relative, class))
}

/// Checks an abundance class list from a request: non-empty, first starts at 0, ascending.
pub fn check_classes(classes: &[AbundanceClass]) -> Result<()> {
    if classes.is_empty() {
        return Err(Error::invalid("classes", "needs at least one class"));
    }
    if classes[0].min_pct != 0.0 {
        return Err(Error::invalid(
            "classes[0].min_pct",
            "the first class must start at 0",
        ));
    }
    for (i, w) in classes.windows(2).enumerate() {
        if !w[1].min_pct.is_finite() || w[1].min_pct <= w[0].min_pct {
            return Err(Error::invalid(
                format!("classes[{}].min_pct", i + 1),
                "min_pct must increase from class to class",
            ));
        }
    }
    Ok(())
}

/// Deserialisable class for request overrides (the data file's own type requires a source).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassOverride {
    pub key: String,
    #[serde(default)]
    pub zh: Option<String>,
    #[serde(default)]
    pub en: Option<String>,
    pub min_pct: f64,
}

impl ClassOverride {
    pub fn into_class(self) -> AbundanceClass {
        AbundanceClass {
            zh: self.zh.unwrap_or_else(|| self.key.clone()),
            en: self.en.unwrap_or_else(|| self.key.clone()),
            key: self.key,
            min_pct: self.min_pct,
            source: "request".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::P;

    const OLSEN: [f64; 5] = [40.0, 20.0, 10.0, 5.0, 3.0];

    #[test]
    fn edges_follow_the_printed_table() {
        let g = |v: f64| china_grade(MgPerKg::<P>::new(v), &OLSEN);
        assert_eq!(g(41.0), 1);
        assert_eq!(g(40.0), 2);
        assert_eq!(g(25.0), 2);
        assert_eq!(g(15.0), 3);
        assert_eq!(g(7.0), 4);
        assert_eq!(g(4.0), 5);
        assert_eq!(g(2.0), 6);
        assert_eq!(grade_range(2, &OLSEN), "20-40");
        assert_eq!(grade_range(1, &OLSEN), "> 40");
        assert_eq!(grade_range(6, &OLSEN), "≤ 3");
    }
}
