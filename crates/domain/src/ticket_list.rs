//! What a supervisor may ask of the ticket list (`GET /v1/tickets`): the filters, the order, the page
//! size and the cursor, parsed once from the query string into typed values so storage only builds SQL
//! and the handler stays thin. Dates are whole days in the service's zone (Japan); instants are RFC 3339.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use crate::identifiers::{MemberNumber, RegistrationNumber};
use crate::prefecture::PrefectureCode;
use crate::referral::{ReferralKind, ReferralStatus};
use crate::text::{clean_text, escape_like};
use crate::ticket::TicketStatus;
use crate::triage::{Category, IncidentKind, Priority};
use crate::verification::VerificationOutcome;
use crate::{FieldError, ValidationErrors};

/// Rows per page when the client names none.
pub const DEFAULT_LIMIT: i64 = 50;
/// The largest page; more is refused (422), not silently capped.
pub const MAX_LIMIT: i64 = 500;
/// The longest free-text query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// The query string as sent: every value still text, so one parser reports every bad field at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct TicketListForm {
    /// Only these statuses, comma-separated (e.g. `new,triaged`).
    #[serde(default)]
    pub status: Option<String>,
    /// Only these triage categories, comma-separated (e.g. `serious_incident`).
    #[serde(default)]
    pub category: Option<String>,
    /// Only these incident kinds, comma-separated (e.g. `ransomware,data_leak`).
    #[serde(default)]
    pub incident_kind: Option<String>,
    /// Only these priorities, comma-separated: `P1`–`P4`.
    #[serde(default)]
    pub priority: Option<String>,
    /// Only these prefectures (JIS codes `01`–`47`), comma-separated.
    #[serde(default)]
    pub prefecture: Option<String>,
    /// Only tickets assigned to this token id, or `unassigned`.
    #[serde(default)]
    pub assignee: Option<String>,
    /// `true`: only tickets with a late SLA clock (theirs or an open referral's); `false`: only the others.
    #[serde(default)]
    pub overdue: Option<bool>,
    /// Only tickets whose first call's verification had these outcomes, comma-separated.
    #[serde(default)]
    pub verification: Option<String>,
    /// Only tickets with a referral of these kinds (`forensic`, `legal`, `police`), comma-separated.
    #[serde(default)]
    pub referral_kind: Option<String>,
    /// Only tickets with a referral in these statuses, comma-separated; with `referral_kind`, the same
    /// referral must match both.
    #[serde(default)]
    pub referral_status: Option<String>,
    /// A caller's history: tickets of this registry member (id).
    #[serde(default)]
    pub member_id: Option<String>,
    /// A caller's history: tickets of the member with this association member number (10 digits).
    #[serde(default)]
    pub member_number: Option<String>,
    /// A caller's history: tickets of the member with this medical registration number.
    #[serde(default)]
    pub registration_number: Option<String>,
    /// An institution's history: tickets of this registry institution (id).
    #[serde(default)]
    pub institution_id: Option<String>,
    /// Created at or after: a date (`2026-11-30`, from 00:00 JST) or an RFC 3339 instant.
    #[serde(default)]
    pub created_from: Option<String>,
    /// Created up to: a date (`2026-11-30`, that whole JST day included) or an RFC 3339 instant (excluded).
    #[serde(default)]
    pub created_to: Option<String>,
    /// Last changed at or after: a date or an instant, as `created_from`.
    #[serde(default)]
    pub updated_from: Option<String>,
    /// Last changed up to: a date or an instant, as `created_to`.
    #[serde(default)]
    pub updated_to: Option<String>,
    /// Free text: NFKC-normalised, matched as a substring of the reference, the summary or the
    /// institution's name (registry name, or the name the caller gave); ASCII letters ignore case.
    #[serde(default)]
    pub q: Option<String>,
    /// Order: `created` (default), `updated`, `priority` or `due`; a leading `-` sorts descending.
    #[serde(default)]
    pub sort: Option<String>,
    /// The `next_cursor` of the previous page, with the same filters and `sort`.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Rows per page: 1–500, default 50.
    #[serde(default)]
    pub limit: Option<i64>,
    /// `true`: also count every matching ticket (`total`), which costs a second query.
    #[serde(default)]
    pub total: Option<bool>,
}

