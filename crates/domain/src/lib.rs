//! Pure hotline rules: the values the service accepts, the service window, caller verification and
//! ticket references. No I/O and no clock: every function that depends on time takes it as a parameter,
//! so the rules can be tested exhaustively and reused by storage, API and CLI alike.

pub mod call;
pub mod error;
pub mod identifiers;
pub mod institution;
pub mod person;
pub mod prefecture;
pub mod registry;
pub mod role;
pub mod schedule;
pub mod text;
pub mod ticket;
pub mod verification;

pub use error::{FieldError, ValidationErrors};
