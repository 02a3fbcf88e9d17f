import { boundedName, dnsSubdomain, maxObjectNameLength } from './object-names';

describe('boundedName', () => {
  it('keeps a name that fits', () => {
    expect(boundedName('web-1a2b3c-demo-general-0')).toBe('web-1a2b3c-demo-general-0');
    expect(boundedName('a'.repeat(maxObjectNameLength))).toBe('a'.repeat(maxObjectNameLength));
  });

  it('shortens a long name to a valid subdomain, even where the cut falls on a dot', () => {
    const cutAtDot = `${'a'.repeat(243)}.${'b'.repeat(40)}`;
    const bounded = boundedName(cutAtDot);
    expect(bounded.length).toBeLessThanOrEqual(maxObjectNameLength);
    expect(bounded).toMatch(dnsSubdomain);
    expect(bounded.startsWith('a'.repeat(243))).toBe(true);
  });

  it('gives two long names with the same start different results', () => {
    const start = 'x'.repeat(300);
    expect(boundedName(`${start}-1`)).not.toBe(boundedName(`${start}-2`));
    expect(boundedName(`${start}-1`, 100)).toHaveLength(100);
  });
});
