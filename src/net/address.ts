/** "host:port" addresses as used in config, invites and presence ("[::1]:7000" for IPv6). */

export interface HostPort {
  host: string;
  port: number;
}

export function parseAddress(address: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:/[\]]+)):(\d{1,5})$/.exec(address.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`"${address}" is not a host:port address (e.g. 192.168.1.10:7000 or [::1]:7000)`);
  return { host: m[1] ?? m[2]!, port };
}

export function formatAddress({ host, port }: HostPort): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The WebSocket path every pod listens on; the version lets a future protocol coexist. */
export const WS_PATH = "/wormhole/v1";

export function wsUrl(address: string): string {
  return `ws://${formatAddress(parseAddress(address))}${WS_PATH}`;
}
