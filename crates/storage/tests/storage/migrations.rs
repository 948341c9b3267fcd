//! The two migration sets describe the same database, schema.rs describes it too, and every down.sql
//! exactly undoes its up.sql (applied, reverted and re-applied one by one, Lemmy-style).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use diesel::expression::Expression;
use diesel::migration::{MigrationConnection, MigrationSource};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamp};
use diesel_migrations::MigrationHarness;
use hotline_storage::{Backend, DbConnection, MultiBackend, PoolOptions, Storage, migrations, schema};

use crate::helpers;

const BACKENDS: [(Backend, &str); 2] = [(Backend::Sqlite, "sqlite"), (Backend::Postgres, "postgres")];

/// (table, column, type, nullable) with types named the same way for both backends.
type ColumnSet = BTreeSet<(String, String, String, bool)>;

fn migration_dirs(folder: &str) -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations").join(folder);
    std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("read {}: {e}", root.display()))
        .map(|entry| {
            let path = entry.expect("directory entry").path();
            for file in ["up.sql", "down.sql"] {
                assert!(path.join(file).is_file(), "{} lacks {file}", path.display());
            }
            path.file_name().expect("name").to_string_lossy().into_owned()
        })
        .collect()
}

fn embedded_names(backend: Backend) -> Vec<String> {
    let mut names: Vec<String> = MigrationSource::<MultiBackend>::migrations(&migrations(backend))
        .expect("embedded migrations")
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn both_backends_have_the_same_migration_directories_all_embedded() {
    let sqlite = migration_dirs("sqlite");
    let postgres = migration_dirs("postgres");

    assert_eq!(sqlite, postgres);
    assert!(!sqlite.is_empty());
    for (backend, _) in BACKENDS {
        assert_eq!(embedded_names(backend), sqlite.iter().cloned().collect::<Vec<_>>());
    }
}

/// Asserts two sets are equal, printing only what differs.
#[track_caller]
fn assert_same<T: Ord + std::fmt::Debug>(what: &str, left: &BTreeSet<T>, right: &BTreeSet<T>) {
    let only_left: Vec<_> = left.difference(right).collect();
    let only_right: Vec<_> = right.difference(left).collect();
    assert!(
        only_left.is_empty() && only_right.is_empty(),
        "{what} differ.\nonly in the first: {only_left:#?}\nonly in the second: {only_right:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Reading the structure of a migrated database.

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
}

#[derive(QueryableByName)]
struct IndexColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    index_name: String,
    #[diesel(sql_type = Bool)]
    is_primary: bool,
    #[diesel(sql_type = Bool)]
    is_unique: bool,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = BigInt)]
    position: i64,
}

#[derive(QueryableByName)]
struct ForeignKeyRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    ref_table: String,
    #[diesel(sql_type = Text)]
    ref_column: String,
}

#[derive(QueryableByName)]
struct TrigramIndexColumn {
    #[diesel(sql_type = Text)]
    index_name: String,
    #[diesel(sql_type = Text)]
    definition: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = BigInt)]
    position: i64,
}

#[derive(QueryableByName)]
struct Item {
    #[diesel(sql_type = Text)]
    item: String,
}

/// Tables, columns, keys, indexes and foreign keys of a migrated database, backend-neutral.
#[derive(Debug, PartialEq, Eq)]
struct Structure {
    tables: BTreeSet<String>,
    columns: ColumnSet,
    /// (table, columns in order, primary, unique)
    indexes: BTreeSet<(String, String, bool, bool)>,
    foreign_keys: BTreeSet<(String, String, String, String)>,
}

// Ordinary tables only: a virtual table (FTS5) and its shadow tables are a dialect's way to build an
// index, compared separately (see `trigram_indexes`).
const SQLITE_COLUMNS: &str = "
    SELECT m.name AS table_name, p.name AS column_name, lower(p.type) AS data_type,
           p.\"notnull\" = 0 AS nullable
    FROM sqlite_master m JOIN pragma_table_info(m.name) p
    JOIN pragma_table_list tl ON tl.schema = 'main' AND tl.name = m.name AND tl.type = 'table'
    WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
      AND m.name <> '__diesel_schema_migrations'";

