// Packet codecs: pure functions over bytes, no I/O.
export * from './address.js';
export * from './checksum.js';
export * from './ip.js';
export * from './transport.js';
export * from './icmp.js';
