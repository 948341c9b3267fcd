//! Incident facts, regulatory deadlines and support-payment claims on both backends: facts are written
//! under the ticket's version lock with an audit event and rewrite the deadlines; deadlines are listed
//! by status and due time and announced once; a claim moves claimed → paid | rejected, supervisors only,
//! one per incident.

use chrono::{DateTime, Duration, TimeZone, Utc};
use diesel::prelude::*;
use hotline_domain::incident_facts::{FactsUpdateForm, FieldPatch, JST};
use hotline_domain::regulatory::{ClockStart, DeadlineKind, DeadlinePolicy, DeadlineStatus, end_of_day};
use hotline_domain::role::Role;
use hotline_domain::support_payment::{
    ClaimAction, ClaimRefusal, ClaimStatus, MemberStanding, PaymentKind, RuleBook,
};
use hotline_storage::queries::audit;
use hotline_storage::queries::change::Change;
use hotline_storage::queries::deadlines::{self, DeadlineFilter};
use hotline_storage::queries::incident_facts::{self, CaseError};
use hotline_storage::queries::support_payments::{self, PaymentFilter, PaymentView};
use hotline_storage::queries::tickets::{self, TicketKey};
use hotline_storage::schema::{calls, support_claims, tickets as tickets_table};
use hotline_storage::{DbConnection, Storage, StorageError, db_time};
use uuid::Uuid;

use crate::helpers;

const OPERATOR: &str = "01900000-0000-7000-8000-00000000a001";
const SUPERVISOR: &str = "01900000-0000-7000-8000-00000000a002";

fn jst(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    JST.with_ymd_and_hms(y, m, d, h, min, 0).single().expect("a JST instant").with_timezone(&Utc)
}

fn id(text: &str) -> Uuid {
    Uuid::parse_str(text).expect("uuid")
}

fn rules() -> RuleBook {
    RuleBook::shipped().expect("shipped rules")
}

/// The two tokens, once per database.
fn seed_tokens(storage: &Storage) {
    storage
        .write(|conn| {
            helpers::insert_token(conn, OPERATOR)?;
            helpers::insert_token(conn, SUPERVISOR)
        })
        .expect("tokens");
}

/// A ticket whose first call (at `first_call_at`) had the given verification outcome.
fn ticket(storage: &Storage, seq: i64, first_call_at: DateTime<Utc>, verification: &str) -> Uuid {
    let ticket_id = Uuid::now_v7();
    let at = db_time(first_call_at);
    storage
        .write(|conn: &mut DbConnection| -> Result<(), StorageError> {
            diesel::insert_into(tickets_table::table)
                .values((
                    tickets_table::id.eq(ticket_id.to_string()),
                    tickets_table::reference.eq(format!("HL-2026-{seq:06}")),
                    tickets_table::ref_year.eq(2026),
                    tickets_table::ref_seq.eq(seq),
                    tickets_table::status.eq("in_progress"),
                    tickets_table::version.eq(1_i64),
                    tickets_table::prefecture.eq("13"),
                    tickets_table::institution_match.eq("本駒込クリニック"),
                    tickets_table::first_call_at.eq(at),
                    tickets_table::summary.eq("ransomware"),
                    tickets_table::created_at.eq(at),
                    tickets_table::updated_at.eq(at),
                    tickets_table::created_by.eq(OPERATOR),
                ))
                .execute(conn)?;
            diesel::insert_into(calls::table)
                .values((
                    calls::id.eq(Uuid::now_v7().to_string()),
                    calls::ticket_id.eq(ticket_id.to_string()),
                    calls::started_at.eq(at),
                    calls::caller_name.eq("山田 花子"),
                    calls::caller_role.eq("staff"),
                    calls::callback_phone.eq("03-1234-5678"),
                    calls::claimed_member_name.eq("山田 太郎"),
                    calls::claimed_institution_name.eq("本駒込クリニック"),
                    calls::claimed_institution_address.eq("東京都文京区本駒込2-28-16"),
                    calls::claimed_prefecture.eq("13"),
                    calls::identifier_kind.eq("member_number"),
                    calls::identifier_value.eq("0123456789"),
                    calls::summary.eq("ransomware"),
                    calls::verification.eq(verification),
                    calls::mismatches.eq("[]"),
                    calls::follow_up.eq(false),
                    calls::created_at.eq(at),
                    calls::created_by.eq(OPERATOR),
                ))
                .execute(conn)?;
            Ok(())
        })
        .expect("ticket with its first call");
    ticket_id
}

fn version(storage: &Storage, ticket_id: Uuid) -> i64 {
    storage
        .read(|conn| tickets::find_header(conn, &TicketKey::Id(ticket_id)))
        .expect("read")
        .expect("ticket")
        .version
}

