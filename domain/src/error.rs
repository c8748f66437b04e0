//! The one error type of the domain. Variants say what went wrong in the user's terms and carry
//! both zh-CN and en wording; the API maps them to GraphQL codes in exactly one place.

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The language a user reads messages in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// The reader's half of a note stored in both languages as `中文 / English` (order warnings,
    /// flag reasons, history notes): the first ` / ` divides them. A note with no divider is
    /// returned whole.
    pub fn pick_stored(self, stored: &str) -> String {
        match stored.split_once(" / ") {
            Some((zh, en)) => self.pick(zh, en).trim().to_owned(),
            None => stored.to_owned(),
        }
    }

    /// Picks zh or en from an `Accept-Language` header value; Chinese is the default.
    pub fn from_accept_language(header: Option<&str>) -> Self {
        let Some(h) = header else { return Lang::Zh };
        for part in h.split(',') {
            let tag = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if tag.starts_with("zh") {
                return Lang::Zh;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::Zh
    }

    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// Machine-readable reasons for a rejected input. The API groups them into per-domain enums.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    // generic input
    Required,
    InvalidFormat,
    OutOfRange,
    TooLong,
    Duplicate,
    UnknownReference,
    // accounts
    InvalidPhone,
    WeakPassword,
    PhoneTaken,
    InvalidIdNumber,
    IdChecksum,
    InvalidCredentials,
    AccountDisabled,
    // catalog
    InvalidRegistration,
    InvalidAnalysis,
    NutrientBelowMinimum,
    MissingSpec,
    InvalidGtin,
    InvalidPrice,
    // regions
    WrongRegionLevel,
    // lots, stock, sales
    InsufficientStock,
    LotNotSellable,
    LotRecalled,
    LicenceRequired,
    RealNameRequired,
    UnregisteredUse,
    CodeMismatch,
    CodeAlreadySold,
    InvalidTransition,
    // orders
    CartEmpty,
    CreditLimitExceeded,
    PaymentDeclined,
    /// ONLINE payment chosen on a server with no payment provider configured.
    PaymentUnavailable,
    DeliveryNotAllowed,
    QuantityExceedsLabelDose,
    OfferUnavailable,
    PriceChanged,
    // agronomy
    /// The county requires a second agronomist's approval before publishing.
    ApprovalRequired,
    /// The approver must not be the draft's author or its last editor.
    SecondAgronomistRequired,
    /// The record changed since it was read; reload and try again.
    Stale,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Required => "REQUIRED",
            Code::InvalidFormat => "INVALID_FORMAT",
            Code::OutOfRange => "OUT_OF_RANGE",
            Code::TooLong => "TOO_LONG",
            Code::Duplicate => "DUPLICATE",
            Code::UnknownReference => "UNKNOWN_REFERENCE",
            Code::InvalidPhone => "INVALID_PHONE",
            Code::WeakPassword => "WEAK_PASSWORD",
            Code::PhoneTaken => "PHONE_TAKEN",
            Code::InvalidIdNumber => "INVALID_ID_NUMBER",
            Code::IdChecksum => "ID_CHECKSUM",
            Code::InvalidCredentials => "INVALID_CREDENTIALS",
            Code::AccountDisabled => "ACCOUNT_DISABLED",
            Code::InvalidRegistration => "INVALID_REGISTRATION",
            Code::InvalidAnalysis => "INVALID_ANALYSIS",
            Code::NutrientBelowMinimum => "NUTRIENT_BELOW_MINIMUM",
            Code::MissingSpec => "MISSING_SPEC",
            Code::InvalidGtin => "INVALID_GTIN",
            Code::InvalidPrice => "INVALID_PRICE",
            Code::WrongRegionLevel => "WRONG_REGION_LEVEL",
            Code::InsufficientStock => "INSUFFICIENT_STOCK",
            Code::LotNotSellable => "LOT_NOT_SELLABLE",
            Code::LotRecalled => "LOT_RECALLED",
            Code::LicenceRequired => "LICENCE_REQUIRED",
            Code::RealNameRequired => "REAL_NAME_REQUIRED",
            Code::UnregisteredUse => "UNREGISTERED_USE",
            Code::CodeMismatch => "CODE_MISMATCH",
            Code::CodeAlreadySold => "CODE_ALREADY_SOLD",
            Code::InvalidTransition => "INVALID_TRANSITION",
            Code::CartEmpty => "CART_EMPTY",
            Code::CreditLimitExceeded => "CREDIT_LIMIT_EXCEEDED",
            Code::PaymentDeclined => "PAYMENT_DECLINED",
            Code::PaymentUnavailable => "PAYMENT_UNAVAILABLE",
            Code::DeliveryNotAllowed => "DELIVERY_NOT_ALLOWED",
            Code::QuantityExceedsLabelDose => "QUANTITY_EXCEEDS_LABEL_DOSE",
            Code::OfferUnavailable => "OFFER_UNAVAILABLE",
            Code::PriceChanged => "PRICE_CHANGED",
            Code::ApprovalRequired => "APPROVAL_REQUIRED",
            Code::SecondAgronomistRequired => "SECOND_AGRONOMIST_REQUIRED",
            Code::Stale => "STALE",
        }
    }
}

