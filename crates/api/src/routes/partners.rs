//! The partner directory, as much as referrals need now: list by kind and prefecture, create, and
//! update (emails, phone, coverage, office hours, active). The 47 prefectural police desks are shipped
//! as reference rows; admins fill in their contacts.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{NaiveTime, Weekday};
use hotline_domain::office_hours::OfficeHours;
use hotline_domain::prefecture::PrefectureCode;
use hotline_domain::referral::ReferralKind;
use hotline_domain::role::Role;
use hotline_domain::text::required_text;
use hotline_domain::{FieldError, ValidationErrors};
use hotline_storage::queries::partners::{self, PartnerDraft, PartnerRecord};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Actor;
use crate::extract::{IdempotencyKey, RequestBody, json_body};
use crate::idempotency::{StoredResponse, write_once};
use crate::problem::ApiError;
use crate::routes::parse_id;
use crate::time::display_time;

const DAYS: [(Weekday, &str); 7] = [
    (Weekday::Mon, "mon"),
    (Weekday::Tue, "tue"),
    (Weekday::Wed, "wed"),
    (Weekday::Thu, "thu"),
    (Weekday::Fri, "fri"),
    (Weekday::Sat, "sat"),
    (Weekday::Sun, "sun"),
];

/// Office hours as JSON: `{"time_zone","open","close","days":["mon",…],"closed_on_holidays","closed_over_new_year"}`.
pub(crate) fn office_hours_json(hours: &OfficeHours) -> Value {
    json!({
        "time_zone": hours.time_zone.name(),
        "open": hours.open.format("%H:%M").to_string(),
        "close": hours.close.format("%H:%M").to_string(),
        "days": DAYS.iter().filter(|(day, _)| hours.days.contains(day)).map(|(_, name)| *name).collect::<Vec<_>>(),
        "closed_on_holidays": hours.closed_on_holidays,
        "closed_over_new_year": hours.closed_over_new_year,
    })
}

/// Reads office-hours JSON; absent members take the defaults.
pub(crate) fn office_hours_from_json(
    value: &Value,
    defaults: &OfficeHours,
) -> Result<OfficeHours, FieldError> {
    let field = "office_hours";
    let bad = |detail: &str| FieldError::new(field, detail.to_owned());
    let object = value.as_object().ok_or_else(|| bad("office_hours must be an object"))?;
    let time = |key: &str, default: NaiveTime| -> Result<NaiveTime, FieldError> {
        match object.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_str()
                .and_then(|s| NaiveTime::parse_from_str(s, "%H:%M").ok())
                .ok_or_else(|| bad(&format!("office_hours.{key} must be HH:MM"))),
        }
    };
    let flag = |key: &str, default: bool| -> Result<bool, FieldError> {
        object.get(key).map_or(Ok(default), |v| {
            v.as_bool().ok_or_else(|| bad(&format!("office_hours.{key} must be true or false")))
        })
    };
    let time_zone = match object.get("time_zone") {
        None => defaults.time_zone,
        Some(v) => v
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("office_hours.time_zone must be an IANA zone"))?,
    };
    let days = match object.get("days") {
        None => defaults.days.clone(),
        Some(v) => v
            .as_array()
            .ok_or_else(|| bad("office_hours.days must be a list such as [\"mon\",\"tue\"]"))?
            .iter()
            .map(|d| d.as_str().and_then(|d| DAYS.iter().find(|(_, n)| *n == d)).map(|(day, _)| *day))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("office_hours.days takes mon, tue, wed, thu, fri, sat, sun"))?,
    };
    let hours = OfficeHours {
        time_zone,
        open: time("open", defaults.open)?,
        close: time("close", defaults.close)?,
        days,
        closed_on_holidays: flag("closed_on_holidays", defaults.closed_on_holidays)?,
        closed_over_new_year: flag("closed_over_new_year", defaults.closed_over_new_year)?,
    };
    if hours.open >= hours.close {
        return Err(bad("office_hours.open must be before close"));
    }
    Ok(hours)
}

fn partner_json(partner: &PartnerRecord, state: &AppState) -> Value {
    let tz = state.time_zone();
    let hours = crate::routes::referrals::office_hours_of(partner, &state.config.police_hours);
    json!({
        "id": partner.id,
        "kind": partner.kind.as_str(),
        "name": partner.name,
        "emails": partner.emails,
        "phone": partner.phone,
        "nationwide": partner.nationwide,
        "prefectures": partner.prefectures.iter().map(|p| p.code()).collect::<Vec<_>>(),
        "office_hours": office_hours_json(&hours),
        "active": partner.active,
        "created_at": display_time(partner.created_at, tz),
        "updated_at": display_time(partner.updated_at, tz),
    })
}

/// Query of the directory.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    prefecture: Option<String>,
}

