//! Where Governance keeps its state in its account's storage. The layout is part of the
//! module's version ([`crate::VERSION`]): a member proves the committee or a proposal's outcome
//! with `eth_getProof` against a certified header.
//!
//! | slot | content |
//! |---|---|
//! | `keccak256("governance.rules" ‖ 0x00)` | participation bps (2) ‖ approval bps (2) ‖ voting period (8) ‖ epoch (8) ‖ total weight (8) ‖ zero (4) |
//! | `keccak256("governance.count" ‖ 0x00)` | number of proposals |
//! | `keccak256("governance.members" ‖ 0x00)` | governors: count; word `i` at `keccak256(slot) + i` = address (20) ‖ weight (8) ‖ zero (4) |
//! | `keccak256("governance.member" ‖ 0x00 ‖ address)` | weight (8) ‖ position in the list + 1 (8) ‖ zero (16) |
//! | `keccak256("governance.open" ‖ 0x00)` | ids of the open proposals (list, as above; order not kept) |
//! | `keccak256("governance.vote" ‖ 0x00 ‖ id (8) ‖ voter)` | choice (1) ‖ zero (31) |
//! | `keccak256("governance.role" ‖ 0x00 ‖ role (1) ‖ account)` | position in the role's list + 1 (0: does not hold it) |
//! | `keccak256("governance.role.members" ‖ 0x00 ‖ role (1))` | the role's holders (list; word = address (20) ‖ zero (12)) |
//! | `keccak256("governance.permissions" ‖ 0x00)` | deploy permission on (1) ‖ method permission on (1) ‖ number of frozen accounts (8) ‖ zero (22) |
//! | `keccak256("governance.frozen" ‖ 0x00 ‖ address)` | the proposal that froze it (8) ‖ zero (24); zero: not frozen |
//! | `keccak256("governance.admin" ‖ 0x00 ‖ contract)` | the contract's admin (20) ‖ zero (12) |
//! | `keccak256("governance.access" ‖ 0x00 ‖ contract ‖ selector (4))` | access (1: allow list, 2: deny list; 0: open) |
//! | `keccak256("governance.access.list" ‖ 0x00 ‖ contract ‖ selector)` | the function's listed accounts (list of address words) |
//! | `keccak256("governance.access.member" ‖ 0x00 ‖ contract ‖ selector ‖ account)` | position in that list + 1 (0: not listed) |
//! | `keccak256("governance.validators" ‖ 0x00)` | the latest validator set (list; word = address (20) ‖ power (8) ‖ zero (4)) |
//! | `keccak256("governance.validators.prev" ‖ 0x00)` | the set in force until the latest takes effect (list, as above) |
//! | `keccak256("governance.validator" ‖ 0x00 ‖ address)` | power (8) ‖ position in the latest set + 1 (8) ‖ zero (16) |
//! | `keccak256("governance.validator.key" ‖ 0x00 ‖ address)` | the validator's public key (bytes, as `P+3` below) |
//! | `keccak256("governance.valset" ‖ 0x00)` | height from which the latest set decides blocks (8) ‖ zero (24) |
//! | `keccak256("governance.param" ‖ 0x00 ‖ parameter (1))` | the parameter's value (8) ‖ zero (24); zero: the default |
//! | `keccak256("governance.revoked" ‖ 0x00)` | revoked node-certificate serials (list; word = length (1) ‖ serial (≤ 20) ‖ zero) |
//! | `keccak256("governance.revoked.member" ‖ 0x00 ‖ serial)` | 1 when revoked |
//!
//! Proposal `id` starts at `P = keccak256("governance.proposal" ‖ 0x00 ‖ id (8, big-endian))`:
//!
//! | slot | content |
//! |---|---|
//! | `P` | creator (20) ‖ kind (1) ‖ status (1) ‖ participation bps (2) ‖ approval bps (2) ‖ zero (6) |
//! | `P+1` | created at (8) ‖ expires at (8) ‖ epoch (8) ‖ closed at (8) |
//! | `P+2` | yes (8) ‖ no (8) ‖ abstain (8) ‖ total weight (8) |
//! | `P+3` | payload: byte length; data from `keccak256(P+3)` |
//! | `P+4` | description, as `P+3` |
//! | `P+5` | reason it failed, as `P+3` |

