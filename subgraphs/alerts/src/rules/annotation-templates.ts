/**
 * A small, safe template language for annotations and notification titles/bodies, shaped like the Go templates
 * Prometheus and Grafana users already write:
 *
 *   {{ $labels.service }} is at {{ $value | printf "%.2f" }}
 *   {{ if $labels.route }}route {{ $labels.route }}{{ else }}every route{{ end }}
 *   {{ index $labels "service.name" | upper }}     {{- trims the whitespace before, -}} after
 *   {{ range $alert := $alerts }}- {{ $alert.labels.alertname }}{{ else }}none{{ end }}
 *
 * An action is a pipeline: an operand (`$variable.field`, "string", number) or a function call, then `| fn args`
 * where the value on the left becomes the call's last argument, as in Go. Functions: humanize,
 * humanizePercentage, printf, upper, lower, default, index, len, json. Nothing else runs: no methods, only the
 * data's own fields are reachable (`$labels.constructor` and `$labels.__proto__` are empty), `range` walks the
 * data's own lists (at most MAX_RANGE_ITEMS entries each, so a loop ends with its data), and the output is cut at
 * `maxLength`.
 */

export type TemplateValue =
  string | number | boolean | null | undefined | readonly TemplateValue[] | { readonly [key: string]: TemplateValue };

/** The variables a template may name, without the `$`. */
export type TemplateData = { readonly [variable: string]: TemplateValue };

/** What an annotation can name: the instance's labels and its value. */
export const ANNOTATION_VARIABLES: readonly string[] = ['labels', 'value'];

export interface ParseOptions {
  /** The variables the template may use (without `$`); another name is a parse error. Default ANNOTATION_VARIABLES. */
  readonly variables?: readonly string[];
}

export interface RenderOptions {
  /** Longest output in characters; longer output ends with "…". Default 4096. */
  readonly maxLength?: number;
}

export type ParseResult =
  | { readonly ok: true; readonly template: Template }
  | { readonly ok: false; readonly message: string; readonly line: number; readonly column: number };

type Operand =
  | { readonly kind: 'literal'; readonly value: string | number }
  | { readonly kind: 'variable'; readonly name: string; readonly path: readonly string[] };
type Command =
  | { readonly kind: 'operand'; readonly operand: Operand }
  | { readonly kind: 'call'; readonly fn: TemplateFunction; readonly args: readonly Operand[] };
type Pipeline = readonly Command[];
type Node =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'output'; readonly pipeline: Pipeline }
  | {
      readonly kind: 'if';
      readonly branches: readonly { readonly condition: Pipeline; readonly body: readonly Node[] }[];
      readonly otherwise: readonly Node[];
    }
  | {
      readonly kind: 'range';
      readonly variable: string;
      readonly list: Pipeline;
      readonly body: readonly Node[];
      readonly otherwise: readonly Node[];
    };

export interface Template {
  readonly source: string;
  readonly nodes: readonly Node[];
}

const DEFAULT_MAX_OUTPUT = 4096;
/** Deep enough for any real annotation; bounds the renderer's recursion. */
const MAX_NESTING = 10;
/** Entries one `range` walks at most: a message lists this many alerts or log lines, not a whole store. */
export const MAX_RANGE_ITEMS = 1000;

interface TemplateFunction {
  readonly name: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  apply(args: readonly TemplateValue[]): TemplateValue;
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const PRINTF_VERB = /%(?:\.(\d{1,2}))?([sdfv%])?/g;

class TemplateSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------- values

function toNumber(value: TemplateValue): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  return Number.NaN;
}

function showNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return String(value);
}

/** Go's %.4g: four significant digits, no trailing zeros. */
function significant4(value: number): string {
  if (!Number.isFinite(value)) return showNumber(value);
  return showNumber(Number(value.toPrecision(4)));
}

