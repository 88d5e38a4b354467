/**
 * The web layer's argument checks and small pieces, without sockets: Site
 * options, header injection, status codes, the resource tree, the Date cache.
 */
import { httpDate } from '../lib/web/date';
import { Headers, NoResource, Resource, Site } from '../lib/web';
import { checkHeader } from '../lib/web/response-head';

describe('web: argument checks', () => {
  it('Site refuses a non-resource and bad options with a TypeError naming them', () => {
    expect(() => new Site({} as Resource)).toThrow(/resource must be a Resource/);
    expect(() => new Site(new Resource(), { timeout: -1 })).toThrow(/timeout must be a positive number/);
    expect(() => new Site(new Resource(), { maxHeaderBytes: 1.5 })).toThrow(/maxHeaderBytes must be a positive integer/);
    expect(() => new Site(new Resource(), { maxHeaders: 0 })).toThrow(/maxHeaders must be a positive integer/);
    expect(() => new Site(new Resource(), { requestTimeout: 0 })).toThrow(/requestTimeout must be a positive number/);
    expect(() => new Site(new Resource(), { abortTimeout: 0 })).toThrow(/abortTimeout must be a positive number/);
    expect(new Site(new Resource()).abortTimeout).toBe(15);
    expect(new Site(new Resource(), { abortTimeout: null }).abortTimeout).toBeNull();
    expect(() => new Site(new Resource(), { reactor: {} as never })).toThrow(/reactor must provide callLater/);
  });

  it('refuses header names and values that could split a response', () => {
    expect(() => checkHeader('X-Ok', 'fine value')).not.toThrow();
    expect(() => checkHeader('X-Bad', 'a\r\nSet-Cookie: x=1')).toThrow(TypeError);
    expect(() => checkHeader('X Bad', 'v')).toThrow(/invalid header name/);
    expect(() => checkHeader('X-Nul', 'a\0')).toThrow(TypeError);
  });

  it('putChild takes one path segment and a Resource', () => {
    const root = new Resource();
    expect(() => root.putChild('a/b', new Resource())).toThrow(/path segment/);
    expect(() => root.putChild('a', {} as Resource)).toThrow(/must be a Resource/);
    root.putChild(Buffer.from('c'), new NoResource());
    expect(root.children.get('c')).toBeInstanceOf(NoResource);
  });

  it('lists the methods a resource renders, with HEAD when it renders GET', () => {
    class R extends Resource {
      render_GET(): string {
        return '';
      }
      render_PUT(): string {
        return '';
      }
    }
    expect(new R().allowedMethods()).toEqual(['GET', 'HEAD', 'PUT']);
    expect(new Resource().allowedMethods()).toEqual([]);
  });

  it('Headers are case-insensitive and keep values in order', () => {
    const h = new Headers([['X-A', '1'], ['x-a', '2']]);
    expect(h.getRawHeaders('X-a')).toEqual(['1', '2']);
    h.setRawHeaders('X-A', ['3']);
    expect(h.hasHeader('x-A')).toBe(true);
    expect([...h.getAllRawHeaders()]).toEqual([['x-a', ['3']]]);
    h.removeHeader('X-A');
    expect(h.getRawHeaders('x-a')).toBeNull();
  });

  it('formats the Date header once a second', () => {
    expect(httpDate(Date.UTC(2026, 11, 4, 19, 45, 37, 100))).toBe('Fri, 04 Dec 2026 19:45:37 GMT');
    expect(httpDate(Date.UTC(2026, 11, 4, 19, 45, 37, 900))).toBe('Fri, 04 Dec 2026 19:45:37 GMT');
    expect(httpDate(Date.UTC(2026, 11, 4, 19, 45, 38, 0))).toBe('Fri, 04 Dec 2026 19:45:38 GMT');
  });
});
