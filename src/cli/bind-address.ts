import type { ListenOptions } from '../runtime/http-servers';

/** `host:port`, `:port` (all interfaces) or `0` (off), as controller-runtime's --metrics-bind-address. */
export function parseBindAddress(flag: string, value: string): ListenOptions | false {
  if (value === '0') return false;
  const match = /^(.*):(\d{1,5})$/.exec(value);
  if (!match || Number(match[2]) > 65535) throw new Error(`--${flag}: "${value}" is not host:port, :port or 0`);
  return { host: match[1] === '' ? '0.0.0.0' : match[1], port: Number(match[2]) };
}
