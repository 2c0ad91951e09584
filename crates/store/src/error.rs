//! Errors of the store: what failed, where, and why.

use std::error::Error as StdError;
use std::fmt;
use std::path::PathBuf;

/// Why a store operation failed. Its `Display` names the operation ("opening /x/otsensor.db",
/// "saving run 3") and then the cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The data directory could not be created.
    #[error("creating the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
    /// The database refused or failed an operation (cannot open the file, disk full, a
    /// constraint, a migration that does not apply).
    #[error("{context}: {source}")]
    Database {
        /// The operation, e.g. "saving run 3".
        context: String,
        /// What the database said.
        #[source]
        source: DatabaseError,
    },
    /// The caller asked for something the store will not do: finish a run that is not running,
    /// save a sub-device whose parent is unknown, start a second run of a running scan.
    #[error("{context}: {detail}")]
    Rejected {
        /// The operation.
        context: String,
        /// Why it was refused.
        detail: String,
    },
    /// Stored data did not read back as domain types (a damaged or foreign database file).
    #[error("{context}: the database holds data otsensor cannot read: {detail}")]
    Corrupt {
        /// The operation.
        context: String,
        /// What could not be read.
        detail: String,
    },
}

/// An error of the database engine, kept opaque so that the backend can change without
/// changing the store's API.
#[derive(Debug)]
pub struct DatabaseError(Box<dyn StdError + Send + Sync + 'static>);

impl fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl StdError for DatabaseError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

/// A failure inside an operation, before the operation's context is known; public methods turn
/// it into a [`StoreError`] with [`Failure::context`].
#[derive(Debug)]
pub(crate) enum Failure {
    /// From the database engine.
    Database(Box<dyn StdError + Send + Sync + 'static>),
    /// A refused request.
    Rejected(String),
    /// Unreadable stored data.
    Corrupt(String),
}

impl Failure {
    /// Names the operation that failed.
    pub(crate) fn context(self, context: impl Into<String>) -> StoreError {
        let context = context.into();
        match self {
            Failure::Database(source) => StoreError::Database {
                context,
                source: DatabaseError(source),
            },
            Failure::Rejected(detail) => StoreError::Rejected { context, detail },
            Failure::Corrupt(detail) => StoreError::Corrupt { context, detail },
        }
    }
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Failure {
        Failure::Database(Box::new(e))
    }
}

impl From<sqlx::migrate::MigrateError> for Failure {
    fn from(e: sqlx::migrate::MigrateError) -> Failure {
        Failure::Database(Box::new(e))
    }
}

/// The result of an operation's inner steps.
pub(crate) type Result<T, E = Failure> = std::result::Result<T, E>;
