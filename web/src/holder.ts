// A holder's own actions on a transfer from the browser: cancel a held transfer, claim a stuck one.
import { parseAbi } from "viem";
import { api, type Transfer } from "./api";
import { connectWallet, plainError, reader, switchTo, transact, wallet } from "./chain";
import { byId, el, say } from "./dom";
import { chainNamed, loadNetwork } from "./network";

const holdAbi = parseAbi([
  "struct Hold { bytes32 messageHash; address sender; address recipient; uint64 releaseAt; uint8 status; uint256 amount; }",
  "function getHold(bytes32 laneId, uint64 sequence) view returns (Hold)",
  "function cancelHold(bytes32 laneId, uint64 sequence)",
]);

/// `zerobridge cancel`: the sender cancels its held transfer on the destination (cancelHold).
export async function cancelHeld(transfer: Transfer): Promise<void> {
  const w = wallet() ?? (await connectWallet());
  const network = await loadNetwork();
  const destination = chainNamed(network, transfer.to_chain);
  const hold = await reader(destination)
    .readContract({
      address: destination.bridge,
      abi: holdAbi,
      functionName: "getHold",
      args: [transfer.lane, BigInt(transfer.sequence)],
    })
    .catch(() => null);
  if (hold && hold.sender.toLowerCase() !== w.address.toLowerCase())
    throw new Error(`only the transfer's sender ${hold.sender} may cancel it, not ${w.address}: connect the sender's wallet`);
  say("action-status", `cancelling the hold on ${destination.name}`);
  const tx = await transact(w, destination, {
    address: destination.bridge,
    abi: holdAbi,
    functionName: "cancelHold",
    args: [transfer.lane, BigInt(transfer.sequence)],
  });
  say("action-status", `✓ cancelled the hold (tx ${tx}); the refund comes back to ${transfer.from_chain}`, "ok");
}

/// `zerobridge claim` from the browser: the API prepares each transaction (the validators'
/// signatures gathered and checked against the recomputed accumulator and the destination's set,
/// crates/ops/src/claim), the holder's wallet simulates it, sends it and pays the gas; then the
/// stages until the transfer is delivered (or refunded).
export async function claimYourself(transfer: Transfer): Promise<void> {
  const w = wallet() ?? (await connectWallet());
  const network = await loadNetwork();
  const steps = byId("claim-steps");
  // A claim is a few transactions at most: the batches up to the transfer, or a refund's two.
  for (let round = 0; round < 6; round++) {
    say("action-status", "asking the validators for their signatures (the API prepares the claim)…");
    const answer = await api.claim(transfer.message_hash);
    for (const note of answer.notes) steps.append(el("li", {}, note));
    if (answer.status !== "ready" || !answer.chain || !answer.to || !answer.data) break;
    const chain = chainNamed(network, answer.chain);
    await switchTo(w, chain);
    const client = reader(chain);
    // Simulated first: a refusal is explained before any gas is spent.
    await client.call({ account: w.address, to: answer.to, data: answer.data }).catch((error) => {
      throw new Error(`${answer.what} on '${chain.name}' refused: ${plainError(error)}`);
    });
    say("action-status", `${answer.what} on ${chain.name}: confirm in your wallet`);
    const hash = await w.client.sendTransaction({ account: w.address, chain: null, to: answer.to, data: answer.data });
    const receipt = await client.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${answer.what}: transaction ${hash} reverted on '${chain.name}'`);
    steps.append(el("li", { class: "ok" }, `✓ ${answer.what} on ${chain.name} in tx ${hash} (block ${receipt.blockNumber}), gas paid by ${w.address}`));
  }
  say("action-status", "claimed: waiting for the explorer to see it…", "ok");
  for (let i = 0; i < 60; i++) {
    const fresh = await api.transfer(transfer.message_hash).catch(() => null);
    if (fresh) {
      byId("claim-stage").textContent = fresh.stage;
      if (["delivered", "released", "refunded"].includes(fresh.stage)) {
        document.getElementById("claim")?.remove();
        say("action-status", `✓ ${fresh.stage} (destination tx ${fresh.destination_tx ?? "—"})`, "ok");
        return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
