//! Benchmark: `cargo run --release -p advisor --example bench`
//!
//! Prints, on one core:
//! 1. throughput of formula-only recommendations (one nutrient balance each for N, P2O5 and K2O
//!    per recommendation; target >= 1 000 000 a second), and for comparison the same with the
//!    bilingual steps written, and whole `recommend`-style JSON requests;
//! 2. p50/p99 time of a whole-bag least-cost basket over 12 candidate products
//!    (target p99 < 10 ms).
//!
//! Inputs vary from call to call (a fixed-seed generator) and go through `black_box`, so the
//! compiler cannot fold the work away. Deterministic: the same figures' workload every run.

use std::hint::black_box;
use std::time::{Duration, Instant};

use advisor::basket::{BasketOptions, least_cost_basket};
use advisor::methods::balance::{BalanceInput, SoilSupply, balance_steps, nutrient_balance};
use advisor::products::{Analysis, Offer};
use advisor::targets::MassTargets;
use advisor::units::{
    FertiliserNutrient, K2O, Kg, KgPerMu, MgPerKg, N, P2O5, Positive, RecoveryRate, Uptake,
};

/// A small fixed-seed generator (xorshift64*), so every run does the same work.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
}

fn input<F: FertiliserNutrient>(rng: &mut Rng, uptake: f64, test: f64) -> BalanceInput<F> {
    BalanceInput {
        target_yield: KgPerMu::new(rng.range(300.0, 800.0)),
        uptake: Uptake::per_kg(uptake),
        soil: SoilSupply::SoilTest {
            test: MgPerKg::new(test),
            correction: Positive::new(rng.range(0.3, 0.8)),
        },
        recovery: RecoveryRate::new(rng.range(0.15, 0.45)),
        legume_factor: None,
        content: None,
    }
}

struct Rec {
    n: BalanceInput<N>,
    p: BalanceInput<P2O5>,
    k: BalanceInput<K2O>,
}

fn recommendations(count: usize) -> Vec<Rec> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..count)
        .map(|_| {
            let soil_n = rng.range(40.0, 180.0);
            let soil_p = rng.range(3.0, 50.0);
            let soil_k = rng.range(40.0, 250.0);
            Rec {
                // maize uptake per kg yield (data/crops.toml: 2.57 / 0.86 / 2.14 per 100 kg)
                n: input(&mut rng, 0.0257, soil_n),
                p: input(&mut rng, 0.0086, soil_p),
                k: input(&mut rng, 0.0214, soil_k),
            }
        })
        .collect()
}

fn formula_throughput(recs: &[Rec], rounds: usize) -> (f64, f64) {
    let start = Instant::now();
    let mut sum = 0.0;
    for _ in 0..rounds {
        for r in recs {
            let r = black_box(r);
            sum += nutrient_balance(&r.n).nutrient.value();
            sum += nutrient_balance(&r.p).nutrient.value();
            sum += nutrient_balance(&r.k).nutrient.value();
        }
    }
    black_box(sum);
    let secs = start.elapsed().as_secs_f64();
    ((recs.len() * rounds) as f64 / secs, secs)
}

fn explained_throughput(recs: &[Rec]) -> f64 {
    let start = Instant::now();
    let mut steps = 0usize;
    for r in recs {
        let r = black_box(r);
        let o = nutrient_balance(&r.n);
        steps += balance_steps(&r.n, &o).0.len();
        let o = nutrient_balance(&r.p);
        steps += balance_steps(&r.p, &o).0.len();
        let o = nutrient_balance(&r.k);
        steps += balance_steps(&r.k, &o).0.len();
    }
    black_box(steps);
    recs.len() as f64 / start.elapsed().as_secs_f64()
}

