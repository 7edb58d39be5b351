// LiveVersions keeps the live versions of the namespace up to date per changed inode. The
// incremental index must always equal one built from scratch, whatever the operations
// (writes, renames of files and of directories whose path decides the rules, deletes,
// conflicting edits from another pod), and must name every version whose reference changed.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { Namespace } from "../../src/crdt/index.js";
import { LiveVersions, type LiveVersionRules } from "../../src/pod/live-versions.js";
import type { LiveVersionRef } from "../../src/pod/replication-plan.js";
import { Clock, makePod, push, version } from "../crdt/helpers.js";

const EMPTY = version("empty");
/** Paths under /r3 want 3 copies, others 2; /keep is kept locally: a directory rename changes both. */
const rules: LiveVersionRules = {
  redundancyOf: (path) => (path?.startsWith("/r3/") ? 3 : 2),
  keepsLocally: (path) => path.startsWith("/keep/"),
};

const key = (r: LiveVersionRef) => `${r.inode} ${r.version} ${r.size} ${r.redundancy} ${r.keepHere} ${r.modifiedMs}`;
const sortedRefs = (lv: LiveVersions) => lv.refs().map(key).sort();
/** version → its references, as one comparable string. */
function byVersion(lv: LiveVersions): Map<string, string> {
  const groups = new Map<string, string[]>();
  for (const r of lv.refs()) groups.set(r.version, [...(groups.get(r.version) ?? []), key(r)]);
  return new Map([...groups].map(([v, keys]) => [v, keys.sort().join("|")]));
}

const op = fc.oneof(
  fc.record({ kind: fc.constant("write" as const), file: fc.integer({ min: 0, max: 5 }), content: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ kind: fc.constant("move" as const), file: fc.integer({ min: 0, max: 5 }), dir: fc.constantFrom("/a", "/r3", "/keep", "/a/s0", "/keep/s1") }),
  fc.record({ kind: fc.constant("moveDir" as const), from: fc.constantFrom("/a", "/r3", "/keep"), to: fc.constantFrom("/a", "/r3", "/keep") }),
  fc.record({ kind: fc.constant("unlink" as const), file: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ kind: fc.constant("mkdir" as const), dir: fc.constantFrom("/a", "/r3", "/keep"), sub: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant("rmdir" as const), dir: fc.constantFrom("/a", "/r3", "/keep"), sub: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant("remoteWrite" as const), file: fc.integer({ min: 0, max: 5 }), content: fc.integer({ min: 0, max: 6 }) }),
);

const DIRS = ["/a", "/r3", "/keep", ...["/a", "/r3", "/keep"].flatMap((d) => [0, 1, 2].map((n) => `${d}/s${n}`))];

function find(ns: Namespace, file: number): string | undefined {
  for (const dir of DIRS) if (ns.lookup(`${dir}/f${file}`)) return `${dir}/f${file}`;
  return undefined;
}

test("the incrementally kept live versions equal a from-scratch build after every change", () => {
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
      const clock = new Clock();
      const local = makePod(1, clock);
      const remote = makePod(2, clock);
      for (const dir of ["/a", "/r3", "/keep"]) local.mkdir(dir);
      push(local, remote);
      const incremental = new LiveVersions(local, rules, EMPTY);
      incremental.refs(); // built once; from here on only updates
      let changed: string[] | undefined = [];
      local.onChange((inodes) => {
        const versions = incremental.update(inodes);
        changed = versions === undefined || changed === undefined ? undefined : [...changed, ...versions];
      });
      for (const step of ops) {
        clock.tick();
        const before = byVersion(incremental);
        changed = [];
        const path = "file" in step ? find(local, step.file) : undefined;
        if (step.kind === "write") {
          const content = { version: step.content === 0 ? EMPTY : version(step.content), size: step.content * 100 };
          if (path) local.write(path, content);
          else local.createFile(`/a/f${step.file}`, undefined, content);
        } else if (step.kind === "move" && path && local.lookup(step.dir) && !local.lookup(`${step.dir}/f${step.file}`)) local.rename(path, `${step.dir}/f${step.file}`);
        else if (step.kind === "moveDir" && step.from !== step.to) {
          local.rename(step.from, "/tmp-dir");
          local.rename(step.to, step.from);
          local.rename("/tmp-dir", step.to);
        } else if (step.kind === "unlink" && path) local.unlink(path);
        else if (step.kind === "mkdir" && !local.lookup(`${step.dir}/s${step.sub}`)) {
          local.mkdir(`${step.dir}/s${step.sub}`);
          assert.notEqual(changed, undefined, "a new, empty directory re-plans nothing");
        } else if (step.kind === "rmdir" && local.lookup(`${step.dir}/s${step.sub}`) && local.readdir(`${step.dir}/s${step.sub}`).length === 0) local.rmdir(`${step.dir}/s${step.sub}`);
        else if (step.kind === "remoteWrite") {
          push(local, remote);
          const there = find(remote, step.file);
          if (there) remote.write(there, { version: version(`r${step.content}`), size: 7 });
          clock.tick();
          if (there && path) local.write(path, { version: version(`l${step.content}`), size: 9 }); // concurrent: a conflict
          push(remote, local);
        }
        const fresh = new LiveVersions(local, rules, EMPTY);
        assert.deepEqual(sortedRefs(incremental), sortedRefs(fresh), `after ${JSON.stringify(step)}`);
        const after = byVersion(incremental);
        if (changed !== undefined) {
          // Every version whose references differ was named (else a full re-plan was asked for).
          for (const v of new Set([...before.keys(), ...after.keys()])) {
            if (before.get(v) !== after.get(v)) assert.ok(changed.includes(v), `version ${v.slice(0, 8)} changed but was not named after ${JSON.stringify(step)}`);
          }
        }
        for (const v of after.keys()) assert.deepEqual(incremental.refOf(v), fresh.refOf(v));
      }
    }),
    { numRuns: 150 },
  );
});
