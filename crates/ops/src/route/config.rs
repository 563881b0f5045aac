//! The configuration text `route register` prints: the validator.toml and the relayer's
//! `[[lanes]]` for the route, and its network-file entry.

use std::fmt::Write as _;

use alloy::primitives::{Address, B256};
use eyre::{Result, eyre};

use super::register::Plan;
use crate::context::Context;
use crate::network::{ChainInfo, RouteInfo};

/// The `[[routes]]` entry of a network file.
pub(super) fn network_route_toml(route: &RouteInfo) -> Result<String> {
    #[derive(serde::Serialize)]
    struct Routes<'a> {
        routes: [&'a RouteInfo; 1],
    }
    toml::to_string(&Routes { routes: [route] }).map_err(|e| eyre!("rendering the route: {e}"))
}

/// A TOML basic string (JSON's escaping is a subset of TOML's).
pub(super) fn q(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string())
}

pub const VALIDATOR_BEGIN: &str = "# ===== BEGIN validator.toml =====";
pub const VALIDATOR_END: &str = "# ===== END validator.toml =====";
pub const RELAYER_BEGIN: &str = "# ===== BEGIN relayer.toml [[lanes]] =====";
pub const RELAYER_END: &str = "# ===== END relayer.toml [[lanes]] =====";
/// The placeholder for the second RPC provider of a printed config on a real chain.
pub const SECOND_PROVIDER: &str = "https://REPLACE-WITH-A-SECOND-INDEPENDENT-PROVIDER.invalid";

/// What the validator configuration says about the route: from the registration's plan, or read
/// back from the chains (`validator_config`, for the API).
pub(super) struct RouteFacts {
    pub(super) route_id: B256,
    pub(super) symbol: String,
    pub(super) lane_to_remote: B256,
    pub(super) lane_to_home: B256,
    /// How the lanes' sets are chosen, in words (SecurityPlan::describe).
    pub(super) security: String,
    /// Whether a lane's set comes from stake (validators pick their lanes up by themselves).
    pub(super) staked: bool,
}

impl Plan {
    pub(super) fn facts(&self, home: &ChainInfo, remote: &ChainInfo) -> RouteFacts {
        RouteFacts {
            route_id: self.route_id,
            symbol: self.token_symbol.clone(),
            lane_to_remote: self.lane_to_remote,
            lane_to_home: self.lane_to_home,
            security: self.security.describe(home, remote),
            staked: self.security.staked(),
        }
    }
}

