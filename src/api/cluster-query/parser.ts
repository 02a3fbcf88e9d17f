import { namedSubjects, operatorsOf, operatorSpellings, subjectName, type Operator, type QueryNode, type Subject } from './ast';

/** Where a query stops making sense: the 1-based column, and what was expected there. */
export interface QueryError {
  message: string;
  position: number;
}

export type ParseResult = { ok: true; ast: QueryNode } | { ok: false; error: QueryError };

type Token = { kind: 'word' | 'quoted' | 'symbol' | 'end'; text: string; position: number };

/** Characters that end a bare word: blanks, brackets, commas, and the starts of operator symbols. */
const delimiters = new Set([' ', '\t', '\n', '\r', '(', ')', '[', ']', ',', '=', '!', '<', '>', '&', '|', '"', "'"]);
const symbols = ['==', '!=', '>=', '<=', '=~', '!~', '&&', '||', '>', '<', '!', '(', ')', '[', ']', ','];

class Failure extends Error {
  constructor(readonly error: QueryError) {
    super(error.message);
  }
}

function fail(message: string, position: number): never {
  throw new Failure({ message: `${message} at column ${position}`, position });
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const position = i + 1;
    if (c === '"' || c === "'") {
      const close = text.indexOf(c, i + 1);
      if (close < 0) fail(`unterminated ${c === '"' ? 'double' : 'single'}-quoted value`, position);
      tokens.push({ kind: 'quoted', text: text.slice(i + 1, close), position });
      i = close + 1;
      continue;
    }
    const symbol = symbols.find((s) => text.startsWith(s, i));
    if (symbol !== undefined) {
      tokens.push({ kind: 'symbol', text: symbol, position });
      i += symbol.length;
      continue;
    }
    if (c === '&' || c === '|') fail(`'${c}' alone is not an operator (use ${c}${c})`, position);
    if (c === '=') fail("'=' alone is not an operator (use == or =~)", position);
    let end = i;
    while (end < text.length && !delimiters.has(text[end])) end++;
    tokens.push({ kind: 'word', text: text.slice(i, end), position });
    i = end;
  }
  tokens.push({ kind: 'end', text: '', position: text.length + 1 });
  return tokens;
}

/**
 * Parses a cluster query language expression. Precedence, tightest first: `not(...)` and parentheses,
 * then `and` (`&&`), then `or` (`||`), so `a or b and c` is `a or (b and c)`. Never throws: an
 * expression that does not parse gives the column where it went wrong and what was expected there.
 */
export function parseClusterQuery(text: string): ParseResult {
  try {
    const parser = new Parser(tokenize(text));
    const ast = parser.expression();
    parser.expectEnd();
    return { ok: true, ast };
  } catch (error) {
    if (error instanceof Failure) return { ok: false, error: error.error };
    throw error;
  }
}

class Parser {
  private index = 0;

  constructor(private readonly tokens: Token[]) {}

  expression(): QueryNode {
    let left = this.conjunction();
    while (this.takeJoin('or', '||')) left = { kind: 'or', left, right: this.conjunction() };
    return left;
  }

  expectEnd(): void {
    const token = this.peek();
    if (token.kind !== 'end') fail(`expected 'and', 'or' or the end of the expression, found ${describe(token)}`, token.position);
  }

  private conjunction(): QueryNode {
    let left = this.unary();
    while (this.takeJoin('and', '&&')) left = { kind: 'and', left, right: this.unary() };
    return left;
  }

  private unary(): QueryNode {
    const token = this.peek();
    if (isSymbol(token, '!') || (token.kind === 'word' && token.text.toLowerCase() === 'not')) {
      this.index++;
      return { kind: 'not', operand: this.unary() };
    }
    if (isSymbol(token, '(')) {
      this.index++;
      const inner = this.expression();
      this.expect(')', "to close the '(' opened");
      return inner;
    }
    return this.comparison();
  }

  private comparison(): QueryNode {
    const subject = this.subject();
    const operatorToken = this.peek();
    const operator = this.operator();
    if (!operatorsOf(subject).includes(operator)) {
      fail(`${subjectName(subject)} does not take '${operator}' (it takes ${operatorsOf(subject).join(', ')})`, operatorToken.position);
    }
    const values =
      operator === 'exists' || operator === '!exists' ? [] : operator === 'in' || operator === '!in' ? this.list(operator) : [this.value(operator)];
    for (const value of values) checkValue(subject, operator, value.text, value.position);
    return { kind: 'compare', subject, operator, values: values.map((value) => value.text) };
  }

