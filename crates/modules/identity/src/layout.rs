//! Where Identity keeps its state in its account's storage. This layout is part of the module's
//! version: a verifier may read it through `eth_getProof` (a credential's status, a DID's
//! keys), so it only changes with a new [`crate::VERSION`].
//!
//! | record | slot | content |
//! |---|---|---|
//! | DID of account `a` | `D = keccak256("identity.did" ‖ 0x00 ‖ a)` | recovery (20) ‖ version (4) ‖ deactivated (1) ‖ controllers (1) ‖ keys (1) ‖ services (1) ‖ `0x01` |
//! | | `D+1` | created at (8) ‖ updated at (8) ‖ created block (8) ‖ updated block (8) |
//! | | `D+2` to `D+5` | controller `i` (20), as many as there are |
//! | key `i` of `a` | `M = keccak256("identity.method" ‖ 0x00 ‖ a ‖ i)` | key type (1) ‖ relationships (1) ‖ fragment length (1) |
//! | | `M+1`, `M+2`, `M+3` | the fragment (zero-padded); the key (64 bytes `x ‖ y`, or 32 bytes Ed25519 in `M+2`) |
//! | service `i` of `a` | `V = keccak256("identity.service" ‖ 0x00 ‖ a ‖ i)` | byte strings at `V`, `V+1`, `V+2`: fragment, type, endpoint |
//! | authority issuer `a` | `keccak256("identity.issuer" ‖ 0x00 ‖ a)` | byte string: the ABI encoding of `IIdentity.Issuer` |
//! | `a` admitted for type `t` | `keccak256("identity.authority" ‖ 0x00 ‖ a ‖ t)` | 1 |
//! | the issuers | `keccak256("identity.issuers" ‖ 0x00)` | list of addresses (as `bytes32[]`) |
//! | an issuer's place in it | `keccak256("identity.issuer-at" ‖ 0x00 ‖ a)` | position + 1 |
//! | schema `id` | `S = keccak256("identity.schema" ‖ 0x00 ‖ id)` | publisher (20) ‖ version (4) ‖ published at (8) |
//! | | `S+1`, `S+2`, `S+3` | byte strings: name, issuer type, JSON |
//! | latest version of a name | `keccak256("identity.schema-latest" ‖ 0x00 ‖ publisher ‖ name)` | version |
//! | a publisher's schemas | `keccak256("identity.schemas-of" ‖ 0x00 ‖ publisher)` | list of ids |
//! | credential `h` | `C = keccak256("identity.credential" ‖ 0x00 ‖ h)` | issuer (20) ‖ status index (4) ‖ revoked (1) ‖ suspended (1) ‖ `0x01` |
//! | | `C+1` | subject (20) ‖ issued block (8) |
//! | | `C+2` | schema id |
//! | | `C+3` | valid from (8) ‖ valid until (8) ‖ issued at (8) |
//! | status index `i` of issuer `a` | `keccak256("identity.status-index" ‖ 0x00 ‖ a ‖ i as 4 bytes)` | the credential hash using it |
//! | next unused index | `keccak256("identity.next-status" ‖ 0x00 ‖ a)` | index |
//! | status list words | `keccak256("identity.status" ‖ 0x00 ‖ a ‖ purpose (1) ‖ list (4)) + w` | word `w` of the list's 131,072 bits |
//! | the latest credential of a schema held | `keccak256("identity.held" ‖ 0x00 ‖ subject ‖ schema id)` | credential hash |
//!
//! Numbers are big-endian; packed words fill from the most significant byte.

use alloy_primitives::{Address, B256};
use banyan_module_api::{
    ModuleError, ModuleState,
    slots::{Packer, Slot, Word, WordList},
};

/// Marks a packed record as present (its last used byte).
const PRESENT: u8 = 1;

/// The slot of a DID's record.
pub fn did(account: Address) -> Slot {
    Slot::named("identity.did", account.as_slice())
}

/// Key `index` of `account`'s DID.
pub fn method(account: Address, index: u8) -> Slot {
    let mut key = account.to_vec();
    key.push(index);
    Slot::named("identity.method", &key)
}