fn change(storage: &Storage, ticket_id: Uuid, role: Role, now: DateTime<Utc>) -> Change {
    let actor = if role == Role::Operator { id(OPERATOR) } else { id(SUPERVISOR) };
    Change { ticket_id, expected_version: version(storage, ticket_id), actor, role, now }
}

fn record(
    storage: &Storage,
    ticket_id: Uuid,
    form: &FactsUpdateForm<'_>,
    now: DateTime<Utc>,
) -> Result<incident_facts::FactsChange, CaseError> {
    let change = change(storage, ticket_id, Role::Operator, now);
    storage.write(|conn| incident_facts::record(conn, &change, form, &DeadlinePolicy::default()))
}

fn events(storage: &Storage, ticket_id: Uuid) -> Vec<(String, serde_json::Value)> {
    storage
        .read(|conn| audit::list(conn, ticket_id))
        .expect("events")
        .into_iter()
        .map(|record| {
            let changes = serde_json::to_value(&record.event).expect("JSON");
            (record.event.action().as_str().to_owned(), changes)
        })
        .collect()
}

fn view(storage: &Storage, ticket_id: Uuid, now: DateTime<Utc>) -> PaymentView {
    storage
        .read(|conn| {
            let ticket = tickets::find_header(conn, &TicketKey::Id(ticket_id))?.expect("ticket");
            support_payments::view(conn, &ticket, &rules(), now)
        })
        .expect("view")
}

fn ransomware() -> FactsUpdateForm<'static> {
    FactsUpdateForm {
        cause: FieldPatch::Set("cyber_attack"),
        systems_stopped: FieldPatch::Set(true),
        occurred_at: FieldPatch::Set(jst(2026, 11, 2, 7, 0)),
        aware_at: FieldPatch::Set(jst(2026, 11, 2, 8, 0)),
        days_closed: FieldPatch::Set(2),
        mhlw_notified_at: FieldPatch::Set(jst(2026, 11, 2, 15, 0)),
        ..FactsUpdateForm::default()
    }
}

// ------------------------------------------------------------------------------------------------

fn facts_are_recorded_under_the_version_lock_with_an_audit_event(storage: &Storage) {
    seed_tokens(storage);
    let now = jst(2026, 11, 5, 10, 0);
    let ticket_id = ticket(storage, 1, jst(2026, 11, 2, 9, 0), "verified");
    assert_eq!(storage.read(|conn| incident_facts::of_ticket(conn, ticket_id)).expect("read"), None);

    let stale = change(storage, ticket_id, Role::Operator, now);
    let recorded = record(storage, ticket_id, &ransomware(), now).expect("recorded");
    assert_eq!(recorded.ticket.version, 2);
    assert_eq!(
        recorded.changed,
        ["cause", "systems_stopped", "occurred_at", "aware_at", "days_closed", "mhlw_notified_at"]
    );
    let stored =
        storage.read(|conn| incident_facts::of_ticket(conn, ticket_id)).expect("read").expect("facts");
    assert_eq!(stored.facts, recorded.facts);
    assert_eq!((stored.updated_at, stored.updated_by), (now, id(OPERATOR)));
    assert_eq!(stored.facts.days_closed, Some(2));

    // The client's version is now stale: refused, nothing written.
    let refused = storage.write(|conn| {
        incident_facts::record(
            conn,
            &stale,
            &FactsUpdateForm { days_closed: FieldPatch::Set(3), ..FactsUpdateForm::default() },
            &DeadlinePolicy::default(),
        )
    });
    assert!(matches!(refused, Err(CaseError::VersionMismatch { current: 2 })), "{refused:?}");

    // Patch semantics: one fact changes, one is cleared, the rest stays.
    let patch = FactsUpdateForm {
        days_closed: FieldPatch::Set(3),
        systems_stopped: FieldPatch::Clear,
        ..FactsUpdateForm::default()
    };
    let updated = record(storage, ticket_id, &patch, now).expect("patched");
    assert_eq!(updated.ticket.version, 3);
    assert_eq!(updated.changed, ["systems_stopped", "days_closed"]);
    assert_eq!((updated.facts.days_closed, updated.facts.systems_stopped), (Some(3), None));
    assert_eq!(updated.facts.mhlw_notified_at, Some(jst(2026, 11, 2, 15, 0)));

    // Repeating what is recorded writes nothing and keeps the version.
    let same = record(
        storage,
        ticket_id,
        &FactsUpdateForm { days_closed: FieldPatch::Set(3), ..FactsUpdateForm::default() },
        now,
    )
    .expect("no-op");
    assert!(same.changed.is_empty());
    assert_eq!(version(storage, ticket_id), 3);

    // Invalid input: field errors, nothing written.
    let invalid = FactsUpdateForm {
        cause: FieldPatch::Set("ransomware"),
        victims_notified_at: FieldPatch::Set(now + Duration::hours(1)),
        ..FactsUpdateForm::default()
    };
    match record(storage, ticket_id, &invalid, now) {
        Err(CaseError::Invalid(errors)) => {
            let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["cause", "victims_notified_at"]);
        }
        other => panic!("expected field errors, got {other:?}"),
    }
    assert_eq!(version(storage, ticket_id), 3);

    let trail = events(storage, ticket_id);
    let facts_events: Vec<&serde_json::Value> =
        trail.iter().filter(|(action, _)| action == "facts.recorded").map(|(_, changes)| changes).collect();
    assert_eq!(facts_events.len(), 2, "{trail:#?}");
    assert_eq!(facts_events[1]["changed"], serde_json::json!(["systems_stopped", "days_closed"]));
    assert_eq!(
        facts_events[1]["facts"]["before"],
        serde_json::json!({ "systems_stopped": true, "days_closed": 2 })
    );
    assert_eq!(
        facts_events[1]["facts"]["after"],
        serde_json::json!({ "systems_stopped": null, "days_closed": 3 })
    );
    assert_eq!(facts_events[0]["facts"]["after"]["cause"], "cyber_attack");

    // An unknown ticket.
    let missing = Change {
        ticket_id: Uuid::now_v7(),
        expected_version: 1,
        actor: id(OPERATOR),
        role: Role::Operator,
        now,
    };
    let result = storage
        .write(|conn| incident_facts::record(conn, &missing, &ransomware(), &DeadlinePolicy::default()));
    assert!(matches!(result, Err(CaseError::NotFound)), "{result:?}");
}

