//! A real ZeroBridge with one active route on a single anvil, wired as ChainDeployer and
//! BridgeRoles do, so that `send` emits genuine MessageSent events.

use alloy::primitives::{Address, B256, FixedBytes, TxHash, U256};
use alloy::providers::DynProvider;
use alloy::sol_types::SolCall;
use zb_contracts::bridge::ZeroBridge;
use zb_contracts::registry::RouteRegistry;
use zb_protocol::route_id;
use zb_protocol::validator_set::{Member, NEVER_EXPIRES, ValidatorSet};

use crate::anvil::Anvil;

mod manager {
    alloy::sol!(
        #[sol(rpc)]
        AccessManager,
        "../../contracts/out/AccessManager.sol/AccessManager.json"
    );
}
mod token {
    alloy::sol!(
        #[sol(rpc)]
        OwnedToken,
        "../../contracts/out/Tokens.sol/OwnedToken.json"
    );
}
use manager::AccessManager;
use token::OwnedToken;

const REGISTRY_ROLE: u64 = 2;
const SET_MANAGER_ROLE: u64 = 3;
/// A pretend remote chain: the route only needs a peer entry to open.
const REMOTE_CHAIN: u64 = 777;

pub struct Bridge {
    pub address: Address,
    pub lane: B256,
    provider: DynProvider,
}

pub struct Sent {
    pub block_number: u64,
    pub block_hash: B256,
    pub tx_hash: TxHash,
}

fn selector<C: SolCall>() -> FixedBytes<4> {
    FixedBytes(C::SELECTOR)
}

impl Bridge {
    pub async fn deploy(anvil: &Anvil) -> Bridge {
        let (provider, admin) = anvil.wallet();
        let manager = AccessManager::deploy(provider.clone(), admin).await.expect("deploy AccessManager");
        let bridge = ZeroBridge::deploy(provider.clone(), *manager.address()).await.expect("deploy ZeroBridge");
        let registry = RouteRegistry::deploy(provider.clone(), *manager.address(), *bridge.address(), U256::ZERO)
            .await
            .expect("deploy RouteRegistry");

        let registry_calls = vec![
            selector::<ZeroBridge::openRouteCall>(),
            selector::<ZeroBridge::activateRouteCall>(),
            selector::<ZeroBridge::setRouteFeeCall>(),
            selector::<ZeroBridge::setRouteLimitsCall>(),
        ];
        let set_calls = vec![
            selector::<ZeroBridge::installValidatorSetCall>(),
            selector::<ZeroBridge::queueValidatorSetUpdateCall>(),
        ];
        manager
            .setTargetFunctionRole(*bridge.address(), registry_calls, REGISTRY_ROLE)
            .send()
            .await
            .expect("send")
            .get_receipt()
            .await
            .expect("registry role");
        manager
            .grantRole(REGISTRY_ROLE, *registry.address(), 0)
            .send()
            .await
            .expect("send")
            .get_receipt()
            .await
            .expect("grant");
        manager
            .setTargetFunctionRole(*bridge.address(), set_calls, SET_MANAGER_ROLE)
            .send()
            .await
            .expect("send")
            .get_receipt()
            .await
            .expect("set role");
        manager.grantRole(SET_MANAGER_ROLE, admin, 0).send().await.expect("send").get_receipt().await.expect("grant");
        bridge
            .setPeer(REMOTE_CHAIN, Address::repeat_byte(0xbb))
            .send()
            .await
            .expect("send")
            .get_receipt()
            .await
            .expect("setPeer");

        let token = OwnedToken::deploy(provider.clone(), "Demo Token".into(), "DEMO".into(), 18, admin)
            .await
            .expect("deploy token");
        let unit = U256::from(10u64).pow(U256::from(18u64));
        let params = RouteRegistry::RouteParams {
            feeBps: 0,
            feeCollector: Address::ZERO,
            minAmount: 1,
            maxAmount: 1_000_000 * 10u128.pow(18),
            outboundCapacity: 1_000_000_000 * 10u128.pow(18),
            inboundCapacity: 1_000_000_000 * 10u128.pow(18),
            largeTransferThreshold: 0,
        };
        let receipt = registry
            .registerRoute(*token.address(), REMOTE_CHAIN, "Wrapped Demo".into(), "wDEMO".into(), params)
            .send()
            .await
            .expect("send")
            .get_receipt()
            .await
            .expect("registerRoute");
        assert!(receipt.status(), "registerRoute reverted");
        let route = route_id(anvil.chain_id, *token.address(), REMOTE_CHAIN);
        let lanes = bridge.getRoute(route).call().await.expect("getRoute");
        assert_ne!(lanes.outboundLane, B256::ZERO, "route not opened");

        // A governance-configured set: it never expires.
        let set = ValidatorSet::new(1, NEVER_EXPIRES, vec![Member { signer: Address::repeat_byte(0x11), weight: 1 }])
            .expect("set");
        for lane in [lanes.outboundLane, lanes.inboundLane] {
            bridge
                .installValidatorSet(lane, set.encode().into())
                .send()
                .await
                .expect("send")
                .get_receipt()
                .await
                .expect("installValidatorSet");
        }
        registry.activateRoute(route).send().await.expect("send").get_receipt().await.expect("activateRoute");

        token
            .mint(admin, unit * U256::from(1_000_000u64))
            .send()
            .await
            .expect("send")
            .get_receipt()
            .await
            .expect("mint");
        token.approve(*bridge.address(), U256::MAX).send().await.expect("send").get_receipt().await.expect("approve");

        Bridge { address: *bridge.address(), lane: lanes.outboundLane, provider }
    }

    /// `send` on the outbound lane; returns where the MessageSent landed.
    pub async fn send(&self, amount: u64) -> Sent {
        let bridge = ZeroBridge::new(self.address, self.provider.clone());
        let receipt = bridge
            .send(self.lane, Address::repeat_byte(0x42), U256::from(amount), 0)
            // Measured: `send` costs ~300 gas more once a second has passed since the bucket's
            // last update, and anvil's estimate (taken in the same second) then runs out of gas.
            .gas(500_000)
            .send()
            .await
            .expect("send")
            .get_receipt()
            .await
            .expect("receipt");
        assert!(receipt.status(), "send reverted");
        Sent {
            block_number: receipt.block_number.expect("mined"),
            block_hash: receipt.block_hash.expect("mined"),
            tx_hash: receipt.transaction_hash,
        }
    }
}