/// Whose tickets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// Assigned to this token.
    Token(Uuid),
    /// Assigned to nobody.
    Unassigned,
}

/// A half-open range of instants `[from, to)`; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InstantRange {
    /// Inclusive start.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive end.
    pub to: Option<DateTime<Utc>>,
}

/// The free-text query, ready for a SQL `LIKE … ESCAPE '\'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextQuery {
    /// The query after NFKC, trimming and collapsing white space.
    pub normalised: String,
    /// `%normalised%`, lower-cased, with `%`, `_` and `\` escaped.
    pub like_pattern: String,
}

/// Which tickets the list shows. Every field narrows the list; empty vectors and `None` do not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketListFilter {
    /// Status is one of these.
    pub statuses: Vec<TicketStatus>,
    /// Triage category is one of these.
    pub categories: Vec<Category>,
    /// Triage incident kind is one of these.
    pub incident_kinds: Vec<IncidentKind>,
    /// Priority is one of these.
    pub priorities: Vec<Priority>,
    /// Prefecture is one of these.
    pub prefectures: Vec<PrefectureCode>,
    /// Assignee.
    pub assignee: Option<AssigneeFilter>,
    /// Late (`true`) or not late (`false`) by the SLA clocks at the time of asking.
    pub overdue: Option<bool>,
    /// First call's verification outcome is one of these.
    pub verifications: Vec<VerificationOutcome>,
    /// Has a referral of one of these kinds …
    pub referral_kinds: Vec<ReferralKind>,
    /// … in one of these statuses (the same referral).
    pub referral_statuses: Vec<ReferralStatus>,
    /// Registry member.
    pub member_id: Option<Uuid>,
    /// Registry member by member number.
    pub member_number: Option<MemberNumber>,
    /// Registry member by registration number.
    pub registration_number: Option<RegistrationNumber>,
    /// Registry institution.
    pub institution_id: Option<Uuid>,
    /// Creation time.
    pub created: InstantRange,
    /// Last change.
    pub updated: InstantRange,
    /// Free text.
    pub text: Option<TextQuery>,
}

/// What the list is ordered by; ties are broken by ticket id in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Creation time.
    Created,
    /// Last change.
    Updated,
    /// Priority, untriaged tickets (held to P1's clock) first, then P1 … P4.
    Priority,
    /// The SLA due time the ticket works towards: first response while it has none, else resolution.
    Due,
}

wire_names!(SortKey, "sort" { Created => "created", Updated => "updated", Priority => "priority", Due => "due" });

/// An order: key and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketSort {
    /// The key.
    pub key: SortKey,
    /// Descending.
    pub descending: bool,
}

impl Default for TicketSort {
    fn default() -> Self {
        Self { key: SortKey::Created, descending: false }
    }
}

impl TicketSort {
    /// The wire form, e.g. `-updated`.
    pub fn as_string(&self) -> String {
        format!("{}{}", if self.descending { "-" } else { "" }, self.key.as_str())
    }

    /// Reads `created`, `-created`, ….
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let (descending, name) = match input.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, input),
        };
        Ok(Self { key: SortKey::parse(name)?, descending })
    }
}

/// Where the previous page ended: the last row's sort value and id, under the order it was read in.
/// Opaque to clients (hex of `sort|value|id`); only cursors this service issued parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketCursor {
    /// The order the cursor belongs to.
    pub sort: TicketSort,
    /// The last row's sort value, as storage wrote it.
    pub value: String,
    /// The last row's id.
    pub id: Uuid,
}

impl TicketCursor {
    /// The opaque token.
    pub fn encode(&self) -> String {
        let plain = format!("{}|{}|{}", self.sort.as_string(), self.value, self.id);
        plain.bytes().map(|b| format!("{b:02x}")).collect()
    }

