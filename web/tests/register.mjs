// Browser tests of a token team's journey (run by run.mjs on the same devnet and page): deploy a
// fresh ERC-20, register its bridge through the Register form with the wallets each step needs
// (the team, then governance, the operators' opt-ins with the CLI as operators do them, the team
// again), check the route Active on both chains, download the validator config, send one transfer
// from the bridge page and, since the devnet relayer carries only its configured lanes, deliver it
// with "Claim it yourself" from the explorer.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createPublicClient, createWalletClient, encodeAbiParameters, http, keccak256, parseAbi, parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

const bridgeAbi = parseAbi([
  "struct Route { bytes32 outboundLane; bytes32 inboundLane; uint128 capacityCap; uint128 holdThresholdCap; bytes32 fallbackSetHash; uint32 fallbackDelay; uint32 emergencyGrace; uint16 strikeLimit; uint16 strikes; uint64 lastStrikeAt; uint64 graceUntil; }",
  "function getRoute(bytes32 routeId) view returns (Route)",
  "function laneSummary(bytes32 lane) view returns (uint8 direction, uint8 status, uint64 sequence, address token, bytes32 validatorSetHash)",
]);
const registryAbi = parseAbi([
  "struct RouteRecord { address owner; address homeToken; address localToken; uint64 homeChainId; uint64 remoteChainId; uint8 decimals; bool isHome; uint256 bond; string wrappedName; string wrappedSymbol; }",
  "function getRoute(bytes32 routeId) view returns (RouteRecord)",
]);
const tokenAbi = parseAbi([
  "function balanceOf(address) view returns (uint256)",
  "function mint(address to, uint256 amount)",
]);
const ACTIVE = 2;

const chainOf = (c) => ({ id: c.chainId, name: c.name, nativeCurrency: { name: "ETH", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [c.rpc] } } });

