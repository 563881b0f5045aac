// Bridge page: balances on both chains, limits before sending, approve + send, live progress.
import { decodeEventLog, type Address, type Hash } from "viem";
import { api, type RouteSummary } from "./api";
import { bridgeAbi, erc20Abi, formatAmount, formatWait, parseAmount, plainError, reader, transact, wallet } from "./chain";
import { byId, el, say } from "./dom";
import { chainNamed, loadNetwork, type Network } from "./network";

const REFILL_SECONDS = 86_400n; // the bridge's token bucket refills its whole capacity in a day

interface Leg {
  route: RouteSummary;
  from: string;
  to: string;
  sourceToken: Address;
  destinationToken: Address;
  isHome: boolean;
}

function legOf(network: Network): Leg | null {
  const route = network.routes.find((r) => r.route_id === byId<HTMLSelectElement>("route").value);
  if (!route) return null;
  const homeFirst = byId<HTMLSelectElement>("direction").value === "out";
  const [source, destination] = homeFirst ? [route.home, route.remote] : [route.remote, route.home];
  return {
    route,
    from: source.chain,
    to: destination.chain,
    sourceToken: source.token,
    destinationToken: destination.token,
    isHome: homeFirst,
  };
}

interface Limits {
  lane: Hash;
  capacity: bigint;
  available: bigint;
  maxAmount: bigint;
  minAmount: bigint;
  holdThreshold: bigint;
}

/// The lane id from the API, the numbers read fresh from both bridges (as `zerobridge send` does).
async function readLimits(network: Network, leg: Leg): Promise<Limits> {
  const detail = await api.route(leg.route.route_id);
  const direction = detail.directions.find((d) => d.from === leg.from && d.to === leg.to);
  if (!direction) throw new Error(`${leg.route.symbol} has no lane from '${leg.from}' to '${leg.to}'`);
  const source = chainNamed(network, leg.from);
  const destination = chainNamed(network, leg.to);
  const lane = direction.lane;
  const [outbound, available, inbound] = await Promise.all([
    reader(source).readContract({ address: source.bridge, abi: bridgeAbi, functionName: "getLane", args: [lane] }),
    reader(source).readContract({ address: source.bridge, abi: bridgeAbi, functionName: "availableCapacity", args: [lane] }),
    reader(destination).readContract({ address: destination.bridge, abi: bridgeAbi, functionName: "getLane", args: [lane] }),
  ]);
  return {
    lane,
    capacity: outbound.capacity,
    available,
    maxAmount: outbound.maxAmount,
    minAmount: outbound.minAmount,
    holdThreshold: inbound.largeTransferThreshold,
  };
}

function secondsUntil(limits: Limits, amount: bigint): bigint | null {
  if (amount <= limits.available) return 0n;
  if (limits.capacity === 0n || amount > limits.capacity) return null;
  const missing = amount - limits.available;
  return (missing * REFILL_SECONDS + limits.capacity - 1n) / limits.capacity;
}

/// The refusals `zerobridge send` makes before any transaction, in its words.
function refusal(limits: Limits, amount: bigint, decimals: number, symbol: string): string | null {
  const show = (units: bigint) => `${formatAmount(units, decimals)} ${symbol}`;
  if (amount > limits.maxAmount)
    return `amount ${show(amount)} is above the route's maximum of ${show(limits.maxAmount)} per transfer: send at most ${show(limits.maxAmount)} (split larger amounts)`;
  if (amount < limits.minAmount)
    return `amount ${show(amount)} is below the route's minimum of ${show(limits.minAmount)}: send at least ${show(limits.minAmount)}`;
  if (amount > limits.available) {
    const now = formatAmount(limits.available, decimals);
    const seconds = secondsUntil(limits, amount);
    if (seconds === null)
      return `rate limit: ${now} ${symbol} available now, and ${show(amount)} is more than this route's daily capacity: split it into smaller transfers`;
    const missing = formatAmount(amount - limits.available, decimals);
    return `rate limit: ${now} ${symbol} available now, ${missing} ${symbol} more in ${formatWait(Number(seconds))}: send at most ${now} ${symbol} now, or wait`;
  }
  return null;
}

