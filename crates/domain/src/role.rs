//! Roles of API tokens, ordered so that a higher role can do everything a lower one can.

use std::fmt;

use crate::FieldError;

/// What a token may do: operator < supervisor < admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Hotline agent: logs calls, works tickets.
    Operator,
    /// Shift lead: queues, assignment, reports, partner directory.
    Supervisor,
    /// Runs the service: tokens, imports.
    Admin,
}

impl Role {
    /// Stable storage and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::Supervisor => "supervisor",
            Self::Admin => "admin",
        }
    }

    /// Parses a stored or given role name.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        match input {
            "operator" => Ok(Self::Operator),
            "supervisor" => Ok(Self::Supervisor),
            "admin" => Ok(Self::Admin),
            other => Err(FieldError::new(
                "role",
                format!("role must be operator, supervisor or admin, got {other:?}"),
            )),
        }
    }

    /// True when this role may act where `required` is needed.
    pub fn allows(self, required: Role) -> bool {
        self >= required
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Role; 3] = [Role::Operator, Role::Supervisor, Role::Admin];

    #[test]
    fn roles_are_ordered_operator_supervisor_admin() {
        assert!(Role::Operator < Role::Supervisor);
        assert!(Role::Supervisor < Role::Admin);
    }

    #[test]
    fn a_role_allows_itself_and_every_lower_role_only() {
        for (i, role) in ALL.into_iter().enumerate() {
            for (j, required) in ALL.into_iter().enumerate() {
                assert_eq!(role.allows(required), i >= j, "{role} allows {required}");
            }
        }
        assert!(Role::Admin.allows(Role::Operator));
        assert!(!Role::Operator.allows(Role::Supervisor));
        assert!(!Role::Supervisor.allows(Role::Admin));
    }

    #[test]
    fn role_round_trips_through_its_name_and_display() {
        for role in ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
            assert_eq!(role.to_string(), role.as_str());
        }
    }

    #[test]
    fn unknown_role_is_refused_naming_the_choices() {
        let error = Role::parse("Admin").expect_err("names are lower case");
        assert_eq!(error.field, "role");
        assert_eq!(error.detail, "role must be operator, supervisor or admin, got \"Admin\"");
        assert!(Role::parse("").is_err());
    }
}
