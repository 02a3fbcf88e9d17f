import { PassThrough } from 'node:stream';
import { demultiplex } from './log-sources';

const frame = (stream: 1 | 2, text: string) => {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
};

test("Docker's multiplexed log: stdout frames to out, stderr frames to err, in order", () => {
  const out = new PassThrough();
  const err = new PassThrough();
  demultiplex(Buffer.concat([frame(1, 'one\n'), frame(2, 'oops\n'), frame(1, 'two\n')]), out, err);
  expect(String(out.read())).toBe('one\ntwo\n');
  expect(String(err.read())).toBe('oops\n');
});
