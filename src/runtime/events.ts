/**
 * Kubernetes Events: the user-facing record of why Berth did something (`kubectl describe` shows
 * them). Repeats of one event are folded into one object with a growing `count`, as client-go's
 * event correlator does, so a crash-looping task cannot flood the API server with Event objects.
 */

import { randomBytes } from 'node:crypto';
import { Clock, metaTime, realClock } from './clock';
import { Logger, objectLogger, silentLogger } from './logger';
import { isStoreError, KubeObject, ObjectStore } from '../store/object-store';
import { boundedName } from '../store/object-names';

import { events as eventType } from '../store/builtin-types';

export type EventKind = 'Normal' | 'Warning';

export interface ObjectReference {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

/** core/v1 Event, the fields Berth writes. */
export interface CoreEvent extends KubeObject {
  involvedObject: ObjectReference;
  reason: string;
  message: string;
  type: EventKind;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string; host?: string };
  reportingComponent: string;
  reportingInstance: string;
}

/** The port controllers record events through. Never rejects: a failed event must not fail a reconcile. */
export interface EventRecorder {
  event(object: KubeObject, type: EventKind, reason: string, message: string): Promise<void>;
}

export interface EventRecorderOptions {
  store: ObjectStore;
  /** Who reports, e.g. `berth-operator`. */
  component: string;
  /** Which replica reports, e.g. the pod name. */
  instance?: string;
  clock?: Clock;
  logger?: Logger;
  /** Repeats within this window increment `count` instead of creating an Event. Default 10 minutes. */
  correlationWindowMs?: number;
  /** How many distinct events to remember for correlation. Default 4096 (client-go's cache size). */
  maxRemembered?: number;
}

interface Remembered {
  namespace: string;
  name: string;
  count: number;
  lastSeenMs: number;
}

export class StoreEventRecorder implements EventRecorder {
  private readonly store: ObjectStore;
  private readonly component: string;
  private readonly instance: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly windowMs: number;
  private readonly maxRemembered: number;
  private readonly remembered = new Map<string, Remembered>();
  /**
   * Events of one object are written one at a time, so two repeats cannot both decide to create; the
   * events of different objects do not wait for each other (a slow write must not delay every Event).
   */
  private readonly tails = new Map<string, Promise<void>>();

  constructor(options: EventRecorderOptions) {
    this.store = options.store;
    this.component = options.component;
    this.instance = options.instance ?? options.component;
    this.clock = options.clock ?? realClock;
    this.log = options.logger ?? silentLogger();
    this.windowMs = options.correlationWindowMs ?? 10 * 60 * 1000;
    this.maxRemembered = options.maxRemembered ?? 4096;
  }

  event(object: KubeObject, type: EventKind, reason: string, message: string): Promise<void> {
    const log = objectLogger(this.log, object);
    if (type === 'Warning') log.warn(message, { event: reason });
    else log.info(message, { event: reason });
    const objectKey = [object.kind, object.metadata.namespace, object.metadata.name].join('/');
    const written = (this.tails.get(objectKey) ?? Promise.resolve()).then(() =>
      this.write(object, type, reason, message).catch((error: unknown) => {
        log.warn('failed to record event', { event: reason, error: error instanceof Error ? error.message : String(error) });
      }),
    );
    this.tails.set(objectKey, written);
    void written.then(() => {
      if (this.tails.get(objectKey) === written) this.tails.delete(objectKey);
    });
    return written;
  }

  private async write(object: KubeObject, type: EventKind, reason: string, message: string): Promise<void> {
    const now = this.clock.now();
    const { namespace, name, uid } = object.metadata;
    const key = [object.kind, namespace, name, uid, type, reason, message].join('\u0000');
    const previous = this.remembered.get(key);
    if (previous && now - previous.lastSeenMs < this.windowMs) {
      try {
        await this.store.patch(eventType, previous.namespace, previous.name, { count: previous.count + 1, lastTimestamp: metaTime(now) });
        this.remember(key, { ...previous, count: previous.count + 1, lastSeenMs: now });
        return;
      } catch (error) {
        // Events expire (the API server keeps them an hour by default): start a fresh one.
        if (!isStoreError(error, 'NotFound')) throw error;
      }
    }
    const event: CoreEvent = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { namespace: namespace ?? 'default', name: boundedName(`${name}.${randomBytes(8).toString('hex')}`) },
      involvedObject: { apiVersion: object.apiVersion, kind: object.kind, namespace, name, uid, resourceVersion: object.metadata.resourceVersion },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: metaTime(now),
      lastTimestamp: metaTime(now),
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: this.instance,
    };
    const created = await this.store.create<CoreEvent>(eventType, event);
    this.remember(key, { namespace: created.metadata.namespace!, name: created.metadata.name, count: 1, lastSeenMs: now });
  }

  private remember(key: string, entry: Remembered): void {
    this.remembered.delete(key);
    this.remembered.set(key, entry);
    if (this.remembered.size > this.maxRemembered) this.remembered.delete(this.remembered.keys().next().value!);
  }
}
