//! Time buckets in the app's time zone, as integer keys that sort in time order:
//! a day is its day number since 1970-01-01, a week the day number of its Monday (ISO
//! weeks), a month `year × 12 + month − 1`, a quarter `year × 4 + quarter − 1`, a year
//! itself. Keys turn back into labels (`2026-03`, `2026-Q1`, `2026-W09`) and into the
//! half-open date range they cover, for drilling down to the rows behind a bucket.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::ColType;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeBucket {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl TimeBucket {
    pub const ALL: &'static [TimeBucket] = &[
        TimeBucket::Day,
        TimeBucket::Week,
        TimeBucket::Month,
        TimeBucket::Quarter,
        TimeBucket::Year,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TimeBucket::Day => "day",
            TimeBucket::Week => "week",
            TimeBucket::Month => "month",
            TimeBucket::Quarter => "quarter",
            TimeBucket::Year => "year",
        }
    }

    pub fn parse(s: &str) -> Option<TimeBucket> {
        Self::ALL.iter().copied().find(|b| b.name() == s)
    }
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")
}

/// The local date of a cached value: a date column holds day numbers, a date-time column
/// milliseconds since the epoch (UTC).
pub fn local_date(ty: ColType, v: i64, tz: Tz) -> Option<NaiveDate> {
    match ty {
        ColType::Date => epoch().checked_add_signed(Duration::try_days(v)?),
        ColType::Datetime => Some(
            DateTime::<Utc>::from_timestamp_millis(v)?
                .with_timezone(&tz)
                .date_naive(),
        ),
        _ => None,
    }
}

pub fn day_number(d: NaiveDate) -> i64 {
    (d - epoch()).num_days()
}

/// The bucket key of a cached value.
pub fn key(ty: ColType, v: i64, b: TimeBucket, tz: Tz) -> Option<i64> {
    let d = local_date(ty, v, tz)?;
    Some(date_key(d, b))
}

pub fn date_key(d: NaiveDate, b: TimeBucket) -> i64 {
    let y = i64::from(d.year());
    match b {
        TimeBucket::Day => day_number(d),
        TimeBucket::Week => day_number(d) - i64::from(d.weekday().num_days_from_monday()),
        TimeBucket::Month => y * 12 + i64::from(d.month0()),
        TimeBucket::Quarter => y * 4 + i64::from(d.month0() / 3),
        TimeBucket::Year => y,
    }
}

/// The first day of a bucket and the first day after it.
pub fn range(key: i64, b: TimeBucket) -> Option<(NaiveDate, NaiveDate)> {
    let ymd = |y: i64, m0: i64| {
        NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, u32::try_from(m0 + 1).ok()?, 1)
    };
    match b {
        TimeBucket::Day => {
            let d = epoch().checked_add_signed(Duration::try_days(key)?)?;
            Some((d, d.succ_opt()?))
        }
        TimeBucket::Week => {
            let d = epoch().checked_add_signed(Duration::try_days(key)?)?;
            Some((d, d.checked_add_signed(Duration::try_days(7)?)?))
        }
        TimeBucket::Month => {
            let (y, m0) = (key.div_euclid(12), key.rem_euclid(12));
            let next = key + 1;
            Some((ymd(y, m0)?, ymd(next.div_euclid(12), next.rem_euclid(12))?))
        }
        TimeBucket::Quarter => {
            let (y, q0) = (key.div_euclid(4), key.rem_euclid(4));
            let next = key + 1;
            Some((
                ymd(y, q0 * 3)?,
                ymd(next.div_euclid(4), next.rem_euclid(4) * 3)?,
            ))
        }
        TimeBucket::Year => Some((ymd(key, 0)?, ymd(key + 1, 0)?)),
    }
}

/// The label of a bucket: `2026-03-05`, `2026-W10`, `2026-03`, `2026-Q1`, `2026`.
pub fn label(key: i64, b: TimeBucket) -> String {
    let Some((start, _)) = range(key, b) else {
        return key.to_string();
    };
    match b {
        TimeBucket::Day => start.format("%Y-%m-%d").to_string(),
        TimeBucket::Week => {
            let w = start.iso_week();
            format!("{}-W{:02}", w.year(), w.week())
        }
        TimeBucket::Month => start.format("%Y-%m").to_string(),
        TimeBucket::Quarter => format!("{}-Q{}", start.year(), start.month0() / 3 + 1),
        TimeBucket::Year => start.year().to_string(),
    }
}

/// Local midnight of `d` in `tz`, as an RFC 3339 instant written with the zone's offset
/// (the earliest one when the clock is turned back, the first existing one when it jumps).
/// Records written in the app's zone compare with it as text, as the list API compares.
pub fn local_midnight(d: NaiveDate, tz: Tz) -> String {
    let naive = d.and_hms_opt(0, 0, 0).expect("midnight");
    let t = tz
        .from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.fixed_offset())
        .unwrap_or_else(|| Utc.from_utc_datetime(&naive).fixed_offset());
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_labels_and_ranges_agree() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        for &b in TimeBucket::ALL {
            let k = date_key(d, b);
            let (start, end) = range(k, b).unwrap();
            assert!(start <= d && d < end, "{b:?}");
            assert_eq!(date_key(start, b), k);
            assert_eq!(
                date_key(end, b),
                k + if b == TimeBucket::Week { 7 } else { 1 }
            );
        }
        assert_eq!(
            label(date_key(d, TimeBucket::Month), TimeBucket::Month),
            "2026-03"
        );
        assert_eq!(
            label(date_key(d, TimeBucket::Quarter), TimeBucket::Quarter),
            "2026-Q1"
        );
        assert_eq!(
            label(date_key(d, TimeBucket::Week), TimeBucket::Week),
            "2026-W10"
        );
        // 1 January 2027 is a Friday: its ISO week belongs to 2026.
        let nye = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert_eq!(
            label(date_key(nye, TimeBucket::Week), TimeBucket::Week),
            "2026-W53"
        );
    }

    #[test]
    fn a_late_evening_in_shanghai_is_the_next_day_in_utc() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        // 2026-03-31T17:30Z is 1 April 01:30 in Shanghai.
        let ms = DateTime::parse_from_rfc3339("2026-03-31T17:30:00Z")
            .unwrap()
            .timestamp_millis();
        let k = key(ColType::Datetime, ms, TimeBucket::Month, tz).unwrap();
        assert_eq!(label(k, TimeBucket::Month), "2026-04");
        assert_eq!(
            local_midnight(NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(), tz),
            "2026-04-01T00:00:00+08:00"
        );
    }
}
