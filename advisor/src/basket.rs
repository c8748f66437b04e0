//! Least-cost basket: the cheapest whole bags (or, for comparison, fractional bags) of the
//! products at hand that supply at least (or exactly) the N, P2O5 and K2O targets.
//!
//! minimise Σ_j price_j · n_j  subject to  Σ_j a_ij · bag_kg_j · n_j ≥ T_i  (i = N, P2O5, K2O),
//! 0 ≤ n_j ≤ stock_j, n_j integer for whole bags; optionally Σ_j a_ij · bag_kg_j · n_j ≤ U_i.
//!
//! Solved with good_lp's microlp backend (branch and bound over a simplex). Prices are integer
//! fen per bag; the solver sees them as f64 (exact for any realistic price), and the reported
//! cost is recomputed in integer fen from the integer bag counts.
//!
//! The whole-bag search runs for at most [`BasketOptions::time_limit`]. When the limit is hit it
//! returns the best basket found so far (or, before any, the continuous answer rounded up when
//! that meets the bounds) with [`BasketOutcome::proven_optimal`] false and a note saying so.

use std::time::{Duration, Instant};

use good_lp::{
    Expression, ResolutionError, Solution, SolutionStatus, SolverModel, Variable, WithMipGap,
    WithTimeLimit, constraint, microlp, variable, variables,
};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::explain::{Note, Step, num, yuan};
use crate::products::Offer;
use crate::targets::{MassTargets, NutrientLine, nutrient_lines};
use crate::units::{Kg, Nutrient, Product};

/// Float slack when checking a solution against a target: 1 mg of nutrient on a field's kg.
const FEAS_EPS: f64 = 1e-6;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Every target met or exceeded.
    #[default]
    AtLeast,
    /// Every target met, exceeded by at most `exact_tolerance_kg`.
    Exact,
}

/// How the basket is solved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BasketOptions {
    pub mode: Mode,
    /// Integer bag counts (the real problem); `false` gives the continuous relaxation.
    pub whole_bags: bool,
    /// At-least mode: allow at most this many per cent above each target.
    pub max_oversupply_pct: Option<f64>,
    /// Exact mode: how far above each target (kg) still counts as exact.
    pub exact_tolerance_kg: f64,
    /// How long the whole-bag search may run. When it runs out, the best basket found so far
    /// is returned, marked as not proven optimal. (The continuous relaxation before it, a
    /// three-row LP, always runs to the end.)
    pub time_limit: Duration,
}

/// Exact mode's default slack: 0.5 kg of nutrient on the field. Whole bags move supply in steps
/// of several kg, so an exact whole-bag basket usually needs a larger tolerance.
pub const DEFAULT_EXACT_TOLERANCE_KG: f64 = 0.5;

/// The whole-bag search's default time limit: a county's offers solve in milliseconds, so two
/// seconds only ever stops a pathological instance, and keeps a request from holding a thread.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(2);

/// The longest time limit a JSON request may ask for.
pub const MAX_TIME_LIMIT: Duration = Duration::from_secs(60);

impl Default for BasketOptions {
    fn default() -> Self {
        BasketOptions {
            mode: Mode::AtLeast,
            whole_bags: true,
            max_oversupply_pct: None,
            exact_tolerance_kg: DEFAULT_EXACT_TOLERANCE_KG,
            time_limit: DEFAULT_TIME_LIMIT,
        }
    }
}

/// Bags of one product: a whole number, or a fraction in the continuous comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Bags {
    Whole(u32),
    Fractional(f64),
}

