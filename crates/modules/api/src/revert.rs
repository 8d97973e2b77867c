//! Solidity revert data: `Error(string)` and `Panic(uint256)`.

use alloy_primitives::Bytes;
use alloy_sol_types::{Panic, Revert, SolError};

/// Decodes revert data the way ethers shows it: the message of `Error(string)`, or
/// `panic: <description> (0x<code>)` for `Panic(uint256)`. `None` for anything else
/// (empty data, custom errors, malformed encodings).
pub fn decode_revert_reason(data: &[u8]) -> Option<String> {
    let selector = data.get(..4)?;
    if selector == Revert::SELECTOR {
        return Revert::abi_decode(data).ok().map(|revert| revert.reason);
    }
    if selector == Panic::SELECTOR {
        return Panic::abi_decode(data).ok().map(|panic| panic.to_string());
    }
    None
}

/// What a failed call's revert `data` says, for recording beside its failure: the decoded
/// reason ([`decode_revert_reason`]), or `reverted with 0x…` for other data, cut to at most
/// `max_bytes` bytes at a character boundary.
pub fn failure_reason(data: &[u8], max_bytes: usize) -> String {
    let mut reason = decode_revert_reason(data)
        .unwrap_or_else(|| format!("reverted with 0x{}", alloy_primitives::hex::encode(data)));
    let mut end = reason.len().min(max_bytes);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason.truncate(end);
    reason
}

/// Encodes `reason` as Solidity's `Error(string)` revert data (what `revert("...")` returns).
pub fn encode_revert_reason(reason: &str) -> Bytes {
    Revert::from(reason).abi_encode().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;

    #[test]
    fn error_string_round_trips() {
        let data = encode_revert_reason("not enough tokens");
        assert_eq!(
            decode_revert_reason(&data).as_deref(),
            Some("not enough tokens")
        );
    }

    #[test]
    fn failure_reasons_are_cut_at_a_character_boundary() {
        let data = encode_revert_reason("ééé");
        assert_eq!(failure_reason(&data, 5), "éé");
        assert_eq!(failure_reason(&[0xde, 0xad], 100), "reverted with 0xdead");
    }

    #[test]
    fn panic_is_described() {
        let data = Panic {
            code: U256::from(0x11),
        }
        .abi_encode();
        assert_eq!(
            decode_revert_reason(&data).as_deref(),
            Some("panic: arithmetic underflow or overflow (0x11)")
        );
    }

    #[test]
    fn other_data_is_not_a_reason() {
        assert_eq!(decode_revert_reason(&[]), None);
        assert_eq!(decode_revert_reason(&[0xde, 0xad, 0xbe, 0xef, 0]), None);
        // Right selector, truncated payload.
        assert_eq!(decode_revert_reason(&Revert::SELECTOR), None);
    }
}
