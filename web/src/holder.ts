// A holder's own actions on a transfer from the browser: cancel a held transfer, claim a stuck one.
import { parseAbi } from "viem";
import type { Transfer } from "./api";
import { connectWallet, reader, transact, wallet } from "./chain";
import { say } from "./dom";
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

/// Self-claim needs the validators' signatures gathered over HTTP (crates/ops/src/claim); the
/// browser hands the holder the CLI command that does it, with the transaction to claim.
export async function claimYourself(transfer: Transfer): Promise<void> {
  say(
    "action-status",
    `this transfer is stuck: claim it yourself with \`zerobridge claim ${transfer.source_tx}\` (you pay the gas on ${transfer.to_chain})`,
    "ok",
  );
}
