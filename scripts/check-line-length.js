// Part of `npm run lint`: no line of code over 120 columns. Biome's formatter
// keeps code within 120 but cannot break a long string or comment; this finds
// those. Columns are code points (a CJK character counts as one, as Biome
// counts it); fixtures and data files are not code.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const LIMIT = 120;
const CODE = /\.(ts|js|mjs|c|h|css|html)$/;
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => CODE.test(f) && !f.includes('/fixtures/'));
const long = [];
for (const file of files) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    continue; // listed by git but deleted in the work tree
  }
  text.split('\n').forEach((line, i) => {
    const width = [...line].length;
    if (width > LIMIT) long.push(`${file}:${i + 1}: ${width} columns`);
  });
}
if (long.length) {
  console.error(`${long.length} line(s) over ${LIMIT} columns:\n${long.join('\n')}`);
  process.exit(1);
}
console.log(`line length: ${files.length} files, none over ${LIMIT} columns`);
