/**
 * The ECS import corpus (test/fixtures/ecs-corpus, provenance in its SOURCES.md) and what `berth import` makes of
 * each file: the manifests (kind/name) it imports into, or the exact lines it refuses it with. Shared by the unit
 * test on the embedded validator and the integration test through kubectl and the real API server.
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';

/** Where the corpus is relative to the project, as the CLI is given it (so messages name the same path). */
export const corpusPath = 'test/fixtures/ecs-corpus';
export const corpusDir = path.resolve(__dirname, '..', '..', '..', corpusPath);
export const corpusFiles = readdirSync(corpusDir)
  .filter((file) => file.endsWith('.json'))
  .sort();

/** Imported files: their manifests as kind/name, in output order. */
export const expectedManifests: Record<string, string[]> = {
  '01-fargate-wildfly-ulimits-null.json': ['TaskDefinition/wildfly'],
  '02-ec2-host-network-consul-client.json': ['TaskDefinition/consulclient'],
  '03-ec2-bridge-nginx-dynamic-hostport.json': ['TaskDefinition/nginx'],
  '04-ec2-bridge-links-numbers-as-strings.json': ['TaskDefinition/application-stack'],
  '05-ec2-empty-host-volume-volumesfrom.json': ['TaskDefinition/console-sample-app'],
  '06-fargate-appmesh-proxy-firelens-healthcheck-ulimits.json': ['ServiceAccount/ecs-task-role', 'TaskDefinition/appmesh-firelens-colorteller-black'],
  '07-taskdefinition-wrapper-efs-firelens-configfile.json': ['ServiceAccount/ecstaskexecutionrole', 'TaskDefinition/firelens-efs-example'],
  '08-firelens-datadog-secretoptions-secretsmanager.json': ['ServiceAccount/ecs-task-iam-role', 'TaskDefinition/firelens-example-datadog'],
  '09-firelens-log-router-healthcheck.json': ['ServiceAccount/ecs-task-iam-role', 'TaskDefinition/firelens-example-cloudwatch'],
  // EC2 takes any task memory: 64 MiB here, as AWS's own CloudWatch agent sample asks.
  '10-ec2-daemon-bridge-host-sourcepath-volumes.json': ['TaskDefinition/ecs-cwagent-daemon-service'],
  '11-ec2-bridge-sidecar-links-ssm-name-secret.json': ['TaskDefinition/ecs-cwagent-sidecar-ec2'],
  '12-dependson-success-shared-task-volume.json': ['TaskDefinition/ecsftest-container-ordering-success-condition'],
  '13-dependson-complete.json': ['TaskDefinition/ecsftest-container-ordering-complete-condition'],
  '14-dependson-start-stoptimeout.json': ['TaskDefinition/ecsftest-container-granular-stop-timeout'],
  '15-bridge-firelens-dependson-healthy-placeholders.json': ['TaskDefinition/ecsftest-firelens-fluentbit'],
  '16-docker-volume-shared-autoprovision.json': ['TaskDefinition/ecsftest-task-local-volume'],
  '17-linuxparameters-tmpfs.json': ['TaskDefinition/ecsftest-tmpfs'],
  '22-ec2-linuxparameters-capabilities-host-volumes.json': ['TaskDefinition/datadog-agent-task-lee'],
  '24-fargate-secrets-ssm-secretsmanager-jsonkey-ebs-volume.json': ['ServiceAccount/ecstaskrole', 'TaskDefinition/ecspresso-test'],
  '25-describe-task-definition-appmesh-ephemeral-storage.json': ['ServiceAccount/ecstaskrole', 'TaskDefinition/katsubushi'],
  '26-registered-taskdef-envfiles-arm64-fargate.json': ['ServiceAccount/ecs-api-bsafe-s3-bako-safe-env', 'TaskDefinition/bako-safe-api'],
  '27-describe-services-rollback-capacity-provider.json': ['Service/news-thewest-pr713-web-app-service-452bf42'],
};

const file = (name: string) => `${corpusPath}/${name}`;

/** Refused files: the error's summary line, then one line per field, as `berth import` writes them after `error: `. */
export const expectedRefusals: Record<string, string[]> = {
  '18-gpu-resourcerequirements.json': [
    `${file('18-gpu-resourcerequirements.json')}: task definition ecsftest-nvidia-gpu cannot be imported:`,
    'containerDefinitions[0].resourceRequirements: Forbidden: resourceRequirements is not supported: Berth does not schedule GPUs or inference accelerators',
  ],
  '19-inference-accelerators-awsvpc.json': [
    `${file('19-inference-accelerators-awsvpc.json')}: task definition ecsftest-elastic-inference cannot be imported:`,
    'inferenceAccelerators: Forbidden: inferenceAccelerators is not supported: Berth does not schedule inference accelerators',
  ],
  '20-windows-gmsa-credentialspec.json': [
    `${file('20-windows-gmsa-credentialspec.json')}: task definition gmsa-ssm-test cannot run on Berth: Berth runs Linux containers only`,
    'containerDefinitions[0].dockerSecurityOptions[0]: "credentialspec:$$$TEST_SSM_ARN$$$" is a Windows gMSA credential spec',
  ],
  '21-windows-named-pipe-host-volume-readonly-null.json': [
    `${file('21-windows-named-pipe-host-volume-readonly-null.json')}: task definition datadog-agent-task cannot run on Berth: Berth runs Linux containers only`,
    String.raw`volumes[0].host.sourcePath: "\\\\.\\pipe\\docker_engine" is a Windows path`,
    String.raw`containerDefinitions[0].mountPoints[0].containerPath: "\\\\.\\pipe\\docker_engine" is a Windows path`,
  ],
  '23-managed-instances-trailing-comma-invalid-json.json': [
    `${file('23-managed-instances-trailing-comma-invalid-json.json')}:26:13: invalid JSON: expected a value, found "]" (a trailing comma before it: JSON allows none)`,
  ],
  '29-appmesh-fargate-template-placeholders-invalid-json.json': [
    `${file('29-appmesh-fargate-template-placeholders-invalid-json.json')}:2:13: invalid JSON: expected a value, found "$" (this looks like a template, not JSON: render it first, e.g. with envsubst or the tool that owns it, and import the result)`,
  ],
};
