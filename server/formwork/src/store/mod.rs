//! Storage: connections, migrations, the single writer, the operation log, record SQL.

pub mod audit;
pub mod db;
pub mod generation;
pub mod maintenance;
pub mod migrate;
pub mod oplog;
pub mod records;
pub mod signing;
pub mod writer;
