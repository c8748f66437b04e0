//! Every worked example (test vector) of METHODS.md, through the crate API and through
//! `handle_json`. Where the table marks a value [C] (recomputed because the source slipped), the
//! recomputed value is asserted.

use advisor::basket::{Bags, BasketOptions, Mode, least_cost_basket};
use advisor::data::tables;
use advisor::methods::balance::{BalanceInput, SoilSupply, nutrient_balance};
use advisor::methods::quefts::{QueftsInput, quefts};
use advisor::methods::rb209::{adjust_for_yield, soil_index};
use advisor::methods::response::{
    NutrientPrice, Prices, Quadratic, ResponseInput, response_function,
};
use advisor::methods::tri_state::{
    Levels, TriStateClass, TriStateParams, tri_state_k, tri_state_p,
};
use advisor::products::{Analysis, Offer};
use advisor::sizing::{SizingProduct, sequential_sizing};
use advisor::targets::{MassTargets, RateTargets};
use advisor::units::{
    Content, K, Kg, KgPerHa, KgPerMu, LbPerAcre, MgPerKg, MgPerLitre, N, P, P2O5, Ph, Positive,
    Ppm, RecoveryRate, Share, Uptake,
};
use serde_json::{Value, json};

use crate::helpers::{close, num, run};

// ---------------------------------------------------------------- vectors 1 and 2

fn peanut_input(uptake_per_kg: f64) -> BalanceInput<N> {
    BalanceInput {
        target_yield: KgPerMu::new(300.0),
        uptake: Uptake::per_kg(uptake_per_kg),
        soil: SoilSupply::SoilTest {
            test: MgPerKg::new(60.0),
            correction: Positive::new(0.55),
        },
        recovery: RecoveryRate::new(0.5),
        legume_factor: None,
        content: Some(Content::new(0.46)),
    }
}

fn peanut_request(uptake_per_kg: f64, legume: Option<f64>) -> Value {
    let mut r = json!({
        "method": "nutrient_balance",
        "nutrient": "N",
        "crop": "peanut",
        "target_yield_kg_per_mu": 300,
        "uptake_kg_per_kg_yield": uptake_per_kg,
        "soil": {"soil_test": {"mg_per_kg": 60, "correction_coefficient": 0.55}},
        "recovery_rate": 0.5,
        "fertiliser_nutrient_pct": 46
    });
    if let Some(f) = legume {
        r["legume_n_factor"] = json!(f);
    }
    r
}

#[test]
fn vector_01_nutrient_balance_peanut_crate() {
    let out = nutrient_balance(&peanut_input(0.05));
    close(out.soil_supply.value(), 4.95, 1e-9);
    close(out.product.unwrap().value(), 43.7, 0.005);
    let mut legume = peanut_input(0.05);
    legume.legume_factor = Some(Share::new(0.40));
    let out = nutrient_balance(&legume);
    close(out.product.unwrap().value(), 17.48, 0.005);
}

#[test]
fn vector_01_nutrient_balance_peanut_json() {
    // Peanut's 40 % legume factor comes from data/crops.toml by default.
    let v = run(peanut_request(0.05, None));
    close(num(&v, "/soil_supply_kg_per_mu"), 4.95, 1e-9);
    close(num(&v, "/unscaled_product_kg_per_mu"), 43.7, 0.005);
    close(num(&v, "/product_kg_per_mu"), 17.48, 0.005);
    close(num(&v, "/legume_n_factor"), 0.40, 0.0);
    // switched off explicitly, the product is the full 43.7
    let v = run(peanut_request(0.05, Some(1.0)));
    close(num(&v, "/product_kg_per_mu"), 43.7, 0.005);
    assert!(!v["steps"].as_array().unwrap().is_empty());
}

#[test]
fn vector_02_nutrient_balance_peanut_table_uptake() {
    let out = nutrient_balance(&peanut_input(0.068));
    close(out.product.unwrap().value(), 67.2, 0.05);
    let mut legume = peanut_input(0.068);
    legume.legume_factor = Some(Share::new(0.40));
    close(
        nutrient_balance(&legume).product.unwrap().value(),
        26.87,
        0.005,
    );

    // 0.068 is the table's 6.80 kg per 100 kg: leave the uptake out and the crop supplies it.
    let mut r = peanut_request(0.068, None);
    r.as_object_mut().unwrap().remove("uptake_kg_per_kg_yield");
    let v = run(r);
    close(num(&v, "/uptake_kg_per_kg_yield"), 0.068, 1e-12);
    close(num(&v, "/unscaled_product_kg_per_mu"), 67.2, 0.05);
    close(num(&v, "/product_kg_per_mu"), 26.87, 0.005);
}

// ---------------------------------------------------------------- vectors 4 and 5

