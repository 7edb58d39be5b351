// CPU time from /proc (Linux): another process's (all its threads, user + system), and the
// share of the machine's CPU time the hypervisor gave to other guests ("steal").
import { readFile } from "node:fs/promises";

export async function cpuSeconds(pid) {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1].split(" ");
  // utime and stime are fields 14 and 15 of stat(5), counted after "pid (comm) ", in clock ticks (100/s).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Runs `run` and returns its result with the percentage of the machine's CPU time the
 * hypervisor gave to other guests meanwhile ("steal"). On a shared virtual machine, a phase
 * measured while the host took 10 % or more of the CPU runs visibly slower whatever the code does.
 */
export async function withSteal(run) {
  const before = await machineTicks();
  const value = await run();
  const after = await machineTicks();
  const total = after.total - before.total;
  return { value, stealPct: total > 0 ? (100 * (after.steal - before.steal)) / total : 0 };
}

/** The "cpu" line of /proc/stat: user nice system idle iowait irq softirq steal (guest time is inside user). */
async function machineTicks() {
  const line = (await readFile("/proc/stat", "utf8")).split("\n", 1)[0];
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: ticks.reduce((a, b) => a + b, 0), steal: ticks[7] };
}