impl Bags {
    pub fn value(self) -> f64 {
        match self {
            Bags::Whole(n) => f64::from(n),
            Bags::Fractional(x) => x,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BasketLine {
    pub product: String,
    pub bags: Bags,
    pub kg: Kg<Product>,
    /// Whole bags: exact. Fractional: rounded to the nearest fen.
    pub cost_fen: i64,
}

/// A nutrient the stock at hand cannot supply.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Shortfall {
    pub nutrient: Nutrient,
    pub target_kg: f64,
    /// All the stock of every product carrying this nutrient.
    pub max_available_kg: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundedLine {
    pub product: String,
    pub bags: u32,
}

/// The continuous answer rounded up bag by bag, to show why that is not optimal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundedUp {
    pub lines: Vec<RoundedLine>,
    pub cost_fen: i64,
    /// False when rounding up breaks an over-supply or exact bound.
    pub meets_bounds: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BasketOutcome {
    pub feasible: bool,
    pub whole_bags: bool,
    pub mode: Mode,
    /// Products with a non-zero amount.
    pub lines: Vec<BasketLine>,
    /// kg supplied against target (empty when infeasible).
    pub nutrients: Vec<NutrientLine>,
    /// Total cost in fen (exact for whole bags; rounded to the nearest fen when fractional).
    pub cost_fen: Option<i64>,
    /// The continuous (fractional-bag) optimum, rounded to the fen: a lower bound on any
    /// whole-bag basket.
    pub continuous_cost_fen: Option<i64>,
    /// The continuous optimum rounded up bag by bag, for comparison (not optimal).
    pub rounded_up: Option<RoundedUp>,
    /// When infeasible: the nutrients the stock cannot supply.
    pub shortfalls: Vec<Shortfall>,
    /// True when the answer is proven: the basket is the cheapest there is (or, when
    /// infeasible, no basket exists). False when the time limit stopped the whole-bag search:
    /// the basket is the best found in time, and a note says so.
    pub proven_optimal: bool,
    /// The solver's objective in fen, unrounded (not reported: money leaves as integers).
    #[serde(skip)]
    pub objective_fen: f64,
    pub steps: Vec<Step>,
    pub notes: Vec<Note>,
}

/// Checks the offers; `field` prefixes the JSON path (`products`).
pub fn check_offers(field: &str, offers: &[Offer]) -> Result<()> {
    for (j, o) in offers.iter().enumerate() {
        if o.bag_kg.value() <= 0.0 {
            return Err(Error::invalid(
                format!("{field}[{j}].bag_kg"),
                "a bag must hold more than 0 kg",
            ));
        }
        if o.price_fen_per_bag < 0 {
            return Err(Error::invalid(
                format!("{field}[{j}].price_fen_per_bag"),
                "a price cannot be negative",
            ));
        }
    }
    Ok(())
}

pub fn check_options(field: &str, options: &BasketOptions) -> Result<()> {
    if let Some(p) = options.max_oversupply_pct
        && (!p.is_finite() || p < 0.0)
    {
        return Err(Error::invalid(
            format!("{field}max_oversupply_pct"),
            "must be a finite number >= 0",
        ));
    }
    if !options.exact_tolerance_kg.is_finite() || options.exact_tolerance_kg < 0.0 {
        return Err(Error::invalid(
            format!("{field}exact_tolerance_kg"),
            "must be a finite number >= 0",
        ));
    }
    if options.time_limit > MAX_TIME_LIMIT {
        return Err(Error::invalid(
            format!("{field}time_limit_ms"),
            format!("must be at most {} ms", MAX_TIME_LIMIT.as_millis()),
        ));
    }
    Ok(())
}

/// Upper bound on each nutrient's supply, if any.
fn upper_bounds(targets: [f64; 3], options: &BasketOptions) -> [Option<f64>; 3] {
    targets.map(|t| {
        let over = options.max_oversupply_pct.map(|p| t * (1.0 + p / 100.0));
        let exact = (options.mode == Mode::Exact).then_some(t + options.exact_tolerance_kg);
        match (over, exact) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    })
}

/// A bound on the bags of one product that keeps an optimum: beyond
/// max_i ceil(T_i / per_bag_ij) bags the product alone covers every target it touches, so one
/// bag fewer is still feasible and no dearer. Upper bounds on supply cap it further.
fn bag_bound(
    per_bag: [f64; 3],
    targets: [f64; 3],
    upper: [Option<f64>; 3],
    stock: Option<u32>,
) -> f64 {
    let mut bound: f64 = 0.0;
    for i in 0..3 {
        if per_bag[i] > 0.0 && targets[i] > 0.0 {
            bound = bound.max((targets[i] / per_bag[i] - 1e-9).ceil());
        }
    }
    for i in 0..3 {
        if let Some(u) = upper[i]
            && per_bag[i] > 0.0
        {
            bound = bound.min((u / per_bag[i] + 1e-9).floor());
        }
    }
    if let Some(s) = stock {
        bound = bound.min(f64::from(s));
    }
    bound.max(0.0)
}

/// What all the stock could supply, per nutrient (`INFINITY` when some product is unlimited).
pub fn max_available(offers: &[Offer]) -> [f64; 3] {
    let mut max = [0.0; 3];
    for o in offers {
        let per_bag = o.nutrient_per_bag();
        for i in 0..3 {
            if per_bag[i] > 0.0 {
                max[i] += match o.stock_bags {
                    Some(s) => per_bag[i] * f64::from(s),
                    None => f64::INFINITY,
                };
            }
        }
    }
    max
}

pub fn least_cost_basket(
    targets: &MassTargets,
    offers: &[Offer],
    options: &BasketOptions,
) -> Result<BasketOutcome> {
    let t = targets.values();
    let upper = upper_bounds(t, options);
    let per_bag: Vec<[f64; 3]> = offers.iter().map(Offer::nutrient_per_bag).collect();
    let mut steps = Vec::new();
    let mut notes = Vec::new();

    let available = max_available(offers);
    let shortfalls: Vec<Shortfall> = Nutrient::ALL
        .iter()
        .filter(|n| available[n.index()] < t[n.index()] - FEAS_EPS)
        .map(|&n| Shortfall {
            nutrient: n,
            target_kg: t[n.index()],
            max_available_kg: available[n.index()],
        })
        .collect();
    if !shortfalls.is_empty() {
        for s in &shortfalls {
            steps.push(Step::new(
                "max available = Σ_j content_ij × bag_kg_j × stock_j",
                format!(
                    "{} kg < target {}",
                    num(s.max_available_kg),
                    num(s.target_kg)
                ),
                format!(
                    "{} short by {} kg",
                    s.nutrient,
                    num(s.target_kg - s.max_available_kg)
                ),
                format!(
                    "现有库存最多只能提供 {} {} kg，低于目标",
                    s.nutrient.zh(),
                    num(s.max_available_kg)
                ),
                format!(
                    "all the stock at hand supplies at most {} kg {}, below the target",
                    num(s.max_available_kg),
                    s.nutrient
                ),
            ));
        }
        return Ok(infeasible(options, shortfalls, steps, notes));
    }

    let bounds: Vec<f64> = offers
        .iter()
        .zip(&per_bag)
        .map(|(o, pb)| bag_bound(*pb, t, upper, o.stock_bags))
        .collect();
    let problem = Lp {
        prices: offers.iter().map(|o| o.price_fen_per_bag).collect(),
        per_bag: &per_bag,
        targets: t,
        upper,
        bounds: &bounds,
    };

    // The continuous relaxation first: it is the comparison the agronomist sees, its rounding-up
    // seeds the integer search, and if it is infeasible so is every whole-bag basket.
    let relaxed = match problem.solve(false, None, 0.0, None)? {
        Solved::Bags(x, _) => x,
        Solved::Infeasible | Solved::OutOfTime => {
            notes.push(bounds_note());
            return Ok(infeasible(options, Vec::new(), steps, notes));
        }
    };
    let relaxed_cost = problem.cost(&relaxed);
    // Round each fractional bag count up (never past the bound, which is a whole number).
    let up: Vec<u32> = relaxed
        .iter()
        .zip(&bounds)
        .map(|(x, b)| (x - 1e-9).ceil().clamp(0.0, *b) as u32)
        .collect();
    let up_ok = problem.meets(&up);
    let rounded_up = RoundedUp {
        lines: offers
            .iter()
            .zip(&up)
            .filter(|(_, n)| **n > 0)
            .map(|(o, n)| RoundedLine {
                product: o.name.clone(),
                bags: *n,
            })
            .collect(),
        cost_fen: problem.whole_cost(&up),
        meets_bounds: up_ok,
    };

    let mut proven_optimal = true;
    let values = if options.whole_bags {
        // The time limit covers the whole-bag search from here on.
        let deadline = Instant::now() + options.time_limit;
        // Every basket's cost is a multiple of g = gcd(prices) fen. Once the incumbent is
        // within g of the proven bound it is optimal, so a relative gap of (g − ½)/U, with U
        // the seeded incumbent's cost (no later incumbent costs more), stops the search without
        // giving up optimality.
        let (warm, gap) = if up_ok && rounded_up.cost_fen > 0 {
            let g = problem
                .prices
                .iter()
                .copied()
                .filter(|p| *p > 0)
                .fold(0, gcd);
            (
                Some(up.as_slice()),
                (g as f64 - 0.5) / rounded_up.cost_fen as f64,
            )
        } else {
            (None, 0.0)
        };
        let mut found = problem.solve(true, warm, gap, Some(deadline))?;
        // The gap argument needs every incumbent to cost at most U, which holds once microlp
        // adopts the seed. Should it ever drop the seed and stop above U, solve again exactly
        // (in the time that is left; if none is, the dearer basket stands, not proven).
        if gap > 0.0
            && let Solved::Bags(n, _) = &found
            && problem.whole_cost(&whole(n)) > rounded_up.cost_fen
        {
            match problem.solve(true, None, 0.0, Some(deadline))? {
                Solved::Bags(n, proven) => found = Solved::Bags(n, proven),
                Solved::Infeasible => {}
                Solved::OutOfTime => {
                    if let Solved::Bags(_, proven) = &mut found {
                        *proven = false;
                    }
                }
            }
        }
        let chosen = match found {
            // A basket the solver stopped on must still meet every bound once rounded.
            Solved::Bags(n, proven) if problem.meets(&whole(&n)) => Some((whole(&n), proven)),
            Solved::Bags(..) | Solved::OutOfTime => None,
            Solved::Infeasible => {
                notes.push(bounds_note());
                return Ok(infeasible(options, Vec::new(), steps, notes));
            }
        };
        match chosen {
            Some((n, proven)) => {
                proven_optimal = proven;
                n.into_iter().map(f64::from).collect::<Vec<f64>>()
            }
            // Out of time before any whole-bag basket: the rounded-up continuous answer when
            // it meets the bounds, else nothing (and it is not proven that nothing exists).
            None if up_ok => {
                proven_optimal = false;
                up.iter().map(|&k| f64::from(k)).collect()
            }
            None => {
                notes.push(no_basket_in_time_note(options.time_limit));
                let mut out = infeasible(options, Vec::new(), steps, notes);
                out.proven_optimal = false;
                return Ok(out);
            }
        }
    } else {
        relaxed.clone()
    };
    if !proven_optimal {
        notes.push(not_proven_note(options.time_limit));
    }
    let amounts: Vec<Bags> = values
        .iter()
        .map(|&v| {
            if options.whole_bags {
                Bags::Whole(v.max(0.0) as u32)
            } else {
                Bags::Fractional(v.max(0.0))
            }
        })
        .collect();

    let mut supplied = [0.0; 3];
    let mut lines = Vec::new();
    let mut cost_exact = 0_i64;
    let mut objective = 0.0;
    for ((o, pb), &bags) in offers.iter().zip(&per_bag).zip(&amounts) {
        let n = bags.value();
        for i in 0..3 {
            supplied[i] += pb[i] * n;
        }
        objective += o.price_fen_per_bag as f64 * n;
        let line_cost = match bags {
            Bags::Whole(k) => i64::from(k) * o.price_fen_per_bag,
            Bags::Fractional(x) => (x * o.price_fen_per_bag as f64).round() as i64,
        };
        if let Bags::Whole(k) = bags {
            cost_exact += i64::from(k) * o.price_fen_per_bag;
        }
        if n > 0.0 {
            lines.push(BasketLine {
                product: o.name.clone(),
                bags,
                kg: o.bag_kg.scale(n),
                cost_fen: line_cost,
            });
        }
    }
    let cost_fen = if options.whole_bags {
        cost_exact
    } else {
        objective.round() as i64
    };

    for n in Nutrient::ALL {
        let i = n.index();
        let terms: Vec<String> = offers
            .iter()
            .zip(&per_bag)
            .zip(&amounts)
            .filter(|((_, pb), b)| pb[i] > 0.0 && b.value() > 0.0)
            .map(|((o, pb), b)| format!("{} × {}", num(pb[i]), bag_text(*b, &o.name)))
            .collect();
        let bound = match upper[i] {
            Some(u) => format!("{} ≤ supply ≤ {}", num(t[i]), num(u)),
            None => format!("supply ≥ {}", num(t[i])),
        };
        steps.push(Step::new(
            format!("{n} supply = Σ_j kg {n} per bag_j × bags_j, {bound}"),
            if terms.is_empty() {
                "0".to_string()
            } else {
                terms.join(" + ")
            },
            format!("{} kg {n} (target {})", num(supplied[i]), num(t[i])),
            format!("{} 供应量（每袋含量 × 袋数）", n.zh()),
            format!("{n} supplied (kg per bag × bags)"),
        ));
    }
    let cost_terms: Vec<String> = offers
        .iter()
        .zip(&amounts)
        .filter(|(_, b)| b.value() > 0.0)
        .map(|(o, b)| format!("{} × {}", o.price_fen_per_bag, bag_text(*b, &o.name)))
        .collect();
    steps.push(Step::new(
        "cost = Σ_j price per bag_j × bags_j (fen)",
        if cost_terms.is_empty() {
            "0".to_string()
        } else {
            cost_terms.join(" + ")
        },
        format!("{cost_fen} fen = {} yuan", yuan(cost_fen)),
        match (options.whole_bags, proven_optimal) {
            (true, true) => "整袋最低成本",
            (true, false) => "在时间限制内找到的最低整袋成本（未证明最优）",
            (false, _) => "连续（可拆袋）最低成本，四舍五入到分",
        },
        match (options.whole_bags, proven_optimal) {
            (true, true) => "least cost in whole bags",
            (true, false) => {
                "the cheapest whole-bag basket found within the time limit (not proven optimal)"
            }
            (false, _) => "least cost with fractional bags, rounded to the fen",
        },
    ));

    if options.whole_bags {
        steps.push(Step::new(
            "continuous optimum = the same problem with fractional bags",
            relaxed
                .iter()
                .zip(offers)
                .filter(|(x, _)| **x > FEAS_EPS)
                .map(|(x, o)| format!("{} × {} ({})", o.price_fen_per_bag, num(*x), o.name))
                .collect::<Vec<_>>()
                .join(" + "),
            format!("{} fen", relaxed_cost.round()),
            "对比：可拆袋时的连续最优成本（整袋成本的下限）",
            "for comparison: the continuous optimum, a lower bound on any whole-bag cost",
        ));
    }
    steps.push(Step::new(
        "rounded up = Σ_j price_j × ceil(continuous bags_j)",
        rounded_up
            .lines
            .iter()
            .map(|l| {
                let price = offers
                    .iter()
                    .find(|o| o.name == l.product)
                    .map_or(0, |o| o.price_fen_per_bag);
                format!("{price} × {} ({})", l.bags, l.product)
            })
            .collect::<Vec<_>>()
            .join(" + "),
        format!("{} fen", rounded_up.cost_fen),
        "对比：把连续解逐个向上取整的成本（不是最优）",
        "for comparison: rounding the continuous answer up bag by bag (not optimal)",
    ));
    if !options.whole_bags {
        notes.push(Note::new(
            "fractional_bags",
            "连续解允许拆袋，仅供比较；整袋方案请用 whole_bags = true（逐个向上取整并非最优）",
            "fractional bags are for comparison only; use whole_bags = true for a basket to buy \
             (rounding each product up is not optimal)",
        ));
    }

    Ok(BasketOutcome {
        feasible: true,
        whole_bags: options.whole_bags,
        mode: options.mode,
        lines,
        nutrients: nutrient_lines(t, supplied),
        cost_fen: Some(cost_fen),
        continuous_cost_fen: Some(relaxed_cost.round() as i64),
        rounded_up: Some(rounded_up),
        shortfalls: Vec::new(),
        proven_optimal,
        objective_fen: objective,
        steps,
        notes,
    })
}

/// What one solve gave.
enum Solved {
    /// Amounts per product, and whether they are proven optimal.
    Bags(Vec<f64>, bool),
    /// No basket satisfies the constraints.
    Infeasible,
    /// The time limit came before any solution.
    OutOfTime,
}

/// Solver values as whole bags.
fn whole(v: &[f64]) -> Vec<u32> {
    v.iter().map(|x| x.round().max(0.0) as u32).collect()
}

/// The basket problem, solved by microlp through good_lp.
struct Lp<'a> {
    prices: Vec<i64>,
    per_bag: &'a [[f64; 3]],
    targets: [f64; 3],
    upper: [Option<f64>; 3],
    bounds: &'a [f64],
}

impl Lp<'_> {
    /// Bags per product, solved until `deadline` (none: to the end).
    fn solve(
        &self,
        integer: bool,
        warm: Option<&[u32]>,
        gap: f64,
        deadline: Option<Instant>,
    ) -> Result<Solved> {
        let mut vars = variables!();
        let xs: Vec<Variable> = self
            .bounds
            .iter()
            .enumerate()
            .map(|(j, &ub)| {
                let mut def = variable().min(0.0).max(ub);
                if integer {
                    def = def.integer();
                }
                if let Some(w) = warm {
                    def = def.initial(f64::from(w[j]));
                }
                vars.add(def)
            })
            .collect();
        let objective: Expression = self
            .prices
            .iter()
            .zip(&xs)
            .map(|(&p, &x)| p as f64 * x)
            .sum();
        let mut model = vars.minimise(objective).using(microlp);
        if gap > 0.0 {
            // good_lp takes the gap as f32; the ½-fen margin dwarfs its rounding.
            model = model
                .with_mip_gap(gap as f32)
                .map_err(|e| Error::Solver(e.to_string()))?;
        }
        if let Some(d) = deadline {
            let left = d.saturating_duration_since(Instant::now());
            model = model.with_time_limit(left.as_secs_f64());
        }
        for i in 0..3 {
            let supply: Expression = self.per_bag.iter().zip(&xs).map(|(pb, &x)| pb[i] * x).sum();
            if self.targets[i] > 0.0 {
                model = model.with(constraint!(supply.clone() >= self.targets[i]));
            }
            if let Some(u) = self.upper[i] {
                model = model.with(constraint!(supply <= u));
            }
        }
        match model.solve() {
            Ok(s) => {
                // A gap stop is proven too: the gap given here never gives up optimality (see
                // the caller). Only a time stop leaves the incumbent unproven.
                let proven = !matches!(s.status(), SolutionStatus::TimeLimit);
                Ok(Solved::Bags(
                    xs.iter().map(|&x| s.value(x).max(0.0)).collect(),
                    proven,
                ))
            }
            Err(ResolutionError::Infeasible) => Ok(Solved::Infeasible),
            // good_lp's microlp backend reports "time limit reached before finding a feasible
            // solution" as `Other`; no other `Other` comes from it.
            Err(ResolutionError::Other(_)) if deadline.is_some() => Ok(Solved::OutOfTime),
            Err(e) => Err(Error::Solver(e.to_string())),
        }
    }

    fn cost(&self, x: &[f64]) -> f64 {
        self.prices.iter().zip(x).map(|(&p, &n)| p as f64 * n).sum()
    }

    fn whole_cost(&self, n: &[u32]) -> i64 {
        self.prices
            .iter()
            .zip(n)
            .map(|(&p, &k)| p * i64::from(k))
            .sum()
    }

    /// Whole bags `n` meet every target and upper bound.
    fn meets(&self, n: &[u32]) -> bool {
        (0..3).all(|i| {
            let s: f64 = self
                .per_bag
                .iter()
                .zip(n)
                .map(|(pb, &k)| pb[i] * f64::from(k))
                .sum();
            s >= self.targets[i] - FEAS_EPS && self.upper[i].is_none_or(|u| s <= u + FEAS_EPS)
        })
    }
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a.abs() } else { gcd(b, a % b) }
}

