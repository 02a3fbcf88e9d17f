/**
 * Kubernetes resource quantities (`2`, `1500m`, `16Gi`, `16418664Ki`, `1e3`) in the units ECS counts: CPU
 * units (1024 per vCPU) and MiB, always rounded down, so Berth never offers what the Node does not have.
 *   e.g. cpu "1500m" → 1.5 vCPU → 1,536 units; memory "16418664Ki" → 16,033 MiB (16,033.85).
 */
const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const decimal: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** The quantity's value in base units (cores, bytes); throws on what is not a quantity. */
export function parseQuantity(quantity: string): number {
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/.exec(quantity.trim());
  if (!match) throw new Error(`not a Kubernetes quantity: "${quantity}"`);
  const [, number, exponent, suffix = ''] = match;
  if (exponent) return Number(number + exponent);
  return Number(number) * (binary[suffix] ?? decimal[suffix]);
}

export function cpuUnits(quantity: string | undefined): number {
  return quantity === undefined ? 0 : Math.floor(Math.round(parseQuantity(quantity) * 1000) * 1.024);
}

export function mebibytes(quantity: string | undefined): number {
  return quantity === undefined ? 0 : Math.floor(parseQuantity(quantity) / 2 ** 20);
}
