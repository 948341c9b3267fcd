//! The partner directory, as much as referrals need now: list by kind and prefecture, create, and
//! update (emails, phone, coverage, office hours, active). The 47 prefectural police desks are shipped
//! as reference rows; admins fill in their contacts.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use hotline_domain::office_hours::{OfficeHours, OfficeHoursOverride};
use hotline_domain::prefecture::PrefectureCode;
use hotline_domain::referral::ReferralKind;
use hotline_domain::text::required_text;
use hotline_domain::{FieldError, ValidationErrors};
use hotline_storage::queries::partners::{self, DeleteError, PartnerDraft, PartnerRecord};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Admin, Authorized, Supervisor};
use crate::change::parse_id;
use crate::extract::{Idempotency, Json, JsonRequest, nullable};
use crate::idempotency::{StoredResponse, write_once};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::{PartnerList, PartnerView};

/// Query of the directory.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this kind: `forensic`, `legal` or `police`.
    #[serde(default, deserialize_with = "crate::extract::non_null")]
    kind: Option<String>,
    /// Only partners covering this prefecture (`01`–`47`), nationwide ones included.
    #[serde(default)]
    prefecture: Option<String>,
}

/// The partner directory
///
/// Sorted by kind, then name. `prefecture` includes nationwide partners.
#[utoipa::path(
    tag = "partners",
    operation_id = "listPartners",
    security(("bearer" = ["operator"])),
    params(ListQuery),
    responses((status = 200, description = "The partners.", body = PartnerList)),
)]
#[get("/partners")]
pub async fn list(
    auth: Authorized,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let kind = query.kind.as_deref().map(ReferralKind::parse).transpose()?;
    let prefecture = query.prefecture.as_deref().map(PrefectureCode::parse).transpose()?;
    let storage = state.storage.clone();
    let found = web::block(move || storage.read(|conn| partners::list(conn, kind, prefecture))).await??;
    let ctx = state.views(auth.actor.role, state.clock.now());
    Ok(HttpResponse::Ok()
        .json(PartnerList { partners: found.iter().map(|p| PartnerView::new(p, &ctx)).collect() }))
}

/// A partner's own office hours; members left out take the `[police]` defaults.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct OfficeHoursInput {
    /// IANA zone, e.g. `Asia/Tokyo`.
    time_zone: Option<String>,
    /// Opening time `HH:MM`.
    #[schema(pattern = "^[0-2][0-9]:[0-5][0-9]$")]
    open: Option<String>,
    /// Closing time `HH:MM` (after `open`).
    #[schema(pattern = "^[0-2][0-9]:[0-5][0-9]$")]
    close: Option<String>,
    /// Days it opens: `mon` … `sun`.
    days: Option<Vec<String>>,
    /// Closed on national holidays.
    closed_on_holidays: Option<bool>,
    /// Closed from 29 December to 3 January.
    closed_over_new_year: Option<bool>,
}

/// A partner to create, or the members of one to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerRequest {
    /// `forensic`, `legal` or `police`; required on creation, cannot change.
    #[serde(default, deserialize_with = "crate::extract::non_null")]
    kind: Option<String>,
    /// Name, 1–200 characters; required on creation.
    #[serde(default, deserialize_with = "crate::extract::non_null")]
    name: Option<String>,
    /// Addresses alerts go to.
    #[serde(default, deserialize_with = "crate::extract::non_null")]
    emails: Option<Vec<String>>,
    /// Phone; `null` removes it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    phone: Option<Option<String>>,
    /// Covers every prefecture.
    #[serde(default, deserialize_with = "crate::extract::non_null")]
    nationwide: Option<bool>,
    /// Prefecture codes covered (a police desk: exactly one).
    #[serde(default, deserialize_with = "crate::extract::non_null")]
    prefectures: Option<Vec<String>>,
    /// Its own office hours; `null` removes them.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<OfficeHoursInput>)]
    office_hours: Option<Option<OfficeHoursOverride>>,
    /// Inactive partners get no new referrals.
    #[serde(default, deserialize_with = "crate::extract::non_null")]
    active: Option<bool>,
}

