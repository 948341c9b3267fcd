//! API tokens as admins see them: never the secret or its hash, except the secret once at creation.

use chrono::{DateTime, FixedOffset};
use hotline_domain::role::Role;
use hotline_storage::queries::tokens::TokenRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::context::ViewContext;

/// A token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenView {
    /// Id (the actor id in audit trails).
    pub id: Uuid,
    /// Name, e.g. the desk.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// When created.
    pub created_at: DateTime<FixedOffset>,
    /// Who created it (`null` for tokens made with the CLI).
    pub created_by: Option<Uuid>,
    /// When revoked.
    pub revoked_at: Option<DateTime<FixedOffset>>,
}

impl TokenView {
    /// Shows a token.
    pub fn new(token: &TokenRecord, ctx: &ViewContext<'_>) -> Self {
        Self {
            id: token.id,
            name: token.name.clone(),
            role: token.role,
            created_at: ctx.at(token.created_at),
            created_by: token.created_by,
            revoked_at: ctx.at_opt(token.revoked_at),
        }
    }
}

/// A new token: the secret appears in the first response only (a replay answers `null`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreatedTokenView {
    /// The token.
    #[serde(flatten)]
    pub view: TokenView,
    /// The secret, `hl_` and 64 hex digits; shown once.
    pub token: Option<String>,
}

/// Every token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenList {
    /// Oldest first.
    pub tokens: Vec<TokenView>,
}