// Primary keys: an INTEGER PRIMARY KEY has no index in SQLite, so they come from table_info.
const SQLITE_INDEXES: &str = "
    SELECT m.name AS table_name, 'pk' AS index_name, 1 AS is_primary, 1 AS is_unique,
           p.name AS column_name, p.pk AS position
    FROM sqlite_master m JOIN pragma_table_info(m.name) p
    JOIN pragma_table_list tl ON tl.schema = 'main' AND tl.name = m.name AND tl.type = 'table'
    WHERE m.type = 'table' AND p.pk > 0 AND m.name <> '__diesel_schema_migrations'
    UNION ALL
    SELECT m.name, il.name, 0, il.\"unique\" <> 0, ii.name, ii.seqno
    FROM sqlite_master m JOIN pragma_index_list(m.name) il JOIN pragma_index_info(il.name) ii
    JOIN pragma_table_list tl ON tl.schema = 'main' AND tl.name = m.name AND tl.type = 'table'
    WHERE m.type = 'table' AND il.origin <> 'pk' AND m.name <> '__diesel_schema_migrations'";

const SQLITE_FOREIGN_KEYS: &str = "
    SELECT m.name AS table_name, f.\"from\" AS column_name, f.\"table\" AS ref_table,
           f.\"to\" AS ref_column
    FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
    WHERE m.type = 'table'";

const POSTGRES_COLUMNS: &str = "
    SELECT table_name::text AS table_name, column_name::text AS column_name,
           CASE data_type WHEN 'timestamp without time zone' THEN 'timestamp'
                ELSE data_type::text END AS data_type,
           is_nullable = 'YES' AS nullable
    FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name <> '__diesel_schema_migrations'";

const POSTGRES_INDEXES: &str = "
    SELECT t.relname::text AS table_name, i.relname::text AS index_name,
           ix.indisprimary AS is_primary, ix.indisunique AS is_unique,
           a.attname::text AS column_name, k.ord AS position
    FROM pg_index ix
    JOIN pg_class t ON t.oid = ix.indrelid
    JOIN pg_class i ON i.oid = ix.indexrelid
    JOIN LATERAL unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) ON true
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
    JOIN pg_am am ON am.oid = i.relam
    WHERE t.relnamespace = current_schema()::regnamespace
      AND t.relname <> '__diesel_schema_migrations'
      AND am.amname = 'btree'";

// Trigram indexes, which each dialect builds its own way (compared by `trigram_indexes`): on SQLite an
// FTS5 virtual table with the trigram tokenizer over its content table, on PostgreSQL a GIN index with
// pg_trgm's operator class on every column.
const SQLITE_TRIGRAM_INDEXES: &str = "
    SELECT m.name AS index_name, m.sql AS definition, p.name AS column_name, p.cid AS position
    FROM sqlite_master m JOIN pragma_table_info(m.name) p
    WHERE m.type = 'table' AND m.sql LIKE 'CREATE VIRTUAL TABLE%'";

const POSTGRES_TRIGRAM_INDEXES: &str = "
    SELECT i.relname::text AS index_name,
           t.relname::text || ' ' || am.amname::text || ' ' || oc.opcname::text AS definition,
           a.attname::text AS column_name, k.ord AS position
    FROM pg_index ix
    JOIN pg_class t ON t.oid = ix.indrelid
    JOIN pg_class i ON i.oid = ix.indexrelid
    JOIN pg_am am ON am.oid = i.relam
    JOIN LATERAL unnest(ix.indkey::int2[], ix.indclass::oid[]) WITH ORDINALITY AS k(attnum, opclass, ord)
        ON true
    JOIN pg_opclass oc ON oc.oid = k.opclass
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
    WHERE t.relnamespace = current_schema()::regnamespace AND am.amname <> 'btree'";

const POSTGRES_FOREIGN_KEYS: &str = "
    SELECT src.relname::text AS table_name, sa.attname::text AS column_name,
           dst.relname::text AS ref_table, da.attname::text AS ref_column
    FROM pg_constraint con
    JOIN pg_class src ON src.oid = con.conrelid
    JOIN pg_class dst ON dst.oid = con.confrelid
    JOIN pg_attribute sa ON sa.attrelid = con.conrelid AND sa.attnum = con.conkey[1]
    JOIN pg_attribute da ON da.attrelid = con.confrelid AND da.attnum = con.confkey[1]
    WHERE con.contype = 'f' AND con.connamespace = current_schema()::regnamespace";

