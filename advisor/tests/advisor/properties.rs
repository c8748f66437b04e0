//! Properties that must hold for any input, checked with proptest.

use advisor::basket::{BasketOptions, least_cost_basket};
use advisor::methods::balance::{BalanceInput, SoilSupply, nutrient_balance};
use advisor::products::{Analysis, Offer};
use advisor::targets::MassTargets;
use advisor::units::{
    Content, Hectare, K, K2O, Kg, KgPerHa, KgPerMu, LbPerAcre, MgPerKg, Mu, N, P, P2O5, Positive,
    Ppm, RecoveryRate, Share, Uptake,
};
use proptest::prelude::*;

#[derive(Debug, Clone, Copy)]
struct BalanceCase {
    target: f64,
    uptake: f64,
    test: f64,
    correction: f64,
    recovery: f64,
    legume: Option<f64>,
    content: f64,
}

fn balance_case() -> impl Strategy<Value = BalanceCase> {
    (
        0.0..2000.0f64,
        0.0..0.1f64,
        0.0..400.0f64,
        0.05..3.0f64,
        0.05..=1.0f64,
        proptest::option::of(0.1..=1.0f64),
        0.05..=0.6f64,
    )
        .prop_map(
            |(target, uptake, test, correction, recovery, legume, content)| BalanceCase {
                target,
                uptake,
                test,
                correction,
                recovery,
                legume,
                content,
            },
        )
}

fn rate_p2o5(c: BalanceCase) -> (f64, f64) {
    let out = nutrient_balance(&BalanceInput::<P2O5> {
        target_yield: KgPerMu::new(c.target),
        uptake: Uptake::per_kg(c.uptake),
        soil: SoilSupply::SoilTest {
            test: MgPerKg::<P>::new(c.test),
            correction: Positive::new(c.correction),
        },
        recovery: RecoveryRate::new(c.recovery),
        legume_factor: None,
        content: Some(Content::new(c.content)),
    });
    (out.nutrient.value(), out.product.unwrap().value())
}

fn rate_n(c: BalanceCase) -> f64 {
    nutrient_balance(&BalanceInput::<N> {
        target_yield: KgPerMu::new(c.target),
        uptake: Uptake::per_kg(c.uptake),
        soil: SoilSupply::SoilTest {
            test: MgPerKg::<N>::new(c.test),
            correction: Positive::new(c.correction),
        },
        recovery: RecoveryRate::new(c.recovery),
        legume_factor: c.legume.map(Share::new),
        content: None,
    })
    .nutrient
    .value()
}

proptest! {
    #[test]
    fn rates_are_never_negative(c in balance_case()) {
        let (nutrient, product) = rate_p2o5(c);
        prop_assert!(nutrient >= 0.0 && product >= 0.0);
        prop_assert!(rate_n(c) >= 0.0);
    }

    #[test]
    fn rates_grow_with_target_yield(c in balance_case(), extra in 0.0..1000.0f64) {
        let higher = BalanceCase { target: c.target + extra, ..c };
        prop_assert!(rate_p2o5(higher).0 >= rate_p2o5(c).0);
        prop_assert!(rate_n(higher) >= rate_n(c));
    }

    #[test]
    fn rates_shrink_as_the_soil_test_rises(c in balance_case(), extra in 0.0..200.0f64) {
        let richer = BalanceCase { test: c.test + extra, ..c };
        prop_assert!(rate_p2o5(richer).0 <= rate_p2o5(c).0);
        prop_assert!(rate_n(richer) <= rate_n(c));
    }

    #[test]
    fn unit_conversions_round_trip(x in 0.0..1.0e6f64) {
        let tol = 1e-9 * x.max(1.0);
        let mu = KgPerMu::<N>::new(x);
        prop_assert!((mu.to_kg_per_ha().to_kg_per_mu().value() - x).abs() <= tol);
        let ha = KgPerHa::<K2O>::new(x);
        prop_assert!((ha.to_kg_per_mu().to_kg_per_ha().value() - x).abs() <= tol);
        prop_assert!((ha.to_lb_per_acre().to_kg_per_ha().value() - x).abs() <= tol);
        let lb = LbPerAcre::<P2O5>::new(x);
        prop_assert!((lb.to_kg_per_ha().to_lb_per_acre().value() - x).abs() <= tol);
        let p = KgPerMu::<P>::new(x);
        prop_assert!((p.to_oxide().to_element().value() - x).abs() <= tol);
        let k = KgPerHa::<K>::new(x);
        prop_assert!((k.to_oxide().to_element().value() - x).abs() <= tol);
        let p2o5 = KgPerMu::<P2O5>::new(x);
        prop_assert!((p2o5.to_element().to_oxide().value() - x).abs() <= tol);
        let ppm = Ppm::<P>::new(x);
        prop_assert!((ppm.to_mg_per_kg().to_ppm().value() - x).abs() <= tol);
        prop_assert!((Mu::new(x).to_hectare().to_mu().value() - x).abs() <= tol);
        prop_assert!((Hectare::new(x).to_mu().to_hectare().value() - x).abs() <= tol);
        let product = Kg::<advisor::units::Product>::new(x);
        let c = Content::<N>::new(0.46);
        prop_assert!((product.nutrient(c).product(c).unwrap().value() - x).abs() <= tol);
        // via JSON too: a quantity serialises as its number and parses back (serde_json's
        // default float parser may differ in the last bit, hence the tolerance)
        let json = serde_json::to_string(&mu).unwrap();
        let back = serde_json::from_str::<KgPerMu<N>>(&json).unwrap();
        prop_assert!((back.value() - x).abs() <= tol);
    }
}

// ---------------------------------------------------------------- baskets

