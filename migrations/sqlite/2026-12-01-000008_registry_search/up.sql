-- Registry search (issue 12): one row per member–institution link with the normalised keys operators
-- search by, so a look-up during a call reads an index instead of scanning the roster.
-- Keys are computed by the application (crates/domain/src/text.rs: match_key, address_key; phone digits)
-- and kept in step by every import; `hotline migrate` fills the table for a registry imported before.
-- Substrings of three characters or more go through the trigram index: FTS5 with the trigram tokenizer
-- here, pg_trgm GIN on PostgreSQL. Shorter queries match the start of a key through the B-tree indexes.
CREATE TABLE registry_search (
    -- INTEGER PRIMARY KEY is the rowid itself, so the FTS index below can refer to it (VACUUM keeps it).
    id INTEGER NOT NULL PRIMARY KEY,
    member_id TEXT NOT NULL REFERENCES members (id),
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    -- The member's name and number as shown, so results are ranked and cut to the limit before
    -- the members table is read (a join the planner could not misjudge into a scan of the roster).
    member_name TEXT NOT NULL,
    member_number TEXT NOT NULL,
    name_key TEXT NOT NULL,
    kana_key TEXT NOT NULL,
    institution_name_key TEXT NOT NULL,
    address_key TEXT NOT NULL,
    phone TEXT NOT NULL,
    UNIQUE (member_id, institution_id)
);
CREATE INDEX registry_search_name_key_idx ON registry_search (name_key);
CREATE INDEX registry_search_kana_key_idx ON registry_search (kana_key);
CREATE INDEX registry_search_institution_name_key_idx ON registry_search (institution_name_key);
CREATE INDEX registry_search_institution_id_idx ON registry_search (institution_id);

-- Exact identifier look-ups (member and registration numbers already have unique indexes).
CREATE INDEX institutions_phone_idx ON institutions (phone);
CREATE INDEX institutions_institution_code_idx ON institutions (institution_code);

-- The trigram index: an external-content FTS5 table over registry_search (it stores only the index),
-- kept in step by the triggers below, as https://sqlite.org/fts5.html#external_content_tables shows.
CREATE VIRTUAL TABLE registry_search_fts USING fts5 (
    name_key, kana_key, institution_name_key, address_key, phone,
    content = 'registry_search', content_rowid = 'id', tokenize = 'trigram'
);

CREATE TRIGGER registry_search_fts_insert AFTER INSERT ON registry_search
BEGIN
    INSERT INTO registry_search_fts (rowid, name_key, kana_key, institution_name_key, address_key, phone)
    VALUES (new.id, new.name_key, new.kana_key, new.institution_name_key, new.address_key, new.phone);
END;

CREATE TRIGGER registry_search_fts_delete AFTER DELETE ON registry_search
BEGIN
    INSERT INTO registry_search_fts
        (registry_search_fts, rowid, name_key, kana_key, institution_name_key, address_key, phone)
    VALUES ('delete', old.id, old.name_key, old.kana_key, old.institution_name_key, old.address_key, old.phone);
END;

CREATE TRIGGER registry_search_fts_update AFTER UPDATE ON registry_search
BEGIN
    INSERT INTO registry_search_fts
        (registry_search_fts, rowid, name_key, kana_key, institution_name_key, address_key, phone)
    VALUES ('delete', old.id, old.name_key, old.kana_key, old.institution_name_key, old.address_key, old.phone);
    INSERT INTO registry_search_fts (rowid, name_key, kana_key, institution_name_key, address_key, phone)
    VALUES (new.id, new.name_key, new.kana_key, new.institution_name_key, new.address_key, new.phone);
END;
