import { describe, expect, it } from 'vitest';
import {
  type ParseOptions,
  type RenderOptions,
  type TemplateData,
  parseTemplate,
  render,
} from './annotation-templates.js';

function makeData(overrides: Partial<{ labels: Record<string, string>; value: number | null }> = {}): TemplateData {
  return {
    labels: { service: 'checkout', route: '/pay', 'service.name': 'checkout-otel' },
    value: 93.456,
    ...overrides,
  };
}

function renderText(text: string, data: TemplateData = makeData(), options: RenderOptions & ParseOptions = {}): string {
  const parsed = parseTemplate(text, options);
  if (!parsed.ok) throw new Error(`${parsed.message} at ${parsed.line}:${parsed.column}`);
  return render(parsed.template, data, options);
}

function parseError(text: string, options: ParseOptions = {}) {
  const parsed = parseTemplate(text, options);
  if (parsed.ok) throw new Error(`"${text}" parsed`);
  return parsed;
}

describe('template output', () => {
  it('fills in labels and the value', () => {
    expect(renderText('{{ $labels.service }} is at {{ $value }}')).toBe('checkout is at 93.456');
  });

  it('renders a missing label, a null value and a whole label set as Prometheus users expect', () => {
    expect(renderText('[{{ $labels.pod }}][{{ $value }}]', makeData({ value: null }))).toBe('[][]');
    expect(renderText('{{ $labels }}', makeData({ labels: { b: '2', a: '1' } }))).toBe('{a="1", b="2"}');
  });

  it('keeps text without actions, braces included, as it is', () => {
    expect(renderText('CPU > 80% {not an action} }}')).toBe('CPU > 80% {not an action} }}');
  });

  it('reaches label keys with dots through index', () => {
    expect(renderText('{{ index $labels "service.name" }}')).toBe('checkout-otel');
    expect(renderText('{{ index $labels "service.name" | upper }}')).toBe('CHECKOUT-OTEL');
  });

  it('trims whitespace beside {{- and -}}', () => {
    expect(renderText('a  \n {{- $labels.service -}} \n  b')).toBe('acheckoutb');
    expect(renderText('a {{ $labels.service }} b')).toBe('a checkout b');
  });
});

describe('template functions', () => {
  it.each([
    ['{{ $value | printf "%.2f" }}', '93.46'],
    ['{{ printf "%.0f%%" $value }}', '93%'],
    ['{{ printf "%s at %d" $labels.service $value }}', 'checkout at 93'],
    ['{{ printf "%f" $value }}', '93.456000'],
    ['{{ $labels.service | upper }}', 'CHECKOUT'],
    ['{{ "LOUD" | lower }}', 'loud'],
    ['{{ $labels.env | default "prod" }}', 'prod'],
    ['{{ $labels.service | default "prod" }}', 'checkout'],
    ['{{ 1234567 | humanize }}', '1.235M'],
    ['{{ humanize 0.0042 }}', '4.2m'],
    ['{{ humanize 0 }}', '0'],
    ['{{ humanize 999 }}', '999'],
    ['{{ 0.0512 | humanizePercentage }}', '5.12%'],
  ])('%s → %s', (text, expected) => {
    expect(renderText(text)).toBe(expected);
  });

  it('formats a numeric label value with printf and leaves text that is no number as it is', () => {
    expect(renderText('{{ $labels.count | printf "%.1f" }}', makeData({ labels: { count: '2.25' } }))).toBe('2.3');
    expect(renderText('{{ $labels.service | printf "%.1f" }}')).toBe('checkout');
    expect(renderText('{{ $labels.service | humanize }}')).toBe('checkout');
  });
});

