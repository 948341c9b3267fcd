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

diesel::joinable!(member_institutions -> members (member_id));
diesel::joinable!(member_institutions -> institutions (institution_id));
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

diesel::allow_tables_to_appear_in_same_query!(
    institutions,
    members,
    member_institutions,
    api_tokens,
    ticket_counters,
    tickets,
    calls,
    ticket_events,
    ticket_links,
    idempotency_keys,
);
