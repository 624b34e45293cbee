//! Keys of apps, forms and fields: `^[a-z][a-z0-9_]{0,62}$`. They are safe to embed in SQL
//! text (index expressions, JSON paths), which the record store relies on.

pub fn is_key(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}
