/**
 * JSON helpers for record bodies (SPEC §11.4): RFC 7396 merge patch and the list of paths that differ
 * between two versions. Pure functions over JSON values.
 */
import type { JsonValue } from '../event/event.js';

type JsonObject = { [key: string]: JsonValue };

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 7396 §2: apply `patch` to `target`; a null member removes the key, a non-object patch replaces. */
export function applyMergePatch(target: JsonValue, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return patch;
  const result: JsonObject = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key] ?? null, value);
  }
  return result;
}

export interface Change {
  /** JSON Pointer (RFC 6901) of the value that changed; "" is the whole body. */
  readonly path: string;
  readonly op: 'add' | 'remove' | 'replace';
}

/** The paths at which `after` differs from `before`, objects compared member by member, in key order. */
export function diffJson(before: JsonValue | undefined, after: JsonValue | undefined, path = ''): Change[] {
  if (before === undefined && after === undefined) return [];
  if (before === undefined) return [{ path, op: 'add' }];
  if (after === undefined) return [{ path, op: 'remove' }];
  if (isJsonObject(before) && isJsonObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => diffJson(before[key], after[key], `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`));
  }
  return sameJson(before, after) ? [] : [{ path, op: 'replace' }];
}

/** Deep equality of JSON values; object key order does not matter (a decoded body has canonical order). */
export function sameJson(a: JsonValue, b: JsonValue): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]!));
  if (isJsonObject(a) || isJsonObject(b)) {
    if (!isJsonObject(a) || !isJsonObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && sameJson(a[key]!, b[key]!));
  }
  return Object.is(a, b) || a === b;
}
