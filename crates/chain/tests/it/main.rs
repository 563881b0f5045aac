//! zb-chain against real anvil processes.

mod anvil;
mod bridge;
mod proxy;

mod config;
mod finality;
mod heads;
mod logs;
mod quorum;
mod reorg;
