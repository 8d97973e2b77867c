//! Ethereum hex quantities (`"0x1a"`): the one parser every client of the node uses.

/// A value is not a hex quantity.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a hex quantity (0x followed by 1 to 16 hex digits)")]
pub struct QuantityError(pub String);

/// Parses `0x…` (1 to 16 hex digits, as the node writes quantities) into a `u64`.
pub fn parse(text: &str) -> Result<u64, QuantityError> {
    let digits = text
        .strip_prefix("0x")
        .filter(|d| !d.is_empty() && d.len() <= 16)
        .ok_or_else(|| QuantityError(text.to_string()))?;
    u64::from_str_radix(digits, 16).map_err(|_| QuantityError(text.to_string()))
}

/// Writes `n` as a quantity (`0x0`, `0x1a`).
pub fn format(n: impl Into<u128>) -> String {
    format!("0x{:x}", n.into())
}

/// Serde for `u64` fields written as quantities.
pub mod serde_u64 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// Writes a quantity.
    pub fn serialize<S: Serializer>(n: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(*n))
    }

    /// Reads a quantity.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let text = String::deserialize(d)?;
        super::parse(&text).map_err(D::Error::custom)
    }
}

/// Serde for `u128` fields written as quantities (sums of `u64` values).
pub mod serde_u128 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// Writes a quantity.
    pub fn serialize<S: Serializer>(n: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(*n))
    }

    /// Reads a quantity of up to 32 hex digits.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        let text = String::deserialize(d)?;
        text.strip_prefix("0x")
            .filter(|digits| !digits.is_empty() && digits.len() <= 32)
            .and_then(|digits| u128::from_str_radix(digits, 16).ok())
            .ok_or_else(|| D::Error::custom(super::QuantityError(text.clone())))
    }
}

/// Serde for `u32` fields written as quantities.
pub mod serde_u32 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// Writes a quantity.
    pub fn serialize<S: Serializer>(n: &u32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(*n))
    }

    /// Reads a quantity that fits 32 bits.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let text = String::deserialize(d)?;
        let n = super::parse(&text).map_err(D::Error::custom)?;
        u32::try_from(n).map_err(|_| D::Error::custom(format!("{text} does not fit 32 bits")))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quantities_are_strict() {
        assert_eq!(super::parse("0x1a"), Ok(26));
        assert_eq!(super::parse("0x0"), Ok(0));
        for bad in ["1a", "0x", "0xg", "0x11111111111111111", ""] {
            assert!(super::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(super::format(26u64), "0x1a");
    }
}
