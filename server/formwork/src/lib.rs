//! Formwork: a self-hosted no-code platform. Forms are JSON Schema, every write takes one
//! path (validate → one transaction with its operation-log entry), one generic records API.
//!
//! Layout: [`api`] (HTTP) → [`service`] (rules) → [`store`] (SQL) with [`schema`] (forms as
//! JSON Schema) and [`query`] (filters, sorts) beside them.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod error;
pub mod flows;
pub mod keys;
pub mod query;
pub mod reports;
pub mod schema;
pub mod service;
pub mod startup;
pub mod store;
pub mod time;
