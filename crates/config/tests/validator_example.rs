//! config/validator.example.toml must always load with the real loader: the example cannot
//! drift from the code.

use std::path::Path;

use zb_chain::Finality;
use zb_config::validator::ValidatorConfig;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/validator.example.toml");

#[test]
fn validator_example_config_loads() {
    let config = ValidatorConfig::load(Path::new(EXAMPLE)).expect("config/validator.example.toml must load");

    assert_eq!(config.listen.port(), 7300);
    assert_eq!(config.public_url.as_deref(), Some("https://validator-1.example.org"));
    assert_eq!(config.password_env.as_deref(), Some("ZB_KEYSTORE_PASSWORD"));
    assert!(config.password_file.is_none(), "password_env and password_file are exclusive");
    // Safe by default: the example's signing endpoints need a bearer token.
    assert_eq!(config.api.tokens.len(), 1);
    assert_eq!(config.api.tokens[0].name, "relayer-1");
    assert_eq!(config.api.metrics_listen, Some("127.0.0.1:7301".parse().expect("address")));

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

    // Both chains name a stake manager (lanes from opt-ins), read every minute.
    assert_eq!(eth.stake_manager, Some(alloy::primitives::Address::repeat_byte(0xcc)));
    assert_eq!(bsc.stake_manager, Some(alloy::primitives::Address::repeat_byte(0xdd)));
    assert!(config.has_stake_manager());
    assert_eq!(config.stake_refresh_secs, 60);
    assert_eq!(config.memory_window, zb_config::validator::DEFAULT_MEMORY_WINDOW);

    // The lane ids are the real ones for the placeholder bridges (docs/protocol.md section 4).
    let route = zb_protocol::route_id(1, alloy::primitives::Address::repeat_byte(0x11), 56);
    let eth_to_bsc = zb_protocol::lane_id(1, eth.bridge, 56, bsc.bridge, route);
    let bsc_to_eth = zb_protocol::lane_id(56, bsc.bridge, 1, eth.bridge, route);
    let lanes: Vec<_> = config.lanes.iter().map(|l| (l.lane, l.source.as_str())).collect();
    assert_eq!(lanes, vec![(eth_to_bsc, "ethereum"), (bsc_to_eth, "bsc")]);
}

/// With stake managers the [[lanes]] of the example may go: the rest of it still loads.
#[test]
fn validator_example_config_loads_without_lanes() {
    let text = std::fs::read_to_string(EXAMPLE).expect("read the example");
    let start = text.find("\n[[lanes]]").expect("the example lists lanes");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("validator.toml");
    std::fs::write(&path, &text[..start]).expect("write");
    let config = ValidatorConfig::load(&path).expect("loads without [[lanes]]");
    assert!(config.lanes.is_empty());

    // And without the stake managers too, it is refused with the existing error.
    let no_stake: String =
        text[..start].lines().filter(|l| !l.starts_with("stake_manager")).collect::<Vec<_>>().join("\n");
    std::fs::write(&path, no_stake).expect("write");
    let error = ValidatorConfig::load(&path).expect_err("nothing to secure").to_string();
    assert!(error.contains("no [[lanes]]"), "{error}");
}

/// The loader refuses the example with its quorum lowered to 1: one provider's word would be signed.
#[test]
fn a_lone_remote_rpc_answer_is_refused_by_the_loader() {
    let text = std::fs::read_to_string(EXAMPLE).expect("example");
    assert!(text.contains("rpc_quorum = 2"), "the example sets a quorum of 2");
    let lowered = text.replace("rpc_quorum = 2", "rpc_quorum = 1");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("validator.toml");
    std::fs::write(&path, lowered).expect("write");
    let refused = ValidatorConfig::load(&path).expect_err("a quorum of 1 over public providers loaded");
    let message = refused.to_string();
    assert!(message.contains("`rpc_quorum` is 1") && message.contains("127.0.0.1"), "{message}");
}
