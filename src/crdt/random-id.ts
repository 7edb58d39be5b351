// New inode ids: 128 random bits as hex. Drawn from a pool refilled 4 KiB at a time, so a
// burst of creates makes one getrandom call per 256 ids instead of one per id (it showed as
// ~2 % of a create through the mount).
import { randomFillSync } from "node:crypto";

const ID_BYTES = 16;
const pool = Buffer.alloc(4096);
let used = pool.length;

export function randomInodeId(): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const id = pool.toString("hex", used, used + ID_BYTES);
  used += ID_BYTES;
  return id;
}
