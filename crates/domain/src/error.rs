//! The one error type users see: a stable machine code plus a sentence in Swedish (and English)
//! that says what to do. The HTTP layer turns it into `application/problem+json`.

use serde::Serialize;

/// What kind of refusal this is; the shells map it to a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The input is malformed or a value is invalid.
    Invalid,
    /// The thing referred to does not exist (or the caller may not know it exists).
    NotFound,
    /// The request is valid but the case is not in a state that allows it (a step out of order).
    Conflict,
    /// The caller's unit or role may not do this.
    Forbidden,
    /// Consent required for the action is missing or withdrawn.
    ConsentRequired,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    /// Stable code for machines, e.g. `step_out_of_order`.
    pub code: &'static str,
    /// The field of the input the problem is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message_sv: String,
    pub message_en: String,
}

impl Problem {
    pub fn new(kind: ProblemKind, code: &'static str, sv: impl Into<String>, en: impl Into<String>) -> Self {
        Self { kind, code, field: None, message_sv: sv.into(), message_en: en.into() }
    }

    pub fn invalid_field(field: &str, code: &'static str, sv: impl Into<String>, en: impl Into<String>) -> Self {
        Self { field: Some(field.to_string()), ..Self::new(ProblemKind::Invalid, code, sv, en) }
    }

    pub fn invalid(code: &'static str, sv: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(ProblemKind::Invalid, code, sv, en)
    }

    pub fn conflict(code: &'static str, sv: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(ProblemKind::Conflict, code, sv, en)
    }

    pub fn forbidden(code: &'static str, sv: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(ProblemKind::Forbidden, code, sv, en)
    }

    pub fn not_found(code: &'static str, sv: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(ProblemKind::NotFound, code, sv, en)
    }

    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_string());
        self
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message_en)
    }
}

impl std::error::Error for Problem {}