function show(value: TemplateValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return showNumber(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return (value as readonly TemplateValue[]).map(show).join(', ');
  if (typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${key}="${show(ownField(value, key))}"`);
    return `{${entries.join(', ')}}`;
  }
  return '';
}

function truthy(value: TemplateValue): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length > 0;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  return Boolean(value);
}

/** Only the data's own fields: inherited ones (constructor, __proto__, toString) are not data. */
function ownField(container: TemplateValue, key: string | number): TemplateValue {
  if (typeof container !== 'object' || container === null) return undefined;
  if (Array.isArray(container) !== (typeof key === 'number')) return undefined;
  if (!Object.hasOwn(container, key)) return undefined;
  const value = (container as Record<string | number, unknown>)[key];
  return typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint'
    ? undefined
    : (value as TemplateValue);
}

function lengthOf(value: TemplateValue): number {
  if (typeof value === 'string' || Array.isArray(value)) return value.length;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length;
  return 0;
}

const SI_LARGE = ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
const SI_SMALL = ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y'];

/** Prometheus' humanize: 1234567 → "1.235M", 0.0042 → "4.2m". */
function humanize(value: TemplateValue): string {
  let v = toNumber(value);
  if (Number.isNaN(v) && typeof value === 'string') return value;
  if (v === 0 || !Number.isFinite(v)) return significant4(v);
  let prefix = '';
  if (Math.abs(v) >= 1) {
    for (const p of SI_LARGE) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
  } else {
    for (const p of SI_SMALL) {
      if (Math.abs(v) >= 1) break;
      prefix = p;
      v *= 1000;
    }
  }
  return `${significant4(v)}${prefix}`;
}

function printf(format: string, args: readonly TemplateValue[]): string {
  let next = 0;
  return format.replace(PRINTF_VERB, (_, decimals: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    const arg = args[next++];
    const n = toNumber(arg);
    if (verb === 'd') return Number.isNaN(n) ? show(arg) : showNumber(Math.round(n));
    if (verb === 'f')
      return Number.isFinite(n)
        ? n.toFixed(decimals === undefined ? 6 : Number(decimals))
        : Number.isNaN(n)
          ? show(arg)
          : showNumber(n);
    return show(arg);
  });
}

/** The verbs of a printf format, or the offset (within the format) of the first one we do not support. */
function printfVerbs(format: string): { count: number } | { badAt: number } {
  let count = 0;
  for (const match of format.matchAll(PRINTF_VERB)) {
    if (match[2] === undefined) return { badAt: match.index };
    if (match[2] !== '%') count++;
  }
  return { count };
}

const FUNCTION_LIST: readonly TemplateFunction[] = [
  { name: 'humanize', minArgs: 1, maxArgs: 1, apply: ([v]) => humanize(v) },
  {
    name: 'humanizePercentage',
    minArgs: 1,
    maxArgs: 1,
    apply: ([v]) => (Number.isNaN(toNumber(v)) ? show(v) : `${significant4(toNumber(v) * 100)}%`),
  },
  { name: 'printf', minArgs: 1, maxArgs: 9, apply: ([format, ...args]) => printf(show(format), args) },
  { name: 'upper', minArgs: 1, maxArgs: 1, apply: ([v]) => show(v).toUpperCase() },
  { name: 'lower', minArgs: 1, maxArgs: 1, apply: ([v]) => show(v).toLowerCase() },
  // As in sprig: `{{ $labels.env | default "prod" }}` is default("prod", env).
  { name: 'default', minArgs: 2, maxArgs: 2, apply: ([fallback, v]) => (truthy(v) ? v : fallback) },
  {
    name: 'index',
    minArgs: 2,
    maxArgs: 2,
    apply: ([container, key]) =>
      typeof key === 'string' || typeof key === 'number' ? ownField(container, key) : undefined,
  },
  { name: 'len', minArgs: 1, maxArgs: 1, apply: ([v]) => lengthOf(v) },
  // For JSON bodies (an HTTP channel's request template): the value as a JSON literal, quotes and escapes included.
  { name: 'json', minArgs: 1, maxArgs: 1, apply: ([v]) => JSON.stringify(v ?? null) },
];
const FUNCTIONS: ReadonlyMap<string, TemplateFunction> = new Map(FUNCTION_LIST.map((f) => [f.name, f]));

// ---------------------------------------------------------------------------------------------- parsing

type Token =
  | { readonly kind: 'ident'; readonly name: string; readonly at: number }
  | { readonly kind: 'operand'; readonly operand: Operand; readonly at: number }
  | { readonly kind: 'pipe'; readonly at: number }
  | { readonly kind: 'assign'; readonly at: number };

function isSpace(char: string | undefined): boolean {
  return char === ' ' || char === '\t' || char === '\n' || char === '\r';
}

function matchAt(pattern: RegExp, text: string, at: number): string | undefined {
  pattern.lastIndex = at;
  return pattern.exec(text)?.[0];
}

function lexString(text: string, at: number): { value: string; end: number } {
  let value = '';
  let i = at + 1;
  while (i < text.length) {
    const char = text[i] as string;
    if (char === '"') return { value, end: i + 1 };
    if (char === '\n') break;
    if (char === '\\') {
      const escaped = text[i + 1];
      const replacement =
        escaped === 'n' ? '\n' : escaped === 't' ? '\t' : escaped === '"' || escaped === '\\' ? escaped : undefined;
      if (replacement === undefined) throw new TemplateSyntaxError(`unknown escape \\${escaped ?? ''} in a string`, i);
      value += replacement;
      i += 2;
    } else {
      value += char;
      i++;
    }
  }
  throw new TemplateSyntaxError('unterminated string', at);
}

/** The tokens of the action whose `{{` is at `open`, and where the text resumes after its `}}`. */
function lexAction(text: string, open: number, start: number) {
  const tokens: Token[] = [];
  let i = start;
  for (;;) {
    while (isSpace(text[i])) i++;
    if (i >= text.length) throw new TemplateSyntaxError('unclosed action: no }} after {{', open);
    if (text.startsWith('}}', i)) return { tokens, end: i + 2, trimAfter: false };
    if (text.startsWith('-}}', i) && isSpace(text[i - 1])) return { tokens, end: i + 3, trimAfter: true };
    const char = text[i] as string;
    if (char === '|') {
      tokens.push({ kind: 'pipe', at: i });
      i++;
    } else if (text.startsWith(':=', i)) {
      tokens.push({ kind: 'assign', at: i });
      i += 2;
    } else if (char === '"') {
      const { value, end } = lexString(text, i);
      tokens.push({ kind: 'operand', operand: { kind: 'literal', value }, at: i });
      i = end;
    } else if (char === '$') {
      const name = matchAt(IDENT, text, i + 1);
      if (name === undefined) throw new TemplateSyntaxError('expected a variable name after $', i);
      const path: string[] = [];
      let end = i + 1 + name.length;
      while (text[end] === '.') {
        const field = matchAt(IDENT, text, end + 1);
        if (field === undefined)
          throw new TemplateSyntaxError(
            `expected a field name after "." (for other keys: index $${name} "key.with.dots")`,
            end,
          );
        path.push(field);
        end += 1 + field.length;
      }
      tokens.push({ kind: 'operand', operand: { kind: 'variable', name, path }, at: i });
      i = end;
    } else if (matchAt(NUMBER, text, i) !== undefined) {
      const number = matchAt(NUMBER, text, i) as string;
      tokens.push({ kind: 'operand', operand: { kind: 'literal', value: Number(number) }, at: i });
      i += number.length;
    } else if (matchAt(IDENT, text, i) !== undefined) {
      const name = matchAt(IDENT, text, i) as string;
      tokens.push({ kind: 'ident', name, at: i });
      i += name.length;
    } else if (char === '.') {
      throw new TemplateSyntaxError('unexpected "."; variables start with $, e.g. $labels.service', i);
    } else {
      throw new TemplateSyntaxError(`unexpected "${char}"`, i);
    }
  }
}

function tokenText(token: Token): string {
  if (token.kind === 'pipe') return '"|"';
  if (token.kind === 'assign') return '":="';
  if (token.kind === 'ident') return `"${token.name}"`;
  const { operand } = token;
  return operand.kind === 'variable' ? `$${[operand.name, ...operand.path].join('.')}` : JSON.stringify(operand.value);
}

function parseCommand(tokens: readonly Token[], piped: boolean, actionAt: number): Command {
  const [head, ...rest] = tokens;
  if (head === undefined)
    throw new TemplateSyntaxError(piped ? 'expected a function after "|"' : 'empty pipeline', actionAt);
  if (head.kind === 'pipe' || head.kind === 'assign')
    throw new TemplateSyntaxError(`unexpected ${tokenText(head)}`, head.at);
  if (head.kind === 'operand') {
    if (piped) throw new TemplateSyntaxError(`expected a function after "|", got ${tokenText(head)}`, head.at);
    const extra = rest[0];
    if (extra !== undefined)
      throw new TemplateSyntaxError(
        `unexpected ${tokenText(extra)} after ${tokenText(head)}; pass values to functions with "|"`,
        extra.at,
      );
    return { kind: 'operand', operand: head.operand };
  }
  const fn = FUNCTIONS.get(head.name);
  if (fn === undefined) {
    throw new TemplateSyntaxError(
      `unknown function "${head.name}" (known: ${FUNCTION_LIST.map((f) => f.name).join(', ')})`,
      head.at,
    );
  }
  const args: Operand[] = [];
  for (const token of rest) {
    if (token.kind !== 'operand')
      throw new TemplateSyntaxError(`unexpected ${tokenText(token)}: a function's arguments are values`, token.at);
    args.push(token.operand);
  }
  const count = args.length + (piped ? 1 : 0);
  if (count < fn.minArgs || count > fn.maxArgs) {
    const wanted = fn.minArgs === fn.maxArgs ? `${fn.minArgs}` : `${fn.minArgs} to ${fn.maxArgs}`;
    throw new TemplateSyntaxError(
      `${fn.name} takes ${wanted} argument${fn.maxArgs === 1 ? '' : 's'}, got ${count}`,
      head.at,
    );
  }
  if (fn.name === 'printf') checkPrintf(args, count - 1, rest[0]?.at ?? head.at);
  return { kind: 'call', fn, args };
}

function checkPrintf(args: readonly Operand[], values: number, formatAt: number) {
  const format = args[0];
  if (format?.kind !== 'literal' || typeof format.value !== 'string') {
    throw new TemplateSyntaxError('printf needs a format string first, e.g. printf "%.2f" $value', formatAt);
  }
  const verbs = printfVerbs(format.value);
  if ('badAt' in verbs) {
    throw new TemplateSyntaxError(
      `printf supports %s %v %d %f %.Nf and %%, not "${format.value.slice(verbs.badAt, verbs.badAt + 3)}"`,
      formatAt,
    );
  }
  if (verbs.count !== values) {
    throw new TemplateSyntaxError(
      `printf format ${JSON.stringify(format.value)} has ${verbs.count} verb(s) for ${values} value(s)`,
      formatAt,
    );
  }
}

function parsePipeline(tokens: readonly Token[], actionAt: number): Pipeline {
  const commands: Command[] = [];
  let current: Token[] = [];
  for (const token of tokens) {
    if (token.kind === 'pipe') {
      commands.push(parseCommand(current, commands.length > 0, current[0]?.at ?? token.at));
      current = [];
    } else {
      current.push(token);
    }
  }
  commands.push(parseCommand(current, commands.length > 0, tokens.at(-1)?.at ?? actionAt));
  return commands;
}

/** An {{ if }} or {{ range }} whose {{ end }} has not come yet. */
type OpenBlock =
  | {
      readonly kind: 'if';
      readonly at: number;
      readonly branches: { condition: Pipeline; body: Node[] }[];
      otherwise: Node[] | undefined;
      /** Where text and actions go now: the last branch's body, or `otherwise` after {{ else }}. */
      target: Node[];
    }
  | {
      readonly kind: 'range';
      readonly at: number;
      readonly variable: string;
      readonly list: Pipeline;
      readonly body: Node[];
      otherwise: Node[] | undefined;
      target: Node[];
    };

/** Every variable an action names must be known where it stands: the caller's, or one a {{ range }} around it declares. */
function checkVariables(tokens: readonly Token[], known: readonly string[]) {
  for (const token of tokens) {
    if (token.kind === 'operand' && token.operand.kind === 'variable' && !known.includes(token.operand.name)) {
      throw new TemplateSyntaxError(
        `unknown variable $${token.operand.name} (known: ${known.map((v) => `$${v}`).join(', ')})`,
        token.at,
      );
    }
  }
}

/** `{{ range $x := pipeline }}`: the variable it declares and the list it walks. */
function parseRange(
  tokens: readonly Token[],
  actionAt: number,
  known: readonly string[],
): { variable: string; list: Pipeline } {
  const [, declared, assign, ...list] = tokens;
  if (
    declared?.kind !== 'operand' ||
    declared.operand.kind !== 'variable' ||
    declared.operand.path.length > 0 ||
    assign?.kind !== 'assign'
  ) {
    throw new TemplateSyntaxError(
      '{{ range }} declares a variable for each entry, e.g. {{ range $alert := $alerts }}',
      declared?.at ?? actionAt,
    );
  }
  const { name } = declared.operand;
  if (known.includes(name))
    throw new TemplateSyntaxError(`$${name} is already defined; name the entries otherwise`, declared.at);
  if (list.length === 0)
    throw new TemplateSyntaxError('{{ range }} needs a list after :=, e.g. {{ range $alert := $alerts }}', assign.at);
  checkVariables(list, known);
  return { variable: name, list: parsePipeline(list, assign.at) };
}

function parseNodes(text: string, variables: readonly string[]): Node[] {
  const root: Node[] = [];
  const open: OpenBlock[] = [];
  const target = () => open.at(-1)?.target ?? root;
  const known = () => [...variables, ...open.flatMap((block) => (block.kind === 'range' ? [block.variable] : []))];
  let pos = 0;
  let trimNext = false;
  while (pos <= text.length) {
    const start = text.indexOf('{{', pos);
    let chunk = text.slice(pos, start === -1 ? text.length : start);
    if (trimNext) chunk = chunk.trimStart();
    let actionStart = start + 2;
    if (start !== -1 && text[actionStart] === '-' && isSpace(text[actionStart + 1])) {
      chunk = chunk.trimEnd();
      actionStart++;
    }
    if (chunk !== '') target().push({ kind: 'text', text: chunk });
    if (start === -1) break;
    const { tokens, end, trimAfter } = lexAction(text, start, actionStart);
    pos = end;
    trimNext = trimAfter;
    const [head, second] = tokens;
    if (head === undefined) throw new TemplateSyntaxError('empty action {{ }}', start);
    const keyword = head.kind === 'ident' ? head.name : undefined;
    if ((keyword === 'if' || keyword === 'range') && open.length >= MAX_NESTING)
      throw new TemplateSyntaxError(`blocks nested deeper than ${MAX_NESTING}`, start);
    if (keyword === 'if') {
      checkVariables(tokens, known());
      const branch = { condition: parseCondition(tokens.slice(1), start), body: [] };
      open.push({ kind: 'if', at: start, branches: [branch], otherwise: undefined, target: branch.body });
    } else if (keyword === 'range') {
      const { variable, list } = parseRange(tokens, start, known());
      const body: Node[] = [];
      open.push({ kind: 'range', at: start, variable, list, body, otherwise: undefined, target: body });
    } else if (keyword === 'else') {
      const current = open.at(-1);
      if (current === undefined) throw new TemplateSyntaxError('{{ else }} without {{ if }} or {{ range }}', start);
      if (current.otherwise !== undefined)
        throw new TemplateSyntaxError(`a second {{ else }} in the same {{ ${current.kind} }}`, start);
      if (second === undefined) {
        current.otherwise = [];
        current.target = current.otherwise;
      } else if (second.kind === 'ident' && second.name === 'if' && current.kind === 'if') {
        checkVariables(tokens, known());
        const branch = { condition: parseCondition(tokens.slice(2), start), body: [] };
        current.branches.push(branch);
        current.target = branch.body;
      } else {
        throw new TemplateSyntaxError(`unexpected ${tokenText(second)} after else`, second.at);
      }
    } else if (keyword === 'end') {
      if (second !== undefined) throw new TemplateSyntaxError(`unexpected ${tokenText(second)} after end`, second.at);
      const closed = open.pop();
      if (closed === undefined) throw new TemplateSyntaxError('{{ end }} without {{ if }} or {{ range }}', start);
      target().push(
        closed.kind === 'if'
          ? { kind: 'if', branches: closed.branches, otherwise: closed.otherwise ?? [] }
          : {
              kind: 'range',
              variable: closed.variable,
              list: closed.list,
              body: closed.body,
              otherwise: closed.otherwise ?? [],
            },
      );
    } else {
      checkVariables(tokens, known());
      target().push({ kind: 'output', pipeline: parsePipeline(tokens, start) });
    }
  }
  const unclosed = open.at(-1);
  if (unclosed !== undefined) throw new TemplateSyntaxError(`{{ ${unclosed.kind} }} without {{ end }}`, unclosed.at);
  return root;
}

function parseCondition(tokens: readonly Token[], actionAt: number): Pipeline {
  if (tokens.length === 0)
    throw new TemplateSyntaxError('{{ if }} needs a condition, e.g. {{ if $labels.route }}', actionAt);
  return parsePipeline(tokens, actionAt);
}

function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: offset - lineStart + 1 };
}

