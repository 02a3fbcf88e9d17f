import type { Manager } from '../runtime/manager';
import { addTaskDefinitionController } from './taskdefinition/controller';

export interface ControllerSetOptions {
  /** Watch one namespace only; all namespaces when absent. */
  namespace?: string;
}

/** Every Berth controller, as both `berth operator` and `berth local` run them. */
export function addControllers(manager: Manager, options: ControllerSetOptions = {}): void {
  addTaskDefinitionController(manager, options.namespace);
}
