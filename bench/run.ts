// `npm run bench [-- <name>...]`: runs the named benchmarks (all by default), prints each table
// with pass/fail against its target, writes bench/results/<name>.json. Exit 1 if a target was
// missed, 2 on an unknown name.
import { publish, type BenchReport } from "./lib/report.ts";

const BENCHES: Record<string, () => Promise<{ run(): Promise<BenchReport> }>> = {
  "inject-latency": () => import("./inject-latency.ts"),
  "push-throughput": () => import("./push-throughput.ts"),
  "backlog-drain": () => import("./backlog-drain.ts"),
  "idle-cost": () => import("./idle-cost.ts"),
  "seed-vs-ours": () => import("./seed-vs-ours.ts"),
  "cli-latency": () => import("./cli-latency.ts"),
};

const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  console.log(`usage: npm run bench [-- <name>...]\n\nbenchmarks: ${Object.keys(BENCHES).join(", ")}\nresults: bench/results/<name>.json`);
  process.exit(0);
}
const unknown = args.filter((name) => !(name in BENCHES));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(", ")} (choose from ${Object.keys(BENCHES).join(", ")})`);
  process.exit(2);
}

let allMet = true;
for (const name of args.length > 0 ? args : Object.keys(BENCHES)) {
  const bench = await BENCHES[name]!();
  allMet = publish(await bench.run()) && allMet;
}
if (!allMet) {
  console.log("\nsome targets were missed (see FAIL lines above)");
  process.exitCode = 1;
}
