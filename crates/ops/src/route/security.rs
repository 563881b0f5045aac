//! How a route's lanes get their validator sets: from stake at a security level on staked chains,
//! from a governance-configured set (`--security`) on the others.

use std::time::Duration;

use alloy::primitives::{Address, U256};
use eyre::{Result, bail, eyre};
use zb_protocol::validator_set::{Member, NEVER_EXPIRES, ValidatorSet, ValidatorSetError};

use super::{RegisterArgs, Security};
use crate::context::Context;
use crate::format::{one_line, parse_amount};
use crate::network::ChainInfo;
use crate::stake::{Asset, Staking};

/// Upper bound for one validator's /v1/info answer.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// How the route's lanes get their validator sets.
#[derive(Debug, Clone)]
pub(super) struct SecurityPlan {
    /// The governance-configured set for lanes whose source chain has no stake manager (weight 1
    /// each), and its description.
    pub(super) configured: Option<(ValidatorSet, String)>,
    /// The security level of the lane sourced on the home chain, when it is staked.
    pub(super) home_level: Option<Level>,
    /// The same for the remote chain.
    pub(super) remote_level: Option<Level>,
}

/// A route's security level on one staked chain (RouteRegistry.setSecurityLevel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Level {
    pub(super) min_stake: U256,
    pub(super) min_validators: u64,
    pub(super) asset: Asset,
}

impl Level {
    pub(super) fn describe(&self) -> String {
        format!("at least {} from at least {} validators", self.asset.fmt(self.min_stake), self.min_validators)
    }
}

impl SecurityPlan {
    pub(super) fn describe(&self, home: &ChainInfo, remote: &ChainInfo) -> String {
        let mut parts = Vec::new();
        for (level, source) in [(&self.home_level, home), (&self.remote_level, remote)] {
            match (level, &self.configured) {
                (Some(level), _) => parts.push(format!("{} stake: {}", source.name, level.describe())),
                (None, Some((_, description))) => parts.push(format!("{} configured set: {description}", source.name)),
                (None, None) => {}
            }
        }
        parts.join("; ")
    }

    pub(super) fn staked(&self) -> bool {
        self.home_level.is_some() || self.remote_level.is_some()
    }
}

/// The devnet's level: all four operators, 1000 coins each (zb_ops::deploy::DEVNET_STAKE_WEI).
pub(super) const STANDARD_MIN_STAKE: &str = "4000";
pub(super) const STANDARD_MIN_VALIDATORS: u64 = 4;

/// How each lane gets its set: from stake on staked chains (at the level --min-stake /
/// --min-validators ask for), from --security on the others.
pub(super) async fn choose_security(
    args: &RegisterArgs,
    ctx: &Context,
    home: Option<&Staking>,
    remote: Option<&Staking>,
) -> Result<SecurityPlan> {
    let staked = home.is_some() || remote.is_some();
    let configured_needed = home.is_none() || remote.is_none();
    if !staked && (args.min_stake.is_some() || args.min_validators.is_some()) {
        bail!(
            "--min-stake and --min-validators set the security level of staked chains, and neither chain has a stake \
             manager: choose the set with --security instead"
        );
    }
    if !configured_needed
        && (args.validators.is_some()
            || args.threshold.is_some()
            || matches!(args.security, Some(Security::High | Security::Custom)))
    {
        bail!(
            "both chains are staked, so the route's validator sets come from stake, not from --security, --validators \
             or --threshold: set its security level with --min-stake COINS and --min-validators N"
        );
    }
    let configured = if configured_needed { Some(choose_set(args, ctx).await?) } else { None };
    let level_for = |staking: Option<&Staking>| -> Result<Option<Level>> {
        let Some(staking) = staking else {
            return Ok(None);
        };
        let text = args.min_stake.as_deref().unwrap_or(STANDARD_MIN_STAKE);
        let min_stake = match text.trim() {
            "0" => U256::ZERO,
            t => parse_amount(t, staking.asset.decimals).map_err(|e| eyre!("--min-stake: {e}"))?,
        };
        let min_validators = args.min_validators.unwrap_or(STANDARD_MIN_VALIDATORS);
        if min_validators == 0 {
            bail!("--min-validators 0 means no validators: use at least 1");
        }
        let max = u64::from(staking.config.max_validators);
        if min_validators > max {
            bail!(
                "--min-validators {min_validators} is above the {max} validators a lane of {} can have: lower it",
                staking.conn.info.name
            );
        }
        Ok(Some(Level { min_stake, min_validators, asset: staking.asset.clone() }))
    };
    Ok(SecurityPlan { configured, home_level: level_for(home)?, remote_level: level_for(remote)? })
}

