// Register New Bridge (the Hot Cross form). Step 1 of `zerobridge route register` runs from the
// token owner's wallet: registerRoute on the home chain's registry, paying the bond. Steps 2-5
// need governance's and the operators' keys (crates/ops/src/route/register.rs, install.rs), so
// the page shows the `route register` command that resumes from step 2, then the validator config.
import { parseAbi, type Address } from "viem";
import { api } from "./api";
import { erc20Abi, formatAmount, parseAmount, plainError, reader, transact, wallet } from "./chain";
import { byId, el, say } from "./dom";
import { chainNamed, loadNetwork, type Network } from "./network";

const registryAbi = parseAbi([
  "struct RouteParams { uint16 feeBps; address feeCollector; uint128 minAmount; uint128 maxAmount; uint128 outboundCapacity; uint128 inboundCapacity; uint128 largeTransferThreshold; }",
  "function registerRoute(address token, uint64 remoteChainId, string wrappedName, string wrappedSymbol, RouteParams params) payable returns (bytes32 routeId)",
  "function registrationBond() view returns (uint256)",
]);

const MAX_U128 = (1n << 128n) - 1n;

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
  security: string;
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
    security: value("security"),
  };
}

/// `route_params` of crates/ops/src/route/register.rs, with its words.
function routeParams(form: Form, decimals: number, owner: Address) {
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
    feeCollector: form.feeBps === 0 && !form.collector ? ("0x0000000000000000000000000000000000000000" as Address) : collector,
    minAmount: min,
    maxAmount: max,
    outboundCapacity: daily,
    inboundCapacity: daily,
    largeTransferThreshold: hold,
  };
}

function resumeCommand(form: Form): string {
  const flags = [
    `--token ${form.token}`,
    `--from ${form.from}`,
    `--to ${form.to}`,
    `--wrapped-name '${form.wrappedName}'`,
    `--wrapped-symbol ${form.wrappedSymbol}`,
    `--min ${form.min}`,
    `--max ${form.max}`,
    `--daily-limit ${form.daily}`,
    `--hold-above ${form.hold}`,
    `--fee-bps ${form.feeBps}`,
    ...(form.collector ? [`--collector ${form.collector}`] : []),
    `--security ${form.security}`,
  ];
  return `zerobridge route register ${flags.join(" ")}`;
}

async function register(network: Network): Promise<void> {
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
    if (!code || code === "0x") return say("register-status", `${form.token} has no contract on '${home.name}': pass the token's address there`, "error");
    const decimals = await client.readContract({ address: form.token, abi: erc20Abi, functionName: "decimals" });
    const params = routeParams(form, decimals, w.address);
    const bond = await client.readContract({ address: home.route_registry, abi: registryAbi, functionName: "registrationBond" });
    say("register-status", `[1/5] ${home.name}: registering, bond ${formatAmount(bond, 18)} ETH`);
    const tx = await transact(
      w,
      home,
      { address: home.route_registry, abi: registryAbi, functionName: "registerRoute", args: [form.token, BigInt(remote.chain_id), form.wrappedName, form.wrappedSymbol, params] },
      bond,
    );
    say("register-status", `[1/5] ${home.name}: registered by the token owner, bond paid (tx ${tx})`, "ok");
    byId("resume").textContent = resumeCommand(form);
    await showValidatorConfig();
  } catch (error) {
    say("register-status", plainError(error), "error");
  }
}

/// The validator config of the newest route, from the API (same text as `route register` prints).
async function showValidatorConfig(): Promise<void> {
  const { routes } = await api.routes();
  const route = routes[routes.length - 1];
  if (!route) return;
  const text = await api.validatorConfig(route.route_id).catch(() => null);
  if (!text) return;
  byId("validator-config").textContent = text;
  const link = byId<HTMLAnchorElement>("download-config");
  link.href = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
  link.download = `validator-${route.symbol}.toml`;
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
  const button = el("button", { id: "register" }, "Register");
  root.replaceChildren(
    el("h1", {}, "Register New Bridge"),
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
    el("label", {}, "Security level ", el("select", { id: "security" }, el("option", { value: "standard" }, "standard"), el("option", { value: "high" }, "high"))),
    button,
    el("p", { id: "register-status" }),
    el("p", {}, "Governance completes steps 2-5 (wrapped token, validator sets, security level, activation) with:"),
    el("pre", { id: "resume" }),
    el("pre", { id: "validator-config" }),
    el("a", { id: "download-config", hidden: "" }, "Download the validator config"),
  );
  button.addEventListener("click", () => void register(network));
}
