//! The county's farmers and fields as an agronomist works through them: by township and
//! village, each field with its latest soil test (graded on the China 1-6 scale), its crop
//! plans and where its recommendations stand. One read of a handful of statements for the whole
//! county (regions, fields, farmers, tests, plans, recommendations), never one per field.

use chrono::Datelike;

use super::*;
use crate::types::Level;

/// Which fields to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Only {
    #[default]
    All,
    /// A soil test and no recommendation that counts (no draft, none published).
    TestedNoRecommendation,
    /// The current published recommendation was signed before this season began.
    StaleRecommendation,
}

#[derive(Clone, Debug, Default)]
pub struct CountyFieldsFilter {
    /// One of the actor's counties; none means every county the actor may see.
    pub county_id: Option<i64>,
    pub township_id: Option<i64>,
    pub village_id: Option<i64>,
    pub only: Only,
    /// When this season began (for [`Only::StaleRecommendation`]); [`season_start`] of today
    /// when absent.
    pub season_start: Option<NaiveDate>,
}

/// The China grade (1 richest .. 6 poorest) of a soil test's N, P and K, from the advisor's
/// `classify_china` with its default edges (advisor/data/china_grades.toml, METHODS.md §4).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChinaGrades {
    pub alkali_n: Option<u8>,
    pub olsen_p: Option<u8>,
    pub available_k: Option<u8>,
}

/// Where a crop plan's recommendations stand: its newest one of each kind.
#[derive(Clone, Debug)]
pub struct PlanStatus {
    pub plan: crop_plan::Model,
    /// The newest draft waiting for review.
    pub draft: Option<recommendation::Model>,
    /// The current published version.
    pub published: Option<recommendation::Model>,
    /// The newest rejected one (when there is neither a draft nor a published version).
    pub rejected: Option<recommendation::Model>,
}

#[derive(Clone, Debug)]
pub struct CountyField {
    pub field: field::Model,
    pub farmer_name: String,
    pub farmer_phone: String,
    pub township: region::Model,
    pub village: region::Model,
    pub county_id: i64,
    pub latest_test: Option<soil_test::Model>,
    pub grades: ChinaGrades,
    pub tests: usize,
    pub plans: Vec<PlanStatus>,
    /// The published recommendation is older than this season.
    pub stale: bool,
}

impl CountyField {
    /// A test and no recommendation that counts (no draft, none published).
    pub fn needs_recommendation(&self) -> bool {
        self.latest_test.is_some()
            && self
                .plans
                .iter()
                .all(|p| p.draft.is_none() && p.published.is_none())
    }
}

/// The county page's answer: the places to filter by and the fields.
#[derive(Clone, Debug, Default)]
pub struct CountyFields {
    pub counties: Vec<region::Model>,
    pub townships: Vec<region::Model>,
    pub villages: Vec<region::Model>,
    pub fields: Vec<CountyField>,
    pub season_start: NaiveDate,
}

/// The start of the season `day` falls in: 1 March (spring sowing of rice and maize) or
/// 1 September (autumn sowing of wheat and rapeseed), the two sowing seasons of the
/// Yangtze and Huang-Huai plains that 测土配方施肥 plans each year (NY/T 1118-2006
/// 测土配方施肥技术规范 plans per cropping season).
pub fn season_start(day: NaiveDate) -> NaiveDate {
    let y = day.year();
    let sep = NaiveDate::from_ymd_opt(y, 9, 1).expect("1 September exists");
    let mar = NaiveDate::from_ymd_opt(y, 3, 1).expect("1 March exists");
    if day >= sep {
        sep
    } else if day >= mar {
        mar
    } else {
        NaiveDate::from_ymd_opt(y - 1, 9, 1).expect("1 September exists")
    }
}

/// The China grades of a soil test (what the advisor can grade of it).
pub fn china_grades(t: &soil_test::Model) -> ChinaGrades {
    use advisor::api::Method as _;
    let req = advisor::api::ClassifyChinaRequest {
        alkali_n_mg_per_kg: MgPerKg::try_new(t.alkali_n_mg_kg).ok(),
        olsen_p_mg_per_kg: t.olsen_p_mg_kg.and_then(|p| MgPerKg::try_new(p).ok()),
        available_k_mg_per_kg: MgPerKg::try_new(t.available_k_mg_kg).ok(),
        edges: None,
    };
    match req.run() {
        Ok(r) => ChinaGrades {
            alkali_n: r.alkali_n.map(|g| g.grade),
            olsen_p: r.olsen_p.map(|g| g.grade),
            available_k: r.available_k.map(|g| g.grade),
        },
        Err(_) => ChinaGrades::default(),
    }
}

