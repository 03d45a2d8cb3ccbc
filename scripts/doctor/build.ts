// Is the build the command runs (dist/) there and at least as new as the sources? A `git pull`
// without a rebuild leaves the old code running.
import { PACKAGE_ROOT } from "../../core/package-root.ts";
import { buildCommand, buildState } from "../build-state.mjs";
import { result, type Check } from "./check.ts";

export const buildCheck: Check = async () => {
  const build = buildState(PACKAGE_ROOT);
  const fix = `${buildCommand(PACKAGE_ROOT)}  (or ./setup.sh again)`;
  if (build.state === "fresh") return [result("build", "ok", `${PACKAGE_ROOT}/dist is up to date`)];
  if (build.state === "missing") return [result("build", "fail", `no build in ${PACKAGE_ROOT}/dist`, fix)];
  return [result("build", "fail", `${PACKAGE_ROOT}/dist is older than ${build.changed}: commands run the old code`, fix)];
};