async function balanceOf(network: Network, chain: string, token: Address, holder: Address): Promise<bigint> {
  const entry = chainNamed(network, chain);
  return reader(entry).readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [holder] });
}

async function refresh(network: Network): Promise<void> {
  const leg = legOf(network);
  if (!leg) return;
  const { decimals, symbol } = leg.route;
  const w = wallet();
  try {
    if (w) {
      const [home, remote] = await Promise.all([
        balanceOf(network, leg.route.home.chain, leg.route.home.token, w.address),
        balanceOf(network, leg.route.remote.chain, leg.route.remote.token, w.address),
      ]);
      byId("balance-home").textContent = `${formatAmount(home, decimals)} ${symbol} on ${leg.route.home.chain}`;
      byId("balance-remote").textContent = `${formatAmount(remote, decimals)} ${symbol} on ${leg.route.remote.chain}`;
    }
    const limits = await readLimits(network, leg);
    const full = secondsUntil(limits, limits.capacity);
    byId("limit-left").textContent = `${formatAmount(limits.available, decimals)} of ${formatAmount(limits.capacity, decimals)} ${symbol}`;
    byId("limit-refill").textContent =
      full === 0n || full === null ? "full now" : `full again in ${formatWait(Number(full))}`;
    byId("limit-max").textContent = `${formatAmount(limits.maxAmount, decimals)} ${symbol}`;
    byId("limit-hold").textContent =
      limits.holdThreshold === 0n ? "no hold" : `${formatAmount(limits.holdThreshold, decimals)} ${symbol} and above are held`;
  } catch (error) {
    say("send-status", plainError(error), "error");
  }
}

async function send(network: Network): Promise<void> {
  const leg = legOf(network);
  const w = wallet();
  if (!leg) return say("send-status", "choose a route first", "error");
  if (!w) return say("send-status", "connect a wallet first", "error");
  const { decimals, symbol } = leg.route;
  let amount: bigint;
  try {
    amount = parseAmount(byId<HTMLInputElement>("amount").value, decimals);
  } catch (error) {
    return say("send-status", plainError(error), "error");
  }
  const source = chainNamed(network, leg.from);
  try {
    const limits = await readLimits(network, leg);
    const refused = refusal(limits, amount, decimals, symbol);
    if (refused) return say("send-status", refused, "error");
    const balance = await balanceOf(network, leg.from, leg.sourceToken, w.address);
    if (balance < amount)
      return say(
        "send-status",
        `insufficient ${symbol} on '${leg.from}': ${w.address} has ${formatAmount(balance, decimals)} available, the transfer needs ${formatAmount(amount, decimals)}`,
        "error",
      );
    // Home chain: the bridge takes the tokens with transferFrom; remote chain: it burns, no approval.
    if (leg.isHome) {
      const allowance = await reader(source).readContract({
        address: leg.sourceToken,
        abi: erc20Abi,
        functionName: "allowance",
        args: [w.address, source.bridge],
      });
      if (allowance < amount) {
        say("send-status", `approving the bridge on ${leg.from} to take ${formatAmount(amount, decimals)} ${symbol}`);
        const approval = await transact(w, source, {
          address: leg.sourceToken,
          abi: erc20Abi,
          functionName: "approve",
          args: [source.bridge, amount],
        });
        byId("approve-tx").textContent = approval;
      }
    }
    say("send-status", `sending ${formatAmount(amount, decimals)} ${symbol} from ${leg.from} to ${leg.to}`);
    // Deadline 0 asks the bridge for the route's default timeout, as the CLI does without --deadline.
    const tx = await transact(w, source, {
      address: source.bridge,
      abi: bridgeAbi,
      functionName: "send",
      args: [limits.lane, w.address, amount, 0n],
    });
    byId("source-tx").textContent = tx;
    say("send-status", `sent in ${tx} on ${leg.from}`, "ok");
    await follow(network, leg, limits.lane, tx);
  } catch (error) {
    say("send-status", plainError(error), "error");
  }
}

