//! Identity and permissions: users, departments, sessions and API tokens; roles compiled to
//! casbin rules; one decision per request and form (actions, field masks, row scope).

pub mod account;
pub mod ops;
pub mod password;
pub mod policy;
pub mod service;

pub use policy::Decision;
pub use service::{AuthService, Caller};
