//! Typed bindings of zerobridge's contracts, generated from the Foundry build output (`forge build`
//! runs first). Types only: calls go through whatever provider the caller hands them.

/// The bridge on every chain.
pub mod bridge {
    alloy::sol!(
        // `abi`: `ZeroBridge::abi::events()`, for decoding any log generically (audit export).
        #[sol(rpc, abi)]
        #[derive(Debug, PartialEq, Eq)]
        ZeroBridge,
        "../../contracts/out/ZeroBridge.sol/ZeroBridge.json"
    );
}

/// Route registration (bridge manager).
pub mod registry {
    // `RouteRegistered` has 9 fields; the generated code takes them as arguments.
    #![allow(clippy::too_many_arguments)]
    alloy::sol!(
        #[sol(rpc, abi)]
        #[derive(Debug, PartialEq, Eq)]
        RouteRegistry,
        "../../contracts/out/RouteRegistry.sol/RouteRegistry.json"
    );
}

/// The OpenZeppelin AccessManager every bridge and registry is `restricted` by: role grants and
/// revocations, target-function roles, scheduled operations (audit export reads its events).
pub mod manager {
    alloy::sol!(
        #[sol(rpc, abi)]
        #[derive(Debug, PartialEq, Eq)]
        AccessManager,
        "../../contracts/out/AccessManager.sol/AccessManager.json"
    );
}

/// The remote-chain token.
pub mod wrapped {
    alloy::sol!(
        #[sol(rpc)]
        WrappedToken,
        "../../contracts/out/WrappedToken.sol/WrappedToken.json"
    );
}

/// The governance committee (weighted votes, timelock) that holds each manager's ADMIN role.
pub mod committee {
    // The generated code takes the fields of each call and event as arguments; some have 8.
    #![allow(clippy::too_many_arguments)]
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        Committee,
        "../../contracts/out/Committee.sol/Committee.json"
    );
}

/// Staking, lane snapshots, slashing and rewards on every chain.
pub mod stake {
    // `FraudProven` has 7 fields; the generated code takes them as arguments.
    #![allow(clippy::too_many_arguments)]
    alloy::sol!(
        #[sol(rpc, abi)]
        #[derive(Debug, PartialEq, Eq)]
        StakeManager,
        "../../contracts/out/StakeManager.sol/StakeManager.json"
    );
}

/// The bridge's `Message` as the stake manager's ABI names the same struct (slashing proofs).
impl From<&bridge::ZeroBridge::Message> for stake::StakeManager::Message {
    fn from(m: &bridge::ZeroBridge::Message) -> Self {
        stake::StakeManager::Message {
            sequence: m.sequence,
            kind: m.kind,
            sender: m.sender,
            recipient: m.recipient,
            amount: m.amount,
            data: m.data,
            sentAt: m.sentAt,
            deadline: m.deadline,
        }
    }
}

pub mod revert;
