//! The registry's search index (`registry_search`, migration `2026-12-01-000008_registry_search`): one
//! row of normalised keys per member–institution link, kept in step by every import, and the ranked
//! search over it that operators use while a caller is on the line.
//!
//! Every look-up goes through an index, on both backends:
//! - digits: member number, registration number, medical institution code and phone by their B-tree
//!   indexes (rank 0), then phones that start with (rank 1) or contain (rank 2) the digits;
//! - text of three characters or more: names, kana, institution names and addresses that start with
//!   (rank 1) or contain (rank 2) it, found through the trigram index (FTS5 `trigram` on SQLite,
//!   pg_trgm GIN on PostgreSQL, the one place where the SQL differs);
//! - one or two characters, below trigram length: names, kana and institution names that start with
//!   it, as ranges of their B-tree indexes, each stopped after `limit` rows (rank 1).
//!
//! Results are ordered by rank, then name and member number.

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use hotline_domain::search::{SearchKeys, SearchQuery, prefix_end};
use hotline_domain::text::escape_like;

use crate::schema::{institutions, member_institutions, members, registry_search};
use crate::{DbConnection, StorageError};

/// Members per statement when rows are rebuilt (well under SQLite's bound-variable limit).
const CHUNK: usize = 500;

#[derive(Debug, Insertable)]
#[diesel(table_name = registry_search)]
struct NewSearchRow {
    member_id: String,
    institution_id: String,
    member_name: String,
    member_number: String,
    name_key: String,
    kana_key: String,
    institution_name_key: String,
    address_key: String,
    phone: String,
}

/// Rewrites the search rows of these members from their registry rows (all their institutions, also
/// those the current import does not mention). Called by the import for every member it created or
/// changed, or whose institutions or links it created or changed.
pub(crate) fn refresh_members(conn: &mut DbConnection, member_ids: &[String]) -> Result<(), StorageError> {
    for chunk in member_ids.chunks(CHUNK) {
        diesel::delete(registry_search::table.filter(registry_search::member_id.eq_any(chunk)))
            .execute(conn)?;
        type Source = (String, String, String, Option<String>, String, String, String, String);
        let sources: Vec<Source> = member_institutions::table
            .inner_join(members::table)
            .inner_join(institutions::table)
            .filter(member_institutions::member_id.eq_any(chunk))
            .select((
                members::id,
                members::member_number,
                members::name,
                members::kana,
                institutions::id,
                institutions::name,
                institutions::address,
                institutions::phone,
            ))
            .load(conn)?;
        let rows: Vec<NewSearchRow> = sources
            .into_iter()
            .map(
                |(member_id, member_number, name, kana, institution_id, institution_name, address, phone)| {
                    let keys = SearchKeys::of(&name, kana.as_deref(), &institution_name, &address, &phone);
                    NewSearchRow {
                        member_id,
                        institution_id,
                        member_name: name,
                        member_number,
                        name_key: keys.name,
                        kana_key: keys.kana,
                        institution_name_key: keys.institution_name,
                        address_key: keys.address,
                        phone: keys.phone,
                    }
                },
            )
            .collect();
        // Multi-row INSERT does not compile through the multi-connection, so each dialect gets its arm.
        match conn {
            DbConnection::Postgresql(pg) => {
                diesel::insert_into(registry_search::table).values(&rows).execute(pg)?
            }
            DbConnection::Sqlite(lite) => {
                diesel::insert_into(registry_search::table).values(&rows).execute(lite)?
            }
        };
    }
    Ok(())
}

/// Rebuilds the whole index from the registry tables; run once after the migration that creates it,
/// for a registry imported before. Returns the number of members indexed.
pub fn rebuild(conn: &mut DbConnection) -> Result<usize, StorageError> {
    let mut after = String::new();
    let mut count = 0;
    loop {
        let ids: Vec<String> = members::table
            .filter(members::id.gt(&after))
            .order(members::id.asc())
            .limit(CHUNK as i64)
            .select(members::id)
            .load(conn)?;
        let Some(last) = ids.last() else { return Ok(count) };
        after = last.clone();
        count += ids.len();
        refresh_members(conn, &ids)?;
    }
}

