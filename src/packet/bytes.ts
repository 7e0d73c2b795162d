// Big-endian reads from a Uint8Array, typed `number` and bounds-checked: the
// contract of Buffer#readUInt8 / readUInt16BE / readUInt32BE (a RangeError
// past the end) for the plain Uint8Arrays that the codecs also accept, with
// no Buffer or DataView made per packet. Decoders call them only after their
// length checks, so the RangeError marks a decoder bug, never a short packet.

function outOfRange(buf: Uint8Array, i: number): RangeError {
  return new RangeError(`packet read at offset ${i} is outside a buffer of ${buf.length} bytes`);
}

/** Byte `i`. */
export function byteAt(buf: Uint8Array, i: number): number {
  const v = buf[i];
  if (v === undefined) throw outOfRange(buf, i);
  return v;
}

/** Bytes `i` and `i + 1` as a big-endian 16-bit number. */
export function uint16At(buf: Uint8Array, i: number): number {
  const hi = buf[i];
  const lo = buf[i + 1];
  if (hi === undefined || lo === undefined) throw outOfRange(buf, i);
  return (hi << 8) | lo;
}

/** Bytes `i` to `i + 3` as a big-endian unsigned 32-bit number. */
export function uint32At(buf: Uint8Array, i: number): number {
  return ((uint16At(buf, i) << 16) | uint16At(buf, i + 2)) >>> 0;
}
