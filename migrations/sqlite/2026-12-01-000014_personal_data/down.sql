DROP INDEX tickets_closed_at_idx;
DROP TABLE personal_data_access;
