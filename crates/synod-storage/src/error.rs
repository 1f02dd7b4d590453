//! Storage errors, one enum per operation family.

/// Opening or loading a data directory.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("database: {0}")]
    Db(Box<redb::Error>),
    #[error("the data directory holds no ledger (no genesis); start it with a genesis first")]
    NoGenesis,
    #[error("the data directory already holds a different genesis")]
    GenesisMismatch,
    #[error("stored data is corrupt or inconsistent: {0}")]
    Store(#[from] StoreError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("the database file is damaged and cannot be opened: {0}")]
    Unreadable(String),
}

/// Reading or writing records.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(Box<redb::Error>),
    #[error("checksum mismatch in table {table} at key {key}: torn or corrupted write")]
    Corrupt { table: &'static str, key: String },
    #[error("stored record in table {table} at key {key} does not decode: {detail}")]
    Undecodable { table: &'static str, key: String, detail: String },
    #[error("stored data is inconsistent: {0}")]
    Inconsistent(String),
}

macro_rules! db_error {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self { StoreError::Db(Box::new(e.into())) }
        }
        impl From<$t> for OpenError {
            fn from(e: $t) -> Self { OpenError::Db(Box::new(e.into())) }
        }
    )*};
}
db_error!(redb::DatabaseError, redb::TransactionError, redb::TableError, redb::StorageError, redb::CommitError);