fn wheat_jin(prices: Option<Prices>) -> ResponseInput {
    ResponseInput {
        curve: Quadratic::try_new(240.8, 15.92, -0.44).unwrap(),
        // The trial used jin (0.5 kg) for both x and y.
        x_unit_kg: Positive::new(0.5),
        y_unit_kg: Positive::new(0.5),
        prices,
    }
}

#[test]
fn vector_04_response_maximum_crate_and_json() {
    let out = response_function(&wheat_jin(None)).unwrap();
    close(out.x_max, 18.1, 0.01);
    close(out.x_max * 0.5, 9.05, 0.01);
    close(out.y_max, 384.8, 0.01);

    let v = run(json!({
        "method": "response_function",
        "a": 240.8, "b": 15.92, "c": -0.44,
        "x_unit_kg": 0.5, "y_unit_kg": 0.5
    }));
    close(num(&v, "/x_max"), 18.1, 0.01);
    close(num(&v, "/x_max_kg_per_mu"), 9.05, 0.01);
    close(num(&v, "/y_max"), 384.8, 0.01);
    close(num(&v, "/y_max_kg_per_mu"), 192.4, 0.01);
    assert!(v["economic"].is_null());
}

#[test]
fn vector_05_response_profit_at_x_max() {
    // Wheat 0.30 yuan/kg = 30 fen, N 1.00 yuan/kg = 100 fen. The source rounds x to 9.05 kg and
    // y to 120.4 -> 192.4 kg: 72 × 0.30 − 9.05 = 12.55 yuan. Unrounded it is 12.5551 yuan.
    let prices = Prices {
        nutrient: NutrientPrice::PerKgNutrient { fen_per_kg: 100 },
        crop_fen_per_kg: 30,
    };
    let out = response_function(&wheat_jin(Some(prices))).unwrap();
    let e = out.economic.unwrap();
    close(e.profit_max_fen, 1255.5, 0.6);
    close(out.y0 * 0.5, 120.4, 1e-9);
    close(out.y_max * 0.5, 192.4, 0.01);
    // the economic optimum earns more than the maximum-yield rate
    assert!(e.profit_eco_fen > e.profit_max_fen);

    let v = run(json!({
        "method": "response_function",
        "a": 240.8, "b": 15.92, "c": -0.44,
        "x_unit_kg": 0.5, "y_unit_kg": 0.5,
        "nutrient_price": {"per_kg_nutrient": {"fen_per_kg": 100}},
        "crop_price_fen_per_kg": 30
    }));
    let profit = v["economic"]["profit_at_x_max_fen_per_mu"]
        .as_i64()
        .unwrap();
    assert!((1255..=1256).contains(&profit), "profit {profit} fen");
}

// ---------------------------------------------------------------- vectors 7 and 8

fn maize_ha(prices: Option<Prices>) -> ResponseInput {
    ResponseInput {
        curve: Quadratic::try_new(4986.675, 9.72224, -0.01663).unwrap(),
        x_unit_kg: Positive::new(1.0),
        y_unit_kg: Positive::new(1.0),
        prices,
    }
}

#[test]
fn vector_07_response_maximum_per_ha() {
    close(
        response_function(&maize_ha(None)).unwrap().x_max,
        292.3,
        0.05,
    );
    let v = run(json!({
        "method": "response_function",
        "a": 4986.675, "b": 9.72224, "c": -0.01663,
        "area_unit": "ha"
    }));
    close(num(&v, "/x_max_kg_per_ha"), 292.3, 0.05);
    close(num(&v, "/x_max_kg_per_mu"), 292.3 / 15.0, 0.01);
}

#[test]
fn vector_08_price_basis_moves_the_optimum() {
    // As the paper did: 1.6 yuan/kg of *product* used as if it were the N price -> 254.4 [S].
    let paper = Prices {
        nutrient: NutrientPrice::PerKgNutrient { fen_per_kg: 160 },
        crop_fen_per_kg: 127,
    };
    let e = response_function(&maize_ha(Some(paper)))
        .unwrap()
        .economic
        .unwrap();
    close(e.x_eco, 254.4, 0.05);
    // Priced per kg of product, urea 46 % N: p_x = 1.6 / 0.46 per kg N -> 210.0 [C].
    let right = Prices {
        nutrient: NutrientPrice::PerKgProduct {
            fen_per_kg: 160,
            nutrient_pct: 46.0,
        },
        crop_fen_per_kg: 127,
    };
    let e = response_function(&maize_ha(Some(right)))
        .unwrap()
        .economic
        .unwrap();
    close(e.x_eco, 210.0, 0.05);

    let request = |price: Value| {
        json!({
            "method": "response_function",
            "a": 4986.675, "b": 9.72224, "c": -0.01663,
            "area_unit": "ha",
            "nutrient_price": price,
            "crop_price_fen_per_kg": 127
        })
    };
    let v = run(request(json!({"per_kg_nutrient": {"fen_per_kg": 160}})));
    close(num(&v, "/economic/x_eco_kg_per_ha"), 254.4, 0.05);
    let v = run(request(
        json!({"per_kg_product": {"fen_per_kg": 160, "nutrient_pct": 46}}),
    ));
    close(num(&v, "/economic/x_eco_kg_per_ha"), 210.0, 0.05);
    close(
        num(&v, "/economic/nutrient_price_fen_per_kg"),
        160.0 / 0.46,
        1e-9,
    );
}