/// A complete validator configuration for the route's two lanes (config/validator.example.toml).
pub(super) fn validator_toml(
    ctx: &Context,
    plan: &RouteFacts,
    home: &ChainInfo,
    remote: &ChainInfo,
    start_blocks: (u64, u64),
    signers: &[Address],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{VALIDATOR_BEGIN}");
    let _ = writeln!(
        out,
        "# zerobridge validator for route {} ({}): {} ({}) <-> {} ({})",
        plan.symbol, plan.route_id, home.name, home.chain_id, remote.name, remote.chain_id
    );
    let _ = writeln!(out, "# Security: {}.", plan.security);
    let _ = writeln!(out, "# Each of these signers runs one validator with its own key:");
    for signer in signers {
        let _ = writeln!(out, "#   {signer}");
    }
    let _ = writeln!(out, "# Run:  zerobridge validator run --config validator.toml");
    if plan.staked {
        let _ = writeln!(
            out,
            "# On staked chains a running validator picks up the lanes its operator opted in to by itself:"
        );
        let _ = writeln!(out, "# no restart. The [[lanes]] below are for a validator that lists its lanes explicitly.");
    } else {
        let _ =
            writeln!(out, "# A validator that already secures other lanes adds the two [[lanes]] below to its config");
        let _ = writeln!(
            out,
            "# (keeping each start_block at or before the first message of every lane it secures) and restarts."
        );
        if let Some(manifest) = &ctx.manifest {
            let configs: Vec<String> = manifest.validators.iter().map(|v| v.config.display().to_string()).collect();
            if !configs.is_empty() {
                let _ = writeln!(out, "# On this devnet those are: {}", configs.join(", "));
            }
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "# Signing key (`zerobridge keys new --dir /var/lib/zerobridge/keys`): replace with your signer's file."
    );
    let _ = writeln!(out, "keystore = \"/var/lib/zerobridge/keys/REPLACE_WITH_YOUR_SIGNER_ADDRESS.json\"");
    let _ = writeln!(out, "# The password is never written here: it is read from this environment variable.");
    let _ = writeln!(out, "password_env = \"ZB_KEYSTORE_PASSWORD\"");
    let _ = writeln!(out, "# Slashing-protection database: local disk, backed up, one per key.");
    let _ = writeln!(out, "data_dir = \"/var/lib/zerobridge/validator\"");
    let _ = writeln!(out, "# HTTP API for relayers (/v1/...), health and metrics; put TLS in front of it.");
    let _ = writeln!(out, "listen = \"127.0.0.1:7300\"");
    for (chain, start) in [(home, start_blocks.0), (remote, start_blocks.1)] {
        let _ = writeln!(out);
        let _ = writeln!(out, "[[chains]]");
        let _ = writeln!(out, "name = {}", q(&chain.name));
        let _ = writeln!(out, "chain_id = {}", chain.chain_id);
        // One endpoint is trusted alone only on this machine (the validator refuses it elsewhere).
        let local = zb_chain::on_this_machine(&chain.rpc);
        if local {
            let _ = writeln!(out, "# A node on this machine: its answers may be trusted alone (rpc_quorum = 1).");
            let _ = writeln!(out, "rpc = [{}]", q(&chain.rpc));
        } else {
            let _ = writeln!(out, "# Two independent providers must answer identically before anything is signed:");
            let _ =
                writeln!(out, "# replace the second with a provider other than the first (add more, keep a majority).");
            let _ = writeln!(out, "rpc = [{}, {}]", q(&chain.rpc), q(SECOND_PROVIDER));
        }
        if let Some(ws) = ctx.ws(&chain.name) {
            let _ = writeln!(out, "ws = {}", q(&ws));
        }
        let _ = writeln!(out, "bridge = \"{}\"", chain.bridge);
        let _ = writeln!(out, "# On a proof-of-stake chain prefer finality = \"finalized\".");
        let _ = writeln!(out, "finality = {{ depth = {} }}", chain.finality_depth);
        let _ = writeln!(out, "rpc_quorum = {}", if local { 1 } else { 2 });
        if start == 0 {
            let _ = writeln!(out, "# Set this to the bridge's deployment block on {}.", chain.name);
        } else {
            let _ = writeln!(
                out,
                "# The block the route was opened in on {}: none of its messages come earlier.",
                chain.name
            );
        }
        let _ = writeln!(out, "start_block = {start}");
    }
    for (lane, source, destination) in [(plan.lane_to_remote, home, remote), (plan.lane_to_home, remote, home)] {
        let _ = writeln!(out);
        let _ =
            writeln!(out, "# {} ({}) -> {} ({})", source.name, source.chain_id, destination.name, destination.chain_id);
        let _ = writeln!(out, "[[lanes]]");
        let _ = writeln!(out, "lane = \"{lane}\"");
        let _ = writeln!(out, "source = {}", q(&source.name));
    }
    let _ = writeln!(out, "{VALIDATOR_END}");
    out
}

/// The relayer's `[[lanes]]` entries for the route.
pub(super) fn relayer_lanes_toml(plan: &RouteFacts, home: &ChainInfo, remote: &ChainInfo) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{RELAYER_BEGIN}");
    let _ = writeln!(
        out,
        "# Add to relayer.toml; its [[chains]] must include {} and {}, and `validators` the APIs of the set above.",
        home.name, remote.name
    );
    for (lane, source, destination) in [(plan.lane_to_remote, home, remote), (plan.lane_to_home, remote, home)] {
        let _ = writeln!(out, "[[lanes]]");
        let _ = writeln!(out, "lane = \"{lane}\"");
        let _ = writeln!(out, "source = {}", q(&source.name));
        let _ = writeln!(out, "destination = {}", q(&destination.name));
    }
    let _ = writeln!(out, "{RELAYER_END}");
    out
}

#[cfg(test)]
mod tests {
    use super::super::register::route_params;
    use super::super::security::{SecurityPlan, build_set};
    use super::super::test_support::register_args;
    use super::*;
    use crate::network::Network;
    use alloy::primitives::U256;

    fn chain(name: &str, chain_id: u64, byte: u8) -> ChainInfo {
        ChainInfo {
            name: name.into(),
            chain_id,
            rpc: format!("http://127.0.0.1:{}", 8000 + chain_id),
            bridge: Address::repeat_byte(byte),
            registry: Address::repeat_byte(byte + 1),
            finality_depth: 3,
            manager: None,
            stake_manager: None,
        }
    }

