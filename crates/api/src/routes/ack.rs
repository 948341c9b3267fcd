//! The pages a partner reaches from an alert's link. GET shows the referral and asks; it changes
//! nothing, because mail scanners and link previews open links by themselves. The form's POST records
//! the partner's answer (accept or decline) as the "partner acknowledgement link" actor. A tampered
//! link gets 403; an expired one, or one already answered, 410.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use hotline_domain::characters::TextKind;
use hotline_domain::referral::{ReferralAction, ReferralKind, ReferralStatus};
use hotline_domain::role::Role;
use hotline_storage::queries::change::{Change, ChangeError};
use hotline_storage::queries::records::ReferralRecord;
use hotline_storage::queries::referrals::{self, ReferralUpdate};
use hotline_storage::queries::tickets::{self, TicketHeader, TicketKey};
use serde::Deserialize;
use uuid::Uuid;

use crate::ack::AckError;
use crate::problem::ApiError;
use crate::state::AppState;

/// The built-in actor of answers given through acknowledgement links.
pub const ACK_LINK_ACTOR: Uuid = Uuid::from_u128(0x01900000_0000_7000_8000_00000000ac01);

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

fn page(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    let html = format!(
        "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\"><meta name=\"robots\" content=\"noindex\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <style>{}</style></head><body><h1>{title}</h1>{body}</body></html>",
        crate::security::ACK_PAGE_STYLE,
        title = escape(title)
    );
    HttpResponse::build(status)
        .insert_header(("content-type", "text/html; charset=utf-8"))
        .insert_header(("cache-control", "no-store"))
        .insert_header(("referrer-policy", "no-referrer"))
        .body(html)
}

fn refusal(error: AckError) -> HttpResponse {
    match error {
        AckError::Tampered => page(
            StatusCode::FORBIDDEN,
            "リンクが無効です / Invalid link",
            "<p>このリンクは正しくありません。メールに記載のリンクをそのままお使いいただくか、窓口までお電話ください。</p>\
             <p>This link is not valid. Please use the link exactly as sent, or call the hotline.</p>",
        ),
        AckError::Expired => page(
            StatusCode::GONE,
            "リンクの有効期限が切れています / Link expired",
            "<p>お手数ですが、窓口までお電話またはメールでご回答ください。</p><p>Please answer the hotline by phone or email.</p>",
        ),
    }
}

fn answered(referral: &ReferralRecord) -> HttpResponse {
    page(
        StatusCode::GONE,
        "回答済みです / Already answered",
        &format!(
            "<p>このご依頼は既に「{}」となっています。変更がある場合は窓口までご連絡ください。</p>\
             <p>This request is already {}. Please contact the hotline for any change.</p>",
            escape(referral.status.as_str()),
            escape(referral.status.as_str())
        ),
    )
}

struct Loaded {
    referral: ReferralRecord,
    ticket: TicketHeader,
}

async fn load(state: &web::Data<AppState>, referral_id: Uuid) -> Result<Option<Loaded>, ApiError> {
    let storage = state.storage.clone();
    let loaded = web::block(move || {
        storage.read(|conn| {
            let Some(referral) = referrals::referral(conn, referral_id)? else { return Ok(None) };
            let ticket = tickets::find_header(conn, &TicketKey::Id(referral.ticket_id))?;
            Ok(ticket.map(|ticket| Loaded { referral, ticket }))
        })
    })
    .await??;
    Ok(loaded)
}

fn form(token: &str, loaded: &Loaded, state: &AppState, message: Option<&str>) -> String {
    let tz = state.time_zone();
    let referral = &loaded.referral;
    let police = referral.kind == ReferralKind::Police;
    format!(
        "{message}<dl><dt>受付番号 / Reference</dt><dd>{reference}</dd>\
         <dt>ご依頼先 / To</dt><dd>{partner}</dd>\
         <dt>都道府県 / Prefecture</dt><dd>{prefecture}</dd>\
         <dt>依頼日時 / Requested</dt><dd>{requested}</dd></dl>\
         <p>詳細はメールをご覧ください。お引き受けいただけるかご回答ください。<br>See the email for details, and let us know whether you can take this on.</p>\
         <form method=\"post\" action=\"/ack/{token}\">\
         {receipt}<p><label>ご連絡事項（任意） / Note (optional)<br><textarea name=\"note\" rows=\"3\" maxlength=\"2000\"></textarea></label></p>\
         <p><button type=\"submit\" name=\"action\" value=\"accept\">引き受ける / Accept</button>\
         <button type=\"submit\" name=\"action\" value=\"decline\">お断りする / Decline</button></p></form>",
        message = message
            .map(|m| format!("<p role=\"alert\"><strong>{}</strong></p>", escape(m)))
            .unwrap_or_default(),
        reference = escape(&loaded.ticket.reference),
        partner = escape(&referral.partner_name),
        prefecture = escape(loaded.ticket.prefecture.name_ja()),
        requested = escape(&referral.requested_at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()),
        token = escape(token),
        receipt = if police {
            "<p><label>受理番号（引き受けの場合は必須） / Receipt number (required to accept)<br>\
             <input name=\"police_receipt_number\" maxlength=\"100\"></label></p>\
             <p><label>ご担当者 / Contact<br><input name=\"police_contact\" maxlength=\"200\"></label></p>"
        } else {
            ""
        },
    )
}