/// Service `index` of `account`'s DID.
pub fn service(account: Address, index: u8) -> Slot {
    let mut key = account.to_vec();
    key.push(index);
    Slot::named("identity.service", &key)
}

/// The head of a DID's record (slots `D` and `D+1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DidHead {
    /// The recovery account (zero: none).
    pub recovery: Address,
    /// 1 at creation, one more per change.
    pub version: u32,
    /// Deactivated, for good.
    pub deactivated: bool,
    /// Controllers listed.
    pub controllers: u8,
    /// Keys held.
    pub methods: u8,
    /// Services listed.
    pub services: u8,
    /// The timestamp of the block that created it.
    pub created_at: u64,
    /// The timestamp of the block that last changed it.
    pub updated_at: u64,
    /// The block that created it.
    pub created_block: u64,
    /// The block that last changed it.
    pub updated_block: u64,
}

impl DidHead {
    /// Reads the head of `account`'s DID; `None` when it was never created.
    pub fn read(
        state: &mut ModuleState<'_>,
        account: Address,
    ) -> Result<Option<Self>, ModuleError> {
        let base = did(account);
        let mut head = state.sload(base)?.unpack();
        let recovery = head.address();
        let version = head.u32();
        let deactivated = head.u8() != 0;
        let controllers = head.u8();
        let methods = head.u8();
        let services = head.u8();
        if head.u8() != PRESENT {
            return Ok(None);
        }
        let mut times = state.sload(base.offset(1))?.unpack();
        Ok(Some(Self {
            recovery,
            version,
            deactivated,
            controllers,
            methods,
            services,
            created_at: times.u64(),
            updated_at: times.u64(),
            created_block: times.u64(),
            updated_block: times.u64(),
        }))
    }

    /// Writes the head of `account`'s DID.
    pub fn write(&self, state: &mut ModuleState<'_>, account: Address) -> Result<(), ModuleError> {
        let base = did(account);
        let head = Packer::new()
            .address(self.recovery)
            .u32(self.version)
            .u8(u8::from(self.deactivated))
            .u8(self.controllers)
            .u8(self.methods)
            .u8(self.services)
            .u8(PRESENT)
            .word();
        state.sstore(base, head)?;
        let times = Packer::new()
            .u64(self.created_at)
            .u64(self.updated_at)
            .u64(self.created_block)
            .u64(self.updated_block)
            .word();
        state.sstore(base.offset(1), times)
    }
}

/// The slot of an authority issuer's record.
pub fn issuer(account: Address) -> Slot {
    Slot::named("identity.issuer", account.as_slice())
}

/// The slot saying `account` is admitted for `issuer_type`.
pub fn authority(account: Address, issuer_type: &str) -> Slot {
    let mut key = account.to_vec();
    key.extend_from_slice(issuer_type.as_bytes());
    Slot::named("identity.authority", &key)
}

/// The list of authority issuers.
pub fn issuers() -> WordList {
    WordList(Slot::named("identity.issuers", &[]))
}

/// An issuer's position in [`issuers`], plus one (0: not listed).
pub fn issuer_at(account: Address) -> Slot {
    Slot::named("identity.issuer-at", account.as_slice())
}

/// The base slot of a schema.
pub fn schema(id: B256) -> Slot {
    Slot::named("identity.schema", id.as_slice())
}

/// The latest version `publisher` published of schema `name`.
pub fn schema_latest(publisher: Address, name: &str) -> Slot {
    let mut key = publisher.to_vec();
    key.extend_from_slice(name.as_bytes());
    Slot::named("identity.schema-latest", &key)
}

/// The schemas a publisher published.
pub fn schemas_of(publisher: Address) -> WordList {
    WordList(Slot::named("identity.schemas-of", publisher.as_slice()))
}

/// The base slot of a credential record.
pub fn credential(hash: B256) -> Slot {
    Slot::named("identity.credential", hash.as_slice())
}

/// The credential using status index `index` of `issuer`.
pub fn status_index(issuer: Address, index: u32) -> Slot {
    let mut key = issuer.to_vec();
    key.extend_from_slice(&index.to_be_bytes());
    Slot::named("identity.status-index", &key)
}

/// The lowest index `issuer` has not used.
pub fn next_status(issuer: Address) -> Slot {
    Slot::named("identity.next-status", issuer.as_slice())
}