export function parseTemplate(text: string, options: ParseOptions = {}): ParseResult {
  const variables = [...new Set(options.variables ?? ANNOTATION_VARIABLES)];
  try {
    return { ok: true, template: { source: text, nodes: parseNodes(text, variables) } };
  } catch (error) {
    if (!(error instanceof TemplateSyntaxError)) throw error;
    return { ok: false, message: error.message, ...position(text, error.offset) };
  }
}

// ---------------------------------------------------------------------------------------------- rendering

function evaluateOperand(operand: Operand, data: TemplateData): TemplateValue {
  if (operand.kind === 'literal') return operand.value;
  let value = ownField(data, operand.name);
  for (const field of operand.path) value = ownField(value, field);
  return value;
}

function evaluate(pipeline: Pipeline, data: TemplateData): TemplateValue {
  let value: TemplateValue;
  pipeline.forEach((command, i) => {
    if (command.kind === 'operand') {
      value = evaluateOperand(command.operand, data);
    } else {
      const args = command.args.map((operand) => evaluateOperand(operand, data));
      value = command.fn.apply(i > 0 ? [...args, value] : args);
    }
  });
  return value;
}

class Output {
  private readonly parts: string[] = [];
  private length = 0;

  constructor(private readonly max: number) {}

  get full(): boolean {
    return this.length > this.max;
  }

