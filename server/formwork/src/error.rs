//! Domain errors: what went wrong, in terms of the platform, never of HTTP.
//! `api::error` maps every variant to a status and the one error shape.

use sea_orm::{DbErr, SqlErr};
use serde::Serialize;

/// One problem, located by a JSON pointer into the request (or definition) it concerns.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Detail {
    pub pointer: String,
    pub rule: String,
    pub message: String,
}

impl Detail {
    pub fn new(
        pointer: impl Into<String>,
        rule: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Detail {
            pointer: pointer.into(),
            rule: rule.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The thing asked for does not exist (or is not visible).
    #[error("{0} not found")]
    NotFound(String),
    /// The request is well-formed but its content breaks rules (schema, field types, …).
    #[error("{message}")]
    Invalid {
        message: String,
        details: Vec<Detail>,
    },
    /// The request itself is malformed (bad filter, bad query parameter, …).
    #[error("{message}")]
    BadRequest {
        message: String,
        details: Vec<Detail>,
    },
    /// The request conflicts with the current state (duplicate key, unpublished form, …).
    #[error("{message}")]
    Conflict {
        message: String,
        details: Vec<Detail>,
    },
    /// No valid credentials came with the request.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller is known but may not do this; details name the field or action.
    #[error("{message}")]
    Forbidden {
        message: String,
        details: Vec<Detail>,
    },
    /// Too many attempts (login); retry after this many seconds.
    #[error("{message}")]
    TooMany { message: String, retry_after: u64 },
    /// `If-Match` named a row version that is no longer current.
    #[error("the record was changed by someone else (current version {current})")]
    Stale { current: i64 },
    /// The database cannot be reached; retrying later may succeed.
    #[error("the database is unavailable")]
    Unavailable(String),
    /// The database refused this transaction for now (another process held SQLite's
    /// write lock past the busy timeout; a PostgreSQL serialization failure, deadlock or
    /// lock timeout). Nothing of it was applied; the same work can simply run again.
    #[error("the database is busy: {0}")]
    Busy(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type DomainResult<T> = Result<T, DomainError>;

impl DomainError {
    pub fn invalid(details: Vec<Detail>) -> Self {
        let message = match details.as_slice() {
            [one] => format!("{}: {}", one.pointer, one.message),
            many => format!("{} problems; see details", many.len()),
        };
        DomainError::Invalid { message, details }
    }

    /// `Ok` when no problem was found, else 422 with every detail.
    pub fn unless_any(details: Vec<Detail>) -> DomainResult<()> {
        if details.is_empty() {
            Ok(())
        } else {
            Err(Self::invalid(details))
        }
    }

    pub fn invalid_one(pointer: &str, rule: &str, message: impl Into<String>) -> Self {
        Self::invalid(vec![Detail::new(pointer, rule, message)])
    }

    pub fn bad_request(pointer: &str, rule: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        DomainError::BadRequest {
            message: if pointer.is_empty() {
                message.clone()
            } else {
                format!("{pointer}: {message}")
            },
            details: vec![Detail::new(pointer, rule, message)],
        }
    }

    pub fn forbidden(pointer: &str, rule: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        DomainError::Forbidden {
            message: if pointer.is_empty() {
                message.clone()
            } else {
                format!("{pointer}: {message}")
            },
            details: vec![Detail::new(pointer, rule, message)],
        }
    }

    /// Failures that go away by themselves: running the same work later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, DomainError::Unavailable(_) | DomainError::Busy(_))
    }

    pub fn conflict(message: impl Into<String>, details: Vec<Detail>) -> Self {
        DomainError::Conflict {
            message: message.into(),
            details,
        }
    }
}

impl From<DbErr> for DomainError {
    fn from(err: DbErr) -> Self {
        if is_busy(&err) {
            return DomainError::Busy(err.to_string());
        }
        if is_unavailable(&err) {
            return DomainError::Unavailable(err.to_string());
        }
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(msg)) => {
                DomainError::conflict(format!("a unique value is already taken: {msg}"), vec![])
            }
            _ => DomainError::Internal(anyhow::Error::new(err)),
        }
    }
}

/// A transaction the database refused for now: SQLite's `SQLITE_BUSY` / `SQLITE_LOCKED`
/// (primary codes 5 and 6, whatever the extended code) and PostgreSQL's
/// `serialization_failure` (40001), `deadlock_detected` (40P01) and `lock_not_available`
/// (55P03). Nothing of the transaction stands; it can run again as it was.
pub fn is_busy(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    let (DbErr::Exec(RuntimeErr::SqlxError(e))
    | DbErr::Query(RuntimeErr::SqlxError(e))
    | DbErr::Conn(RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    let sea_orm::sqlx::Error::Database(db) = &**e else {
        return false;
    };
    let Some(code) = db.code() else {
        return false;
    };
    if db
        .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
        .is_some()
    {
        // SQLite reports the extended code; its low byte is the primary one.
        code.parse::<i64>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))
    } else {
        matches!(code.as_ref(), "40001" | "40P01" | "55P03")
    }
}

/// Connection-level failures (server gone, pool exhausted, I/O) as opposed to bad SQL.
pub fn is_unavailable(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        other => {
            let text = other.to_string().to_lowercase();
            [
                "connection refused",
                "connection reset",
                "broken pipe",
                "pool timed out",
                "terminating connection",
                "the database system is",
                "unable to open database",
                "disk i/o error",
                "error communicating",
                "connection closed",
                "io error",
            ]
            .iter()
            .any(|needle| text.contains(needle))
        }
    }
}
