/**
 * `twisted.protocols.basic` for ioreactor: line and length-prefixed string
 * receivers. Each lives in its own file; this module gathers them.
 */
export { LineReceiver, CRLF } from './line';
export { LineOnlyReceiver } from './line-only';
export { TextLineReceiver } from './line-text';
export type { LineEncoding } from './line-text';
export { IntNStringReceiver, Int32StringReceiver, Int16StringReceiver, Int8StringReceiver } from './int-string';
export { NetstringReceiver } from './netstring';
