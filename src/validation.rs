//! The one validation error type of the pure core: which field is wrong and why, in words a
//! person can act on. The HTTP layer turns it into a 400 whose JSON names the field.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

pub fn field_error(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field,
        message: message.into(),
    }
}
