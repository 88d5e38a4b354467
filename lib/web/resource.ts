/**
 * Resources, as twisted.web.resource: a tree walked segment by segment
 * (getChildWithDefault, putChild, isLeaf), and render(), which calls the
 * render_<METHOD> method the subclass defines, answers 405 with an Allow
 * header when there is none, and HEAD with render_GET's headers.
 */
import type { Request } from './request';

/** Returned by a render method that will write and finish the response later. */
export const NOT_DONE_YET: unique symbol = Symbol('NOT_DONE_YET');

/** What a render method returns: the whole body, or NOT_DONE_YET. */
export type RenderResult = Buffer | string | typeof NOT_DONE_YET;

/**
 * A render_<METHOD> method of a {@link Resource}: answers the request with
 * the whole body at once, or returns NOT_DONE_YET and finishes it later.
 */
export type RenderMethod = (request: Request) => RenderResult;

/** "render_GET" by "GET", made once per method (bounded): a fresh key string would be hashed on every lookup. */
const renderKeys = new Map<string, string>();

/** The method renderKey was last asked for, and its key. */
let lastMethod = 'GET';
let lastKey = 'render_GET';

function renderKey(method: string): string {
  if (method === lastMethod) return lastKey;
  let key = renderKeys.get(method);
  if (key === undefined) {
    // A property name comes back from Object.keys interned, so later keyed loads with it skip the string table.
    key = Object.keys({ ['render_' + method]: 0 })[0];
    if (renderKeys.size < 100) renderKeys.set(method, key);
  }
  lastMethod = method;
  lastKey = key;
  return key;
}

/** A node of the resource tree; subclasses add render_GET, render_POST, ... */
export class Resource {
  /**
   * The render methods a subclass defines (render_GET, render_POST, ...):
   * each answers at once with the body or NOT_DONE_YET. Declared so that one
   * returning anything else (an `async` one's Promise) is a type error, not
   * a 500 at run time.
   */
  [renderMethod: `render_${string}`]: RenderMethod | undefined;
  /** True for a resource that handles every path below it itself (no child lookup). */
  isLeaf = false;
  /** The children put with putChild, by path segment. */
  readonly children = new Map<string, Resource>();

  /** Makes `child` the resource at path segment `path` below this one. */
  putChild(path: string | Buffer, child: Resource): void {
    if (!(child instanceof Resource)) throw new TypeError('putChild: child must be a Resource');
    const key = typeof path === 'string' ? path : path.toString('latin1');
    if (key.includes('/')) throw new TypeError(`putChild: a path segment cannot contain "/", got ${JSON.stringify(key)}`);
    this.children.set(key, child);
  }

  /** The child for a segment no putChild named; by default a NoResource (404). */
  getChild(_path: string, _request: Request): Resource {
    return new NoResource();
  }

  /** The child put at `path`, else getChild(path, request). */
  getChildWithDefault(path: string, request: Request): Resource {
    return this.children.get(path) ?? this.getChild(path, request);
  }

  /** Renders `request` with render_<METHOD>; 405 (with Allow) when this resource has none. */
  render(request: Request): RenderResult {
    let fn = this.renderMethod(request.method);
    if (fn === null && request.method === 'HEAD') fn = this.renderMethod('GET');
    if (fn === null) {
      const allowed = this.allowedMethods();
      request.setResponseCode(405);
      request.setHeader('Allow', allowed.join(', '));
      request.setHeader('Content-Type', 'text/plain; charset=utf-8');
      return `Method Not Allowed: ${request.method} (allowed: ${allowed.join(', ')})\n`;
    }
    return fn.call(this, request);
  }

  /** The methods this resource renders (HEAD when it renders GET). */
  allowedMethods(): string[] {
    const methods = new Set<string>();
    for (let o: object | null = this; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
      for (const key of Object.getOwnPropertyNames(o)) {
        if (key.startsWith('render_') && typeof (this as unknown as Record<string, unknown>)[key] === 'function') methods.add(key.slice(7));
      }
    }
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  }

  private renderMethod(method: string): RenderMethod | null {
    const fn: unknown = this[renderKey(method) as `render_${string}`];
    return typeof fn === 'function' ? (fn as RenderMethod) : null;
  }
}

/** An error page: every request gets `code` and a short text body. */
export class ErrorPage extends Resource {
  override isLeaf = true;

  /** A page answering `code` with `brief` (and `detail`) as text. */
  constructor(
    /** The status code. */
    readonly code: number,
    /** A short title. */
    readonly brief: string,
    /** A longer explanation. */
    readonly detail: string,
  ) {
    super();
  }

  /** Answers every method with the error. */
  override render(request: Request): RenderResult {
    request.setResponseCode(this.code);
    request.setHeader('Content-Type', 'text/plain; charset=utf-8');
    return `${this.brief}\n${this.detail}\n`;
  }
}

/** 404: "No Such Resource". */
export class NoResource extends ErrorPage {
  /** A 404 page with an optional explanation. */
  constructor(message = 'Sorry. No luck finding that resource.') {
    super(404, 'No Such Resource', message);
  }
}

/** The resource for the request's path under `resource`, moving segments from postpath to prepath. */
export function getChildForRequest(resource: Resource, request: Request): Resource {
  while (!resource.isLeaf && request.postpath.length > 0) {
    const segment = request.postpath.shift()!;
    // (an empty array grown by push reserves room for 17: most paths have one or two segments)
    if (request.prepath.length === 0) request.prepath = [segment];
    else request.prepath.push(segment);
    resource = resource.getChildWithDefault(segment, request);
  }
  return resource;
}