  private subject(): Subject {
    const token = this.peek();
    if (token.kind !== 'word') fail(`expected a subject such as attribute:ecs.instance-type, found ${describe(token)}`, token.position);
    this.index++;
    const named = namedSubjects[token.text];
    if (named) return named;
    if (token.text.startsWith('attribute:')) {
      const name = token.text.slice('attribute:'.length);
      if (name.length === 0) fail("expected an attribute name after 'attribute:'", token.position + 'attribute:'.length);
      return { kind: 'attribute', name };
    }
    return fail(`unknown subject '${token.text}' (expected attribute:NAME, ${Object.keys(namedSubjects).join(', ')})`, token.position);
  }

  private operator(): Operator {
    const token = this.peek();
    this.index++;
    if (isSymbol(token, '!') || (token.kind === 'word' && token.text.toLowerCase() === 'not')) {
      // `!exists`, `!in`, `not in`.
      const next = this.peek();
      if (next.kind === 'word' && (next.text === 'exists' || next.text === 'in')) {
        this.index++;
        return next.text === 'exists' ? '!exists' : '!in';
      }
      return fail(`expected 'exists' or 'in' after '${token.text}', found ${describe(next)}`, next.position);
    }
    const operator = token.kind === 'symbol' || token.kind === 'word' ? operatorSpellings[token.text] : undefined;
    if (operator === undefined)
      fail(`expected an operator (==, !=, >, >=, <, <=, =~, !~, in, not in, exists, !exists), found ${describe(token)}`, token.position);
    return operator;
  }

  private list(operator: Operator): Token[] {
    this.expect('[', `after '${operator}' (a list such as [a, b])`);
    const values = [this.value(operator)];
    while (isSymbol(this.peek(), ',')) {
      this.index++;
      values.push(this.value(operator));
    }
    this.expect(']', 'to close the list');
    return values;
  }

  private value(operator: Operator): Token {
    const token = this.peek();
    if (token.kind !== 'word' && token.kind !== 'quoted') fail(`expected a value after '${operator}', found ${describe(token)}`, token.position);
    if (token.kind === 'word' && (token.text === 'and' || token.text === 'or'))
      fail(`expected a value after '${operator}', found '${token.text}'`, token.position);
    this.index++;
    return token;
  }

  private takeJoin(word: string, symbol: string): boolean {
    const token = this.peek();
    if (isSymbol(token, symbol) || (token.kind === 'word' && token.text.toLowerCase() === word)) {
      this.index++;
      return true;
    }
    return false;
  }

  private expect(symbol: string, why: string): void {
    const token = this.peek();
    if (!isSymbol(token, symbol)) fail(`expected '${symbol}' ${why}, found ${describe(token)}`, token.position);
    this.index++;
  }

  private peek(): Token {
    return this.tokens[this.index];
  }
}

function isSymbol(token: Token, text: string): boolean {
  return token.kind === 'symbol' && token.text === text;
}

function describe(token: Token): string {
  return token.kind === 'end' ? 'the end of the expression' : `'${token.text}'`;
}

/** Values the subject cannot hold are refused where they are written, not silently never matched. */
function checkValue(subject: Subject, operator: Operator, value: string, position: number): void {
  if (operator === '=~' || operator === '!~') {
    try {
      new RegExp(`^(?:${value})$`);
    } catch {
      fail(`'${value}' is not a valid regular expression`, position);
    }
    return;
  }
  switch (subject.kind) {
    case 'agentConnected':
      if (value !== 'true' && value !== 'false') fail(`agentConnected is true or false, not '${value}'`, position);
      return;
    case 'runningTasksCount':
      if (!/^\d+$/.test(value)) fail(`runningTasksCount is compared with a whole number, not '${value}'`, position);
      return;
    case 'registeredAt':
      if (Number.isNaN(Date.parse(value))) fail(`registeredAt is compared with a date such as 2024-01-31 or 2024-01-31T12:00:00Z, not '${value}'`, position);
      return;
    default:
      return;
  }
}
