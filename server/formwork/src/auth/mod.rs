//! Identity and permissions: users, departments, sessions and API tokens; roles compiled to
//! casbin rules; one decision per request and form (actions, field masks, row scope).

pub mod account;
pub mod adapter;
pub mod decision;
pub mod ops;
pub mod password;
pub mod policy;
pub mod refs;
pub mod roles;
pub mod service;
pub mod tokens;
pub mod users;

pub use decision::Decision;
pub use service::{AuthService, Caller};
