//! Validation errors that name the offending field, so clients can show them next to the input.

use std::fmt;

/// One rejected input value: where it was (a JSON-pointer-like dotted path) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// Dotted path of the field, e.g. `claimed_institution.prefecture`.
    pub field: String,
    /// Human sentence that says what a valid value looks like, e.g. "prefecture must be 01–47, got 48".
    pub detail: String,
}

impl FieldError {
    /// Builds an error for `field`, so call sites read like the rule they enforce.
    pub fn new(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { field: field.into(), detail: detail.into() }
    }

    /// Re-roots a nested error under a parent field, so parsers of sub-objects stay unaware of their parent.
    pub fn under(mut self, parent: &str) -> Self {
        self.field =
            if self.field.is_empty() { parent.to_owned() } else { format!("{parent}.{}", self.field) };
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.detail)
    }
}

/// All field errors of one input, collected so a client can fix everything in one round trip.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("{} invalid field(s)", .0.len())]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// Records the outcome of parsing one field and hands back the value when it was valid.
    pub fn check<T, E: Into<FieldError>>(&mut self, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error.into());
                None
            }
        }
    }

    /// Adds one error.
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// True when no field was rejected.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Turns the collection into a `Result`, for the end of a parser.
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_error_displays_field_and_detail() {
        let error = FieldError::new("prefecture", "prefecture must be 01–47, got 48");
        assert_eq!(error.to_string(), "prefecture: prefecture must be 01–47, got 48");
    }

    #[test]
    fn under_prefixes_the_parent_path() {
        assert_eq!(FieldError::new("prefecture", "x").under("institution").field, "institution.prefecture");
        assert_eq!(
            FieldError::new("value", "x").under("identifier").under("claim").field,
            "claim.identifier.value"
        );
        assert_eq!(FieldError::new("", "x").under("summary").field, "summary");
    }

    #[test]
    fn check_keeps_valid_values_and_collects_errors_in_order() {
        let mut errors = ValidationErrors::default();
        assert_eq!(errors.check(Ok::<_, FieldError>(1)), Some(1));
        assert!(errors.is_empty());
        assert_eq!(errors.check(Err::<i32, _>(FieldError::new("a", "bad a"))), None);
        errors.push(FieldError::new("b", "bad b"));
        assert!(!errors.is_empty());
        assert_eq!(errors.to_string(), "2 invalid field(s)");
        let fields: Vec<String> = errors.clone().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["a", "b"]);
        assert_eq!(errors.clone().into_result(), Err(errors));
    }

    #[test]
    fn no_errors_is_ok() {
        assert_eq!(ValidationErrors::default().into_result(), Ok(()));
    }

    #[test]
    fn one_field_error_converts_into_a_collection() {
        let errors = ValidationErrors::from(FieldError::new("a", "bad"));
        assert_eq!(errors.0, vec![FieldError::new("a", "bad")]);
    }
}
