import type { ContainerInstanceSpec } from '../../api';
import { boundedName, dnsSubdomain } from '../../store/object-names';
import { availabilityZoneAttribute, cpuArchitectureAttribute, instanceTypeAttribute, osTypeAttribute } from '../../ecs/attributes';

/**
 * What a self-managed host registers (ECS RegisterContainerInstance): its resources and attributes,
 * read from its Docker engine (`docker info`) and the operator's flags. Pure, so the arithmetic and
 * the attribute rules are tested without an engine.
 */

/** The fields of `docker info` registration reads. */
export interface EngineInfo {
  /** Logical CPUs the engine sees. */
  NCPU: number;
  /** Bytes of memory the engine sees. */
  MemTotal: number;
  /** e.g. linux, windows. */
  OSType: string;
  /** The kernel's machine name (uname -m), e.g. x86_64, aarch64. */
  Architecture: string;
}

export interface RegistrationFlags {
  cluster: string;
  nodeGroup: string;
  /** CPU units kept for the host itself (1024 = one vCPU). */
  reservedCpu: number;
  /** MiB kept for the host itself. */
  reservedMemory: number;
  availabilityZone?: string;
  instanceType?: string;
  /** Custom attributes (--attribute k=v). */
  attributes: Record<string, string>;
}

/** ECS's attribute names for what describes the host; custom attributes may not use the `ecs.` prefix. */

/** uname -m → ECS's ecs.cpu-architecture values (ECS knows only these two). */
const ecsArchitectures: Record<string, string> = { x86_64: 'x86_64', amd64: 'x86_64', aarch64: 'arm64', arm64: 'arm64' };

/** ECS: 1–128 letters, numbers, hyphens, underscores, slashes and periods; values up to 128 characters. */
const attributeName = /^[a-zA-Z0-9_./-]{1,128}$/;
const maxAttributeValueLength = 128;

const mib = 1024 * 1024;

export class RegistrationError extends Error {}

/**
 * The instance's registration spec. Resources are what the engine has minus what the host keeps:
 *   e.g. NCPU 4, MemTotal 8,348,520,448 bytes (7,961.8 MiB → 7,961 MiB whole), reserved 512 CPU and 1,024 MiB:
 *        cpu 4 × 1024 − 512 = 3,584 units, memory 7,961 − 1,024 = 6,937 MiB.
 * A reservation that leaves nothing (cpu or memory ≤ 0) is refused: such an instance could take no task.
 */
export function registrationSpec(info: EngineInfo, flags: RegistrationFlags): Omit<ContainerInstanceSpec, 'status'> {
  const cpu = info.NCPU * 1024 - flags.reservedCpu;
  const memory = Math.floor(info.MemTotal / mib) - flags.reservedMemory;
  if (cpu <= 0) throw new RegistrationError(`--reserved-cpu ${flags.reservedCpu} leaves no CPU: the engine has ${info.NCPU} CPUs (${info.NCPU * 1024} units)`);
  if (memory <= 0)
    throw new RegistrationError(`--reserved-memory ${flags.reservedMemory} leaves no memory: the engine has ${Math.floor(info.MemTotal / mib)} MiB`);
  return {
    cluster: flags.cluster,
    nodeGroup: flags.nodeGroup,
    // The ecs.* attributes describe the host itself; custom ones may not claim them (checked in parseAttributes).
    attributes: {
      ...flags.attributes,
      [osTypeAttribute]: info.OSType,
      [cpuArchitectureAttribute]: ecsArchitecture(info.Architecture),
      ...(flags.availabilityZone ? { [availabilityZoneAttribute]: flags.availabilityZone } : {}),
      ...(flags.instanceType ? { [instanceTypeAttribute]: flags.instanceType } : {}),
    },
    registeredResources: { cpu, memory },
  };
}

export function ecsArchitecture(machine: string): string {
  const architecture = ecsArchitectures[machine];
  if (!architecture) throw new RegistrationError(`the engine's architecture ${machine} has no ECS cpu-architecture (x86_64 or arm64)`);
  return architecture;
}

/** `--attribute k=v` values, as ECS checks custom attributes: the name's characters, the value's length, no `ecs.` prefix. */
export function parseAttributes(values: readonly string[]): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const value of values) {
    const separator = value.indexOf('=');
    if (separator <= 0) throw new RegistrationError(`--attribute: "${value}" is not NAME=VALUE`);
    const name = value.slice(0, separator);
    const attributeValue = value.slice(separator + 1);
    if (!attributeName.test(name)) throw new RegistrationError(`--attribute: "${name}" is not a valid attribute name (letters, numbers, _ . / -, at most 128)`);
    if (name.startsWith('ecs.')) throw new RegistrationError(`--attribute: "${name}": the ecs. prefix is reserved for the attributes the agent sets`);
    if (attributeValue.length > maxAttributeValueLength)
      throw new RegistrationError(`--attribute: the value of "${name}" is longer than ${maxAttributeValueLength} characters`);
    attributes[name] = attributeValue;
  }
  return attributes;
}

/**
 * The default instance name: the host name made a valid object name (lower case, characters other
 * than letters, digits, `.` and `-` turned into `-`, no leading or trailing separator), e.g.
 * `Build_Host-7.example.com` → `build-host-7.example.com`.
 */
export function instanceNameFromHost(hostName: string): string {
  const name = boundedName(
    hostName
      .toLowerCase()
      .replace(/[^a-z0-9.-]+/g, '-')
      .replace(/^[.-]+|[.-]+$/g, ''),
  );
  if (!dnsSubdomain.test(name)) throw new RegistrationError(`the host name "${hostName}" makes no valid instance name: pass --name`);
  return name;
}

/** --name, when given, must already be a valid object name: it is what users will drain and delete. */
export function checkInstanceName(name: string): string {
  if (name.length > 253 || !dnsSubdomain.test(name)) throw new RegistrationError(`--name: "${name}" is not a valid object name (a lower-case DNS subdomain)`);
  return name;
}
