//! The `zerobridge` command line for people rather than agents: argument parsing (clap) and
//! terminal rendering (progress, tables, one-line errors) of the workflows in `zb-ops`.

pub mod audit;
pub mod balance;
pub mod cancel;
pub mod devnet;
pub mod doctor;
pub mod governance;
pub mod route;
mod route_status;
pub mod slash;
pub mod stake;
pub mod transfer;
