// Tiny DOM helpers: the pages are plain TypeScript, no UI framework.

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node as T;
}

/// Shows `text` in a status line: an error in red, anything else plain.
export function say(id: string, text: string, kind: "error" | "ok" | "" = ""): void {
  const node = byId(id);
  node.textContent = text;
  node.className = kind;
}
