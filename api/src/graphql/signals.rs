//! The bureau's market watch over GraphQL: `bureauSignals` and `dealerRecord` (a county's
//! regulators and admins), `complaints` (a farmer's own; a county's for its regulators and
//! admins), and the mutations `complaintFile` (farmers) and `complaintResolve` (regulators).
//! Every check is the domain's (`domain::bureau`).

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use domain::bureau::complaints::{self as bc, ComplaintView};
use domain::bureau::records;
use domain::bureau::signals::{self as bs, Signal, SignalFilter};
use domain::types::{ComplaintStatus, InspectionResult, Role};
use domain::{Code, Error, Lang};

use super::enums::{ComplaintStatusGql, LicenceKindGql, SignalKindGql};
use super::{ApiResult, actor, db, gid, lang, parse_gid, parse_gid_opt, to_gql};

/// A counterfeit or misuse signal, with its evidence in the reader's language.
#[derive(SimpleObject)]
pub struct BureauSignal {
    pub kind: SignalKindGql,
    /// When it showed: the second appearance, the scan, the sale.
    pub at: DateTime<Utc>,
    pub dealer_id: ID,
    pub dealer_name: String,
    pub lot_id: ID,
    pub lot_no: String,
    pub product_name: String,
    pub sale_id: Option<ID>,
    pub unit_code: Option<String>,
    pub evidence: String,
    /// The lot's page in the bureau's console.
    pub lot_url: String,
}

fn signal(s: Signal, l: Lang) -> BureauSignal {
    BureauSignal {
        kind: s.kind.into(),
        at: s.at,
        dealer_id: gid("Dealer", s.dealer_id),
        dealer_name: l.pick(&s.dealer_zh, &s.dealer_en).to_owned(),
        lot_id: gid("Lot", s.lot_id),
        lot_no: s.lot_no,
        product_name: l.pick(&s.product_zh, &s.product_en).to_owned(),
        sale_id: s.sale_id.map(|i| gid("Sale", i)),
        unit_code: s.unit_code,
        evidence: l.pick(&s.evidence_zh, &s.evidence_en).to_owned(),
        lot_url: format!("/bureau/lots/{}", s.lot_id),
    }
}

/// A farmer's complaint and its outcome.
#[derive(SimpleObject)]
pub struct Complaint {
    pub id: ID,
    pub status: ComplaintStatusGql,
    pub body: String,
    pub order_id: Option<ID>,
    pub lot_id: Option<ID>,
    pub code: Option<String>,
    pub dealer_id: Option<ID>,
    pub dealer_name: Option<String>,
    pub has_photo: bool,
    /// Where the photo is served (to the farmer and the county's regulators, signed in).
    pub photo_url: Option<String>,
    pub outcome: Option<String>,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

fn complaint(v: ComplaintView, l: Lang) -> Complaint {
    let c = v.c;
    Complaint {
        id: gid("Complaint", c.id),
        status: c.status.into(),
        body: c.body,
        order_id: c.order_id.map(|i| gid("Order", i)),
        lot_id: c.lot_id.map(|i| gid("Lot", i)),
        code: c.code,
        dealer_id: c.dealer_id.map(|i| gid("Dealer", i)),
        dealer_name: v.dealer.map(|d| l.pick(&d.name_zh, &d.name_en).to_owned()),
        has_photo: v.has_photo,
        photo_url: v.has_photo.then(|| format!("/complaints/{}/photo", c.id)),
        outcome: c.outcome,
        created_at: c.created_at,
        resolved_at: c.resolved_at,
    }
}

#[derive(SimpleObject)]
pub struct LicenceState {
    pub kind: LicenceKindGql,
    pub number: String,
    pub issuer: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    /// Valid today (China date).
    pub valid: bool,
}

#[derive(SimpleObject)]
pub struct RecallHandled {
    pub lot_id: ID,
    pub lot_no: String,
    pub product_name: String,
    pub recalled_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    /// Units still on the dealer's shelves.
    pub stock_left: i64,
    /// Units of the lot the dealer sold.
    pub sold: i64,
    pub buyers_with_account: i32,
    pub buyers_notified: i32,
    pub buyers_read: i32,
    /// Counter sales to buyers without an account: nobody can notify them.
    pub anonymous_sales: i32,
}

#[derive(SimpleObject)]
pub struct LotInspection {
    pub lot_id: ID,
    pub lot_no: String,
    pub product_name: String,
    pub received_on: NaiveDate,
    pub report_no: Option<String>,
    pub lab: Option<String>,
    pub date: Option<NaiveDate>,
    pub conformant: bool,
}

/// A dealer's record (诚信档案).
#[derive(SimpleObject)]
pub struct DealerRecord {
    pub dealer_id: ID,
    pub name: String,
    pub licences: Vec<LicenceState>,
    pub recalls: Vec<RecallHandled>,
    pub signals: Vec<BureauSignal>,
    pub inspections: Vec<LotInspection>,
    pub complaints: Vec<Complaint>,
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[derive(Default)]
pub struct SignalsQuery;

#[Object]
impl SignalsQuery {
    /// A county's counterfeit and misuse signals, newest first (the county's regulators and
    /// admins; an admin names the county or gets the first). Dates are China dates, inclusive.
    async fn bureau_signals(
        &self,
        ctx: &Context<'_>,
        county_id: Option<ID>,
        kind: Option<SignalKindGql>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> ApiResult<Vec<BureauSignal>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let county = parse_gid_opt("countyId", "Region", county_id.as_ref())?;
            let f = SignalFilter {
                kind: kind.map(Into::into),
                from,
                to,
                dealer_id: None,
            };
            bs::signals(db(ctx), a, county, &f).await
        }
        .await
        .map_err(|e| to_gql(e, l))?;
        Ok(r.1.into_iter().map(|s| signal(s, l)).collect())
    }