/// `GET /v1/partners?kind=&prefecture=` (operator).
pub async fn list(
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Operator)?;
    let kind = query.kind.as_deref().map(ReferralKind::parse).transpose()?;
    let prefecture = query.prefecture.as_deref().map(PrefectureCode::parse).transpose()?;
    let storage = state.storage.clone();
    let found = web::block(move || storage.read(|conn| partners::list(conn, kind, prefecture))).await??;
    Ok(HttpResponse::Ok()
        .json(json!({ "partners": found.iter().map(|p| partner_json(p, &state)).collect::<Vec<_>>() })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartnerRequest {
    #[serde(default, deserialize_with = "crate::extract::non_null")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::non_null")]
    name: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::non_null")]
    emails: Option<Vec<String>>,
    #[serde(default)]
    phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::extract::non_null")]
    nationwide: Option<bool>,
    #[serde(default, deserialize_with = "crate::extract::non_null")]
    prefectures: Option<Vec<String>>,
    #[serde(default)]
    office_hours: Option<Option<Value>>,
    #[serde(default, deserialize_with = "crate::extract::non_null")]
    active: Option<bool>,
}

impl RequestBody for PartnerRequest {
    const FREE_TEXT: &'static [&'static str] = &[];
}

/// Applies a request to a draft (the current partner for an update), checking every rule.
fn draft(
    request: &PartnerRequest,
    current: Option<&PartnerRecord>,
    defaults: &OfficeHours,
) -> Result<PartnerDraft, ApiError> {
    let mut errors = ValidationErrors::default();
    let kind = match (&request.kind, current) {
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
    let name = match (&request.name, current) {
        (Some(name), _) => errors.check(required_text("name", name, 200)),
        (None, Some(current)) => Some(current.name.clone()),
        (None, None) => errors.check(Err::<String, _>(FieldError::new("name", "name is required"))),
    };
    let emails = request.emails.clone().or_else(|| current.map(|c| c.emails.clone())).unwrap_or_default();
    let emails: Vec<String> = emails.iter().map(|e| e.trim().to_owned()).collect();
    for (index, email) in emails.iter().enumerate() {
        let valid = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
            && !email.chars().any(char::is_whitespace);
        if !valid {
            errors
                .push(FieldError::new(format!("emails.{index}"), format!("not an email address: {email:?}")));
        }
    }
    let phone = match &request.phone {
        Some(Some(phone)) => errors
            .check(hotline_domain::person::PhoneNumber::parse("phone", phone))
            .map(|p| Some(p.as_str().to_owned())),
        Some(None) => Some(None),
        None => Some(current.and_then(|c| c.phone.clone())),
    };
    let nationwide = request.nationwide.or_else(|| current.map(|c| c.nationwide)).unwrap_or(false);
    let prefectures = match &request.prefectures {
        Some(codes) => codes
            .iter()
            .map(|c| PrefectureCode::parse(c).map_err(|e| e.under("prefectures")))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| errors.push(e))
            .ok(),
        None => Some(current.map(|c| c.prefectures.clone()).unwrap_or_default()),
    };
    let office_hours = match &request.office_hours {
        Some(Some(value)) => {
            errors.check(office_hours_from_json(value, defaults).map(|_| Some(value.clone())))
        }
        Some(None) => Some(None),
        None => Some(current.and_then(|c| c.office_hours.clone())),
    };
    let active = request.active.or_else(|| current.map(|c| c.active)).unwrap_or(true);
    if let (Some(kind), Some(prefectures)) = (kind, &prefectures) {
        if kind == ReferralKind::Police && (nationwide || prefectures.len() != 1) {
            errors.push(FieldError::new(
                "prefectures",
                "a police desk covers exactly one prefecture and is not nationwide",
            ));
        } else if !nationwide && prefectures.is_empty() {
            errors.push(FieldError::new("prefectures", "list the prefectures covered, or set nationwide"));
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

/// `POST /v1/partners` (supervisor).
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Supervisor)?;
    let key = IdempotencyKey::from_request(&req)?;
    let (body, fingerprint) = json_body::<PartnerRequest>(&req, payload, state.config.body_limit).await?;
    let new = draft(&body, None, &state.config.police_hours)?;
    let now = state.clock.now();
    let view_state = state.clone();
    write_once(
        &state,
        &actor,
        key,
        fingerprint,
        move |conn| Ok(partners::create(conn, &new, now)?),
        move |partner| {
            let location = Some(format!("/v1/partners/{}", partner.id));
            let response =
                StoredResponse::json(StatusCode::CREATED, &partner_json(partner, &view_state), location)?;
            Ok((response.clone(), response))
        },
    )
    .await
}

/// `PATCH /v1/partners/{id}` (supervisor): members present replace the current values.
pub async fn update(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Supervisor)?;
    let id = parse_id(&path, "partner")?;
    let (body, _fingerprint) = json_body::<PartnerRequest>(&req, payload, state.config.body_limit).await?;
    let now = state.clock.now();
    let defaults = state.config.police_hours.clone();
    let storage = state.storage.clone();
    let updated = web::block(move || {
        storage.write(|conn| {
            let current =
                partners::get(conn, id)?.ok_or_else(|| ApiError::NotFound(format!("partner {id}")))?;
            let new = draft(&body, Some(&current), &defaults)?;
            Ok::<_, ApiError>(partners::update(conn, id, &new, now)?)
        })
    })
    .await??;
    tracing::info!(partner = %updated.id, "partner updated");
    Ok(HttpResponse::Ok().json(partner_json(&updated, &state)))
}

/// `DELETE /v1/partners/{id}` (admin): only a partner without referrals; others are deactivated.
pub async fn delete(
    path: web::Path<String>,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Admin)?;
    let id = parse_id(&path, "partner")?;
    let storage = state.storage.clone();
    web::block(move || storage.write(|conn| partners::delete(conn, id))).await?.map_err(
        |error| match error {
            hotline_storage::StorageError::NotFound => ApiError::NotFound(format!("partner {id}")),
            other => other.into(),
        },
    )?;
    tracing::info!(partner = %id, by = %actor.token_id, "partner deleted");
    Ok(HttpResponse::NoContent().finish())
}
