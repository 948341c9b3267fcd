//! The registry search on both backends: ranking (exact identifier, then prefix, then substring, each
//! by name), short queries by prefix only, and an index that follows every import.

use chrono::Utc;
use diesel::prelude::*;
use hotline_domain::registry::{RegistrySnapshot, parse_registry_csv};
use hotline_storage::Storage;
use hotline_storage::queries::registry;
use hotline_storage::schema::registry_search;

const HEADER: &str = "member_number,registration_number,member_name,member_kana,member_class,institution_key,\
     institution_name,institution_kind,prefecture,postal_code,address,phone,institution_code,role";

/// Names chosen so that their order (伊藤 < 佐藤 < 小山田 < 山本 < 山田 < 渡辺 by code point) differs from
/// the ranking the tests expect.
const ROSTER: [&str; 7] = [
    "0000000001,312345,渡辺 一郎,ワタナベ イチロウ,A1,k1,渡辺医院,clinic,13,100-0001,東京都千代田区1-1,03-9999-0001,,founder",
    "0000000002,,山本 二郎,ヤマモト ジロウ,A1,k2,山本クリニック,clinic,13,100-0002,東京都千代田区2-2,03-1234-5999,,founder",
    "0000000003,,伊藤 三郎,イトウ サブロウ,A1,k3,伊藤内科,clinic,27,530-0001,大阪府大阪市北区3-3,06-0312-3456,,founder",
    "0000000004,,山田 太郎,ヤマダ タロウ,A1,k4,本郷クリニック,clinic,13,113-0033,東京都文京区本郷1-1-1,03-1111-0004,1310000004,founder",
    "0000000005,,小山田 花子,オヤマダ ハナコ,A1,k5,小山田医院,clinic,27,530-0005,大阪府大阪市北区5-5,06-1111-0005,,founder",
    "0000000006,,佐藤 四郎,サトウ シロウ,A1,k6,山田記念病院,hospital,13,100-0006,東京都千代田区6-6,03-1111-0006,,founder",
    "0000000007,,鈴木 五郎,スズキ ゴロウ,A1,k7,みどり診療所,clinic,01,060-0007,北海道虻田郡山田町1丁目2番,011-111-0007,,founder",
];

fn snapshot(rows: &[&str]) -> RegistrySnapshot {
    let csv = format!("{HEADER}\n{}\n", rows.join("\n"));
    parse_registry_csv(csv.as_bytes()).expect("a valid roster")
}

fn import(storage: &Storage, rows: &[&str]) {
    let snapshot = snapshot(rows);
    let options = registry::ImportOptions::additive(Utc::now().date_naive());
    storage.write(|conn| registry::import(conn, &snapshot, Utc::now(), None, &options)).expect("import");
}

fn search(storage: &Storage, q: &str, limit: i64) -> Vec<String> {
    storage
        .read(|conn| registry::search(conn, q, limit))
        .expect("search")
        .into_iter()
        .map(|member| member.member_number)
        .collect()
}

fn numbers(ids: &[u8]) -> Vec<String> {
    ids.iter().map(|id| format!("000000000{id}")).collect()
}

fn ranks_exact_identifier_then_prefix_then_substring(storage: &Storage) {
    import(storage, &ROSTER);

    // Registration number 312345 (exact), a phone starting with 0312345, a phone containing it.
    assert_eq!(search(storage, "0312345", 20), numbers(&[1, 2, 3]));
    assert_eq!(search(storage, "0312345", 2), numbers(&[1, 2]), "the limit cuts after ranking");
    // Kana that starts with ヤマダ before kana that contains it; hiragana and half width alike.
    assert_eq!(search(storage, "ヤマダ", 20), numbers(&[4, 5]));
    assert_eq!(search(storage, "やまだ", 20), numbers(&[4, 5]));
    assert_eq!(search(storage, "ﾔﾏﾀﾞ", 20), numbers(&[4, 5]));
    // An institution name's start, and the inside of a name.
    assert_eq!(search(storage, "山田記念", 20), numbers(&[6]));
    assert_eq!(search(storage, "田太郎", 20), numbers(&[4]));
    // Addresses, compared with their block markers unified: 1丁目2番 is 1-2.
    assert_eq!(search(storage, "山田町", 20), numbers(&[7]));
    assert_eq!(search(storage, "1丁目2番", 20), numbers(&[7]));
    // Identifiers: member number, medical institution code, phone, each exact.
    assert_eq!(search(storage, "0000000004", 20), numbers(&[4]));
    assert_eq!(search(storage, "1310000004", 20), numbers(&[4]));
    assert_eq!(search(storage, "011-111-0007", 20), numbers(&[7]));
    // Nothing, and text that would be a wildcard in LIKE or syntax in FTS5.
    for q in ["存在しない医院", "%%%", "___", "\\\\\\", "\"\"\"", "a\" OR \"b", "山田*"] {
        assert_eq!(search(storage, q, 20), Vec::<String>::new(), "q={q:?}");
    }
}

