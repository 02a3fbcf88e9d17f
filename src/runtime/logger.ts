/**
 * Structured JSON logs (winston). The pattern: derive a child logger carrying the object's keys
 * (`objectLogger(log, obj)` or `log.child({namespace, name})`) and log short messages plus the few
 * fields that explain a decision. Never log whole objects: specs carry environment values and
 * secret references. As a second line of defence the `redact` format masks secret-looking fields.
 */

import { Writable } from 'node:stream';
import winston from 'winston';
import type { KubeObject } from '../store/object-store';

export type Logger = winston.Logger;

export const logLevels = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof logLevels)[number];

export interface LoggerOptions {
  /** Defaults to $BERTH_LOG_LEVEL, then 'info'. */
  level?: LogLevel;
  /** Where JSON lines go; stdout by default. */
  stream?: Writable;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return winston.createLogger({
    level: options.level ?? levelFromEnv(),
    levels: { error: 0, warn: 1, info: 2, debug: 3 },
    format: winston.format.combine(winston.format.errors({ stack: true }), redact(), winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Stream({ stream: options.stream ?? process.stdout })],
  });
}

function levelFromEnv(): LogLevel {
  const level = process.env.BERTH_LOG_LEVEL?.toLowerCase();
  return (logLevels as readonly string[]).includes(level ?? '') ? (level as LogLevel) : 'info';
}

/** A logger for one object: every line carries its kind, namespace and name. */
export function objectLogger(base: Logger, object: KubeObject): Logger {
  return base.child({ kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name });
}

/** A logger nobody reads, for tests and defaults. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}

export const REDACTED = '[REDACTED]';

/** Field names whose values are secret wherever they appear. */
const secretKey = /secret|password|passwd|token|credential|apikey|api_key|private_?key/i;
/** Structures listing name/value pairs (container env, ECS environment and secrets) whose values are masked. */
const valueLists = /^(env|environment|secrets)$/i;
const valueKey = /^(value|valueFrom)$/;

/** A winston format that masks secret-looking fields anywhere in a log line's metadata. */
export const redact = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'message') continue;
    info[key] = redactValue(key, info[key], false);
  }
  return info;
});

function redactValue(key: string, value: unknown, insideValueList: boolean): unknown {
  if (value === undefined || value === null) return value;
  if (secretKey.test(key) || (insideValueList && valueKey.test(key))) return REDACTED;
  const inList = insideValueList || valueLists.test(key);
  if (Array.isArray(value)) return value.map((item) => redactValue('', item, inList));
  if (typeof value === 'object' && !(value instanceof Error)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(k, v, inList)]));
  }
  return value;
}
