ALTER TABLE calls DROP COLUMN ineligible_reason;
ALTER TABLE member_institutions DROP COLUMN ends_on;
DROP TABLE membership_periods;
