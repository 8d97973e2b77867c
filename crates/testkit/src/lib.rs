//! banyan-testkit
