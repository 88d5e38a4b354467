/**
 * File: a file or a directory tree served over HTTP, as
 * twisted.web.static.File. A directory's children are the entries in it
 * (its index.html, else a listing, at its own path); a file is sent with
 * its Content-Type (from its extension), Last-Modified and a validator
 * (ETag), answers a single byte range with 206 (416 when it cannot be
 * satisfied) and a conditional request with 304.
 *
 * Nothing outside the root is ever served: a path segment is taken only
 * if, after %-decoding, it is a plain name (no "..", ".", "/", "\" or
 * NUL: "%2e%2e" and "..%2f" are refused as ".." is), and a child's real
 * path (symlinks resolved) must still lie under the root's real path, so a
 * link pointing out of the tree is a 404 like a missing file.
 *
 * Files are read with blocking calls, as Twisted reads them. One of up
 * to 64 KiB (or a range that short) is read whole and sent as one answer.
 * A larger one is streamed by a FileProducer (file-producer.ts), a chunk
 * at a time as the client reads: a response in flight holds about the
 * kernel's send buffer and the transport's high-water mark, not the file,
 * and a client that stops reading stops the reading of the file, and is
 * closed on after the Site's `timeout` (then `abortTimeout`). As in
 * Twisted, a client that shuts its side of the connection after its
 * request (an EOF) gets what was sent by then, not the rest of a large
 * file: the connection takes no more writes from that point.
 */
import * as fs from 'fs';
import * as path from 'path';
import { httpDate } from './date';
import type { Request } from './request';
import { NoResource, NOT_DONE_YET, RenderResult, Resource } from './resource';
import { contentTypeOf } from './content-types';
import { byteRange } from './range';
import { FileProducer } from './file-producer';

/** A file (or range) up to this long is read whole into one answer; a longer one is streamed. */
const READ_WHOLE_UP_TO = 64 * 1024;

/** Options of a File. */
export interface FileOptions {
  /** The type of a file whose extension is not known (default "application/octet-stream"). */
  defaultType?: string;
  /** Extra or overriding types by extension, e.g. { ".md": "text/markdown" }. */
  contentTypes?: Readonly<Record<string, string>>;
  /** The file served for a directory's own path, when present (default "index.html"; null: always list). */
  indexName?: string | null;
}

/** A file, or a directory tree, served from disk. */
export class File extends Resource {
  /** The path on disk. */
  readonly path: string;
  /** The real path (symlinks resolved) of the tree's root: nothing outside it is served. */
  private root: string;
  private readonly opts: Required<FileOptions>;

  /** Serves `filePath` (a file or a directory); TypeError when it is not a string. */
  constructor(filePath: string, opts: FileOptions = {}) {
    super();
    if (typeof filePath !== 'string' || filePath === '') throw new TypeError('File: path must be a non-empty string');
    if (opts === null || typeof opts !== 'object') throw new TypeError('File: options must be an object');
    this.path = path.resolve(filePath);
    this.root = realOrSelf(this.path);
    this.opts = { defaultType: 'application/octet-stream', contentTypes: {}, indexName: 'index.html', ...opts };
  }

  /**
   * The entry `name` of this directory ("" is the directory itself, as a
   * path ending in "/" asks), or NoResource (404) when it is unsafe or
   * outside the root.
   */
  override getChild(name: string, _request: Request): Resource {
    if (name === '') return this;
    if (!safeSegment(name)) return new NoResource();
    const child = path.join(this.path, name);
    if (!this.inside(child)) return new NoResource();
    return this.below(child);
  }

  /** A File for `p` under the same root. */
  private below(p: string): File {
    const f = new File(p, this.opts);
    f.root = this.root;
    return f;
  }

