// CPU time of another process (all its threads, user + system), from /proc (Linux).
import { readFile } from "node:fs/promises";

export async function cpuSeconds(pid) {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1].split(" ");
  // utime and stime are fields 14 and 15 of stat(5), counted after "pid (comm) ", in clock ticks (100/s).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
