//! Services: the rules of the platform, between the HTTP layer and the store.

pub mod audit;
pub mod cells;
pub mod demo;
pub mod export;
pub mod file_access;
pub mod files;
pub mod form_ops;
pub mod forms;
pub mod import;
pub mod import_op;
pub mod listing;
pub mod package;
pub mod prepare;
pub mod print;
pub mod record_checks;
pub mod record_ops;
pub mod records;
pub mod strip;
pub mod transfer;
pub mod views;
