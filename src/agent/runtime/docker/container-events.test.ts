import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { FakeClock, settle } from '../../../runtime/clock';
import { silentLogger } from '../../../runtime/logger';
import { watchContainerEvents } from './container-events';

/** A Dockerode stand-in whose getEvents hands out streams the test writes to and ends. */
function fakeDocker() {
  const streams: PassThrough[] = [];
  const requests: Dockerode.GetEventsOptions[] = [];
  /** What listContainers answers: containers of the instance, by the task uid label. */
  const containers: { Labels: Record<string, string> }[] = [];
  const lists: Dockerode.ContainerListOptions[] = [];
  const docker = {
    getEvents: async (options: Dockerode.GetEventsOptions) => {
      requests.push(options);
      const stream = new PassThrough();
      streams.push(stream);
      return stream;
    },
    listContainers: async (options: Dockerode.ContainerListOptions) => {
      lists.push(options);
      return containers;
    },
  } as unknown as Dockerode;
  return { docker, streams, requests, containers, lists };
}

const event = (action: string, taskUid: string | undefined, time: number) =>
  JSON.stringify({ Type: 'container', Action: action, Actor: { ID: 'c1', Attributes: taskUid ? { 'dev.berth.task-uid': taskUid } : {} }, time }) + '\n';

describe('watchContainerEvents', () => {
  it('asks the engine for this instance’s container events and reports the task of each lifecycle event', async () => {
    const { docker, streams, requests } = fakeDocker();
    const changed: string[] = [];
    const watch = watchContainerEvents({
      docker,
      containerInstance: 'i-1',
      clock: new FakeClock(),
      logger: silentLogger(),
      onChange: (uid) => changed.push(uid),
    });
    await settle();

    expect(requests[0]).toEqual({ filters: { type: ['container'], label: ['dev.berth.container-instance=i-1'] } });
    const [stream] = streams;
    // One event split across chunks, health checks' exec noise, and an event of a container without a task label.
    const start = event('start', 'task-a', 100);
    stream.write(start.slice(0, 10));
    stream.write(start.slice(10) + event('exec_start: sh -c true', 'task-a', 101) + event('health_status: healthy', 'task-b', 102));
    stream.write(event('die', undefined, 103) + event('die', 'task-a', 104));
    await settle();

    expect(changed).toEqual(['task-a', 'task-b', 'task-a']);
    watch.stop();
  });

  it('reconnects with backoff when the stream ends, from the time of the last event seen', async () => {
    const { docker, streams, requests } = fakeDocker();
    const clock = new FakeClock();
    const changed: string[] = [];
    const watch = watchContainerEvents({ docker, containerInstance: 'i-1', clock, logger: silentLogger(), onChange: (uid) => changed.push(uid) });
    await settle();

    streams[0].write(event('start', 'task-a', 1_700_000_000));
    streams[0].end();
    await settle();
    expect(requests).toHaveLength(1);
    await clock.advance(250);
    expect(requests).toHaveLength(2);
    expect(requests[1]).toMatchObject({ since: 1_700_000_000 });

    streams[1].write(event('die', 'task-a', 1_700_000_005));
    await settle();
    expect(changed).toEqual(['task-a', 'task-a']);

    watch.stop();
    streams[1].end();
    await clock.advance(60_000);
    expect(requests).toHaveLength(2);
  });

  it('once a lost stream is open again, reports every task with a container on the engine: a restarted engine does not replay what happened in the gap', async () => {
    const { docker, streams, requests, containers, lists } = fakeDocker();
    const clock = new FakeClock();
    const changed: string[] = [];
    const watch = watchContainerEvents({ docker, containerInstance: 'i-1', clock, logger: silentLogger(), onChange: (uid) => changed.push(uid) });
    await settle();
    expect(lists).toEqual([]); // the first stream needs no resync: the agent re-adopts what the engine lists as it starts

    // The engine restarts; its containers died meanwhile, and the new engine's stream says nothing of it.
    streams[0].destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    containers.push(
      { Labels: { 'dev.berth.task-uid': 'task-a', 'dev.berth.container-name': 'web' } },
      { Labels: { 'dev.berth.task-uid': 'task-a', 'dev.berth.container-name': 'sidecar' } },
      { Labels: { 'dev.berth.task-uid': 'task-b', 'dev.berth.container-name': 'web' } },
    );
    await clock.advance(250);
    expect(requests).toHaveLength(2);
    expect(lists).toEqual([{ all: true, filters: { label: ['dev.berth.container-instance=i-1'] } }]);
    expect(changed).toEqual(['task-a', 'task-b']);
    watch.stop();
  });

  it('keeps retrying while the engine refuses the connection', async () => {
    const requests: number[] = [];
    const docker = {
      getEvents: async () => {
        requests.push(Date.now());
        throw Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' });
      },
    } as unknown as Dockerode;
    const clock = new FakeClock();
    const watch = watchContainerEvents({ docker, containerInstance: 'i-1', clock, logger: silentLogger(), onChange: () => undefined });
    await settle();
    await clock.advance(250 + 500 + 1000);
    expect(requests).toHaveLength(4);
    watch.stop();
    await clock.advance(60_000);
    expect(requests).toHaveLength(4);
  });
});
