//! The platform field types and the `x-type` keyword that enforces their value rules
//! inside the `jsonschema` validator (so every entry point checks them the same way).

use jsonschema::{Keyword, ValidationError};
use serde_json::{Map, Value};

/// A platform field type, named by a property's `x-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    Text,
    LongText,
    Number,
    Integer,
    Money,
    Date,
    Datetime,
    Select,
    MultiSelect,
    Boolean,
    Email,
    CnMobile,
    Uscc,
    Region,
    Member,
    Department,
    Reference,
    SubTable,
    Attachment,
    Signature,
    Serial,
    Computed,
}

impl FieldKind {
    pub const ALL: &'static [FieldKind] = &[
        FieldKind::Text,
        FieldKind::LongText,
        FieldKind::Number,
        FieldKind::Integer,
        FieldKind::Money,
        FieldKind::Date,
        FieldKind::Datetime,
        FieldKind::Select,
        FieldKind::MultiSelect,
        FieldKind::Boolean,
        FieldKind::Email,
        FieldKind::CnMobile,
        FieldKind::Uscc,
        FieldKind::Region,
        FieldKind::Member,
        FieldKind::Department,
        FieldKind::Reference,
        FieldKind::SubTable,
        FieldKind::Attachment,
        FieldKind::Signature,
        FieldKind::Serial,
        FieldKind::Computed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::LongText => "long_text",
            FieldKind::Number => "number",
            FieldKind::Integer => "integer",
            FieldKind::Money => "money",
            FieldKind::Date => "date",
            FieldKind::Datetime => "datetime",
            FieldKind::Select => "select",
            FieldKind::MultiSelect => "multi_select",
            FieldKind::Boolean => "boolean",
            FieldKind::Email => "email",
            FieldKind::CnMobile => "cn_mobile",
            FieldKind::Uscc => "uscc",
            FieldKind::Region => "region",
            FieldKind::Member => "member",
            FieldKind::Department => "department",
            FieldKind::Reference => "reference",
            FieldKind::SubTable => "sub_table",
            FieldKind::Attachment => "attachment",
            FieldKind::Signature => "signature",
            FieldKind::Serial => "serial",
            FieldKind::Computed => "computed",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// The JSON Schema `type` a property of this kind must declare (`None`: any / via `$ref`).
    pub fn required_json_type(self) -> Option<&'static [&'static str]> {
        Some(match self {
            FieldKind::Text
            | FieldKind::LongText
            | FieldKind::Date
            | FieldKind::Datetime
            | FieldKind::Select
            | FieldKind::Email
            | FieldKind::CnMobile
            | FieldKind::Uscc
            | FieldKind::Member
            | FieldKind::Department
            | FieldKind::Serial => &["string"],
            FieldKind::Number | FieldKind::Money => &["number"],
            FieldKind::Integer | FieldKind::Reference => &["integer"],
            FieldKind::Boolean => &["boolean"],
            FieldKind::MultiSelect | FieldKind::SubTable | FieldKind::Attachment => &["array"],
            FieldKind::Region => &["object"],
            FieldKind::Computed => &["number", "integer", "string", "boolean"],
            FieldKind::Signature => return None,
        })
    }

    /// Check one value of this kind; `Err` carries a human message.
    pub fn check_value(self, value: &Value) -> Result<(), String> {
        match (self, value) {
            (FieldKind::Date, Value::String(s)) => {
                if s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() {
                    Ok(())
                } else {
                    Err(format!("{s:?} is not a calendar date (YYYY-MM-DD)"))
                }
            }
            (FieldKind::Datetime, Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|_| ())
                .map_err(|_| format!("{s:?} is not an RFC 3339 date-time")),
            (FieldKind::Email, Value::String(s)) => {
                if is_email(s) {
                    Ok(())
                } else {
                    Err(format!("{s:?} is not an email address"))
                }
            }
            (FieldKind::CnMobile, Value::String(s)) => {
                let b = s.as_bytes();
                if b.len() == 11
                    && b[0] == b'1'
                    && (b'3'..=b'9').contains(&b[1])
                    && b.iter().all(u8::is_ascii_digit)
                {
                    Ok(())
                } else {
                    Err(format!(
                        "{s:?} is not a mainland China mobile number (11 digits, 13x–19x)"
                    ))
                }
            }
            (FieldKind::Uscc, Value::String(s)) => check_uscc(s),
            (FieldKind::Money, Value::Number(n)) => {
                if decimals(&n.to_string()) <= 2 {
                    Ok(())
                } else {
                    Err(format!("{n} has more than 2 decimal places"))
                }
            }
            (FieldKind::Reference, Value::Number(n)) => match n.as_i64() {
                Some(id) if id > 0 => Ok(()),
                _ => Err(format!("{n} is not a record id")),
            },
            // Whatever the form's schema says of it, a region is a province, optionally a
            // city and a district, each a non-empty text.
            (FieldKind::Region, Value::Object(m)) => {
                for (k, v) in m {
                    if !["province", "city", "district"].contains(&k.as_str()) {
                        return Err(format!(
                            "a region has a province, city and district, not {k:?}"
                        ));
                    }
                    if v.as_str().is_none_or(|s| s.trim().is_empty()) {
                        return Err(format!("the region's {k} is a non-empty text"));
                    }
                }
                if m.contains_key("province") {
                    Ok(())
                } else {
                    Err("a region names its province".into())
                }
            }
            _ => Ok(()),
        }
    }
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && !local.contains('@')
}