impl JsonRequest for PartnerRequest {
    const FREE_TEXT: &'static [&'static str] = &[];
}

impl PartnerRequest {
    /// Applies the request to a draft (the current partner for an update), checking every rule.
    fn draft(
        &self,
        current: Option<&PartnerRecord>,
        defaults: &OfficeHours,
    ) -> Result<PartnerDraft, ApiError> {
        let mut errors = ValidationErrors::default();
        let kind = match (&self.kind, current) {
            (Some(kind), None) => errors.check(ReferralKind::parse(kind)),
            (None, Some(current)) => Some(current.kind),
            (Some(kind), Some(current)) if kind == current.kind.as_str() => Some(current.kind),
            (Some(_), Some(_)) => {
                errors.push(FieldError::new("kind", "a partner's kind cannot change"));
                None
            }
            (None, None) => {
                errors.push(FieldError::new("kind", "kind is required: forensic, legal or police"));
                None
            }
        };
        let name = match (&self.name, current) {
            (Some(name), _) => errors.check(required_text("name", name, 200)),
            (None, Some(current)) => Some(current.name.clone()),
            (None, None) => errors.check(Err::<String, _>(FieldError::new("name", "name is required"))),
        };
        let emails = self.emails.clone().or_else(|| current.map(|c| c.emails.clone())).unwrap_or_default();
        let emails: Vec<String> = emails.iter().map(|e| e.trim().to_owned()).collect();
        for (index, email) in emails.iter().enumerate() {
            let valid = email.len() <= 254
                && email
                    .split_once('@')
                    .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
                && !email.chars().any(char::is_whitespace);
            if !valid {
                errors.push(FieldError::new(
                    format!("emails.{index}"),
                    format!("not an email address: {email:?}"),
                ));
            }
        }
        let phone = match &self.phone {
            Some(Some(phone)) => errors
                .check(hotline_domain::person::PhoneNumber::parse("phone", phone))
                .map(|p| Some(p.as_str().to_owned())),
            Some(None) => Some(None),
            None => Some(current.and_then(|c| c.phone.clone())),
        };
        let nationwide = self.nationwide.or_else(|| current.map(|c| c.nationwide)).unwrap_or(false);
        let prefectures = match &self.prefectures {
            Some(codes) => codes
                .iter()
                .map(|c| PrefectureCode::parse(c).map_err(|e| e.under("prefectures")))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| errors.push(e))
                .ok(),
            None => Some(current.map(|c| c.prefectures.clone()).unwrap_or_default()),
        };
        let office_hours = match &self.office_hours {
            Some(Some(own)) => errors.check(own.check(defaults).map(|_| Some(own.clone()))),
            Some(None) => Some(None),
            None => Some(current.and_then(|c| c.office_hours.clone())),
        };
        let active = self.active.or_else(|| current.map(|c| c.active)).unwrap_or(true);
        if let (Some(kind), Some(prefectures)) = (kind, &prefectures) {
            if kind == ReferralKind::Police && (nationwide || prefectures.len() != 1) {
                errors.push(FieldError::new(
                    "prefectures",
                    "a police desk covers exactly one prefecture and is not nationwide",
                ));
            } else if !nationwide && prefectures.is_empty() {
                errors
                    .push(FieldError::new("prefectures", "list the prefectures covered, or set nationwide"));
            }
        }
        errors.into_result()?;
        match (kind, name, phone, prefectures, office_hours) {
            (Some(kind), Some(name), Some(phone), Some(prefectures), Some(office_hours)) => {
                Ok(PartnerDraft { kind, name, emails, phone, nationwide, prefectures, office_hours, active })
            }
            _ => Err(ApiError::Internal("partner draft incomplete".into())),
        }
    }
}

