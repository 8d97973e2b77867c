// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IEvidence
/// @notice Evidence (notarisation): anchor the hash of a document so that anyone can later prove
///         who anchored it and when; counter-signatures by other parties; revocation by the
///         anchoring party with a reason.
/// @dev A native module at 0x0000000000000000000000000000000000001001 on chains whose spec enables
///      `evidence` (see docs/modules/evidence.md for the state layout, gas and every error).
///      Only hashes and short labels go on the ledger, never the document or personal data.
///      Every failure reverts with `Error(string)` naming what was wrong; nothing is stored then.
interface IEvidence {
    /// @notice One anchored document hash.
    struct Anchor {
        bytes32 hash;
        address anchorer;
        uint64 blockNumber;
        uint64 timestamp;
        string kind;
        string referenceId;
        bytes metadata;
        bool revoked;
        uint64 revokedAtBlock;
        string revocationReason;
        uint16 attestationCount;
    }

    /// @notice A counter-signature: `attester` vouched for the anchor in block `blockNumber`.
    struct Attestation {
        address attester;
        uint64 blockNumber;
    }

    /// @notice `anchorer` anchored `hash` as a document of type `kind`.
    event Anchored(bytes32 indexed hash, address indexed anchorer, string kind, string referenceId);
    /// @notice `attester` counter-signed the anchor of `hash`.
    event Attested(bytes32 indexed hash, address indexed attester);
    /// @notice `anchorer` revoked the anchor of `hash`.
    event Revoked(bytes32 indexed hash, address indexed anchorer, string reason);

    /// @notice Anchors `hash` (non-zero, not anchored before) as a document of type `kind`
    ///         (1 to 32 printable ASCII characters), with an optional `referenceId` (at most
    ///         64 bytes of text) and optional `metadata` (at most 1024 bytes).
    function anchor(bytes32 hash, string calldata kind, string calldata referenceId, bytes calldata metadata) external;

    /// @notice Counter-signs the anchor of `hash` as the caller. The anchorer cannot attest its
    ///         own anchor, an account attests at most once, a revoked anchor takes no
    ///         attestations, and an anchor holds at most 32.
    function attest(bytes32 hash) external;

    /// @notice Revokes the anchor of `hash`; only its anchorer may, once, with a `reason` of
    ///         1 to 256 bytes. The anchor stays readable, marked revoked.
    function revoke(bytes32 hash, string calldata reason) external;

    /// @notice The anchor of `hash`; reverts when it was never anchored.
    function getAnchor(bytes32 hash) external view returns (Anchor memory);

    /// @notice Whether `hash` was ever anchored (revoked anchors included).
    function isAnchored(bytes32 hash) external view returns (bool);

    /// @notice The attestations of the anchor of `hash`, oldest first (at most 32).
    function attestations(bytes32 hash) external view returns (Attestation[] memory);

    /// @notice Up to `limit` (at most 100) hashes anchored by `anchorer`, oldest first, from
    ///         position `offset`, and how many it anchored in all.
    function anchorsOf(address anchorer, uint64 offset, uint64 limit) external view returns (bytes32[] memory hashes, uint64 total);
}