/// The county's farmers and fields for an agronomist of the county (or an admin), grouped by
/// township then village, filtered as asked. Eight statements whatever the county's size.
pub async fn county_fields(
    db: &impl ConnectionTrait,
    actor: &Actor,
    filter: &CountyFieldsFilter,
) -> Result<CountyFields> {
    require_agronomist(actor)?;
    if let Some(c) = filter.county_id {
        actor.require(actor.is_admin() || actor.county_ids.contains(&c))?;
    }
    // 1. The counties the actor may see.
    let mut q = region::Entity::find()
        .filter(region::Column::Level.eq(Level::County.as_str()))
        .order_by_asc(region::Column::Id);
    if !actor.is_admin() {
        q = q.filter(region::Column::Id.is_in(actor.county_ids.iter().copied()));
    }
    let counties = q.all(db).await?;
    let county_ids: Vec<i64> = counties
        .iter()
        .map(|c| c.id)
        .filter(|c| filter.county_id.is_none_or(|f| f == *c))
        .collect();
    // 2. Their townships, 3. their villages.
    let townships = region::Entity::find()
        .filter(region::Column::Level.eq(Level::Township.as_str()))
        .filter(region::Column::ParentId.is_in(county_ids.iter().copied()))
        .order_by_asc(region::Column::NameZh)
        .order_by_asc(region::Column::Id)
        .all(db)
        .await?;
    let villages = region::Entity::find()
        .filter(region::Column::Level.eq(Level::Village.as_str()))
        .filter(region::Column::ParentId.is_in(townships.iter().map(|t| t.id)))
        .order_by_asc(region::Column::NameZh)
        .order_by_asc(region::Column::Id)
        .all(db)
        .await?;
    let township_of: BTreeMap<i64, &region::Model> = townships.iter().map(|t| (t.id, t)).collect();
    let shown: Vec<&region::Model> = villages
        .iter()
        .filter(|v| {
            filter.village_id.is_none_or(|id| id == v.id)
                && filter.township_id.is_none_or(|t| v.parent_id == Some(t))
        })
        .collect();
    // 4. The fields of those villages.
    let fields = field::Entity::find()
        .filter(field::Column::VillageId.is_in(shown.iter().map(|v| v.id)))
        .order_by_asc(field::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = fields.iter().map(|f| f.id).collect();
    // 5. Farmers, 6. soil tests, 7. crop plans, 8. recommendations.
    let farmers = crate::rows_by_id!(db, app_user, fields.iter().map(|f| f.farmer_id));
    let tests = soil_test::Entity::find()
        .filter(soil_test::Column::FieldId.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    let plans = crop_plan::Entity::find()
        .filter(crop_plan::Column::FieldId.is_in(ids.iter().copied()))
        .order_by_desc(crop_plan::Column::Id)
        .all(db)
        .await?;
    let recs = recommendation::Entity::find()
        .filter(recommendation::Column::FieldId.is_in(ids.iter().copied()))
        .order_by_desc(recommendation::Column::Id)
        .all(db)
        .await?;
    let season = filter
        .season_start
        .unwrap_or_else(|| season_start(crate::today()));
    // The season's start as an instant in China time (UTC+8), to compare signing times with.
    let season_utc = season
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        - chrono::Duration::hours(8);
    let village_of: BTreeMap<i64, &region::Model> = shown.iter().map(|v| (v.id, *v)).collect();
    let mut out = Vec::new();
    for f in fields {
        let Some(village) = village_of.get(&f.village_id) else {
            continue;
        };
        let Some(township) = village.parent_id.and_then(|t| township_of.get(&t)) else {
            continue;
        };
        let mine: Vec<&soil_test::Model> = tests.iter().filter(|t| t.field_id == f.id).collect();
        let latest_test = mine
            .iter()
            .max_by_key(|t| (t.sampled_on, t.id))
            .map(|t| (*t).clone());
        let plan_status: Vec<PlanStatus> = plans
            .iter()
            .filter(|p| p.field_id == f.id)
            .map(|p| {
                let of_plan = |s: RecommendationStatus| {
                    recs.iter()
                        .find(|r| r.crop_plan_id == p.id && r.status == s)
                        .cloned()
                };
                let draft = of_plan(RecommendationStatus::Draft);
                let published = of_plan(RecommendationStatus::Published);
                let rejected = if draft.is_none() && published.is_none() {
                    of_plan(RecommendationStatus::Rejected)
                } else {
                    None
                };
                PlanStatus {
                    plan: p.clone(),
                    draft,
                    published,
                    rejected,
                }
            })
            .collect();
        let stale = plan_status.iter().any(|p| {
            p.published
                .as_ref()
                .is_some_and(|r| r.signed_at.unwrap_or(r.updated_at) < season_utc)
        });
        let farmer = farmers.get(&f.farmer_id);
        let row = CountyField {
            grades: latest_test.as_ref().map(china_grades).unwrap_or_default(),
            tests: mine.len(),
            latest_test,
            farmer_name: farmer.map(|u| u.display_name.clone()).unwrap_or_default(),
            farmer_phone: farmer.map(|u| u.phone.clone()).unwrap_or_default(),
            township: (*township).clone(),
            village: (*village).clone(),
            county_id: township.parent_id.unwrap_or_default(),
            plans: plan_status,
            stale,
            field: f,
        };
        let keep = match filter.only {
            Only::All => true,
            Only::TestedNoRecommendation => row.needs_recommendation(),
            Only::StaleRecommendation => row.stale,
        };
        if keep {
            out.push(row);
        }
    }
    // By township, then village, then farmer and field name.
    out.sort_by(|a, b| {
        (
            &a.township.name_zh,
            a.township.id,
            &a.village.name_zh,
            a.village.id,
        )
            .cmp(&(
                &b.township.name_zh,
                b.township.id,
                &b.village.name_zh,
                b.village.id,
            ))
            .then_with(|| a.farmer_name.cmp(&b.farmer_name))
            .then_with(|| a.field.name.cmp(&b.field.name))
    });
    Ok(CountyFields {
        counties,
        townships: townships
            .into_iter()
            .filter(|t| filter.county_id.is_none_or(|c| t.parent_id == Some(c)))
            .collect(),
        villages,
        fields: out,
        season_start: season,
    })
}

/// The counties an agronomist serves (every county for an admin), by id.
pub async fn agronomist_counties(
    db: &impl ConnectionTrait,
    actor: &Actor,
) -> Result<Vec<region::Model>> {
    require_agronomist(actor)?;
    let mut q = region::Entity::find()
        .filter(region::Column::Level.eq(Level::County.as_str()))
        .order_by_asc(region::Column::Id);
    if !actor.is_admin() {
        q = q.filter(region::Column::Id.is_in(actor.county_ids.iter().copied()));
    }
    Ok(q.all(db).await?)
}

/// A county's regional formulas (newest first) for one of its agronomists or an admin, with
/// the fields they serve.
pub async fn county_formulas(
    db: &impl ConnectionTrait,
    actor: &Actor,
    county_id: i64,
    crop: Option<&str>,
) -> Result<(Vec<regional_formula::Model>, BTreeMap<i64, field::Model>)> {
    require_agronomist(actor)?;
    actor.require(actor.is_admin() || actor.county_ids.contains(&county_id))?;
    let formulas = regional_formulas(db, county_id, crop).await?;
    let ids: BTreeSet<i64> = formulas
        .iter()
        .flat_map(|f| {
            let served: Vec<FormulaField> =
                serde_json::from_value(f.details.clone()).unwrap_or_default();
            let skipped: Vec<SkippedField> = f
                .skipped
                .clone()
                .and_then(|s| serde_json::from_value(s).ok())
                .unwrap_or_default();
            served
                .into_iter()
                .map(|d| d.field_id)
                .chain(skipped.into_iter().map(|s| s.field_id))
                .collect::<Vec<_>>()
        })
        .collect();
    let fields = crate::rows_by_id!(db, field, ids.iter().copied());
    Ok((formulas, fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_season_starts_on_the_first_of_march_or_september() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(season_start(d(2026, 12, 4)), d(2026, 9, 1));
        assert_eq!(season_start(d(2026, 9, 1)), d(2026, 9, 1));
        assert_eq!(season_start(d(2026, 8, 31)), d(2026, 3, 1));
        assert_eq!(season_start(d(2026, 2, 28)), d(2025, 9, 1));
    }
}
