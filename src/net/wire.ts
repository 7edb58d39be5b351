/**
 * Bounded binary reading and writing for our own wire messages. The reader never reads past
 * its buffer and never allocates more than the bytes it was given: every length is checked
 * against what remains before it is used, so a hostile length prefix cannot make us allocate
 * or loop. All failures are ProtocolError.
 */
import { ProtocolError, expectProtocol } from "./errors.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

export class WireReader {
  private offset = 0;

  constructor(private readonly buf: Buffer, private readonly what: string) {}

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  private need(n: number, field: string): void {
    expectProtocol(n <= this.remaining, `${this.what}: truncated ${field} (need ${n} bytes, have ${this.remaining})`);
  }

  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.offset++]!;
  }

  u16(field: string): number {
    this.need(2, field);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  /** Exactly `n` bytes, as a view (no copy). */
  bytes(n: number, field: string): Buffer {
    this.need(n, field);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  /** A UTF-8 string behind a one- or two-byte length prefix, at most `max` bytes. */
  string(field: string, max: number, prefix: 1 | 2 = 1): string {
    const len = prefix === 1 ? this.u8(field) : this.u16(field);
    expectProtocol(len <= max, `${this.what}: ${field} is ${len} bytes, limit ${max}`);
    const raw = this.bytes(len, field);
    try {
      return utf8.decode(raw);
    } catch {
      throw new ProtocolError(`${this.what}: ${field} is not valid UTF-8`);
    }
  }

  /** Everything left (a view). */
  rest(): Buffer {
    const v = this.buf.subarray(this.offset);
    this.offset = this.buf.length;
    return v;
  }

  /** Decoders call this last: trailing garbage is as malformed as a truncation. */
  end(): void {
    expectProtocol(this.remaining === 0, `${this.what}: ${this.remaining} unexpected trailing bytes`);
  }
}

/** Builds a message from parts; strings are length-prefixed and checked against their limit. */
export class WireWriter {
  private readonly parts: Buffer[] = [];

  u8(v: number): this {
    this.parts.push(Buffer.from([v]));
    return this;
  }

  u32(v: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(v);
    this.parts.push(b);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.parts.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    return this;
  }

  string(s: string, max: number, prefix: 1 | 2 = 1): this {
    const b = Buffer.from(s, "utf8");
    if (b.length > max) throw new RangeError(`string of ${b.length} bytes exceeds the wire limit of ${max}`);
    if (prefix === 1) this.u8(b.length);
    else {
      const len = Buffer.allocUnsafe(2);
      len.writeUInt16BE(b.length);
      this.parts.push(len);
    }
    this.parts.push(b);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Cuts `s` to at most `maxBytes` of UTF-8 without splitting a character (for reasons sent to peers). */
export function clipUtf8(s: string, maxBytes: number): string {
  const b = Buffer.from(s, "utf8");
  if (b.length <= maxBytes) return s;
  let end = maxBytes;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--; // step back off a continuation byte
  return b.subarray(0, end).toString("utf8");
}
