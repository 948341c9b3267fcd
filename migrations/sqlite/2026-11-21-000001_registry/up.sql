-- Registry of member institutions and members (imported from the association's roster).
CREATE TABLE institutions (
    id TEXT NOT NULL PRIMARY KEY,
    institution_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_search TEXT NOT NULL,
    kind TEXT NOT NULL,
    prefecture TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    address TEXT NOT NULL,
    phone TEXT NOT NULL,
    institution_code TEXT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX institutions_name_search_idx ON institutions (name_search);

CREATE TABLE members (
    id TEXT NOT NULL PRIMARY KEY,
    member_number TEXT NOT NULL UNIQUE,
    registration_number TEXT NULL UNIQUE,
    name TEXT NOT NULL,
    kana TEXT NULL,
    name_search TEXT NOT NULL,
    member_class TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX members_name_search_idx ON members (name_search);

CREATE TABLE member_institutions (
    member_id TEXT NOT NULL REFERENCES members (id),
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    role TEXT NOT NULL,
    PRIMARY KEY (member_id, institution_id)
);
CREATE INDEX member_institutions_institution_id_idx ON member_institutions (institution_id);
