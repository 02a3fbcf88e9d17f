/** Which data planes can run a task definition revision, and how a Pod lays out its containers. */
export { isIncompatibility, numericUser, podContainerPlan, podIncompatibility, type Incompatibility, type PodContainerPlan } from './pod-plan';
export { dataPlanesOf, ecsCompatibilities, type DataPlaneCompatibility, type DataPlaneName } from './data-planes';
export { fargateLaunchProblem, fargateProfileAnnotation, fargateProfileOf, type FargateProfile } from './fargate';
