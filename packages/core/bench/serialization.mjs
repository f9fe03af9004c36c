// Micro-benchmark of payload serialization (the enqueue and ack hot path).
// Build first (`pnpm --filter reseolio build`), then:
//   node packages/core/bench/serialization.mjs [module.js …]
// Each module (default: this package's dist/serialization.js) must export serialize and
// deserialize; several are measured in alternation, so a busy machine affects them alike.
// Prints the median CPU ns/op of 7 runs per case. Numbers only compare runs on one machine.
import { pathToFileURL } from 'node:url';

const typical = { orderId: 'o-1', amount: 4200, items: [{ sku: 'a', qty: 1 }] };
const cases = [
  ['typical (plain JSON)', [typical]],
  ['typical + Date (tagged)', [{ ...typical, at: new Date(0) }]],
  [
    'larger plain (50 items)',
    [{ ...typical, items: Array.from({ length: 50 }, (_, i) => ({ sku: `s${i}`, qty: i })) }],
  ],
];

const paths = process.argv.slice(2);
const modules = await Promise.all(
  (paths.length > 0 ? paths.map((p) => pathToFileURL(p).href) : ['../dist/serialization.js']).map(
    async (url) => ({ url, ...(await import(url)) }),
  ),
);

// CPU time of this process, not wall time: other processes taking turns on the cores do not
// count (the machines this runs on are often busy).
function measure(fn, iterations) {
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) fn();
  const { user, system } = process.cpuUsage(start);
  return ((user + system) * 1000) / iterations;
}

function calibrate(fn) {
  // About 50 ms per run, after warming up.
  let iterations = 1000;
  while (measure(fn, iterations) * iterations < 50e6 && iterations < 1e8) iterations *= 2;
  return iterations;
}

let sink;
for (const [label, args] of cases) {
  const fns = modules.flatMap(({ serialize, deserialize }) => {
    const text = serialize(args, 'argument list');
    return [
      () => {
        sink = serialize(args, 'argument list');
      },
      () => {
        sink = deserialize(text);
      },
    ];
  });
  const iterations = fns.map(calibrate);
  const runs = fns.map(() => []);
  for (let r = 0; r < 7; r++) {
    for (let i = 0; i < fns.length; i++) runs[i].push(measure(fns[i], iterations[i]));
  }
  const median = (list) =>
    list
      .sort((a, b) => a - b)[3]
      .toFixed(0)
      .padStart(6);
  modules.forEach(({ url }, m) => {
    const name = paths.length > 1 ? `  [${url.split('/').slice(-2).join('/')}]` : '';
    console.log(
      `${label.padEnd(26)} serialize ${median(runs[2 * m])} ns/op   deserialize ${median(runs[2 * m + 1])} ns/op${name}`,
    );
  });
}
if (sink === 0) console.log(sink);
