// Shared helpers of the store tests: temp directories and fast deterministic test data.
import { createCipheriv, createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** A fresh directory under the OS temp dir; `cleanup()` removes it. */
export function tempDir(label: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), `wormhole-store-${label}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `body` with a fresh temp directory and removes it afterwards, pass or fail. */
export async function withTempDir<T>(label: string, body: (dir: string) => Promise<T>): Promise<T> {
  const { dir, cleanup } = tempDir(label);
  try {
    return await body(dir);
  } finally {
    cleanup();
  }
}

/**
 * `size` pseudo-random bytes fully determined by `seed` (AES-256-CTR keystream: ~1 GB/s, so
 * 64 MiB costs tens of milliseconds and every run sees the same data).
 */
export function pseudoRandom(size: number, seed: string | number): Buffer {
  const key = createHash("sha256").update(`wormhole-test-${seed}`).digest();
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  return cipher.update(Buffer.alloc(size));
}

export function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Splits `data` into pieces of irregular sizes, like a network or pipe stream would. */
export async function* irregularPieces(data: Buffer, seed = 1): AsyncGenerator<Buffer> {
  let x = seed >>> 0 || 1;
  for (let pos = 0; pos < data.length; ) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const n = 1 + ((x >>> 0) % (3 * 65536));
    yield data.subarray(pos, pos + n);
    pos += n;
  }
}