fn structure(storage: &Storage) -> Structure {
    let (columns_sql, indexes_sql, fks_sql) = match storage.backend() {
        Backend::Sqlite => (SQLITE_COLUMNS, SQLITE_INDEXES, SQLITE_FOREIGN_KEYS),
        Backend::Postgres => (POSTGRES_COLUMNS, POSTGRES_INDEXES, POSTGRES_FOREIGN_KEYS),
    };
    let (columns, index_columns, fks) = storage
        .read(|conn| {
            Ok((
                diesel::sql_query(columns_sql).load::<ColumnRow>(conn)?,
                diesel::sql_query(indexes_sql).load::<IndexColumnRow>(conn)?,
                diesel::sql_query(fks_sql).load::<ForeignKeyRow>(conn)?,
            ))
        })
        .expect("read the database structure");

    let columns: ColumnSet =
        columns.into_iter().map(|c| (c.table_name, c.column_name, c.data_type, c.nullable)).collect();
    // (table, index) -> (primary, unique, [(position, column)])
    type Grouped = BTreeMap<(String, String), (bool, bool, Vec<(i64, String)>)>;
    let mut grouped = Grouped::new();
    for row in index_columns {
        let entry = grouped.entry((row.table_name, row.index_name)).or_insert((
            row.is_primary,
            row.is_unique,
            Vec::new(),
        ));
        entry.2.push((row.position, row.column_name));
    }
    let indexes = grouped
        .into_iter()
        .map(|((table, _name), (primary, unique, mut cols))| {
            cols.sort();
            let cols: Vec<String> = cols.into_iter().map(|(_, c)| c).collect();
            (table, cols.join(","), primary, unique)
        })
        .collect();
    Structure {
        tables: columns.iter().map(|c| c.0.clone()).collect(),
        columns,
        indexes,
        foreign_keys: fks
            .into_iter()
            .map(|f| (f.table_name, f.column_name, f.ref_table, f.ref_column))
            .collect(),
    }
}

/// The trigram indexes of a migrated database as (table, columns in order), after checking that each is
/// what its dialect needs: an FTS5 table with the trigram tokenizer over an external content table
/// (SQLite), or a GIN index with pg_trgm's `gin_trgm_ops` on every column (PostgreSQL).
fn trigram_indexes(storage: &Storage) -> BTreeSet<(String, String)> {
    let sql = match storage.backend() {
        Backend::Sqlite => SQLITE_TRIGRAM_INDEXES,
        Backend::Postgres => POSTGRES_TRIGRAM_INDEXES,
    };
    let rows = storage
        .read(|conn| Ok(diesel::sql_query(sql).load::<TrigramIndexColumn>(conn)?))
        .expect("read the trigram indexes");
    // index -> (table, [(position, column)])
    let mut grouped: BTreeMap<String, (String, Vec<(i64, String)>)> = BTreeMap::new();
    for row in rows {
        let table = match storage.backend() {
            Backend::Sqlite => {
                let definition = row.definition.split_whitespace().collect::<Vec<_>>().join(" ");
                assert!(
                    definition.contains("USING fts5") && definition.contains("tokenize = 'trigram'"),
                    "{}: not an FTS5 trigram table: {definition}",
                    row.index_name
                );
                let content = definition
                    .split("content = '")
                    .nth(1)
                    .and_then(|rest| rest.split('\'').next())
                    .unwrap_or_else(|| panic!("{}: no external content table", row.index_name));
                content.to_owned()
            }
            Backend::Postgres => {
                let mut parts = row.definition.split(' ');
                let (table, method, opclass) = (parts.next(), parts.next(), parts.next());
                assert_eq!(
                    (method, opclass),
                    (Some("gin"), Some("gin_trgm_ops")),
                    "{}: not a pg_trgm GIN index",
                    row.index_name
                );
                table.unwrap_or_default().to_owned()
            }
        };
        let entry = grouped.entry(row.index_name).or_insert((table, Vec::new()));
        entry.1.push((row.position, row.column_name));
    }
    grouped
        .into_values()
        .map(|(table, mut columns)| {
            columns.sort();
            (table, columns.into_iter().map(|(_, c)| c).collect::<Vec<_>>().join(","))
        })
        .collect()
}

