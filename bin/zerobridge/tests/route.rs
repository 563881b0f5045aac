//! `zerobridge route register | status | list` against a real two-chain staked devnet (zb-e2e): a
//! token team deploys its own token and registers a bridge for it with its own key; the devnet
//! operators opt in to the new lanes, each source chain commits a snapshot, governance copies it to
//! the destination, and the route ends up Active on both chains once the snapshots meet its
//! security level. A key that is not the token's owner, and a level the stake does not meet, are
//! refused in one line.

mod common;
use common::{expect_refusal, expect_success, zerobridge};

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use eyre::{Result, ensure, eyre};
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::stake::StakeManager;
use zb_contracts::wrapped::WrappedToken;
use zb_e2e::{Chain, Devnet, DevnetOptions, dev_keys};
use zb_protocol::ValidatorSet;
use zb_protocol::validator_set::Member;

mod token {
    alloy::sol!(
        #[sol(rpc)]
        OwnedToken,
        "../../contracts/out/Tokens.sol/OwnedToken.json"
    );
}
use token::OwnedToken;

/// Anvil's account 3: the token team.
const TEAM_KEY: &str = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
const ACTIVE: u8 = 2;

fn m_home_registry(devnet: &Devnet) -> Address {
    devnet.manifest().home.registry
}

fn between<'a>(text: &'a str, begin: &str, end: &str) -> Result<&'a str> {
    let start = text.find(begin).ok_or_else(|| eyre!("no {begin:?} in:\n{text}"))?;
    let stop = text.find(end).ok_or_else(|| eyre!("no {end:?} in:\n{text}"))?;
    ensure!(start < stop, "{begin:?} after {end:?}");
    Ok(&text[start..stop + end.len()])
}

async fn lane_status(provider: &DynProvider, bridge: Address, lane: B256) -> Result<u8> {
    Ok(ZeroBridge::new(bridge, provider.clone()).getLane(lane).call().await?.status)
}