fn bounds_note() -> Note {
    Note::new(
        "bounds_unreachable",
        "库存足够，但没有任何整袋组合能落在允许的超量/精确范围内；请放宽容差",
        "the stock is enough, but no combination of bags lands within the over-supply or exact \
         tolerance; widen the tolerance",
    )
}

fn not_proven_note(limit: Duration) -> Note {
    let ms = limit.as_millis();
    Note::new(
        "not_proven_optimal",
        format!(
            "整袋搜索在 {ms} 毫秒时间限制内未完成：这是已找到的最便宜组合，未证明最优（可能还有更便宜的组合）"
        ),
        format!(
            "the whole-bag search did not finish within its {ms} ms time limit: this is the \
             cheapest basket found, not proven optimal (a cheaper one may exist)"
        ),
    )
}

fn no_basket_in_time_note(limit: Duration) -> Note {
    let ms = limit.as_millis();
    Note::new(
        "no_basket_in_time",
        format!(
            "整袋搜索在 {ms} 毫秒时间限制内没有找到满足超量/精确范围的组合；请放宽容差或延长时间限制"
        ),
        format!(
            "the whole-bag search found no basket within the over-supply or exact tolerance in \
             its {ms} ms time limit; widen the tolerance or allow more time"
        ),
    )
}

