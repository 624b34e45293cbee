//! Five-field cron expressions (`minute hour day-of-month month day-of-week`) evaluated in
//! an app's time zone: `*`, lists `1,15`, ranges `1-5`, steps `*/15` and `8-18/2`;
//! day-of-week 0–7 (0 and 7 are Sunday). When both day fields are restricted, a day
//! matches if either does (as in Vixie cron).

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};

#[derive(Debug, Clone, PartialEq)]
pub struct Cron {
    minutes: Vec<bool>,
    hours: Vec<bool>,
    days: Vec<bool>,
    months: Vec<bool>,
    weekdays: Vec<bool>,
    any_day: bool,
    any_weekday: bool,
}

fn field(text: &str, lo: u32, hi: u32, name: &str) -> Result<(Vec<bool>, bool), String> {
    let mut set = vec![false; hi as usize + 1];
    let star = text == "*";
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>()
                    .map_err(|_| format!("{name}: bad step in {part:?}"))?,
            ),
            None => (part, 1),
        };
        if step == 0 {
            return Err(format!("{name}: a step is at least 1"));
        }
        let (a, b) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            let a = a
                .parse::<u32>()
                .map_err(|_| format!("{name}: bad number in {part:?}"))?;
            let b = b
                .parse::<u32>()
                .map_err(|_| format!("{name}: bad number in {part:?}"))?;
            (a, b)
        } else {
            let a = range
                .parse::<u32>()
                .map_err(|_| format!("{name}: bad number in {part:?}"))?;
            (a, if part.contains('/') { hi } else { a })
        };
        if a < lo || b > hi || a > b {
            return Err(format!("{name}: {part:?} is outside {lo}–{hi}"));
        }
        let mut v = a;
        while v <= b {
            set[v as usize] = true;
            v += step;
        }
    }
    Ok((set, star))
}

impl Cron {
    pub fn parse(expr: &str) -> Result<Cron, String> {
        let parts: Vec<&str> = expr.split_whitespace().collect();
        let [mi, h, dom, mo, dow] = parts[..] else {
            return Err(
                "a cron expression has five fields: minute hour day-of-month month day-of-week"
                    .into(),
            );
        };
        let (minutes, _) = field(mi, 0, 59, "minute")?;
        let (hours, _) = field(h, 0, 23, "hour")?;
        let (days, any_day) = field(dom, 1, 31, "day of month")?;
        let (months, _) = field(mo, 1, 12, "month")?;
        let (mut weekdays, any_weekday) = field(dow, 0, 7, "day of week")?;
        if weekdays[7] {
            weekdays[0] = true;
        }
        Ok(Cron {
            minutes,
            hours,
            days,
            months,
            weekdays,
            any_day,
            any_weekday,
        })
    }

    fn day_matches<T: Datelike>(&self, t: &T) -> bool {
        let dom = self.days[t.day() as usize];
        let dow = self.weekdays[t.weekday().num_days_from_sunday() as usize];
        match (self.any_day, self.any_weekday) {
            (true, true) => true,
            (false, true) => dom,
            (true, false) => dow,
            (false, false) => dom || dow,
        }
    }

    /// The first matching minute strictly after `after`, in time zone `tz`.
    pub fn next_after<Tz: TimeZone>(&self, after: DateTime<Utc>, tz: &Tz) -> Option<DateTime<Utc>> {
        let mut t =
            after.with_timezone(tz).with_second(0)?.with_nanosecond(0)? + Duration::minutes(1);
        // At most ~4 years of minutes; cheap enough for schedules that are rare to publish.
        for _ in 0..(4 * 366 * 1440) {
            if !self.months[t.month() as usize] || !self.day_matches(&t) {
                // Jump to the start of the next day.
                let next = (t.date_naive() + Duration::days(1)).and_hms_opt(0, 0, 0)?;
                t = tz.from_local_datetime(&next).earliest()?;
                continue;
            }
            if !self.hours[t.hour() as usize] {
                t = t.with_minute(0)? + Duration::hours(1);
                continue;
            }
            if self.minutes[t.minute() as usize] {
                return Some(t.with_timezone(&Utc));
            }
            t += Duration::minutes(1);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn next_times_in_the_app_time_zone() {
        let shanghai = chrono_tz::Asia::Shanghai;
        let weekdays_9 = Cron::parse("0 9 * * 1-5").unwrap();
        // Sunday 2026-11-22 10:00 in Shanghai → Monday 09:00 Shanghai = 01:00 UTC.
        assert_eq!(
            weekdays_9.next_after(at("2026-11-22T02:00:00Z"), &shanghai),
            Some(at("2026-11-23T01:00:00Z"))
        );
        let quarter = Cron::parse("*/15 * * * *").unwrap();
        assert_eq!(
            quarter.next_after(at("2026-11-22T02:07:30Z"), &Utc),
            Some(at("2026-11-22T02:15:00Z"))
        );
        let first = Cron::parse("30 8 1 * *").unwrap();
        assert_eq!(
            first.next_after(at("2026-11-22T00:00:00Z"), &Utc),
            Some(at("2026-12-01T08:30:00Z"))
        );
        let sunday = Cron::parse("0 0 * * 7").unwrap();
        assert_eq!(
            sunday.next_after(at("2026-11-22T00:00:00Z"), &Utc),
            Some(at("2026-11-29T00:00:00Z"))
        );
    }

    #[test]
    fn bad_expressions_are_refused() {
        for bad in [
            "* * * *",
            "60 * * * *",
            "* 24 * * *",
            "*/0 * * * *",
            "a * * * *",
            "5-1 * * * *",
        ] {
            assert!(Cron::parse(bad).is_err(), "{bad}");
        }
    }
}