// ---------------------------------------------------------------- vectors 11 and 12

fn sizing_product(name: &str, analysis: &str) -> SizingProduct {
    SizingProduct {
        name: name.into(),
        analysis: Analysis::parse(analysis).unwrap(),
    }
}

fn targets_11() -> RateTargets {
    RateTargets {
        n: KgPerMu::new(8.5),
        p2o5: KgPerMu::new(4.8),
        k2o: KgPerMu::new(6.5),
    }
}

fn kg_of(lines: &[advisor::sizing::SizingLine], name: &str) -> f64 {
    lines
        .iter()
        .find(|l| l.product == name)
        .unwrap_or_else(|| panic!("{name} not in the basket"))
        .kg_per_mu
        .value()
}

#[test]
fn vector_11_sequential_compound_then_straights() {
    let products = [
        sizing_product("15-15-15", "15-15-15"),
        sizing_product("urea", "46-0-0"),
        sizing_product("K2SO4", "0-0-50"),
    ];
    let out = sequential_sizing(&targets_11(), &products);
    close(kg_of(&out.lines, "15-15-15"), 32.0, 1e-9);
    close(kg_of(&out.lines, "urea"), 8.0, 0.05);
    close(kg_of(&out.lines, "K2SO4"), 3.4, 1e-9);
    assert!(out.shortfalls.is_empty());
    for line in &out.nutrients {
        close(line.supplied, line.target, 1e-9);
    }

    let v = run(json!({
        "method": "sequential_sizing",
        "targets_kg_per_mu": {"n": 8.5, "p2o5": 4.8, "k2o": 6.5},
        "products": [
            {"name": "15-15-15", "analysis": "15-15-15"},
            {"name": "urea", "analysis": "46-0-0"},
            {"name": "K2SO4", "analysis": "0-0-50"}
        ]
    }));
    let lines = v["lines"].as_array().unwrap();
    assert_eq!(lines[0]["product"], "15-15-15");
    assert_eq!(lines[0]["role"], "compound");
    assert_eq!(lines[0]["sized_to"], "P2O5");
    close(num(&v, "/lines/0/kg_per_mu"), 32.0, 1e-9);
    close(num(&v, "/lines/1/kg_per_mu"), 8.0, 0.05);
    close(num(&v, "/lines/2/kg_per_mu"), 3.4, 1e-9);
}

#[test]
fn vector_12_sequential_straights_only() {
    let products = [
        sizing_product("urea", "46-0-0"),
        sizing_product("superphosphate", "0-12-0"),
        sizing_product("K2SO4", "0-0-50"),
    ];
    let out = sequential_sizing(&targets_11(), &products);
    close(kg_of(&out.lines, "urea"), 18.5, 0.05);
    close(kg_of(&out.lines, "superphosphate"), 40.0, 1e-9);
    close(kg_of(&out.lines, "K2SO4"), 13.0, 1e-9);

    let v = run(json!({
        "method": "sequential_sizing",
        "targets_kg_per_mu": {"n": 8.5, "p2o5": 4.8, "k2o": 6.5},
        "products": [
            {"name": "urea", "analysis": "46-0-0"},
            {"name": "superphosphate", "analysis": "0-12-0"},
            {"name": "K2SO4", "analysis": "0-0-50"}
        ]
    }));
    close(num(&v, "/lines/0/kg_per_mu"), 18.5, 0.05);
    close(num(&v, "/lines/1/kg_per_mu"), 40.0, 1e-9);
    close(num(&v, "/lines/2/kg_per_mu"), 13.0, 1e-9);
}

// ---------------------------------------------------------------- vectors 17 and 19

#[test]
fn vector_17_rb209_yield_adjustment() {
    let offtake = tables().offtake("cereal_grain").unwrap().p2o5_kg_per_t;
    assert_eq!(offtake, 7.8);
    let adj = adjust_for_yield(KgPerHa::<P2O5>::new(90.0), 8.0, 10.0, offtake);
    close(adj.rate.value(), 106.0, 0.5);
    close(adj.rate.value(), 105.6, 1e-9);

    let v = run(json!({
        "method": "rb209",
        "yield_adjustment": {
            "nutrient": "P2O5",
            "table_value_kg_per_ha": 90,
            "table_yield_t_per_ha": 8,
            "expected_yield_t_per_ha": 10,
            "offtake": "cereal_grain"
        }
    }));
    close(num(&v, "/yield_adjustment/rate_kg_per_ha"), 105.6, 1e-9);
}

