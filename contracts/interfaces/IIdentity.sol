// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IIdentity
/// @notice Identity: the registry of `did:banyan` DIDs (verification keys, controllers, services,
///         a recovery account, deactivation), the authority issuers the committee admits (by
///         issuer type: `kyc`, `credit`, `business-licence`, ...), the credential schemas they
///         publish (JSON Schema, versioned, immutable), and the record of every credential they
///         issue: its hash, subject, schema, validity and status (revoked, suspended), with the
///         status bits of W3C Bitstring Status Lists. Credentials themselves stay off the
///         ledger; so does everything they say about their subject.
/// @dev A native module at 0x0000000000000000000000000000000000001005 on chains whose spec enables
///      `identity` (docs/modules/identity.md has the rules, the state layout, the gas and every
///      error; docs/identity/did-banyan.md is the DID method). A DID is named by its account:
///      `did:banyan:<chain id>:<address>`. Every failure reverts with `Error(string)` naming
///      what was wrong; nothing is stored then.
interface IIdentity {
    /// @notice The kind of a verification method's public key.
    enum KeyType {
        None,
        /// secp256k1 key, 64 bytes x ‖ y (chains on the ecdsa suite).
        Secp256k1,
        /// SM2 key, 64 bytes x ‖ y (chains on the sm suite).
        Sm2,
        /// 32-byte Ed25519 key, for proofs verifiers outside the chain check (eddsa-jcs-2022).
        Ed25519
    }

    /// @notice Which status list of an issuer a bit belongs to.
    enum StatusPurpose {
        None,
        Revocation,
        Suspension
    }

    /// @notice One key of a DID document. `relationships` is a bit set: 1 authentication,
    ///         2 assertionMethod, 4 keyAgreement, 8 capabilityInvocation, 16 capabilityDelegation.
    struct VerificationMethod {
        string fragment;
        KeyType keyType;
        bytes publicKey;
        uint8 relationships;
    }

    /// @notice One service endpoint of a DID document.
    struct Service {
        string fragment;
        string serviceType;
        string endpoint;
    }

    /// @notice A DID as the ledger holds it; the DID document is built from it.
    struct Did {
        address account;
        address[] controllers;
        address recovery;
        VerificationMethod[] methods;
        Service[] services;
        uint64 createdAt;
        uint64 updatedAt;
        uint64 createdBlock;
        uint64 updatedBlock;
        uint32 version;
        bool deactivated;
    }

    /// @notice An authority issuer and the issuer types the committee admitted it for.
    struct Issuer {
        address account;
        string name;
        string[] issuerTypes;
        uint64 admittedAt;
    }

    /// @notice A published credential schema. `id` is keccak256(publisher ‖ name ‖ 0x00 ‖ version).
    struct Schema {
        bytes32 id;
        address publisher;
        string name;
        uint32 version;
        string issuerType;
        bytes json;
        uint64 publishedAt;
    }

    /// @notice What the ledger knows of one issued credential: which one, never what it says.
    struct Credential {
        bytes32 hash;
        address issuer;
        address subject;
        bytes32 schemaId;
        uint64 validFrom;
        uint64 validUntil;
        uint32 statusIndex;
        bool revoked;
        bool suspended;
        uint64 issuedAt;
        uint64 issuedBlock;
    }

    event DidCreated(address indexed did, address recovery);
    event DidUpdated(address indexed did, uint32 version, string change);
    event DidDeactivated(address indexed did, address by);
    event DidRecovered(address indexed did, address indexed recovery, address controller);
    event IssuerAdmitted(address indexed issuer, string issuerType, string name);
    event IssuerRemoved(address indexed issuer, string issuerType);
    event SchemaPublished(bytes32 indexed id, address indexed publisher, string name, uint32 version, string issuerType);
    event CredentialIssued(bytes32 indexed hash, address indexed issuer, address indexed subject, bytes32 schemaId, uint32 statusIndex);
    event CredentialRevoked(bytes32 indexed hash, address indexed issuer, string reason);
    event CredentialSuspended(bytes32 indexed hash, address indexed issuer, bool suspended, string reason);

    /// @notice Creates the caller's DID. `publicKey` (64 bytes x ‖ y, the chain suite's) must be
    ///         the key of the caller's account; it becomes `#key-1` for authentication,
    ///         assertionMethod and capabilityInvocation. The caller is its first controller;
    ///         `recovery` (not the caller; zero for none) may later replace the controllers.
    function createDid(bytes calldata publicKey, address recovery) external;

    /// @notice Adds a key to `did` (at most 8). A controller of the DID calls.
    function addVerificationMethod(address did, string calldata fragment, KeyType keyType, bytes calldata publicKey, uint8 relationships) external;

    /// @notice Removes a key from `did`; the last authentication key cannot go.
    function removeVerificationMethod(address did, string calldata fragment) external;

    /// @notice Replaces the key of `fragment` with `newPublicKey` of the same type (key rotation).
    function rotateKey(address did, string calldata fragment, bytes calldata newPublicKey) external;

    /// @notice Sets the controllers of `did`: 1 to 4 accounts, each with an active DID.
    function setControllers(address did, address[] calldata controllers) external;