/// Word 0 of `issuer`'s status list `list` of `purpose`.
pub fn status_list(issuer: Address, purpose: u8, list: u32) -> Slot {
    let mut key = issuer.to_vec();
    key.push(purpose);
    key.extend_from_slice(&list.to_be_bytes());
    Slot::named("identity.status", &key)
}

/// The latest credential of `schema` issued to `subject`.
pub fn held(subject: Address, schema: B256) -> Slot {
    let mut key = subject.to_vec();
    key.extend_from_slice(schema.as_slice());
    Slot::named("identity.held", &key)
}

/// The fixed fields of a credential record (slots `C` to `C+3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CredentialFields {
    /// Who issued it.
    pub issuer: Address,
    /// Its bit in the issuer's status lists.
    pub status_index: u32,
    /// Revoked, for good.
    pub revoked: bool,
    /// Suspended (may be reinstated).
    pub suspended: bool,
    /// Whom it is about.
    pub subject: Address,
    /// The block that recorded it.
    pub issued_block: u64,
    /// Its schema.
    pub schema: B256,
    /// Valid from (Unix seconds).
    pub valid_from: u64,
    /// Valid until (Unix seconds; 0: no end).
    pub valid_until: u64,
    /// The timestamp of the block that recorded it.
    pub issued_at: u64,
}

impl CredentialFields {
    /// Reads the record of `hash`; `None` when there is none.
    pub fn read(state: &mut ModuleState<'_>, hash: B256) -> Result<Option<Self>, ModuleError> {
        let base = credential(hash);
        let mut head = state.sload(base)?.unpack();
        let issuer = head.address();
        let status_index = head.u32();
        let revoked = head.u8() != 0;
        let suspended = head.u8() != 0;
        if head.u8() != PRESENT {
            return Ok(None);
        }
        let mut second = state.sload(base.offset(1))?.unpack();
        let schema = state.sload_b256(base.offset(2))?;
        let mut times = state.sload(base.offset(3))?.unpack();
        Ok(Some(Self {
            issuer,
            status_index,
            revoked,
            suspended,
            subject: second.address(),
            issued_block: second.u64(),
            schema,
            valid_from: times.u64(),
            valid_until: times.u64(),
            issued_at: times.u64(),
        }))
    }

    /// Writes the record of `hash`.
    pub fn write(&self, state: &mut ModuleState<'_>, hash: B256) -> Result<(), ModuleError> {
        let base = credential(hash);
        let head = Packer::new()
            .address(self.issuer)
            .u32(self.status_index)
            .u8(u8::from(self.revoked))
            .u8(u8::from(self.suspended))
            .u8(PRESENT)
            .word();
        state.sstore(base, head)?;
        let second = Packer::new()
            .address(self.subject)
            .u64(self.issued_block)
            .word();
        state.sstore(base.offset(1), second)?;
        state.sstore(base.offset(2), Word::from(self.schema))?;
        let times = Packer::new()
            .u64(self.valid_from)
            .u64(self.valid_until)
            .u64(self.issued_at)
            .word();
        state.sstore(base.offset(3), times)
    }
}

/// The fixed fields of a schema (slot `S`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchemaHead {
    /// Who published it.
    pub publisher: Address,
    /// Its version.
    pub version: u32,
    /// The timestamp of the block that published it.
    pub published_at: u64,
}

impl SchemaHead {
    /// Reads the head of schema `id`; `None` when there is none.
    pub fn read(state: &mut ModuleState<'_>, id: B256) -> Result<Option<Self>, ModuleError> {
        let word = state.sload(schema(id))?;
        if word.is_zero() {
            return Ok(None);
        }
        let mut fields = word.unpack();
        Ok(Some(Self {
            publisher: fields.address(),
            version: fields.u32(),
            published_at: fields.u64(),
        }))
    }

    /// Writes the head of schema `id` (never zero: the version is at least 1).
    pub fn write(&self, state: &mut ModuleState<'_>, id: B256) -> Result<(), ModuleError> {
        let word = Packer::new()
            .address(self.publisher)
            .u32(self.version)
            .u64(self.published_at)
            .word();
        state.sstore(schema(id), word)
    }
}
