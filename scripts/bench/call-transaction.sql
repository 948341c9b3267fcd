-- pgbench script: the statements of one POST /v1/calls that opens a ticket for a verified caller, as the
-- server sends them (crates/storage: registry::member_for_identifier, tickets::recent_for_caller, the
-- idempotency check; then one transaction: the check again, the reference counter, the ticket, the
-- call, its 20 repeat-caller links, the audit event, the webhook endpoints, the stored response).
-- Run by scripts/bench.sh with -M prepared (diesel prepares its statements too) and -D for:
-- member_number member_id institution_id institution_match prefecture token_id year related
-- (the 20 ticket ids a new ticket of this caller links to, comma-separated). In prepared mode pgbench
-- turns every colon followed by a letter into a parameter, even inside a string: write ": x" or ':' || 'x'.
\set key random(1, 1000000000000)
SELECT id, member_number, registration_number, name, kana, name_search, member_class, created_at, updated_at
    FROM members WHERE member_number = :member_number;
SELECT mi.member_id, mi.role, i.id, i.institution_key, i.name, i.name_search, i.kind, i.prefecture,
       i.postal_code, i.address, i.phone, i.institution_code, i.created_at, i.updated_at
    FROM member_institutions mi JOIN institutions i ON i.id = mi.institution_id
    WHERE mi.member_id IN (:member_id) ORDER BY i.name;
SELECT id, reference, status, first_call_at, 0 AS branch FROM (
        SELECT id, reference, status, first_call_at FROM tickets
        WHERE member_id = :member_id AND first_call_at >= (now() AT TIME ZONE 'UTC') - interval '7 days'
          AND first_call_at <= now() AT TIME ZONE 'UTC'
        ORDER BY first_call_at DESC, id DESC LIMIT 20) AS by_member
    UNION ALL SELECT id, reference, status, first_call_at, 1 FROM (
        SELECT id, reference, status, first_call_at FROM tickets
        WHERE institution_id = :institution_id AND first_call_at >= (now() AT TIME ZONE 'UTC') - interval '7 days'
          AND first_call_at <= now() AT TIME ZONE 'UTC'
        ORDER BY first_call_at DESC, id DESC LIMIT 20) AS by_institution
    UNION ALL SELECT id, reference, status, first_call_at, 2 FROM (
        SELECT id, reference, status, first_call_at FROM tickets
        WHERE institution_match = :institution_match AND prefecture = :prefecture
          AND first_call_at >= (now() AT TIME ZONE 'UTC') - interval '7 days'
          AND first_call_at <= now() AT TIME ZONE 'UTC'
        ORDER BY first_call_at DESC, id DESC LIMIT 20) AS by_name;
SELECT token_id, idempotency_key, request_hash, status_code, response_body, location, created_at
    FROM idempotency_keys WHERE token_id = :token_id AND idempotency_key = 'k' || :client_id::text || '-' || :key::text;
BEGIN;
SELECT token_id, idempotency_key, request_hash, status_code, response_body, location, created_at
    FROM idempotency_keys WHERE token_id = :token_id AND idempotency_key = 'k' || :client_id::text || '-' || :key::text;
INSERT INTO ticket_counters (year, last_seq) VALUES (:year, 1)
    ON CONFLICT (year) DO UPDATE SET last_seq = ticket_counters.last_seq + 1 RETURNING last_seq \gset
INSERT INTO tickets (id, reference, ref_year, ref_seq, status, version, member_id, institution_id, prefecture,
        institution_match, first_call_at, summary, created_at, updated_at, created_by)
    VALUES (gen_random_uuid()::text, 'HL-' || :year::text || '-' || lpad(:last_seq::text, 6, '0'), :year, :last_seq,
        'new', 1, :member_id, :institution_id, :prefecture, :institution_match, now() AT TIME ZONE 'UTC',
        '電子カルテの端末が暗号化され、身代金を要求する画面が出ている', now() AT TIME ZONE 'UTC',
        now() AT TIME ZONE 'UTC', :token_id)
    RETURNING id AS ticket_id \gset
INSERT INTO calls (id, ticket_id, started_at, caller_name, caller_role, callback_phone, claimed_member_name,
        claimed_institution_name, claimed_institution_address, claimed_prefecture, identifier_kind,
        identifier_value, summary, verification, mismatches, member_id, institution_id, follow_up, created_at,
        created_by)
    VALUES (gen_random_uuid()::text, :ticket_id, now() AT TIME ZONE 'UTC', 'caller', 'member', '0312345678',
        'member', :institution_match, 'address', :prefecture, 'member_number', :member_number,
        '電子カルテの端末が暗号化され、身代金を要求する画面が出ている', 'verified', '', :member_id,
        :institution_id, false, now() AT TIME ZONE 'UTC', :token_id);
INSERT INTO ticket_links (ticket_id, related_ticket_id, reason)
    SELECT :ticket_id::text, related, 'possible_repeat:' || 'member' FROM unnest(string_to_array(:related::text, ',')) AS related;
INSERT INTO ticket_events (id, ticket_id, occurred_at, actor_token_id, action, changes)
    VALUES (gen_random_uuid()::text, :ticket_id, now() AT TIME ZONE 'UTC', :token_id, 'ticket.opened',
        '{"reference":"HL","status":{"before": null,"after":"new"},"possible_repeat_of":[]}');
SELECT name, url, events, max_attempts, active, created_at, updated_at
    FROM webhook_endpoints WHERE active = true ORDER BY name;
INSERT INTO idempotency_keys (token_id, idempotency_key, request_hash, status_code, response_body, location,
        created_at)
    VALUES (:token_id, 'k' || :client_id::text || '-' || :key::text, repeat('0', 64), 201, repeat('x', 2000),
        '/v1/calls/' || :ticket_id::text, now() AT TIME ZONE 'UTC');
END;
