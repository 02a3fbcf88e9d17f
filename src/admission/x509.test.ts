import { X509Certificate, createPrivateKey } from 'node:crypto';
import { issueCertificate } from './x509';

describe('issueCertificate', () => {
  const notBefore = new Date('2026-01-01T00:00:00Z');
  const notAfter = new Date('2027-01-01T00:00:00Z');
  const ca = issueCertificate({ commonName: 'berth-webhook-ca', notBefore, notAfter, isCA: true });
  const serving = issueCertificate({
    commonName: 'berth-webhook',
    names: ['berth-webhook.berth-system.svc', '127.0.0.1'],
    notBefore,
    notAfter,
    isCA: false,
    issuer: { ...ca, commonName: 'berth-webhook-ca' },
  });

  test('a self-signed CA that signs a serving certificate for the service name and an IP', () => {
    const root = new X509Certificate(ca.certificate);
    const leaf = new X509Certificate(serving.certificate);
    expect(root.ca).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.verify(root.publicKey)).toBe(true);
    expect(leaf.checkIssued(root)).toBe(true);
    expect(leaf.checkHost('berth-webhook.berth-system.svc')).toBe('berth-webhook.berth-system.svc');
    expect(leaf.checkHost('other.berth-system.svc')).toBeUndefined();
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.subject).toBe('CN=berth-webhook');
    expect(leaf.issuer).toBe('CN=berth-webhook-ca');
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(new Date(leaf.validFrom).toISOString()).toBe(notBefore.toISOString());
    expect(new Date(leaf.validTo).toISOString()).toBe(notAfter.toISOString());
    // The key belongs to the certificate.
    expect(leaf.checkPrivateKey(createPrivateKey(serving.privateKey))).toBe(true);
  });

  test('every certificate gets its own serial number', () => {
    const again = issueCertificate({ commonName: 'berth-webhook-ca', notBefore, notAfter, isCA: true });
    expect(new X509Certificate(again.certificate).serialNumber).not.toBe(new X509Certificate(ca.certificate).serialNumber);
  });
});