describe('template conditions', () => {
  const text =
    '{{ if $labels.route }}route {{ $labels.route }}{{ else if $labels.service }}all of {{ $labels.service }}{{ else }}everything{{ end }}';

  it('takes the first branch whose condition holds', () => {
    expect(renderText(text)).toBe('route /pay');
    expect(renderText(text, makeData({ labels: { service: 'cart' } }))).toBe('all of cart');
    expect(renderText(text, makeData({ labels: {} }))).toBe('everything');
  });

  it('treats zero, empty text, null and an empty label set as false', () => {
    const probe = '{{ if $value }}yes{{ else }}no{{ end }}';
    expect(renderText(probe, makeData({ value: 0 }))).toBe('no');
    expect(renderText(probe, makeData({ value: null }))).toBe('no');
    expect(renderText(probe, makeData({ value: 0.1 }))).toBe('yes');
    expect(renderText('{{ if $labels }}some{{ else }}none{{ end }}', makeData({ labels: {} }))).toBe('none');
  });

  it('nests', () => {
    expect(renderText('{{ if $value }}{{ if $labels.route }}[{{ $labels.route }}]{{ end }}!{{ end }}')).toBe('[/pay]!');
  });
});

describe('template loops', () => {
  const listData = (): TemplateData => ({
    alerts: [
      { name: 'cpu', value: 93 },
      { name: 'disk', value: 71 },
    ],
    labels: { b: '2', a: '1' },
    lines: [],
  });
  const options = { variables: ['alerts', 'labels', 'lines'] };

  it('renders the body once per entry, with the entry under the declared name', () => {
    expect(renderText('{{ range $a := $alerts }}[{{ $a.name }} {{ $a.value }}]{{ end }}', listData(), options)).toBe(
      '[cpu 93][disk 71]',
    );
  });

  it('walks an object by its keys in order, and renders else for an empty list', () => {
    expect(renderText('{{ range $v := $labels }}{{ $v }}{{ end }}', listData(), options)).toBe('12');
    expect(renderText('{{ range $l := $lines }}{{ $l }}{{ else }}no lines{{ end }}', listData(), options)).toBe(
      'no lines',
    );
  });

  it('counts with len and writes JSON literals with json', () => {
    expect(renderText('{{ len $alerts }} alerts, {{ $labels | len }} labels', listData(), options)).toBe(
      '2 alerts, 2 labels',
    );
    expect(
      renderText('{"text": {{ "say \\"hi\\"" | json }}, "n": {{ len $alerts | json }}}', listData(), options),
    ).toBe('{"text": "say \\"hi\\"", "n": 2}');
  });

  it('knows a loop variable only inside its loop', () => {
    expect(parseError('{{ range $a := $alerts }}{{ end }}{{ $a.name }}', options)).toMatchObject({
      message: 'unknown variable $a (known: $alerts, $labels, $lines)',
      column: 38,
    });
  });

  it.each([
    [
      '{{ range $alerts }}{{ end }}',
      '{{ range }} declares a variable for each entry, e.g. {{ range $alert := $alerts }}',
    ],
    ['{{ range $a := }}{{ end }}', '{{ range }} needs a list after :=, e.g. {{ range $alert := $alerts }}'],
    ['{{ range $labels := $alerts }}{{ end }}', '$labels is already defined; name the entries otherwise'],
    ['{{ range $a := $alerts }}x', '{{ range }} without {{ end }}'],
    ['{{ range $a := $alerts }}{{ else if $a }}{{ end }}', 'unexpected "if" after else'],
  ])('%s: %s', (text, message) => {
    expect(parseError(text, options).message).toBe(message);
  });
});

describe('template safety', () => {
  it.each([
    '{{ $labels.__proto__ }}',
    '{{ $labels.constructor }}',
    '{{ $labels.toString }}',
    '{{ $labels.constructor.name }}',
    '{{ index $labels "__proto__" }}',
    '{{ $labels.service.length }}',
  ])('%s renders nothing', (text) => {
    expect(renderText(text)).toBe('');
  });

  it('finds a label that is really named constructor', () => {
    expect(
      renderText('{{ $labels.constructor }}', {
        labels: JSON.parse('{"constructor":"real"}') as Record<string, string>,
      }),
    ).toBe('real');
  });

  it('refuses function names that are JavaScript built-ins', () => {
    expect(parseError('{{ $value | constructor }}').message).toMatch(/^unknown function "constructor"/);
    expect(parseError('{{ $value | toString }}').message).toMatch(/^unknown function "toString"/);
  });

  it('cuts long output at maxLength and marks the cut', () => {
    const out = renderText(
      '{{ $labels.service }}{{ $labels.service }}',
      makeData({ labels: { service: 'x'.repeat(100) } }),
      { maxLength: 50 },
    );
    expect(out).toHaveLength(50);
    expect(out.endsWith('…')).toBe(true);
    expect(renderText('{{ $labels.service }}', makeData(), { maxLength: 8 })).toBe('checkout');
  });
});

