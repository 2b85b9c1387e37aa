/**
 * `npm run bench`: runs every `bench/*.bench.ts` file (or those whose names contain the given arguments), prints a
 * table, and writes the results as JSON to bench/results.json (override with PLANTWIRE_BENCH_OUT).
 */
import { readdir, writeFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Benchmark, BenchResult } from "./bench-kit.js";

const folder = fileURLToPath(new URL(".", import.meta.url));
const filters = process.argv.slice(2);
const output = process.env.PLANTWIRE_BENCH_OUT ?? fileURLToPath(new URL("./results.json", import.meta.url));

function format(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

const files = (await readdir(folder))
  .filter((file) => file.endsWith(".bench.ts"))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();
const results: (BenchResult & { file: string })[] = [];
for (const file of files) {
  process.stdout.write(`running ${file} ...\n`);
  const module = (await import(pathToFileURL(`${folder}${file}`).href)) as { default: Benchmark };
  for (const result of await module.default()) results.push({ ...result, file });
}

const rows = results.map((result) => [
  result.name,
  `${format(result.baseline.value)} ${result.baseline.unit} (${result.baseline.label})`,
  `${format(result.candidate.value)} ${result.candidate.unit} (${result.candidate.label})`,
  format(result.ratio),
  result.target,
  result.pass ? "pass" : "MISS",
]);
const header = ["benchmark", "baseline", "candidate", "ratio", "target", ""];
const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
for (const row of [header, ...rows])
  console.log(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  "));
for (const result of results) if (result.note) console.log(`  ${result.name}: ${result.note}`);

await writeFile(
  output,
  `${JSON.stringify({ time: new Date().toISOString(), node: process.version, results }, null, 2)}\n`,
);
console.log(`\nresults written to ${output}`);