    /// Reads a token back; any other text is refused.
    pub fn decode(token: &str) -> Result<Self, FieldError> {
        let invalid =
            || FieldError::new("cursor", "cursor is not one this service issued; start again without it");
        if token.len() % 2 != 0 || token.len() > 400 {
            return Err(invalid());
        }
        let bytes: Vec<u8> = (0..token.len())
            .step_by(2)
            .map(|i| token.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
            .collect::<Option<_>>()
            .ok_or_else(invalid)?;
        let plain = String::from_utf8(bytes).map_err(|_| invalid())?;
        let mut parts = plain.splitn(3, '|');
        let (Some(sort), Some(value), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(invalid());
        };
        let sort = TicketSort::parse(sort).map_err(|_| invalid())?;
        let value_fits = match sort.key {
            SortKey::Created | SortKey::Updated => {
                chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
            }
            SortKey::Priority => matches!(value, "P0" | "P1" | "P2" | "P3" | "P4"),
            SortKey::Due => value.parse::<i64>().is_ok(),
        };
        if !value_fits {
            return Err(invalid());
        }
        Ok(Self { sort, value: value.to_owned(), id: Uuid::parse_str(id).map_err(|_| invalid())? })
    }
}

/// A parsed, valid list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketListQuery {
    /// Which tickets.
    pub filter: TicketListFilter,
    /// In which order.
    pub sort: TicketSort,
    /// After which row.
    pub cursor: Option<TicketCursor>,
    /// How many.
    pub limit: i64,
    /// Count them all too.
    pub total: bool,
}

fn list_of<T>(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<T, FieldError>,
) -> Vec<T> {
    let mut out = Vec::new();
    for item in value.unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match parse(item) {
            Ok(parsed) => out.push(parsed),
            Err(error) => errors.push(FieldError::new(field, error.detail)),
        }
    }
    out
}

fn uuid_of(errors: &mut ValidationErrors, field: &str, value: Option<&str>) -> Option<Uuid> {
    let value = value?;
    errors.check(
        Uuid::parse_str(value.trim()).map_err(|_| FieldError::new(field, format!("{field} must be a UUID"))),
    )
}

/// Reads a range bound: a date means its whole day in `tz` (the start for `from`, the next day's start
/// for `to`), an RFC 3339 instant means that instant.
fn bound(field: &str, value: &str, tz: Tz, end: bool) -> Result<DateTime<Utc>, FieldError> {
    let value = value.trim();
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let day = if end { date.succ_opt().unwrap_or(date) } else { date };
        return day
            .and_hms_opt(0, 0, 0)
            .and_then(|midnight| tz.from_local_datetime(&midnight).earliest())
            .map(|start| start.with_timezone(&Utc))
            .ok_or_else(|| FieldError::new(field, format!("{field}: no such day {value:?}")));
    }
    DateTime::parse_from_rfc3339(value).map(|at| at.with_timezone(&Utc)).map_err(|_| {
        FieldError::new(
            field,
            format!("{field} must be a date (2026-11-30) or an RFC 3339 instant, got {value:?}"),
        )
    })
}

fn range(
    errors: &mut ValidationErrors,
    (from_field, from): (&str, Option<&str>),
    (to_field, to): (&str, Option<&str>),
    tz: Tz,
) -> InstantRange {
    let range = InstantRange {
        from: from.and_then(|v| errors.check(bound(from_field, v, tz, false))),
        to: to.and_then(|v| errors.check(bound(to_field, v, tz, true))),
    };
    if matches!((range.from, range.to), (Some(from), Some(to)) if to <= from) {
        errors.push(FieldError::new(to_field, format!("{to_field} must lie after {from_field}")));
    }
    range
}

impl TextQuery {
    /// NFKC, trimmed, white space collapsed; empty text is no query.
    pub fn parse(input: &str) -> Result<Option<Self>, FieldError> {
        let normalised = clean_text(input);
        if normalised.is_empty() {
            return Ok(None);
        }
        if normalised.chars().count() > MAX_QUERY_CHARS {
            return Err(FieldError::new("q", format!("q has at most {MAX_QUERY_CHARS} characters")));
        }
        let like_pattern = format!("%{}%", escape_like(&normalised.to_lowercase()));
        Ok(Some(Self { normalised, like_pattern }))
    }
}

/// The text `q` searches in, as stored with a ticket: each part NFKC-normalised, white space collapsed
/// and lower-cased, one part per line (a query, being one line, never spans two parts).
pub fn search_text<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    parts.into_iter().map(|part| clean_text(part).to_lowercase()).collect::<Vec<_>>().join("\n")
}

