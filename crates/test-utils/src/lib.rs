//! What every zerobridge test that needs a real chain shares: anvil processes on free ports,
//! child processes that are always killed, the paths of the real binaries, lying or
//! black-holing JSON-RPC endpoints in front of an honest node, and fresh databases on the test
//! PostgreSQL server.

pub mod anvil;
pub mod paths;
pub mod postgres;
pub mod process;
pub mod proxy;

pub use anvil::Anvil;
pub use proxy::{BlackHole, Rewrite, RpcProxy};