#[test]
fn sqlite_and_postgres_migrations_create_the_same_tables_columns_keys_and_indexes() {
    let Some(postgres) = helpers::postgres() else {
        return;
    };
    let sqlite = helpers::sqlite();

    let lite = structure(&sqlite.storage);
    let pg = structure(&postgres.storage);

    assert_same("tables (SQLite vs PostgreSQL)", &lite.tables, &pg.tables);
    assert_same("columns (SQLite vs PostgreSQL)", &lite.columns, &pg.columns);
    assert_same("keys and indexes (SQLite vs PostgreSQL)", &lite.indexes, &pg.indexes);
    assert_same("foreign keys (SQLite vs PostgreSQL)", &lite.foreign_keys, &pg.foreign_keys);
    assert_eq!(lite.tables.len(), 25, "{:?}", lite.tables);

    let lite_trigram = trigram_indexes(&sqlite.storage);
    assert_same(
        "trigram indexes (SQLite FTS5 vs PostgreSQL GIN)",
        &lite_trigram,
        &trigram_indexes(&postgres.storage),
    );
    assert_eq!(
        lite_trigram,
        BTreeSet::from([(
            "registry_search".to_owned(),
            "name_key,kana_key,institution_name_key,address_key,phone".to_owned()
        )])
    );
}

// ---------------------------------------------------------------------------------------------
// schema.rs against the migrated database.

/// The portable SQL types allowed in schema.rs, named as the databases report them.
trait Portable {
    const TYPE: &'static str;
    const NULLABLE: bool;
}

macro_rules! portable {
    ($($ty:ty => $name:literal),* $(,)?) => {
        $(impl Portable for $ty {
            const TYPE: &'static str = $name;
            const NULLABLE: bool = false;
        })*
    };
}

portable!(Text => "text", Timestamp => "timestamp", Bool => "boolean", Integer => "integer", BigInt => "bigint");

impl<T: Portable> Portable for Nullable<T> {
    const TYPE: &'static str = T::TYPE;
    const NULLABLE: bool = true;
}

/// A table's `AllColumns` tuple, described column by column.
trait ColumnList {
    fn describe(table: &str) -> Vec<(String, String, String, bool)>;
}

macro_rules! column_list {
    ($($c:ident)+) => {
        impl<$($c),+> ColumnList for ($($c,)+)
        where
            $($c: Column, <$c as Expression>::SqlType: Portable,)+
        {
            fn describe(table: &str) -> Vec<(String, String, String, bool)> {
                vec![$((
                    table.to_owned(),
                    $c::NAME.to_owned(),
                    <<$c as Expression>::SqlType as Portable>::TYPE.to_owned(),
                    <<$c as Expression>::SqlType as Portable>::NULLABLE,
                )),+]
            }
        }
    };
}

macro_rules! column_lists {
    ($first:ident $($rest:ident)*) => {
        column_list!($first $($rest)*);
        column_lists!($($rest)*);
    };
    () => {};
}

column_lists!(C1 C2 C3 C4 C5 C6 C7 C8 C9 C10 C11 C12 C13 C14 C15 C16 C17 C18 C19 C20 C21 C22 C23 C24);

macro_rules! schema_rs_columns {
    ($($table:ident),* $(,)?) => {{
        let mut columns = ColumnSet::new();
        $(columns.extend(
            <<schema::$table::table as Table>::AllColumns as ColumnList>::describe(stringify!($table)),
        );)*
        columns
    }};
}

#[test]
fn schema_rs_declares_exactly_the_migrated_tables_and_columns() {
    let sqlite = helpers::sqlite();
    let declared = schema_rs_columns!(
        institutions,
        members,
        member_institutions,
        registry_search,
        api_tokens,
        ticket_counters,
        tickets,
        calls,
        ticket_events,
        ticket_links,
        idempotency_keys,
        ticket_triage,
        ticket_notes,
        callbacks,
        partners,
        partner_prefectures,
        referrals,
        outbox,
        webhook_endpoints,
        incident_facts,
        support_claims,
        regulatory_deadlines,
        membership_periods,
        personal_data_access,
        ticket_event_texts,
    );

    let migrated = structure(&sqlite.storage).columns;

    assert_same("schema.rs vs the migrated SQLite database", &declared, &migrated);
}