#[test]
fn vector_19_rb209_indices() {
    let t = &tables().rb209;
    assert_eq!(soil_index(MgPerLitre::<P>::new(12.0), &t.p).index, "1");
    assert_eq!(soil_index(MgPerLitre::<P>::new(22.0), &t.p).index, "2");
    assert_eq!(soil_index(MgPerLitre::<K>::new(150.0), &t.k).index, "2-");
    assert_eq!(soil_index(MgPerLitre::<K>::new(200.0), &t.k).index, "2+");

    for (p, k, pi, ki) in [(12, 150, "1", "2-"), (22, 200, "2", "2+")] {
        let v = run(json!({"method": "rb209", "olsen_p_mg_per_l": p, "k_mg_per_l": k}));
        assert_eq!(v["p_index"]["index"], pi);
        assert_eq!(v["k_index"]["index"], ki);
    }
}

// ---------------------------------------------------------------- vector 20

#[test]
fn vector_20_tri_state_classes() {
    let t = &tables().tri_state;
    let params = TriStateParams {
        p2o5_lb_per_ppm: t.build_up.p2o5_lb_per_ppm,
        build_up_years: t.build_up.years,
        k_cec_coefficient: t.build_up.k_cec_coefficient,
        k2o_build_up_extra: t.build_up.k2o_extra_lb,
        k2o_maintenance_extra: t.maintenance.k2o_extra_lb,
        p2o5_maintenance_extra: t.maintenance.p2o5_extra_lb,
    };
    let corn_p = Levels {
        critical: t.p.corn_soybean.critical_ppm,
        maintenance: t.p.corn_soybean.maintenance_ppm,
    };
    let k_levels = |cec: f64| {
        let l = if cec <= 5.0 {
            &t.k.low_cec
        } else {
            &t.k.high_cec
        };
        Levels {
            critical: l.critical_ppm,
            maintenance: l.maintenance_ppm,
        }
    };
    let removal = LbPerAcre::new(0.0);
    let p15 = tri_state_p(Ppm::new(15.0), corn_p, removal, &params);
    assert_eq!(p15.class, TriStateClass::BuildUp);
    // (20 − 15) × 20 / 4 = 25 lb P2O5/acre
    close(p15.rate.value(), 25.0, 1e-9);
    assert_eq!(
        tri_state_p(Ppm::new(35.0), corn_p, removal, &params).class,
        TriStateClass::Maintenance
    );
    let k = |test: f64, cec: f64| {
        tri_state_k(
            Ppm::<K>::new(test),
            cec,
            k_levels(cec),
            LbPerAcre::new(0.0),
            &params,
        )
    };
    assert_eq!(k(110.0, 4.0).class, TriStateClass::Maintenance);
    let k_build = k(110.0, 12.0);
    assert_eq!(k_build.class, TriStateClass::BuildUp);
    // (120 − 110) × (1 + 0.05 × 12) + 0 + 20 = 36 lb K2O/acre
    close(k_build.rate.value(), 36.0, 1e-9);
    assert_eq!(k(150.0, 4.0).class, TriStateClass::None);

    let cases = [
        (
            json!({"nutrient": "P", "soil_test_ppm": 15, "crop_group": "corn_soybean"}),
            "build_up",
        ),
        (
            json!({"nutrient": "P", "soil_test_ppm": 35, "crop_group": "corn_soybean"}),
            "maintenance",
        ),
        (
            json!({"nutrient": "K", "soil_test_ppm": 110, "cec_meq_per_100g": 4}),
            "maintenance",
        ),
        (
            json!({"nutrient": "K", "soil_test_ppm": 110, "cec_meq_per_100g": 12}),
            "build_up",
        ),
        (
            json!({"nutrient": "K", "soil_test_ppm": 150, "cec_meq_per_100g": 4}),
            "none",
        ),
    ];
    for (mut req, class) in cases {
        req["method"] = json!("tri_state");
        let v = run(req.clone());
        assert_eq!(v["class"], class, "{req}");
    }
}

// ---------------------------------------------------------------- vector 21

fn offer(name: &str, analysis: &str, fen_per_bag: i64) -> Offer {
    Offer {
        name: name.into(),
        analysis: Analysis::parse(analysis).unwrap(),
        bag_kg: Kg::new(50.0),
        price_fen_per_bag: fen_per_bag,
        stock_bags: None,
    }
}

fn vector_21_offers() -> Vec<Offer> {
    // yuan/kg: urea 2.0, DAP 3.5, MOP 2.5, 15-15-15 3.0 -> fen/kg × 50 kg = fen per bag.
    vec![
        offer("urea", "46-0-0", 200 * 50),
        offer("DAP", "18-46-0", 350 * 50),
        offer("MOP", "0-0-60", 250 * 50),
        offer("15-15-15", "15-15-15", 300 * 50),
    ]
}

fn vector_21_targets() -> MassTargets {
    MassTargets {
        n: Kg::new(100.0),
        p2o5: Kg::new(50.0),
        k2o: Kg::new(60.0),
    }
}