    /// One dealer's record: licences, recalls handled, signals, inspections, complaints (the
    /// regulators of the dealer's county, admins).
    async fn dealer_record(&self, ctx: &Context<'_>, dealer_id: ID) -> ApiResult<DealerRecord> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let id = parse_gid("dealerId", "Dealer", &dealer_id)?;
            records::dealer_record(db(ctx), a, id).await
        }
        .await
        .map_err(|e| to_gql(e, l))?;
        Ok(DealerRecord {
            dealer_id: gid("Dealer", r.dealer.id),
            name: l.pick(&r.dealer.name_zh, &r.dealer.name_en).to_owned(),
            licences: r
                .licences
                .into_iter()
                .map(|x| LicenceState {
                    kind: x.licence.kind.into(),
                    number: x.licence.number,
                    issuer: x.licence.issuer,
                    valid_from: x.licence.valid_from,
                    valid_to: x.licence.valid_to,
                    valid: x.valid,
                })
                .collect(),
            recalls: r
                .recalls
                .into_iter()
                .map(|x| RecallHandled {
                    lot_id: gid("Lot", x.lot.id),
                    lot_no: x.lot.lot_no,
                    product_name: l.pick(&x.product_zh, &x.product_en).to_owned(),
                    recalled_at: x.recalled_at,
                    reason: x.reason,
                    stock_left: x.stock_left,
                    sold: x.sold,
                    buyers_with_account: count(x.buyers_with_account),
                    buyers_notified: count(x.notified),
                    buyers_read: count(x.read),
                    anonymous_sales: count(x.anonymous_sales),
                })
                .collect(),
            signals: r.signals.into_iter().map(|s| signal(s, l)).collect(),
            inspections: r
                .inspections
                .into_iter()
                .map(|i| LotInspection {
                    lot_id: gid("Lot", i.lot.id),
                    product_name: l.pick(&i.product_zh, &i.product_en).to_owned(),
                    received_on: i.received_on,
                    report_no: i.lot.inspection_report_no,
                    lab: i.lot.inspection_lab,
                    date: i.lot.inspection_date,
                    conformant: i.lot.inspection_result != Some(InspectionResult::NonConformant),
                    lot_no: i.lot.lot_no,
                })
                .collect(),
            complaints: r.complaints.into_iter().map(|c| complaint(c, l)).collect(),
        })
    }

    /// Complaints, newest first: a farmer's own; for a county's regulators and admins, the
    /// county's (optionally one dealer's, one status).
    async fn complaints(
        &self,
        ctx: &Context<'_>,
        county_id: Option<ID>,
        dealer_id: Option<ID>,
        status: Option<ComplaintStatusGql>,
    ) -> ApiResult<Vec<Complaint>> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            if a.role == Role::Farmer {
                return bc::my_complaints(db(ctx), a).await;
            }
            let county = parse_gid_opt("countyId", "Region", county_id.as_ref())?;
            let dealer = parse_gid_opt("dealerId", "Dealer", dealer_id.as_ref())?;
            bc::county_complaints(db(ctx), a, county, dealer, status.map(Into::into)).await
        }
        .await
        .map_err(|e| to_gql(e, l))?;
        Ok(r.into_iter().map(|c| complaint(c, l)).collect())
    }
}

#[derive(InputObject)]
pub struct ComplaintFileInput {
    /// One of the farmer's orders, or
    pub order_id: Option<ID>,
    /// a lot trace code or unit code.
    pub code: Option<String>,
    /// At most 1000 characters.
    pub body: String,
    /// One JPEG, PNG or WebP photo, base64 (at most 2 MB, and within this API's 256 KB request
    /// limit; larger photos go through the web form at `/complaints/new`).
    pub photo_base64: Option<String>,
}

#[derive(Default)]
pub struct SignalsMutation;

#[Object]
impl SignalsMutation {
    /// A farmer files a complaint about one of their orders or a lot.
    async fn complaint_file(
        &self,
        ctx: &Context<'_>,
        input: ComplaintFileInput,
    ) -> ApiResult<Complaint> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let order_id = parse_gid_opt("orderId", "Order", input.order_id.as_ref())?;
            let photo = match input.photo_base64.as_deref().map(str::trim) {
                Some(p) if !p.is_empty() => Some(bc::Photo {
                    declared_type: None,
                    bytes: base64::engine::general_purpose::STANDARD
                        .decode(p)
                        .map_err(|_| {
                            Error::invalid(
                                "photoBase64",
                                Code::InvalidFormat,
                                "照片不是有效的 base64",
                                "the photo is not valid base64",
                            )
                        })?,
                }),
                _ => None,
            };
            let c = bc::file_complaint(
                db(ctx),
                a,
                bc::ComplaintInput {
                    order_id,
                    code: input.code,
                    body: input.body,
                    photo,
                },
            )
            .await?;
            bc::complaint(db(ctx), a, c.id).await
        }
        .await
        .map_err(|e| to_gql(e, l))?;
        Ok(complaint(r, l))
    }

    /// A regulator of the complaint's county (or an admin) records its outcome and status.
    async fn complaint_resolve(
        &self,
        ctx: &Context<'_>,
        id: ID,
        status: ComplaintStatusGql,
        outcome: String,
    ) -> ApiResult<Complaint> {
        let a = actor(ctx)?;
        let l = lang(ctx);
        let r = async {
            let id = parse_gid("id", "Complaint", &id)?;
            let s: ComplaintStatus = status.into();
            bc::resolve_complaint(db(ctx), a, id, s, &outcome).await?;
            bc::complaint(db(ctx), a, id).await
        }
        .await
        .map_err(|e| to_gql(e, l))?;
        Ok(complaint(r, l))
    }
}
