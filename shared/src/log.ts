/** Structured JSON logs, one line per event, carrying the request id of the request being served. */
import { AsyncLocalStorage } from 'node:async_hooks';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
type Fields = Record<string, unknown>;

const levels: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const secretKey = /pass(word)?|secret|token|authorization|cookie|card|cvc|key$/i;

/** The request being served, if any: set by the request middleware, read by the logger and http client. */
export const requestContext = new AsyncLocalStorage<{ requestId: string }>();

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

/** Replaces the value of any field whose name looks like a secret, at any depth. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 5 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, secretKey.test(key) ? '[redacted]' : redact(item, depth + 1)]),
  );
}

/**
 * A logger writing JSON lines to `write` (stdout by default).
 *
 * @example
 * const log = createLogger({ service: 'auth', level: 'info' });
 * log.info('listening', { port: 3001 });
 */
export function createLogger(options: { service: string; level?: LogLevel; write?: (line: string) => void }): Logger {
  const threshold = levels[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const emit = (level: LogLevel, msg: string, fields?: Fields) => {
    if (levels[level] < threshold) return;
    const requestId = requestContext.getStore()?.requestId;
    const entry = { time: new Date().toISOString(), level, service: options.service, msg, requestId, ...(redact(fields ?? {}) as Fields) };
    write(JSON.stringify(entry));
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}

/** A logger that keeps its lines in memory: for tests that read what was logged. */
export function createMemoryLogger(service = 'test'): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger({ service, level: 'debug', write: (line) => lines.push(line) }), { lines });
}
