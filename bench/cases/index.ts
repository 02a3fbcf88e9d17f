import type { BenchCase } from '../support/bench-case';
import { convergenceOnKube, convergenceOnMemory } from './convergence';
import { growth } from './growth';

/** Every case, in the order a full run takes them. */
export const cases: BenchCase[] = [convergenceOnKube, convergenceOnMemory, growth];
