//! Queries over records: the filter language (a JSON Logic subset), sorting and cursors.
//! The same parsed [`filter::Filter`] is compiled to SQL ([`sql`]) and evaluated in memory
//! ([`filter::Filter::matches`]); the property tests hold the two to the same answers.

pub mod fields;
pub mod filter;
pub mod sort;
pub mod sql;
