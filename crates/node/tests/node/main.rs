//! The node crate's integration tests, in one binary so that the node is linked once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod certificates;
mod recovery;
mod replay;
