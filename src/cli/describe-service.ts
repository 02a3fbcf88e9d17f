import { serviceLabel, services, tasks as taskType, type Service, type Task } from '../api';
import { realClock, type Clock } from '../runtime/clock';
import type { CoreEvent } from '../runtime/events';
import { events as eventType } from '../store/builtin-types';
import type { ObjectStore } from '../store/object-store';
import { connect, type Connection, type ConnectionFlags, type Lines } from './connection';
import { describeService, type ServiceEvent } from './describe-format';
import { printObjects } from './print-objects';

export interface DescribeServiceFlags extends ConnectionFlags {
  /** The service's name (from `service/NAME`). */
  name: string;
  /** The Service object itself, as kubectl get -o yaml|json prints it. */
  output?: 'yaml' | 'json';
}

export interface ServiceView {
  service: Service;
  tasks: Task[];
  events: ServiceEvent[];
}

/**
 * The Service, its tasks (by the label every task of a service carries, and its group, as the service
 * controller counts them) and the Events about it. Events are read from core/v1, which Berth's recorder
 * writes and which holds events.k8s.io's too (one object, two API versions). They are filtered here
 * rather than by a field selector on involvedObject: the embedded store serves only the selectors every
 * resource has, and a namespace keeps Events for an hour only.
 */
export async function readServiceView(store: ObjectStore, namespace: string, name: string): Promise<ServiceView | undefined> {
  const service = await store.get<Service>(services, namespace, name);
  if (!service) return undefined;
  const [{ items: tasks }, { items: events }] = await Promise.all([
    store.list<Task>(taskType, namespace, { labelSelector: `${serviceLabel}=${name}` }),
    store.list<CoreEvent>(eventType, namespace),
  ]);
  return {
    service,
    tasks: tasks.filter((task) => task.spec.group === `service:${name}`),
    events: events.filter((event) => isAbout(event, service)),
  };
}

/** An Event about this Service: Berth's kind (not core's Service of the same name), and this very object when the Event names a uid. */
function isAbout(event: CoreEvent, service: Service): boolean {
  const about = event.involvedObject;
  return (
    about?.kind === 'Service' &&
    about.apiVersion?.startsWith('berth.dev/') === true &&
    about.name === service.metadata.name &&
    (about.uid === undefined || about.uid === '' || about.uid === service.metadata.uid)
  );
}

/** `berth describe service/NAME [-o yaml|json]`: kubectl's NotFound line and exit 1 when there is no such service. */
export async function runDescribeService(
  flags: DescribeServiceFlags,
  output: Lines,
  connection: Connection = connect(flags),
  clock: Clock = realClock,
): Promise<number> {
  const view = await readServiceView(connection.store, connection.namespace, flags.name);
  if (!view) {
    output.err(`Error from server (NotFound): services.berth.dev "${flags.name}" not found`);
    return 1;
  }
  const text = flags.output ? printObjects([view.service], flags.output) : describeService(view.service, view.tasks, view.events, clock.now());
  output.out(text.trimEnd());
  return 0;
}