/// One rejected input field, with its wording in both languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The input field's name as the client sent it (camelCase path, e.g. `fertiliser.nPct`).
    pub field: String,
    pub code: Code,
    pub zh: String,
    pub en: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: Code,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code,
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub fn message(&self, lang: Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }

    /// Prefixes the field path (`nPct` -> `fertiliser.nPct`).
    pub fn under(mut self, prefix: &str) -> Self {
        self.field = format!("{prefix}.{}", self.field);
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.en, self.code.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that breaks a rule; the client can fix it.
    #[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    #[error("not allowed: {en}")]
    Forbidden { zh: String, en: String },
    #[error("not authenticated")]
    Unauthenticated,
    #[error("too many attempts, retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("database error")]
    Db(#[from] sea_orm::DbErr),
    #[error("internal error: {0}")]
    Internal(String),
    /// A state change the transition table does not allow.
    #[error("cannot go from {from} to {to}")]
    IllegalTransition { from: StateName, to: StateName },
}

/// A state named in a refusal: its code, and its words in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateName {
    pub code: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

impl std::fmt::Display for StateName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code)
    }
}

impl Error {
    /// The error and every cause under it, `outer: inner: ...`, for the server log (a database
    /// error's own text says only "database error").
    pub fn with_causes(&self) -> String {
        let mut out = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cause = c.source();
        }
        out
    }

    pub fn invalid(
        field: impl Into<String>,
        code: Code,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Error::Invalid(vec![FieldError::new(field, code, zh, en)])
    }

    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        Error::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    pub fn forbidden(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Error::Forbidden {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// A safe, user-facing message. Internal and database errors never leak their detail.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            Error::Invalid(errs) => errs
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message(lang)))
                .collect::<Vec<_>>()
                .join("; "),
            Error::NotFound { entity, id } => match lang {
                Lang::Zh => format!("未找到{}（{id}）", entity_zh(entity)),
                Lang::En => format!("{entity} {id} not found"),
            },
            Error::Forbidden { zh, en } => lang.pick(zh, en).to_owned(),
            Error::Unauthenticated => lang.pick("请先登录", "please log in").to_owned(),
            Error::RateLimited { retry_after_secs } => match lang {
                Lang::Zh => format!("尝试次数过多，请在 {retry_after_secs} 秒后重试"),
                Lang::En => format!("too many attempts, retry in {retry_after_secs} seconds"),
            },
            Error::IllegalTransition { from, to } => match lang {
                Lang::Zh => format!("订单不能从“{}”变为“{}”", from.zh, to.zh),
                Lang::En => format!("an order cannot go from {} to {}", from.en, to.en),
            },
            Error::Db(_) | Error::Internal(_) => lang
                .pick(
                    "服务器内部错误，请稍后重试",
                    "internal error, please try again later",
                )
                .to_owned(),
        }
    }
}

fn entity_zh(entity: &str) -> &'static str {
    match entity {
        "product" => "产品",
        "sku" => "规格",
        "offer" => "报价",
        "dealer" => "经销商",
        "producer" => "生产企业",
        "region" => "行政区",
        "village" => "村",
        "station" => "服务站",
        "user" => "用户",
        "lot" => "批次",
        "stock" => "库存",
        "transfer" => "调拨",
        "sale" => "销售记录",
        "location" => "库存地点",
        "order" => "订单",
        "field" => "地块",
        _ => "记录",
    }
}

/// Collects field errors so a form reports every problem at once, not just the first.
#[derive(Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }
    /// Records the error of a parse and returns its value, if any.
    pub fn take<T>(&mut self, r: std::result::Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }
    pub fn extend(&mut self, errs: impl IntoIterator<Item = FieldError>) {
        self.0.extend(errs);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn finish(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self.0))
        }
    }
}
