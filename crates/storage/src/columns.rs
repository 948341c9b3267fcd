//! How domain values live in the portable columns, written once: UUIDs as `Text`, instants as UTC
//! `Timestamp` (truncated to microseconds, which both backends keep), and the domain's named values
//! (statuses, kinds, roles…) as `Text` under their stable names. Row structs name these mappings on
//! their fields (`#[diesel(deserialize_as = …, serialize_as = …)]`), so no query parses or formats a
//! column by hand. A stored value that does not parse is a deserialisation error — a 500 with the
//! column in the log — never a silent default.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;
use hotline_domain::prefecture::PrefectureCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::MultiBackend;

/// A UUID in a `Text` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct DbUuid(pub Uuid);

/// An instant in a `Timestamp` column: UTC without a zone, truncated to microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Timestamp)]
pub struct DbTime(NaiveDateTime);

fn corrupt(what: &str, text: &str) -> Box<dyn std::error::Error + Send + Sync> {
    format!("unexpected {what} in the database: {text:?}").into()
}

/// `FromSql`/`ToSql` of a `Text` mapping on both backends and the multi-backend, given how the value
/// reads from and writes to text.
macro_rules! text_mapping {
    ($ty:ty, |$text:ident| $read:expr, |$value:ident| $write:expr) => {
        impl FromSql<Text, Pg> for $ty {
            fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let $text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                $read
            }
        }

        impl FromSql<Text, Sqlite> for $ty {
            fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let $text = <String as FromSql<Text, Sqlite>>::from_sql(bytes)?;
                $read
            }
        }

        impl FromSql<Text, MultiBackend> for $ty {
            fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                bytes.from_sql::<$ty, Text>()
            }
        }

        impl ToSql<Text, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                let $value = self;
                let text: String = $write;
                std::io::Write::write_all(out, text.as_bytes())?;
                Ok(IsNull::No)
            }
        }

        impl ToSql<Text, Sqlite> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                let $value = self;
                let text: String = $write;
                out.set_value(text);
                Ok(IsNull::No)
            }
        }

        impl ToSql<Text, MultiBackend> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self));
                Ok(IsNull::No)
            }
        }
    };
}

text_mapping!(
    DbUuid,
    |text| Uuid::parse_str(&text).map(DbUuid).map_err(|_| corrupt("UUID", &text)),
    |value| value.0.to_string()
);

impl From<DbUuid> for Uuid {
    fn from(value: DbUuid) -> Self {
        value.0
    }
}

impl From<Uuid> for DbUuid {
    fn from(value: Uuid) -> Self {
        DbUuid(value)
    }
}

impl From<&Uuid> for DbUuid {
    fn from(value: &Uuid) -> Self {
        DbUuid(*value)
    }
}

impl FromSql<Timestamp, Pg> for DbTime {
    fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(bytes).map(DbTime)
    }
}

impl FromSql<Timestamp, Sqlite> for DbTime {
    fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(bytes).map(DbTime)
    }
}

impl ToSql<Timestamp, Pg> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <NaiveDateTime as ToSql<Timestamp, Pg>>::to_sql(&self.0, out)
    }
}

impl ToSql<Timestamp, Sqlite> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        <NaiveDateTime as ToSql<Timestamp, Sqlite>>::to_sql(&self.0, out)
    }
}

impl FromSql<Timestamp, MultiBackend> for DbTime {
    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, MultiBackend>>::from_sql(bytes).map(DbTime)
    }
}

impl ToSql<Timestamp, MultiBackend> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Timestamp, &self.0));
        Ok(IsNull::No)
    }
}

impl From<DbTime> for DateTime<Utc> {
    fn from(value: DbTime) -> Self {
        crate::utc(value.0)
    }
}

impl From<DateTime<Utc>> for DbTime {
    fn from(value: DateTime<Utc>) -> Self {
        DbTime(crate::db_time(value))
    }
}

impl From<&DateTime<Utc>> for DbTime {
    fn from(value: &DateTime<Utc>) -> Self {
        DbTime(crate::db_time(*value))
    }
}

