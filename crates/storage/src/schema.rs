//! Diesel table definitions shared by SQLite and PostgreSQL.
//!
//! Hand-maintained, not generated: only portable SQL types appear here (Text for ids, enums and codes,
//! Timestamp for UTC instants, Bool, Integer, BigInt) so that one schema serves both backends through
//! [`crate::DbConnection`]. Keep it in step with `migrations/sqlite` and `migrations/postgres`; the
//! `migrations_match` test compares the two migration sets column by column.

diesel::table! {
    /// Member institutions from the association's registry.
    institutions (id) {
        id -> Text,
        institution_key -> Text,
        name -> Text,
        name_search -> Text,
        kind -> Text,
        prefecture -> Text,
        postal_code -> Text,
        address -> Text,
        phone -> Text,
        institution_code -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Individual members (physicians) from the association's registry.
    members (id) {
        id -> Text,
        member_number -> Text,
        registration_number -> Nullable<Text>,
        name -> Text,
        kana -> Nullable<Text>,
        name_search -> Text,
        member_class -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Which member belongs to which institution, and in what role.
    member_institutions (member_id, institution_id) {
        member_id -> Text,
        institution_id -> Text,
        role -> Text,
        ends_on -> Nullable<Text>,
    }
}

diesel::table! {
    /// The periods each member was on the roster (YYYY-MM-DD local days; `ends_on` exclusive): a
    /// full-snapshot import ends the open period of a member it no longer lists, a later one re-opens.
    membership_periods (id) {
        id -> Text,
        member_id -> Text,
        starts_on -> Nullable<Text>,
        ends_on -> Nullable<Text>,
    }
}

diesel::table! {
    /// What operators search the registry by: one row per member–institution link with normalised keys,
    /// under a trigram index (FTS5 on SQLite, pg_trgm GIN on PostgreSQL; see its migration).
    registry_search (id) {
        id -> Integer,
        member_id -> Text,
        institution_id -> Text,
        member_name -> Text,
        member_number -> Text,
        name_key -> Text,
        kana_key -> Text,
        institution_name_key -> Text,
        address_key -> Text,
        phone -> Text,
    }
}

diesel::table! {
    /// API bearer tokens; only the hash of each token is stored.
    api_tokens (id) {
        id -> Text,
        name -> Text,
        role -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        created_by -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Last issued ticket sequence number per year (gap-free references).
    ticket_counters (year) {
        year -> Integer,
        last_seq -> BigInt,
    }
}

diesel::table! {
    /// Incident tickets.
    tickets (id) {
        id -> Text,
        reference -> Text,
        ref_year -> Integer,
        ref_seq -> BigInt,
        status -> Text,
        version -> BigInt,
        member_id -> Nullable<Text>,
        institution_id -> Nullable<Text>,
        prefecture -> Text,
        institution_match -> Text,
        first_call_at -> Timestamp,
        summary -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by -> Text,
        priority -> Nullable<Text>,
        assignee_token_id -> Nullable<Text>,
        first_response_at -> Nullable<Timestamp>,
        resolved_at -> Nullable<Timestamp>,
        resolution_summary -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        caller_confirmed_at -> Nullable<Timestamp>,
        caller_confirmed_by -> Nullable<Text>,
        /// What `q` of the ticket list searches: NFKC, lower case, one part per line.
        search_text -> Text,
    }
}

diesel::table! {
    /// Phone calls recorded against a ticket.
    calls (id) {
        id -> Text,
        ticket_id -> Text,
        started_at -> Timestamp,
        caller_name -> Text,
        caller_role -> Text,
        callback_phone -> Text,
        claimed_member_name -> Text,
        claimed_institution_name -> Text,
        claimed_institution_address -> Text,
        claimed_prefecture -> Text,
        identifier_kind -> Text,
        identifier_value -> Text,
        summary -> Text,
        verification -> Text,
        mismatches -> Text,
        member_id -> Nullable<Text>,
        institution_id -> Nullable<Text>,
        follow_up -> Bool,
        created_at -> Timestamp,
        created_by -> Text,
        ineligible_reason -> Nullable<Text>,
    }
}

diesel::table! {
    /// Append-only audit log of ticket changes (database triggers refuse UPDATE and DELETE).
    ticket_events (id) {
        id -> Text,
        ticket_id -> Text,
        occurred_at -> Timestamp,
        actor_token_id -> Text,
        action -> Text,
        /// JSON text.
        changes -> Text,
    }
}

diesel::table! {
    /// The free text of audit events, beside the event (append-only except for the anonymisation
    /// marker), so that retention and erasure can replace it.
    ticket_event_texts (event_id, field) {
        event_id -> Text,
        field -> Text,
        ticket_id -> Text,
        body -> Text,
    }
}

diesel::table! {
    /// Links between related tickets.
    ticket_links (ticket_id, related_ticket_id) {
        ticket_id -> Text,
        related_ticket_id -> Text,
        reason -> Text,
    }
}

diesel::table! {
    /// Stored responses for `Idempotency-Key` replays, per token.
    idempotency_keys (token_id, idempotency_key) {
        token_id -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        status_code -> Integer,
        response_body -> Text,
        location -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// The current triage of a ticket (history is in ticket_events).
    ticket_triage (ticket_id) {
        ticket_id -> Text,
        category -> Text,
        incident_kind -> Text,
        suggested_priority -> Text,
        priority -> Text,
        priority_reason -> Nullable<Text>,
        decline_reason -> Nullable<Text>,
        detected_at -> Nullable<Timestamp>,
        occurred_at -> Nullable<Timestamp>,
        /// JSON array of strings.
        systems_affected -> Text,
        emr_unusable -> Bool,
        care_suspended -> Bool,
        personal_data_leaked -> Bool,
        people_affected -> Nullable<BigInt>,
        insider_suspected -> Bool,
        triaged_at -> Timestamp,
        triaged_by -> Text,
    }
}

diesel::table! {
    /// Append-only notes on a ticket (database triggers refuse UPDATE and DELETE).
    ticket_notes (id) {
        id -> Text,
        ticket_id -> Text,
        body -> Text,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    /// Promised callbacks (折り返し) and when a follow-up call completed them.
    callbacks (id) {
        id -> Text,
        ticket_id -> Text,
        promised_at -> Timestamp,
        due_at -> Timestamp,
        note -> Nullable<Text>,
        created_at -> Timestamp,
        created_by -> Text,
        completed_at -> Nullable<Timestamp>,
        completed_by_call_id -> Nullable<Text>,
    }
}

diesel::table! {
    /// Referral partners: forensic vendors, law firms and the prefectural police cyber desks.
    partners (id) {
        id -> Text,
        kind -> Text,
        name -> Text,
        /// JSON array of addresses.
        emails -> Text,
        phone -> Nullable<Text>,
        nationwide -> Bool,
        /// JSON office hours; NULL means the defaults for the partner's kind.
        office_hours -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Prefectures a partner covers (police desks: exactly one).
    partner_prefectures (partner_id, prefecture) {
        partner_id -> Text,
        prefecture -> Text,
    }
}

diesel::table! {
    /// Referrals of tickets to partners, each with the member's consent and its own lifecycle.
    referrals (id) {
        id -> Text,
        ticket_id -> Text,
        partner_id -> Text,
        kind -> Text,
        status -> Text,
        consent_given_by -> Text,
        consent_name -> Text,
        consent_given_at -> Timestamp,
        request_note -> Nullable<Text>,
        requested_at -> Timestamp,
        requested_by -> Text,
        accepted_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        ended_at -> Nullable<Timestamp>,
        last_note -> Nullable<Text>,
        police_receipt_number -> Nullable<Text>,
        police_contact -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Alerts waiting for delivery, being delivered, sent or failed (the transactional outbox).
    outbox (id) {
        id -> Text,
        channel -> Text,
        alert_kind -> Text,
        ticket_id -> Text,
        referral_id -> Nullable<Text>,
        partner_id -> Nullable<Text>,
        recipient -> Text,
        message_id -> Text,
        subject -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        max_attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        webhook_endpoint -> Nullable<Text>,
    }
}

diesel::table! {
    /// Webhook endpoints of the desk software, as configured (without their secrets).
    webhook_endpoints (name) {
        name -> Text,
        url -> Text,
        events -> Text,
        max_attempts -> Integer,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// The facts of an incident that decide its support payment and its regulatory deadlines.
    incident_facts (ticket_id) {
        ticket_id -> Text,
        cause -> Nullable<Text>,
        personal_data_leak -> Nullable<Text>,
        systems_stopped -> Nullable<Bool>,
        occurred_at -> Nullable<Timestamp>,
        aware_at -> Nullable<Timestamp>,
        days_closed -> Nullable<Integer>,
        mhlw_notified_at -> Nullable<Timestamp>,
        ppc_preliminary_report_at -> Nullable<Timestamp>,
        ppc_final_report_at -> Nullable<Timestamp>,
        victims_notified_at -> Nullable<Timestamp>,
        insider_finding -> Nullable<Bool>,
        updated_at -> Timestamp,
        updated_by -> Text,
    }
}

diesel::table! {
    /// The one support-payment claim an incident may have (history in ticket_events).
    support_claims (id) {
        id -> Text,
        ticket_id -> Text,
        payment -> Text,
        status -> Text,
        amount_yen -> BigInt,
        rule_set -> Text,
        claimed_at -> Timestamp,
        claimed_by -> Text,
        decided_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Text>,
        rejection_reason -> Nullable<Text>,
    }
}

diesel::table! {
    /// Regulatory deadlines computed from the incident facts, rewritten whenever they change.
    regulatory_deadlines (ticket_id, kind) {
        ticket_id -> Text,
        kind -> Text,
        clock_start -> Text,
        starts_at -> Timestamp,
        period_days -> Integer,
        due_date -> Text,
        due_at -> Timestamp,
        done_at -> Nullable<Timestamp>,
        announced_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Who read which ticket's personal data, and when (purged after `privacy.access_log_days`).
    personal_data_access (id) {
        id -> Text,
        token_id -> Text,
        ticket_id -> Text,
        what -> Text,
        read_at -> Timestamp,
    }
}

diesel::joinable!(member_institutions -> members (member_id));
diesel::joinable!(member_institutions -> institutions (institution_id));
diesel::joinable!(membership_periods -> members (member_id));
diesel::joinable!(registry_search -> members (member_id));
diesel::joinable!(registry_search -> institutions (institution_id));
diesel::joinable!(tickets -> members (member_id));
diesel::joinable!(tickets -> institutions (institution_id));
diesel::joinable!(tickets -> api_tokens (created_by));
diesel::joinable!(calls -> tickets (ticket_id));
diesel::joinable!(calls -> members (member_id));
diesel::joinable!(calls -> institutions (institution_id));
diesel::joinable!(calls -> api_tokens (created_by));
diesel::joinable!(ticket_events -> tickets (ticket_id));
diesel::joinable!(ticket_events -> api_tokens (actor_token_id));
diesel::joinable!(ticket_links -> tickets (ticket_id));
diesel::joinable!(ticket_triage -> tickets (ticket_id));
diesel::joinable!(ticket_notes -> tickets (ticket_id));
diesel::joinable!(ticket_notes -> api_tokens (created_by));
diesel::joinable!(callbacks -> tickets (ticket_id));
diesel::joinable!(partner_prefectures -> partners (partner_id));
diesel::joinable!(referrals -> tickets (ticket_id));
diesel::joinable!(referrals -> partners (partner_id));
diesel::joinable!(outbox -> tickets (ticket_id));
diesel::joinable!(outbox -> webhook_endpoints (webhook_endpoint));
diesel::joinable!(incident_facts -> tickets (ticket_id));
diesel::joinable!(support_claims -> tickets (ticket_id));
diesel::joinable!(regulatory_deadlines -> tickets (ticket_id));
diesel::joinable!(personal_data_access -> tickets (ticket_id));
diesel::joinable!(personal_data_access -> api_tokens (token_id));
diesel::joinable!(ticket_event_texts -> ticket_events (event_id));

diesel::allow_tables_to_appear_in_same_query!(
    institutions,
    members,
    member_institutions,
    registry_search,
    api_tokens,
    ticket_counters,
    tickets,
    calls,
    ticket_events,
    ticket_links,
    idempotency_keys,
    ticket_triage,
    ticket_notes,
    callbacks,
    partners,
    partner_prefectures,
    referrals,
    outbox,
    webhook_endpoints,
    incident_facts,
    support_claims,
    regulatory_deadlines,
    membership_periods,
    personal_data_access,
    ticket_event_texts,
);
