// Register New Bridge (the Hot Cross form): the five steps of `zerobridge route register`
// (crates/ops/src/route/register.rs, install.rs) from the connected wallet. Each step reads the
// chains first, so pressing the button again resumes where it stopped (as re-running the CLI
// does). A step the wallet may not do (a governance call, the route owner's security level, an
// operator's opt-in) stops the run and says who must do it; connect that wallet and continue.
// Finally the validator config from the API, to read and download.
import { encodeAbiParameters, encodePacked, keccak256, parseAbi, toFunctionSelector, type Address, type Hex } from "viem";
import { api, type ChainEntry } from "./api";
import { bridgeAbi, erc20Abi, formatAmount, parseAmount, plainError, reader, transact, wallet, type Wallet } from "./chain";
import { byId, el, say } from "./dom";
import { chainNamed, loadNetwork, type Network } from "./network";
import { accessAbi, ownableAbi, registryAbi, stakeAbi, ZERO, type RouteParams } from "./registry";

const MAX_U128 = (1n << 128n) - 1n;
const PENDING = 1;
const ACTIVE = 2;
const STATUS = ["None", "Pending", "Active", "ExitOnly", "Emergency"];

interface Form {
  token: Address;
  from: string;
  to: string;
  wrappedName: string;
  wrappedSymbol: string;
  min: string;
  max: string;
  daily: string;
  hold: string;
  feeBps: number;
  collector: string;
  minStake: string;
  minValidators: string;
}

function readForm(): Form {
  const value = (id: string) => byId<HTMLInputElement>(id).value.trim();
  return {
    token: value("token") as Address,
    from: value("from"),
    to: value("to"),
    wrappedName: value("wrapped-name"),
    wrappedSymbol: value("wrapped-symbol"),
    min: value("min"),
    max: value("max"),
    daily: value("daily"),
    hold: value("hold"),
    feeBps: Number(value("fee-bps")),
    collector: value("collector"),
    minStake: value("min-stake"),
    minValidators: value("min-validators"),
  };
}

/// `route_params` of crates/ops/src/route/register.rs, with its words.
function routeParams(form: Form, decimals: number, owner: Address): RouteParams {
  const amount = (flag: string, text: string) => {
    let units: bigint;
    try {
      units = parseAmount(text, decimals);
    } catch (error) {
      throw new Error(`${flag}: ${plainError(error)}`);
    }
    if (units > MAX_U128) throw new Error(`${flag} ${text} is too large for the bridge (at most 2^128-1 units)`);
    return units;
  };
  const min = amount("--min", form.min);
  const max = amount("--max", form.max);
  const daily = amount("--daily-limit", form.daily);
  const hold = ["0", "off", "none"].includes(form.hold) ? 0n : amount("--hold-above", form.hold);
  if (min > max) throw new Error(`--min ${form.min} is above --max ${form.max}: lower --min or raise --max`);
  if (max > daily) throw new Error(`--max ${form.max} is above --daily-limit ${form.daily}: raise --daily-limit or lower --max`);
  if (!Number.isInteger(form.feeBps) || form.feeBps < 0) throw new Error(`--fee-bps ${form.feeBps} is not a whole number of basis points`);
  if (form.feeBps > 10_000) throw new Error(`--fee-bps ${form.feeBps} is above 10000 (100%): lower it`);
  const collector = (form.collector || owner) as Address;
  return {
    feeBps: form.feeBps,
    feeCollector: form.feeBps === 0 && !form.collector ? ZERO : collector,
    minAmount: min,
    maxAmount: max,
    outboundCapacity: daily,
    inboundCapacity: daily,
    largeTransferThreshold: hold,
  };
}

/// A step the connected wallet cannot do: the run stops with these words.
class Handoff extends Error {}

function step(text: string, kind: "ok" | "" = "ok"): void {
  const li = el("li", { class: kind }, text);
  byId("steps").append(li);
}

/// Whether `caller` may call `selector` on the AccessManaged `target` now (OpenZeppelin canCall).
async function mayCall(chain: ChainEntry, target: Address, signature: string, caller: Address): Promise<boolean> {
  const client = reader(chain);
  const authority = await client.readContract({ address: target, abi: accessAbi, functionName: "authority" });
  const [immediate] = await client.readContract({
    address: authority,
    abi: accessAbi,
    functionName: "canCall",
    args: [caller, target, toFunctionSelector(signature)],
  });
  return immediate;
}

