export { nextTaskStatus, placedCondition, type TaskTransition } from './next-task-status';
export {
  taskLifecycleMachine,
  taskStatusOrder,
  type RecordTaskEvent,
  type StopRequestCode,
  type TaskEffect,
  type TaskEvent,
  type TaskLastStatus,
  type TaskLifecycleEvent,
  type TaskLifecycleContext,
  type TaskStopCode,
} from './task-lifecycle-machine';
export { assessObservation, taskHealth, type ContainersObserved, type ObservationVerdict } from './observation';