#[test]
fn sqlite_facts_are_recorded_under_the_version_lock_with_an_audit_event() {
    facts_are_recorded_under_the_version_lock_with_an_audit_event(&helpers::sqlite().storage);
}

#[test]
fn postgres_facts_are_recorded_under_the_version_lock_with_an_audit_event() {
    if let Some(db) = helpers::postgres() {
        facts_are_recorded_under_the_version_lock_with_an_audit_event(&db.storage);
    }
}

// ------------------------------------------------------------------------------------------------

fn kinds_and_dates(records: &[deadlines::DeadlineRecord]) -> Vec<(DeadlineKind, String, DeadlineStatus)> {
    records.iter().map(|r| (r.kind, r.due_date.to_string(), r.status)).collect()
}

fn deadlines_follow_the_facts_and_are_listed_by_status_and_due_time(storage: &Storage) {
    seed_tokens(storage);
    // The acceptance case: a leak noticed on 2026-12-28 10:00 JST.
    let leak = ticket(storage, 1, jst(2026, 12, 28, 11, 0), "verified");
    let attack = ticket(storage, 2, jst(2026, 12, 20, 9, 0), "verified");
    let quiet = ticket(storage, 3, jst(2026, 12, 20, 9, 0), "verified");
    let now = jst(2026, 12, 28, 12, 0);
    let noticed = jst(2026, 12, 28, 10, 0);
    record(
        storage,
        leak,
        &FactsUpdateForm {
            cause: FieldPatch::Set("leak_not_attack"),
            personal_data_leak: FieldPatch::Set("confirmed"),
            aware_at: FieldPatch::Set(noticed),
            ..FactsUpdateForm::default()
        },
        now,
    )
    .expect("leak facts");
    let of =
        |ticket_id, at| storage.read(|conn| deadlines::of_ticket(conn, ticket_id, at)).expect("deadlines");
    assert_eq!(
        kinds_and_dates(&of(leak, now)),
        [
            (DeadlineKind::PpcPreliminaryReport, "2027-01-02".to_owned(), DeadlineStatus::Due),
            (DeadlineKind::PpcFinalReport, "2027-01-27".to_owned(), DeadlineStatus::Due),
        ]
    );
    let preliminary = &of(leak, now)[0];
    assert_eq!(
        (preliminary.clock_start, preliminary.starts_at, preliminary.period_days),
        (ClockStart::AwareAt, noticed, 5)
    );
    assert_eq!(preliminary.due_at, end_of_day("2027-01-02".parse().expect("date")));
    assert_eq!(preliminary.ticket_reference, "HL-2026-000001");

    // Found to be an attack: 60 days, and the MHLW report (counted from the first call: no awareness).
    record(
        storage,
        attack,
        &FactsUpdateForm {
            cause: FieldPatch::Set("cyber_attack"),
            personal_data_leak: FieldPatch::Set("possible"),
            ..FactsUpdateForm::default()
        },
        now,
    )
    .expect("attack facts");
    let attack_deadlines = of(attack, now);
    assert_eq!(
        kinds_and_dates(&attack_deadlines),
        [
            (DeadlineKind::MhlwReport, "2026-12-21".to_owned(), DeadlineStatus::Overdue),
            (DeadlineKind::PpcPreliminaryReport, "2026-12-25".to_owned(), DeadlineStatus::Overdue),
            (DeadlineKind::PpcFinalReport, "2027-02-18".to_owned(), DeadlineStatus::Due),
        ]
    );
    assert!(attack_deadlines.iter().all(|d| d.clock_start == ClockStart::FirstCall));
    record(
        storage,
        quiet,
        &FactsUpdateForm { cause: FieldPatch::Set("other"), ..FactsUpdateForm::default() },
        now,
    )
    .expect("no deadlines");
    assert!(of(quiet, now).is_empty());

    // Lists across tickets: by status at `now`, by due time and by kind, earliest first.
    let list = |filter: DeadlineFilter, at| {
        storage.read(|conn| deadlines::list(conn, &filter, at, 100)).expect("list")
    };
    let tickets_of = |records: &[deadlines::DeadlineRecord]| {
        records.iter().map(|r| (r.ticket_id, r.kind)).collect::<Vec<_>>()
    };
    assert_eq!(list(DeadlineFilter::default(), now).len(), 5);
    assert_eq!(
        tickets_of(&list(
            DeadlineFilter { status: Some(DeadlineStatus::Overdue), ..DeadlineFilter::default() },
            now
        )),
        [(attack, DeadlineKind::MhlwReport), (attack, DeadlineKind::PpcPreliminaryReport)]
    );
    assert_eq!(
        tickets_of(&list(
            DeadlineFilter { status: Some(DeadlineStatus::Due), ..DeadlineFilter::default() },
            now
        )),
        [
            (leak, DeadlineKind::PpcPreliminaryReport),
            (leak, DeadlineKind::PpcFinalReport),
            (attack, DeadlineKind::PpcFinalReport)
        ]
    );
    let due_by_3rd = DeadlineFilter {
        status: Some(DeadlineStatus::Due),
        due_before: Some(jst(2027, 1, 3, 0, 0)),
        ..DeadlineFilter::default()
    };
    assert_eq!(tickets_of(&list(due_by_3rd, now)), [(leak, DeadlineKind::PpcPreliminaryReport)]);
    let not_yet = DeadlineFilter { due_before: Some(jst(2027, 1, 2, 23, 59)), ..due_by_3rd };
    assert!(list(not_yet, now).is_empty(), "due at the end of 2027-01-02, not before 23:59");
    let finals = DeadlineFilter { kind: Some(DeadlineKind::PpcFinalReport), ..DeadlineFilter::default() };
    assert_eq!(
        tickets_of(&list(finals, now)),
        [(leak, DeadlineKind::PpcFinalReport), (attack, DeadlineKind::PpcFinalReport)]
    );
    // Overdue from 00:00 JST after the due date, exactly.
    let last_second = jst(2027, 1, 2, 23, 59) + Duration::seconds(59);
    let overdue = DeadlineFilter { status: Some(DeadlineStatus::Overdue), ..DeadlineFilter::default() };
    assert!(!tickets_of(&list(overdue, last_second)).contains(&(leak, DeadlineKind::PpcPreliminaryReport)));
    assert!(
        tickets_of(&list(overdue, jst(2027, 1, 3, 0, 0)))
            .contains(&(leak, DeadlineKind::PpcPreliminaryReport))
    );

    // The announcement hook: due on the morning of the last day, announced once.
    let morning = jst(2027, 1, 2, 0, 5);
    let today_end = end_of_day("2027-01-02".parse().expect("date"));
    let announce =
        |at| storage.read(|conn| deadlines::unannounced_due_by(conn, today_end, at, 100)).expect("hook");
    assert_eq!(
        tickets_of(&announce(morning)),
        [
            (attack, DeadlineKind::MhlwReport),
            (attack, DeadlineKind::PpcPreliminaryReport),
            (leak, DeadlineKind::PpcPreliminaryReport)
        ]
    );
    let marked = storage
        .write(|conn| deadlines::mark_announced(conn, leak, DeadlineKind::PpcPreliminaryReport, morning))
        .expect("mark");
    assert!(marked);
    assert_eq!(announce(morning).len(), 2);
    assert!(
        !storage
            .write(|conn| deadlines::mark_announced(conn, quiet, DeadlineKind::MhlwReport, morning))
            .expect("mark")
    );
    assert!(
        !storage
            .write(|conn| deadlines::mark_announced(conn, leak, DeadlineKind::PpcPreliminaryReport, morning))
            .expect("mark"),
        "announced already"
    );
    // announce_due: the two left, each once, as a deadline.due event on its ticket.
    let announce_due = || {
        storage
            .write(|conn| deadlines::announce_due(conn, id(SUPERVISOR), today_end, morning, 100))
            .expect("announce")
    };
    let announced = announce_due();
    assert_eq!(
        tickets_of(&announced),
        [(attack, DeadlineKind::MhlwReport), (attack, DeadlineKind::PpcPreliminaryReport)]
    );
    assert!(announced.iter().all(|d| d.announced_at == Some(morning)));
    assert!(announce_due().is_empty(), "announced once");
    let due_events: Vec<serde_json::Value> = events(storage, attack)
        .into_iter()
        .filter(|(action, _)| action == "deadline.due")
        .map(|(_, changes)| changes)
        .collect();
    assert_eq!(due_events.len(), 2);
    assert_eq!(due_events[0]["kind"], "mhlw_report");
    assert_eq!(
        (&due_events[0]["due_date"], &due_events[0]["deadline_status"]),
        (&serde_json::json!("2026-12-21"), &serde_json::json!("overdue")),
        "missed long ago, never announced: announced now, as overdue"
    );
    assert_eq!(due_events[1]["kind"], "ppc_preliminary_report");

    // Reports recorded: done; moving the awareness moves the due date and re-arms the announcement.
    record(
        storage,
        leak,
        &FactsUpdateForm {
            ppc_preliminary_report_at: FieldPatch::Set(jst(2026, 12, 30, 9, 0)),
            ..FactsUpdateForm::default()
        },
        jst(2026, 12, 30, 10, 0),
    )
    .expect("report");
    let done = DeadlineFilter { status: Some(DeadlineStatus::Done), ..DeadlineFilter::default() };
    assert_eq!(tickets_of(&list(done, jst(2027, 1, 5, 0, 0))), [(leak, DeadlineKind::PpcPreliminaryReport)]);
    record(
        storage,
        leak,
        &FactsUpdateForm {
            aware_at: FieldPatch::Set(jst(2026, 12, 27, 10, 0)),
            ppc_preliminary_report_at: FieldPatch::Clear,
            ..FactsUpdateForm::default()
        },
        jst(2026, 12, 30, 10, 0),
    )
    .expect("earlier awareness");
    let moved = of(leak, jst(2026, 12, 30, 10, 0));
    assert_eq!(moved[0].due_date.to_string(), "2027-01-01");
    assert_eq!(moved[0].announced_at, None, "a moved deadline is announced again");

    // No leak after all: the PPC deadlines go.
    record(
        storage,
        leak,
        &FactsUpdateForm {
            cause: FieldPatch::Set("other"),
            personal_data_leak: FieldPatch::Set("no"),
            ..FactsUpdateForm::default()
        },
        jst(2026, 12, 30, 10, 0),
    )
    .expect("no leak");
    assert!(of(leak, now).is_empty());

    // Changed periods apply to stored deadlines at the next resync.
    let longer = DeadlinePolicy { ppc_final_wrongful_intent_days: 90, ..DeadlinePolicy::default() };
    let report = storage.write(|conn| incident_facts::resync_deadlines(conn, &longer, now)).expect("resync");
    assert_eq!((report.tickets, report.changed), (3, 1));
    assert_eq!(of(attack, now)[2].due_date.to_string(), "2027-03-20");
    let again = storage.write(|conn| incident_facts::resync_deadlines(conn, &longer, now)).expect("resync");
    assert_eq!(again.changed, 0);
}

