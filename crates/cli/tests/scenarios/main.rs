//! Every process-level scenario of the `banyan` binary, in one test binary so that the workspace
//! links it once (each integration-test binary links the whole node). Each module is one
//! scenario family; nextest runs each test in its own process, and `.config/nextest.toml` puts
//! the multi-node families (`at_rest`, `network`, `network_faults`, `durability`, `e2e_ethers`,
//! `bench_network`, `init_up`, `governance_net`, `identity_net`, `fault_schedules`) in the
//! one-at-a-time group by their module name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod at_rest;
mod bench_network;
mod cli_commands;
mod durability;
mod e2e_ethers;
mod fault_schedules;
mod governance_net;
mod identity_net;
mod init_up;
mod metrics;
mod network;
mod network_faults;
mod payments_cli;
mod rpc_rejects;
