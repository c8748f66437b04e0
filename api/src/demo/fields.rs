//! The demo farmers' fields, crop plans and soil tests, so an agronomist has something to
//! draft a recommendation for.

use anyhow::anyhow;
use domain::accounts::{self, Actor, Role};
use domain::regions;
use sea_orm::DatabaseTransaction;

use super::ctx;

/// A demo plot: name, area (mu), crop, past yields (kg/mu), and soil: pH, buffer pH, organic
/// matter g/kg, alkali-hydrolysable N, Olsen P, available K (mg/kg).
type Plot = (&'static str, f64, &'static str, [f64; 3], [f64; 6]);

/// Fields with crop plans and soil tests for the demo farmers, so an agronomist can draft and
/// publish a recommendation right away. Soil values are typical of the Jianghan Plain paddy
/// soils (demo figures, not a real lab's).
pub(super) async fn fields_and_soil_tests(
    db: &DatabaseTransaction,
    actors: &[Actor],
) -> anyhow::Result<()> {
    let agronomist = actors
        .iter()
        .find(|a| a.role == Role::Agronomist)
        .ok_or_else(|| anyhow!("demo data has no agronomist"))?;
    let farmers: Vec<&Actor> = actors.iter().filter(|a| a.role == Role::Farmer).collect();
    let today = domain::today();
    // (name, area mu, crop, past yields, soil: pH, buffer pH, OM g/kg, alkali N, Olsen P, K)
    let plots: [Plot; 4] = [
        (
            "村东水田",
            8.0,
            "RICE",
            [560.0, 590.0, 610.0],
            [5.3, 6.1, 24.0, 118.0, 9.5, 86.0],
        ),
        (
            "河边旱地",
            5.0,
            "RAPESEED",
            [150.0, 165.0, 160.0],
            [6.4, 6.6, 18.0, 92.0, 14.0, 120.0],
        ),
        (
            "大塘田",
            12.0,
            "RICE",
            [600.0, 620.0, 640.0],
            [6.0, 6.4, 30.0, 145.0, 22.0, 140.0],
        ),
        (
            "坡上田",
            6.0,
            "RICE",
            [480.0, 500.0, 470.0],
            [5.6, 6.2, 16.0, 80.0, 6.0, 70.0],
        ),
    ];
    for (i, (name, area, crop, yields, soil)) in plots.iter().enumerate() {
        let farmer = farmers[i % farmers.len().max(1)];
        let user = accounts::user_by_id(db, farmer.user_id).await?;
        let Some(village) = user
            .village_id
            .or(regions::villages(db, None).await?.first().map(|v| v.id))
        else {
            continue;
        };
        let f = ctx(
            domain::fields::create(
                db,
                farmer,
                domain::fields::NewField {
                    name: (*name).into(),
                    area_mu: *area,
                    village_id: village,
                    soil_type: "水稻土 paddy soil".into(),
                    irrigation: "渠灌 canal".into(),
                    lat: None,
                    lon: None,
                },
            )
            .await,
            || format!("field {name}"),
        )?;
        ctx(
            domain::agronomy::create_crop_plan(
                db,
                farmer,
                domain::agronomy::CropPlanInput {
                    field_id: f.id,
                    crop: (*crop).into(),
                    season: format!(
                        "{} {}",
                        today.format("%Y"),
                        if *crop == "RAPESEED" {
                            "冬油菜"
                        } else {
                            "中稻"
                        }
                    ),
                    past_yields_kg_per_mu: Some(yields.to_vec()),
                    previous_crop: if *crop == "RICE" {
                        "油菜".into()
                    } else {
                        "水稻".into()
                    },
                    straw_returned: true,
                    ..Default::default()
                },
            )
            .await,
            || format!("crop plan of {name}"),
        )?;
        ctx(
            domain::agronomy::create_soil_test(
                db,
                agronomist,
                domain::agronomy::SoilTestInput {
                    field_id: f.id,
                    sampled_on: today - chrono::Duration::days(30),
                    depth_from_cm: 0,
                    depth_to_cm: 20,
                    lab: "沙洋县土壤肥料工作站 (demo)".into(),
                    lab_sample_id: format!("SY-{}-{:03}", today.format("%Y"), i + 1),
                    ph: soil[0],
                    buffer_ph: Some(soil[1]),
                    organic_matter_g_kg: soil[2],
                    alkali_n_mg_kg: soil[3],
                    olsen_p_mg_kg: Some(soil[4]),
                    available_k_mg_kg: soil[5],
                    ..Default::default()
                },
            )
            .await,
            || format!("soil test of {name}"),
        )?;
    }
    Ok(())
}
