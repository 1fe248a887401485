// The sync envelope of ARCHITECTURE.md ("Sync protocol (v3)"), written from that section alone:
// postcard, i.e. structs as their fields in order with no names or framing, unsigned integers as
// LEB128 varints, `bool` and `Option` tags as one byte, strings and byte strings as a varint
// length then the bytes, sequences as a varint count then the items, enums as a varint variant
// index, `[u8; 32]` as 32 bytes with no length.

export const PROTOCOL = 3;
export const CONTENT_TYPE = 'application/x-danvan-sync';
/** `FailureCode` by variant index, as the server writes it. */
export const FAILURE_CODES = ['malformed', 'too_large', 'corrupt', 'unavailable', 'forbidden'];

class Writer {
  constructor() { this.bytes = []; }
  varint(n) {
    let v = BigInt(n);
    if (v < 0n) throw new Error('unsigned only');
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) b |= 0x80;
      this.bytes.push(b);
    } while (v > 0n);
  }
  bool(b) { this.bytes.push(b ? 1 : 0); }
  bytesField(u8) { this.varint(u8.length); for (const b of u8) this.bytes.push(b); }
  string(s) { this.bytesField(new TextEncoder().encode(s)); }
  option(value, write) {
    if (value === null || value === undefined) this.bytes.push(0);
    else { this.bytes.push(1); write(value); }
  }
  seq(items, write) { this.varint(items.length); for (const item of items) write(item); }
  done() { return Uint8Array.from(this.bytes); }
}

class Reader {
  constructor(u8) { this.u8 = u8; this.at = 0; }
  byte() {
    if (this.at >= this.u8.length) throw new Error('envelope ends early');
    return this.u8[this.at++];
  }
  varint() {
    let v = 0n, shift = 0n;
    for (;;) {
      const b = this.byte();
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
      shift += 7n;
      if (shift > 70n) throw new Error('varint too long');
    }
    return v;
  }
  /** A u32 or a u64 small enough for a JS number (cursors are database row numbers). */
  number() {
    const v = this.varint();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`integer ${v} too large`);
    return Number(v);
  }
  bool() {
    const b = this.byte();
    if (b > 1) throw new Error(`bool byte ${b}`);
    return b === 1;
  }
  take(n) {
    if (this.at + n > this.u8.length) throw new Error('envelope ends early');
    const out = this.u8.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  bytesField() { return this.take(this.number()); }
  string() { return new TextDecoder('utf-8', { fatal: true }).decode(this.bytesField()); }
  option(read) { return this.bool() ? read() : null; }
  seq(read) { const n = this.number(); const out = []; for (let i = 0; i < n; i++) out.push(read()); return out; }
  end() { if (this.at !== this.u8.length) throw new Error(`${this.u8.length - this.at} bytes after the envelope`); }
}

/** `SyncRequest { protocol, server, cursor, feed_budget, scope, docs }`. */
export function encodeRequest(req) {
  const w = new Writer();
  w.varint(req.protocol ?? PROTOCOL);
  w.option(req.server, (s) => w.string(s));
  w.varint(req.cursor ?? 0);
  w.option(req.feed_budget, (n) => w.varint(n));
  w.varint(req.scope ?? 0);
  w.seq(req.docs ?? [], (d) => {
    w.string(d.id);
    w.bytesField(d.message);
    w.option(d.document, (b) => w.bytesField(b));
  });
  return w.done();
}

/** `SyncResponse { protocol, server, cursor, scope, more, remaining, rewound, docs, feed, errors }`. */
export function decodeResponse(u8) {
  const r = new Reader(u8);
  const res = {
    protocol: r.number(),
    server: r.string(),
    cursor: r.number(),
    scope: r.number(),
    more: r.bool(),
    remaining: r.number(),
    rewound: r.bool(),
    docs: r.seq(() => ({ id: r.string(), message: r.bytesField(), document: r.option(() => r.bytesField()) })),
    feed: r.seq(() => ({
      id: r.string(),
      data: r.bytesField(),
      complete: r.bool(),
      heads: r.seq(() => Buffer.from(r.take(32)).toString('hex')),
    })),
    errors: r.seq(() => {
      const id = r.string();
      const index = r.number();
      const code = FAILURE_CODES[index];
      if (!code) throw new Error(`unknown failure code ${index}`);
      return { id, code, message: r.string() };
    }),
  };
  r.end();
  return res;
}

export function hex(u8) {
  return Buffer.from(u8).toString('hex').replace(/(..)(?!$)/g, '$1 ');
}
