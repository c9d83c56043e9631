import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  readonly level?: string;
  readonly name?: string;
  /** Where JSON lines go; stdout when absent. */
  readonly destination?: DestinationStream;
}

/** Structured JSON logs, one object per line, ISO timestamps, errors serialised with their stack. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const options = {
    name: opts.name,
    level: opts.level ?? 'info',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