/// The set a stake snapshot encodes (threshold ‖ validUntil ‖ (signer ‖ weight)*), as
/// zb_protocol::ValidatorSet::encode and the stake manager write it.
function snapshotSet(snapshot: { threshold: bigint; validUntil: bigint; members: readonly { signer: Address; weight: bigint }[] }): Hex {
  const types: string[] = ["uint96", "uint64"];
  const values: unknown[] = [snapshot.threshold, snapshot.validUntil];
  for (const m of snapshot.members) {
    types.push("address", "uint96");
    values.push(m.signer, m.weight);
  }
  return encodePacked(types, values);
}

interface Plan {
  form: Form;
  home: ChainEntry;
  remote: ChainEntry;
  decimals: number;
  routeId: Hex;
  w: Wallet;
}

async function registerHome(plan: Plan): Promise<Address> {
  const { form, home, remote, w, routeId } = plan;
  const client = reader(home);
  const record = await client.readContract({ address: home.route_registry, abi: registryAbi, functionName: "getRoute", args: [routeId] });
  if (record.owner !== ZERO) {
    step(`[1/5] ${home.name}: already registered (owner ${record.owner})`);
    return record.owner;
  }
  const owner = await client.readContract({ address: form.token, abi: ownableAbi, functionName: "owner" }).catch(() => null);
  if (!owner)
    throw new Error(`token ${form.token} has no owner() on ${home.name}, so no key can prove it owns it: ask governance to register it for you (registerRouteFor)`);
  if (owner.toLowerCase() !== w.address.toLowerCase())
    throw new Handoff(`only the token's owner() ${owner} can register it; you are ${w.address}: connect the owner's wallet`);
  const params = routeParams(form, plan.decimals, w.address);
  const bond = await client.readContract({ address: home.route_registry, abi: registryAbi, functionName: "registrationBond" });
  const tx = await transact(
    w,
    home,
    { address: home.route_registry, abi: registryAbi, functionName: "registerRoute", args: [form.token, BigInt(remote.chain_id), form.wrappedName, form.wrappedSymbol, params] },
    bond,
  );
  step(`[1/5] ${home.name}: registered by the token owner, bond ${formatAmount(bond, 18)} (native coin) paid (tx ${tx})`);
  return w.address;
}

async function registerRemote(plan: Plan, owner: Address): Promise<void> {
  const { form, home, remote, w, routeId } = plan;
  const record = await reader(remote).readContract({ address: remote.route_registry, abi: registryAbi, functionName: "getRoute", args: [routeId] });
  if (record.owner === ZERO) {
    const signature = "registerRemoteRoute(address,uint64,address,uint8,string,string,(uint16,address,uint128,uint128,uint128,uint128,uint128))";
    if (!(await mayCall(remote, remote.route_registry, signature, w.address)))
      throw new Handoff(
        `[2/5] ${remote.name}: the remote registration (registerRemoteRoute) is a governance call: connect a wallet with ADMIN on ${remote.name} or pass it to the committee, then press Continue`,
      );
    const params = routeParams(form, plan.decimals, owner);
    await transact(w, remote, {
      address: remote.route_registry,
      abi: registryAbi,
      functionName: "registerRemoteRoute",
      args: [owner, BigInt(home.chain_id), form.token, plan.decimals, form.wrappedName, form.wrappedSymbol, params],
    });
  }
  const done = await reader(remote).readContract({ address: remote.route_registry, abi: registryAbi, functionName: "getRoute", args: [routeId] });
  step(`[2/5] ${remote.name}: wrapped token ${done.localToken} deployed (${done.decimals} decimals)`);
}

async function stakeManagerOf(chain: ChainEntry): Promise<Address> {
  if (chain.stake_manager && chain.stake_manager !== ZERO) return chain.stake_manager;
  return reader(chain).readContract({ address: chain.route_registry, abi: registryAbi, functionName: "stakeManager" });
}