/// A signed acknowledgement link's token.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct AckPath {
    /// The token from the alert's link (signed; expires after `ack.ttl_hours`).
    token: String,
}

/// A partner's acknowledgement page
///
/// No bearer token: the link is signed. Shows the referral and a form. Changes nothing (mail scanners
/// open links). Answers are bilingual HTML pages with `Cache-Control: no-store`.
#[utoipa::path(
    tag = "acknowledgement",
    operation_id = "showAcknowledgement",
    params(AckPath),
    responses(
        (status = 200, description = "The referral and the form.", content_type = "text/html", body = String),
        (status = 403, description = "The link is not valid (tampered).", content_type = "text/html", body = String),
        (status = 410, description = "The link expired, or the referral was already answered.", content_type = "text/html", body = String),
    ),
)]
#[get("/ack/{token}")]
pub async fn show(path: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let token = path.into_inner();
    let loaded = match open_link(&state, &token, state.clock.now()).await? {
        Ok(loaded) => loaded,
        Err(page) => return Ok(page),
    };
    Ok(page(StatusCode::OK, "ご依頼への回答 / Your answer", &form(&token, &loaded, &state, None)))
}

/// The referral a link names, still waiting for an answer; otherwise the page that says why not.
async fn open_link(
    state: &web::Data<AppState>,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Result<Loaded, HttpResponse>, ApiError> {
    let claim = match state.alerts.ack.verify(token, now) {
        Ok(claim) => claim,
        Err(error) => return Ok(Err(refusal(error))),
    };
    let Some(loaded) = load(state, claim.referral_id).await? else {
        return Ok(Err(refusal(AckError::Tampered)));
    };
    if loaded.referral.status != ReferralStatus::Requested {
        return Ok(Err(answered(&loaded.referral)));
    }
    Ok(Ok(loaded))
}

/// The form as posted.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AckForm {
    /// `accept` or `decline`. Missing is answered like an unknown action: the form again (422).
    #[serde(default)]
    action: String,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    police_receipt_number: Option<String>,
    #[serde(default)]
    police_contact: Option<String>,
}

fn optional(text: &Option<String>) -> Option<String> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(|t| t.chars().take(2000).collect())
}

/// A partner accepts or declines a referral
///
/// No bearer token: the link is signed. Records the answer as `POST /v1/referrals/{id}/{accept|decline}`
/// would, as the actor "partner acknowledgement link"; no If-Match. 403: tampered link; 410: expired,
/// or already answered; 422: no action, or a police acceptance without its receipt number (the form
/// again, with the reason).
#[utoipa::path(
    tag = "acknowledgement",
    operation_id = "answerAcknowledgement",
    params(AckPath),
    request_body(content = AckForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The answer was recorded.", content_type = "text/html", body = String),
        (status = 400, description = "The form could not be read (the form again).", content_type = "text/html", body = String),
        (status = 403, description = "The link is not valid (tampered).", content_type = "text/html", body = String),
        (status = 410, description = "The link expired, or the referral was already answered.", content_type = "text/html", body = String),
        (status = 413, description = "The form is too large (the form again).", content_type = "text/html", body = String),
        (status = 415, description = "Not a form (the form again).", content_type = "text/html", body = String),
        (status = 422, description = "No action chosen, or a receipt number missing (the form again).", content_type = "text/html", body = String),
    ),
)]
#[post("/ack/{token}")]
pub async fn answer(
    path: web::Path<String>,
    form_data: Result<web::Form<AckForm>, actix_web::Error>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let token = path.into_inner();
    let now = state.clock.now();
    let loaded = match open_link(&state, &token, now).await? {
        Ok(loaded) => loaded,
        Err(page) => return Ok(page),
    };
    // A partner's browser always sends the form; anything else (another media type, a body too large,
    // broken encoding) gets the page again with its status, in the partner's language, not JSON.
    let (action, update) = match read_answer(form_data, &loaded) {
        Ok(answer) => answer,
        Err((status, message)) => {
            let body = form(&token, &loaded, &state, Some(message));
            return Ok(page(status, "ご依頼への回答 / Your answer", &body));
        }
    };
    record_answer(&state, &loaded, action, update, now).await
}