/// The validator set the security level asks for, and how to describe it.
pub(super) async fn choose_set(args: &RegisterArgs, ctx: &Context) -> Result<(ValidatorSet, String)> {
    let security =
        if args.validators.is_some() { Security::Custom } else { args.security.unwrap_or(Security::Standard) };
    match security {
        Security::Custom => {
            let Some(list) = &args.validators else {
                bail!("--security custom needs --validators ADDR,ADDR,... and --threshold N");
            };
            let Some(threshold) = args.threshold else {
                bail!("--validators needs --threshold N (at least two thirds of the validators)");
            };
            let mut members = Vec::new();
            for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let signer: Address = part
                    .parse()
                    .map_err(|_| eyre!("--validators: '{part}' is not an address: list 0x... addresses"))?;
                members.push(signer);
            }
            let set = build_set(&members, threshold)?;
            let description = format!("custom, {threshold} of {}", set.members.len());
            Ok((set, description))
        }
        Security::Standard | Security::High => {
            if args.threshold.is_some() {
                bail!("--threshold applies to --security custom only: pass --validators too, or drop --threshold");
            }
            let (members, threshold) = network_validators(ctx).await?;
            let n = u64::try_from(members.len()).unwrap_or(u64::MAX);
            let (threshold, name) = if security == Security::High {
                (threshold.max((4 * n).div_ceil(5)), "high")
            } else {
                (threshold, "standard")
            };
            let set = build_set(&members, threshold)?;
            let description = format!("{name}, {threshold} of {}", set.members.len());
            Ok((set, description))
        }
    }
}

/// Weight-1 members; the 2/3 rule checked by zb_protocol's ValidatorSet, as on chain.
pub(super) fn build_set(members: &[Address], threshold: u64) -> Result<ValidatorSet> {
    let n = members.len();
    // A governance-configured set never expires; governance replaces it by a set update.
    let set = ValidatorSet::new(
        u128::from(threshold),
        NEVER_EXPIRES,
        members.iter().map(|&signer| Member { signer, weight: 1 }).collect(),
    );
    match set {
        Ok(set) => Ok(set),
        Err(ValidatorSetError::ThresholdTooLow { .. }) => {
            let minimum = (2 * n).div_ceil(3);
            bail!("threshold {threshold} is below two thirds of {n} validators: use --threshold {minimum} or more")
        }
        Err(ValidatorSetError::Malformed(why)) => {
            if n == 0 {
                bail!("the validator set is empty: list at least one validator")
            }
            if u128::from(threshold) > n as u128 {
                bail!("threshold {threshold} is above the {n} validators: lower --threshold to at most {n}")
            }
            bail!("the validator set is invalid ({why}): list distinct, non-zero addresses, at most 128")
        }
    }
}

/// The network's shared validators: from the devnet manifest, or the validators' /v1/info.
pub(super) async fn network_validators(ctx: &Context) -> Result<(Vec<Address>, u64)> {
    if let Some(manifest) = &ctx.manifest {
        if manifest.validators.is_empty() {
            bail!("the devnet manifest lists no validators: restart the devnet, or use --security custom");
        }
        return Ok((manifest.validators.iter().map(|v| v.address).collect(), manifest.threshold));
    }
    let network = &ctx.network;
    if network.validators.is_empty() {
        bail!(
            "the network file lists no validators, so there is no standard set: add validators = [...] and threshold = N, \
             or pass --security custom --validators ADDR,... --threshold N"
        );
    }
    let Some(threshold) = network.threshold else {
        bail!("the network file has validators but no threshold: add threshold = N, or pass --security custom");
    };
    let http = reqwest::Client::builder().timeout(HTTP_TIMEOUT).build().map_err(|e| eyre!("http client: {e}"))?;
    let mut members = Vec::new();
    for url in &network.validators {
        let info_url = format!("{}/v1/info", url.trim_end_matches('/'));
        let fail = |e: String| {
            eyre!(
                "cannot read the signer of validator {url} ({e}): fix its URL in the network file, or pass --security custom"
            )
        };
        let response = http.get(&info_url).send().await.map_err(|e| fail(one_line(&e)))?;
        if !response.status().is_success() {
            return Err(fail(format!("HTTP {}", response.status())));
        }
        let body: serde_json::Value = response.json().await.map_err(|e| fail(one_line(&e)))?;
        let signer = body
            .get("signer")
            .and_then(|s| s.as_str())
            .and_then(|s| s.parse::<Address>().ok())
            .ok_or_else(|| fail("no signer in /v1/info".to_string()))?;
        members.push(signer);
    }
    Ok((members, threshold))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::err;
    use super::*;

    #[test]
    fn sets_need_two_thirds() {
        let members: Vec<Address> = (1..=4).map(Address::repeat_byte).collect();
        let set = build_set(&members, 3).expect("3 of 4");
        assert_eq!(set.threshold, 3);
        assert_eq!(set.valid_until, NEVER_EXPIRES, "a governance-configured set never expires");
        assert!(
            err(build_set(&members, 2)).contains("threshold 2 is below two thirds of 4 validators: use --threshold 3")
        );
        assert!(err(build_set(&members, 5)).contains("lower --threshold to at most 4"));
        assert!(err(build_set(&[members[0], members[0]], 2)).contains("distinct"));
        assert!(err(build_set(&[], 1)).contains("empty"));
    }
}