/// [3/5] for the lane from `source` to `destination`: its set from the source's stake snapshot
/// (operators opted in, the epoch committed by anyone), copied to the destination by governance.
async function laneSet(plan: Plan, source: ChainEntry, destination: ChainEntry, lane: Hex): Promise<void> {
  const { w } = plan;
  const sm = await stakeManagerOf(source);
  if (sm === ZERO)
    throw new Handoff(
      `[3/5] ${source.name} has no stake manager: its lane's validator set is a governance-configured set; finish with \`zerobridge route register\` and the governance key`,
    );
  const src = reader(source);
  const state = await src.readContract({ address: source.bridge, abi: bridgeAbi, functionName: "getLane", args: [lane] });
  let snapshot = await src.readContract({ address: sm, abi: stakeAbi, functionName: "getSnapshot", args: [lane] });
  if (state.status === PENDING) {
    const candidates = await src.readContract({ address: sm, abi: stakeAbi, functionName: "candidates", args: [lane] });
    if (!candidates.length)
      throw new Handoff(
        `[3/5] lane ${lane} on ${source.name} has no operators opted in yet, so it has no validator set: operators opt in with \`zerobridge stake opt-in --chain ${source.name} --lane ${lane}\`; then press Continue`,
      );
    if (!snapshot.committed || snapshot.members.length < candidates.length || state.validatorSetHash !== snapshot.setHash) {
      await transact(w, source, { address: sm, abi: stakeAbi, functionName: "commitEpoch", args: [lane] });
      snapshot = await src.readContract({ address: sm, abi: stakeAbi, functionName: "getSnapshot", args: [lane] });
    }
  }
  const set = snapshotSet(snapshot);
  const hash = keccak256(set);
  const dst = reader(destination);
  const inbound = await dst.readContract({ address: destination.bridge, abi: bridgeAbi, functionName: "getLane", args: [lane] });
  let note = "already installed";
  if (inbound.validatorSetHash !== hash) {
    if (inbound.status !== PENDING)
      throw new Error(`lane ${lane} on ${destination.name} is ${STATUS[inbound.status]} with validator set ${inbound.validatorSetHash}, not the source's ${hash}: a live lane's set changes only by a delivered set update`);
    const dsm = await stakeManagerOf(destination);
    if (dsm === ZERO || !(await mayCall(destination, dsm, "installInboundSet(bytes32,bytes)", w.address)))
      throw new Handoff(
        `[3/5] ${destination.name}: copying the lane's set there (installInboundSet) is a governance call: connect a wallet with ADMIN on ${destination.name} or pass it to the committee, then press Continue`,
      );
    await transact(w, destination, { address: dsm, abi: stakeAbi, functionName: "installInboundSet", args: [lane, set] });
    note = "installed by governance (installInboundSet)";
  }
  step(`[3/5] lane ${source.name} -> ${destination.name}: set ${hash} (${source.name} stake snapshot of epoch ${snapshot.epoch}: ${snapshot.members.length} validators); on ${destination.name}: ${note}`);
}

/// [4/5] on a staked chain: the route owner's security level (setSecurityLevel).
async function securityLevel(plan: Plan, chain: ChainEntry, owner: Address): Promise<void> {
  const { form, w, routeId } = plan;
  const sm = await stakeManagerOf(chain);
  if (sm === ZERO) return;
  const client = reader(chain);
  const token = await client.readContract({ address: sm, abi: stakeAbi, functionName: "stakingToken" });
  const decimals = token === ZERO ? 18 : await client.readContract({ address: token, abi: erc20Abi, functionName: "decimals" });
  const minStake = parseAmount(form.minStake, decimals);
  const minValidators = BigInt(form.minValidators);
  const [currentStake, currentValidators] = await client.readContract({ address: chain.route_registry, abi: registryAbi, functionName: "securityLevels", args: [routeId] });
  let note = "already set";
  if (currentStake !== minStake || currentValidators !== minValidators) {
    if (owner.toLowerCase() !== w.address.toLowerCase())
      throw new Handoff(`[4/5] ${chain.name}: the security level (setSecurityLevel) is the route owner's call: connect ${owner}'s wallet, then press Continue`);
    await transact(w, chain, { address: chain.route_registry, abi: registryAbi, functionName: "setSecurityLevel", args: [routeId, minStake, minValidators] });
    note = "set";
  }
  step(`[4/5] ${chain.name}: security level ${note}: at least ${form.minStake} from at least ${form.minValidators} validators`);
}

/// [5/5] activateRoute on one chain (anyone may call it), unless already active.
async function activate(plan: Plan, chain: ChainEntry, lane: Hex): Promise<string> {
  const state = await reader(chain).readContract({ address: chain.bridge, abi: bridgeAbi, functionName: "getLane", args: [lane] });
  if (state.status === ACTIVE) return "already active";
  if (state.status !== PENDING) throw new Error(`route ${plan.routeId} is ${STATUS[state.status]} on ${chain.name}: it cannot be activated`);
  await transact(plan.w, chain, { address: chain.route_registry, abi: registryAbi, functionName: "activateRoute", args: [plan.routeId] });
  return "Active";
}

