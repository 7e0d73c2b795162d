// The corpus of published traces (test/fixtures/traces): each file is a
// header of `key: value` lines, a line `---`, then the trace as published.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CorpusTrace {
  file: string;
  header: Record<string, string>;
  label: string;
  direction: string;
  text: string;
}

export const CORPUS_DIR = new URL('../fixtures/traces/', import.meta.url).pathname;

export function readCorpus(dir = CORPUS_DIR): CorpusTrace[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((file) => {
      const raw = readFileSync(join(dir, file), 'utf8');
      const cut = raw.indexOf('\n---\n');
      if (cut < 0) throw new Error(`${file}: no '---' line after the header`);
      const header: Record<string, string> = {};
      for (const line of raw.slice(0, cut).split('\n')) {
        const m = /^([a-z0-9-]+):\s?(.*)$/.exec(line);
        if (m?.[1] && m[2] !== undefined) header[m[1]] = m[2].trim();
      }
      return {
        file,
        header,
        label: header['author-label'] ?? '',
        direction: header.direction ?? '',
        text: raw.slice(cut + 5),
      };
    });
}