fn analysis() -> impl Strategy<Value = Analysis> {
    (0u32..=60, 0u32..=60, 0u32..=60)
        .prop_filter("a real grade", |(n, p, k)| {
            n + p + k > 0 && n + p + k <= 100
        })
        .prop_map(|(n, p, k)| Analysis::parse(&format!("{n}-{p}-{k}")).unwrap())
}

fn offers(max: usize, stock: bool) -> impl Strategy<Value = Vec<Offer>> {
    proptest::collection::vec(
        (
            analysis(),
            prop_oneof![Just(25.0), Just(40.0), Just(50.0)],
            // any fen, or whole multiples of 5 yuan (a large common divisor of the prices is
            // what the solver's optimality gap relies on)
            prop_oneof![1000i64..30000, (2i64..60).prop_map(|k| k * 500)],
            if stock {
                proptest::option::of(0u32..8).boxed()
            } else {
                Just(None).boxed()
            },
        ),
        1..=max,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (analysis, bag, price, stock_bags))| Offer {
                name: format!("p{i}"),
                analysis,
                bag_kg: Kg::new(bag),
                price_fen_per_bag: price,
                stock_bags,
            })
            .collect()
    })
}

fn targets() -> impl Strategy<Value = MassTargets> {
    (0.0..150.0f64, 0.0..100.0f64, 0.0..100.0f64).prop_map(|(n, p, k)| MassTargets {
        n: Kg::new(n),
        p2o5: Kg::new(p),
        k2o: Kg::new(k),
    })
}

/// The cheapest whole-bag basket by enumeration (small instances only).
fn brute_force(offers: &[Offer], t: [f64; 3], bound: u32) -> Option<i64> {
    let per_bag: Vec<[f64; 3]> = offers.iter().map(Offer::nutrient_per_bag).collect();
    let limits: Vec<u32> = offers
        .iter()
        .map(|o| o.stock_bags.unwrap_or(bound).min(bound))
        .collect();
    let mut counts = vec![0u32; offers.len()];
    let mut best: Option<i64> = None;
    loop {
        let ok = (0..3).all(|i| {
            let s: f64 = (0..offers.len())
                .map(|j| per_bag[j][i] * f64::from(counts[j]))
                .sum();
            s >= t[i] - 1e-9
        });
        if ok {
            let cost: i64 = (0..offers.len())
                .map(|j| i64::from(counts[j]) * offers[j].price_fen_per_bag)
                .sum();
            best = Some(best.map_or(cost, |b| b.min(cost)));
        }
        // odometer over 0..=limit for each product
        let mut j = 0;
        loop {
            if j == offers.len() {
                return best;
            }
            if counts[j] < limits[j] {
                counts[j] += 1;
                break;
            }
            counts[j] = 0;
            j += 1;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn a_feasible_basket_meets_every_target(offers in offers(6, true), t in targets(), over in proptest::option::of(5.0..60.0f64)) {
        let options = BasketOptions { max_oversupply_pct: over, ..BasketOptions::default() };
        let out = least_cost_basket(&t, &offers, &options).unwrap();
        if out.feasible {
            let cost: i64 = out.lines.iter().map(|l| l.cost_fen).sum();
            prop_assert_eq!(Some(cost), out.cost_fen);
            for line in &out.nutrients {
                prop_assert!(line.supplied >= line.target - 1e-6, "{:?}", line);
                if let Some(p) = over {
                    prop_assert!(line.supplied <= line.target * (1.0 + p / 100.0) + 1e-6, "{:?}", line);
                }
            }
            for line in &out.lines {
                let o = offers.iter().find(|o| o.name == line.product).unwrap();
                if let Some(s) = o.stock_bags {
                    prop_assert!(line.bags.value() <= f64::from(s), "{:?} over stock {}", line, s);
                }
            }
        } else if over.is_none() {
            // Without an upper bound, infeasible means the stock is short, and it says which.
            prop_assert!(!out.shortfalls.is_empty());
            for s in &out.shortfalls {
                prop_assert!(s.max_available_kg < s.target_kg);
            }
        }
    }

    #[test]
    fn whole_bags_never_cost_less_than_the_continuous_optimum(offers in offers(6, true), t in targets()) {
        let whole = least_cost_basket(&t, &offers, &BasketOptions::default()).unwrap();
        let cont = least_cost_basket(&t, &offers, &BasketOptions { whole_bags: false, ..BasketOptions::default() }).unwrap();
        // Same feasibility without upper bounds: the stock check decides both.
        prop_assert_eq!(whole.feasible, cont.feasible);
        if whole.feasible {
            prop_assert!(whole.objective_fen >= cont.objective_fen - 1e-6);
            prop_assert!(whole.cost_fen.unwrap() >= cont.cost_fen.unwrap());
            prop_assert!(whole.cost_fen.unwrap() <= cont.rounded_up.as_ref().unwrap().cost_fen);
        }
    }

    #[test]
    fn the_mip_finds_the_brute_force_optimum(offers in offers(3, true), t in (0.0..60.0f64, 0.0..40.0f64, 0.0..40.0f64)) {
        // Stocks are capped at 7 bags, so enumerating 0..=7 covers every basket.
        let t = MassTargets { n: Kg::new(t.0), p2o5: Kg::new(t.1), k2o: Kg::new(t.2) };
        let limited: Vec<Offer> = offers.into_iter().map(|mut o| { o.stock_bags = Some(o.stock_bags.unwrap_or(7)); o }).collect();
        let out = least_cost_basket(&t, &limited, &BasketOptions::default()).unwrap();
        prop_assert_eq!(out.cost_fen, brute_force(&limited, t.values(), 7));
    }
}
