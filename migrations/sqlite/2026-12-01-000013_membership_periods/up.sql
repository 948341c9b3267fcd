-- Issue 11: the registry as a roster. A full-snapshot import ends the membership of members (and the
-- member–institution links) it no longer lists, on the import's local date, instead of deleting them;
-- verification judges a call by the roster of the call's date. Days are YYYY-MM-DD text; an end is
-- exclusive (the first day no longer covered).
CREATE TABLE membership_periods (
    id TEXT NOT NULL PRIMARY KEY,
    member_id TEXT NOT NULL REFERENCES members (id),
    starts_on TEXT NULL,
    ends_on TEXT NULL
);
CREATE INDEX membership_periods_member_id_idx ON membership_periods (member_id);
-- Every member known so far has been a member since before the registry knew them.
INSERT INTO membership_periods (id, member_id, starts_on, ends_on)
    SELECT id, id, NULL, NULL FROM members;
ALTER TABLE member_institutions ADD COLUMN ends_on TEXT NULL;
-- Why a call's member was ineligible (member_class, no_institution, membership_ended).
ALTER TABLE calls ADD COLUMN ineligible_reason TEXT NULL;