/// Declares the `Text` mapping of a domain value with `as_str` and `parse` (its stable names): a
/// newtype `$name` that rows name in `deserialize_as`/`serialize_as`.
macro_rules! named_values {
    ($($(#[doc = $doc:literal])* $name:ident => $ty:ty, $what:literal;)+) => {$(
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
        #[diesel(sql_type = Text)]
        pub struct $name(pub $ty);

        text_mapping!($name, |text| <$ty>::parse(&text).map($name).map_err(|_| corrupt($what, &text)), |value| value.0.as_str().to_owned());

        impl From<$name> for $ty {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl From<$ty> for $name {
            fn from(value: $ty) -> Self {
                $name(value)
            }
        }

        impl From<&$ty> for $name {
            fn from(value: &$ty) -> Self {
                $name(*value)
            }
        }
    )+};
}

named_values! {
    /// A ticket's status.
    DbTicketStatus => hotline_domain::ticket::TicketStatus, "ticket status";
    /// A priority, `P1`–`P4`.
    DbPriority => hotline_domain::triage::Priority, "priority";
    /// A triage category.
    DbCategory => hotline_domain::triage::Category, "category";
    /// A kind of incident.
    DbIncidentKind => hotline_domain::triage::IncidentKind, "incident kind";
    /// A referral's kind.
    DbReferralKind => hotline_domain::referral::ReferralKind, "referral kind";
    /// A referral's status.
    DbReferralStatus => hotline_domain::referral::ReferralStatus, "referral status";
    /// Who consented.
    DbConsentGiver => hotline_domain::referral::ConsentGiver, "consent giver";
    /// A token's role.
    DbRole => hotline_domain::role::Role, "role";
    /// An alert's delivery status.
    DbOutboxStatus => hotline_domain::outbox::OutboxStatus, "outbox status";
    /// An alert's channel.
    DbChannel => hotline_domain::outbox::Channel, "channel";
    /// An audit action.
    DbEventAction => hotline_domain::ticket::EventAction, "audit action";
    /// A caller's relation to the member.
    DbCallerRole => hotline_domain::person::CallerRole, "caller role";
    /// The kind of identifier a caller gave.
    DbIdentifierKind => hotline_domain::identifiers::IdentifierKind, "identifier kind";
    /// What a read of personal data showed.
    DbAccessKind => hotline_domain::privacy::AccessKind, "access kind";
}

/// A nullable mapping over one of the above: `None` is SQL `NULL`.
macro_rules! nullable_mapping {
    ($(#[doc = $doc:literal])* $name:ident => $inner:ident over $sql:ty, $value:ty) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
        #[diesel(sql_type = Nullable<$sql>)]
        pub struct $name(pub Option<$inner>);

        impl FromSql<Nullable<$sql>, MultiBackend> for $name {
            fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                <$inner as FromSql<$sql, MultiBackend>>::from_sql(bytes).map(|inner| $name(Some(inner)))
            }

            fn from_nullable_sql(
                bytes: Option<<MultiBackend as Backend>::RawValue<'_>>,
            ) -> deserialize::Result<Self> {
                match bytes {
                    Some(bytes) => Self::from_sql(bytes),
                    None => Ok($name(None)),
                }
            }
        }

        impl ToSql<Nullable<$sql>, MultiBackend> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                match &self.0 {
                    Some(inner) => <$inner as ToSql<$sql, MultiBackend>>::to_sql(inner, out),
                    None => Ok(IsNull::Yes),
                }
            }
        }

        impl ToSql<Nullable<$sql>, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                match &self.0 {
                    Some(inner) => <$inner as ToSql<$sql, Pg>>::to_sql(inner, out),
                    None => Ok(IsNull::Yes),
                }
            }
        }

        impl ToSql<Nullable<$sql>, Sqlite> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                match &self.0 {
                    Some(inner) => <$inner as ToSql<$sql, Sqlite>>::to_sql(inner, out),
                    None => Ok(IsNull::Yes),
                }
            }
        }

        impl From<$name> for Option<$value> {
            fn from(value: $name) -> Self {
                value.0.map(Into::into)
            }
        }

        impl From<Option<$value>> for $name {
            fn from(value: Option<$value>) -> Self {
                $name(value.map(Into::into))
            }
        }

        impl From<&Option<$value>> for $name {
            fn from(value: &Option<$value>) -> Self {
                $name(value.as_ref().map(Into::into))
            }
        }
    };
}

nullable_mapping!(
    /// An optional UUID in a nullable `Text` column.
    DbOptUuid => DbUuid over Text, Uuid
);
nullable_mapping!(
    /// An optional instant in a nullable `Timestamp` column.
    DbOptTime => DbTime over Timestamp, DateTime<Utc>
);
nullable_mapping!(
    /// An optional priority.
    DbOptPriority => DbPriority over Text, hotline_domain::triage::Priority
);

/// A prefecture in a `Text` column, by its two-digit code (`01`–`47`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct DbPrefecture(pub PrefectureCode);

text_mapping!(
    DbPrefecture,
    |text| PrefectureCode::parse(&text).map(DbPrefecture).map_err(|_| corrupt("prefecture code", &text)),
    |value| value.0.code()
);

impl From<DbPrefecture> for PrefectureCode {
    fn from(value: DbPrefecture) -> Self {
        value.0
    }
}

