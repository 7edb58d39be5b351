// Every live version of the namespace with what replication needs to know about it, kept
// up to date from the namespace's change events. Building the list costs a path lookup per
// file (10,000 files: tens of milliseconds), and replication, health and the status route
// ask for it many times a second; a create or write changes one file. So the index is
// built once and then refreshed per changed inode, and the replicator is told which
// versions changed instead of re-planning everything (a sweep per create made a tree put
// of 10,000 files crawl at 24 files/s).
import type { LiveVersion, Namespace } from "../crdt/index.js";
import { type LiveVersionRef, mergeRefs } from "./replication-plan.js";

export interface LiveVersionRules {
  /** Redundancy wanted for a path (undefined: a file no longer reachable by path). */
  redundancyOf(path: string | undefined): number;
  /** Whether this pod keeps a local copy of the path whatever the placement. */
  keepsLocally(path: string): boolean;
}

export class LiveVersions {
  /** inode → references of the versions it keeps alive; undefined until first needed. */
  private byInode: Map<string, LiveVersionRef[]> | undefined;
  /** version → the inodes using it (the same content under several names). */
  private readonly byVersion = new Map<string, Set<string>>();
  private list: LiveVersionRef[] | undefined;

  constructor(
    private readonly namespace: Namespace,
    private readonly rules: LiveVersionRules,
    /** The empty file's version: every store has it, nothing to replicate. */
    private readonly emptyVersion: string,
  ) {}

  /** Forget everything: call when rules, pins or keep globs change. */
  invalidate(): void {
    this.byInode = undefined;
    this.byVersion.clear();
    this.list = undefined;
  }

  /** One reference per live (inode, version) pair. */
  refs(): readonly LiveVersionRef[] {
    this.list ??= [...this.index().values()].flat();
    return this.list;
  }

  /** The reference of one version, merged over the inodes using it; undefined when none does. */
  refOf(version: string): LiveVersionRef | undefined {
    const byInode = this.index();
    let merged: LiveVersionRef | undefined;
    for (const inode of this.byVersion.get(version) ?? []) {
      for (const ref of byInode.get(inode) ?? []) if (ref.version === version) merged = merged ? mergeRefs(merged, ref) : ref;
    }
    return merged;
  }

  /**
   * The namespace changed `inodes`: refreshes them and returns the versions whose
   * references changed (only those need re-planning). Undefined when a directory with
   * entries changed: the paths of everything under it, and with them the rules that apply,
   * may have changed, so the index is rebuilt and everything must be re-planned. An empty
   * directory (every mkdir) has nothing under it: a rebuild per mkdir made `cp -r` of a tree
   * cost a walk of the whole namespace per directory (~40 ms of CPU each at 40,000 files).
   */
  update(inodes: ReadonlySet<string>): string[] | undefined {
    const byInode = this.byInode;
    if (!byInode) return undefined;
    const changed = new Set<string>();
    for (const inode of inodes) {
      if (this.namespace.isDirectory(inode)) {
        if (this.namespace.childCount(inode) === 0) continue;
        this.invalidate();
        return undefined;
      }
      for (const ref of byInode.get(inode) ?? []) {
        changed.add(ref.version);
        this.unlink(ref.version, inode);
      }
      const refs = this.refsOf(inode, this.namespace.liveVersionsOf(inode));
      if (refs.length > 0) byInode.set(inode, refs);
      else byInode.delete(inode);
      for (const ref of refs) {
        changed.add(ref.version);
        this.link(ref.version, inode);
      }
    }
    if (changed.size > 0) this.list = undefined;
    return [...changed];
  }

  private index(): Map<string, LiveVersionRef[]> {
    if (this.byInode) return this.byInode;
    const versionsOf = new Map<string, LiveVersion[]>();
    for (const live of this.namespace.liveVersions()) {
      const versions = versionsOf.get(live.inode);
      if (versions) versions.push(live);
      else versionsOf.set(live.inode, [live]);
    }
    const byInode = new Map<string, LiveVersionRef[]>();
    for (const [inode, versions] of versionsOf) {
      const refs = this.refsOf(inode, versions);
      if (refs.length === 0) continue;
      byInode.set(inode, refs);
      for (const ref of refs) this.link(ref.version, inode);
    }
    this.byInode = byInode;
    return byInode;
  }

  private refsOf(inode: string, versions: readonly LiveVersion[]): LiveVersionRef[] {
    const live = versions.filter((v) => v.version !== this.emptyVersion);
    if (live.length === 0) return [];
    const entry = this.namespace.stat(inode);
    const path = entry?.path;
    const redundancy = this.rules.redundancyOf(path);
    const keepHere = path !== undefined && this.rules.keepsLocally(path);
    const modifiedMs = entry?.attr.mtimeMs ?? 0;
    return live.map(({ version, size }) => ({ inode, version, size, redundancy, keepHere, modifiedMs }));
  }

  private link(version: string, inode: string): void {
    let inodes = this.byVersion.get(version);
    if (!inodes) this.byVersion.set(version, (inodes = new Set()));
    inodes.add(inode);
  }

  private unlink(version: string, inode: string): void {
    const inodes = this.byVersion.get(version);
    inodes?.delete(inode);
    if (inodes?.size === 0) this.byVersion.delete(version);
  }
}
