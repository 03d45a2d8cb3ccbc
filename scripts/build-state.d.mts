// Types for build-state.mjs (plain JavaScript so it runs before any build exists).
export declare const SOURCE_DIRS: string[];
export declare const STAMP: string;
export type BuildState = { state: "fresh" } | { state: "missing" } | { state: "stale"; changed: string };
export declare function buildState(root: string): BuildState;
export declare function buildCommand(root: string): string;