describe('template parse errors', () => {
  it.each([
    ['{{ $value', 'unclosed action: no }} after {{', 1, 1],
    ['{{ }}', 'empty action {{ }}', 1, 1],
    ['{{ $lables.service }}', 'unknown variable $lables (known: $labels, $value)', 1, 4],
    [
      '{{ $value | round }}',
      'unknown function "round" (known: humanize, humanizePercentage, printf, upper, lower, default, index, len, json)',
      1,
      13,
    ],
    ['{{ $value $labels }}', 'unexpected $labels after $value; pass values to functions with "|"', 1, 11],
    ['{{ $value | }}', 'expected a function after "|"', 1, 11],
    ['{{ $value | "x" }}', 'expected a function after "|", got "x"', 1, 13],
    ['{{ .Labels.service }}', 'unexpected "."; variables start with $, e.g. $labels.service', 1, 4],
    ['{{ "open }}', 'unterminated string', 1, 4],
    ['{{ $value | printf "%x" }}', 'printf supports %s %v %d %f %.Nf and %%, not "%x"', 1, 20],
    ['{{ $value | printf "%.2f %s" }}', 'printf format "%.2f %s" has 2 verb(s) for 1 value(s)', 1, 20],
    ['{{ $value | printf $value }}', 'printf needs a format string first, e.g. printf "%.2f" $value', 1, 20],
    ['{{ upper }}', 'upper takes 1 argument, got 0', 1, 4],
    ['{{ $value | default }}', 'default takes 2 arguments, got 1', 1, 13],
    ['{{ end }}', '{{ end }} without {{ if }} or {{ range }}', 1, 1],
    ['{{ else }}', '{{ else }} without {{ if }} or {{ range }}', 1, 1],
    ['{{ if }}x{{ end }}', '{{ if }} needs a condition, e.g. {{ if $labels.route }}', 1, 1],
    ['{{ if $value }}a{{ else }}b{{ else }}c{{ end }}', 'a second {{ else }} in the same {{ if }}', 1, 28],
    ['{{ if $value }}a{{ end now }}', 'unexpected "now" after end', 1, 24],
    ['{{ $labels. }}', 'expected a field name after "." (for other keys: index $labels "key.with.dots")', 1, 11],
  ])('%s: %s at %d:%d', (text, message, line, column) => {
    expect(parseError(text)).toEqual({ ok: false, message, line, column });
  });

  it('names the line and column on a multi-line template', () => {
    const text =
      'Service {{ $labels.service }} is slow.\nValue: {{ $value | printf "%.2f" }}\n\n  Runbook: {{ $labels.runbook | lookup }}';
    expect(parseError(text)).toMatchObject({ line: 4, column: 33 });
  });

  it('points at the {{ if }} that has no {{ end }}', () => {
    expect(parseError('first line\n  {{ if $value }}\nhigh')).toEqual({
      ok: false,
      message: '{{ if }} without {{ end }}',
      line: 2,
      column: 3,
    });
  });

  it('accepts the variables the caller names and refuses the others', () => {
    expect(parseTemplate('{{ $annotations.summary }}', { variables: ['labels', 'value', 'annotations'] }).ok).toBe(
      true,
    );
    expect(parseError('{{ $annotations.summary }}').message).toBe(
      'unknown variable $annotations (known: $labels, $value)',
    );
  });

  it('refuses blocks nested too deep to render cheaply', () => {
    expect(parseError(`${'{{ if $value }}'.repeat(11)}${'{{ end }}'.repeat(11)}`)).toMatchObject({
      message: 'blocks nested deeper than 10',
      column: 151,
    });
  });
});
