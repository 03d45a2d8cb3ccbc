// A storm is one prompt: when a drain took more events than one batch, the agent sees the
// urgent ones and the first N listed (through formatBatch, quoted as every prompt quotes them),
// and the rest summarised by type and by source with counts and time spans, with a pointer to
// the gateway_events tool that reads every one of them from the session's history. Pure.
import type { GatewayEvent } from "./event.ts";
import { formatBatch, FORMAT_DEFAULTS, isHeartbeat, type FormatOptions, type FormattedBatch } from "./format.ts";
import { localClock, type LocalClock } from "./local-time.ts";
import { quoted } from "./quote.ts";

/** The agent's tool for reading the history (extension/events-tool.ts registers it). */
export const EVENTS_TOOL = "gateway_events";

export const STORM_DEFAULTS = { listed: 50, groupsShown: 15 } as const;

export interface StormOptions extends FormatOptions {
  /** Non-urgent events listed one by one (the first to arrive); as many urgent ones again. */
  listed?: number;
}

interface Group {
  count: number;
  low: number;
  high: number;
}

function groupBy(events: GatewayEvent[], key: (e: GatewayEvent) => string): [string, Group][] {
  const groups = new Map<string, Group>();
  for (const e of events) {
    const name = key(e);
    const group = groups.get(name);
    if (group) {
      group.count++;
      group.low = Math.min(group.low, e.ts);
      group.high = Math.max(group.high, e.ts);
    } else groups.set(name, { count: 1, low: e.ts, high: e.ts });
  }
  return [...groups].sort((a, b) => b[1].count - a[1].count);
}

function span(group: Group, clock: LocalClock): string {
  const [low, high] = [clock.format(group.low), clock.format(group.high)];
  return low === high ? `at ${low}` : `${low} to ${high}`;
}

/** "- \"build.done\" ×30000 (10:00 to 12:00)" (producer-given names quoted) for the biggest groups, then one line for the rest. */
function groupLines(title: string, groups: [string, Group][], clock: LocalClock): string[] {
  const shown = groups.slice(0, STORM_DEFAULTS.groupsShown).map(([name, g]) => `- ${quoted(name, 80)} ×${g.count} (${span(g, clock)})`);
  const rest = groups.slice(STORM_DEFAULTS.groupsShown);
  if (rest.length > 0) shown.push(`- ${rest.length} more, ${rest.reduce((n, [, g]) => n + g.count, 0)} events together`);
  return [title, ...shown];
}

/** The storm section: what was drained but not listed, by type and by source. */
export function stormSummary(unlisted: GatewayEvent[], clock: LocalClock): string {
  if (unlisted.length === 0) return "";
  const urgent = unlisted.filter((e) => e.priority === "urgent").length;
  return [
    `## Storm: ${unlisted.length} more events, not listed one by one`,
    `They are kept in this session's history: call ${EVENTS_TOOL} to list them (by type, source or time) or get one by id.` +
      (urgent > 0 ? ` ${urgent} of them are urgent: list them with ${EVENTS_TOOL} first.` : ""),
    ...groupLines("By type:", groupBy(unlisted, (e) => e.type), clock),
    ...groupLines("By source:", groupBy(unlisted, (e) => e.source), clock),
  ].join("\n");
}

/** One prompt for a whole storm, within maxPromptChars like any batch. */
export function formatStorm(events: GatewayEvent[], options: StormOptions = {}): FormattedBatch {
  const listed = options.listed ?? STORM_DEFAULTS.listed;
  const beats: GatewayEvent[] = [];
  const urgent: GatewayEvent[] = [];
  const rest: GatewayEvent[] = [];
  for (const e of events) (isHeartbeat(e) ? beats : e.priority === "urgent" ? urgent : rest).push(e);
  const chosen = [...urgent.slice(0, listed), ...rest.slice(0, listed)];
  const unlisted = [...urgent.slice(listed), ...rest.slice(listed)];
  const section = stormSummary(unlisted, localClock(options.timeZone));
  const maxChars = options.maxPromptChars ?? FORMAT_DEFAULTS.maxPromptChars;
  const inner = formatBatch([...chosen, ...beats], {
    ...options,
    maxListed: chosen.length,
    maxPromptChars: maxChars - section.length - 2,
    lead: `${events.length} background events drained at once (a storm; ${unlisted.length} summarised below)`,
  });
  return {
    ...inner,
    prompt: section ? `${inner.prompt}\n\n${section}` : inner.prompt,
    summarised: inner.summarised + unlisted.length,
    truncated: inner.truncated || unlisted.length > 0,
  };
}
