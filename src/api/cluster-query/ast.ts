/**
 * The ECS cluster query language, as a tree: `subject operator [argument]` comparisons joined by
 * `and`, `or` and `not(...)`. Subjects are ECS's: `attribute:NAME`, `agentConnected`, `agentVersion`,
 * `ec2InstanceId` (in Berth, the ContainerInstance's name), `registeredAt`, `runningTasksCount` and
 * `task:group`.
 */
export type Subject =
  | { kind: 'attribute'; name: string }
  | { kind: 'agentConnected' }
  | { kind: 'agentVersion' }
  | { kind: 'ec2InstanceId' }
  | { kind: 'registeredAt' }
  | { kind: 'runningTasksCount' }
  | { kind: 'taskGroup' };

export type Operator = '==' | '!=' | '>' | '>=' | '<' | '<=' | 'exists' | '!exists' | 'in' | '!in' | '=~' | '!~';

export type QueryNode =
  | { kind: 'compare'; subject: Subject; operator: Operator; values: readonly string[] }
  | { kind: 'and'; left: QueryNode; right: QueryNode }
  | { kind: 'or'; left: QueryNode; right: QueryNode }
  | { kind: 'not'; operand: QueryNode };

/** The subjects by the name a query writes; `attribute:NAME` is handled apart. */
export const namedSubjects: Readonly<Record<string, Subject>> = {
  agentConnected: { kind: 'agentConnected' },
  agentVersion: { kind: 'agentVersion' },
  ec2InstanceId: { kind: 'ec2InstanceId' },
  registeredAt: { kind: 'registeredAt' },
  runningTasksCount: { kind: 'runningTasksCount' },
  'task:group': { kind: 'taskGroup' },
};

export function subjectName(subject: Subject): string {
  switch (subject.kind) {
    case 'attribute':
      return `attribute:${subject.name}`;
    case 'taskGroup':
      return 'task:group';
    default:
      return subject.kind;
  }
}

/** Operators by how a query may spell them: ECS accepts a word for every symbol. */
export const operatorSpellings: Readonly<Record<string, Operator>> = {
  '==': '==',
  equals: '==',
  '!=': '!=',
  not_equals: '!=',
  '>': '>',
  greater_than: '>',
  '>=': '>=',
  greater_than_equal: '>=',
  '<': '<',
  less_than: '<',
  '<=': '<=',
  less_than_equal: '<=',
  exists: 'exists',
  not_exists: '!exists',
  in: 'in',
  not_in: '!in',
  '=~': '=~',
  matches: '=~',
  '!~': '!~',
  not_matches: '!~',
};

/**
 * Which operators each subject takes, as ECS documents them: a boolean only compares for equality, a
 * count or a time also orders, strings also match patterns and lists.
 */
export function operatorsOf(subject: Subject): readonly Operator[] {
  switch (subject.kind) {
    case 'agentConnected':
      return ['==', '!='];
    case 'agentVersion':
    case 'registeredAt':
      return ['==', '!=', '>', '>=', '<', '<='];
    case 'runningTasksCount':
      return ['==', '!=', '>', '>=', '<', '<=', 'in', '!in'];
    case 'ec2InstanceId':
    case 'taskGroup':
      return ['==', '!=', 'exists', '!exists', 'in', '!in', '=~', '!~'];
    case 'attribute':
      return ['==', '!=', '>', '>=', '<', '<=', 'exists', '!exists', 'in', '!in', '=~', '!~'];
  }
}
