// The REST API of `zerobridge api` (docs/api.md), same origin as the web app.

export interface ChainEntry {
  name: string;
  chain_id: number;
  rpc_url: string;
  bridge: `0x${string}`;
  route_registry: `0x${string}`;
  stake_manager: `0x${string}`;
}

export interface RouteEnd {
  chain: string;
  chain_id: number;
  token: `0x${string}`;
}

export interface RouteSummary {
  route_id: `0x${string}`;
  symbol: string;
  status: string;
  decimals: number;
  home: RouteEnd;
  remote: RouteEnd;
}

export interface Direction {
  from: string;
  to: string;
  lane: `0x${string}`;
  capacity: string;
  capacity_left: string;
  refill_per_second: string;
  full_at: number;
  max_transfer: string;
  hold_threshold: string;
  fee_bps: number;
  paused: boolean;
}

export interface RouteDetail extends RouteSummary {
  directions: Direction[];
  economic_security: { stake: string; required: string };
}

export interface Transfer {
  message_hash: `0x${string}`;
  route_id: `0x${string}`;
  lane: `0x${string}`;
  sequence: number;
  from_chain: string;
  to_chain: string;
  sender: `0x${string}`;
  recipient: `0x${string}`;
  amount: string;
  stage: string;
  signatures: { have: number; need: number } | null;
  source_tx: `0x${string}`;
  destination_tx: `0x${string}` | null;
  sent_at: number;
  updated_at: number;
  claimable: boolean;
  cancellable: boolean;
}

/// `GET /v1/transfers/{hash}/claim`: the next claim transaction, prepared (signatures gathered and
/// checked) but not sent.
export interface ClaimAnswer {
  status: "ready" | "nothing_to_claim";
  kind?: "delivery" | "refund";
  chain?: string;
  chain_id?: number;
  to?: `0x${string}`;
  data?: `0x${string}`;
  what?: string;
  notes: string[];
}

/// Thrown with the API's own plain-words `{ "error": ... }` text.
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

async function get<T>(path: string): Promise<T> {
  const response = await fetch(path);
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const words = body && typeof body.error === "string" ? body.error : `the API answered ${response.status}`;
    throw new ApiError(words, response.status);
  }
  return body as T;
}

export const api = {
  network: () => get<{ chains: ChainEntry[] }>("/v1/network"),
  routes: () => get<{ routes: RouteSummary[] }>("/v1/routes"),
  route: (id: string) => get<RouteDetail>(`/v1/routes/${id}`),
  transfers: (query: { address?: string; tx?: string }) => {
    const params = new URLSearchParams();
    if (query.address) params.set("address", query.address);
    if (query.tx) params.set("tx", query.tx);
    return get<{ transfers: Transfer[]; next_cursor: string | null }>(`/v1/transfers?${params}`);
  },
  transfer: (hash: string) => get<Transfer>(`/v1/transfers/${hash}`),
  claim: (hash: string) => get<ClaimAnswer>(`/v1/transfers/${hash}/claim`),
  validatorConfig: async (routeId: string): Promise<string> => {
    const response = await fetch(`/v1/routes/${routeId}/validator-config`);
    if (!response.ok) throw new ApiError(`the API answered ${response.status}`, response.status);
    return response.text();
  },
};