    /// @notice Adds or replaces a service of `did` (at most 8).
    function setService(address did, string calldata fragment, string calldata serviceType, string calldata endpoint) external;

    /// @notice Removes a service of `did`.
    function removeService(address did, string calldata fragment) external;

    /// @notice Sets the recovery account of `did` (zero for none): a controller while none is
    ///         set, then only the recovery account itself.
    function setRecovery(address did, address recovery) external;

    /// @notice The recovery account of `did` makes `controller` its only controller and removes
    ///         every key (when the controllers' keys are lost or stolen); the new controller adds
    ///         new keys.
    function recover(address did, address controller) external;

    /// @notice Deactivates `did` for good; a controller or the recovery account calls.
    function deactivate(address did) external;

    /// @notice `did` as the ledger holds it; reverts when it was never created.
    function getDid(address did) external view returns (Did memory);

    /// @notice Whether `did` was created and is not deactivated.
    function isActive(address did) external view returns (bool);

    /// @notice Admits `issuer` as an authority issuer of `issuerType` (lower-case letters,
    ///         digits and `-`, 1 to 32), named `name`. Only the committee, through a passed
    ///         Governance proposal of kind ModuleCall, calls this.
    function admitIssuer(address issuer, string calldata issuerType, string calldata name) external;

    /// @notice Withdraws `issuer`'s authority for `issuerType`; only the committee calls this.
    ///         Credentials it issued under that type stop satisfying checks from then on.
    function removeIssuer(address issuer, string calldata issuerType) external;

    /// @notice An authority issuer; reverts when the account never was one.
    function getIssuer(address issuer) external view returns (Issuer memory);

    /// @notice Whether `issuer` is now an authority issuer of `issuerType`.
    function isAuthorityIssuer(address issuer, string calldata issuerType) external view returns (bool);

    /// @notice Up to `limit` (at most 100) authority issuers from position `offset`, and how many
    ///         there are.
    function issuers(uint64 offset, uint64 limit) external view returns (address[] memory accounts, uint64 total);

    /// @notice Publishes schema `name` (1 to 64 of `[A-Za-z0-9._-]`) at `version` (above every
    ///         earlier version of the name by the caller) for credentials of `issuerType`,
    ///         with its JSON Schema `json` (a JSON object, at most 8192 bytes). The caller is an
    ///         authority issuer of `issuerType` with an active DID. Returns the schema's id.
    function publishSchema(string calldata name, uint32 version, string calldata issuerType, bytes calldata json) external returns (bytes32 id);

    /// @notice A published schema; reverts when there is none.
    function getSchema(bytes32 id) external view returns (Schema memory);

    /// @notice The schema ids `publisher` published, oldest first, paged as `issuers`.
    function schemasOf(address publisher, uint64 offset, uint64 limit) external view returns (bytes32[] memory ids, uint64 total);

    /// @notice Records that the caller issued the credential of hash `hash` to `subject` under
    ///         schema `schemaId`, valid from `validFrom` to `validUntil` (Unix seconds; 0: no
    ///         end), with status bit `statusIndex` of the caller's lists (unused before). The
    ///         caller is an authority issuer of the schema's issuer type with an active DID, and
    ///         `subject` has an active DID. The hash is also anchored in Evidence (kind `vc`)
    ///         as the caller when the chain runs Evidence and nobody anchored it yet. It becomes
    ///         the subject's credential of the schema unless one of another issuer still counts.
    function issueCredential(bytes32 hash, address subject, bytes32 schemaId, uint64 validFrom, uint64 validUntil, uint32 statusIndex) external;

    /// @notice Revokes a credential the caller issued, for good (its revocation bit is set, its
    ///         Evidence anchor revoked with `reason`).
    function revokeCredential(bytes32 hash, string calldata reason) external;

    /// @notice Suspends (`suspended` true) or reinstates a credential the caller issued.
    function suspendCredential(bytes32 hash, bool suspended, string calldata reason) external;

    /// @notice The record of a credential; reverts when there is none.
    function getCredential(bytes32 hash) external view returns (Credential memory);

    /// @notice One more than the highest status index `issuer` used (0 before its first).
    function nextStatusIndex(address issuer) external view returns (uint32);

    /// @notice `count` (at most 512) 32-byte words of `issuer`'s status list `list` of
    ///         `purpose`, from word `offset`: bit `i` of the list (131,072 bits, index 0 the
    ///         most significant bit of the first byte) is 1 when credential index
    ///         `list * 131072 + i` is revoked (or suspended).
    function statusWords(address issuer, StatusPurpose purpose, uint32 list, uint32 offset, uint32 count) external view returns (bytes32[] memory words);

    /// @notice Whether `subject`'s DID holds a credential of schema `schemaId` that counts now:
    ///         issued by an account that is still an authority issuer of the schema's type with
    ///         an active DID, not revoked, not suspended, within its validity. `reason` says why
    ///         not when `ok` is false; `credential` is the hash of the one checked (the latest
    ///         the subject got under the schema), zero when there is none.
    function holdsCredential(address subject, bytes32 schemaId) external view returns (bool ok, bytes32 credential, string memory reason);
}