/// Builds the index when the registry has links but the index has no row: after the migration that
/// created it, for a registry imported before. Returns the number of members indexed, if it built.
pub fn build_if_missing(conn: &mut DbConnection) -> Result<Option<usize>, StorageError> {
    let link: Option<String> =
        member_institutions::table.select(member_institutions::member_id).first(conn).optional()?;
    let indexed: Option<i32> = registry_search::table.select(registry_search::id).first(conn).optional()?;
    if link.is_none() || indexed.is_some() {
        return Ok(None);
    }
    rebuild(conn).map(Some)
}

/// A bound value of a search statement.
enum Param {
    Text(String),
    Int(i32),
}

/// SQL text with `#` for each parameter, in order, and the parameters (bound by diesel, see below).
#[derive(Default)]
struct Statement {
    sql: String,
    params: Vec<Param>,
}

impl Statement {
    fn sql(&mut self, text: &str) -> &mut Self {
        self.sql.push_str(text);
        self
    }

    fn text(&mut self, value: impl Into<String>) -> &mut Self {
        self.sql.push('#');
        self.params.push(Param::Text(value.into()));
        self
    }

    fn int(&mut self, value: i32) -> &mut Self {
        self.sql.push('#');
        self.params.push(Param::Int(value));
        self
    }
}

