// `npm run corpus`: the classifier judged on the published traces in
// test/fixtures/traces, as the README shows it (corpus.test.ts checks both agree).
import { judgeCorpus, summarise } from '../test/support/corpus-judge.js';

const judged = await judgeCorpus();
const { agree, labelled, table } = summarise(judged);
console.log(table);
console.log('');
console.log(
  `${agree} of ${labelled} labelled traces agree (${((100 * agree) / labelled).toFixed(1)} %); ` +
    `${judged.length - labelled} unlabelled.`,
);
console.log('');
for (const j of judged.filter((x) => x.allowed.length && !x.agrees))
  console.log(`- ${j.trace.file}: author ${j.trace.label}, vpsline ${j.classification.verdict}`);