async function register(network: Network): Promise<void> {
  byId("steps").replaceChildren();
  const w = wallet();
  if (!w) return say("register-status", "connect the token owner's wallet first", "error");
  try {
    const form = readForm();
    if (!form.wrappedName || !form.wrappedSymbol)
      return say("register-status", "the wrapped token needs a name and a symbol (--wrapped-name, --wrapped-symbol)", "error");
    const home = chainNamed(network, form.from);
    const remote = chainNamed(network, form.to);
    if (home.name === remote.name) return say("register-status", "--from and --to name the same chain: pick two chains", "error");
    const client = reader(home);
    const code = await client.getCode({ address: form.token }).catch(() => undefined);
    if (!code || code === "0x") return say("register-status", `there is no contract at ${form.token} on ${home.name}: check the token address and the home chain`, "error");
    const decimals = await client.readContract({ address: form.token, abi: erc20Abi, functionName: "decimals" });
    routeParams(form, decimals, w.address); // the form's words before anything is sent
    const routeId = keccak256(encodeAbiParameters([{ type: "uint64" }, { type: "address" }, { type: "uint64" }], [BigInt(home.chain_id), form.token, BigInt(remote.chain_id)]));
    const plan: Plan = { form, home, remote, decimals, routeId, w };
    say("register-status", `registering route ${routeId}…`);

    const owner = await registerHome(plan);
    const lanes = await client.readContract({ address: home.bridge, abi: bridgeAbi, functionName: "getRoute", args: [routeId] });
    const [toRemote, toHome] = [lanes.outboundLane, lanes.inboundLane];
    await registerRemote(plan, owner);
    await laneSet(plan, home, remote, toRemote);
    await laneSet(plan, remote, home, toHome);
    await securityLevel(plan, home, owner);
    await securityLevel(plan, remote, owner);
    const homeActive = await activate(plan, home, toRemote);
    const remoteActive = await activate(plan, remote, toHome);
    step(`[5/5] activated: ${home.name} ${homeActive}, ${remote.name} ${remoteActive}`);
    const symbol = await client.readContract({ address: form.token, abi: erc20Abi, functionName: "symbol" });
    await showValidatorConfig(routeId, symbol);
    say("register-status", `Route ${symbol} (${routeId}) is Active on ${home.name} and ${remote.name}.`, "ok");
  } catch (error) {
    if (error instanceof Handoff) say("register-status", error.message, "");
    else say("register-status", plainError(error), "error");
  }
}

/// The route's validator config from the API: the text `route register` prints.
async function showValidatorConfig(routeId: string, symbol: string): Promise<void> {
  const text = await api.validatorConfig(routeId);
  byId("validator-config").textContent = text;
  const link = byId<HTMLAnchorElement>("download-config");
  link.href = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
  link.download = `validator-${symbol}.toml`;
  link.hidden = false;
}

export async function registerPage(root: HTMLElement): Promise<void> {
  const network = await loadNetwork();
  const input = (label: string, id: string, value = "", placeholder = "") =>
    el("label", {}, `${label} `, el("input", { id, value, placeholder }));
  const chains = (id: string, chosen: number) =>
    el("label", {}, `${id === "from" ? "Home chain" : "Remote chain"} `, el("select", { id }, ...network.chains.map((c, i) => {
      const option = el("option", { value: c.name }, c.name);
      if (i === chosen) option.setAttribute("selected", "");
      return option;
    })));
  const button = el("button", { id: "register" }, "Register / Continue");
  root.replaceChildren(
    el("h1", {}, "Register New Bridge"),
    el("p", {}, "Each step runs from the wallet connected above; a step it may not do says whose wallet to connect, then press Continue."),
    input("Token address", "token", "", "0x…"),
    chains("from", 0),
    chains("to", 1),
    input("Wrapped name", "wrapped-name"),
    input("Wrapped symbol", "wrapped-symbol"),
    input("Minimum per transfer", "min", "0.01"),
    input("Maximum per transfer", "max", "1000"),
    input("Daily limit", "daily", "100000"),
    input("Hold transfers from", "hold", "50000"),
    input("Fee (basis points)", "fee-bps", "10"),
    input("Fee collector", "collector", "", "your address"),
    input("Security level: least total stake (coins)", "min-stake", "4000"),
    input("Security level: least validators", "min-validators", "4"),
    button,
    el("p", { id: "register-status" }),
    el("ol", { id: "steps" }),
    el("pre", { id: "validator-config" }),
    el("a", { id: "download-config", hidden: "" }, "Download the validator config"),
  );
  button.addEventListener("click", () => void register(network));
}
