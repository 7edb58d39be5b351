// The pod's log: one line per event on stderr, `time level [pod] message`. The daemon runs
// in the foreground (systemd, a terminal, a test harness), so stderr is the right sink.
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createLogger(name: string, minimum: LogLevel = levelFromEnv()): Logger {
  const write = (level: LogLevel, message: string) => {
    if (ORDER[level] < ORDER[minimum]) return;
    process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} [${name}] ${message}\n`);
  };
  return {
    debug: (m) => write("debug", m),
    info: (m) => write("info", m),
    warn: (m) => write("warn", m),
    error: (m) => write("error", m),
  };
}

function levelFromEnv(): LogLevel {
  const value = process.env.WORMHOLE_LOG;
  return value === "debug" || value === "info" || value === "warn" || value === "error" ? value : "info";
}
