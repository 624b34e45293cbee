//! The black-box API suite: one test binary, each test its own server and database,
//! every API test on SQLite and on PostgreSQL.

mod helpers;
mod process;

mod availability;
mod conformance;
mod copies;
mod crash;
mod crm;
mod datetimes;
mod decisions;
mod definitions;
mod effects;
mod errors;
mod files;
mod filters;
mod flow_paths;
mod flows;
mod fuzz;
mod guards;
mod identity;
mod leaks;
mod operations;
mod packages;
mod patterns;
mod people;
mod permissions;
mod print;
mod records;
mod refs;
mod report_drills;
mod report_joins;
mod report_measures;
mod report_rows;
mod report_values;
mod reports;
mod serials;
mod transfer;
mod views;
mod web;
mod workers;
