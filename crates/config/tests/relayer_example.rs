//! config/relayer.example.toml must always load with the real loader: the example cannot drift
//! from the code.

use std::path::Path;

use zb_chain::Finality;
use zb_config::relayer::RelayerConfig;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/relayer.example.toml");

#[test]
fn relayer_example_config_loads() {
    let config = RelayerConfig::load(Path::new(EXAMPLE)).expect("config/relayer.example.toml must load");

    assert_eq!(config.listen.port(), 7400);
    assert_eq!(config.validators.len(), 4);
    assert_eq!(config.validator_token_file.as_deref(), Some(std::path::Path::new("/etc/zerobridge/relayer-1.token")));
    assert_eq!(config.max_batch_gas, 8_000_000);
    assert_eq!(config.max_batch_messages, 100);
    assert_eq!(config.confirmation_timeout_secs, 60);
    assert!(config.key.keystore.is_some() && config.key.private_key_env.is_none());
    assert_eq!(config.key.password_env.as_deref(), Some("ZB_RELAYER_KEYSTORE_PASSWORD"));

    // Every chain also passes the checks the follower runs at connect time.
    for chain in &config.chains {
        chain.validate().unwrap_or_else(|e| panic!("chain {}: {e}", chain.name));
    }
    let eth = config.chain("ethereum").expect("ethereum chain");
    let bsc = config.chain("bsc").expect("bsc chain");
    assert_eq!((eth.chain_id, eth.finality, eth.rpc_quorum), (1, Finality::Finalized, 2));
    assert_eq!((bsc.chain_id, bsc.finality, bsc.rpc_quorum), (56, Finality::Depth(15), 2));

    // Both directions of the route, with lane ids that match the placeholder bridges.
    let route = zb_protocol::route_id(1, alloy::primitives::Address::repeat_byte(0x11), 56);
    let eth_to_bsc = zb_protocol::lane_id(1, eth.bridge, 56, bsc.bridge, route);
    let bsc_to_eth = zb_protocol::lane_id(56, bsc.bridge, 1, eth.bridge, route);
    let lanes: Vec<_> = config.lanes.iter().map(|l| (l.lane, l.source.as_str(), l.destination.as_str())).collect();
    assert_eq!(lanes, vec![(eth_to_bsc, "ethereum", "bsc"), (bsc_to_eth, "bsc", "ethereum")]);
}
