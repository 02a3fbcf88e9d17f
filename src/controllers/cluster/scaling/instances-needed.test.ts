import fc from 'fast-check';
import { instancesNeeded, type InstanceRoom, type TaskShape } from './instances-needed';

const type = { cpu: 1024, memory: 2048 };
const shape = (cpu: number, memory: number, fields: Partial<TaskShape> = {}): TaskShape => ({ cpu, memory, hostPorts: [], ...fields });
const room = (cpu: number, memory: number, fields: Partial<InstanceRoom> = {}): InstanceRoom => ({
  cpu,
  memory,
  takenPorts: [],
  groups: [],
  occupied: cpu < type.cpu || memory < type.memory,
  ...fields,
});

describe('instancesNeeded (M, first-fit-decreasing)', () => {
  test('the worked example: tasks on an instance keep it, the waiting fill the room left, then new instances', () => {
    const waiting = [shape(512, 1024), shape(512, 1024), shape(512, 1024), shape(1024, 2048)];
    expect(instancesNeeded([room(512, 1024), room(1024, 2048)], waiting, type)).toBe(3);
  });

  test('every occupied instance counts, an empty one only once a waiting task lands on it', () => {
    expect(instancesNeeded([room(0, 0), room(512, 1024), room(1024, 2048)], [], type)).toBe(2);
    expect(instancesNeeded([room(1024, 2048), room(1024, 2048)], [shape(256, 256)], type)).toBe(1);
    expect(instancesNeeded([], [], type)).toBe(0);
  });

  test('once the waiting tasks need a new instance, every instance counts, even one that only DAEMON tasks hold', () => {
    const daemonOnly = room(256, 256, { occupied: false });
    expect(instancesNeeded([daemonOnly], [shape(512, 512)], type)).toBe(2);
    expect(instancesNeeded([daemonOnly], [shape(128, 128)], type)).toBe(1);
    expect(instancesNeeded([daemonOnly], [], type)).toBe(0);
  });

  test('largest first: 2 tasks per instance by memory, 5 waiting need 3 instances', () => {
    expect(
      instancesNeeded(
        [],
        Array.from({ length: 5 }, () => shape(256, 1024)),
        type,
      ),
    ).toBe(3);
  });

  test('a static host port, or distinctInstance, keeps two tasks apart', () => {
    const port = { port: 80, protocol: 'tcp' as const };
    expect(instancesNeeded([], [shape(128, 128, { hostPorts: [port] }), shape(128, 128, { hostPorts: [port] })], type)).toBe(2);
    expect(instancesNeeded([room(1024, 2048, { takenPorts: ['tcp/80'], occupied: true })], [shape(128, 128, { hostPorts: [port] })], type)).toBe(2);
    const distinct = shape(128, 128, { distinctGroup: 'service:web' });
    expect(instancesNeeded([room(896, 1920, { groups: ['service:web'] })], [distinct, distinct], type)).toBe(3);
  });

  test('never fewer than the occupied instances or the memory bound, never more than one instance per task besides them (fast-check, fixed seed)', () => {
    const task = fc.record({ cpu: fc.integer({ min: 0, max: type.cpu }), memory: fc.integer({ min: 0, max: type.memory }) });
    const instance = fc.record({ cpu: fc.integer({ min: 0, max: type.cpu }), memory: fc.integer({ min: 0, max: type.memory }) });
    fc.assert(
      fc.property(fc.array(instance, { maxLength: 10 }), fc.array(task, { maxLength: 30 }), (instances, tasks) => {
        const rooms = instances.map((i) => room(i.cpu, i.memory));
        const needed = instancesNeeded(
          rooms,
          tasks.map((t) => shape(t.cpu, t.memory)),
          type,
        );
        const occupied = rooms.filter((r) => r.occupied).length;
        expect(needed).toBeGreaterThanOrEqual(occupied);
        expect(needed).toBeLessThanOrEqual(occupied + tasks.length);
        // All the memory in use and waiting cannot fit in fewer instances.
        const memory = rooms.reduce((sum, r) => sum + type.memory - r.memory, 0) + tasks.reduce((sum, t) => sum + t.memory, 0);
        expect(needed).toBeGreaterThanOrEqual(Math.ceil(memory / type.memory));
      }),
      { seed: 31, numRuns: 500 },
    );
  });
});
