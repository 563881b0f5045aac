// Chain access with viem: read clients per chain (from /v1/network) and the connected wallet.
import {
  createPublicClient,
  createWalletClient,
  custom,
  http,
  parseAbi,
  type Address,
  type Hash,
  type PublicClient,
  type WalletClient,
} from "viem";
import type { ChainEntry } from "./api";

export const bridgeAbi = parseAbi([
  "struct Lane { uint64 sequence; uint64 bucketUpdatedAt; uint128 bucketLevel; bytes32 accumulator; address token; uint8 direction; uint8 status; bool paused; bool isHome; uint16 feeBps; bool allowlist; uint32 defaultTimeout; uint128 capacity; uint128 largeTransferThreshold; uint128 minAmount; uint128 maxAmount; uint128 ownerFees; uint128 validatorFees; uint256 locked; bytes32 routeId; bytes32 reverseLane; bytes32 validatorSetHash; bytes32 sourceDomain; address feeCollector; }",
  "struct Message { uint64 sequence; uint8 kind; address sender; address recipient; uint256 amount; bytes32 data; uint64 sentAt; uint64 deadline; }",
  "function send(bytes32 laneId, address recipient, uint256 amount, uint64 deadline) returns (uint64 sequence)",
  "struct Route { bytes32 outboundLane; bytes32 inboundLane; uint128 capacityCap; uint128 holdThresholdCap; bytes32 fallbackSetHash; uint32 fallbackDelay; uint32 emergencyGrace; uint16 strikeLimit; uint16 strikes; uint64 lastStrikeAt; uint64 graceUntil; }",
  "function getLane(bytes32 laneId) view returns (Lane)",
  "function getRoute(bytes32 routeId) view returns (Route)",
  "function availableCapacity(bytes32 laneId) view returns (uint256)",
  "function paused() view returns (bool)",
  "event MessageSent(bytes32 indexed lane, uint64 indexed sequence, Message message, bytes32 accumulator)",
  "event CheckpointDelivered(bytes32 indexed lane, uint64 sequence, bytes32 accumulator, uint256 messages)",
]);

export const erc20Abi = parseAbi([
  "function balanceOf(address) view returns (uint256)",
  "function allowance(address owner, address spender) view returns (uint256)",
  "function approve(address spender, uint256 amount) returns (bool)",
  "function decimals() view returns (uint8)",
  "function symbol() view returns (string)",
]);

/// An EIP-1193 provider as wallets inject it.
export interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

declare global {
  interface Window {
    ethereum?: Eip1193;
  }
}

const readers = new Map<string, PublicClient>();

/// A read-only client for a chain of the network, through the RPC URL the API publishes.
export function reader(chain: ChainEntry): PublicClient {
  let client = readers.get(chain.name);
  if (!client) {
    client = createPublicClient({ transport: http(chain.rpc_url) }) as PublicClient;
    readers.set(chain.name, client);
  }
  return client;
}

export interface Wallet {
  address: Address;
  client: WalletClient;
  provider: Eip1193;
}

let connected: Wallet | null = null;

export function wallet(): Wallet | null {
  return connected;
}

/// Asks the injected wallet for an account (eth_requestAccounts).
export async function connectWallet(): Promise<Wallet> {
  const provider = window.ethereum;
  if (!provider) throw new Error("no wallet found in this browser: install an EIP-1193 wallet (window.ethereum)");
  const accounts = (await provider.request({ method: "eth_requestAccounts" })) as Address[];
  if (!accounts.length) throw new Error("the wallet shared no account: unlock it and connect again");
  connected = { address: accounts[0], client: createWalletClient({ transport: custom(provider) }), provider };
  return connected;
}

/// Makes the wallet sign for `chain` (wallet_switchEthereumChain), as a transaction there needs.
export async function switchTo(w: Wallet, chain: ChainEntry): Promise<void> {
  const current = Number(await w.provider.request({ method: "eth_chainId" }));
  if (current === chain.chain_id) return;
  await w.provider.request({
    method: "wallet_switchEthereumChain",
    params: [{ chainId: `0x${chain.chain_id.toString(16)}` }],
  });
}

/// Sends one contract call from the wallet on `chain` and waits for its receipt; a revert is an error.
export async function transact(
  w: Wallet,
  chain: ChainEntry,
  request: { address: Address; abi: readonly unknown[]; functionName: string; args: readonly unknown[] },
  value?: bigint,
): Promise<Hash> {
  await switchTo(w, chain);
  const client = reader(chain);
  // Simulate first: a refusal is explained before anything is spent (as the CLI does).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const { request: prepared } = await client.simulateContract({ ...(request as any), value, account: w.address });
  const hash = await w.client.writeContract({ ...prepared, chain: null, account: w.address });
  const receipt = await client.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`the transaction ${hash} reverted on '${chain.name}'`);
  return hash;
}

/// Parses a decimal amount into base units with the CLI's wording (crates/ops/src/format.rs).
export function parseAmount(input: string, decimals: number): bigint {
  const text = input.trim();
  if (text.startsWith("-")) throw new Error(`amount ${text} is negative: send a positive amount`);
  const [whole, fraction = ""] = text.split(".", 2);
  if (!whole && !fraction) throw new Error(`amount '${text}' is not a number: write it like 1.5`);
  if (!/^\d*$/.test(whole) || !/^\d*$/.test(fraction) || text.split(".").length > 2)
    throw new Error(`amount '${text}' is not a decimal number: write it like 1.5`);
  if (fraction.length > decimals)
    throw new Error(`amount ${text} has ${fraction.length} decimals but the token has ${decimals}: round it to ${decimals}`);
  const units = BigInt((whole + fraction.padEnd(decimals, "0")) || "0");
  if (units === 0n) throw new Error(`amount ${text} is zero: send a positive amount`);
  return units;
}

/// Base units as a decimal string, trailing zeros trimmed (the CLI's format_amount).
export function formatAmount(units: bigint, decimals: number): string {
  const digits = units.toString().padStart(decimals + 1, "0");
  if (decimals === 0) return digits;
  const whole = digits.slice(0, -decimals);
  const fraction = digits.slice(-decimals).replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : whole;
}

/// A wait in words, like the CLI's format_wait.
export function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/// Plain words for an error from viem, a wallet or the API: the short message, not the dump.
export function plainError(error: unknown): string {
  if (error && typeof error === "object" && "shortMessage" in error) return String(error.shortMessage);
  return error instanceof Error ? error.message : String(error);
}
