// The web app's entry: wallet connection and a hash router over the three pages.
import { bridgePage } from "./bridge";
import { connectWallet, plainError } from "./chain";
import { byId, el } from "./dom";
import { explorerPage } from "./explorer";
import { registerPage } from "./register";

const pages: Record<string, (root: HTMLElement) => Promise<void>> = {
  "#/bridge": bridgePage,
  "#/register": registerPage,
  "#/explorer": explorerPage,
};

async function show(): Promise<void> {
  const root = byId("page");
  const page = pages[location.hash] ?? bridgePage;
  try {
    await page(root);
  } catch (error) {
    root.replaceChildren(el("p", { class: "error", id: "page-error" }, plainError(error)));
  }
}

byId("connect").addEventListener("click", async () => {
  try {
    const w = await connectWallet();
    byId("account").textContent = w.address;
    document.dispatchEvent(new Event("wallet-connected"));
  } catch (error) {
    byId("account").textContent = plainError(error);
  }
});
window.addEventListener("hashchange", () => void show());
void show();