  write(text: string) {
    if (this.full) return;
    const piece = text.slice(0, this.max + 1 - this.length);
    this.parts.push(piece);
    this.length += piece.length;
  }

  toString(): string {
    const text = this.parts.join('');
    return this.full ? `${text.slice(0, this.max - 1)}…` : text;
  }
}

/** What a {{ range }} walks: a list's entries, or an object's values in the order of their keys (as Go ranges a map). */
function entriesOf(value: TemplateValue): readonly TemplateValue[] {
  if (Array.isArray(value)) return (value as readonly TemplateValue[]).slice(0, MAX_RANGE_ITEMS);
  if (typeof value === 'object' && value !== null) {
    return Object.keys(value)
      .sort()
      .slice(0, MAX_RANGE_ITEMS)
      .map((key) => ownField(value, key));
  }
  return [];
}

function renderNodes(nodes: readonly Node[], data: TemplateData, out: Output) {
  for (const node of nodes) {
    if (out.full) return;
    if (node.kind === 'text') out.write(node.text);
    else if (node.kind === 'output') out.write(show(evaluate(node.pipeline, data)));
    else if (node.kind === 'if')
      renderNodes(node.branches.find((b) => truthy(evaluate(b.condition, data)))?.body ?? node.otherwise, data, out);
    else {
      const entries = entriesOf(evaluate(node.list, data));
      if (entries.length === 0) renderNodes(node.otherwise, data, out);
      for (const entry of entries) {
        if (out.full) return;
        renderNodes(node.body, { ...data, [node.variable]: entry }, out);
      }
    }
  }
}

export function render(template: Template, data: TemplateData, options: RenderOptions = {}): string {
  const out = new Output(options.maxLength ?? DEFAULT_MAX_OUTPUT);
  renderNodes(template.nodes, data, out);
  return out.toString();
}