export async function registerTests({ page, url, wallet, manifest, root, artifacts, zerobridge, test, assert }) {
  const [home, remote] = manifest.chains;
  const clients = new Map(manifest.chains.map((c) => [c.name, createPublicClient({ transport: http(c.rpc) })]));
  const deployer = manifest.accounts.find((a) => a.role === "deployer");
  const operators = manifest.accounts.filter((a) => /^operator-\d+$/.test(a.role)).map((a) => a.role.slice("operator-".length));
  const teamKey = generatePrivateKey();
  const team = privateKeyToAccount(teamKey);
  const status = () => page.textContent("#register-status");
  const pressRegister = async (expected) => {
    await page.evaluate(() => { document.querySelector("#register-status").textContent = ""; });
    await page.click("#register");
    await page.waitForFunction((words) => {
      const text = document.querySelector("#register-status")?.textContent ?? "";
      return text.includes(words) || document.querySelector("#register-status")?.className === "error";
    }, expected, { timeout: 120_000 });
    const text = await status();
    assert(text.includes(expected), `the page said '${text}', expected '${expected}'`);
  };
  const connectAs = async (privateKey) => {
    wallet.use(privateKey);
    await page.click("#connect");
    const address = privateKeyToAccount(privateKey).address;
    await page.waitForFunction((a) => document.querySelector("#account")?.textContent === a, address);
  };
  let token;
  let routeId;
  let lanes;

  await test("register: a fresh token's bridge through the form, each step from the wallet that may do it", async () => {
    // The team's wallet: a new devnet account funded by the deployer on both chains.
    for (const chain of manifest.chains) {
      const funder = createWalletClient({ account: privateKeyToAccount(deployer.privateKey), chain: chainOf(chain), transport: http(chain.rpc) });
      const hash = await funder.sendTransaction({ to: team.address, value: parseEther("100") });
      await clients.get(chain.name).waitForTransactionReceipt({ hash });
    }
    // The team deploys its token (the test suite's OwnedToken: an ERC-20 with owner()) and mints.
    const artifact = JSON.parse(readFileSync(join(root, "contracts/out/Tokens.sol/OwnedToken.json"), "utf8"));
    const teamWallet = createWalletClient({ account: team, chain: chainOf(home), transport: http(home.rpc) });
    const homeClient = clients.get(home.name);
    const deployed = await teamWallet.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode.object, args: ["Team Token", "TEAM", 18, team.address] });
    token = (await homeClient.waitForTransactionReceipt({ hash: deployed })).contractAddress;
    const minted = await teamWallet.writeContract({ address: token, abi: tokenAbi, functionName: "mint", args: [team.address, parseEther("1000000")] });
    await homeClient.waitForTransactionReceipt({ hash: minted });
    routeId = keccak256(encodeAbiParameters([{ type: "uint64" }, { type: "address" }, { type: "uint64" }], [BigInt(home.chainId), token, BigInt(remote.chainId)]));

    await page.goto(`${url}/#/register`);
    await page.waitForSelector("#register");
    await connectAs(teamKey);
    await page.fill("#token", token);
    await page.fill("#wrapped-name", "Wrapped Team Token");
    await page.fill("#wrapped-symbol", "wTEAM");
    // Step 1 from the team's wallet; step 2 is governance's.
    await pressRegister("is a governance call");
    const record = await homeClient.readContract({ address: home.registry, abi: registryAbi, functionName: "getRoute", args: [routeId] });
    assert(record.owner === team.address, `the home registry records owner ${record.owner}`);
    await page.screenshot({ path: join(artifacts, "register-1-governance-needed.png"), fullPage: true });

    // Governance (the devnet's deployer holds ADMIN) continues: the remote registration, then
    // the sets wait for the operators.
    await connectAs(deployer.privateKey);
    await pressRegister("no operators opted in yet");
    await page.screenshot({ path: join(artifacts, "register-2-operators-needed.png"), fullPage: true });

    // The operators opt in to the new lanes on each source chain, as operators do (their CLI).
    for (const chain of manifest.chains)
      for (const n of operators) zerobridge("stake", "opt-in", "--chain", chain.name, "--route", routeId, "--operator", n);

    // Governance again: commit the snapshots, copy them to the destinations; the security level
    // is the route owner's.
    await pressRegister("is the route owner's call");
    await page.screenshot({ path: join(artifacts, "register-3-owner-needed.png"), fullPage: true });
    await connectAs(teamKey);
    await pressRegister("is Active on");
    await page.screenshot({ path: join(artifacts, "register-4-active.png"), fullPage: true });

    // Active on both chains, read from the bridges themselves.
    const route = await homeClient.readContract({ address: home.bridge, abi: bridgeAbi, functionName: "getRoute", args: [routeId] });
    lanes = [route.outboundLane, route.inboundLane];
    for (const chain of manifest.chains)
      for (const lane of lanes) {
        const [, state] = await clients.get(chain.name).readContract({ address: chain.bridge, abi: bridgeAbi, functionName: "laneSummary", args: [lane] });
        assert(state === ACTIVE, `lane ${lane} on ${chain.name} has status ${state}, not Active`);
      }
  });

  await test("register: the validator config downloads and names the route's two lanes", async () => {
    assert(lanes, "the registration did not finish");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-config")]);
    const path = join(artifacts, download.suggestedFilename());
    await download.saveAs(path);
    const text = readFileSync(path, "utf8");
    const named = [...text.matchAll(/^lane = "(0x[0-9a-f]{64})"$/gm)].map((m) => m[1]);
    assert(named.length === 2 && named[0] === lanes[0] && named[1] === lanes[1], `the config names lanes ${named}, expected ${lanes}`);
    assert(text.includes(`source = "${home.name}"`) && text.includes(`source = "${remote.name}"`), `the config's sources:\n${text}`);
  });

  await test("self-claim: a transfer on the new route, not relayed, delivered with Claim it yourself", async () => {
    assert(lanes, "the registration did not finish");
    const remoteClient = clients.get(remote.name);
    const wrapped = (await remoteClient.readContract({ address: remote.registry, abi: registryAbi, functionName: "getRoute", args: [routeId] })).localToken;
    const before = await remoteClient.readContract({ address: wrapped, abi: tokenAbi, functionName: "balanceOf", args: [team.address] });

    await page.goto(`${url}/#/bridge`);
    await page.waitForSelector(`#route option[value="${routeId}"]`, { state: "attached" });
    await page.click("#connect");
    await page.selectOption("#route", routeId);
    await page.selectOption("#direction", "out");
    await page.waitForFunction(() => document.querySelector("#limit-left")?.textContent !== "—");
    await page.fill("#amount", "25");
    await page.click("#send");
    await page.waitForFunction(() => /^0x[0-9a-f]{64}$/.test(document.querySelector("#source-tx")?.textContent ?? ""), null, { timeout: 60_000 });
    const sourceTx = await page.textContent("#source-tx");
    await page.screenshot({ path: join(artifacts, "register-5-sent.png"), fullPage: true });

    // The explorer offers the self-claim once the relayer is late (no fallback on this route).
    await page.goto(`${url}/#/explorer`);
    await page.fill("#query", sourceTx);
    const deadline = Date.now() + 240_000;
    for (;;) {
      await page.click("#search");
      await page.waitForSelector("#transfer-detail, #search-status:not(:empty)");
      if (await page.$("#claim")) break;
      assert(Date.now() < deadline, `no 'Claim it yourself' for ${sourceTx}: ${await page.textContent("#results")}`);
      await page.waitForTimeout(5_000);
    }
    const [, , delivered] = await remoteClient.readContract({ address: remote.bridge, abi: bridgeAbi, functionName: "laneSummary", args: [lanes[0]] });
    assert(delivered === 0n, `the relayer delivered ${delivered} messages of the new lane: this test needs a lane it does not carry`);
    await page.screenshot({ path: join(artifacts, "explorer-claimable.png"), fullPage: true });
    await page.click("#claim");
    await page.waitForFunction(() => {
      const s = document.querySelector("#action-status");
      return s?.className === "error" || s?.textContent?.startsWith("✓ delivered");
    }, null, { timeout: 120_000 });
    const words = await page.textContent("#action-status");
    assert(words.startsWith("✓ delivered"), `the page said: ${words}`);
    const after = await remoteClient.readContract({ address: wrapped, abi: tokenAbi, functionName: "balanceOf", args: [team.address] });
    assert(after > before, `no wTEAM arrived on ${remote.name} (${before} -> ${after})`);
    await page.screenshot({ path: join(artifacts, "explorer-claimed.png"), fullPage: true });
  });
}
