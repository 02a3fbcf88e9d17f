/** Capacity providers: which one a task goes to (ECS's base / weight strategy, launch type, Fargate profiles). */
export { applicableStrategy } from './applicable-strategy';
export { CapacityProviderChooser } from './provider-chooser';
export { nextCapacityProvider, type CapacityProviderStrategy } from './strategy';
