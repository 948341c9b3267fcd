//! Database errors are classified the same way on both backends, and the event log is append-only.

use diesel::prelude::*;
use hotline_storage::schema::{institutions, member_institutions, ticket_events, tickets};
use hotline_storage::{Storage, StorageError};

use crate::helpers;

fn insert_institution(storage: &Storage, id: &str, key: &str) -> Result<(), StorageError> {
    storage.write(|conn| {
        let at = helpers::now();
        diesel::insert_into(institutions::table)
            .values((
                institutions::id.eq(id),
                institutions::institution_key.eq(key),
                institutions::name.eq("医療法人 例会 例病院"),
                institutions::name_search.eq("例病院"),
                institutions::kind.eq("hospital"),
                institutions::prefecture.eq("13"),
                institutions::postal_code.eq("1000001"),
                institutions::address.eq("東京都千代田区千代田1-1"),
                institutions::phone.eq("03-0000-0000"),
                institutions::created_at.eq(at),
                institutions::updated_at.eq(at),
            ))
            .execute(conn)?;
        Ok(())
    })
}

fn constraint_violations_are_conflicts_and_missing_rows_not_found(storage: &Storage) {
    insert_institution(storage, "inst-1", "key-1").expect("first institution");

    let duplicate = insert_institution(storage, "inst-2", "key-1").expect_err("duplicate key");
    let dangling = storage
        .write(|conn| {
            diesel::insert_into(member_institutions::table)
                .values((
                    member_institutions::member_id.eq("no-such-member"),
                    member_institutions::institution_id.eq("inst-1"),
                    member_institutions::role.eq("director"),
                ))
                .execute(conn)?;
            Ok(())
        })
        .expect_err("unknown member");
    let missing = storage
        .read(|conn| Ok(tickets::table.find("no-such-ticket").select(tickets::id).first::<String>(conn)?))
        .expect_err("no ticket");

    let StorageError::Conflict(message) = &duplicate else {
        panic!("duplicate key: expected Conflict, got {duplicate:?}");
    };
    assert!(message.contains("institution"), "{message}");
    assert!(matches!(dangling, StorageError::Conflict(_)), "{dangling:?}");
    assert!(matches!(missing, StorageError::NotFound), "{missing:?}");
}

#[test]
fn sqlite_constraint_violations_are_conflicts_and_missing_rows_not_found() {
    constraint_violations_are_conflicts_and_missing_rows_not_found(&helpers::sqlite().storage);
}

#[test]
fn postgres_constraint_violations_are_conflicts_and_missing_rows_not_found() {
    let Some(db) = helpers::postgres() else {
        return;
    };
    constraint_violations_are_conflicts_and_missing_rows_not_found(&db.storage);
}

fn ticket_events_reject_update_and_delete(storage: &Storage) {
    helpers::seed_ticket_with_event(storage);

    let update = storage
        .write(|conn| {
            diesel::update(ticket_events::table.find("evt-1"))
                .set(ticket_events::action.eq("tampered"))
                .execute(conn)?;
            Ok(())
        })
        .expect_err("update must be refused");
    let delete = storage
        .write(|conn| {
            diesel::delete(ticket_events::table.find("evt-1")).execute(conn)?;
            Ok(())
        })
        .expect_err("delete must be refused");
    let action = storage
        .read(|conn| {
            Ok(ticket_events::table.find("evt-1").select(ticket_events::action).first::<String>(conn)?)
        })
        .expect("event still there");

    for error in [&update, &delete] {
        assert!(
            matches!(error, StorageError::Other(m) if m.contains("ticket_events is append-only")),
            "{error:?}"
        );
    }
    assert_eq!(action, "created");
}

#[test]
fn sqlite_ticket_events_reject_update_and_delete() {
    ticket_events_reject_update_and_delete(&helpers::sqlite().storage);
}

#[test]
fn postgres_ticket_events_reject_update_and_delete() {
    let Some(db) = helpers::postgres() else {
        return;
    };
    ticket_events_reject_update_and_delete(&db.storage);
}

#[test]
fn postgres_ticket_events_reject_truncate() {
    let Some(db) = helpers::postgres() else {
        return;
    };
    helpers::seed_ticket_with_event(&db.storage);

    let error = db
        .storage
        .write(|conn| {
            // CASCADE: ticket_event_texts refers to it (a plain TRUNCATE is refused by that alone).
            diesel::sql_query("TRUNCATE ticket_events CASCADE").execute(conn)?;
            Ok(())
        })
        .expect_err("truncate must be refused");

    assert!(matches!(&error, StorageError::Other(m) if m.contains("append-only")), "{error:?}");
}
