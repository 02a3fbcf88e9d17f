import type { BenchCase } from '../support/bench-case';
import { apiEconomy } from './api-economy';
import { churnLatency } from './churn-latency';
import { convergenceOnKube, convergenceOnMemory } from './convergence';
import { dockerLaunch } from './docker';
import { growth } from './growth';
import { memory } from './memory';
import { placement } from './placement';
import { podDataPlane } from './pod-dataplane';
import { rollingUpdate } from './rolling-update';

/** Every case, in the order a full run takes them. */
export const cases: BenchCase[] = [
  convergenceOnKube,
  convergenceOnMemory,
  growth,
  rollingUpdate,
  churnLatency,
  apiEconomy,
  memory,
  dockerLaunch,
  placement,
  podDataPlane,
];