/// Follows the transfer until delivered: the API's stages first, the destination's events otherwise.
async function follow(network: Network, leg: Leg, lane: Hash, tx: Hash): Promise<void> {
  const source = chainNamed(network, leg.from);
  const destination = chainNamed(network, leg.to);
  const receipt = await reader(source).getTransactionReceipt({ hash: tx });
  let sequence = 0n;
  for (const log of receipt.logs) {
    try {
      const event = decodeEventLog({ abi: bridgeAbi, data: log.data, topics: log.topics });
      if (event.eventName === "MessageSent" && event.args.lane === lane) sequence = event.args.sequence;
    } catch {
      // another contract's event (the token's Transfer): not ours
    }
  }
  const fromBlock = (await reader(destination).getBlockNumber()) - 50n;
  for (let attempt = 0; attempt < 240; attempt++) {
    const fromApi = await api.transfers({ tx }).catch(() => null);
    const transfer = fromApi?.transfers[0];
    if (transfer) {
      const signatures = transfer.signatures ? ` (${transfer.signatures.have} of ${transfer.signatures.need} signatures)` : "";
      byId("stage").textContent = `${transfer.stage}${signatures}`;
      if (transfer.destination_tx) byId("destination-tx").textContent = transfer.destination_tx;
      if (["delivered", "released", "refunded", "failed", "timed_out"].includes(transfer.stage)) break;
    } else {
      const delivered = await reader(destination).getContractEvents({
        address: destination.bridge,
        abi: bridgeAbi,
        eventName: "CheckpointDelivered",
        args: { lane },
        fromBlock: fromBlock > 0n ? fromBlock : 0n,
      });
      const hit = delivered.find((log) => (log.args.sequence ?? 0n) >= sequence);
      byId("stage").textContent = hit ? "delivered" : "sent";
      if (hit) {
        byId("destination-tx").textContent = hit.transactionHash;
        break;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  await refresh(network);
}

export async function bridgePage(root: HTMLElement): Promise<void> {
  const network = await loadNetwork();
  const routes = el("select", { id: "route" }, ...network.routes.map((r) => el("option", { value: r.route_id }, r.symbol)));
  const direction = el("select", { id: "direction" });
  const fill = () => {
    const route = network.routes.find((r) => r.route_id === routes.value);
    direction.replaceChildren(
      el("option", { value: "out" }, `${route?.home.chain} → ${route?.remote.chain}`),
      el("option", { value: "back" }, `${route?.remote.chain} → ${route?.home.chain}`),
    );
  };
  fill();
  const row = (label: string, id: string) => el("tr", {}, el("th", {}, label), el("td", { id }, "—"));
  const sendButton = el("button", { id: "send" }, "Approve and send");
  root.replaceChildren(
    el("h1", {}, "Bridge"),
    el("label", {}, "Route ", routes),
    el("label", {}, "Direction ", direction),
    el(
      "table",
      {},
      row("Balance (home)", "balance-home"),
      row("Balance (remote)", "balance-remote"),
      row("Capacity left", "limit-left"),
      row("Refill", "limit-refill"),
      row("Largest transfer", "limit-max"),
      row("Hold threshold", "limit-hold"),
    ),
    el("label", {}, "Amount ", el("input", { id: "amount", placeholder: "1.5", inputmode: "decimal" })),
    sendButton,
    el("p", { id: "send-status" }),
    el(
      "table",
      {},
      row("Approval tx", "approve-tx"),
      row("Source tx", "source-tx"),
      row("Stage", "stage"),
      row("Destination tx", "destination-tx"),
    ),
  );
  routes.addEventListener("change", () => {
    fill();
    void refresh(network);
  });
  direction.addEventListener("change", () => void refresh(network));
  sendButton.addEventListener("click", () => void send(network));
  document.addEventListener("wallet-connected", () => void refresh(network));
  await refresh(network);
}
