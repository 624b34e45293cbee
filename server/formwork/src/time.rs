//! Timestamps are stored as fixed-width RFC 3339 UTC strings (`2026-11-22T17:00:00.123Z`),
//! so that text order is time order on both databases.
//!
//! Each server has a [`Clock`] (kept in its `Db`): the time written with every transaction
//! (`Batch::now`), the time flows compare due times with, and "today" of records and flows.
//! It is the real time unless a test moved it forward (`[testing] clock = true` enables
//! `POST /api/v1/admin/clock`), so scenario tests drive timers by time, not by sleeping.
//! Sessions and signed webhooks always use the real time.

use chrono::{DateTime, SecondsFormat, Utc};
use std::sync::atomic::{AtomicI64, Ordering};

/// A record's date-time as stored: the instant in the app's time zone, with the zone's
/// offset (`+00:00` for UTC, never `Z`: `Z` sorts after `.` and the digits, so
/// `10:00:00Z` would sort after `10:00:00.500Z`), whole seconds unless it has a fraction
/// (see `service::prepare`).
pub fn in_zone(t: DateTime<chrono::FixedOffset>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// The real time, as stored.
pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The time of one server: the real time plus how far a test moved it.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn utc(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// As stored (RFC 3339, milliseconds, `Z`).
    pub fn now(&self) -> String {
        self.utc().to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    /// Move this clock forward (tests only; see the module comment). Never backward.
    pub fn advance(&self, ms: i64) -> DateTime<Utc> {
        self.offset_ms.fetch_add(ms.max(0), Ordering::Relaxed);
        self.utc()
    }
}

/// How long an app's time zone is used before its definition is read again (seconds on
/// the server's clock): a changed `time_zone` reaches every process within this time,
/// without a query on every write.
pub const ZONE_TTL_SECS: i64 = 10;

/// Apps' time zones as last read from their definitions, and when (see [`ZONE_TTL_SECS`]).
#[derive(Debug, Default)]
pub struct Zones {
    known: std::sync::RwLock<std::collections::HashMap<String, (chrono_tz::Tz, DateTime<Utc>)>>,
}

impl Zones {
    /// The zone of `app` read less than [`ZONE_TTL_SECS`] before `now`.
    pub fn fresh(&self, app: &str, now: DateTime<Utc>) -> Option<chrono_tz::Tz> {
        let known = self.known.read().unwrap_or_else(|e| e.into_inner());
        known
            .get(app)
            .filter(|(_, at)| (now - *at).num_seconds() < ZONE_TTL_SECS && *at <= now)
            .map(|(tz, _)| *tz)
    }

    pub fn remember(&self, app: &str, tz: chrono_tz::Tz, now: DateTime<Utc>) {
        self.known
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(app.to_owned(), (tz, now));
    }
}

/// An app's time zone (`time_zone` of its definition), UTC when it has none.
pub fn zone_of(app_def: &serde_json::Value) -> chrono_tz::Tz {
    app_def
        .get("time_zone")
        .and_then(serde_json::Value::as_str)
        .and_then(|z| z.parse().ok())
        .unwrap_or(chrono_tz::UTC)
}

/// Parse a stored time (falls back to the real time for text that is not one).
pub fn parse(at: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(at)
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now())
}
