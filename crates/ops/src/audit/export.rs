//! `zerobridge audit export`.

use alloy::providers::Provider;
use eyre::{Result, bail, eyre};
use serde_json::Value;

use super::ExportArgs;
use super::chains::{Coverage, Target, block_hash, check_distinct, header, manager_of, read_records};
use super::decode::Decoder;
use super::hash::{render_lines, seal};
use crate::format::one_line;
use crate::network::ChainInfo;

/// An exported audit log and what it covers.
#[derive(Debug, Clone)]
pub struct AuditExport {
    /// The JSON lines, header first.
    pub text: String,
    pub transfers: usize,
    pub privileged: usize,
    pub coverage: Vec<Coverage>,
    /// The last line's hash.
    pub head: String,
}

/// `zerobridge audit export`: reads and seals the log (the caller writes it out).
pub async fn export(args: &ExportArgs) -> Result<AuditExport> {
    let target = Target::load(args.network.as_deref())?;
    let decoder = Decoder::new();
    let mut chains: Vec<&ChainInfo> = target.ctx.network.chains.iter().collect();
    chains.sort_by_key(|c| c.chain_id);
    if let Some(pair) = chains.windows(2).find(|w| w[0].chain_id == w[1].chain_id) {
        bail!(
            "chains '{}' and '{}' have the same chain id {}: correct the network file",
            pair[0].name,
            pair[1].name,
            pair[0].chain_id
        );
    }
    let mut coverage = Vec::new();
    let mut records = Vec::new();
    for chain in chains {
        let provider = target.connect(chain).await?;
        let manager = manager_of(&provider, chain).await?;
        let latest = provider
            .get_block_number()
            .await
            .map_err(|e| eyre!("chain '{}': cannot read the latest block: {}", chain.name, one_line(&e)))?;
        let from_block = args.from_block.or_else(|| target.start_blocks.get(&chain.chain_id).copied()).unwrap_or(0);
        let head = latest.saturating_sub(args.confirmations);
        let (to_block, to_block_hash) = if head >= from_block {
            (head, Some(block_hash(&provider, &chain.name, head).await?))
        } else {
            (from_block.saturating_sub(1), None)
        };
        let scope = Coverage {
            chain_id: chain.chain_id,
            chain: chain.name.clone(),
            bridge: chain.bridge,
            registry: chain.registry,
            manager,
            from_block,
            to_block,
            to_block_hash,
        };
        check_distinct(&scope)?;
        if to_block_hash.is_some() {
            records.extend(read_records(&provider, &scope, &decoder).await?);
        }
        coverage.push(scope);
    }

    let transfers = records.iter().filter(|r| r.get("kind").and_then(Value::as_str) == Some("transfer")).count();
    let privileged = records.len() - transfers;
    let mut lines = Vec::with_capacity(records.len() + 1);
    lines.push(header(&coverage));
    lines.extend(records);
    seal(&mut lines);
    let head = lines.last().and_then(|l| l.get("hash")).and_then(Value::as_str).unwrap_or_default().to_string();
    let text = render_lines(&lines);
    Ok(AuditExport { text, transfers, privileged, coverage, head })
}
