/**
 * The log query language (`LogFilter.query`): terms, "phrases", AND / OR / NOT (and `-term`), parentheses,
 * `field:value`, `field:"phrase"` and `field:prefix*`. A hand-written tokenizer and recursive-descent parser,
 * so that no user text is ever handed to Elasticsearch's own query syntax.
 *
 *   query   := or
 *   or      := and ("OR" and)*
 *   and     := not (["AND"] not)*          -- juxtaposition is AND
 *   not     := ("NOT" | "-") not | primary
 *   primary := "(" or ")" | [field ":"] (word | word* | "phrase")
 *
 * NOT binds tighter than AND, AND tighter than OR. Operators are upper case; `and`, `or`, `not` are words.
 * Positions are 0-based UTF-16 indexes into the query text, as JavaScript and GraphQL clients count them.
 */
import { LOG_LEVELS, parseLevel } from './log-document.js';

export type QueryField = 'message' | 'service' | 'level' | 'traceId' | 'spanId' | `labels.${string}`;

/**
 * A parsed query. `term` on `message` matches the analysed words, on other fields the exact value; `phrase`
 * only occurs on `message` (a quoted value of another field is a `term`); `prefix` is a word ending in `*`.
 */
export type QueryNode =
  | { kind: 'term'; field: QueryField; value: string }
  | { kind: 'phrase'; field: 'message'; value: string }
  | { kind: 'prefix'; field: QueryField; value: string }
  | { kind: 'and'; children: QueryNode[] }
  | { kind: 'or'; children: QueryNode[] }
  | { kind: 'not'; child: QueryNode };

/** An empty query (`ast: null`) matches every entry. */
export type ParsedQuery = { ok: true; ast: QueryNode | null } | QuerySyntaxError;

export interface QuerySyntaxError {
  ok: false;
  message: string;
  /** 0-based index into the query text where the problem is. */
  position: number;
}

export const MAX_QUERY_LENGTH = 4096;
/** Parentheses and NOTs inside each other; Elasticsearch refuses bool queries nested deeper than 30. */
const MAX_NESTING = 8;
const MAX_CLAUSES = 256;

const FIELD_NAMES: ReadonlyMap<string, QueryField> = new Map(
  (['message', 'service', 'level', 'traceId', 'spanId'] as const).map((f) => [f.toLowerCase(), f]),
);
const FIELD_LIST = 'service, level, traceId, spanId, message or labels.<key>';

/** Parses a query; every syntax error comes back as a value with its position. */
export function parseLogQuery(text: string): ParsedQuery {
  if (text.length > MAX_QUERY_LENGTH)
    return syntaxError(`the query is longer than ${MAX_QUERY_LENGTH} characters`, MAX_QUERY_LENGTH);
  try {
    const tokens = tokenize(text);
    return { ok: true, ast: new Parser(tokens, text.length).parse() };
  } catch (error) {
    if (error instanceof QueryError) return syntaxError(error.message, error.position);
    throw error;
  }
}

/** Whether a query parses, for other services that store queries (alert rules) and check them first. */
export function validateLogQuery(text: string): { ok: true } | QuerySyntaxError {
  const parsed = parseLogQuery(text);
  return parsed.ok ? { ok: true } : parsed;
}

function syntaxError(message: string, position: number): QuerySyntaxError {
  return { ok: false, message, position };
}

/** Thrown inside the parser only, caught by parseLogQuery: unwinding the recursion is what it is for. */
class QueryError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

type Token =
  | { type: '(' | ')' | 'AND' | 'OR' | 'NOT'; position: number; text: string }
  | { type: 'clause'; position: number; node: QueryNode };

// ---------------------------------------------------------------------------------------------------------
// Tokenizer