// The statement as a diesel query: the SQL pieces between the `#`s, each parameter bound where its `#`
// was (diesel writes `$n` or `?`). Unlike `sql_query`, which marks itself unsafe to cache, diesel
// prepares it once per connection and reuses it (cached by its text: a handful of shapes). PostgreSQL
// had parsed and planned every search again, 1–3 ms each (docs/benchmarks.md).
impl diesel::query_builder::QueryId for Statement {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for Statement {
    type SqlType = diesel::sql_types::Untyped;
}

impl<DB> diesel::query_builder::QueryFragment<DB> for Statement
where
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<Text>
        + diesel::sql_types::HasSqlType<Integer>,
    String: diesel::serialize::ToSql<Text, DB>,
    i32: diesel::serialize::ToSql<Integer, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let mut pieces = self.sql.split('#');
        if let Some(first) = pieces.next() {
            out.push_sql(first);
        }
        for (piece, param) in pieces.zip(&self.params) {
            match param {
                Param::Text(value) => out.push_bind_param::<Text, _>(value)?,
                Param::Int(value) => out.push_bind_param::<Integer, _>(value)?,
            }
            out.push_sql(piece);
        }
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for Statement {}

/// The member columns a search returns, in `MemberRow`'s order.
const MEMBER_COLUMNS: &str = "m.id, m.member_number, m.registration_number, m.name, m.kana, m.name_search, \
     m.member_class, m.created_at, m.updated_at";

/// Ranked members for a query: rank (exact identifier 0, prefix 1, substring 2), then name and member
/// number, at most `limit`.
pub(crate) fn ranked<Row>(
    conn: &mut DbConnection,
    query: &SearchQuery,
    limit: i64,
) -> Result<Vec<Row>, StorageError>
where
    Row: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
{
    let sqlite = matches!(conn, DbConnection::Sqlite(_));
    let limit = i32::try_from(limit).unwrap_or(i32::MAX);
    let mut st = Statement::default();
    st.sql("SELECT ").sql(MEMBER_COLUMNS).sql(
        " FROM (SELECT member_id, MIN(hit_rank) AS hit_rank, MIN(member_name) AS member_name, \
         MIN(member_number) AS member_number FROM (",
    );
    match query {
        SearchQuery::Digits { digits, registration_number, phone_substring } => {
            st.sql(
                "SELECT id AS member_id, 0 AS hit_rank, name AS member_name, member_number FROM members \
                 WHERE member_number = ",
            )
            .text(digits.as_str());
            if let Some(registration) = registration_number {
                st.sql(" OR registration_number = ").text(registration.as_str());
            }
            st.sql(
                " UNION ALL SELECT mi.member_id, 0, mm.name, mm.member_number FROM institutions i \
                 JOIN member_institutions mi ON mi.institution_id = i.id \
                 JOIN members mm ON mm.id = mi.member_id WHERE i.phone = ",
            )
            .text(digits.as_str())
            .sql(" OR i.institution_code = ")
            .text(digits.as_str());
            if *phone_substring {
                st.sql(" UNION ALL SELECT s.member_id, CASE WHEN substr(s.phone, 1, ")
                    .int(char_count(digits))
                    .sql(") = ")
                    .text(digits.as_str())
                    .sql(" THEN 1 ELSE 2 END AS hit_rank, s.member_name, s.member_number FROM registry_search s WHERE ");
                if sqlite {
                    st.sql("s.id IN (SELECT rowid FROM registry_search_fts WHERE registry_search_fts MATCH ")
                        .text(format!("phone : {}", fts_phrase(digits)))
                        .sql(")");
                } else {
                    st.sql("s.phone LIKE ").text(contains(digits)).sql(" ESCAPE '\\'");
                }
            }
        }
        SearchQuery::Text { key, address_key, prefix_only: false } => {
            let n = char_count(key);
            st.sql("SELECT s.member_id, CASE WHEN substr(s.name_key, 1, ")
                .int(n)
                .sql(") = ")
                .text(key.as_str())
                .sql(" OR substr(s.kana_key, 1, ")
                .int(n)
                .sql(") = ")
                .text(key.as_str())
                .sql(" OR substr(s.institution_name_key, 1, ")
                .int(n)
                .sql(") = ")
                .text(key.as_str());
            if let Some(address) = address_key {
                st.sql(" OR substr(s.address_key, 1, ")
                    .int(char_count(address))
                    .sql(") = ")
                    .text(address.as_str());
            }
            st.sql(" THEN 1 ELSE 2 END AS hit_rank, s.member_name, s.member_number FROM registry_search s WHERE ");
            if sqlite {
                let mut expression =
                    format!("{{name_key kana_key institution_name_key}} : {}", fts_phrase(key));
                if let Some(address) = address_key {
                    expression.push_str(&format!(" OR address_key : {}", fts_phrase(address)));
                }
                st.sql("s.id IN (SELECT rowid FROM registry_search_fts WHERE registry_search_fts MATCH ")
                    .text(expression)
                    .sql(")");
            } else {
                let pattern = contains(key);
                st.sql("s.name_key LIKE ")
                    .text(pattern.as_str())
                    .sql(" ESCAPE '\\' OR s.kana_key LIKE ")
                    .text(pattern.as_str())
                    .sql(" ESCAPE '\\' OR s.institution_name_key LIKE ")
                    .text(pattern.as_str())
                    .sql(" ESCAPE '\\'");
                if let Some(address) = address_key {
                    st.sql(" OR s.address_key LIKE ").text(contains(address)).sql(" ESCAPE '\\'");
                }
            }
        }
        SearchQuery::Text { key, prefix_only: true, .. } => {
            // Each key's range, in index order, stopped after `limit` rows: bounded however common the
            // prefix (a one-character query matches thousands of names).
            for (i, column) in ["name_key", "kana_key", "institution_name_key"].into_iter().enumerate() {
                if i > 0 {
                    st.sql(" UNION ALL ");
                }
                st.sql(
                    "SELECT member_id, 1 AS hit_rank, member_name, member_number FROM (\
                     SELECT member_id, member_name, member_number FROM registry_search WHERE ",
                )
                .sql(column)
                .sql(" >= ")
                .text(key.as_str());
                if let Some(end) = prefix_end(key) {
                    st.sql(" AND ").sql(column).sql(" < ").text(end);
                }
                st.sql(" ORDER BY ").sql(column).sql(" LIMIT ").int(limit).sql(&format!(") AS prefix_{i}"));
            }
        }
    }
    // Ranked and cut to the limit on registry_search's own columns; only then the members' rows.
    st.sql(") AS hits GROUP BY member_id ORDER BY hit_rank, member_name, member_number LIMIT ")
        .int(limit)
        .sql(
            ") AS ranked JOIN members m ON m.id = ranked.member_id \
             ORDER BY ranked.hit_rank, ranked.member_name, ranked.member_number",
        );
    let rows = match conn {
        DbConnection::Postgresql(pg) => st.load::<Row>(pg)?,
        DbConnection::Sqlite(lite) => st.load::<Row>(lite)?,
    };
    Ok(rows)
}

fn char_count(text: &str) -> i32 {
    i32::try_from(text.chars().count()).unwrap_or(i32::MAX)
}

/// `%text%` for LIKE, with the text's own `%`, `_` and `\` escaped.
fn contains(text: &str) -> String {
    format!("%{}%", escape_like(text))
}

/// An FTS5 phrase matching `text` literally: in double quotes, inner quotes doubled. With the trigram
/// tokenizer a phrase matches wherever the text occurs inside a column.
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}
