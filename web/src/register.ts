// Register New Bridge: the Hot Cross form (see docs/webapp.md for what it drives).
import { el } from "./dom";

export async function registerPage(root: HTMLElement): Promise<void> {
  root.replaceChildren(el("h1", {}, "Register New Bridge"));
}