#[test]
fn sqlite_deadlines_follow_the_facts_and_are_listed_by_status_and_due_time() {
    deadlines_follow_the_facts_and_are_listed_by_status_and_due_time(&helpers::sqlite().storage);
}

#[test]
fn postgres_deadlines_follow_the_facts_and_are_listed_by_status_and_due_time() {
    if let Some(db) = helpers::postgres() {
        deadlines_follow_the_facts_and_are_listed_by_status_and_due_time(&db.storage);
    }
}

// ------------------------------------------------------------------------------------------------

fn claim(
    storage: &Storage,
    ticket_id: Uuid,
    role: Role,
    payment: PaymentKind,
    now: DateTime<Utc>,
) -> Result<support_payments::ClaimChange, CaseError> {
    let change = change(storage, ticket_id, role, now);
    storage.write(|conn| support_payments::claim(conn, &change, payment, &rules()))
}

fn refusal(result: Result<support_payments::ClaimChange, CaseError>) -> ClaimRefusal {
    match result {
        Err(CaseError::Refused(refusal)) => refusal,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn a_claim_moves_from_ready_to_claimed_to_paid_or_rejected(storage: &Storage) {
    seed_tokens(storage);
    let now = jst(2026, 11, 10, 10, 0);
    let ransomware_ticket = ticket(storage, 1, jst(2026, 11, 2, 9, 0), "verified");
    record(storage, ransomware_ticket, &ransomware(), now).expect("facts");

    // The acceptance case: ¥150,000, ready to claim.
    let ready = view(storage, ransomware_ticket, now);
    assert_eq!((ready.status, ready.standing), (ClaimStatus::ReadyToClaim, MemberStanding::Confirmed));
    assert_eq!(
        (ready.assessment.payment, ready.assessment.amount_yen),
        (Some(PaymentKind::CyberAttack), 150_000)
    );
    assert_eq!(ready.claim, None);

    // Operators may not claim; the refusal comes before the version check.
    let stale_operator =
        Change { expected_version: 1, ..change(storage, ransomware_ticket, Role::Operator, now) };
    let result = storage
        .write(|conn| support_payments::claim(conn, &stale_operator, PaymentKind::CyberAttack, &rules()));
    assert_eq!(
        refusal(result),
        ClaimRefusal::Forbidden { action: ClaimAction::Claim, required: Role::Supervisor }
    );
    // The other payment does not apply.
    let wrong =
        refusal(claim(storage, ransomware_ticket, Role::Supervisor, PaymentKind::PersonalDataLeak, now));
    assert_eq!(
        wrong,
        ClaimRefusal::WrongPayment {
            requested: PaymentKind::PersonalDataLeak,
            applicable: Some(PaymentKind::CyberAttack)
        }
    );

    let claimed =
        claim(storage, ransomware_ticket, Role::Supervisor, PaymentKind::CyberAttack, now).expect("claimed");
    assert_eq!(claimed.ticket.version, 3);
    assert_eq!(
        (
            claimed.claim.status,
            claimed.claim.payment,
            claimed.claim.amount_yen,
            claimed.claim.rule_set.to_string()
        ),
        (ClaimStatus::Claimed, PaymentKind::CyberAttack, 150_000, "2022-06-01".to_owned())
    );
    assert_eq!((claimed.claim.claimed_at, claimed.claim.claimed_by), (now, id(SUPERVISOR)));
    assert_eq!(view(storage, ransomware_ticket, now).status, ClaimStatus::Claimed);

    // A second claim, for the same payment or the other one, is refused.
    assert_eq!(
        refusal(claim(storage, ransomware_ticket, Role::Supervisor, PaymentKind::CyberAttack, now)),
        ClaimRefusal::AlreadyClaimed { payment: PaymentKind::CyberAttack, status: ClaimStatus::Claimed }
    );
    assert!(matches!(
        refusal(claim(storage, ransomware_ticket, Role::Supervisor, PaymentKind::PersonalDataLeak, now)),
        ClaimRefusal::OtherPaymentClaimed { claimed: PaymentKind::CyberAttack, .. }
    ));
    // Later facts do not move a recorded claim.
    record(
        storage,
        ransomware_ticket,
        &FactsUpdateForm { insider_finding: FieldPatch::Set(true), ..FactsUpdateForm::default() },
        now,
    )
    .expect("insider found later");
    let later = view(storage, ransomware_ticket, now);
    assert_eq!((later.status, later.assessment.status), (ClaimStatus::Claimed, ClaimStatus::NotApplicable));

    let pay = change(storage, ransomware_ticket, Role::Supervisor, now + Duration::days(30));
    let paid = storage.write(|conn| support_payments::mark_paid(conn, &pay, &rules())).expect("paid");
    assert_eq!((paid.claim.status, paid.claim.decided_by), (ClaimStatus::Paid, Some(id(SUPERVISOR))));
    let again = change(storage, ransomware_ticket, Role::Supervisor, now);
    let result = storage.write(|conn| support_payments::reject(conn, &again, "重複", &rules()));
    assert_eq!(
        refusal(result),
        ClaimRefusal::Invalid { from: ClaimStatus::Paid, action: ClaimAction::Reject, allowed: vec![] }
    );

    let trail = events(storage, ransomware_ticket);
    let claim_events: Vec<(&str, &serde_json::Value)> = trail
        .iter()
        .filter(|(action, _)| action.starts_with("support_payment."))
        .map(|(action, changes)| (action.as_str(), &changes["status"]))
        .collect();
    assert_eq!(
        claim_events,
        [
            (
                "support_payment.claimed",
                &serde_json::json!({ "before": "ready_to_claim", "after": "claimed" })
            ),
            ("support_payment.paid", &serde_json::json!({ "before": "claimed", "after": "paid" })),
        ]
    );

    // A fax leak: pending until the victims are notified, then claimed and rejected with a reason.
    let fax = ticket(storage, 2, jst(2026, 11, 3, 9, 0), "verified");
    record(
        storage,
        fax,
        &FactsUpdateForm {
            cause: FieldPatch::Set("leak_not_attack"),
            personal_data_leak: FieldPatch::Set("confirmed"),
            occurred_at: FieldPatch::Set(jst(2026, 11, 3, 8, 0)),
            ppc_final_report_at: FieldPatch::Set(jst(2026, 11, 9, 8, 0)),
            ..FactsUpdateForm::default()
        },
        now,
    )
    .expect("fax facts");
    let pending = view(storage, fax, now);
    assert_eq!((pending.status, pending.assessment.amount_yen), (ClaimStatus::PendingRequirements, 50_000));
    assert_eq!(pending.assessment.missing(), ["victims_notified"]);
    assert!(matches!(
        refusal(claim(storage, fax, Role::Supervisor, PaymentKind::PersonalDataLeak, now)),
        ClaimRefusal::NotReady { status: ClaimStatus::PendingRequirements, .. }
    ));
    record(
        storage,
        fax,
        &FactsUpdateForm {
            victims_notified_at: FieldPatch::Set(jst(2026, 11, 9, 9, 0)),
            ..FactsUpdateForm::default()
        },
        now,
    )
    .expect("victims notified");
    claim(storage, fax, Role::Supervisor, PaymentKind::PersonalDataLeak, now).expect("claimed");
    let reject = change(storage, fax, Role::Supervisor, now);
    match storage.write(|conn| support_payments::reject(conn, &reject, "  ", &rules())) {
        Err(CaseError::Invalid(errors)) => assert_eq!(errors.0[0].field, "reason"),
        other => panic!("a rejection needs a reason, got {other:?}"),
    }
    let rejected = storage
        .write(|conn| support_payments::reject(conn, &reject, "再発防止策の報告書が未提出", &rules()))
        .expect("rejected");
    assert_eq!(rejected.claim.status, ClaimStatus::Rejected);
    assert_eq!(rejected.claim.rejection_reason.as_deref(), Some("再発防止策の報告書が未提出"));
    assert!(matches!(
        refusal(claim(storage, fax, Role::Supervisor, PaymentKind::PersonalDataLeak, now)),
        ClaimRefusal::AlreadyClaimed { status: ClaimStatus::Rejected, .. }
    ));
    let last = events(storage, fax).pop().expect("event");
    assert_eq!(last.0, "support_payment.rejected");
    assert_eq!(last.1["reason"], "再発防止策の報告書が未提出");

    // The database itself refuses a second claim row for a ticket.
    let duplicate = storage.write(|conn| -> Result<usize, StorageError> {
        Ok(diesel::insert_into(support_claims::table)
            .values((
                support_claims::id.eq(Uuid::now_v7().to_string()),
                support_claims::ticket_id.eq(fax.to_string()),
                support_claims::payment.eq("cyber_attack"),
                support_claims::status.eq("claimed"),
                support_claims::amount_yen.eq(100_000_i64),
                support_claims::rule_set.eq("2022-06-01"),
                support_claims::claimed_at.eq(db_time(now)),
                support_claims::claimed_by.eq(SUPERVISOR),
            ))
            .execute(conn)?)
    });
    assert!(matches!(duplicate, Err(StorageError::Conflict(_))), "{duplicate:?}");
}

#[test]
fn sqlite_a_claim_moves_from_ready_to_claimed_to_paid_or_rejected() {
    a_claim_moves_from_ready_to_claimed_to_paid_or_rejected(&helpers::sqlite().storage);
}

#[test]
fn postgres_a_claim_moves_from_ready_to_claimed_to_paid_or_rejected() {
    if let Some(db) = helpers::postgres() {
        a_claim_moves_from_ready_to_claimed_to_paid_or_rejected(&db.storage);
    }
}

// ------------------------------------------------------------------------------------------------

fn payments_are_listed_by_recorded_and_derived_status(storage: &Storage) {
    seed_tokens(storage);
    let now = jst(2026, 11, 20, 10, 0);
    // Oldest first: ready (verified), pending (mismatch, not confirmed), not applicable (insider),
    // not applicable (ineligible member), claimed, and one ticket without facts (never listed).
    let ready = ticket(storage, 1, jst(2026, 11, 1, 9, 0), "verified");
    let unconfirmed = ticket(storage, 2, jst(2026, 11, 2, 9, 0), "mismatch");
    let insider = ticket(storage, 3, jst(2026, 11, 3, 9, 0), "verified");
    let ineligible = ticket(storage, 4, jst(2026, 11, 4, 9, 0), "ineligible");
    let claimed = ticket(storage, 5, jst(2026, 11, 5, 9, 0), "verified");
    let _no_facts = ticket(storage, 6, jst(2026, 11, 6, 9, 0), "verified");
    let early = ticket(storage, 7, jst(2026, 11, 7, 9, 0), "verified");
    for ticket_id in [ready, unconfirmed, insider, ineligible, claimed] {
        record(storage, ticket_id, &ransomware(), now).expect("facts");
    }
    record(
        storage,
        insider,
        &FactsUpdateForm { insider_finding: FieldPatch::Set(true), ..FactsUpdateForm::default() },
        now,
    )
    .expect("insider");
    record(
        storage,
        early,
        &FactsUpdateForm {
            occurred_at: FieldPatch::Set(jst(2022, 5, 31, 12, 0)),
            aware_at: FieldPatch::Set(jst(2022, 5, 31, 13, 0)),
            mhlw_notified_at: FieldPatch::Set(jst(2022, 5, 31, 15, 0)),
            ..ransomware()
        },
        now,
    )
    .expect("an incident of 2022-05-31");
    claim(storage, claimed, Role::Supervisor, PaymentKind::CyberAttack, now).expect("claimed");

    let list = |status: Option<ClaimStatus>| -> Vec<(Uuid, ClaimStatus)> {
        storage
            .read(|conn| support_payments::list(conn, &PaymentFilter { status }, &rules(), now, 100))
            .expect("list")
            .into_iter()
            .map(|view| (view.ticket_id, view.status))
            .collect()
    };
    assert_eq!(
        list(None),
        [
            (ready, ClaimStatus::ReadyToClaim),
            (unconfirmed, ClaimStatus::PendingRequirements),
            (insider, ClaimStatus::NotApplicable),
            (ineligible, ClaimStatus::NotApplicable),
            (claimed, ClaimStatus::Claimed),
            (early, ClaimStatus::NotApplicable),
        ]
    );
    assert_eq!(list(Some(ClaimStatus::ReadyToClaim)), [(ready, ClaimStatus::ReadyToClaim)]);
    assert_eq!(list(Some(ClaimStatus::Claimed)), [(claimed, ClaimStatus::Claimed)]);
    assert!(list(Some(ClaimStatus::Paid)).is_empty());
    assert_eq!(
        list(Some(ClaimStatus::NotApplicable)),
        [
            (insider, ClaimStatus::NotApplicable),
            (ineligible, ClaimStatus::NotApplicable),
            (early, ClaimStatus::NotApplicable)
        ]
    );

    let pending = view(storage, unconfirmed, now);
    assert_eq!(pending.standing, MemberStanding::Unconfirmed);
    assert_eq!(pending.assessment.missing(), ["member_institution_confirmed"]);
    let excluded = view(storage, ineligible, now);
    assert_eq!(excluded.assessment.applying_exclusions(), ["not_member_institution"]);
    let before_scheme = view(storage, early, now);
    assert_eq!(before_scheme.assessment.applying_exclusions(), ["incident_before_scheme"]);
    let insider_view = view(storage, insider, now);
    assert_eq!(
        insider_view.assessment.summary.en,
        "Not eligible: cases caused by an insider (内部犯罪) are not paid"
    );

    // A supervisor's confirmation of the caller makes the pending ticket ready.
    storage
        .write(|conn| -> Result<usize, StorageError> {
            Ok(diesel::update(tickets_table::table.find(unconfirmed.to_string()))
                .set(tickets_table::caller_confirmed_at.eq(db_time(now)))
                .execute(conn)?)
        })
        .expect("confirm");
    assert_eq!(view(storage, unconfirmed, now).status, ClaimStatus::ReadyToClaim);
    assert_eq!(
        list(Some(ClaimStatus::ReadyToClaim)),
        [(ready, ClaimStatus::ReadyToClaim), (unconfirmed, ClaimStatus::ReadyToClaim)]
    );
    let limited = storage
        .read(|conn| support_payments::list(conn, &PaymentFilter::default(), &rules(), now, 2))
        .expect("list");
    assert_eq!(limited.iter().map(|v| v.ticket_id).collect::<Vec<_>>(), [ready, unconfirmed]);
}

#[test]
fn sqlite_payments_are_listed_by_recorded_and_derived_status() {
    payments_are_listed_by_recorded_and_derived_status(&helpers::sqlite().storage);
}

#[test]
fn postgres_payments_are_listed_by_recorded_and_derived_status() {
    if let Some(db) = helpers::postgres() {
        payments_are_listed_by_recorded_and_derived_status(&db.storage);
    }
}
