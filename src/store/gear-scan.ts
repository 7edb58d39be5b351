// The FastCDC gear-hash loop, in WebAssembly.
//
// Why: the loop `h = (h << 1) + GEAR[byte]; if ((h & mask) == 0) cut` is the hot path of every
// write. As JavaScript, V8 runs it at 450–800 MB/s per core (bounds checks on both typed arrays,
// one loop test per byte); the same loop as WebAssembly, unrolled four times, runs at
// 1.8–2.4 GB/s on the same core (measured, docs/storage.md), so chunking stops being what limits
// a durable write. Copying a 16 MiB block into the module's memory first costs ~2 ms.
//
// The module is a few dozen bytes, assembled here rather than shipped as a binary so that the
// next reader can see exactly what it does. In text form:
//
//   (memory (export "mem") 1)              ;; [0, 1024): the gear table, [1024, …): the input
//   (global $h (export "h") (mut i32) (i32.const 0))
//   (func (export "scan") (param $i i32) (param $to i32) (param $mask i32) (param $h i32) (result i32)
//     (block (loop                         ;; four bytes per turn while they fit
//       (br_if 1 (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $to)))
//       STEP(0) STEP(1) STEP(2) STEP(3)
//       (local.set $i (i32.add (local.get $i) (i32.const 4)))
//       (br 0)))
//     (block (loop                         ;; then the rest one byte at a time
//       (br_if 1 (i32.ge_u (local.get $i) (local.get $to)))
//       STEP(0)
//       (local.set $i (i32.add (local.get $i) (i32.const 1)))
//       (br 0)))
//     (global.set $h (local.get $h))
//     (i32.const -1))
//   STEP(k) = (local.tee $h (i32.add (i32.shl (local.get $h) (i32.const 1))
//                                    (i32.load (i32.shl (i32.load8_u offset=1024+k (local.get $i)) (i32.const 2)))))
//             (if (i32.eqz (i32.and (local.get $h) (local.get $mask)))
//               (then (return (i32.add (local.get $i) (i32.const k+1)))))

/** Where the input starts in the module's memory; the gear table (256 × i32) sits below it. */
const INPUT_BASE = 1024;
const PAGE_BYTES = 65536;
const UNROLL = 4;

// Node runs WebAssembly, but TypeScript types it only in the DOM libraries, which a Node project
// does not load: declare the little we use.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: object };
};

interface GearExports {
  mem: { buffer: ArrayBuffer; grow(pages: number): number };
  h: { value: number };
  scan(from: number, to: number, mask: number, h: number): number;
}

/**
 * Rolls a gear hash over input loaded into WebAssembly memory. One per thread (each worker of
 * the HashPool has its own): `load` then any number of `scan`s over that input.
 */
export class GearScanner {
  private readonly exports: GearExports;
  private bytes: Uint8Array;

  constructor(gear: Int32Array) {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(assembleGearModule()));
    this.exports = instance.exports as unknown as GearExports;
    this.bytes = new Uint8Array(this.exports.mem.buffer);
    new Int32Array(this.exports.mem.buffer, 0, 256).set(gear);
  }

  /** Copies `data` in; later scans index into it (0 = data[0]). */
  load(data: Uint8Array): void {
    const needed = INPUT_BASE + data.length;
    if (needed > this.bytes.length) {
      this.exports.mem.grow(Math.ceil((needed - this.bytes.length) / PAGE_BYTES));
      this.bytes = new Uint8Array(this.exports.mem.buffer); // growing detaches the old view
    }
    this.bytes.set(data, INPUT_BASE);
  }

  /**
   * Rolls the hash over loaded[from, to) starting from state `h`; returns the index just past the
   * first position where (hash & mask) === 0, or -1 (then `lastHash` holds the final state).
   */
  scan(from: number, to: number, mask: number, h: number): number {
    return this.exports.scan(from, to, mask, h);
  }

  get lastHash(): number {
    return this.exports.h.value;
  }
}

// --- the assembler: just enough WebAssembly binary format for the module above ---

const I32 = 0x7f;
const op = {
  block: 0x02, loop: 0x03, if: 0x04, end: 0x0b, br: 0x0c, brIf: 0x0d, return: 0x0f,
  localGet: 0x20, localSet: 0x21, localTee: 0x22, globalSet: 0x24,
  i32Load: 0x28, i32Load8u: 0x2d, i32Const: 0x41, i32Eqz: 0x45, i32GtU: 0x4b, i32GeU: 0x4f,
  i32Add: 0x6a, i32And: 0x71, i32Shl: 0x74,
} as const;
const EMPTY_BLOCK_TYPE = 0x40;
const [I, TO, MASK, H] = [0, 1, 2, 3];

function unsignedLeb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function signedLeb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

const name = (s: string): number[] => [...unsignedLeb(s.length), ...Buffer.from(s, "ascii")];
const section = (id: number, content: number[]): number[] => [id, ...unsignedLeb(content.length), ...content];

/** One byte of the loop: roll input[i + k] into h, return i + k + 1 on a cut. */
function step(k: number): number[] {
  return [
    op.localGet, H, op.i32Const, 1, op.i32Shl,
    op.localGet, I, op.i32Load8u, 0, ...unsignedLeb(INPUT_BASE + k), // align 0, offset
    op.i32Const, 2, op.i32Shl, op.i32Load, 2, 0, // gear[byte], align 4, offset 0
    op.i32Add, op.localTee, H,
    op.localGet, MASK, op.i32And, op.i32Eqz,
    op.if, EMPTY_BLOCK_TYPE, op.localGet, I, op.i32Const, ...signedLeb(k + 1), op.i32Add, op.return, op.end,
  ];
}

/** `while (i + n <= to) { step(0..n-1); i += n }` for n = UNROLL, then one byte at a time. */
function loopBody(n: number, exitWhen: number[]): number[] {
  const steps: number[] = [];
  for (let k = 0; k < n; k++) steps.push(...step(k));
  return [
    op.block, EMPTY_BLOCK_TYPE, op.loop, EMPTY_BLOCK_TYPE,
    ...exitWhen, op.brIf, 1,
    ...steps,
    op.localGet, I, op.i32Const, ...signedLeb(n), op.i32Add, op.localSet, I,
    op.br, 0, op.end, op.end,
  ];
}

function assembleGearModule(): Uint8Array {
  const body = [
    0, // no locals beyond the parameters
    ...loopBody(UNROLL, [op.localGet, I, op.i32Const, ...signedLeb(UNROLL), op.i32Add, op.localGet, TO, op.i32GtU]),
    ...loopBody(1, [op.localGet, I, op.localGet, TO, op.i32GeU]),
    op.localGet, H, op.globalSet, 0,
    op.i32Const, ...signedLeb(-1),
    op.end,
  ];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, // "\0asm", version 1
    ...section(1, [1, 0x60, 4, I32, I32, I32, I32, 1, I32]), // type: (i32 i32 i32 i32) -> i32
    ...section(3, [1, 0]), // one function of type 0
    ...section(5, [1, 0, 1]), // one memory, at least one page, no maximum
    ...section(6, [1, I32, 1, op.i32Const, 0, op.end]), // mutable i32 global = 0
    ...section(7, [3, ...name("scan"), 0, 0, ...name("mem"), 2, 0, ...name("h"), 3, 0]),
    ...section(10, [1, ...unsignedLeb(body.length), ...body]),
  ]);
}
