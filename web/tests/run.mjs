// Browser tests of the web app against a real devnet: Debian's Chromium driven by playwright-core,
// a test EIP-1193 wallet whose transactions are signed by viem's local account with the devnet
// holder's key (in Node, exposed to the page) and sent to the real anvil chains.
//
//   node web/tests/run.mjs          (from the repository root; scripts/test.sh runs it)
// Env: ZB_BIN (default target/debug/zerobridge), ZB_WEB_PORT_BASE (default 18700),
//      ZB_CHROMIUM (default /usr/bin/chromium), ZB_WEB_ARTIFACTS (default test-artifacts/web);
//      ZB_WEB_DEVNET_DIR + ZB_WEB_URL: use a devnet that already runs (and its API's URL) instead.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { createPublicClient, createWalletClient, http, parseAbi } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { registerTests } from "./register.mjs";

const root = resolve(import.meta.dirname, "../..");
const bin = process.env.ZB_BIN ?? join(root, "target/debug/zerobridge");
const portBase = process.env.ZB_WEB_PORT_BASE ?? "18700";
const artifacts = resolve(root, process.env.ZB_WEB_ARTIFACTS ?? "test-artifacts/web");
const reuse = process.env.ZB_WEB_DEVNET_DIR;
const devnetDir = reuse ?? mkdtempSync(join(tmpdir(), "zb-web-devnet-"));
mkdirSync(artifacts, { recursive: true });

const erc20 = parseAbi(["function balanceOf(address) view returns (uint256)"]);
const results = [];