use alloy_primitives::Address;
use banyan_module_api::{
    ModuleError, ModuleState,
    slots::{Packer, Slot, Word, WordList},
};

/// The committee's rules and totals: one word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RulesWord {
    /// Voted weight / total weight needed, in basis points.
    pub participation_bps: u16,
    /// Yes / (yes + no) needed, in basis points.
    pub approval_bps: u16,
    /// Default blocks a proposal stays open.
    pub voting_period: u64,
    /// Changes of the committee or its rules so far.
    pub epoch: u64,
    /// Sum of the governors' weights.
    pub total_weight: u64,
}

impl RulesWord {
    fn decode(word: Word) -> Self {
        let mut f = word.unpack();
        Self {
            participation_bps: f.u16(),
            approval_bps: f.u16(),
            voting_period: f.u64(),
            epoch: f.u64(),
            total_weight: f.u64(),
        }
    }

    fn encode(&self) -> Word {
        Packer::new()
            .u16(self.participation_bps)
            .u16(self.approval_bps)
            .u64(self.voting_period)
            .u64(self.epoch)
            .u64(self.total_weight)
            .word()
    }
}

/// The slot of the committee's rules.
pub fn rules_slot() -> Slot {
    Slot::named("governance.rules", &[])
}

pub(crate) fn read_rules(state: &mut ModuleState<'_>) -> Result<RulesWord, ModuleError> {
    Ok(RulesWord::decode(state.sload(rules_slot())?))
}

pub(crate) fn write_rules(
    state: &mut ModuleState<'_>,
    rules: &RulesWord,
) -> Result<(), ModuleError> {
    state.sstore(rules_slot(), rules.encode())
}

/// The slot holding the number of proposals.
pub fn count_slot() -> Slot {
    Slot::named("governance.count", &[])
}

/// The list of governors (address and weight).
pub fn members() -> WordList {
    WordList(Slot::named("governance.members", &[]))
}

/// The slot of one governor's weight and list position.
pub fn member_slot(account: Address) -> Slot {
    Slot::named("governance.member", account.as_slice())
}

/// The ids of the open proposals.
pub(crate) fn open_list() -> WordList {
    WordList(Slot::named("governance.open", &[]))
}

/// The slot of `voter`'s vote on proposal `id`.
pub fn vote_slot(id: u64, voter: Address) -> Slot {
    let mut key = id.to_be_bytes().to_vec();
    key.extend_from_slice(voter.as_slice());
    Slot::named("governance.vote", &key)
}

/// The slot saying whether (and where in the role's list) `account` holds role `role`.
pub fn role_slot(role: u8, account: Address) -> Slot {
    let mut key = vec![role];
    key.extend_from_slice(account.as_slice());
    Slot::named("governance.role", &key)
}

/// The holders of role `role`.
pub fn role_members(role: u8) -> WordList {
    WordList(Slot::named("governance.role.members", &[role]))
}

pub(crate) fn pack_address(account: Address) -> Word {
    Packer::new().address(account).word()
}

/// A list word of an account and its weight (governors) or power (validators).
pub(crate) fn pack_member(account: Address, weight: u64) -> Word {
    Packer::new().address(account).u64(weight).word()
}

pub(crate) fn unpack_member(word: Word) -> (Address, u64) {
    let mut f = word.unpack();
    (f.address(), f.u64())
}

/// A list membership entry at `slot`: `(weight or power, position + 1)`, zeros when absent.
pub(crate) fn read_entry(
    state: &mut ModuleState<'_>,
    slot: Slot,
) -> Result<(u64, u64), ModuleError> {
    let mut f = state.sload(slot)?.unpack();
    Ok((f.u64(), f.u64()))
}

/// Writes a membership entry at `slot`; a weight of 0 clears it.
pub(crate) fn write_entry(
    state: &mut ModuleState<'_>,
    slot: Slot,
    weight: u64,
    position_plus_one: u64,
) -> Result<(), ModuleError> {
    let word = if weight == 0 {
        Word::ZERO
    } else {
        Packer::new().u64(weight).u64(position_plus_one).word()
    };
    state.sstore(slot, word)
}

