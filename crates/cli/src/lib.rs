//! The `zerobridge` command line for people rather than agents: argument parsing (clap) and
//! terminal rendering (progress, tables, one-line errors) of the workflows in `zb-ops`.

pub mod doctor;
pub mod slash;
pub mod stake;
