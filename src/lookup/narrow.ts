// Reading values whose type is unknown (what a catch clause holds, what
// JSON.parse returns) without assuming their shape, so nothing in them can
// make the reader throw.

/** A JSON object: not null, not an array. Its fields are still unknown. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A string property of a thrown value (`code` of a Node.js system error, `stderr` of a failed command). */
export function caughtField(err: unknown, key: string): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const value: unknown = Reflect.get(err, key);
  return typeof value === 'string' ? value : undefined;
}

/** "ENOENT", "EACCES" ... for a system error, undefined for anything else. */
export function errnoCode(err: unknown): string | undefined {
  return caughtField(err, 'code');
}

/** An Error's message; anything else that was thrown, as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