/// Decimal places of a JSON number's text (`1.25` → 2, `1e-3` → 3, `12` → 0).
fn decimals(text: &str) -> usize {
    let (mantissa, exp) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i64>().unwrap_or(0)),
        None => (text, 0),
    };
    let frac = mantissa
        .split_once('.')
        .map(|(_, f)| f.trim_end_matches('0').len())
        .unwrap_or(0) as i64;
    (frac - exp).max(0) as usize
}

const USCC_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from a
/// 31-character alphabet, the last one a weighted mod-31 check character.
pub fn check_uscc(code: &str) -> Result<(), String> {
    let chars: Vec<char> = code.chars().collect();
    if chars.len() != 18 {
        return Err(format!("{code:?} is not 18 characters long"));
    }
    let mut sum = 0;
    for (i, c) in chars.iter().take(17).enumerate() {
        let v = USCC_CHARS
            .find(*c)
            .ok_or_else(|| format!("{code:?} contains {c:?}, not allowed in a credit code"))?;
        sum += v as u32 * USCC_WEIGHTS[i];
    }
    let check = (31 - sum % 31) % 31;
    let expected = USCC_CHARS.chars().nth(check as usize).unwrap_or('0');
    if chars[17] == expected {
        Ok(())
    } else {
        Err(format!(
            "{code:?} has a wrong check character (expected {expected})"
        ))
    }
}

/// Make the check character for a 17-character credit-code body (demo data, tests).
pub fn uscc_with_check(body17: &str) -> String {
    let sum: u32 = body17
        .chars()
        .enumerate()
        .map(|(i, c)| USCC_CHARS.find(c).unwrap_or(0) as u32 * USCC_WEIGHTS[i % 17])
        .sum();
    let check = (31 - sum % 31) % 31;
    format!(
        "{body17}{}",
        USCC_CHARS.chars().nth(check as usize).unwrap_or('0')
    )
}

struct XType(FieldKind);

impl<'i> Keyword<'i> for XType {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        self.0
            .check_value(instance)
            .map_err(ValidationError::custom)
    }
    fn is_valid(&self, instance: &'i Value) -> bool {
        self.0.check_value(instance).is_ok()
    }
}

/// Factory for the `x-type` keyword, registered on every form validator.
pub fn x_type_keyword<'a>(
    _parent: &'a Map<String, Value>,
    value: &'a Value,
    _path: jsonschema::paths::Location,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    let name = value.as_str().unwrap_or_default();
    match FieldKind::parse(name) {
        Some(kind) => Ok(Box::new(XType(kind))),
        None => Err(ValidationError::custom(format!("unknown x-type {value}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credit_codes_are_checked_by_their_check_character() {
        assert!(check_uscc("91350100M000100Y43").is_ok());
        assert!(check_uscc("91350100M000100Y44").is_err());
        let made = uscc_with_check("91110108MA01ABCD2");
        assert!(check_uscc(&made).is_ok(), "{made}");
        assert!(check_uscc("9135010").is_err());
    }

    #[test]
    fn money_allows_two_decimals() {
        assert!(FieldKind::Money.check_value(&json!(12.5)).is_ok());
        assert!(FieldKind::Money.check_value(&json!(12.25)).is_ok());
        assert!(FieldKind::Money.check_value(&json!(12.255)).is_err());
        assert!(FieldKind::Money.check_value(&json!(1000)).is_ok());
    }

    #[test]
    fn dates_mobiles_and_emails() {
        assert!(FieldKind::Date.check_value(&json!("2026-02-28")).is_ok());
        assert!(FieldKind::Date.check_value(&json!("2026-02-30")).is_err());
        assert!(
            FieldKind::CnMobile
                .check_value(&json!("13800138000"))
                .is_ok()
        );
        assert!(
            FieldKind::CnMobile
                .check_value(&json!("12800138000"))
                .is_err()
        );
        assert!(FieldKind::Email.check_value(&json!("a@b.cn")).is_ok());
        assert!(FieldKind::Email.check_value(&json!("a b@c.cn")).is_err());
    }
}