/// Every combination of 0..=15 bags of the four products. 15 is above the bound past which a
/// product alone covers every target it carries (15-15-15 needs 14 bags for N alone), so no
/// optimum is missed.
fn brute_force_21(offers: &[Offer], t: [f64; 3]) -> (i64, Vec<[u32; 4]>) {
    let per_bag: Vec<[f64; 3]> = offers.iter().map(Offer::nutrient_per_bag).collect();
    let mut best = i64::MAX;
    let mut argmin = Vec::new();
    for a in 0..=15u32 {
        for b in 0..=15u32 {
            for c in 0..=15u32 {
                for d in 0..=15u32 {
                    let n = [a, b, c, d];
                    let ok = (0..3).all(|i| {
                        let s: f64 = (0..4).map(|j| per_bag[j][i] * f64::from(n[j])).sum();
                        s >= t[i] - 1e-9
                    });
                    if !ok {
                        continue;
                    }
                    let cost: i64 = (0..4)
                        .map(|j| i64::from(n[j]) * offers[j].price_fen_per_bag)
                        .sum();
                    if cost < best {
                        best = cost;
                        argmin.clear();
                    }
                    if cost == best {
                        argmin.push(n);
                    }
                }
            }
        }
    }
    (best, argmin)
}

fn bags_by_name(out: &advisor::basket::BasketOutcome, offers: &[Offer]) -> Vec<f64> {
    offers
        .iter()
        .map(|o| {
            out.lines
                .iter()
                .find(|l| l.product == o.name)
                .map_or(0.0, |l| l.bags.value())
        })
        .collect()
}

#[test]
fn vector_21_least_cost_basket_crate() {
    let offers = vector_21_offers();
    let t = vector_21_targets();

    let continuous = least_cost_basket(
        &t,
        &offers,
        &BasketOptions {
            whole_bags: false,
            ..BasketOptions::default()
        },
    )
    .unwrap();
    assert!(continuous.feasible);
    assert_eq!(continuous.cost_fen, Some(98015));
    let kg = bags_by_name(&continuous, &offers)
        .iter()
        .map(|b| b * 50.0)
        .collect::<Vec<_>>();
    close(kg[0], 174.86, 0.01);
    close(kg[1], 108.70, 0.01);
    close(kg[2], 100.0, 1e-6);
    close(kg[3], 0.0, 1e-6);
    // rounding the continuous answer up bag by bag: 4 urea, 3 DAP, 2 MOP = 1175 yuan
    assert_eq!(continuous.rounded_up.as_ref().unwrap().cost_fen, 117500);

    let whole = least_cost_basket(&t, &offers, &BasketOptions::default()).unwrap();
    assert!(whole.feasible);
    let (best, argmin) = brute_force_21(&offers, t.values());
    assert_eq!(best, 115000, "brute force");
    assert_eq!(whole.cost_fen, Some(best), "MIP equals brute force");
    let bags: Vec<u32> = bags_by_name(&whole, &offers)
        .iter()
        .map(|b| *b as u32)
        .collect();
    assert!(
        argmin.contains(&[bags[0], bags[1], bags[2], bags[3]]),
        "{bags:?} not optimal"
    );
    // The optimum is unique, and it is the 4/2/2/1 the brief names: urea 4, DAP 2, MOP 2, NPK 1.
    assert_eq!(argmin, vec![[4, 2, 2, 1]]);
    assert!(whole.lines.iter().all(|l| matches!(l.bags, Bags::Whole(_))));
    // whole bags cost more than the continuous relaxation, less than rounding it up
    assert!(whole.cost_fen.unwrap() >= continuous.cost_fen.unwrap());
    assert!(whole.cost_fen.unwrap() < 117500);
}

#[test]
fn vector_21_least_cost_basket_json() {
    let request = |whole: bool| {
        json!({
            "method": "least_cost_basket",
            "targets_kg": {"n": 100, "p2o5": 50, "k2o": 60},
            "products": [
                {"name": "urea", "analysis": "46-0-0", "bag_kg": 50, "price_fen_per_bag": 10000},
                {"name": "DAP", "analysis": "18-46-0", "bag_kg": 50, "price_fen_per_bag": 17500},
                {"name": "MOP", "analysis": "0-0-60", "bag_kg": 50, "price_fen_per_bag": 12500},
                {"name": "15-15-15", "analysis": "15-15-15", "bag_kg": 50, "price_fen_per_bag": 15000}
            ],
            "whole_bags": whole
        })
    };
    let v = run(request(false));
    assert_eq!(v["cost_fen"], 98015);
    assert_eq!(v["rounded_up"]["cost_fen"], 117500);
    let v = run(request(true));
    assert_eq!(v["feasible"], true);
    assert_eq!(v["cost_fen"], 115000);
    let bags: Vec<(String, u64)> = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["product"].as_str().unwrap().to_string(),
                l["bags"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        bags,
        vec![
            ("urea".to_string(), 4),
            ("DAP".to_string(), 2),
            ("MOP".to_string(), 2),
            ("15-15-15".to_string(), 1)
        ]
    );
    for line in v["nutrients"].as_array().unwrap() {
        assert!(line["supplied"].as_f64().unwrap() >= line["target"].as_f64().unwrap() - 1e-9);
    }
}

