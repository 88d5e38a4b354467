/**
 * The web layer (twisted.web): Site, Resource, Request on HTTP/1.1.
 * Each part lives in its own file; this one re-exports them.
 */
export { Site } from './site';
export type { SiteOptions } from './site';
export { Resource, NoResource, ErrorPage, NOT_DONE_YET, getChildForRequest } from './resource';
export type { RenderResult, RenderMethod } from './resource';
export { FunctionResource } from './function-resource';
export { File } from './static';
export type { FileOptions } from './static';
export type { RequestHandler, HandlerResult } from './function-resource';
export { Request } from './request';
export { Headers } from './headers';
export { HTTPChannel } from './channel';
export type { ParserLimits } from './parser';
export type { RequestChannel } from './request';
