// A copy of bytes in memory of their own (not a view into a larger buffer, nor a slice of
// Buffer's shared 8 KiB pool): what may be moved to a worker thread, or kept without holding
// a larger buffer alive.
export function ownedCopy(data: Uint8Array): Buffer {
  const copy = Buffer.allocUnsafeSlow(data.byteLength);
  copy.set(data);
  return copy;
}
