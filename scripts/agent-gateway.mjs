#!/usr/bin/env node
// The `agent-gateway` command. The project runs its TypeScript directly through tsx (no build
// step), so the bin is this small loader.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./cli.ts");
process.exitCode = await main(process.argv.slice(2));
