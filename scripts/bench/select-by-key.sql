-- pgbench script: one ticket by its key (the unique (ref_year, ref_seq) index), every column, as
-- GET /v1/tickets/{id} reads the ticket row. -D year, max_seq.
\set seq random(1, :max_seq)
SELECT * FROM tickets WHERE ref_year = :year AND ref_seq = :seq;