impl TicketListQuery {
    /// Parses every parameter, collecting all field errors; `tz` is the zone dates are days in.
    pub fn parse(form: &TicketListForm, tz: Tz) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let e = &mut errors;
        let assignee = match form.assignee.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("unassigned") => Some(AssigneeFilter::Unassigned),
            Some(other) => uuid_of(e, "assignee", Some(other)).map(AssigneeFilter::Token),
        };
        let filter = TicketListFilter {
            statuses: list_of(e, "status", form.status.as_deref(), TicketStatus::parse),
            categories: list_of(e, "category", form.category.as_deref(), Category::parse),
            incident_kinds: list_of(e, "incident_kind", form.incident_kind.as_deref(), IncidentKind::parse),
            priorities: list_of(e, "priority", form.priority.as_deref(), Priority::parse),
            prefectures: list_of(e, "prefecture", form.prefecture.as_deref(), PrefectureCode::parse),
            assignee,
            overdue: form.overdue,
            verifications: list_of(e, "verification", form.verification.as_deref(), |v| {
                VerificationOutcome::parse(v).ok_or_else(|| {
                    FieldError::new(
                        "verification",
                        format!(
                            "verification must be one of verified, mismatch, not_found, ineligible, got {v:?}"
                        ),
                    )
                })
            }),
            referral_kinds: list_of(e, "referral_kind", form.referral_kind.as_deref(), ReferralKind::parse),
            referral_statuses: list_of(
                e,
                "referral_status",
                form.referral_status.as_deref(),
                ReferralStatus::parse,
            ),
            member_id: uuid_of(e, "member_id", form.member_id.as_deref()),
            member_number: form.member_number.as_deref().and_then(|v| e.check(MemberNumber::parse(v))),
            registration_number: form
                .registration_number
                .as_deref()
                .and_then(|v| e.check(RegistrationNumber::parse(v))),
            institution_id: uuid_of(e, "institution_id", form.institution_id.as_deref()),
            created: range(
                e,
                ("created_from", form.created_from.as_deref()),
                ("created_to", form.created_to.as_deref()),
                tz,
            ),
            updated: range(
                e,
                ("updated_from", form.updated_from.as_deref()),
                ("updated_to", form.updated_to.as_deref()),
                tz,
            ),
            text: form.q.as_deref().and_then(|q| e.check(TextQuery::parse(q))).flatten(),
        };
        let sort =
            form.sort.as_deref().and_then(|s| e.check(TicketSort::parse(s.trim()))).unwrap_or_default();
        let cursor = form.cursor.as_deref().and_then(|c| e.check(TicketCursor::decode(c.trim())));
        if cursor.as_ref().is_some_and(|cursor| cursor.sort != sort) {
            e.push(FieldError::new("cursor", "cursor belongs to another sort order; send the same sort"));
        }
        let limit = form.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            e.push(FieldError::new("limit", format!("limit must be 1–{MAX_LIMIT}, got {limit}")));
        }
        errors.into_result()?;
        Ok(Self { filter, sort, cursor, limit, total: form.total.unwrap_or(false) })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Result<TicketListQuery, ValidationErrors> {
        let form: TicketListForm = serde_json::from_value(serde_json::Value::Object(
            query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap();
                    let value = match v {
                        "true" => serde_json::json!(true),
                        "false" => serde_json::json!(false),
                        _ if k == "limit" => serde_json::json!(v.parse::<i64>().unwrap()),
                        _ => serde_json::json!(v),
                    };
                    (k.to_owned(), value)
                })
                .collect(),
        ))
        .unwrap();
        TicketListQuery::parse(&form, chrono_tz::Asia::Tokyo)
    }

    fn fields(errors: &ValidationErrors) -> Vec<&str> {
        errors.0.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn defaults_are_oldest_created_first_fifty_rows_without_total() {
        let query = parse("").unwrap();
        assert_eq!(query.sort, TicketSort { key: SortKey::Created, descending: false });
        assert_eq!((query.limit, query.total, query.cursor), (50, false, None));
        assert_eq!(query.filter, TicketListFilter::default());
    }

    #[test]
    fn a_date_is_the_whole_day_in_japan() {
        let query = parse("created_from=2026-11-30&created_to=2026-11-30").unwrap();
        let from: DateTime<Utc> = "2026-11-29T15:00:00Z".parse().unwrap();
        let to: DateTime<Utc> = "2026-11-30T15:00:00Z".parse().unwrap();
        assert_eq!(query.filter.created, InstantRange { from: Some(from), to: Some(to) });
        let instants = parse("updated_from=2026-11-30T09:00:00%2B09:00").unwrap_err();
        assert_eq!(fields(&instants), ["updated_from"], "a raw + is not decoded here");
        let instants = parse("updated_from=2026-11-30T00:00:00Z&updated_to=2026-11-30T01:00:00Z").unwrap();
        assert_eq!(instants.filter.updated.to, Some("2026-11-30T01:00:00Z".parse().unwrap()));
    }

    #[test]
    fn lists_are_comma_separated_and_every_bad_value_is_named() {
        let query = parse("status=new,triaged&prefecture=13,１&priority=P1").unwrap();
        assert_eq!(query.filter.statuses, [TicketStatus::New, TicketStatus::Triaged]);
        assert_eq!(query.filter.prefectures.iter().map(|p| p.code()).collect::<Vec<_>>(), ["13", "01"]);
        let errors = parse(
            "status=open&prefecture=48&limit=501&sort=name&assignee=x&created_from=yesterday&verification=ok",
        )
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            ["assignee", "status", "prefecture", "verification", "created_from", "sort", "limit"]
        );
    }

    #[test]
    fn limit_is_one_to_five_hundred() {
        assert_eq!(parse("limit=500").unwrap().limit, 500);
        assert_eq!(fields(&parse("limit=0").unwrap_err()), ["limit"]);
        assert_eq!(fields(&parse("limit=501").unwrap_err()), ["limit"]);
    }

    #[test]
    fn the_text_query_is_nfkc_and_escaped_for_like() {
        let query = parse("q=ＶＰＮ　100%").unwrap();
        let text = query.filter.text.unwrap();
        assert_eq!(text.normalised, "VPN 100%");
        assert_eq!(text.like_pattern, "%vpn 100\\%%");
        assert!(
            search_text(["HL-2026-000001", "ＶＰＮ装置が\n  停止", "本駒込クリニック"])
                .contains("vpn装置が 停止")
        );
        assert_eq!(parse("q= \u{3000} ").unwrap().filter.text, None);
    }

    #[test]
    fn unassigned_is_a_value_of_assignee() {
        assert_eq!(parse("assignee=unassigned").unwrap().filter.assignee, Some(AssigneeFilter::Unassigned));
        let id = Uuid::nil();
        assert_eq!(
            parse(&format!("assignee={id}")).unwrap().filter.assignee,
            Some(AssigneeFilter::Token(id))
        );
    }

    #[test]
    fn a_cursor_round_trips_and_must_match_the_sort() {
        let sort = TicketSort { key: SortKey::Due, descending: true };
        let cursor = TicketCursor { sort, value: "1764490000".into(), id: Uuid::nil() };
        let token = cursor.encode();
        assert_eq!(TicketCursor::decode(&token).unwrap(), cursor);
        assert!(TicketCursor::decode("zz").is_err());
        assert!(TicketCursor::decode("616263").is_err());
        let forged = |plain: &str| plain.bytes().map(|b| format!("{b:02x}")).collect::<String>();
        let id = Uuid::nil();
        assert!(TicketCursor::decode(&forged(&format!("created|2026-11-30T01:02:03.000004|{id}"))).is_ok());
        for value in ["created|yesterday", "-due|soon", "priority|P9", "updated|"] {
            assert!(TicketCursor::decode(&forged(&format!("{value}|{id}"))).is_err(), "{value}");
        }
        assert_eq!(parse(&format!("sort=-due&cursor={token}")).unwrap().cursor, Some(cursor));
        assert_eq!(fields(&parse(&format!("sort=due&cursor={token}")).unwrap_err()), ["cursor"]);
    }
}
