/**
 * Twisted's endpoint description syntax, parsed without touching sockets:
 * `type:positional:key=value`, with `\` escaping the next character.
 */
import { IOReactorError } from '../errors';

/** A malformed endpoint description; the message names the bad part. */
export class EndpointDescriptionError extends IOReactorError {
  /** The description that failed to parse. */
  readonly description: string;
  constructor(description: string, why: string) {
    super(`Bad endpoint description ${JSON.stringify(description)}: ${why}`);
    this.description = description;
  }
}

/** A description split into its type, positional arguments and keyword arguments. */
export interface ParsedDescription {
  /** The endpoint type, lower-cased ('tcp', 'tcp6', 'unix'). */
  type: string;
  /** Positional arguments after the type, in order. */
  args: string[];
  /** Keyword arguments (`key=value`); a key given twice keeps the last value. */
  kwargs: Map<string, string>;
}

/**
 * Splits a description as Twisted's `_parse` does: `:` separates fields, the
 * first `=` in a field separates key and value, `\x` is a literal x.
 */
export function parseDescription(description: string): ParsedDescription {
  if (typeof description !== 'string') throw new TypeError(`endpoint description must be a string, got ${typeof description}`);
  const fields: string[][] = [];
  let field: string[] = [];
  let current = '';
  for (let i = 0; i < description.length; i++) {
    const c = description[i];
    if (c === '\\') {
      if (i + 1 >= description.length) throw new EndpointDescriptionError(description, 'it ends with a lone backslash');
      current += description[++i];
    } else if (c === ':') {
      field.push(current);
      fields.push(field);
      field = [];
      current = '';
    } else if (c === '=' && field.length === 0) {
      field.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  field.push(current);
  fields.push(field);
  const [head, ...rest] = fields;
  if (head.length !== 1 || head[0] === '') throw new EndpointDescriptionError(description, 'it does not start with an endpoint type such as tcp: or unix:');
  const parsed: ParsedDescription = { type: head[0].toLowerCase(), args: [], kwargs: new Map() };
  for (const f of rest) {
    if (f.length === 1) parsed.args.push(f[0]);
    else parsed.kwargs.set(f[0], f[1]);
  }
  return parsed;
}
