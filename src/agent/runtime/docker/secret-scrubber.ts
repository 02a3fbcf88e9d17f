/**
 * Known secret values out of the engine's messages. Docker and runc echo parts of a container's
 * configuration in their errors — `invalid environment variable: =NAME=<value>` from a create,
 * `environment variable value can't contain null(\x00): "NAME=<value>"` from a start — and those
 * errors become a container's reason, then the task's stoppedReason, its Event and a log line. Every
 * message from the engine passes through a scrubber of the task's secret values before it is kept.
 *
 * A value is masked in the forms an echo can take: as is, Go-quoted (`%q`, how runc quotes the
 * entry: a NUL becomes `\x00`, a newline `\n`), and JSON-escaped. Values shorter than 4 characters are
 * left alone: masking every `1` or `on` would make every message unreadable, and a value that short
 * is not kept secret by masking.
 *   e.g. values ["s3cr3t-v4lue", "line1\nline2"]: 'bad: "X=line1\\nline2" and s3cr3t-v4lue'
 *        → 'bad: "X=*****" and *****'
 */
import type Dockerode from 'dockerode';
import type { TaskLaunch } from '../../task-runtime';
import { secretVariablesFromLabels } from './labels';

export const masked = '*****';
export const minimumMaskedLength = 4;

export class SecretScrubber {
  /** Every form of every value, longest first, so that a value containing another is masked whole. */
  private readonly forms: string[];

  constructor(values: Iterable<string>) {
    const forms = new Set<string>();
    for (const value of values) {
      if (value.length < minimumMaskedLength) continue;
      forms.add(value);
      forms.add(goQuoted(value));
      forms.add(JSON.stringify(value).slice(1, -1));
    }
    this.forms = [...forms].sort((a, b) => b.length - a.length);
  }

  scrub(message: string): string {
    return this.forms.reduce((text, form) => text.split(form).join(masked), message);
  }
}

/** What a launch hands the engine that must not come back: resolved secrets and environment files, registry passwords. */
export function launchScrubber(launch: TaskLaunch): SecretScrubber {
  const environment = Object.values(launch.resolvedEnvironment).flatMap((variables) => Object.values(variables));
  const passwords = Object.values(launch.registryAuth).map((auth) => auth.password);
  return new SecretScrubber([...environment, ...passwords]);
}

/**
 * The secret values a container holds, from the engine alone (a restarted agent has no launch to
 * ask): the variables its secret-variables label names, as its Config.Env holds them.
 */
export function inspectionScrubber(inspection: Dockerode.ContainerInspectInfo): SecretScrubber {
  const names = new Set(secretVariablesFromLabels(inspection.Config?.Labels));
  const values = (inspection.Config?.Env ?? []).flatMap((entry) => {
    const at = entry.indexOf('=');
    return at >= 0 && names.has(entry.slice(0, at)) ? [entry.slice(at + 1)] : [];
  });
  return new SecretScrubber(values);
}

/** The body of Go's strconv.Quote(value): what `%q` prints between the quotes. */
export function goQuoted(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (goEscapes[char] !== undefined) out += goEscapes[char];
    else if (printable.test(char)) out += char;
    else if (code < 0x80) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code < 0x10000) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return out;
}

const goEscapes: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };
/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