/// Add a partner
///
/// A police desk covers exactly one prefecture and is not nationwide; others list prefectures or are
/// nationwide.
#[utoipa::path(
    tag = "partners",
    operation_id = "createPartner",
    security(("bearer" = ["supervisor"])),
    request_body = PartnerRequest,
    responses((status = 201, description = "The partner.", body = PartnerView,
        headers(("Location" = String, description = "`/v1/partners/{id}`.")))),
)]
#[post("/partners")]
pub async fn create(
    auth: Authorized<Supervisor>,
    Idempotency(key): Idempotency,
    body: Json<PartnerRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let new = body.value.draft(None, &state.config.police_hours)?;
    let now = state.clock.now();
    let view_state = state.clone();
    let role = auth.actor.role;
    write_once(
        &state,
        &auth.actor,
        key,
        body.fingerprint,
        move |conn| Ok(partners::create(conn, &new, now)?),
        move |partner| {
            let view = PartnerView::new(partner, &view_state.views(role, now));
            let location = Some(format!("/v1/partners/{}", partner.id));
            let response = StoredResponse::json(StatusCode::CREATED, &view, location)?;
            Ok((response.clone(), response))
        },
    )
    .await
}

/// A partner named in the path.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct PartnerPath {
    /// The partner's id.
    id: uuid::Uuid,
}

/// Change a partner
///
/// Members present replace the current values; `kind` cannot change. No Idempotency-Key (a PATCH is
/// repeatable as it is).
#[utoipa::path(
    tag = "partners",
    operation_id = "updatePartner",
    security(("bearer" = ["supervisor"])),
    params(PartnerPath),
    request_body = PartnerRequest,
    responses((status = 200, description = "The partner.", body = PartnerView)),
)]
#[patch("/partners/{id}")]
pub async fn update(
    auth: Authorized<Supervisor>,
    path: web::Path<String>,
    body: Json<PartnerRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "partner")?;
    let now = state.clock.now();
    let defaults = state.config.police_hours.clone();
    let storage = state.storage.clone();
    let request = body.value;
    let updated = web::block(move || {
        storage.write(|conn| {
            let current =
                partners::get(conn, id)?.ok_or_else(|| ApiError::NotFound(format!("partner {id}")))?;
            let new = request.draft(Some(&current), &defaults)?;
            Ok::<_, ApiError>(partners::update(conn, id, &new, now)?)
        })
    })
    .await??;
    tracing::info!(partner = %updated.id, "partner updated");
    Ok(HttpResponse::Ok().json(PartnerView::new(&updated, &state.views(auth.actor.role, now))))
}

/// Delete a partner without referrals
///
/// 409 `partner-in-use` for a partner with referrals (deactivate it instead) or a shipped police desk.
#[utoipa::path(
    tag = "partners",
    operation_id = "deletePartner",
    security(("bearer" = ["admin"])),
    params(PartnerPath),
    responses((status = 204, description = "Deleted.")),
    extensions(("x-problems" = json!(["partner-in-use"]))),
)]
#[delete("/partners/{id}")]
pub async fn delete(
    auth: Authorized<Admin>,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "partner")?;
    let storage = state.storage.clone();
    web::block(move || storage.write(|conn| partners::delete(conn, id))).await?.map_err(
        |error| match error {
            DeleteError::NotFound => ApiError::NotFound(format!("partner {id}")),
            DeleteError::PoliceDesk => ApiError::PartnerInUse { reason: "police-desk", referrals: None },
            DeleteError::HasReferrals(count) => {
                ApiError::PartnerInUse { reason: "has-referrals", referrals: Some(count) }
            }
            DeleteError::Storage(error) => error.into(),
        },
    )?;
    tracing::info!(partner = %id, by = %auth.actor.token_id, "partner deleted");
    Ok(HttpResponse::NoContent().finish())
}