#[test]
fn vector_21_with_short_stock_names_the_nutrient() {
    // Only 1 bag of DAP and no 15-15-15: P2O5 can reach 23 kg, not 50.
    let mut offers = vector_21_offers();
    offers[1].stock_bags = Some(1);
    offers[3].stock_bags = Some(0);
    let out = least_cost_basket(&vector_21_targets(), &offers, &BasketOptions::default()).unwrap();
    assert!(!out.feasible);
    assert_eq!(out.shortfalls.len(), 1);
    assert_eq!(out.shortfalls[0].nutrient, advisor::units::Nutrient::P2O5);
    close(out.shortfalls[0].max_available_kg, 23.0, 1e-9);
    assert_eq!(out.cost_fen, None);
}

#[test]
fn vector_21_exact_mode_within_tolerance() {
    // Continuous exact: every nutrient lands in [target, target + tolerance].
    let out = least_cost_basket(
        &vector_21_targets(),
        &vector_21_offers(),
        &BasketOptions {
            mode: Mode::Exact,
            whole_bags: false,
            ..BasketOptions::default()
        },
    )
    .unwrap();
    assert!(out.feasible);
    for line in &out.nutrients {
        assert!(line.supplied >= line.target - 1e-6);
        assert!(line.supplied <= line.target + 0.5 + 1e-6);
    }
}

// ---------------------------------------------------------------- vector 22

#[test]
fn vector_22_quefts() {
    let out = quefts(
        &QueftsInput {
            ph: Ph::new(6.0),
            soc_g_per_kg: 10.0,
            k_ex_mmol_per_kg: 5.0,
            olsen_p_mg_per_kg: 10.0,
        },
        &tables().quefts.coefficients,
    );
    close(out.sn.value(), 51.0, 1e-9);
    close(out.sp.value(), 8.5, 1e-9);
    close(out.sk.value(), 113.6, 0.05);

    let v = run(json!({
        "method": "quefts", "ph": 6.0, "soc_g_per_kg": 10, "k_ex_mmol_per_kg": 5, "olsen_p_mg_per_kg": 10
    }));
    close(num(&v, "/sn_kg_per_ha"), 51.0, 1e-9);
    close(num(&v, "/sp_kg_per_ha"), 8.5, 1e-9);
    close(num(&v, "/sk_kg_per_ha"), 113.6, 0.05);
}

// ---------------------------------------------------------------- methods without a vector

#[test]
fn lime_by_hand() {
    // pH 5.2, buffer 6.2, target 6.0: acidity (6.6 − 6.2) × 4 = 1.6 meq; factor 0.8/1.4;
    // lime 1.6 × 0.5714 = 0.9143 US t/acre = 2049.6 kg/ha.
    let v = run(json!({"method": "lime", "current_ph": 5.2, "buffer_ph": 6.2, "target_ph": 6.0}));
    close(num(&v, "/acidity_meq_per_100cm3"), 1.6, 1e-9);
    close(num(&v, "/lime_t_per_acre"), 1.6 * 0.8 / 1.4, 1e-9);
    close(
        num(&v, "/lime_kg_per_ha"),
        1.6 * 0.8 / 1.4 * 2000.0 * 1.12085,
        1e-6,
    );
    let v = run(json!({"method": "lime", "current_ph": 6.5, "buffer_ph": 6.5, "target_ph": 6.0}));
    assert_eq!(num(&v, "/lime_t_per_acre"), 0.0);
    assert_eq!(v["notes"][0]["code"], "no_lime_needed");
}

#[test]
fn target_yield_by_hand() {
    let v = run(json!({"method": "target_yield", "yields_kg_per_mu": [400, 450, 500, 520]}));
    // last three: (450 + 500 + 520) / 3 = 490; × 1.10 = 539
    close(num(&v, "/mean_kg_per_mu"), 490.0, 1e-9);
    close(num(&v, "/target_yield_kg_per_mu"), 539.0, 1e-9);
    let v =
        run(json!({"method": "target_yield", "yields_kg_per_mu": [450, 500, 520], "factor": 1.15}));
    close(num(&v, "/target_yield_kg_per_mu"), 490.0 * 1.15, 1e-9);
}

