'use strict';
/**
 * Command-line options of the stand-alone bench scripts (parsers.js,
 * web-path.js, ...): `--name value` anywhere in process.argv. The harness
 * itself (cli.js) has its own validating parser.
 */
const args = process.argv.slice(2);

/**
 * The value after `--name`, or `def` when the option is absent.
 * @param {string} name
 * @param {string} def
 * @returns {string}
 */
function stringOption(name, def) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
}

/**
 * The number after `--name`, or `def` when the option is absent.
 * @param {string} name
 * @param {number} def
 * @returns {number}
 */
function numberOption(name, def) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
}

module.exports = { stringOption, numberOption };
