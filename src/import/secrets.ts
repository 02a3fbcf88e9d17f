/**
 * ECS secret sources (Secrets Manager ARNs, SSM Parameter Store ARNs and names) as Kubernetes Secret keys.
 * Berth reads a secret from a Secret in the task definition's namespace, so each source gets a Secret name and
 * key derived from it alone: the same source always maps to the same Secret key, and the user is told which
 * Secret and key to create from which source. No value is ever read or invented.
 */
import { kubernetesName, secretKey } from './names';
import { ImportError } from './report';

export interface SecretSource {
  store: 'Secrets Manager' | 'SSM Parameter Store';
  /** The secret's or parameter's name: for Secrets Manager without the 6-character suffix AWS adds to the ARN. */
  name: string;
  /** What the task definition names it by: an ARN or a parameter name. */
  reference: string;
  jsonKey?: string;
  versionStage?: string;
  versionId?: string;
}

/**
 * Secrets Manager: `arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME[:JSON_KEY:VERSION_STAGE:VERSION_ID]`, where
 * NAME ends with `-` and six random characters when the ARN is complete.
 *   e.g. `arn:aws:secretsmanager:eu-west-1:1:secret:prod/db-AbCdEf:password::` → NAME prod/db, JSON key password.
 * The account is matched loosely (anything but `:`), so a templated one (`{{must_env …}}`) still names the secret.
 */
const secretsManagerArn = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:([^:]+)(?::([^:]*):([^:]*):([^:]*))?$/;
/** A complete ARN's suffix: `-` and six letters or digits. */
const randomSuffix = /-[A-Za-z0-9]{6}$/;
/** SSM: `arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME` (NAME without its leading `/` for a hierarchical one). */
const parameterArn = /^arn:[^:]+:ssm:[^:]*:[^:]*:parameter(\/.+)$/;
/** What SSM allows in a parameter name: letters, digits, `_ . - /`. */
const parameterName = /^[a-zA-Z0-9_.\-/]+$/;

/** The source `valueFrom` names, or undefined when it is none of the three forms (a template placeholder, say). */
export function secretSource(valueFrom: string): SecretSource | undefined {
  const secret = secretsManagerArn.exec(valueFrom);
  if (secret) {
    const [, nameWithSuffix, jsonKey, versionStage, versionId] = secret;
    return {
      store: 'Secrets Manager',
      name: nameWithSuffix.replace(randomSuffix, ''),
      reference: valueFrom,
      ...(jsonKey && { jsonKey }),
      ...(versionStage && { versionStage }),
      ...(versionId && { versionId }),
    };
  }
  const parameter = parameterArn.exec(valueFrom);
  if (parameter) return { store: 'SSM Parameter Store', name: parameter[1], reference: valueFrom };
  if (parameterName.test(valueFrom)) return { store: 'SSM Parameter Store', name: valueFrom, reference: valueFrom };
  return undefined;
}

export interface SecretKeyRef {
  name: string;
  key: string;
}

/**
 * The Secret key a source maps to: the Secret is named after the secret or parameter, the key is its JSON key
 * or `value` for the whole value.
 *   e.g. SSM `/ecspresso-test/foo` and `arn:aws:ssm:…:parameter/ecspresso-test/foo` → Secret ecspresso-test-foo, key value;
 *        `arn:aws:secretsmanager:…:secret:ecspresso-test/json-soBS7X:foo::` → Secret ecspresso-test-json, key foo.
 * Undefined when the name has no letter or digit to name a Secret by.
 */
export function secretKeyRefOf(source: SecretSource): SecretKeyRef | undefined {
  const name = kubernetesName(source.name);
  return name === undefined ? undefined : { name, key: source.jsonKey === undefined ? 'value' : secretKey(source.jsonKey) };
}

/** What to tell the user to put in the Secret key. */
export function describeSource(source: SecretSource): string {
  const part = source.jsonKey === undefined ? '' : `the JSON key ${source.jsonKey} of `;
  const version = [source.versionStage && `version stage ${source.versionStage}`, source.versionId && `version ${source.versionId}`].filter(Boolean);
  const pinned = version.length > 0 ? ` (${version.join(', ')}: a Secret holds one version, store that one)` : '';
  return `${part}${source.store} ${source.store === 'Secrets Manager' ? 'secret' : 'parameter'} ${source.reference}${pinned}`;
}

/**
 * The Secret keys of one import, so that two different sources that sanitize to the same Secret key (SSM `/a/b` and
 * Secrets Manager `a/b`, say) are refused rather than merged.
 */
export class SecretKeys {
  private readonly sources = new Map<string, { source: string; path: string }>();

  claim(ref: SecretKeyRef, source: SecretSource, path: string): void {
    const id = `${ref.name}/${ref.key}`;
    const identity = `${source.store} ${source.name} ${source.jsonKey ?? ''} ${source.versionStage ?? ''} ${source.versionId ?? ''}`;
    const earlier = this.sources.get(id);
    if (earlier && earlier.source !== identity) {
      throw new ImportError(
        `${path}: ${source.reference} and the source (at ${earlier.path}) would both become key ${ref.key} of Secret ${ref.name}, which can hold only one of them`,
      );
    }
    if (!earlier) this.sources.set(id, { source: identity, path });
  }
}