impl From<PrefectureCode> for DbPrefecture {
    fn from(value: PrefectureCode) -> Self {
        DbPrefecture(value)
    }
}

impl From<&PrefectureCode> for DbPrefecture {
    fn from(value: &PrefectureCode) -> Self {
        DbPrefecture(*value)
    }
}

/// Plain data kept as JSON in a `Text` column (a list of addresses, office hours): what the row holds is
/// the typed value, and a stored text that does not parse is a deserialisation error.
#[derive(Debug, Clone, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct DbJson<T>(pub T);

fn read_json<T: DeserializeOwned>(text: &str) -> deserialize::Result<T> {
    serde_json::from_str(text).map_err(|_| corrupt("JSON", text))
}

impl<T: DeserializeOwned> FromSql<Text, Pg> for DbJson<T> {
    fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        read_json(&<String as FromSql<Text, Pg>>::from_sql(bytes)?).map(DbJson)
    }
}

impl<T: DeserializeOwned> FromSql<Text, Sqlite> for DbJson<T> {
    fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        read_json(&<String as FromSql<Text, Sqlite>>::from_sql(bytes)?).map(DbJson)
    }
}

impl<T: DeserializeOwned> FromSql<Text, MultiBackend> for DbJson<T> {
    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        read_json(&<String as FromSql<Text, MultiBackend>>::from_sql(bytes)?).map(DbJson)
    }
}

impl<T: Serialize + std::fmt::Debug> ToSql<Text, Pg> for DbJson<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        serde_json::to_writer(out, &self.0)?;
        Ok(IsNull::No)
    }
}

impl<T: Serialize + std::fmt::Debug> ToSql<Text, Sqlite> for DbJson<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(serde_json::to_string(&self.0)?);
        Ok(IsNull::No)
    }
}

impl<T: Serialize + std::fmt::Debug + Send + Sync + 'static> ToSql<Text, MultiBackend> for DbJson<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Text, self));
        Ok(IsNull::No)
    }
}

impl<T> From<T> for DbJson<T> {
    fn from(value: T) -> Self {
        DbJson(value)
    }
}

/// Optional plain data kept as JSON in a nullable `Text` column; `None` is SQL `NULL`.
#[derive(Debug, Clone, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Nullable<Text>)]
pub struct DbOptJson<T>(pub Option<T>);

impl<T: DeserializeOwned> FromSql<Nullable<Text>, MultiBackend> for DbOptJson<T> {
    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <DbJson<T> as FromSql<Text, MultiBackend>>::from_sql(bytes).map(|json| DbOptJson(Some(json.0)))
    }

    fn from_nullable_sql(
        bytes: Option<<MultiBackend as Backend>::RawValue<'_>>,
    ) -> deserialize::Result<Self> {
        match bytes {
            Some(bytes) => Self::from_sql(bytes),
            None => Ok(DbOptJson(None)),
        }
    }
}

impl<T: Serialize + std::fmt::Debug + Send + Sync + 'static> ToSql<Nullable<Text>, MultiBackend>
    for DbOptJson<T>
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        match &self.0 {
            Some(_) => {
                out.set_value((Text, self));
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }
}

impl<T: Serialize + std::fmt::Debug + Send + Sync + 'static> ToSql<Text, MultiBackend> for DbOptJson<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Text, self));
        Ok(IsNull::No)
    }
}

impl<T: Serialize + std::fmt::Debug> ToSql<Text, Pg> for DbOptJson<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        serde_json::to_writer(out, &self.0)?;
        Ok(IsNull::No)
    }
}

impl<T: Serialize + std::fmt::Debug> ToSql<Text, Sqlite> for DbOptJson<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(serde_json::to_string(&self.0)?);
        Ok(IsNull::No)
    }
}

impl<T> From<DbOptJson<T>> for Option<T> {
    fn from(value: DbOptJson<T>) -> Self {
        value.0
    }
}

impl<T> From<Option<T>> for DbOptJson<T> {
    fn from(value: Option<T>) -> Self {
        DbOptJson(value)
    }
}

impl<T: Serialize + std::fmt::Debug> ToSql<Nullable<Text>, Pg> for DbOptJson<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        match &self.0 {
            Some(value) => {
                serde_json::to_writer(out, value)?;
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }
}

impl<T: Serialize + std::fmt::Debug> ToSql<Nullable<Text>, Sqlite> for DbOptJson<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        match &self.0 {
            Some(value) => {
                out.set_value(serde_json::to_string(value)?);
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }
}

/// A list of texts (a partner's addresses) read back from its JSON.
impl From<DbJson<Vec<String>>> for Vec<String> {
    fn from(value: DbJson<Vec<String>>) -> Self {
        value.0
    }
}
