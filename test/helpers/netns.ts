// A network namespace joined to this one by a veth pair, for client pods that lose their
// network the way laptops do: `linkDown()` drops the root-side end of the pair, so packets
// vanish and no close reaches either side. Names carry this process's id (`whc<pid>`), the
// addresses are a private /30 in 10.213.0.0/16 that nothing else uses, and `dispose()`
// deletes everything it created (also after a failed test).
//
// A pod inside is started with `nsenter --net=/run/netns/<name>` (see `command`), not
// `ip netns exec`, which would also give it a mount namespace of its own and hide its FUSE
// mount from the test.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

let created = 0;

export class NetNamespace {
  private disposed = false;

  private constructor(
    readonly name: string,
    /** The root-side end of the veth pair. */
    readonly hostDevice: string,
    /** Address of the root-side end: full pods listen here so the namespace can reach them. */
    readonly hostAddress: string,
    /** Address inside the namespace. */
    readonly innerAddress: string,
  ) {}

  static async create(): Promise<NetNamespace> {
    const n = created++;
    const name = `whc${process.pid}-${n}`;
    const hostDevice = `whc${process.pid}h${n}`.slice(0, 15);
    const innerDevice = `whc${process.pid}i${n}`.slice(0, 15);
    const { host, inner } = await freeSubnet();
    const ns = new NetNamespace(name, hostDevice, host, inner);
    try {
      await ip("netns", "add", name);
      await ip("link", "add", hostDevice, "type", "veth", "peer", "name", innerDevice);
      await ip("link", "set", innerDevice, "netns", name);
      await ip("addr", "add", `${ns.hostAddress}/30`, "dev", hostDevice);
      await ip("link", "set", hostDevice, "up");
      await ip("-n", name, "addr", "add", `${ns.innerAddress}/30`, "dev", innerDevice);
      await ip("-n", name, "link", "set", innerDevice, "up");
      await ip("-n", name, "link", "set", "lo", "up");
    } catch (error) {
      await ns.dispose();
      throw error;
    }
    return ns;
  }

  /** The command line that runs `argv` with this namespace's network (and everything else shared). */
  command(argv: string[]): string[] {
    return ["nsenter", `--net=/run/netns/${this.name}`, ...argv];
  }

  /** The laptop loses its network: no FIN, no RST, the other side just stops hearing. */
  linkDown(): Promise<void> {
    return ip("link", "set", this.hostDevice, "down");
  }

  linkUp(): Promise<void> {
    return ip("link", "set", this.hostDevice, "up");
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    // Deleting one end of a veth pair deletes both; the namespace goes last.
    await ip("link", "del", this.hostDevice).catch(() => {});
    await ip("netns", "del", this.name).catch(() => {});
  }
}

async function ip(...args: string[]): Promise<void> {
  try {
    await run("ip", args);
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(" ")} failed: ${e.stderr?.trim() || e.message} (these tests need root and iproute2)`, { cause: error });
  }
}

/** Two addresses of a /30 in 10.213.0.0/16 that no interface of this machine uses yet. */
async function freeSubnet(): Promise<{ host: string; inner: string }> {
  const { stdout } = await run("ip", ["-4", "-o", "addr", "show"]);
  for (let attempt = 0; attempt < 256; attempt++) {
    const slot = (process.pid * 7 + created * 13 + attempt) % (250 * 64);
    const prefix = `10.213.${Math.floor(slot / 64) + 1}.`;
    const network = (slot % 64) * 4;
    const host = `${prefix}${network + 1}`;
    if (!stdout.includes(` ${host}/`)) return { host, inner: `${prefix}${network + 2}` };
  }
  throw new Error("no free /30 in 10.213.0.0/16 for a test network namespace");
}
