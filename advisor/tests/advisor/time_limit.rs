//! The whole-bag search's time limit: a hard instance stopped early still gives a feasible
//! basket, marked as not proven optimal; an easy one stays proven.

use std::time::{Duration, Instant};

use advisor::basket::{BasketOptions, BasketOutcome, DEFAULT_TIME_LIMIT, least_cost_basket};
use advisor::products::{Analysis, Offer};
use advisor::targets::MassTargets;
use advisor::units::Kg;
use serde_json::json;

use crate::helpers::run;

/// A fixed-seed generator (xorshift64*), so the instance is the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Many distinct compounds and straights, big stock, prices with no common factor, and a
/// county-sized target: the branch and bound has millions of nodes to close.
fn hard_instance() -> (MassTargets, Vec<Offer>) {
    let mut rng = Rng(0x5DEE_CE66_D1CE_4E5B);
    let mut offers = Vec::new();
    for j in 0..24 {
        let (n, p, k) = match j % 4 {
            0 => (5 + rng.below(25), 3 + rng.below(20), 2 + rng.below(20)),
            1 => (20 + rng.below(26), 0, 0),
            2 => (0, 10 + rng.below(35), 0),
            _ => (0, 0, 20 + rng.below(40)),
        };
        offers.push(Offer {
            name: format!("p{j}"),
            analysis: Analysis::parse(&format!("{n}-{p}-{k}")).unwrap(),
            bag_kg: Kg::new([25.0, 40.0, 50.0][rng.below(3) as usize]),
            // odd prices, 60 to 260 yuan a bag: the gcd is 1 fen, so no gap shortcut
            price_fen_per_bag: 6001 + 2 * rng.below(10_000) as i64,
            stock_bags: Some(5_000),
        });
    }
    // the same packs again at two more dealers, a fen or two dearer: interchangeable variables
    for d in 1..3 {
        for j in 0..24 {
            let mut o = offers[j].clone();
            o.name = format!("p{j}@{d}");
            o.price_fen_per_bag += 2 * d as i64;
            offers.push(o);
        }
    }
    let targets: MassTargets = serde_json::from_value(json!({
        "n": 321.7, "p2o5": 145.3, "k2o": 256.9
    }))
    .unwrap();
    (targets, offers)
}

fn supplied_meets_targets(out: &BasketOutcome) {
    assert!(out.feasible);
    assert_eq!(out.nutrients.len(), 3);
    for n in &out.nutrients {
        assert!(n.supplied >= n.target - 1e-6, "{n:?}");
    }
}

fn with_limit(ms: u64) -> BasketOptions {
    BasketOptions {
        time_limit: Duration::from_millis(ms),
        ..BasketOptions::default()
    }
}

fn note<'a>(out: &'a BasketOutcome, code: &str) -> Option<&'a advisor::explain::Note> {
    out.notes.iter().find(|n| n.code == code)
}

#[test]
fn a_hard_instance_stops_at_the_limit_with_a_feasible_basket_not_proven() {
    let (t, offers) = hard_instance();
    let start = Instant::now();
    let out = least_cost_basket(&t, &offers, &with_limit(50)).unwrap();
    let took = start.elapsed();
    // Unlimited, this instance runs for well over ten seconds; the limit stops it (the
    // solver looks at the clock every few pivots, so allow it some slack).
    assert!(took < Duration::from_secs(3), "took {took:?}");
    supplied_meets_targets(&out);
    assert!(!out.proven_optimal);
    let cost = out.cost_fen.unwrap();
    let rounded = out.rounded_up.as_ref().unwrap();
    assert!(rounded.meets_bounds);
    // never worse than the seed, never better than the continuous lower bound
    assert!(cost <= rounded.cost_fen, "{cost} > {}", rounded.cost_fen);
    assert!(cost >= out.continuous_cost_fen.unwrap());
    // the cost is the lines' cost, in integer fen
    assert_eq!(cost, out.lines.iter().map(|l| l.cost_fen).sum::<i64>());
    let n = note(&out, "not_proven_optimal").expect("a not-proven note");
    assert!(
        n.zh.contains("50 毫秒") && n.zh.contains("未证明最优"),
        "{}",
        n.zh
    );
    assert!(
        n.en.contains("50 ms") && n.en.contains("not proven optimal"),
        "{}",
        n.en
    );
    assert!(
        out.steps
            .iter()
            .any(|s| s.en.contains("not proven optimal")),
        "{:#?}",
        out.steps
    );
}