const SPACE = /\s/;
const OPERATORS = new Set(['AND', 'OR', 'NOT']);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (SPACE.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ type: c, position: i, text: c });
      i++;
    } else if (c === '-') {
      if (!startsOperand(text, i + 1)) throw new QueryError('expected a term right after -', i + 1);
      tokens.push({ type: 'NOT', position: i, text: '-' });
      i++;
    } else if (c === '"') {
      const phrase = readPhrase(text, i);
      tokens.push({
        type: 'clause',
        position: i,
        node: clause('message', i, { kind: 'phrase', value: phrase.value, position: i }),
      });
      i = phrase.end;
    } else {
      const word = readWord(text, i);
      if (word.colon === undefined && !word.escaped && OPERATORS.has(word.value)) {
        tokens.push({ type: word.value as 'AND' | 'OR' | 'NOT', position: i, text: word.value });
        i = word.end;
      } else if (word.colon === undefined) {
        tokens.push({
          type: 'clause',
          position: i,
          node: clause('message', i, valueOf(word.value, word.stars, i, word.end)),
        });
        i = word.end;
      } else {
        const fieldName = word.value.slice(0, word.colon);
        const valueStart = word.valueStart!;
        let value: RawValue;
        if (word.end === valueStart && text[valueStart] === '"') {
          const phrase = readPhrase(text, valueStart);
          value = { kind: 'phrase', value: phrase.value, position: valueStart };
          i = phrase.end;
        } else if (word.end === valueStart) {
          throw new QueryError(`expected a value after "${fieldName}:"`, valueStart);
        } else {
          const stars = word.stars.filter((star) => star >= valueStart);
          value = valueOf(word.value.slice(word.colon + 1), stars, valueStart, word.end);
          i = word.end;
        }
        tokens.push({ type: 'clause', position: word.start, node: clause(fieldName, word.start, value) });
      }
    }
  }
  return tokens;
}

/** Whether an operand can start at `i`, right after a `-` (which is NOT only at the start of a word). */
function startsOperand(text: string, i: number): boolean {
  const c = text[i];
  return c !== undefined && !SPACE.test(c) && c !== ')';
}

function readPhrase(text: string, start: number): { value: string; end: number } {
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') return { value, end: i + 1 };
    if (c === '\\') {
      i++;
      if (i === text.length) break;
      value += text[i];
    } else {
      value += c;
    }
  }
  throw new QueryError('the phrase is not closed: add a " at its end', start);
}

interface Word {
  start: number;
  end: number;
  /** Unescaped text. */
  value: string;
  /** Index in `value` of the first unescaped `:`. */
  colon?: number;
  /** Position in the query text right after that colon. */
  valueStart?: number;
  /** Positions in the query text of unescaped `*`s. */
  stars: number[];
  escaped: boolean;
}

/** A bare word runs to the next space, parenthesis or quote; `\` makes the next character ordinary. */
function readWord(text: string, start: number): Word {
  const word: Word = { start, end: start, value: '', stars: [], escaped: false };
  let i = start;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (SPACE.test(c) || c === '(' || c === ')' || c === '"') break;
    if (c === '\\') {
      if (i + 1 === text.length) throw new QueryError('a \\ at the end of the query escapes nothing', i);
      word.escaped = true;
      word.value += text[++i];
    } else {
      if (c === ':' && word.colon === undefined) {
        word.colon = word.value.length;
        word.valueStart = i + 1;
      } else if (c === '*') {
        word.stars.push(i);
      }
      word.value += c;
    }
  }
  word.end = i;
  return word;
}

type RawValue = { kind: 'term' | 'prefix' | 'phrase'; value: string; position: number };

/**
 * A bare value from `position` to `end` in the query text: a term, or a prefix when its only unescaped `*`
 * (`stars`, text positions) is its last character.
 */
function valueOf(value: string, stars: number[], position: number, end: number): RawValue {
  if (value === '*' && stars.length === 1)
    throw new QueryError('a lone * would match everything: leave the query empty instead', position);
  const misplaced = stars.find((star) => star !== end - 1);
  if (misplaced !== undefined)
    throw new QueryError(
      '* may only end a term (prefix search); leading and inner wildcards are not supported',
      misplaced,
    );
  return stars.length === 0
    ? { kind: 'term', value, position }
    : { kind: 'prefix', value: value.slice(0, -1), position };
}

/** A clause on a named field, its value checked and normalised for that field. */
function clause(fieldName: string, fieldPosition: number, raw: RawValue): QueryNode {
  const field = resolveField(fieldName, fieldPosition);
  if (raw.kind === 'phrase' && raw.value.trim() === '') throw new QueryError('the phrase is empty', raw.position);
  if (field === 'message')
    return raw.kind === 'phrase'
      ? { kind: 'phrase', field, value: raw.value }
      : { kind: raw.kind, field, value: raw.value };
  const kind = raw.kind === 'prefix' ? 'prefix' : 'term';
  switch (field) {
    case 'level': {
      const level = parseLevel(raw.value);
      if (kind === 'prefix' || level === undefined)
        throw new QueryError(`level must be one of ${LOG_LEVELS.join(', ')}`, raw.position);
      return { kind, field, value: level };
    }
    case 'traceId':
    case 'spanId': {
      const digits = field === 'traceId' ? 32 : 16;
      const ok =
        kind === 'prefix' ? new RegExp(`^[0-9a-fA-F]{1,${digits - 1}}$`) : new RegExp(`^[0-9a-fA-F]{${digits}}$`);
      if (!ok.test(raw.value))
        throw new QueryError(`${field} must be ${digits} hex digits, or the start of one followed by *`, raw.position);
      return { kind, field, value: raw.value.toLowerCase() };
    }
    default:
      return { kind, field, value: raw.value };
  }
}

