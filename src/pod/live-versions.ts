// Every live version of the namespace with what replication needs to know about it, kept
// until something changes it. Building the list costs a path lookup per file (10,000 files:
// tens of milliseconds), and replication, health and the status route all ask for it many
// times a second during a join; the namespace changes far less often.
import type { Namespace } from "../crdt/index.js";
import type { LiveVersionRef } from "./replication-plan.js";

export interface LiveVersionRules {
  /** Redundancy wanted for a path (undefined: a file no longer reachable by path). */
  redundancyOf(path: string | undefined): number;
  /** Whether this pod keeps a local copy of the path whatever the placement. */
  keepsLocally(path: string): boolean;
}

export class LiveVersions {
  private cached: LiveVersionRef[] | undefined;

  constructor(
    private readonly namespace: Namespace,
    private readonly rules: LiveVersionRules,
    /** The empty file's version: every store has it, nothing to replicate. */
    private readonly emptyVersion: string,
  ) {
    namespace.onChange(() => this.invalidate());
  }

  /** Forget the list: call when rules, pins or keep globs change (namespace changes are seen here). */
  invalidate(): void {
    this.cached = undefined;
  }

  refs(): readonly LiveVersionRef[] {
    this.cached ??= this.build();
    return this.cached;
  }

  private build(): LiveVersionRef[] {
    const refs: LiveVersionRef[] = [];
    for (const { inode, version, size } of this.namespace.liveVersions()) {
      if (version === this.emptyVersion) continue;
      const entry = this.namespace.stat(inode);
      const path = entry?.path;
      refs.push({
        inode,
        version,
        size,
        redundancy: this.rules.redundancyOf(path),
        keepHere: path !== undefined && this.rules.keepsLocally(path),
        modifiedMs: entry?.attr.mtimeMs ?? 0,
      });
    }
    return refs;
  }
}
