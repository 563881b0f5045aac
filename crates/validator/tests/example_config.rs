//! config/validator.example.toml must always load with the real loader: the example cannot
//! drift from the code.

use std::path::Path;

use zb_chain::Finality;
use zb_validator::ValidatorConfig;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/validator.example.toml");

#[test]
fn validator_example_config_loads() {
    let config = ValidatorConfig::load(Path::new(EXAMPLE)).expect("config/validator.example.toml must load");

    assert_eq!(config.listen.port(), 7300);
    assert_eq!(config.public_url.as_deref(), Some("https://validator-1.example.org"));
    assert_eq!(config.password_env.as_deref(), Some("ZB_KEYSTORE_PASSWORD"));
    assert!(config.password_file.is_none(), "password_env and password_file are exclusive");

    // Every chain also passes the checks the follower runs at connect time.
    for chain in &config.chains {
        chain.validate().unwrap_or_else(|e| panic!("chain {}: {e}", chain.name));
    }
    let [eth, bsc] = config.chains.as_slice() else { panic!("expected two chains") };
    assert_eq!((eth.name.as_str(), eth.chain_id), ("ethereum", 1));
    assert_eq!(eth.finality, Finality::Finalized);
    assert_eq!((eth.rpc.len(), eth.rpc_quorum), (2, 2));
    assert!(eth.ws.is_some());
    assert_eq!((bsc.name.as_str(), bsc.chain_id), ("bsc", 56));
    assert_eq!(bsc.finality, Finality::Depth(15));
    assert_eq!(bsc.rpc_quorum, 2);
    assert!(bsc.start_block > 0 && eth.start_block > 0);

    // The lane ids are the real ones for the placeholder bridges (docs/protocol.md section 4).
    let route = zb_protocol::route_id(1, alloy::primitives::Address::repeat_byte(0x11), 56);
    let eth_to_bsc = zb_protocol::lane_id(1, eth.bridge, 56, bsc.bridge, route);
    let bsc_to_eth = zb_protocol::lane_id(56, bsc.bridge, 1, eth.bridge, route);
    let lanes: Vec<_> = config.lanes.iter().map(|l| (l.lane, l.source.as_str())).collect();
    assert_eq!(lanes, vec![(eth_to_bsc, "ethereum"), (bsc_to_eth, "bsc")]);
}
