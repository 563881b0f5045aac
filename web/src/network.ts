// The network as the API describes it, loaded once per page view.
import { api, type ChainEntry, type RouteSummary } from "./api";

export interface Network {
  chains: ChainEntry[];
  routes: RouteSummary[];
}

export async function loadNetwork(): Promise<Network> {
  const [{ chains }, { routes }] = await Promise.all([api.network(), api.routes()]);
  return { chains, routes };
}

export function chainNamed(network: Network, name: string): ChainEntry {
  const chain = network.chains.find((c) => c.name === name);
  if (!chain) throw new Error(`the network has no chain named '${name}'`);
  return chain;
}