function resolveField(name: string, position: number): QueryField {
  const known = FIELD_NAMES.get(name.toLowerCase());
  if (known !== undefined) return known;
  if (name.toLowerCase().startsWith('labels.')) {
    const key = name.slice('labels.'.length);
    if (key.trim() === '') throw new QueryError('labels. needs a key, as in labels.region:kr', position);
    return `labels.${key}`;
  }
  throw new QueryError(`unknown field "${name}": use ${FIELD_LIST} (quote text that contains a colon)`, position);
}

// ---------------------------------------------------------------------------------------------------------
// Parser

class Parser {
  private next = 0;
  private nesting = 0;
  private clauses = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly end: number,
  ) {}

  parse(): QueryNode | null {
    if (this.tokens.length === 0) return null;
    const node = this.or();
    // `or` stops only at the end or at a `)` it did not open.
    const extra = this.peek();
    if (extra !== undefined) throw new QueryError('this ) closes nothing', extra.position);
    return node;
  }

  private or(): QueryNode {
    const children = [this.and()];
    while (this.peek()?.type === 'OR') {
      children.push(this.operand(() => this.and(), this.take()));
    }
    return children.length === 1
      ? children[0]!
      : { kind: 'or', children: children.flatMap((c) => (c.kind === 'or' ? c.children : [c])) };
  }

  private and(): QueryNode {
    const children = [this.not()];
    for (;;) {
      const token = this.peek();
      if (token?.type === 'AND') {
        this.take();
        children.push(this.operand(() => this.not(), token));
      } else if (token !== undefined && startsNot(token)) {
        children.push(this.not());
      } else {
        break;
      }
    }
    return children.length === 1
      ? children[0]!
      : { kind: 'and', children: children.flatMap((c) => (c.kind === 'and' ? c.children : [c])) };
  }

  private not(): QueryNode {
    const token = this.peek();
    if (token?.type !== 'NOT') return this.primary();
    this.take();
    const child = this.nested(token, () => this.operand(() => this.not(), token));
    return child.kind === 'not' ? child.child : { kind: 'not', child };
  }

  private primary(): QueryNode {
    const token = this.peek();
    if (token === undefined) throw new QueryError('expected a term at the end of the query', this.end);
    switch (token.type) {
      case 'clause':
        this.take();
        if (++this.clauses > MAX_CLAUSES)
          throw new QueryError(`the query has more than ${MAX_CLAUSES} terms`, token.position);
        return token.node;
      case '(': {
        this.take();
        if (this.peek()?.type === ')') throw new QueryError('the parentheses are empty', token.position);
        if (this.peek() === undefined) throw new QueryError('this ( is not closed', token.position);
        const inner = this.nested(token, () => this.or());
        if (this.peek()?.type !== ')') throw new QueryError('this ( is not closed', token.position);
        this.take();
        return inner;
      }
      case ')':
        throw new QueryError('this ) closes nothing', token.position);
      default:
        throw new QueryError(`expected a term before ${operatorText(token)}`, token.position);
    }
  }

  private nested(opening: Token, parse: () => QueryNode): QueryNode {
    if (++this.nesting > MAX_NESTING)
      throw new QueryError(`parentheses and NOTs nest deeper than ${MAX_NESTING} levels`, opening.position);
    const node = parse();
    this.nesting--;
    return node;
  }

  /** The operand after an operator, with an error naming that operator when it is missing. */
  private operand(parse: () => QueryNode, operator: Token): QueryNode {
    const token = this.peek();
    if (token === undefined || !startsNot(token)) {
      throw new QueryError(`expected a term after ${operatorText(operator)}`, token?.position ?? this.end);
    }
    return parse();
  }

  private peek(): Token | undefined {
    return this.tokens[this.next];
  }

  private take(): Token {
    return this.tokens[this.next++]!;
  }
}

function startsNot(token: Token): boolean {
  return token.type === 'clause' || token.type === '(' || token.type === 'NOT';
}

function operatorText(token: Token): string {
  return token.type === 'clause' ? 'a term' : token.text;
}
