// Reading values whose type is unknown (what a catch clause holds, what
// JSON.parse returns) without assuming their shape, so nothing in them can
// make the reader throw. An errno code: errnoCode() in ../errors.ts.

/** A JSON object: not null, not an array. Its fields are still unknown. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An Error's message; anything else that was thrown, as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