  /** GET (and HEAD): the file, a range of it, a 304, the directory's index or listing, or 404. */
  render_GET(request: Request): RenderResult {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.path);
    } catch {
      return new NoResource().render(request);
    }
    if (!this.inside(this.path)) return new NoResource().render(request);
    if (st.isDirectory()) return this.renderDirectory(request);
    // A segment left over below a file (/file.txt/more) names nothing.
    if (!st.isFile() || request.postpath.length > 0) return new NoResource().render(request);
    return this.renderFile(request, st);
  }

  private renderFile(request: Request, st: fs.Stats): RenderResult {
    const etag = `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const modified = httpDate(st.mtimeMs);
    request.setHeader('Accept-Ranges', 'bytes');
    request.setHeader('Last-Modified', modified);
    request.setHeader('ETag', etag);
    request.setHeader('Content-Type', this.typeOf(this.path));
    if (notModified(request, etag, st.mtimeMs)) {
      request.setResponseCode(304);
      return '';
    }
    let start = 0;
    let end = st.size; // exclusive
    const asked = request.getHeader('range');
    if (asked !== null && rangeStillValid(request, modified)) {
      const r = byteRange(asked, st.size);
      if (r === 'unsatisfiable') {
        request.setResponseCode(416);
        request.setHeader('Content-Range', `bytes */${st.size}`);
        request.setHeader('Content-Type', 'text/plain; charset=utf-8');
        return 'Range Not Satisfiable\n';
      }
      if (r !== null) {
        [start, end] = r;
        request.setResponseCode(206);
        request.setHeader('Content-Range', `bytes ${start}-${end - 1}/${st.size}`);
      }
    }
    if (request.method === 'HEAD') {
      request.setHeader('Content-Length', end - start);
      return '';
    }
    if (end - start <= READ_WHOLE_UP_TO) return readRange(this.path, start, end);
    request.setHeader('Content-Length', end - start);
    new FileProducer(request, this.path, start, end).start();
    return NOT_DONE_YET;
  }

  private renderDirectory(request: Request): RenderResult {
    if (!request.path.endsWith('/')) {
      // Relative links in the listing or index need the trailing slash.
      const q = request.uri.indexOf('?');
      request.setResponseCode(301);
      request.setHeader('Location', request.path + '/' + (q >= 0 ? request.uri.slice(q) : ''));
      request.setHeader('Content-Type', 'text/plain; charset=utf-8');
      return 'Moved Permanently\n';
    }
    const index = this.opts.indexName;
    if (index !== null) {
      const file = path.join(this.path, index);
      try {
        const st = fs.statSync(file);
        if (st.isFile() && this.inside(file)) return this.below(file).renderFile(request, st);
      } catch {
        // no index: list the directory
      }
    }
    const names = fs.readdirSync(this.path, { withFileTypes: true }).map((d) => (d.isDirectory() ? d.name + '/' : d.name)).sort();
    const title = escapeHtml(request.path);
    const items = names.map((n) => `<li><a href="${escapeHtml(encodeURIComponent(n.replace(/\/$/, '')) + (n.endsWith('/') ? '/' : ''))}">${escapeHtml(n)}</a></li>`);
    request.setHeader('Content-Type', 'text/html; charset=utf-8');
    return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Index of ${title}</title></head>\n<body><h1>Index of ${title}</h1>\n<ul>\n${items.join('\n')}\n</ul></body></html>\n`;
  }

  /** Whether `p`'s real path (symlinks resolved; a missing file counts as itself) lies under the root's. */
  private inside(p: string): boolean {
    const real = realOrSelf(p);
    return real === this.root || real.startsWith(this.root.endsWith(path.sep) ? this.root : this.root + path.sep);
  }

  private typeOf(p: string): string {
    const ext = path.extname(p).toLowerCase();
    return this.opts.contentTypes[ext] ?? contentTypeOf(ext) ?? this.opts.defaultType;
  }
}

/** A %-decoded path segment that names an entry of its directory and nothing else. */
function safeSegment(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
}

/** The real path of `p`, or `p` itself when it does not exist (nothing to serve then anyway). */
function realOrSelf(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/** If-None-Match (weak comparison, or *) else If-Modified-Since (to the second) says the client's copy is current. */
function notModified(request: Request, etag: string, mtimeMs: number): boolean {
  const inm = request.getHeader('if-none-match');
  if (inm !== null) return inm.trim() === '*' || inm.split(',').some((t) => weak(t.trim()) === weak(etag));
  const ims = request.getHeader('if-modified-since');
  if (ims === null) return false;
  const t = Date.parse(ims);
  return !Number.isNaN(t) && Math.floor(mtimeMs / 1000) * 1000 <= t;
}

/** If-Range: the range applies only if the validator given still matches (else the whole file, 200). */
function rangeStillValid(request: Request, modified: string): boolean {
  const ifRange = request.getHeader('if-range');
  if (ifRange === null) return true;
  // A weak validator never matches If-Range (RFC 9110 13.1.5): ours are weak, so only the date can.
  return ifRange.trim() === modified;
}

function weak(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/** Bytes [start, end) of the file at `p`. */
function readRange(p: string, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  const fd = fs.openSync(p, 'r');
  try {
    let got = 0;
    while (got < out.length) {
      const n = fs.readSync(fd, out, got, out.length - got, start + got);
      if (n === 0) break; // the file shrank meanwhile
      got += n;
    }
    return got === out.length ? out : out.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
