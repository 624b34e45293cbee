//! Timestamps are stored as fixed-width RFC 3339 UTC strings (`2026-11-22T17:00:00.123Z`),
//! so that text order is time order on both databases.

use chrono::{SecondsFormat, Utc};

pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}
