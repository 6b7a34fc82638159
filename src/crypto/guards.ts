/**
 * Argument guards shared by the crypto kernel.
 *
 * Owns: the check that a byte argument really is a Uint8Array (Buffer included). A wrong type is programmer
 * misuse, so it stays a plain TypeError naming the argument (STYLE habit 7); wrong *bytes* are never an
 * exception here, they are a `false` or a coded rejection decided by the caller.
 */

export function assertBytes(value: unknown, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array, got ${value === null ? 'null' : typeof value}`);
  }
}
