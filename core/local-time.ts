// Event times as the user reads them: "2025-01-02 14:03:05" in a named time zone (the system's
// by default). An unknown zone falls back to the system's and says so instead of throwing.

export interface LocalClock {
  /** The zone actually used, e.g. "Europe/Berlin". */
  zone: string;
  /** Set when the requested zone was unknown. */
  warning?: string;
  format(ms: number): string;
}

function formatter(timeZone: string | undefined): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  });
}

export function localClock(timeZone?: string): LocalClock {
  let dtf: Intl.DateTimeFormat;
  let warning: string | undefined;
  try {
    dtf = formatter(timeZone);
  } catch {
    dtf = formatter(undefined);
    warning = `unknown time zone ${JSON.stringify(timeZone)}`;
  }
  // The user's spelling: ICU may canonicalise it to an older name (Asia/Kolkata → Asia/Calcutta).
  const zone = timeZone && !warning ? timeZone : dtf.resolvedOptions().timeZone;
  return {
    zone,
    warning,
    format(ms) {
      const date = new Date(ms);
      if (Number.isNaN(date.getTime())) return `ts ${ms}`;
      const part: Record<string, string> = {};
      for (const { type, value } of dtf.formatToParts(date)) part[type] = value;
      return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}:${part.second}`;
    },
  };
}
