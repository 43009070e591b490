//! The engine's one error type. At the FFI edge it becomes a Python exception.

use std::fmt;

/// Everything that can go wrong in the engine. Messages never carry scanned text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A catalogue file or entry is invalid.
    Catalogue {
        /// The file (or `<builtin>`) the problem is in.
        origin: String,
        /// The entry's name, when the problem is in one entry.
        entry: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A request or response body could not be processed.
    Body {
        /// What is wrong, and where (a byte offset, never the content).
        message: String,
    },
}

impl Error {
    pub(crate) fn catalogue(origin: &str, entry: Option<&str>, message: impl Into<String>) -> Self {
        Error::Catalogue {
            origin: origin.to_owned(),
            entry: entry.map(str::to_owned),
            message: message.into(),
        }
    }

    pub(crate) fn body(message: impl Into<String>) -> Self {
        Error::Body {
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Catalogue {
                origin,
                entry: Some(entry),
                message,
            } => {
                write!(f, "{origin}: pattern \"{entry}\": {message}")
            }
            Error::Catalogue {
                origin,
                entry: None,
                message,
            } => write!(f, "{origin}: {message}"),
            Error::Body { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for results carrying [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