/// A governor's entry: `(weight, position + 1)`, zeros when not a governor.
pub(crate) fn read_member(
    state: &mut ModuleState<'_>,
    account: Address,
) -> Result<(u64, u64), ModuleError> {
    read_entry(state, member_slot(account))
}

pub(crate) fn write_member(
    state: &mut ModuleState<'_>,
    account: Address,
    weight: u64,
    position_plus_one: u64,
) -> Result<(), ModuleError> {
    write_entry(state, member_slot(account), weight, position_plus_one)
}

/// The fixed fields of a proposal: slots `P`, `P+1` and `P+2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProposalFields {
    /// Who opened it.
    pub creator: Address,
    /// Its kind (the `Kind` enum of the interface).
    pub kind: u8,
    /// Its status (the `Status` enum of the interface), as stored.
    pub status: u8,
    /// Participation needed, from the rules in force at creation.
    pub participation_bps: u16,
    /// Approval needed, from the rules in force at creation.
    pub approval_bps: u16,
    /// Block it was created in.
    pub created_at: u64,
    /// Last block in which it may be voted on.
    pub expires_at: u64,
    /// The epoch of the committee that judges it.
    pub epoch: u64,
    /// Block it closed in (0 while open).
    pub closed_at: u64,
    /// Weight voted yes.
    pub yes: u64,
    /// Weight voted no.
    pub no: u64,
    /// Weight voted abstain.
    pub abstain: u64,
    /// Total weight of the committee that judges it.
    pub total_weight: u64,
}

/// The storage record of proposal `id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProposalRecord {
    base: Slot,
}

impl ProposalRecord {
    /// The record of proposal `id`.
    pub fn new(id: u64) -> Self {
        Self {
            base: Slot::named("governance.proposal", &id.to_be_bytes()),
        }
    }

    /// Slot `P`: creator, kind, status, thresholds.
    pub fn head(&self) -> Slot {
        self.base
    }

    pub(crate) fn payload(&self) -> Slot {
        self.base.offset(3)
    }

    pub(crate) fn description(&self) -> Slot {
        self.base.offset(4)
    }

    pub(crate) fn reason(&self) -> Slot {
        self.base.offset(5)
    }

    /// The fixed fields; `None` when there is no such proposal.
    pub(crate) fn fields(
        &self,
        state: &mut ModuleState<'_>,
    ) -> Result<Option<ProposalFields>, ModuleError> {
        let head = state.sload(self.base)?;
        if head.is_zero() {
            return Ok(None);
        }
        let times = state.sload(self.base.offset(1))?;
        let tally = state.sload(self.base.offset(2))?;
        let (mut h, mut t, mut v) = (head.unpack(), times.unpack(), tally.unpack());
        Ok(Some(ProposalFields {
            creator: h.address(),
            kind: h.u8(),
            status: h.u8(),
            participation_bps: h.u16(),
            approval_bps: h.u16(),
            created_at: t.u64(),
            expires_at: t.u64(),
            epoch: t.u64(),
            closed_at: t.u64(),
            yes: v.u64(),
            no: v.u64(),
            abstain: v.u64(),
            total_weight: v.u64(),
        }))
    }

    pub(crate) fn write_fields(
        &self,
        state: &mut ModuleState<'_>,
        f: &ProposalFields,
    ) -> Result<(), ModuleError> {
        let head = Packer::new()
            .address(f.creator)
            .u8(f.kind)
            .u8(f.status)
            .u16(f.participation_bps)
            .u16(f.approval_bps)
            .word();
        let times = Packer::new()
            .u64(f.created_at)
            .u64(f.expires_at)
            .u64(f.epoch)
            .u64(f.closed_at)
            .word();
        let tally = Packer::new()
            .u64(f.yes)
            .u64(f.no)
            .u64(f.abstain)
            .u64(f.total_weight)
            .word();
        state.sstore(self.base, head)?;
        state.sstore(self.base.offset(1), times)?;
        state.sstore(self.base.offset(2), tally)
    }
}

/// The permission switches and the count of frozen accounts: one word.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SwitchesWord {
    /// Only `deployer` accounts create contracts.
    pub deploy: bool,
    /// Contract admins' per-function lists are enforced.
    pub method: bool,
    /// Accounts and contracts frozen now.
    pub frozen: u64,
}

