/**
 * The few X.509 certificates the webhook needs (a CA, and a serving certificate it signs), built with
 * node:crypto alone: Node verifies and parses certificates but does not issue them, and Berth takes no
 * dependency for two certificates. Keys are ECDSA P-256, signatures ecdsa-with-SHA256, DER assembled
 * by hand from RFC 5280's structures.
 */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

export interface IssuedCertificate {
  /** PEM. */
  certificate: string;
  /** PKCS#8 PEM. */
  privateKey: string;
}

export interface CertificateRequest {
  commonName: string;
  /** DNS names and IP addresses the certificate is valid for (subjectAltName). */
  names?: readonly string[];
  notBefore: Date;
  notAfter: Date;
  /** A CA certificate may sign others; a serving certificate is for TLS servers only. */
  isCA: boolean;
  /** The issuer; absent for a self-signed certificate. */
  issuer?: IssuedCertificate & { commonName: string };
}

export function issueCertificate(request: CertificateRequest): IssuedCertificate {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const signingKey: KeyObject | string = request.issuer?.privateKey ?? privateKey;
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const issuerSpki = request.issuer ? createPublicKey(request.issuer.privateKey).export({ type: 'spki', format: 'der' }) : spki;

  const extensions = [
    extension('2.5.29.19', true, sequence(request.isCA ? [boolean(true)] : [])),
    // keyCertSign + cRLSign for a CA; digitalSignature for an ECDSA TLS server.
    extension('2.5.29.15', true, bitString(Buffer.from([request.isCA ? 0x06 : 0x80]), request.isCA ? 1 : 7)),
    extension('2.5.29.14', false, octetString(keyIdentifier(spki))),
    extension('2.5.29.35', false, sequence([tagged(0x80, keyIdentifier(issuerSpki))])),
  ];
  if (!request.isCA) extensions.push(extension('2.5.29.37', false, sequence([oid('1.3.6.1.5.5.7.3.1')])));
  if (request.names?.length) extensions.push(extension('2.5.29.17', false, sequence(request.names.map(generalName))));

  const tbs = sequence([
    tagged(0xa0, integer(Buffer.from([2]))),
    integer(serialNumber()),
    signatureAlgorithm(),
    name(request.issuer?.commonName ?? request.commonName),
    sequence([time(request.notBefore), time(request.notAfter)]),
    name(request.commonName),
    spki,
    tagged(0xa3, sequence(extensions)),
  ]);
  const signature = sign('sha256', tbs, signingKey);
  const certificate = sequence([tbs, signatureAlgorithm(), bitString(signature, 0)]);
  return { certificate: pem('CERTIFICATE', certificate), privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** ecdsa-with-SHA256. */
function signatureAlgorithm(): Buffer {
  return sequence([oid('1.2.840.10045.4.3.2')]);
}

function generalName(value: string): Buffer {
  const version = isIP(value);
  if (version === 4) return tagged(0x87, Buffer.from(value.split('.').map(Number)));
  if (version === 6) throw new Error(`IPv6 subjectAltNames are not supported: ${value}`);
  return tagged(0x82, Buffer.from(value, 'ascii'));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence([oid(id), ...(critical ? [boolean(true)] : []), octetString(value)]);
}

function name(commonName: string): Buffer {
  return sequence([set([sequence([oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName, 'utf8'))])])]);
}

/** A positive 16-byte serial, minimally encoded: top bit clear (not negative), first byte never 0. */
function serialNumber(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x40;
  return bytes;
}

function keyIdentifier(spki: Buffer): Buffer {
  return createHash('sha1').update(spki).digest();
}

/** UTCTime until 2049, GeneralizedTime after, as RFC 5280 §4.1.2.5 asks. */
function time(at: Date): Buffer {
  const iso = at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return at.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

/** DER length: one byte below 128, else 0x80 | the count of the big-endian bytes that follow. */
function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const sequence = (items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const tagged = (tag: number, content: Buffer) => tlv(tag, content);
const boolean = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
const octetString = (content: Buffer) => tlv(0x04, content);
const bitString = (content: Buffer, unusedBits: number) => tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), content]));

function integer(value: Buffer): Buffer {
  return tlv(0x02, value[0] & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);
}

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const base128: number[] = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) base128.unshift((v & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}
