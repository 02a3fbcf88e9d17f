import type Dockerode from 'dockerode';
import type { TaskLaunch } from '../../task-runtime';
import { secretVariablesLabel } from './labels';
import { goQuoted, inspectionScrubber, launchScrubber, masked, SecretScrubber } from './secret-scrubber';

test('a value is masked as is, Go-quoted (as runc echoes an environment entry) and JSON-escaped', () => {
  const scrubber = new SecretScrubber(['Zq8\u0000pW3mK7xR2', 'first-line\nsecond-line', 'say "hi" \\ bye']);
  // The exact shape of runc's refusal of a NUL byte, as the engine returns it in State.Error.
  const runc = `error during container init: environment variable value can't contain null(\\x00): "TOKEN=Zq8\\x00pW3mK7xR2": unknown`;
  expect(scrubber.scrub(runc)).toBe(`error during container init: environment variable value can't contain null(\\x00): "TOKEN=${masked}": unknown`);
  expect(scrubber.scrub('invalid environment variable: =X=first-line\nsecond-line')).toBe(`invalid environment variable: =X=${masked}`);
  expect(scrubber.scrub('quoted "first-line\\nsecond-line" and {"v":"say \\"hi\\" \\\\ bye"}')).toBe(`quoted "${masked}" and {"v":"${masked}"}`);
});

test('a value containing another is masked whole, every occurrence, and values under 4 characters are left alone', () => {
  const scrubber = new SecretScrubber(['abcd', 'xxabcdxx', 'on', '']);
  expect(scrubber.scrub('xxabcdxx then abcd then abcd, on and on')).toBe(`${masked} then ${masked} then ${masked}, on and on`);
});

test("Go's %q escapes control characters, quotes and backslashes, and keeps printable text", () => {
  expect(goQuoted('a\u0000b\nc\td"e\\f\u007fg é ✓')).toBe('a\\x00b\\nc\\td\\"e\\\\f\\x7fg é ✓');
  expect(goQuoted('\u200b')).toBe('\\u200b');
});

test("a launch's scrubber masks its resolved variables and registry passwords", () => {
  const launch = {
    resolvedEnvironment: { app: { DB_PASSWORD: 'hunter2-but-longer' }, sidecar: { API_KEY: 'k3y-for-the-sidecar' } },
    registryAuth: { app: { username: 'robot', password: 'registry-pa55word', serveraddress: 'registry.example.com' } },
  } as unknown as TaskLaunch;
  expect(launchScrubber(launch).scrub('hunter2-but-longer k3y-for-the-sidecar registry-pa55word robot')).toBe(`${masked} ${masked} ${masked} robot`);
});

test("an inspection's scrubber masks the values of the variables its label names, and only those", () => {
  const inspection = {
    Config: {
      Env: ['PATH=/usr/bin:/bin', 'GREETING=hello-world', 'TOKEN=tok-3n\u0000value', 'URL=postgres://u:p@db'],
      Labels: { [secretVariablesLabel]: JSON.stringify(['TOKEN', 'URL']) },
    },
  } as unknown as Dockerode.ContainerInspectInfo;
  expect(inspectionScrubber(inspection).scrub('"TOKEN=tok-3n\\x00value" postgres://u:p@db hello-world /usr/bin:/bin')).toBe(
    `"TOKEN=${masked}" ${masked} hello-world /usr/bin:/bin`,
  );
  // No label (a container another Berth made, or none of its variables secret): nothing to mask.
  const unlabelled = { Config: { Env: ['TOKEN=tok-3n-value'], Labels: {} } } as unknown as Dockerode.ContainerInspectInfo;
  expect(inspectionScrubber(unlabelled).scrub('tok-3n-value')).toBe('tok-3n-value');
});
