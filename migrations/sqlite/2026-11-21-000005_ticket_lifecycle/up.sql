-- Ticket lifecycle: triage, assignment, notes, callbacks, partners (with the 47 prefectural police
-- cyber desks as reference rows) and referrals.

ALTER TABLE tickets ADD COLUMN priority TEXT;
ALTER TABLE tickets ADD COLUMN assignee_token_id TEXT;
ALTER TABLE tickets ADD COLUMN first_response_at TIMESTAMP;
ALTER TABLE tickets ADD COLUMN resolved_at TIMESTAMP;
ALTER TABLE tickets ADD COLUMN resolution_summary TEXT;
ALTER TABLE tickets ADD COLUMN closed_at TIMESTAMP;
ALTER TABLE tickets ADD COLUMN caller_confirmed_at TIMESTAMP;
ALTER TABLE tickets ADD COLUMN caller_confirmed_by TEXT;
CREATE INDEX tickets_assignee_idx ON tickets (assignee_token_id);
CREATE INDEX tickets_priority_idx ON tickets (priority);

CREATE TABLE ticket_triage (
    ticket_id TEXT NOT NULL PRIMARY KEY REFERENCES tickets (id),
    category TEXT NOT NULL,
    incident_kind TEXT NOT NULL,
    suggested_priority TEXT NOT NULL,
    priority TEXT NOT NULL,
    priority_reason TEXT,
    decline_reason TEXT,
    detected_at TIMESTAMP,
    occurred_at TIMESTAMP,
    systems_affected TEXT NOT NULL,
    emr_unusable BOOLEAN NOT NULL,
    care_suspended BOOLEAN NOT NULL,
    personal_data_leaked BOOLEAN NOT NULL,
    people_affected BIGINT,
    insider_suspected BOOLEAN NOT NULL,
    triaged_at TIMESTAMP NOT NULL,
    triaged_by TEXT NOT NULL REFERENCES api_tokens (id)
);
CREATE INDEX ticket_triage_category_idx ON ticket_triage (category);

CREATE TABLE ticket_notes (
    id TEXT NOT NULL PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES api_tokens (id)
);
CREATE INDEX ticket_notes_ticket_idx ON ticket_notes (ticket_id, created_at);

CREATE TABLE callbacks (
    id TEXT NOT NULL PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    promised_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL,
    note TEXT,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES api_tokens (id),
    completed_at TIMESTAMP,
    completed_by_call_id TEXT REFERENCES calls (id)
);
CREATE INDEX callbacks_ticket_idx ON callbacks (ticket_id);
CREATE INDEX callbacks_open_due_idx ON callbacks (completed_at, due_at);

CREATE TABLE partners (
    id TEXT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    emails TEXT NOT NULL,
    phone TEXT,
    nationwide BOOLEAN NOT NULL,
    office_hours TEXT,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX partners_kind_idx ON partners (kind);

CREATE TABLE partner_prefectures (
    partner_id TEXT NOT NULL REFERENCES partners (id),
    prefecture TEXT NOT NULL,
    PRIMARY KEY (partner_id, prefecture)
);
CREATE INDEX partner_prefectures_prefecture_idx ON partner_prefectures (prefecture);

CREATE TABLE referrals (
    id TEXT NOT NULL PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    partner_id TEXT NOT NULL REFERENCES partners (id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    consent_given_by TEXT NOT NULL,
    consent_name TEXT NOT NULL,
    consent_given_at TIMESTAMP NOT NULL,
    request_note TEXT,
    requested_at TIMESTAMP NOT NULL,
    requested_by TEXT NOT NULL REFERENCES api_tokens (id),
    accepted_at TIMESTAMP,
    completed_at TIMESTAMP,
    ended_at TIMESTAMP,
    last_note TEXT,
    police_receipt_number TEXT,
    police_contact TEXT,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX referrals_ticket_idx ON referrals (ticket_id);
CREATE INDEX referrals_status_idx ON referrals (status, requested_at);
-- One open referral per partner and ticket; closed ones may repeat.
CREATE UNIQUE INDEX referrals_one_open_per_partner ON referrals (ticket_id, partner_id)
    WHERE status IN ('requested', 'accepted');

CREATE TRIGGER ticket_notes_no_update
BEFORE UPDATE ON ticket_notes
BEGIN
    SELECT RAISE(ABORT, 'ticket_notes is append-only');
END;

CREATE TRIGGER ticket_notes_no_delete
BEFORE DELETE ON ticket_notes
BEGIN
    SELECT RAISE(ABORT, 'ticket_notes is append-only');
END;

-- The prefectural police cyber desks (都道府県警察 サイバー犯罪相談窓口), one per prefecture (JIS X 0401).
-- Contacts are filled in by admins; a referral to a desk without an email is refused until then.
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000001', 'police', '北海道警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000001', '01');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000002', 'police', '青森県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000002', '02');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000003', 'police', '岩手県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000003', '03');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000004', 'police', '宮城県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000004', '04');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000005', 'police', '秋田県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000005', '05');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000006', 'police', '山形県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000006', '06');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000007', 'police', '福島県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000007', '07');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000008', 'police', '茨城県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000008', '08');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000009', 'police', '栃木県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000009', '09');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000010', 'police', '群馬県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000010', '10');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000011', 'police', '埼玉県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000011', '11');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000012', 'police', '千葉県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000012', '12');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000013', 'police', '警視庁 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000013', '13');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000014', 'police', '神奈川県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000014', '14');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000015', 'police', '新潟県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000015', '15');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000016', 'police', '富山県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000016', '16');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000017', 'police', '石川県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000017', '17');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000018', 'police', '福井県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000018', '18');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000019', 'police', '山梨県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000019', '19');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000020', 'police', '長野県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000020', '20');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000021', 'police', '岐阜県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000021', '21');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000022', 'police', '静岡県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000022', '22');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000023', 'police', '愛知県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000023', '23');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000024', 'police', '三重県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000024', '24');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000025', 'police', '滋賀県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000025', '25');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000026', 'police', '京都府警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000026', '26');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000027', 'police', '大阪府警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000027', '27');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000028', 'police', '兵庫県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000028', '28');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000029', 'police', '奈良県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000029', '29');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000030', 'police', '和歌山県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000030', '30');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000031', 'police', '鳥取県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000031', '31');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000032', 'police', '島根県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000032', '32');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000033', 'police', '岡山県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000033', '33');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000034', 'police', '広島県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000034', '34');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000035', 'police', '山口県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000035', '35');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000036', 'police', '徳島県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000036', '36');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000037', 'police', '香川県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000037', '37');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000038', 'police', '愛媛県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000038', '38');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000039', 'police', '高知県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000039', '39');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000040', 'police', '福岡県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000040', '40');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000041', 'police', '佐賀県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000041', '41');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000042', 'police', '長崎県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000042', '42');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000043', 'police', '熊本県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000043', '43');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000044', 'police', '大分県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000044', '44');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000045', 'police', '宮崎県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000045', '45');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000046', 'police', '鹿児島県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000046', '46');
INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, updated_at) VALUES ('01900000-0000-7000-8000-000000000047', 'police', '沖縄県警察 サイバー犯罪相談窓口', '[]', NULL, FALSE, NULL, TRUE, '2026-11-21 00:00:00', '2026-11-21 00:00:00');
INSERT INTO partner_prefectures (partner_id, prefecture) VALUES ('01900000-0000-7000-8000-000000000047', '47');