fn short_queries_match_the_start_of_names_kana_and_institution_names_only(storage: &Storage) {
    import(storage, &ROSTER);

    // 山田 starts 山田 太郎's name and 佐藤 四郎's institution; 小山田 (inside a name) and 山田町 (inside
    // an address) need three characters or more.
    assert_eq!(search(storage, "山田", 20), numbers(&[6, 4]));
    assert_eq!(search(storage, "ヤ", 20), numbers(&[2, 4]));
    // Past the limit, which members a short query returns follows each key's order (ヤマダ < ヤマモト),
    // not the name order of the answer: every key's range stops after `limit` rows.
    assert_eq!(search(storage, "ﾔﾏ", 1), numbers(&[4]));
    assert_eq!(search(storage, "%", 20), Vec::<String>::new());
    // Two digits are only ever an exact identifier.
    assert_eq!(search(storage, "03", 20), Vec::<String>::new());
}

fn the_index_follows_imports(storage: &Storage) {
    import(storage, &ROSTER);
    let mut changed = ROSTER;
    changed[3] = "0000000004,,山田 太一,ヤマダ タイチ,A1,k4,本郷クリニック,clinic,13,113-0033,東京都文京区本郷1-1-1,03-1111-0004,1310000004,founder";
    changed[5] = "0000000006,,佐藤 四郎,サトウ シロウ,A1,k6,川田記念病院,hospital,13,100-0006,東京都千代田区6-6,03-1111-0006,,founder";
    import(storage, &changed);

    assert_eq!(search(storage, "山田太郎", 20), Vec::<String>::new());
    assert_eq!(search(storage, "山田太一", 20), numbers(&[4]));
    assert_eq!(search(storage, "山田記念", 20), Vec::<String>::new());
    assert_eq!(search(storage, "川田記念", 20), numbers(&[6]));

    // A second institution for member 1, in a file that mentions only that link.
    import(
        storage,
        &[
            "0000000001,312345,渡辺 一郎,ワタナベ イチロウ,A1,k8,渡辺分院,clinic,13,100-0008,東京都港区8-8,03-8888-0008,,founder",
        ],
    );
    assert_eq!(search(storage, "渡辺分院", 20), numbers(&[1]));
    assert_eq!(search(storage, "渡辺医院", 20), numbers(&[1]), "the link the file left out stays found");
    let rows: i64 = storage.read(|conn| Ok(registry_search::table.count().get_result(conn)?)).expect("count");
    assert_eq!(rows, 8, "one row per member–institution link");
}

fn a_registry_imported_before_the_index_is_indexed_by_migrate(storage: &Storage) {
    import(storage, &ROSTER);
    storage
        .write(|conn| {
            Ok::<_, hotline_storage::StorageError>(diesel::delete(registry_search::table).execute(conn)?)
        })
        .expect("empty the index as before its migration");
    assert_eq!(search(storage, "山田記念", 20), Vec::<String>::new());

    storage.run_migrations().expect("migrate");

    assert_eq!(search(storage, "山田記念", 20), numbers(&[6]));
    assert_eq!(search(storage, "0312345", 20), numbers(&[1, 2, 3]));
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                super::$name(&crate::helpers::sqlite().storage);
            })*
        }
        mod postgres {
            $(#[test]
            fn $name() {
                let Some(db) = crate::helpers::postgres() else { return };
                super::$name(&db.storage);
            })*
        }
    };
}

on_both_backends!(
    ranks_exact_identifier_then_prefix_then_substring,
    short_queries_match_the_start_of_names_kana_and_institution_names_only,
    the_index_follows_imports,
    a_registry_imported_before_the_index_is_indexed_by_migrate,
);
