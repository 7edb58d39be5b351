// Optional Prometheus endpoint: GET /metrics on a TCP host:port, text exposition format.
// Separate from the admin socket because it is meant to be scraped from other machines
// and exposes counters only, never control.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { UserError } from "./user-error.js";

export interface MetricSample {
  name: string;
  help: string;
  type: "counter" | "gauge";
  value: number;
  labels?: Record<string, string>;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/** Prometheus text format (version 0.0.4); samples of one name are grouped under one HELP/TYPE. */
export function formatMetrics(samples: readonly MetricSample[]): string {
  const byName = new Map<string, MetricSample[]>();
  for (const sample of samples) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(sample.name)) throw new RangeError(`invalid metric name "${sample.name}"`);
    byName.set(sample.name, [...(byName.get(sample.name) ?? []), sample]);
  }
  const lines: string[] = [];
  for (const [name, group] of byName) {
    lines.push(`# HELP ${name} ${group[0].help.replace(/\n/g, " ")}`, `# TYPE ${name} ${group[0].type}`);
    for (const sample of group) {
      const labels = Object.entries(sample.labels ?? {}).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
      lines.push(`${name}${labels.length ? `{${labels.join(",")}}` : ""} ${sample.value}`);
    }
  }
  return lines.join("\n") + "\n";
}

/** "host:port", "[v6]:port" or ":port" (all interfaces). */
export function parseHostPort(listen: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new UserError(`metrics address "${listen}" is not host:port`, 'write it like "127.0.0.1:9464", "[::1]:9464" or ":9464"');
  }
  return { host: match[1] ?? (match[2] || "0.0.0.0"), port };
}

export class MetricsServer {
  private constructor(
    private readonly server: http.Server,
    readonly address: AddressInfo,
  ) {}

  static async start(listen: string, metrics: () => string | Promise<string>, log: (line: string) => void = (line) => console.error(line)): Promise<MetricsServer> {
    const { host, port } = parseHostPort(listen);
    const server = http.createServer((req, res) => {
      if (req.method !== "GET" || new URL(req.url ?? "/", "http://metrics").pathname !== "/metrics") {
        res.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics is served here\n");
        return;
      }
      Promise.resolve()
        .then(metrics)
        .then(
          (text) => res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(text),
          (err: unknown) => {
            log(`metrics: collecting failed: ${err instanceof Error ? err.message : String(err)}`);
            res.writeHead(500, { "content-type": "text/plain" }).end("collecting metrics failed; see the pod's log\n");
          },
        );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) =>
        reject(err.code === "EADDRINUSE" || err.code === "EACCES" ? new UserError(`cannot listen for metrics on ${listen}: ${err.code}`, "choose another metrics address in pod.toml") : err),
      );
      server.listen(port, host, () => resolve());
    });
    server.on("error", (err) => log(`metrics: server error: ${err.message}`));
    return new MetricsServer(server, server.address() as AddressInfo);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