// ---------------------------------------------------------------------------------------------
// Every down.sql undoes its up.sql.

const SQLITE_SNAPSHOT: &str = "
    SELECT type || ' ' || name || ' ON ' || tbl_name || ': ' || COALESCE(sql, '') AS item
    FROM sqlite_master WHERE tbl_name <> '__diesel_schema_migrations'";

const POSTGRES_SNAPSHOT: &str = "
    SELECT 'relation ' || relkind::text || ' ' || relname::text AS item
    FROM pg_class
    WHERE relnamespace = current_schema()::regnamespace
      AND relname::text NOT LIKE '\\_\\_diesel\\_schema\\_migrations%'
    UNION ALL
    SELECT 'column ' || table_name::text || '.' || column_name::text || ' ' || data_type::text
           || ' nullable=' || is_nullable::text || ' default=' || COALESCE(column_default::text, '')
    FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name <> '__diesel_schema_migrations'
    UNION ALL
    SELECT 'index ' || indexdef
    FROM pg_indexes
    WHERE schemaname = current_schema() AND tablename <> '__diesel_schema_migrations'
    UNION ALL
    SELECT 'constraint ' || c.relname::text || ' ' || con.conname::text || ' '
           || pg_get_constraintdef(con.oid)
    FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
    WHERE con.connamespace = current_schema()::regnamespace
      AND c.relname <> '__diesel_schema_migrations'
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(t.oid)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal
    UNION ALL
    SELECT 'function ' || p.proname::text || '(' || pg_get_function_identity_arguments(p.oid) || ')'
    FROM pg_proc p
    WHERE p.pronamespace = current_schema()::regnamespace";

/// Everything a migration can create, one normalised line per object.
fn snapshot(conn: &mut DbConnection) -> BTreeSet<String> {
    let sql = match conn {
        DbConnection::Sqlite(_) => SQLITE_SNAPSHOT,
        DbConnection::Postgresql(_) => POSTGRES_SNAPSHOT,
    };
    diesel::sql_query(sql)
        .load::<Item>(conn)
        .expect("snapshot the schema")
        .into_iter()
        .map(|i| i.item.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

fn every_down_migration_reverts_its_up_migration(storage: &Storage) {
    let mut all = MigrationSource::<MultiBackend>::migrations(&migrations(storage.backend()))
        .expect("embedded migrations");
    all.sort_by_key(|m| m.name().to_string());

    storage
        .read(|conn| {
            // run_migration records into __diesel_schema_migrations but does not create it.
            conn.setup()?;
            for migration in &all {
                let name = migration.name().to_string();
                let before = snapshot(conn);

                conn.run_migration(migration.as_ref()).unwrap_or_else(|e| panic!("{name} up: {e}"));
                let applied = snapshot(conn);
                conn.revert_migration(migration.as_ref()).unwrap_or_else(|e| panic!("{name} down: {e}"));
                let reverted = snapshot(conn);

                assert_ne!(before, applied, "{name} changed nothing the snapshot sees");
                assert_same(&format!("down.sql of {name} vs the schema before up.sql"), &before, &reverted);
                conn.run_migration(migration.as_ref()).unwrap_or_else(|e| panic!("{name} up again: {e}"));
            }
            conn.revert_all_migrations(migrations(storage.backend())).expect("revert all migrations");
            let remaining = snapshot(conn);
            assert!(remaining.is_empty(), "left after reverting all: {remaining:#?}");
            Ok(())
        })
        .expect("connection");
}

#[test]
fn sqlite_every_down_migration_reverts_its_up_migration() {
    let (_dir, url) = hotline_storage::test_support::sqlite_temp();
    let storage = Storage::connect(&url, PoolOptions::default()).expect("connect");
    every_down_migration_reverts_its_up_migration(&storage);
}

#[test]
fn postgres_every_down_migration_reverts_its_up_migration() {
    let Some(schema) = helpers::postgres_schema() else {
        return;
    };
    let storage = Storage::connect(&schema.url, PoolOptions::default()).expect("connect");
    every_down_migration_reverts_its_up_migration(&storage);
}