async function test(name, body) {
  const started = Date.now();
  try {
    await body();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${Math.round((Date.now() - started) / 1000)} s)`);
  } catch (error) {
    results.push({ name, ok: false });
    const status = await statusLine?.().catch(() => "?");
    console.log(`FAIL ${name}: ${error?.stack ?? error}\n     the page said: ${status}`);
  }
}
let statusLine = null;

function assert(condition, words) {
  if (!condition) throw new Error(words);
}

function zerobridge(...args) {
  return execFileSync(bin, args, { cwd: root, encoding: "utf8", env: { ...process.env, ZB_DEVNET_DIR: devnetDir } });
}

/// The wallet behind window.ethereum: one devnet key at a time (`use` switches it, as a person
/// switches accounts in a wallet), the chain the page switched to.
function testWallet(manifest, privateKey) {
  let account = privateKeyToAccount(privateKey);
  const chains = new Map(manifest.chains.map((c) => [c.chainId, c.rpc]));
  let chainId = manifest.chains[0].chainId;
  const chainOf = (id) => ({ id, name: `chain-${id}`, nativeCurrency: { name: "ETH", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [chains.get(id)] } } });
  return {
    get address() {
      return account.address;
    },
    use(key) {
      account = privateKeyToAccount(key);
    },
    async request({ method, params = [] }) {
      const rpc = chains.get(chainId);
      switch (method) {
        case "eth_requestAccounts":
        case "eth_accounts":
          return [account.address];
        case "eth_chainId":
          return `0x${chainId.toString(16)}`;
        case "wallet_switchEthereumChain": {
          const wanted = Number(params[0].chainId);
          if (!chains.has(wanted)) throw new Error(`the test wallet knows no chain ${wanted}`);
          chainId = wanted;
          return null;
        }
        case "eth_sendTransaction": {
          const tx = params[0];
          // A real signature: viem's local account signs, anvil checks it like any raw transaction.
          const client = createWalletClient({ account, chain: chainOf(chainId), transport: http(rpc) });
          return client.sendTransaction({
            to: tx.to,
            data: tx.data,
            value: tx.value ? BigInt(tx.value) : undefined,
            gas: tx.gas ? BigInt(tx.gas) : undefined,
          });
        }
        default:
          return createPublicClient({ transport: http(rpc) }).request({ method, params });
      }
    },
  };
}

const PROVIDER_SHIM = `
  window.ethereum = {
    isZerobridgeTest: true,
    request: async (args) => {
      const answer = JSON.parse(await window.__zbWallet(JSON.stringify(args)));
      if (answer.error) throw Object.assign(new Error(answer.error), { code: 4001 });
      return answer.result;
    },
    on() {}, removeListener() {},
  };`;

let browser;
try {
  let url = process.env.ZB_WEB_URL;
  if (!reuse) {
    console.log(`devnet up in ${devnetDir}`);
    const upOutput = zerobridge("devnet", "up", "--dir", devnetDir, "--port-base", portBase);
    url = upOutput.match(/web app and API: (http:\/\/\S+)/)?.[1];
  }
  if (!url) throw new Error("`devnet up` printed no 'web app and API: <url>' line: the API is not part of the devnet");
  const manifest = JSON.parse(readFileSync(join(devnetDir, "manifest.json"), "utf8"));
  const holder = manifest.accounts.find((a) => a.role === "holder");
  const wallet = testWallet(manifest, holder.privateKey);
  const [home, remote] = manifest.chains;
  const route = manifest.routes[0];
  const homeClient = createPublicClient({ transport: http(home.rpc) });
  const remoteClient = createPublicClient({ transport: http(remote.rpc) });
  const balances = async () => ({
    home: await homeClient.readContract({ address: route.homeToken, abi: erc20, functionName: "balanceOf", args: [holder.address] }),
    remote: await remoteClient.readContract({ address: route.wrappedToken, abi: erc20, functionName: "balanceOf", args: [holder.address] }),
  });
  const nonces = async () => [
    await homeClient.getTransactionCount({ address: holder.address }),
    await remoteClient.getTransactionCount({ address: holder.address }),
  ];

  browser = await chromium.launch({
    executablePath: process.env.ZB_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  });
  const page = await browser.newPage();
  await page.exposeFunction("__zbWallet", async (json) => {
    try {
      return JSON.stringify({ result: await wallet.request(JSON.parse(json)) });
    } catch (error) {
      return JSON.stringify({ error: error?.shortMessage ?? String(error) });
    }
  });
  await page.addInitScript(PROVIDER_SHIM);
  statusLine = () => page.evaluate(() => ["send-status", "stage", "search-status", "register-status", "action-status", "page-error"].map((id) => `${id}: ${document.getElementById(id)?.textContent}`).join("; "));

  const sendFromPage = async (direction, amount) => {
    // A fresh status line, so a wait for an error sees this send's answer, not the last one's.
    await page.evaluate(() => { const s = document.querySelector("#send-status"); s.textContent = ""; s.className = ""; });
    await page.selectOption("#direction", direction);
    await page.fill("#amount", amount);
    await page.click("#send");
  };

  await test("connect: the holder's balances on both chains", async () => {
    await page.goto(`${url}/#/bridge`);
    await page.click("#connect");
    await page.waitForFunction(() => document.querySelector("#account")?.textContent?.startsWith("0x"));
    await page.waitForFunction(() => document.querySelector("#balance-home")?.textContent?.includes(" on "));
    const text = await page.textContent("#balance-home");
    assert(text.includes("1000000"), `home balance shows ${text}, expected the holder's 1,000,000 DEMO`);
    await page.waitForFunction(() => document.querySelector("#limit-left")?.textContent !== "—");
    await page.screenshot({ path: join(artifacts, "bridge.png"), fullPage: true });
  });

  await test("a too-precise amount shows the decimals error and sends nothing", async () => {
    const before = await nonces();
    await sendFromPage("out", "1.1234567890123456789");
    await page.waitForSelector("#send-status.error");
    const words = await page.textContent("#send-status");
    assert(words.includes("has 19 decimals but the token has 18"), `got: ${words}`);
    assert(JSON.stringify(await nonces()) === JSON.stringify(before), "a transaction was sent");
  });

  await test("an over-limit amount shows the limit error and sends nothing", async () => {
    const before = await nonces();
    // One unit over the smaller of the two limits the page shows: refused by one or the other.
    const shown = async (id) => Number((await page.textContent(id)).split(" ")[0]);
    const over = Math.min(await shown("#limit-max"), await shown("#limit-left")) + 1;
    await sendFromPage("out", String(over));
    await page.waitForSelector("#send-status.error");
    const words = await page.textContent("#send-status");
    assert(/above the route's maximum|rate limit/.test(words), `got: ${words}`);
    assert(JSON.stringify(await nonces()) === JSON.stringify(before), "a transaction was sent");
    await page.screenshot({ path: join(artifacts, "bridge-error.png"), fullPage: true });
  });

  for (const [direction, amount] of [["out", "10"], ["back", "4"]]) {
    await test(`send ${amount} DEMO ${direction === "out" ? "ethereum -> bsc" : "bsc -> ethereum"}: delivered, balances change on both chains`, async () => {
      const before = await balances();
      await page.evaluate(() => { document.querySelector("#stage").textContent = "—"; });
      await sendFromPage(direction, amount);
      await page.waitForFunction(() => document.querySelector("#stage")?.textContent?.startsWith("delivered"), null, { timeout: 180_000 });
      const destinationTx = await page.textContent("#destination-tx");
      assert(/^0x[0-9a-f]{64}$/.test(destinationTx), `destination tx shows ${destinationTx}`);
      const after = await balances();
      const units = BigInt(amount) * 10n ** 18n;
      if (direction === "out") {
        assert(before.home - after.home === units, `ethereum balance moved by ${before.home - after.home}`);
        assert(after.remote > before.remote, "no wDEMO arrived on bsc");
      } else {
        assert(before.remote - after.remote === units, `bsc balance moved by ${before.remote - after.remote}`);
        assert(after.home > before.home, "no DEMO came back on ethereum");
      }
      await page.screenshot({ path: join(artifacts, `bridge-sent-${direction}.png`), fullPage: true });
    });
  }

  await test("explorer: the holder's transfers, one delivered", async () => {
    await page.goto(`${url}/#/explorer`);
    await page.fill("#query", holder.address);
    await page.click("#search");
    await page.waitForSelector("td.stage");
    const stages = await page.$$eval("td.stage", (cells) => cells.map((c) => c.textContent));
    assert(stages.includes("delivered"), `stages: ${stages}`);
    await page.screenshot({ path: join(artifacts, "explorer.png"), fullPage: true });
  });

  await registerTests({ page, url, wallet, manifest, root, artifacts, zerobridge, test, assert });
} catch (error) {
  results.push({ name: "setup", ok: false });
  console.log(`FAIL setup: ${error?.stack ?? error}`);
} finally {
  await browser?.close();
  try {
    if (!reuse) zerobridge("devnet", "down", "--dir", devnetDir);
  } catch (error) {
    console.log(`devnet down: ${error}`);
  }
}

const failed = results.filter((r) => !r.ok).length;
console.log(`web: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