#[test]
fn classify_china_and_abundance_by_hand() {
    let v = run(json!({
        "method": "classify_china",
        "alkali_n_mg_per_kg": 95, "olsen_p_mg_per_kg": 12, "available_k_mg_per_kg": 210
    }));
    assert_eq!(v["alkali_n"]["grade"], 3);
    assert_eq!(v["olsen_p"]["grade"], 3);
    assert_eq!(v["available_k"]["grade"], 1);
    let v = run(json!({
        "method": "abundance",
        "omission_plot_yield_kg_per_mu": 320, "full_fertiliser_yield_kg_per_mu": 500
    }));
    close(num(&v, "/relative_yield_pct"), 64.0, 1e-9);
    assert_eq!(v["class"], "low");
}

#[test]
fn fertility_difference_equals_yield_based_balance() {
    let fd = run(json!({
        "method": "fertility_difference", "nutrient": "N", "crop": "maize",
        "target_yield_kg_per_mu": 600, "no_fertiliser_yield_kg_per_mu": 400,
        "recovery_rate": 0.35, "fertiliser_nutrient_pct": 46
    }));
    let nb = run(json!({
        "method": "nutrient_balance", "nutrient": "N", "crop": "maize",
        "target_yield_kg_per_mu": 600,
        "soil": {"yield_based": {"no_fertiliser_yield_kg_per_mu": 400}},
        "recovery_rate": 0.35, "fertiliser_nutrient_pct": 46
    }));
    // 2.57/100 × (600 − 400) / 0.35 = 14.686 kg N/mu
    close(num(&fd, "/nutrient_kg_per_mu"), 0.0257 * 200.0 / 0.35, 1e-9);
    close(
        num(&fd, "/nutrient_kg_per_mu"),
        num(&nb, "/nutrient_kg_per_mu"),
        1e-9,
    );
}

#[test]
fn recommend_end_to_end() {
    let v = run(json!({
        "method": "recommend",
        "crop": "maize",
        "area_mu": 20,
        "past_yields_kg_per_mu": [520, 560, 540],
        "soil": {"alkali_n_mg_per_kg": 80, "olsen_p_mg_per_kg": 12, "available_k_mg_per_kg": 90,
                 "ph": 5.4, "buffer_ph": 6.3},
        "correction_coefficients": {"n": 0.5, "p2o5": 0.6, "k2o": 0.4},
        "recovery_rates": {"n": 0.35, "p2o5": 0.2, "k2o": 0.45},
        "target_ph": 6.0,
        "products": [
            {"name": "urea", "analysis": "46-0-0", "bag_kg": 50, "price_fen_per_bag": 12000},
            {"name": "DAP", "analysis": "18-46-0", "bag_kg": 50, "price_fen_per_bag": 18500},
            {"name": "MOP", "analysis": "0-0-60", "bag_kg": 50, "price_fen_per_bag": 14000},
            {"name": "15-15-15", "analysis": "15-15-15", "bag_kg": 40, "price_fen_per_bag": 13000}
        ]
    }));
    // target 540 × 1.1 = 594; N need 594 × 0.0257 = 15.27; supply 80 × 0.15 × 0.5 = 6;
    // (15.27 − 6) / 0.35 = 26.47 kg N/mu
    close(num(&v, "/target_yield_kg_per_mu"), 594.0, 1e-9);
    let n_rate = (594.0 * 0.0257 - 6.0) / 0.35;
    close(num(&v, "/rates/0/nutrient_kg_per_mu"), n_rate, 1e-9);
    close(num(&v, "/rates/0/field_kg"), n_rate * 20.0, 1e-9);
    // P: 594 × 0.0086 = 5.108; soil 12 × 0.15 × 2.2913 × 0.6 = 2.4746; / 0.2
    let p_rate = (594.0 * 0.0086 - 12.0 * 0.15 * 2.2913 * 0.6) / 0.2;
    close(num(&v, "/rates/1/nutrient_kg_per_mu"), p_rate, 1e-9);
    assert_eq!(v["classes"]["olsen_p"]["grade"], 3);
    assert!(num(&v, "/lime/t_per_acre") > 0.0);
    assert_eq!(v["basket"]["feasible"], true);
    for line in v["basket"]["nutrients"].as_array().unwrap() {
        assert!(line["supplied"].as_f64().unwrap() >= line["target"].as_f64().unwrap() - 1e-6);
    }
}

#[test]
fn exact_whole_bags_report_the_tolerance_not_the_stock() {
    // 50 kg bags move K2O in 30 / 7.5 kg steps and P2O5 in 23 / 7.5 kg steps: no whole-bag basket
    // lands within 0.5 kg above every target, although the stock is unlimited.
    let out = least_cost_basket(
        &vector_21_targets(),
        &vector_21_offers(),
        &BasketOptions {
            mode: Mode::Exact,
            ..BasketOptions::default()
        },
    )
    .unwrap();
    assert!(!out.feasible);
    assert!(out.shortfalls.is_empty());
    assert!(out.notes.iter().any(|n| n.code == "bounds_unreachable"));
    // A tolerance of 10 kg makes it feasible, and every nutrient stays inside it.
    let out = least_cost_basket(
        &vector_21_targets(),
        &vector_21_offers(),
        &BasketOptions {
            mode: Mode::Exact,
            exact_tolerance_kg: 10.0,
            ..BasketOptions::default()
        },
    )
    .unwrap();
    assert!(out.feasible);
    for line in &out.nutrients {
        assert!(
            line.balance >= -1e-9 && line.balance <= 10.0 + 1e-9,
            "{line:?}"
        );
    }
    assert!(out.cost_fen.unwrap() >= 115000);
}