fn json_throughput(count: usize) -> f64 {
    let mut rng = Rng(42);
    let requests: Vec<String> = (0..count)
        .map(|_| {
            format!(
                r#"{{"method":"nutrient_balance","nutrient":"P2O5","crop":"maize","target_yield_kg_per_mu":{:.1},"soil":{{"soil_test":{{"mg_per_kg":{:.1},"correction_coefficient":0.5}}}},"recovery_rate":0.2}}"#,
                rng.range(300.0, 800.0),
                rng.range(3.0, 50.0)
            )
        })
        .collect();
    let start = Instant::now();
    for r in &requests {
        black_box(advisor::handle_json(black_box(r)).unwrap());
    }
    count as f64 / start.elapsed().as_secs_f64()
}

fn offer(name: &str, analysis: &str, bag: f64, yuan_per_kg: f64) -> Offer {
    Offer {
        name: name.into(),
        analysis: Analysis::parse(analysis).unwrap(),
        bag_kg: Kg::new(bag),
        price_fen_per_bag: (yuan_per_kg * 100.0 * bag).round() as i64,
        stock_bags: None,
    }
}

/// Twelve products a Chinese input shop might stock (prices are illustrative).
fn twelve() -> Vec<Offer> {
    vec![
        offer("urea", "46-0-0", 50.0, 2.0),
        offer("ammonium sulphate", "21-0-0", 50.0, 1.1),
        offer("ammonium bicarbonate", "17-0-0", 50.0, 0.8),
        offer("DAP", "18-46-0", 50.0, 3.5),
        offer("MAP", "11-44-0", 50.0, 3.2),
        offer("superphosphate", "0-12-0", 50.0, 0.7),
        offer("MOP", "0-0-60", 50.0, 2.5),
        offer("SOP", "0-0-50", 50.0, 3.6),
        offer("15-15-15", "15-15-15", 50.0, 3.0),
        offer("20-10-10", "20-10-10", 40.0, 2.8),
        offer("12-18-15", "12-18-15", 40.0, 3.1),
        offer("26-10-12", "26-10-12", 40.0, 3.0),
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let recs = recommendations(100_000);
    // warm-up, then the measured run
    formula_throughput(&recs, 2);
    let (per_sec, secs) = formula_throughput(&recs, 30);
    println!(
        "formula-only recommendations (N + P2O5 + K2O nutrient balance): {:.0}/s on one core \
         ({} recommendations in {:.3} s; target >= 1 000 000/s)",
        per_sec,
        recs.len() * 30,
        secs
    );
    println!(
        "  same, with bilingual steps written:                           {:.0}/s",
        explained_throughput(&recs)
    );
    println!(
        "  whole JSON requests through handle_json (one nutrient each):  {:.0}/s",
        json_throughput(20_000)
    );

    let offers = twelve();
    let mut rng = Rng(7);
    let instances: Vec<MassTargets> = (0..2_000)
        .map(|_| {
            // a field of 5-30 mu at 5-20 kg N, 2-10 kg P2O5, 2-12 kg K2O per mu
            let mu = rng.range(5.0, 30.0);
            MassTargets {
                n: Kg::new(mu * rng.range(5.0, 20.0)),
                p2o5: Kg::new(mu * rng.range(2.0, 10.0)),
                k2o: Kg::new(mu * rng.range(2.0, 12.0)),
            }
        })
        .collect();
    let options = BasketOptions::default();
    for t in instances.iter().take(50) {
        black_box(least_cost_basket(t, &offers, &options).unwrap());
    }
    let mut times = Vec::with_capacity(instances.len());
    let mut infeasible = 0;
    for t in &instances {
        let start = Instant::now();
        let out = least_cost_basket(black_box(t), black_box(&offers), &options).unwrap();
        times.push(start.elapsed());
        if !out.feasible {
            infeasible += 1;
        }
        black_box(out);
    }
    times.sort();
    println!(
        "whole-bag least-cost basket, 12 candidate products, {} instances ({} infeasible): \
         p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms (target p99 < 10 ms)",
        instances.len(),
        infeasible,
        percentile(&times, 0.50).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3
    );
}