#[test]
fn a_zero_limit_gives_the_rounded_up_basket_not_proven() {
    let (t, offers) = hard_instance();
    let out = least_cost_basket(&t, &offers, &with_limit(0)).unwrap();
    supplied_meets_targets(&out);
    assert!(!out.proven_optimal);
    let rounded = out.rounded_up.clone().unwrap();
    let bought: Vec<(String, f64)> = out
        .lines
        .iter()
        .map(|l| (l.product.clone(), l.bags.value()))
        .collect();
    let seed: Vec<(String, f64)> = rounded
        .lines
        .iter()
        .map(|l| (l.product.clone(), f64::from(l.bags)))
        .collect();
    assert_eq!(bought, seed);
    assert_eq!(out.cost_fen, Some(rounded.cost_fen));
    assert!(note(&out, "not_proven_optimal").is_some());
}

#[test]
fn no_basket_in_time_is_not_reported_as_proven_infeasible() {
    // Exact mode: rounding up breaks the tolerance, so there is no fallback basket.
    let (t, offers) = hard_instance();
    let options = BasketOptions {
        mode: advisor::basket::Mode::Exact,
        exact_tolerance_kg: 3.0,
        ..with_limit(0)
    };
    let out = least_cost_basket(&t, &offers, &options).unwrap();
    assert!(!out.feasible);
    assert!(!out.proven_optimal);
    assert!(out.shortfalls.is_empty());
    let n = note(&out, "no_basket_in_time").expect("a no-basket-in-time note");
    assert!(!n.zh.is_empty() && n.en.contains("time limit"), "{n:?}");
    assert!(note(&out, "bounds_unreachable").is_none());
}

#[test]
fn the_default_case_stays_proven() {
    assert_eq!(BasketOptions::default().time_limit, DEFAULT_TIME_LIMIT);
    assert_eq!(DEFAULT_TIME_LIMIT, Duration::from_secs(2));
    let offers: Vec<Offer> = serde_json::from_value(json!([
        {"name": "urea", "analysis": "46-0-0", "bag_kg": 40, "price_fen_per_bag": 9500, "stock_bags": 20},
        {"name": "dap", "analysis": "18-46-0", "bag_kg": 50, "price_fen_per_bag": 17500, "stock_bags": 20},
        {"name": "mop", "analysis": "0-0-60", "bag_kg": 40, "price_fen_per_bag": 12000, "stock_bags": 20},
        {"name": "npk", "analysis": "15-15-15", "bag_kg": 40, "price_fen_per_bag": 13000, "stock_bags": 20}
    ]))
    .unwrap();
    let t: MassTargets = serde_json::from_value(json!({"n": 60, "p2o5": 30, "k2o": 35})).unwrap();
    let out = least_cost_basket(&t, &offers, &BasketOptions::default()).unwrap();
    supplied_meets_targets(&out);
    assert!(out.proven_optimal);
    assert!(note(&out, "not_proven_optimal").is_none());
    // and the infeasible answer from a shortfall is proven too
    let short: MassTargets = serde_json::from_value(json!({"n": 60000})).unwrap();
    let out = least_cost_basket(&short, &offers, &BasketOptions::default()).unwrap();
    assert!(!out.feasible && out.proven_optimal);
}

#[test]
fn the_json_api_takes_a_time_limit_and_reports_the_flag() {
    let (t, offers) = hard_instance();
    let request = |ms: Option<u64>| {
        let mut r = json!({
            "method": "least_cost_basket",
            "targets_kg": t,
            "products": offers,
        });
        if let Some(ms) = ms {
            r["time_limit_ms"] = json!(ms);
        }
        r
    };
    let v = run(request(Some(20)));
    assert_eq!(v["proven_optimal"], false, "{v:#}");
    assert_eq!(v["feasible"], true);
    assert!(
        v["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["code"] == "not_proven_optimal")
    );

    // an easy request says it is proven
    let easy = json!({
        "method": "least_cost_basket", "targets_kg": {"n": 46},
        "products": [{"name": "urea", "analysis": "46-0-0", "bag_kg": 50, "price_fen_per_bag": 10000}]
    });
    assert_eq!(run(easy)["proven_optimal"], true);

    // too long a limit is a request error naming the field, as is a negative one
    let e = advisor::handle_json(&request(Some(60_001)).to_string()).unwrap_err();
    assert_eq!(e.field(), Some("time_limit_ms"), "{e}");
    let mut bad = request(None);
    bad["time_limit_ms"] = json!(-1);
    let e = advisor::handle_json(&bad.to_string()).unwrap_err();
    assert_eq!(e.field(), Some("time_limit_ms"), "{e}");

    // recommend takes it under `basket`
    let e = advisor::handle_json(
        &json!({
            "method": "recommend", "crop": "rice", "area_mu": 1, "target_yield_kg_per_mu": 500,
            "soil": {"alkali_n_mg_per_kg": 100, "olsen_p_mg_per_kg": 10, "available_k_mg_per_kg": 80},
            "correction_coefficients": {"n": 0.5, "p2o5": 0.5, "k2o": 0.5},
            "products": [], "basket": {"time_limit_ms": 600_000}
        })
        .to_string(),
    )
    .unwrap_err();
    assert_eq!(e.field(), Some("basket.time_limit_ms"), "{e}");
}
