// Explorer: transfers by address or tx hash, a transfer's detail, claim-it-yourself and cancel.
import { isAddress, isHash } from "viem";
import { api, type Transfer } from "./api";
import { plainError } from "./chain";
import { byId, el, say } from "./dom";
import { claimYourself, cancelHeld } from "./holder";

function detail(transfer: Transfer): HTMLElement {
  const row = (label: string, value: string) => el("tr", {}, el("th", {}, label), el("td", {}, el("code", {}, value)));
  const box = el(
    "div",
    { id: "transfer-detail" },
    el("h2", {}, `Transfer ${transfer.from_chain} → ${transfer.to_chain}`),
    el(
      "table",
      {},
      row("Stage", transfer.stage),
      row("Signatures", transfer.signatures ? `${transfer.signatures.have} of ${transfer.signatures.need}` : "—"),
      row("Amount (base units)", transfer.amount),
      row("Sender", transfer.sender),
      row("Recipient", transfer.recipient),
      row("Source tx", transfer.source_tx),
      row("Destination tx", transfer.destination_tx ?? "—"),
      row("Message", transfer.message_hash),
    ),
    el("p", { id: "action-status" }),
    el("p", {}, "Stage now: ", el("code", { id: "claim-stage" }, transfer.stage)),
    el("ol", { id: "claim-steps" }),
  );
  if (transfer.claimable) {
    const button = el("button", { id: "claim" }, "Claim it yourself");
    button.addEventListener("click", () => void claimYourself(transfer).catch((e) => say("action-status", plainError(e), "error")));
    box.append(button);
  }
  if (transfer.cancellable) {
    const button = el("button", { id: "cancel" }, "Cancel");
    button.addEventListener("click", () => void cancelHeld(transfer).catch((e) => say("action-status", plainError(e), "error")));
    box.append(button);
  }
  return box;
}

async function search(): Promise<void> {
  const query = byId<HTMLInputElement>("query").value.trim();
  const results = byId("results");
  results.replaceChildren();
  // The same refusal words for both: the API would answer 400 anyway.
  const byAddress = isAddress(query, { strict: false });
  if (!byAddress && !isHash(query)) return say("search-status", `'${query}' is neither an address nor a transaction hash`, "error");
  say("search-status", "");
  try {
    const { transfers } = await api.transfers(byAddress ? { address: query } : { tx: query });
    if (!transfers.length) return say("search-status", "no transfer found");
    const table = el("table", {}, el("tr", {}, el("th", {}, "Route"), el("th", {}, "From → to"), el("th", {}, "Stage"), el("th", {}, "")));
    for (const transfer of transfers) {
      const open = el("button", {}, "Details");
      open.addEventListener("click", async () => {
        const fresh = await api.transfer(transfer.message_hash).catch(() => transfer);
        results.replaceChildren(detail(fresh));
      });
      table.append(
        el(
          "tr",
          {},
          el("td", {}, el("code", {}, transfer.route_id.slice(0, 10))),
          el("td", {}, `${transfer.from_chain} → ${transfer.to_chain}`),
          el("td", { class: "stage" }, transfer.stage),
          el("td", {}, open),
        ),
      );
    }
    results.append(table);
    if (transfers.length === 1) results.append(detail(transfers[0]));
  } catch (error) {
    say("search-status", plainError(error), "error");
  }
}

export async function explorerPage(root: HTMLElement): Promise<void> {
  const button = el("button", { id: "search" }, "Search");
  root.replaceChildren(
    el("h1", {}, "Explorer"),
    el("label", {}, "Address or tx hash ", el("input", { id: "query", placeholder: "0x…" })),
    button,
    el("p", { id: "search-status" }),
    el("div", { id: "results" }),
  );
  button.addEventListener("click", () => void search());
}
