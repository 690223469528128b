/**
 * What one notification says (issue 13): a group's firing and resolved alerts, with labels, annotations, values,
 * times and links. It is stored with its delivery (so a retry sends the same words) and rendered per channel with
 * the channel's title and body templates, or the built-in ones.
 */
import type { Labels } from '../evaluation/conditions.js';
import type { Severity } from '../rules/alert-rule.js';
import { type Template, type TemplateData, parseTemplate, render } from '../rules/annotation-templates.js';
import type { ChannelTemplates } from './channel.js';

export type MessageStatus = 'firing' | 'resolved';

export interface MessageAlert {
  /** The Alert id (GraphQL), for acknowledgeAlert. */
  readonly id: string;
  readonly status: MessageStatus;
  readonly severity: Severity;
  readonly labels: Labels;
  readonly annotations: Readonly<Record<string, string>>;
  readonly value: number | null;
  /** For a log condition: the newest matching lines when it fired (`<time> <LEVEL> <service>: <message>`). */
  readonly logLines: readonly string[];
  /** ISO-8601. */
  readonly startsAt: string;
  readonly endsAt: string | null;
  readonly link: string;
}

export interface MessageIncident {
  readonly id: string;
  readonly services: readonly string[];
  readonly rootCause: string;
}

export interface NotificationMessage {
  readonly version: 1;
  /** firing while any alert of the message fires. */
  readonly status: MessageStatus;
  readonly groupKey: string;
  readonly groupLabels: Labels;
  /** Labels every alert of the message has, with the same value. */
  readonly commonLabels: Labels;
  readonly commonAnnotations: Readonly<Record<string, string>>;
  readonly alerts: readonly MessageAlert[];
  readonly link: string;
  readonly incident: MessageIncident | null;
  /** Sent by testChannel. */
  readonly test: boolean;
}

/** The variables a channel template may name (without `$`). */
export const MESSAGE_VARIABLES: readonly string[] = [
  'status',
  'alertname',
  'groupLabels',
  'commonLabels',
  'commonAnnotations',
  'alerts',
  'firing',
  'resolved',
  'link',
  'incident',
];

export const DEFAULT_TITLE = '[{{ $status | upper }}{{ if $firing }}:{{ len $firing }}{{ end }}] {{ $alertname }}';
export const DEFAULT_BODY = `{{ range $a := $alerts }}[{{ $a.status | upper }}] {{ $a.labels.alertname }}{{ if $a.labels.service }} on {{ $a.labels.service }}{{ end }} ({{ $a.severity | lower }}){{ if $a.annotations.summary }}: {{ $a.annotations.summary }}{{ end }}{{ if $a.value }} (value {{ $a.value | humanize }}){{ end }}
{{ range $l := $a.logLines }}    {{ $l }}
{{ end }}{{ end }}{{ if $incident }}Incident: {{ len $incident.services }} services, root cause candidate {{ $incident.rootCause }}
{{ end }}{{ $link }}`;

function commonOf(maps: readonly Readonly<Record<string, string>>[]): Record<string, string> {
  const [first, ...rest] = maps;
  if (first === undefined) return {};
  return Object.fromEntries(
    Object.entries(first).filter(([key, value]) => rest.every((m) => Object.hasOwn(m, key) && m[key] === value)),
  );
}

export function buildMessage(parts: {
  readonly groupKey: string;
  readonly groupLabels: Labels;
  readonly alerts: readonly MessageAlert[];
  readonly link: string;
  readonly incident: MessageIncident | null;
  readonly test?: boolean;
}): NotificationMessage {
  return {
    version: 1,
    status: parts.alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    groupKey: parts.groupKey,
    groupLabels: parts.groupLabels,
    commonLabels: commonOf(parts.alerts.map((a) => a.labels)),
    commonAnnotations: commonOf(parts.alerts.map((a) => a.annotations)),
    alerts: parts.alerts,
    link: parts.link,
    incident: parts.incident,
    test: parts.test ?? false,
  };
}

export function templateData(message: NotificationMessage): TemplateData {
  const alerts = message.alerts.map((a) => ({
    ...a,
    labels: { ...a.labels },
    annotations: { ...a.annotations },
    logLines: [...a.logLines],
  }));
  return {
    status: message.status,
    alertname: message.groupLabels.alertname ?? message.commonLabels.alertname ?? '',
    groupLabels: { ...message.groupLabels },
    commonLabels: { ...message.commonLabels },
    commonAnnotations: { ...message.commonAnnotations },
    alerts,
    firing: alerts.filter((a) => a.status === 'firing'),
    resolved: alerts.filter((a) => a.status === 'resolved'),
    link: message.link,
    incident: message.incident === null ? null : { ...message.incident, services: [...message.incident.services] },
  };
}

const compiled = new Map<string, Template>();

/** A template already validated when its channel was stored; the built-ins are known to parse. */
function templateOf(source: string): Template {
  let template = compiled.get(source);
  if (template === undefined) {
    const parsed = parseTemplate(source, { variables: MESSAGE_VARIABLES });
    if (!parsed.ok) throw new Error(`a stored template does not parse: line ${parsed.line}: ${parsed.message}`);
    template = parsed.template;
    if (compiled.size > 1000) compiled.clear();
    compiled.set(source, template);
  }
  return template;
}

export function renderTemplate(source: string, message: NotificationMessage, maxLength?: number): string {
  return render(templateOf(source), templateData(message), maxLength === undefined ? {} : { maxLength });
}

export interface RenderedMessage {
  readonly title: string;
  readonly body: string;
}

export function renderMessage(templates: ChannelTemplates, message: NotificationMessage): RenderedMessage {
  return {
    title: renderTemplate(templates.title ?? DEFAULT_TITLE, message, 512).trim(),
    body: renderTemplate(templates.body ?? DEFAULT_BODY, message, 16_384),
  };
}
