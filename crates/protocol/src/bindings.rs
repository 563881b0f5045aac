//! Contract bindings, generated from the Foundry build output (`forge build` runs first).

/// The bridge on every chain.
pub mod bridge {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        ZeroBridge,
        "../../contracts/out/ZeroBridge.sol/ZeroBridge.json"
    );
}

/// Route registration (bridge manager).
pub mod registry {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        RouteRegistry,
        "../../contracts/out/RouteRegistry.sol/RouteRegistry.json"
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
