//! Label and field selectors: upstream's `labels.Parse` / `fields.ParseSelector` grammars and error
//! messages, and matching. (Being implemented: see the API machinery issue.)

/// A selector parse error; `Display` is upstream's message (it becomes a 400 `BadRequest` Status).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);
