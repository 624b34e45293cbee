//! Serial-number patterns such as `SO-{yyyyMMdd}-{0000}`: literal text, date tokens
//! (`{yyyy}`, `{yyyyMM}`, `{yyyyMMdd}`, `{MM}`, `{dd}`) and exactly one counter token, a run
//! of zeros giving the minimum width. The counter restarts when the date part changes.

use chrono::NaiveDate;

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Date(&'static str),
    Counter(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SerialPattern {
    segments: Vec<Segment>,
}

const DATE_TOKENS: &[(&str, &str)] = &[
    ("yyyyMMdd", "%Y%m%d"),
    ("yyyyMM", "%Y%m"),
    ("yyyy", "%Y"),
    ("MM", "%m"),
    ("dd", "%d"),
];

impl SerialPattern {
    pub fn parse(pattern: &str) -> Result<Self, String> {
        let mut segments = Vec::new();
        let mut rest = pattern;
        let mut counters = 0;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                segments.push(Segment::Literal(rest[..open].to_owned()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("unclosed '{{' in {pattern:?}"))?
                + open;
            let token = &rest[open + 1..close];
            if !token.is_empty() && token.chars().all(|c| c == '0') {
                counters += 1;
                segments.push(Segment::Counter(token.len()));
            } else if let Some((_, fmt)) = DATE_TOKENS.iter().find(|(t, _)| *t == token) {
                segments.push(Segment::Date(fmt));
            } else {
                return Err(format!("unknown token {{{token}}} in {pattern:?}"));
            }
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            segments.push(Segment::Literal(rest.to_owned()));
        }
        if counters != 1 {
            return Err(format!(
                "{pattern:?} needs exactly one counter token such as {{0000}}"
            ));
        }
        Ok(SerialPattern { segments })
    }

    /// The counter scope for a given day: all date tokens rendered (empty when none).
    pub fn period(&self, day: NaiveDate) -> String {
        self.segments
            .iter()
            .filter_map(|s| match s {
                Segment::Date(fmt) => Some(day.format(fmt).to_string()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("-")
    }

    pub fn render(&self, day: NaiveDate, counter: i64) -> String {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Literal(t) => t.clone(),
                Segment::Date(fmt) => day.format(fmt).to_string(),
                Segment::Counter(width) => format!("{counter:0width$}"),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_order_numbers_render_with_date_and_counter() {
        let p = SerialPattern::parse("SO-{yyyyMMdd}-{0000}").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        assert_eq!(p.render(day, 7), "SO-20261122-0007");
        assert_eq!(p.render(day, 12345), "SO-20261122-12345");
        assert_eq!(p.period(day), "20261122");
    }

    #[test]
    fn patterns_need_one_counter_and_known_tokens() {
        assert!(SerialPattern::parse("SO-{yyyy}").is_err());
        assert!(SerialPattern::parse("{0}-{00}").is_err());
        assert!(SerialPattern::parse("X-{hh}-{00}").is_err());
        assert!(SerialPattern::parse("X-{000").is_err());
    }
}
