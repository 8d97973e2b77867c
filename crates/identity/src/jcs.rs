//! The JSON Canonicalization Scheme (RFC 8785): one byte string per JSON value, what the
//! `eddsa-jcs-2022` proofs sign and what the ledger's credential hashes cover.
//!
//! Object members are sorted by the UTF-16 code units of their names; strings are escaped as
//! ECMAScript's `JSON.stringify` does (only `"`, `\` and control characters); no whitespace.
//! Numbers: integers within ±(2^53 − 1) are written as ECMAScript writes them; any other number
//! (a fraction, an exponent, a larger integer) is refused rather than risk a second spelling,
//! since credentials carry amounts and dates as strings.

use serde_json::Value;

/// The largest integer ECMAScript numbers hold exactly.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A value JCS cannot write in one way.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("JSON canonicalization: {0}")]
pub struct JcsError(pub String);

/// The canonical form of `value`.
pub fn canonicalize(value: &Value) -> Result<String, JcsError> {
    let mut out = String::new();
    write(value, &mut out)?;
    Ok(out)
}

fn write(value: &Value, out: &mut String) -> Result<(), JcsError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let safe = n
                .as_u64()
                .filter(|v| *v <= MAX_SAFE_INTEGER)
                .map(|v| v.to_string())
                .or_else(|| {
                    n.as_i64()
                        .filter(|v| v.unsigned_abs() <= MAX_SAFE_INTEGER)
                        .map(|v| v.to_string())
                });
            match safe {
                Some(text) => out.push_str(&text),
                None => {
                    return Err(JcsError(format!(
                        "the number {n} is not an integer within ±(2^53 − 1); write it as a string"
                    )));
                }
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, (name, member)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(name, out);
                out.push(':');
                write(member, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{9}' => out.push_str("\\t"),
            '\u{a}' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\u{d}' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write_key(key: &str) -> String {
        let mut out = String::new();
        write_string(key, &mut out);
        out.push(':');
        out
    }

    #[test]
    fn members_sort_by_utf16_and_strings_escape_as_ecmascript() {
        // RFC 8785 §3.2.3's sorting example: by UTF-16 code units, not by UTF-8 bytes.
        let value = json!({
            "\u{20ac}": "Euro Sign",
            "\r": "Carriage Return",
            "\u{fb33}": "Hebrew Letter Dalet With Dagesh",
            "1": "One",
            "\u{1f600}": "Emoji: Grinning Face",
            "\u{80}": "Control",
            "\u{f6}": "Latin Small Letter O With Diaeresis"
        });
        let text = canonicalize(&value).unwrap();
        let expected = [
            "\r",
            "1",
            "\u{80}",
            "\u{f6}",
            "\u{20ac}",
            "\u{1f600}",
            "\u{fb33}",
        ];
        let positions: Vec<usize> = expected
            .iter()
            .map(|key| text.find(&write_key(key)).expect("every key written"))
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert_eq!(
            canonicalize(&json!({"b": [1, "a\u{1}\"\\/é"], "a": null, "c": {"y": true, "x": -7}}))
                .unwrap(),
            r#"{"a":null,"b":[1,"a\u0001\"\\/é"],"c":{"x":-7,"y":true}}"#
        );
        assert!(canonicalize(&json!(1.5)).is_err());
        assert!(canonicalize(&json!(9_007_199_254_740_992u64)).is_err());
        assert_eq!(
            canonicalize(&json!(9_007_199_254_740_991u64)).unwrap(),
            "9007199254740991"
        );
    }
}
