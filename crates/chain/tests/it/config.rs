use alloy::primitives::Address;
use zb_chain::{ChainConfig, ChainError, Finality, Follower};

use crate::anvil::Anvil;

#[test]
fn toml_defaults_and_finality_forms() {
    let depth: ChainConfig = toml::from_str(
        r#"
        name = "home"
        chain_id = 1
        rpc = ["http://127.0.0.1:8545"]
        bridge = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
        finality = { depth = 12 }
        "#,
    )
    .expect("depth config");
    assert_eq!(depth.finality, Finality::Depth(12));
    assert_eq!(depth.rpc_quorum, 1);
    assert_eq!(depth.poll_interval_ms, 1000);
    assert_eq!(depth.start_block, 0);
    assert_eq!(depth.ws, None);

    let tagged: ChainConfig = toml::from_str(
        r#"
        name = "home"
        chain_id = 1
        rpc = ["http://a:8545", "http://b:8545"]
        ws = "ws://a:8546"
        bridge = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
        finality = "finalized"
        rpc_quorum = 2
        poll_interval_ms = 250
        start_block = 100
        "#,
    )
    .expect("finalized config");
    assert_eq!(tagged.finality, Finality::Finalized);
    assert_eq!(tagged.rpc_quorum, 2);
    assert_eq!(tagged.start_block, 100);

    let defaulted: ChainConfig = toml::from_str(
        r#"
        name = "home"
        chain_id = 1
        rpc = ["http://127.0.0.1:8545"]
        bridge = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
        "#,
    )
    .expect("minimal config");
    assert_eq!(defaulted.finality, Finality::Depth(2));

    // Round trip.
    let text = toml::to_string(&tagged).expect("serialize");
    assert_eq!(toml::from_str::<ChainConfig>(&text).expect("reparse"), tagged);
}

#[tokio::test]
async fn wrong_chain_id_is_refused() {
    let anvil = Anvil::start(31337, &[]).await;
    let mut config = anvil.config(Address::repeat_byte(1), Finality::Depth(2));
    config.chain_id = 1;
    match Follower::connect(config).await {
        Err(ChainError::WrongChainId { expected, found, ref endpoint, .. }) => {
            assert_eq!((expected, found), (1, 31337));
            assert!(endpoint.contains("127.0.0.1"), "{endpoint}");
        }
        other => panic!("expected WrongChainId, got {other:?}"),
    }

    // One wrong endpoint among good ones is enough to refuse.
    let other = Anvil::start(5, &[]).await;
    let mut config = anvil.config(Address::repeat_byte(1), Finality::Depth(2));
    config.rpc.push(other.http());
    let err = Follower::connect(config).await.expect_err("mixed chains");
    assert!(matches!(err, ChainError::WrongChainId { found: 5, .. }), "{err}");
    assert!(err.to_string().contains("chain_id"), "message names the fix: {err}");
}

#[tokio::test]
async fn invalid_configs_are_refused() {
    let anvil = Anvil::start(31337, &[]).await;
    let base = anvil.config(Address::repeat_byte(1), Finality::Depth(2));

    let mut c = base.clone();
    c.rpc_quorum = 2;
    assert!(matches!(Follower::connect(c).await, Err(ChainError::Config(_))));

    let mut c = base.clone();
    c.rpc_quorum = 0;
    assert!(matches!(Follower::connect(c).await, Err(ChainError::Config(_))));

    let mut c = base.clone();
    c.rpc = vec![];
    assert!(matches!(Follower::connect(c).await, Err(ChainError::Config(_))));

    // One endpoint's word is trusted only from this machine: any remote endpoint needs a quorum of 2.
    for lone in [vec!["https://eth.example/rpc"], vec!["http://127.0.0.1:8545", "http://10.0.0.7:8545"]] {
        let mut c = base.clone();
        c.rpc = lone.iter().map(|u| u.to_string()).collect();
        match c.validate() {
            Err(ChainError::Config(m)) => {
                assert!(m.contains("`rpc_quorum` is 1") && m.contains("rpc_quorum = 2"), "{m}")
            }
            other => panic!("a quorum of 1 over {lone:?} was accepted: {other:?}"),
        }
        c.rpc_quorum = 2;
        c.rpc.push("https://second.example/rpc".into());
        assert!(c.validate().is_ok(), "2 of {:?} refused", c.rpc);
    }
    for local in ["http://localhost:8545", "http://[::1]:8545", "http://127.0.0.1:8545"] {
        let mut c = base.clone();
        c.rpc = vec![local.to_string()];
        assert!(c.validate().is_ok(), "{local} is on this machine");
    }

    let mut c = base.clone();
    c.rpc = vec![anvil.ws()];
    assert!(matches!(Follower::connect(c).await, Err(ChainError::Config(_))));

    let mut c = base;
    c.bridge = Address::ZERO;
    assert!(matches!(Follower::connect(c).await, Err(ChainError::Config(_))));
}