#[test]
fn nothing_to_supply_costs_nothing() {
    let out = least_cost_basket(
        &MassTargets::default(),
        &vector_21_offers(),
        &BasketOptions::default(),
    )
    .unwrap();
    assert!(out.feasible);
    assert_eq!(out.cost_fen, Some(0));
    assert!(out.lines.is_empty());
    let out = least_cost_basket(&MassTargets::default(), &[], &BasketOptions::default()).unwrap();
    assert_eq!(out.cost_fen, Some(0));
    let out = least_cost_basket(&vector_21_targets(), &[], &BasketOptions::default()).unwrap();
    assert!(!out.feasible);
    assert_eq!(out.shortfalls.len(), 3);
}

#[test]
fn overrides_change_the_answer() {
    // NCDA reference pH 6.6 -> 6.8: acidity (6.8 − 6.2) × 4 = 2.4, factor 0.8 / 1.6 = 0.5
    let v = run(json!({
        "method": "lime", "current_ph": 5.2, "buffer_ph": 6.2, "target_ph": 6.0, "reference_ph": 6.8
    }));
    close(num(&v, "/lime_t_per_acre"), 1.2, 1e-9);
    // Tri-State: a 3-year P build-up instead of 4: (20 − 15) × 20 / 3
    let v = run(json!({
        "method": "tri_state", "nutrient": "P", "soil_test_ppm": 15, "crop_group": "corn_soybean",
        "build_up_years": 3
    }));
    close(num(&v, "/rate_lb_per_acre"), 100.0 / 3.0, 1e-9);
    // A recovery rate from the request replaces the default and no default note is written.
    let base = json!({
        "method": "nutrient_balance", "nutrient": "K2O", "crop": "rice",
        "target_yield_kg_per_mu": 500,
        "soil": {"soil_test": {"mg_per_kg": 60, "correction_coefficient": 0.5}}
    });
    let d = run(base.clone());
    close(num(&d, "/recovery_rate"), 0.375, 0.0);
    assert_eq!(d["notes"][0]["code"], "default_recovery_rate");
    let mut r = base;
    r["recovery_rate"] = json!(0.5);
    let v = run(r);
    close(
        num(&v, "/nutrient_kg_per_mu"),
        num(&d, "/nutrient_kg_per_mu") * 0.375 / 0.5,
        1e-9,
    );
    assert!(v["notes"].as_array().unwrap().is_empty());
}

#[test]
fn the_typed_recommend_answer_is_the_json_answer() {
    use advisor::api::{Method, Request, Response};
    let body = json!({
        "method": "recommend",
        "crop": "rice",
        "area_mu": 8,
        "target_yield_kg_per_mu": 550,
        "soil": {"alkali_n_mg_per_kg": 95, "olsen_p_mg_per_kg": 9, "available_k_mg_per_kg": 70,
                 "ph": 5.2, "buffer_ph": 6.4},
        "correction_coefficients": {"n": 0.6, "p2o5": 0.5, "k2o": 0.45},
        "target_ph": 6.0,
        "products": [
            {"name": "urea", "analysis": "46-0-0", "bag_kg": 50, "price_fen_per_bag": 12000},
            {"name": "DAP", "analysis": "18-46-0", "bag_kg": 50, "price_fen_per_bag": 18500},
            {"name": "MOP", "analysis": "0-0-60", "bag_kg": 50, "price_fen_per_bag": 14000}
        ]
    });
    let Request::Recommend(req) = Request::from_value(body.clone()).unwrap() else {
        panic!("not a recommend request");
    };
    let typed = req.run().unwrap();
    // The typed rates per nutrient are the rates the JSON lists, in the order N, P2O5, K2O.
    let per_mu = typed.rates_kg_per_mu.values();
    assert!(per_mu.iter().all(|x| *x > 0.0), "{per_mu:?}");
    for (i, rate) in typed.rates.iter().enumerate() {
        assert_eq!(rate.nutrient.index(), i);
        assert_eq!(rate.nutrient_kg_per_mu.value(), per_mu[i]);
    }
    // Serialised, the typed answer is exactly what handle_json prints: the typed-only field
    // stays out of the JSON.
    let json = advisor::handle_json(&body.to_string()).unwrap();
    assert_eq!(
        serde_json::to_value(Response::Recommend(Box::new(typed))).unwrap(),
        json
    );
    assert!(json.get("rates_kg_per_mu").is_none());
}