    #[test]
    fn printed_validator_config_loads() {
        let (home, remote) = (chain("ethereum", 1, 0xaa), chain("bsc", 56, 0xbb));
        let token = Address::repeat_byte(0x11);
        let route_id = zb_protocol::route_id(1, token, 56);
        let members: Vec<Address> = (1..=4).map(Address::repeat_byte).collect();
        let plan = Plan {
            owner: Address::repeat_byte(9),
            token,
            token_name: "Token".into(),
            token_symbol: "TOK".into(),
            decimals: 18,
            route_id,
            lane_to_remote: zb_protocol::lane_id(1, home.bridge, 56, remote.bridge, route_id),
            lane_to_home: zb_protocol::lane_id(56, remote.bridge, 1, home.bridge, route_id),
            params: route_params(&register_args(&[]), 18, Address::repeat_byte(9)).expect("params"),
            security: SecurityPlan {
                configured: Some((build_set(&members, 3).expect("set"), "standard, 3 of 4".into())),
                home_level: None,
                remote_level: None,
            },
            bond: U256::ZERO,
        };
        let ctx = Context {
            network: Network {
                chains: vec![home.clone(), remote.clone()],
                routes: vec![],
                validators: vec![],
                fallback_validators: vec![],
                threshold: None,
                validator_token_file: None,
                validator_tls: None,
            },
            manifest: None,
            network_file: None,
            http: reqwest::Client::new(),
            validator_http: reqwest::Client::new(),
        };
        let text = validator_toml(&ctx, &plan.facts(&home, &remote), &home, &remote, (100, 200), &members);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("validator.toml");
        std::fs::write(&path, &text).expect("write");
        let config = zb_config::validator::ValidatorConfig::load(&path).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(config.lanes.len(), 2);
        assert_eq!((config.lanes[0].lane, config.lanes[0].source.as_str()), (plan.lane_to_remote, "ethereum"));
        assert_eq!((config.lanes[1].lane, config.lanes[1].source.as_str()), (plan.lane_to_home, "bsc"));
        assert_eq!(config.chains[0].bridge, home.bridge);
        assert_eq!(config.chains[1].start_block, 200);
        assert_eq!(config.chains[0].finality, zb_chain::Finality::Depth(3));
        assert_eq!((config.chains[0].rpc.len(), config.chains[0].rpc_quorum), (1, 1), "a node on this machine");

        // On a real chain the printed config asks for two providers agreeing, never one.
        let public = |mut c: ChainInfo| {
            c.rpc = format!("https://rpc.{}.example", c.name);
            c
        };
        let (public_home, public_remote) = (public(home.clone()), public(remote.clone()));
        let facts = plan.facts(&public_home, &public_remote);
        let text = validator_toml(&ctx, &facts, &public_home, &public_remote, (100, 200), &members);
        std::fs::write(&path, &text).expect("write");
        let config = zb_config::validator::ValidatorConfig::load(&path).unwrap_or_else(|e| panic!("{e}\n{text}"));
        for chain in &config.chains {
            assert_eq!(chain.rpc_quorum, 2, "{text}");
            assert_eq!(chain.rpc[1], SECOND_PROVIDER, "{text}");
        }

        let relayer = relayer_lanes_toml(&plan.facts(&home, &remote), &home, &remote);
        #[derive(serde::Deserialize)]
        struct Lanes {
            lanes: Vec<toml::Value>,
        }
        let lanes: Lanes = toml::from_str(&relayer).expect("relayer lanes parse");
        assert_eq!(lanes.lanes.len(), 2);
        assert_eq!(lanes.lanes[1].get("destination").and_then(|v| v.as_str()), Some("ethereum"));

        let route = RouteInfo {
            route_id,
            symbol: "TOK".into(),
            decimals: 18,
            home: "ethereum".into(),
            remote: "bsc".into(),
            home_token: token,
            wrapped_token: Address::repeat_byte(0x22),
            liveness: None,
        };
        let entry = network_route_toml(&route).expect("render");
        let network_text = format!(
            "[[chains]]\nname = \"ethereum\"\nchainId = 1\nrpc = \"http://x\"\nbridge = \"{}\"\nregistry = \"{}\"\n\
             [[chains]]\nname = \"bsc\"\nchainId = 56\nrpc = \"http://y\"\nbridge = \"{}\"\nregistry = \"{}\"\n{entry}",
            home.bridge, home.registry, remote.bridge, remote.registry
        );
        let network: Network = toml::from_str(&network_text).unwrap_or_else(|e| panic!("{e}\n{network_text}"));
        assert_eq!(network.routes, vec![route]);
    }
}