/// The partner's answer as the form gives it, or the status and message to show the form again with.
fn read_answer(
    form_data: Result<web::Form<AckForm>, actix_web::Error>,
    loaded: &Loaded,
) -> Result<(ReferralAction, ReferralUpdate), (StatusCode, &'static str)> {
    let form_data = form_data.map_err(|error| {
        (
            error.as_response_error().status_code(),
            "送信内容を読み取れませんでした。もう一度お試しください。 The form could not be read; please try again.",
        )
    })?;
    // The same characters as through the API: free text in the note, one line elsewhere.
    let empty = String::new();
    let unstorable = [
        (TextKind::SingleLine, &form_data.action),
        (TextKind::FreeText, form_data.note.as_ref().unwrap_or(&empty)),
        (TextKind::SingleLine, form_data.police_receipt_number.as_ref().unwrap_or(&empty)),
        (TextKind::SingleLine, form_data.police_contact.as_ref().unwrap_or(&empty)),
    ]
    .into_iter()
    .any(|(kind, text)| kind.first_refused(text).is_some());
    if unstorable {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            "使用できない制御文字が含まれています。入力し直してください。 The answer contains control characters; please type it again.",
        ));
    }
    let action = match form_data.action.as_str() {
        "accept" => ReferralAction::Accept,
        "decline" => ReferralAction::Decline,
        _ => {
            return Err((
                StatusCode::UNPROCESSABLE_ENTITY,
                "引き受けるかお断りするかを選んでください。 Choose accept or decline.",
            ));
        }
    };
    let update = ReferralUpdate {
        note: optional(&form_data.note),
        police_receipt_number: optional(&form_data.police_receipt_number),
        police_contact: optional(&form_data.police_contact),
    };
    hotline_domain::referral::check_receipt(
        loaded.referral.kind,
        action,
        update.police_receipt_number.as_deref(),
    )
    .map_err(|_| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "引き受けの場合は受理番号をご記入ください。 A receipt number is required to accept.",
        )
    })?;
    Ok((action, update))
}

/// Records the answer as the acknowledgement-link actor, at the ticket's current version (the partner
/// has no ETag), and thanks the partner.
async fn record_answer(
    state: &web::Data<AppState>,
    loaded: &Loaded,
    action: ReferralAction,
    update: ReferralUpdate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<HttpResponse, ApiError> {
    let storage = state.storage.clone();
    let (referral_id, ticket_id) = (loaded.referral.id, loaded.ticket.id);
    let outcome = web::block(move || {
        storage.write(|conn| {
            let version = tickets::find_header(conn, &TicketKey::Id(ticket_id))?.map_or(0, |t| t.version);
            let change = Change {
                ticket_id,
                expected_version: version,
                actor: ACK_LINK_ACTOR,
                role: Role::Operator,
                now,
            };
            referrals::act_on_referral(conn, &change, referral_id, action, &update)
        })
    })
    .await?;
    match outcome {
        Ok((_, referral)) => {
            tracing::info!(referral = %referral.id, action = action.as_str(), "referral answered by acknowledgement link");
            let (ja, en) = if action == ReferralAction::Accept {
                (
                    "お引き受けいただきありがとうございます。窓口より追ってご連絡いたします。",
                    "Thank you for accepting; the hotline will contact you shortly.",
                )
            } else {
                ("ご回答ありがとうございました。", "Thank you for your answer.")
            };
            Ok(page(
                StatusCode::OK,
                "ご回答を受け付けました / Answer recorded",
                &format!("<p>{ja}</p><p>{en}</p>"),
            ))
        }
        Err(ChangeError::ReferralTransition { .. }) => Ok(answered(&loaded.referral)),
        Err(other) => Err(crate::change::change_error(other, Role::Operator)),
    }
}
