//! Agent benchmark on a local devnet (two anvil chains with 1-second blocks, 4 validators with
//! threshold 3, one relayer, all real processes). Measures, against DESIGN.md section 9:
//!
//! - latency: from the moment the block that makes a transfer final on the source is seen, to
//!   the moment the destination block that executes it is seen (p50, p99);
//! - throughput: transfers sent at a fixed rate for a fixed time, then drained; every sequence
//!   must execute exactly once (nothing lost, nothing duplicated);
//! - resident memory of every agent process, sampled during the throughput run.
//!
//! Prints a table and writes JSON. Usage: bench-agents [--rate 200] [--seconds 60]
//! [--latency-samples 30] [--out bench/agents.json]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder, WsConnect};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use eyre::{Context, Result, bail, eyre};
use futures::StreamExt;
use zb_contracts::bridge::ZeroBridge;
use zb_e2e::{AgentId, Chain, Devnet, DevnetOptions, Direction, dev_keys};

alloy::sol! {
    #[sol(rpc)]
    interface IERC20Approve {
        function approve(address spender, uint256 amount) external returns (bool);
    }
}

const BLOCK_TIME: f64 = 1.0;
const FINALITY_DEPTH: u64 = 2;
// DESIGN.md section 9.
const TARGET_P50_SECONDS: f64 = BLOCK_TIME + 0.5;
const TARGET_P99_SECONDS: f64 = 2.0 * BLOCK_TIME + 1.0;
const TARGET_RATE: f64 = 200.0;
const TARGET_RSS_MB: f64 = 64.0;

struct Args {
    rate: u64,
    seconds: u64,
    latency_samples: usize,
    out: String,
}

fn parse_args() -> Result<Args> {
    let mut args = Args { rate: 200, seconds: 60, latency_samples: 30, out: "bench/agents.json".into() };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| eyre!("{flag} needs a value"))?;
        match flag.as_str() {
            "--rate" => args.rate = value.parse().wrap_err("--rate")?,
            "--seconds" => args.seconds = value.parse().wrap_err("--seconds")?,
            "--latency-samples" => args.latency_samples = value.parse().wrap_err("--latency-samples")?,
            "--out" => args.out = value,
            other => {
                bail!("unknown flag {other} (use --rate, --seconds, --latency-samples, --out)")
            }
        }
    }
    Ok(args)
}

/// First-seen instants of block numbers on one chain, from a websocket subscription.
#[derive(Clone, Default)]
struct HeadClock(Arc<Mutex<HashMap<u64, Instant>>>);

impl HeadClock {
    async fn start(ws: String) -> Result<HeadClock> {
        let clock = HeadClock::default();
        let provider = ProviderBuilder::new().connect_ws(WsConnect::new(ws)).await?;
        let mut stream = provider.subscribe_blocks().await?.into_stream();
        let seen = clock.0.clone();
        tokio::spawn(async move {
            let _keep = provider;
            while let Some(header) = stream.next().await {
                if let Ok(mut map) = seen.lock() {
                    map.entry(header.number).or_insert_with(Instant::now);
                }
            }
        });
        Ok(clock)
    }

    fn seen(&self, number: u64) -> Option<Instant> {
        self.0.lock().ok().and_then(|m| m.get(&number).copied())
    }
}

/// Block in which each sequence of `lane` was executed (or held/failed) on the destination.
async fn executed_blocks(provider: &DynProvider, bridge: Address, lane: B256) -> Result<BTreeMap<u64, Vec<u64>>> {
    let latest = provider.get_block_number().await?;
    let mut out: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    let mut from = 0;
    while from <= latest {
        let to = (from + 1999).min(latest);
        let filter = alloy::rpc::types::Filter::new()
            .address(bridge)
            .event_signature(vec![
                ZeroBridge::MessageExecuted::SIGNATURE_HASH,
                ZeroBridge::MessageFailed::SIGNATURE_HASH,
                ZeroBridge::TransferHeld::SIGNATURE_HASH,
            ])
            .topic1(lane)
            .from_block(from)
            .to_block(to);
        for log in provider.get_logs(&filter).await? {
            let sequence = log.topics().get(2).map(|t| U256::from_be_bytes(t.0).to::<u64>());
            if let (Some(sequence), Some(block)) = (sequence, log.block_number) {
                out.entry(sequence).or_default().push(block);
            }
        }
        from = to + 1;
    }
    Ok(out)
}

fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    eprintln!("bench-agents: starting devnet (2 anvil chains, 4 validators, threshold 3, relayer)");
    let devnet = Devnet::start(DevnetOptions {
        finality_depth: FINALITY_DEPTH,
        block_time: BLOCK_TIME as u64,
        max_batch_messages: Some(1_000),
        ..DevnetOptions::default()
    })
    .await?;
    devnet.start_all_validators().await?;
    devnet.start_relayer().await?;
    let home_clock = HeadClock::start(devnet.home().ws()).await?;
    let remote_clock = HeadClock::start(devnet.remote().ws()).await?;
    let lane = devnet.lane(Direction::ToRemote);
    let remote_reader = devnet.chain(Chain::Remote).reader();
    let remote_bridge = devnet.bridge_address(Chain::Remote);
    let recipient = Address::repeat_byte(0x42);

    // ---- latency: one transfer at a time, so batching does not hide anything
    eprintln!("bench-agents: latency, {} transfers one by one", args.latency_samples);
    let mut latencies = Vec::new();
    for _ in 0..args.latency_samples {
        let sent = devnet.send_to_remote(U256::from(10u64).pow(U256::from(18u64)), recipient).await?;
        devnet.wait_delivered(lane, sent.sequence, Duration::from_secs(120)).await?;
        let executed = executed_blocks(&remote_reader, remote_bridge, lane).await?;
        let block = *executed
            .get(&sent.sequence)
            .and_then(|b| b.first())
            .ok_or_else(|| eyre!("sequence {} delivered but no execution event", sent.sequence))?;
        let final_at = home_clock.seen(sent.block_number + FINALITY_DEPTH);
        let delivered_at = remote_clock.seen(block);
        if let (Some(f), Some(d)) = (final_at, delivered_at) {
            latencies.push(d.saturating_duration_since(f).as_secs_f64());
        }
    }
    latencies.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&latencies, 50.0), percentile(&latencies, 99.0));

    // ---- throughput: a steady stream of locally signed sends, then drain
    eprintln!("bench-agents: throughput, {}/s for {} s", args.rate, args.seconds);
    let holder: PrivateKeySigner = dev_keys::HOLDER.parse()?;
    let wallet = EthereumWallet::from(holder.clone());
    let home_http: DynProvider = ProviderBuilder::new().connect_http(devnet.home().http().parse()?).erased();
    let home_bridge = devnet.bridge_address(Chain::Home);
    let token = devnet.manifest().route.home_token;
    let _ = IERC20Approve::new(
        token,
        ProviderBuilder::new().wallet(wallet.clone()).connect_http(devnet.home().http().parse()?),
    )
    .approve(home_bridge, U256::MAX)
    .send()
    .await?
    .get_receipt()
    .await?;
    let first_sequence = devnet.sent_sequence(lane).await? + 1;
    let mut nonce = home_http.get_transaction_count(holder.address()).pending().await?;
    let amount = U256::from(10u64).pow(U256::from(15u64));
    let call =
        ZeroBridge::new(home_bridge, home_http.clone()).send(lane, recipient, amount, 0).into_transaction_request();
    let total = args.rate * args.seconds;
    let interval = Duration::from_secs_f64(1.0 / args.rate as f64);
    let mut memory: BTreeMap<String, f64> = BTreeMap::new();
    let agents: Vec<(String, AgentId)> = (0..devnet.validator_count())
        .map(|i| (format!("validator-{i}"), AgentId::Validator(i)))
        .chain(std::iter::once(("relayer".to_string(), AgentId::Relayer)))
        .collect();
    let started = Instant::now();
    let mut next_sample = started;
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..total {
        let due = started + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let tx = call
            .clone()
            .with_from(holder.address())
            .with_chain_id(devnet.home().chain_id())
            .with_nonce(nonce)
            .with_gas_limit(250_000)
            .with_max_fee_per_gas(20_000_000_000)
            .with_max_priority_fee_per_gas(1_000_000_000);
        nonce += 1;
        let envelope = tx.build(&wallet).await?;
        let provider = home_http.clone();
        sends.spawn(async move { provider.send_tx_envelope(envelope).await.map(|_| ()) });
        if Instant::now() >= next_sample {
            for (name, id) in &agents {
                if let Some(mb) = devnet.agent_pid(*id).and_then(rss_mb) {
                    let max = memory.entry(name.clone()).or_insert(0.0);
                    *max = max.max(mb);
                }
            }
            next_sample += Duration::from_secs(1);
        }
    }
    let send_time = started.elapsed().as_secs_f64();
    let mut refused = 0u64;
    while let Some(result) = sends.join_next().await {
        if !matches!(result, Ok(Ok(()))) {
            refused += 1;
        }
    }
    let last_sequence = first_sequence + total - 1;
    devnet.wait_delivered(lane, last_sequence, Duration::from_secs(300)).await?;
    let drained = started.elapsed().as_secs_f64();
    for (name, id) in &agents {
        if let Some(mb) = devnet.agent_pid(*id).and_then(rss_mb) {
            let max = memory.entry(name.clone()).or_insert(0.0);
            *max = max.max(mb);
        }
    }
    let executed = executed_blocks(&remote_reader, remote_bridge, lane).await?;
    let run: Vec<u64> = (first_sequence..=last_sequence).collect();
    let lost = run.iter().filter(|s| !executed.contains_key(s)).count();
    let duplicated = run.iter().filter(|s| executed.get(s).is_some_and(|b| b.len() > 1)).count();
    let offered_rate = total as f64 / send_time;
    let delivered_rate = total as f64 / drained;

    // ---- report
    let max_rss = memory.values().copied().fold(0.0, f64::max);
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!("{:<46}{:>14}{:>22}  status", "measure", "result", "target");
    println!("{}", "-".repeat(90));
    println!(
        "{:<46}{:>12.2} s{:>20}  {}",
        "latency after source finality, p50",
        p50,
        format!("<= {TARGET_P50_SECONDS:.1} s"),
        verdict(p50 <= TARGET_P50_SECONDS)
    );
    println!(
        "{:<46}{:>12.2} s{:>20}  {}",
        "latency after source finality, p99",
        p99,
        format!("<= {TARGET_P99_SECONDS:.1} s"),
        verdict(p99 <= TARGET_P99_SECONDS)
    );
    println!(
        "{:<46}{:>10.1} tx/s{:>20}  {}",
        format!("offered load ({} transfers in {} s)", total, args.seconds),
        offered_rate,
        format!(">= {TARGET_RATE:.0} tx/s"),
        verdict(offered_rate >= TARGET_RATE * 0.98)
    );
    println!("{:<46}{:>10.1} tx/s{:>22}", "delivered, send start to last delivery", delivered_rate, "-");
    println!("{:<46}{:>12.2} s{:>22}", "backlog drained after sending stopped", drained - send_time, "-");
    println!(
        "{:<46}{:>14}{:>20}  {}",
        "lost / duplicated / refused by the node",
        format!("{lost} / {duplicated} / {refused}"),
        "0 / 0 / 0",
        verdict(lost == 0 && duplicated == 0 && refused == 0)
    );
    for (name, mb) in &memory {
        println!(
            "{:<46}{:>11.1} MB{:>20}  {}",
            format!("resident memory, {name} (max)"),
            mb,
            format!("< {TARGET_RSS_MB:.0} MB"),
            verdict(*mb < TARGET_RSS_MB)
        );
    }
    println!();
    println!(
        "Devnet: anvil, 1-second blocks, finality depth {FINALITY_DEPTH}, agents built in the cargo profile that built this binary."
    );
    println!("Latency is measured from when the block that makes a transfer final is first seen on the source,");
    println!(
        "to when the destination block that executes it is first seen ({} samples, one transfer at a time).",
        latencies.len()
    );

    let json = serde_json::json!({
        "latency_seconds": { "p50": p50, "p99": p99, "samples": latencies.len(),
            "target_p50": TARGET_P50_SECONDS, "target_p99": TARGET_P99_SECONDS },
        "throughput": { "rate_target": TARGET_RATE, "offered_rate": offered_rate, "delivered_rate": delivered_rate,
            "transfers": total, "seconds": args.seconds, "drain_seconds": drained - send_time,
            "lost": lost, "duplicated": duplicated, "refused": refused },
        "memory_mb_max": memory, "memory_target_mb": TARGET_RSS_MB, "max_rss_mb": max_rss,
    });
    if let Some(dir) = std::path::Path::new(&args.out).parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&json)?)?;
    println!("JSON written to {}", args.out);
    Ok(())
}
