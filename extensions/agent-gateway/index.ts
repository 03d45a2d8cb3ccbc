// What pi loads (package.json "pi.extensions"). pi names an extension after the directory of its
// index file, so this directory gives it the name users see in pi's extension list:
// agent-gateway. The extension itself is extension/index.ts.
export { default } from "../../extension/index.ts";