/// The slot of the permission switches.
pub fn switches_slot() -> Slot {
    Slot::named("governance.permissions", &[])
}

pub(crate) fn read_switches(state: &mut ModuleState<'_>) -> Result<SwitchesWord, ModuleError> {
    let mut f = state.sload(switches_slot())?.unpack();
    Ok(SwitchesWord {
        deploy: f.u8() != 0,
        method: f.u8() != 0,
        frozen: f.u64(),
    })
}

pub(crate) fn write_switches(
    state: &mut ModuleState<'_>,
    switches: &SwitchesWord,
) -> Result<(), ModuleError> {
    let word = Packer::new()
        .u8(u8::from(switches.deploy))
        .u8(u8::from(switches.method))
        .u64(switches.frozen)
        .word();
    state.sstore(switches_slot(), word)
}

/// The slot naming the proposal that froze `account`.
pub fn frozen_slot(account: Address) -> Slot {
    Slot::named("governance.frozen", account.as_slice())
}

/// The slot of `contract`'s admin.
pub fn admin_slot(contract: Address) -> Slot {
    Slot::named("governance.admin", contract.as_slice())
}

fn function_key(contract: Address, selector: [u8; 4]) -> Vec<u8> {
    let mut key = contract.to_vec();
    key.extend_from_slice(&selector);
    key
}

/// The slot of who may call `contract`'s function `selector`.
pub fn access_slot(contract: Address, selector: [u8; 4]) -> Slot {
    Slot::named("governance.access", &function_key(contract, selector))
}

/// The accounts listed for `contract`'s function `selector`.
pub fn access_list(contract: Address, selector: [u8; 4]) -> WordList {
    WordList(Slot::named(
        "governance.access.list",
        &function_key(contract, selector),
    ))
}

/// The slot saying whether (and where) `account` is on that list.
pub fn access_member_slot(contract: Address, selector: [u8; 4], account: Address) -> Slot {
    let mut key = function_key(contract, selector);
    key.extend_from_slice(account.as_slice());
    Slot::named("governance.access.member", &key)
}

/// The latest validator set.
pub fn validators() -> WordList {
    WordList(Slot::named("governance.validators", &[]))
}

/// The validator set in force until the latest takes effect.
pub fn previous_validators() -> WordList {
    WordList(Slot::named("governance.validators.prev", &[]))
}

/// The slot of one validator's power and position in the latest set.
pub fn validator_slot(account: Address) -> Slot {
    Slot::named("governance.validator", account.as_slice())
}

/// The slot of a validator's public key.
pub fn validator_key_slot(account: Address) -> Slot {
    Slot::named("governance.validator.key", account.as_slice())
}

/// The slot of the height from which the latest set decides blocks.
pub fn valset_slot() -> Slot {
    Slot::named("governance.valset", &[])
}

/// The slot of chain parameter `parameter` (the interface's `Parameter` enum).
pub fn param_slot(parameter: u8) -> Slot {
    Slot::named("governance.param", &[parameter])
}

/// The slot of the rate of gas paid in currency `token`.
pub fn gas_rate_slot(token: Address) -> Slot {
    Slot::named("governance.gas-rate", token.as_slice())
}

/// The node-certificate serials revoked by proposal.
pub fn revoked_list() -> WordList {
    WordList(Slot::named("governance.revoked", &[]))
}

/// The slot saying whether certificate `serial` is revoked.
pub fn revoked_slot(serial: &[u8]) -> Slot {
    Slot::named("governance.revoked.member", serial)
}

/// A serial (1 to 20 bytes) as its list word.
pub fn pack_serial(serial: &[u8]) -> Word {
    let mut bytes = [0u8; 32];
    bytes[0] = serial.len() as u8;
    bytes[1..=serial.len()].copy_from_slice(serial);
    Word::from(alloy_primitives::B256::new(bytes))
}

/// The serial a list word (its raw value) holds.
pub fn unpack_serial(word: alloy_primitives::U256) -> Vec<u8> {
    let bytes = Word(word).to_b256();
    let len = usize::from(bytes[0]).min(20);
    bytes[1..=len].to_vec()
}
