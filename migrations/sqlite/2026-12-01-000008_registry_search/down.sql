DROP TRIGGER registry_search_fts_update;
DROP TRIGGER registry_search_fts_delete;
DROP TRIGGER registry_search_fts_insert;
DROP TABLE registry_search_fts;
DROP INDEX institutions_institution_code_idx;
DROP INDEX institutions_phone_idx;
DROP TABLE registry_search;