#[tokio::test(flavor = "multi_thread")]
async fn token_team_registers_a_route() -> Result<()> {
    let devnet = Devnet::start(DevnetOptions::default()).await?;
    let work = tempfile::tempdir()?;
    let dir = work.path();
    let manifest_path = devnet.write_cli_manifest(dir)?;
    let home_bridge = devnet.bridge_address(Chain::Home);
    let remote_bridge = devnet.bridge_address(Chain::Remote);

    // The team deploys its token (6 decimals) on the home chain; it owns it.
    let team: PrivateKeySigner = TEAM_KEY.parse()?;
    let team_address = team.address();
    let team_home =
        ProviderBuilder::new().wallet(EthereumWallet::from(team)).connect_http(devnet.home().http().parse()?).erased();
    let token = OwnedToken::deploy(team_home.clone(), "Team Token".into(), "TEAM".into(), 6, team_address).await?;
    let token_address = *token.address();
    let token_arg = token_address.to_string();
    let register = [
        "route",
        "register",
        "--token",
        &token_arg,
        "--from",
        "ethereum",
        "--to",
        "bsc",
        "--wrapped-name",
        "Wrapped Team",
        "--wrapped-symbol",
        "wTEAM",
        "--min",
        "0.5",
        "--max",
        "1000",
        "--daily-limit",
        "100000",
        "--hold-above",
        "50000",
        "--fee-bps",
        "10",
    ];

    // Not the owner: the devnet's default key (the deployer) is refused in one line.
    let deployer: PrivateKeySigner = dev_keys::DEPLOYER.parse()?;
    let refused = zerobridge(dir, &register, &[]).await?;
    expect_refusal(
        &refused,
        &["only the token's owner()", &team_address.to_string(), &format!("you are {}", deployer.address())],
    )?;
    // Nor is another key passed explicitly.
    let holder: PrivateKeySigner = dev_keys::HOLDER.parse()?;
    let mut as_holder = register.to_vec();
    as_holder.extend(["--private-key-env", "ZB_TEST_HOLDER_KEY"]);
    let refused = zerobridge(dir, &as_holder, &[("ZB_TEST_HOLDER_KEY", dev_keys::HOLDER)]).await?;
    expect_refusal(&refused, &["only the token's owner()", &format!("you are {}", holder.address())])?;
    // Both chains are staked: a governance-configured set is refused before anything is sent.
    let mut configured = register.to_vec();
    let members = format!("{},{},{}", Address::repeat_byte(1), Address::repeat_byte(2), Address::repeat_byte(3));
    configured.extend(["--private-key-env", "ZB_TEST_TEAM_KEY", "--validators", &members, "--threshold", "2"]);
    let refused = zerobridge(dir, &configured, &[("ZB_TEST_TEAM_KEY", TEAM_KEY)]).await?;
    expect_refusal(&refused, &["both chains are staked", "--min-stake", "--min-validators"])?;

    // The owner registers: both chains, the standard level (the devnet's 4 operators, 1000 each).
    let mut as_team = register.to_vec();
    as_team.extend(["--private-key-env", "ZB_TEST_TEAM_KEY"]);
    // A dry run first: the summary, and nothing sent.
    let mut dry = as_team.clone();
    dry.push("--dry-run");
    let out = zerobridge(dir, &dry, &[("ZB_TEST_TEAM_KEY", TEAM_KEY)]).await?;
    let summary = expect_success(&out, "route register --dry-run")?;
    for needle in [
        "dry run: nothing sent",
        "ethereum stake: at least 4000 ETH from at least 4 validators",
        "bsc stake: at least 4000 BNB from at least 4 validators",
        "the devnet's 4 operators opt in to the new lanes",
    ] {
        ensure!(summary.contains(needle), "the summary lacks {needle:?}:\n{summary}");
    }
    let registry = zb_contracts::registry::RouteRegistry::new(m_home_registry(&devnet), devnet.home().reader());
    ensure!(registry.routeIds().call().await?.len() == 1, "the dry run registered something");

    // A level the stake cannot meet: everything up to activation happens, then a one-line refusal.
    let mut strict = as_team.clone();
    strict.extend(["--min-validators", "5"]);
    let refused = zerobridge(dir, &strict, &[("ZB_TEST_TEAM_KEY", TEAM_KEY)]).await?;
    expect_refusal(&refused, &["4000", "from 4 validators", "below the route's security level", "--min-validators"])?;

    // The standard level: the same command resumes and activates.
    let out = zerobridge(dir, &as_team, &[("ZB_TEST_TEAM_KEY", TEAM_KEY)]).await?;
    let stdout = expect_success(&out, "route register")?;
    let route_id = zb_protocol::route_id(1, token_address, 56);
    let to_remote = zb_protocol::lane_id(1, home_bridge, 56, remote_bridge, route_id);
    let to_home = zb_protocol::lane_id(56, remote_bridge, 1, home_bridge, route_id);
    ensure!(stdout.contains("is Active on ethereum and bsc"), "no success line:\n{stdout}");
    ensure!(stdout.contains(&route_id.to_string()), "route id missing:\n{stdout}");

    ensure!(stdout.contains("[1/5] ethereum: already registered"), "the second run did not resume:\n{stdout}");
    ensure!(stdout.contains("security level set: at least 4000 ETH from at least 4 validators"), "{stdout}");

    // Both chains: every lane Active, with the stake snapshot's set: the four validators at their
    // operators' stake, two thirds of it to sign, valid until the expiry the source's snapshot gave it
    // (the devnet's set lifetime is a day).
    let mut members: Vec<Address> =
        (0..devnet.validator_count()).map(|i| devnet.validator_address(i)).collect::<Result<_>>()?;
    members.sort();
    let stake = zb_ops::deploy::DEVNET_STAKE_WEI;
    let total = stake * members.len() as u128;
    let weighted: Vec<Member> = members.iter().map(|&signer| Member { signer, weight: stake }).collect();
    let mut sets = Vec::new();
    for (lane, source, stake_manager) in [
        (to_remote, Chain::Home, devnet.manifest().home.stake_manager),
        (to_home, Chain::Remote, devnet.manifest().remote.stake_manager),
    ] {
        let reader = devnet.chain(source).reader();
        let snapshot = StakeManager::new(stake_manager, reader.clone()).getSnapshot(lane).call().await?;
        let now = reader.get_block_by_number(Default::default()).await?.map_or(0, |b| b.header.timestamp);
        ensure!(
            snapshot.validUntil > now && snapshot.validUntil <= now + 86_400,
            "lane {lane}'s set expires at {}, not within a day of {now}",
            snapshot.validUntil
        );
        sets.push((lane, ValidatorSet::new((total * 2).div_ceil(3), snapshot.validUntil, weighted.clone())?));
    }
    for (chain, bridge) in [(Chain::Home, home_bridge), (Chain::Remote, remote_bridge)] {
        let reader = devnet.chain(chain).reader();
        let lanes = ZeroBridge::new(bridge, reader.clone()).getRoute(route_id).call().await?;
        ensure!(lanes.outboundLane != B256::ZERO, "route not open on {chain:?}");
        for (lane, set) in &sets {
            ensure!(lane_status(&reader, bridge, *lane).await? == ACTIVE, "lane {lane} not Active on {chain:?}");
            let state = ZeroBridge::new(bridge, reader.clone()).getLane(*lane).call().await?;
            ensure!(state.validatorSetHash == set.hash(), "lane {lane} on {chain:?} has another set");
        }
        let outbound = ZeroBridge::new(bridge, reader.clone()).getLane(lanes.outboundLane).call().await?;
        ensure!(outbound.minAmount == 500_000, "min is {} units, expected 0.5 with 6 decimals", outbound.minAmount);
        ensure!(outbound.maxAmount == 1_000_000_000 && outbound.feeBps == 10, "fee/limits: {outbound:?}");
        ensure!(outbound.feeCollector == team_address, "collector {}", outbound.feeCollector);
    }
    // The wrapped token has the canonical decimals.
    let remote_reader = devnet.remote().reader();
    let wrapped = zb_contracts::registry::RouteRegistry::new(devnet.manifest().remote.registry, remote_reader.clone())
        .getRoute(route_id)
        .call()
        .await?
        .localToken;
    let wrapped_token = WrappedToken::new(wrapped, remote_reader.clone());
    ensure!(wrapped_token.decimals().call().await? == 6, "wrapped decimals");
    ensure!(wrapped_token.symbol().call().await? == "wTEAM", "wrapped symbol");

    // The printed validator config loads with the validator's own loader and names the lanes.
    let validator = between(&stdout, zb_ops::route::VALIDATOR_BEGIN, zb_ops::route::VALIDATOR_END)?;
    let config_path = dir.join("validator.toml");
    std::fs::write(&config_path, validator)?;
    let config = zb_validator::ValidatorConfig::load(&config_path).map_err(|e| eyre!("{e}\n{validator}"))?;
    let lanes: Vec<(B256, String)> = config.lanes.iter().map(|l| (l.lane, l.source.clone())).collect();
    ensure!(lanes == vec![(to_remote, "ethereum".to_string()), (to_home, "bsc".to_string())], "lanes {lanes:?}");
    let bridges: Vec<(u64, Address)> = config.chains.iter().map(|c| (c.chain_id, c.bridge)).collect();
    ensure!(bridges == vec![(1, home_bridge), (56, remote_bridge)], "chains {bridges:?}");
    ensure!(config.chains.iter().all(|c| c.start_block > 0), "start blocks: {:?}", config.chains);
    let relayer = between(&stdout, zb_ops::route::RELAYER_BEGIN, zb_ops::route::RELAYER_END)?;
    ensure!(relayer.contains(&to_remote.to_string()) && relayer.contains("destination = \"bsc\""), "{relayer}");

    // The manifest knows the route now (send/balance read it).
    let manifest = zb_ops::network::DevnetManifest::load(&manifest_path)?;
    let route = manifest
        .routes
        .iter()
        .find(|r| r.route_id == route_id)
        .ok_or_else(|| eyre!("the manifest lacks the new route"))?;
    ensure!(route.symbol == "TEAM" && route.decimals == 6 && route.wrapped_token == wrapped, "{route:?}");
    ensure!(manifest.lanes.iter().filter(|l| l.route_id == route_id).count() == 2, "lanes not in the manifest");
    ensure!(manifest.network().leg("ethereum", "bsc", "TEAM").is_ok(), "send cannot resolve TEAM");

    // A second run resumes: nothing left to do, and it still succeeds.
    let again = zerobridge(dir, &as_team, &[("ZB_TEST_TEAM_KEY", TEAM_KEY)]).await?;
    let again = expect_success(&again, "route register (again)")?;
    ensure!(again.contains("already registered") && again.contains("already active"), "{again}");

    // list: both routes, Active.
    let listed = expect_success(&zerobridge(dir, &["route", "list"], &[]).await?, "route list")?;
    let line = listed.lines().find(|l| l.contains(&route_id.to_string())).ok_or_else(|| eyre!("{listed}"))?;
    ensure!(line.starts_with("TEAM") && line.contains("ethereum -> bsc") && line.contains("Active"), "{listed}");
    ensure!(listed.lines().any(|l| l.starts_with("DEMO") && l.contains("Active")), "{listed}");

    // status by symbol and by route id.
    let (set_to_remote, set_to_home) = (sets[0].1.hash().to_string(), sets[1].1.hash().to_string());
    for which in ["TEAM", &route_id.to_string()] {
        let shown = expect_success(&zerobridge(dir, &["route", "status", which], &[]).await?, "route status")?;
        for needle in [
            "status   ethereum Active, bsc Active",
            &format!("lane ethereum -> bsc  {to_remote}"),
            &format!("lane bsc -> ethereum  {to_home}"),
            "sent 0, delivered 0",
            "fee            10 bps",
            "min 0.5, max 1000 per transfer",
            "out 100000 of 100000 a day available",
            "transfers of 50000 or more are held on bsc",
            &set_to_remote,
            &set_to_home,
            "set expiry     the destination accepts the set until",
            &team_address.to_string(),
            "0 TEAM locked on ethereum; wrapped supply 0 wTEAM on bsc (covered)",
            "stake          4000 ETH by 4 validators",
            "stake          4000 BNB by 4 validators",
            // Two thirds of the stake, less the 10 % reporter share the forgers could claim back.
            "a quorum that signs a forgery loses at least 2400.000000000000000001 ETH (net of the reporter share)",
            "level          at least 4000 ETH from at least 4 validators: met",
            "max outflow    200000 TEAM within the 24 h a set can sign (100000 a day x (1 + 24 h / 1 day))",
            "max outflow    200000 wTEAM within the 24 h a set can sign",
            "inbound set    bsc checks the snapshot's set",
            "inbound set    ethereum checks the snapshot's set",
        ] {
            ensure!(shown.contains(needle), "status {which} lacks {needle:?}:\n{shown}");
        }
    }

    // A network file with the chains only: list finds the route in the registries.
    let m = devnet.manifest();
    let network_file = dir.join("network.toml");
    std::fs::write(
        &network_file,
        format!(
            "[[chains]]\nname = \"ethereum\"\nchainId = 1\nrpc = \"{}\"\nbridge = \"{}\"\nregistry = \"{}\"\n\n\
             [[chains]]\nname = \"bsc\"\nchainId = 56\nrpc = \"{}\"\nbridge = \"{}\"\nregistry = \"{}\"\n",
            devnet.home().http(),
            m.home.bridge,
            m.home.registry,
            devnet.remote().http(),
            m.remote.bridge,
            m.remote.registry
        ),
    )?;
    let network_arg = network_file.display().to_string();
    let listed = expect_success(&zerobridge(dir, &["route", "list", "--network", &network_arg], &[]).await?, "list")?;
    ensure!(
        listed.lines().any(|l| l.starts_with("TEAM") && l.contains("Active") && l.contains(&route_id.to_string())),
        "{listed}"
    );
    // Real chains without a governance key: refused, naming the committee.
    let mut real = as_team.clone();
    real.extend(["--network", &network_arg]);
    let refused = zerobridge(dir, &real, &[("ZB_TEST_TEAM_KEY", TEAM_KEY)]).await?;
    expect_refusal(&refused, &["--governance-key-env", "committee"])?;
    Ok(())
}
