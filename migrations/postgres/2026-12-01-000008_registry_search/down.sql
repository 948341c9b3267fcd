-- The pg_trgm extension stays: it is shared by every schema of the database (and harmless unused).
DROP INDEX registry_search_trgm_idx;
DROP INDEX institutions_institution_code_idx;
DROP INDEX institutions_phone_idx;
DROP TABLE registry_search;
