// The layering DESIGN states, checked on every `npm test`: core/ is the protocol and imports
// none of its siblings; extension/, worker/ and daemon/ import core/ only (never each other);
// nothing imports extension/ (pi loads it); no cycles anywhere.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: "core-is-the-protocol", severity: "error", comment: "core/ imports nothing of extension/, worker/, daemon/, scripts/, bench/ or test/",
      from: { path: "^core/" }, to: { path: "^(extension|worker|daemon|scripts|bench|test)/" } },
    { name: "core-knows-no-host", severity: "error", comment: "core/ knows nothing of pi, Hono, Inngest or grammY",
      from: { path: "^core/" }, to: { path: "node_modules/(@mariozechner|hono|@hono|inngest|grammy|@grammyjs)" } },
    { name: "parts-import-core-only", severity: "error", comment: "extension/, worker/ and daemon/ import core/, never each other",
      from: { path: "^(extension|worker|daemon)/" }, to: { path: "^(extension|worker|daemon)/", pathNot: "^$1/" } },
    { name: "nobody-imports-the-extension", severity: "error", comment: "pi loads extension/; production code never imports it",
      from: { path: "^(core|worker|daemon|scripts)/" }, to: { path: "^extension/" } },
    { name: "no-circular", severity: "error", from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "^dist/" },
  },
};
