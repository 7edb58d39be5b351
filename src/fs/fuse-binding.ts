// fuse-native with one bug worked around. Its utimens passes atime twice (fuse-native.c
// builds both JS arguments from l->atime), so mtime never reaches JS. The native side does
// store mtime in its per-thread locals struct, which JS allocated and receives as the first
// handler argument; we read it from there. The offset is checked against the atime the
// binding did pass, so a different layout degrades to "mtime = atime" with a warning, never
// to a wrong value.
import Fuse from "fuse-native";

const OP_UTIMENS = 12; // fuse-native.c: op_utimens
/** x86-64 / arm64 layout of fuse_thread_locals_t: ...uid_t uid; gid_t gid; size_t atime; size_t mtime. */
const ATIME_OFFSET = 104;
const MTIME_OFFSET = 112;

export type UtimensHandler = (path: string, atimeMs: number, mtimeMs: number, cb: (code: number) => void) => void;

export class WormholeFuse extends Fuse {
  private lastLocals: Buffer | undefined;
  private layoutWarned = false;

  constructor(
    mnt: string,
    ops: object,
    opts: ConstructorParameters<typeof Fuse>[2],
    private readonly onUtimens: UtimensHandler,
    private readonly warn: (message: string) => void,
  ) {
    super(mnt, ops, opts);
  }

  protected override _makeHandlerArray(): ReturnType<Fuse["_makeHandlerArray"]> {
    const handlers = super._makeHandlerArray();
    const original = handlers[OP_UTIMENS];
    if (original) {
      // The handler runs _op_utimens synchronously, so the locals captured here are the call's own.
      handlers[OP_UTIMENS] = (locals, opCode, ...args) => {
        this.lastLocals = locals;
        original(locals, opCode, ...args);
      };
    }
    return handlers;
  }

  // Called by fuse-native's handler with the signal function first.
  _op_utimens(signal: (code: number) => void, path: string, atimeLow: number, atimeHigh: number): void {
    const atime = atimeLow + atimeHigh * 2 ** 32;
    this.onUtimens(path, atime, this.mtimeFromLocals(atime), signal);
  }

  private mtimeFromLocals(atime: number): number {
    const locals = this.lastLocals;
    this.lastLocals = undefined;
    if (locals && locals.length >= MTIME_OFFSET + 8 && Number(locals.readBigUInt64LE(ATIME_OFFSET)) === atime) {
      return Number(locals.readBigUInt64LE(MTIME_OFFSET));
    }
    if (!this.layoutWarned) {
      this.layoutWarned = true;
      this.warn("fuse-native's thread-locals layout is not the expected one: utimens sets mtime = atime on this platform");
    }
    return atime;
  }
}
