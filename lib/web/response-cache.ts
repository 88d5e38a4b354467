/**
 * Whole responses remembered by everything that made their bytes, so a
 * resource that answers the same way again (a hello, a health check, a
 * small fixed page) is answered with the same Buffer: no head text built,
 * no string flattened, no Buffer allocated or filled per response.
 *
 * A response's bytes follow from its status code and phrase, the header
 * fields set with setHeader (names lower-cased, values, in order), the Date
 * line of the second, the framing the request asks for (persistent or not,
 * HTTP/1.0 or 1.1) and the body. An entry keeps each of them and its
 * bytes; a lookup compares them (the strings an application passes are
 * mostly constants, which compare by identity; the body bytewise, being at
 * most MAX_BODY bytes). The Date line is a new string each second, so an
 * entry goes stale with it.
 *
 * Only responses whose framing needs nothing the application set are kept
 * (no Connection or Content-Length field of its own, a status that has a
 * body, not an answer to HEAD): their head is all known up front, as request.ts's headText would
 * make it. A few entries, replaced in turn, bound the memory to a few KiB.
 * The Buffers are never written to once made: a transport may send the same
 * one any number of times (the native write path copies what the kernel
 * does not take at once).
 */

/** Bodies longer than this are not kept (comparing them would cost what joining them does). */
export const MAX_BODY = 256;
/** Heads longer than this are not kept. */
const MAX_HEAD = 1024;
/** Entries kept. */
const SLOTS = 4;

/** The framing bits of a response's key. */
export const enum Framing {
  Persistent = 1,
  Http10 = 2,
}

/** What made one response's bytes, and the bytes. */
interface Entry {
  code: number;
  message: string;
  /** setHeader's fields: lower-cased name, value, ... (a copy). */
  fields: string[] | null;
  date: string;
  framing: number;
  /** The body as the application returned a string, or null for a Buffer body (compared in `bytes`). */
  text: string | null;
  /** Where the body starts in `bytes`, and its length. */
  bodyAt: number;
  bodyLength: number;
  /** The whole response: head and body. */
  bytes: Buffer;
}

const entries: Entry[] = [];
/** The slot the next entry replaces. */
let nextSlot = 0;
/** The entry found last (looked at first). */
let last: Entry | null = null;

function sameFields(a: string[] | null, b: string[] | null): boolean {
  if (a === b) return true;
  if (a === null || b === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameBody(e: Entry, body: Buffer | string): boolean {
  if (typeof body === 'string') return body === e.text;
  if (e.text !== null || body.length !== e.bodyLength) return false;
  const b = e.bytes;
  const at = e.bodyAt;
  for (let i = 0; i < body.length; i++) if (body[i] !== b[at + i]) return false;
  return true;
}

/** The bytes remembered for this response, or null. */
export function cachedResponse(
  code: number,
  message: string,
  fields: string[] | null,
  date: string,
  framing: number,
  body: Buffer | string,
): Buffer | null {
  if (last !== null && matches(last, code, message, fields, date, framing, body)) return last.bytes;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e !== last && matches(e, code, message, fields, date, framing, body)) {
      last = e;
      return e.bytes;
    }
  }
  return null;
}

function matches(e: Entry, code: number, message: string, fields: string[] | null, date: string, framing: number, body: Buffer | string): boolean {
  return e.code === code && e.date === date && e.framing === framing && e.message === message && sameFields(e.fields, fields) && sameBody(e, body);
}

/** Whether a response with these fields and this body may be kept (see the file's note). */
export function cacheable(fields: string[] | null, body: Buffer | string): boolean {
  if (body.length > MAX_BODY) return false;
  if (fields === null) return true;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === 'connection' || fields[i] === 'content-length') return false;
  }
  return true;
}

/** Remembers the response `head` (latin1 text) + `body` (bytes, and the string it came from or null); returns its bytes. */
export function rememberResponse(
  code: number,
  message: string,
  fields: string[] | null,
  date: string,
  framing: number,
  head: string,
  body: Buffer | null,
  text: string | null,
): Buffer {
  const bodyLength = body === null ? 0 : body.length;
  // An exact allocation, not a slice of Node's shared pool (which an entry would keep alive).
  const bytes = Buffer.allocUnsafeSlow(head.length + bodyLength);
  bytes.write(head, 0, 'latin1');
  if (body !== null) bytes.set(body, head.length);
  if (head.length > MAX_HEAD) return bytes;
  const entry: Entry = {
    code, message, fields: fields === null ? null : fields.slice(), date, framing, text, bodyAt: head.length, bodyLength, bytes,
  };
  entries[nextSlot] = entry;
  last = entry;
  nextSlot = (nextSlot + 1) % SLOTS;
  return bytes;
}
