import { subjectName, type QueryNode } from './ast';

/** Writes a tree back as an expression that parses to the same tree (values quoted where a bare word would not survive). */
export function formatClusterQuery(node: QueryNode): string {
  switch (node.kind) {
    case 'compare': {
      const subject = subjectName(node.subject);
      if (node.operator === 'exists' || node.operator === '!exists') return `${subject} ${node.operator}`;
      if (node.operator === 'in' || node.operator === '!in') return `${subject} ${node.operator} [${node.values.map(formatValue).join(', ')}]`;
      return `${subject} ${node.operator} ${formatValue(node.values[0])}`;
    }
    case 'not':
      return `not(${formatClusterQuery(node.operand)})`;
    case 'and':
    case 'or':
      return `(${formatClusterQuery(node.left)} ${node.kind} ${formatClusterQuery(node.right)})`;
  }
}

function formatValue(value: string): string {
  return /^[^\s()[\],=!<>&|"']+$/.test(value) && value !== 'and' && value !== 'or' ? value : value.includes("'") ? `"${value}"` : `'${value}'`;
}
