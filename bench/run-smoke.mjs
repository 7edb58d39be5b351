// Runs every benchmark in its small smoke mode (CI): proves they still run, measures nothing.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";

const here = new URL(".", import.meta.url).pathname;
// Benchmarks are the .mjs files of this folder; bench/lib holds their shared helpers.
const benches = readdirSync(here).filter((f) => f.endsWith(".mjs") && f !== "run-smoke.mjs").sort();
let failed = 0;
for (const bench of benches) {
  const started = Date.now();
  const run = spawnSync(process.execPath, [here + bench, "--smoke"], { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  const lastLine = run.stdout.trim().split("\n").pop() ?? "";
  let jsonOk = true;
  try {
    JSON.parse(lastLine);
  } catch {
    jsonOk = false;
  }
  const ok = run.status === 0 && jsonOk;
  if (!ok) failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${bench} (${Date.now() - started} ms)${ok ? "" : ` exit=${run.status} last line: ${lastLine}`}`);
}
console.log(`bench smoke: ${benches.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
