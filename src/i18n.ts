// The languages vpsline speaks and the plumbing its text tables share. Each
// module keeps its own table (analysis findings, classifier notes, virt
// reasons, CLI labels); this is only what they have in common.
import { VpslineError } from './errors.js';

export const LANGUAGES = ['en', 'zh'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Figures a message quotes (ms, percent, addresses, counts). */
export type TextParams = Record<string, string | number>;
/** One message in one language, filled in from its parameters. */
export type Template<P = TextParams> = (p: P) => string;
/** One message in every language. */
export type Texts<P = TextParams> = Record<Language, Template<P>>;

export function isLanguage(value: unknown): value is Language {
  return LANGUAGES.some((l) => l === value);
}

/** A `--lang` value, or a usage error naming the choices. */
export function parseLanguage(value: unknown): Language {
  if (isLanguage(value)) return value;
  throw new VpslineError('EVPSLINE_BAD_OPTION', `--lang must be ${LANGUAGES.join(' or ')} (got ${String(value)}).`, 2);
}
