import type { Service, Task } from '../api';
import { describeService, humanDuration, type ServiceEvent } from './describe-format';

const now = Date.parse('2026-03-02T12:00:00Z');
const ago = (seconds: number) => new Date(now - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

const service = {
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'shop', uid: 'u1' },
  spec: {
    cluster: 'demo',
    taskDefinition: 'web',
    desiredCount: 2,
    schedulingStrategy: 'REPLICA',
    capacityProviderStrategy: [{ capacityProvider: 'general', base: 1, weight: 1 }],
    deploymentConfiguration: { minimumHealthyPercent: 50, deploymentCircuitBreaker: { enable: true, rollback: true } },
    placementConstraints: [{ type: 'distinctInstance' }],
    placementStrategy: [
      { type: 'spread', field: 'attribute:ecs.availability-zone' },
      { type: 'binpack', field: 'memory' },
    ],
    healthCheckGracePeriodSeconds: 30,
    autoScaling: { minCapacity: 1, maxCapacity: 4 },
  },
  status: {
    desiredCount: 2,
    runningCount: 2,
    pendingCount: 1,
    taskDefinition: 'web:3',
    deployments: [
      {
        id: 'ecs-svc-3',
        status: 'PRIMARY',
        taskDefinition: 'web:3',
        desiredCount: 2,
        pendingCount: 1,
        runningCount: 1,
        failedTasks: 0,
        rolloutState: 'IN_PROGRESS',
        rolloutStateReason: 'ECS deployment ecs-svc-3 in progress.',
        createdAt: ago(200),
        updatedAt: ago(5),
      },
      {
        id: 'ecs-svc-2',
        status: 'ACTIVE',
        taskDefinition: 'web:2',
        desiredCount: 1,
        pendingCount: 0,
        runningCount: 1,
        failedTasks: 2,
        rolloutState: 'COMPLETED',
        createdAt: ago(3 * 86400),
        updatedAt: ago(7300),
      },
    ],
    autoScaling: { minCapacity: 2, maxCapacity: 4, declaredMinCapacity: 1, declaredMaxCapacity: 4 },
  },
} as unknown as Service;

const task = (name: string, revision: string, status: Partial<NonNullable<Task['status']>>, instance?: string): Task => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'Task',
  metadata: { name, namespace: 'shop' },
  spec: { cluster: 'demo', taskDefinition: revision, desiredStatus: 'RUNNING', ...(instance && { containerInstance: instance }) },
  status,
});

const tasks = [
  task('web-b-0', 'web:3', { lastStatus: 'PENDING' }, 'demo-general-2'),
  task('web-a-0', 'web:2', { lastStatus: 'RUNNING', healthStatus: 'HEALTHY', startedAt: ago(7200) }, 'demo-general-1'),
  task('web-b-1', 'web:3', { lastStatus: 'RUNNING', healthStatus: 'UNKNOWN', startedAt: ago(30) }, 'demo-general-1'),
  task(
    'web-a-1',
    'web:2',
    { lastStatus: 'STOPPED', stoppedReason: 'Essential container in task exited', startedAt: ago(900), stoppedAt: ago(90) },
    'demo-general-2',
  ),
];

const event = (name: string, reason: string, message: string, first: number, last: number, count = 1, type = 'Normal'): ServiceEvent =>
  ({
    metadata: { name },
    type,
    reason,
    message,
    count,
    firstTimestamp: ago(first),
    lastTimestamp: ago(last),
    source: { component: 'berth-operator' },
  }) as ServiceEvent;

test("the service page: summary, deployments, tasks (recently stopped with their reason), Events newest last with kubectl's ages", () => {
  const events = [
    event('e2', 'TasksStopped', 'service web has stopped 1 task of web:2: Essential container in task exited.', 90, 90, 1, 'Warning'),
    event('e1', 'TasksStarted', 'service web has started 2 tasks of web:3 (deployment ecs-svc-3).', 200, 40, 3),
  ];
  expect(describeService(service, tasks, events, now)).toBe(
    `Name:                        web
Namespace:                   shop
Cluster:                     demo
Task Definition:             web:3 (spec: web)
Capacity Provider Strategy:  general (base 1, weight 1)
Scheduling Strategy:         REPLICA
Status:                      ACTIVE
Desired:                     2
Running:                     2
Pending:                     1
Placement Constraints:       distinctInstance
Placement Strategy:          spread(attribute:ecs.availability-zone), binpack(memory)
Auto Scaling:                min 1, max 4 (in force: min 2, max 4)
Deployment Configuration:
  Minimum Healthy Percent:    50
  Maximum Percent:            200
  Circuit Breaker:            enabled, rollback
  Health Check Grace Period:  30s
Deployments:
  Status   Id         Revision  Rollout      Desired  Pending  Running  Failed  Created  Updated
  PRIMARY  ecs-svc-3  web:3     IN_PROGRESS  2        1        1        0       3m20s    5s
  ACTIVE   ecs-svc-2  web:2     COMPLETED    1        0        1        2       3d       121m
  ecs-svc-3 IN_PROGRESS: ECS deployment ecs-svc-3 in progress.
Tasks:
  Name     Revision  Last Status  Desired  Health   Instance        Started    Stopped Reason
  web-a-0  web:2     RUNNING      RUNNING  HEALTHY  demo-general-1  120m
  web-b-0  web:3     PENDING      RUNNING  UNKNOWN  demo-general-2  <unknown>
  web-b-1  web:3     RUNNING      RUNNING  UNKNOWN  demo-general-1  30s
  web-a-1  web:2     STOPPED      RUNNING  UNKNOWN  demo-general-2  15m        Essential container in task exited (90s ago)
Events:
  Type     Reason        Age                  From            Message
  ----     ------        ----                 ----            -------
  Warning  TasksStopped  90s                  berth-operator  service web has stopped 1 task of web:2: Essential container in task exited.
  Normal   TasksStarted  40s (x3 over 3m20s)  berth-operator  service web has started 2 tasks of web:3 (deployment ecs-svc-3).
`,
  );
});

test('a new service: nothing resolved or running yet, no tasks, no events; a launch type', () => {
  const fresh = {
    ...service,
    spec: {
      ...service.spec,
      capacityProviderStrategy: undefined,
      launchType: 'FARGATE',
      autoScaling: undefined,
      placementConstraints: undefined,
      placementStrategy: undefined,
    },
    status: undefined,
  } as unknown as Service;
  const text = describeService(fresh, [], [], now);
  expect(text).toContain('Task Definition:        web (not resolved yet)\n');
  expect(text).toContain('Launch Type:            FARGATE\n');
  expect(text).toContain('Placement Constraints:  <none>\nPlacement Strategy:     <default>\n');
  expect(text).not.toContain('Auto Scaling');
  expect(text).toMatch(/Deployments: {2}<none>\nTasks: {2}<none>\nEvents: {2}<none>\n$/);
});

test.each([
  [-5_000, '<invalid>'],
  [-1_500, '0s'],
  [0, '0s'],
  [119_000, '119s'],
  [120_000, '2m'],
  [200_000, '3m20s'],
  [7_260_000, '121m'],
  [3 * 3_600_000 + 60_000, '3h1m'],
  [30 * 3_600_000, '30h'],
  [50 * 3_600_000, '2d2h'],
  [20 * 86_400_000, '20d'],
  [3 * 365 * 86_400_000, '3y'],
  [10 * 365 * 86_400_000, '10y'],
])("%d ms reads %s, as kubectl's ages", (ms, text) => {
  expect(humanDuration(ms)).toBe(text);
});