fn bag_text(b: Bags, name: &str) -> String {
    match b {
        Bags::Whole(n) => format!("{n} ({name})"),
        Bags::Fractional(x) => format!("{} ({name})", num(x)),
    }
}

fn infeasible(
    options: &BasketOptions,
    shortfalls: Vec<Shortfall>,
    steps: Vec<Step>,
    mut notes: Vec<Note>,
) -> BasketOutcome {
    for s in &shortfalls {
        notes.push(Note::new(
            "nutrient_short",
            format!(
                "{} 不足：目标 {} kg，现有库存最多 {} kg",
                s.nutrient.zh(),
                num(s.target_kg),
                num(s.max_available_kg)
            ),
            format!(
                "{} falls short: target {} kg, the stock at hand supplies at most {} kg",
                s.nutrient,
                num(s.target_kg),
                num(s.max_available_kg)
            ),
        ));
    }
    BasketOutcome {
        feasible: false,
        whole_bags: options.whole_bags,
        mode: options.mode,
        lines: Vec::new(),
        nutrients: Vec::new(),
        cost_fen: None,
        continuous_cost_fen: None,
        rounded_up: None,
        shortfalls,
        proven_optimal: true,
        objective_fen: f64::NAN,
        steps,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bag_bound_keeps_the_optimum_reachable() {
        // urea 23 kg N per bag, target 100 kg: 5 bags cover it alone.
        assert_eq!(
            bag_bound([23.0, 0.0, 0.0], [100.0, 50.0, 60.0], [None; 3], None),
            5.0
        );
        // exactly divisible target: 2 bags, not 3 from float noise.
        assert_eq!(
            bag_bound([25.0, 0.0, 0.0], [50.0, 0.0, 0.0], [None; 3], None),
            2.0
        );
        // stock caps it
        assert_eq!(
            bag_bound([23.0, 0.0, 0.0], [100.0, 0.0, 0.0], [None; 3], Some(3)),
            3.0
        );
        // a product that carries nothing targeted is never bought
        assert_eq!(
            bag_bound([0.0, 0.0, 30.0], [100.0, 50.0, 0.0], [None; 3], None),
            0.0
        );
    }
}
