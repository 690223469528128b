import { useState } from 'preact/hooks';
import { ApiError, graphql } from '../graphql.js';
import { setParams } from '../router.js';
import { type Session, mayEdit } from '../session.js';
import { useQuery } from '../use-query.js';
import { AGGREGATIONS, parseMatchers } from '../lib/matchers.js';
import { formText } from '../lib/form-text.js';
import {
  AlertHistoryDocument,
  type AlertRuleInput,
  AlertRulesDocument,
  AlertsDocument,
  type ComparisonOperator,
  CreateAlertRuleDocument,
  CreateSilenceDocument,
  ExpireSilenceDocument,
  IncidentsDocument,
  NotificationChannelsDocument,
  PreviewAlertRuleDocument,
  SetAlertRuleEnabledDocument,
  type Severity,
  SilencesDocument,
  TestChannelDocument,
} from '../generated/operations.js';

type Label = { key: string; value: string };

const TABS = ['rules', 'alerts', 'silences', 'channels', 'incidents'] as const;

/** Where an API error names a field of the form (`conditions[0].metric.threshold` → `threshold`), it is shown there. */
function fieldOf(error: unknown): { field: string | null; message: string } {
  if (error instanceof ApiError)
    return {
      field:
        error.argument
          ?.split('.')
          .pop()
          ?.replace(/\[\d+\]$/, '') ?? null,
      message: error.message,
    };
  return { field: null, message: error instanceof Error ? error.message : String(error) };
}

function FieldError({ error, field }: { error: { field: string | null; message: string } | null; field: string }) {
  return error?.field === field ? (
    <span class="error" role="alert" data-field={field}>
      {error.message}
    </span>
  ) : null;
}

const SEVERITIES: readonly Severity[] = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];
const OPERATORS: readonly (readonly [ComparisonOperator, string])[] = [
  ['GT', '>'],
  ['GTE', '≥'],
  ['LT', '<'],
  ['LTE', '≤'],
  ['EQ', '='],
  ['NE', '≠'],
];

function ruleInput(data: FormData): AlertRuleInput {
  const text = (key: string) => formText(data, key);
  const matchers = parseMatchers(text('match'));
  const groupBy = text('groupBy');
  return {
    name: text('name'),
    severity: SEVERITIES.find((s) => s === text('severity')) ?? 'MEDIUM',
    for: text('for') || '0s',
    conditions: [
      {
        metric: {
          name: text('metric'),
          ...(Array.isArray(matchers) && matchers.length > 0 ? { matchers } : {}),
          aggregation: AGGREGATIONS.find((a) => a === text('aggregation')) ?? 'AVG',
          window: text('window') || '5m',
          operator: OPERATORS.find(([o]) => o === text('operator'))?.[0] ?? 'GT',
          threshold: Number(text('threshold')),
        },
      },
    ],
    ...(groupBy === '' ? {} : { groupBy: groupBy.split(',').map((g) => g.trim()) }),
  };
}

/** A metric threshold rule: the API checks it (the same checks as createAlertRule), its errors at their fields. */
function RuleEditor({ onSaved }: { onSaved: () => void }) {
  const [error, setError] = useState<{ field: string | null; message: string } | null>(null);
  const [preview, setPreview] = useState<{ state: string; value: number | null; labels: Label[] }[] | null>(null);
  const run = async (form: HTMLFormElement, save: boolean) => {
    setError(null);
    const input = ruleInput(new FormData(form));
    try {
      if (save) {
        await graphql(CreateAlertRuleDocument, { input });
        form.reset();
        setPreview(null);
        onSaved();
      } else {
        const { previewAlertRule } = await graphql(PreviewAlertRuleDocument, { input });
        setPreview(previewAlertRule);
      }
    } catch (failure) {
      setError(fieldOf(failure));
    }
  };
  return (
    <form
      class="rule-editor"
      aria-label="New alert rule"
      onSubmit={(event) => {
        event.preventDefault();
        void run(event.currentTarget, true);
      }}
    >
      <h2>New rule</h2>
      <label>
        Name <input name="name" required /> <FieldError error={error} field="name" />
      </label>
      <label>
        Severity
        <select name="severity">
          {SEVERITIES.map((s) => (
            <option value={s} selected={s === 'MEDIUM'}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        Metric <input name="metric" placeholder="http.server.duration" /> <FieldError error={error} field="name" />
      </label>
      <label>
        Matchers <input name="match" placeholder='service="checkout"' /> <FieldError error={error} field="matchers" />
      </label>
      <label>
        Aggregation
        <select name="aggregation">
          {AGGREGATIONS.map((a) => (
            <option value={a}>{a}</option>
          ))}
        </select>
      </label>
      <label>
        Window <input name="window" placeholder="5m" size={6} /> <FieldError error={error} field="window" />
      </label>
      <label>
        Operator
        <select name="operator">
          {OPERATORS.map(([value, label]) => (
            <option value={value}>{label}</option>
          ))}
        </select>
      </label>
      <label>
        Threshold <input name="threshold" inputMode="decimal" size={8} /> <FieldError error={error} field="threshold" />
      </label>
      <label>
        For <input name="for" placeholder="5m" size={6} /> <FieldError error={error} field="for" />
      </label>
      <label>
        Group by <input name="groupBy" placeholder="service" /> <FieldError error={error} field="groupBy" />
      </label>
      {error !== null && error.field === null && (
        <p class="error" role="alert">
          {error.message}
        </p>
      )}
      {error !== null && error.field !== null && <p class="error summary">{error.message}</p>}
      <div class="buttons">
        <button
          type="button"
          onClick={(event) => void run((event.currentTarget as HTMLElement).closest('form')!, false)}
        >
          Preview
        </button>
        <button type="submit">Create rule</button>
      </div>
      {preview !== null && (
        <table class="data" data-testid="rule-preview">
          <thead>
            <tr>
              <th>labels</th>
              <th>value</th>
              <th>state now</th>
            </tr>
          </thead>
          <tbody>
            {preview.length === 0 ? (
              <tr>
                <td colSpan={3}>No series.</td>
              </tr>
            ) : (
              preview.map((p) => (
                <tr>
                  <td>{p.labels.map((l) => `${l.key}=${l.value}`).join(', ')}</td>
                  <td class="num">{p.value ?? '—'}</td>
                  <td>
                    <span class={`state state-${p.state.toLowerCase()}`}>{p.state}</span>
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      )}
    </form>
  );
}

/** A rule's state changes over the last day, newest last. */
function History({ ruleId }: { ruleId: string }) {
  const [range] = useState(() => ({
    from: new Date(Date.now() - 86_400_000).toISOString(),
    to: new Date(Date.now() + 60_000).toISOString(),
  }));
  const { data, error } = useQuery(AlertHistoryDocument, { ruleId, range });
  if (error !== undefined) return <p class="error">{error.message}</p>;
  if (data === undefined) return <p class="hint">Reading its history…</p>;
  if (data.alertHistory.length === 0) return <p class="hint">No state change in the last 24 hours.</p>;
  return (
    <ol class="context" data-testid="alert-history">
      {data.alertHistory.map((h) => (
        <li>
          <time>{h.at}</time> {h.from} → {h.to} {h.value ?? ''} {h.labels.map((l) => `${l.key}=${l.value}`).join(', ')}
        </li>
      ))}
    </ol>
  );
}

function Rules({ editable }: { editable: boolean }) {
  const [version, setVersion] = useState(0);
  const [open, setOpen] = useState<string | null>(null);
  const { data, error } = useQuery(AlertRulesDocument, {}, { refresh: version });
  return (
    <>
      {error !== undefined && <p class="error">{error.message}</p>}
      <table class="data" data-testid="alert-rules">
        <thead>
          <tr>
            <th>rule</th>
            <th>severity</th>
            <th>state</th>
            <th>last evaluation</th>
            <th>every</th>
            {editable && <th />}
          </tr>
        </thead>
        <tbody>
          {(data?.alertRules.nodes ?? []).map((rule) => {
            const firing = rule.alerts.filter((a) => a.state === 'FIRING').length;
            const last = rule.alerts
              .map((a) => a.lastEvaluatedAt ?? '')
              .sort()
              .pop();
            return (
              <tr data-testid="alert-rule">
                <td>
                  <button
                    type="button"
                    class="quiet link"
                    aria-expanded={open === rule.id}
                    onClick={() => setOpen(open === rule.id ? null : rule.id)}
                  >
                    {rule.name}
                  </button>
                  {open === rule.id && <History ruleId={rule.id} />}
                </td>
                <td>{rule.severity}</td>
                <td>
                  {!rule.enabled ? (
                    <span class="state">disabled</span>
                  ) : firing > 0 ? (
                    <span class="state state-firing">{firing} firing</span>
                  ) : (
                    <span class="state state-inactive">ok</span>
                  )}
                </td>
                <td>{last || '—'}</td>
                <td>{rule.evaluationInterval}</td>
                {editable && (
                  <td>
                    <button
                      type="button"
                      onClick={() =>
                        void graphql(SetAlertRuleEnabledDocument, {
                          id: rule.id,
                          enabled: !rule.enabled,
                          version: rule.version,
                        }).then(() => setVersion(version + 1))
                      }
                    >
                      {rule.enabled ? 'Disable' : 'Enable'}
                    </button>
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      {editable && <RuleEditor onSaved={() => setVersion(version + 1)} />}
    </>
  );
}

function SilenceForm({ matchers, onSaved }: { matchers: string; onSaved: () => void }) {
  const [error, setError] = useState<{ field: string | null; message: string } | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const parsed = parseMatchers(formText(data, 'matchers'));
    if (!Array.isArray(parsed)) return setError({ field: 'matchers', message: parsed.error });
    const hours = Number(formText(data, 'hours') || 2);
    try {
      await graphql(CreateSilenceDocument, {
        input: {
          matchers: parsed,
          endsAt: new Date(Date.now() + hours * 3_600_000).toISOString(),
          comment: formText(data, 'comment'),
        },
      });
      setError(null);
      form.reset();
      onSaved();
    } catch (failure) {
      setError(fieldOf(failure));
    }
  };
  return (
    <form class="silence-form" aria-label="New silence" onSubmit={(event) => void submit(event)} key={matchers}>
      <h2>New silence</h2>
      <label>
        Matchers{' '}
        <input
          name="matchers"
          defaultValue={matchers}
          size={40}
          placeholder='alertname="High CPU", service="checkout"'
        />{' '}
        <FieldError error={error} field="matchers" />
      </label>
      <label>
        For (hours) <input name="hours" type="number" min="1" defaultValue="2" size={4} />
      </label>
      <label>
        Comment <input name="comment" required size={40} /> <FieldError error={error} field="comment" />
      </label>
      {error !== null && error.field === null && <p class="error">{error.message}</p>}
      <button type="submit">Create silence</button>
    </form>
  );
}

function Silences({ editable, url }: { editable: boolean; url: URL }) {
  const [version, setVersion] = useState(0);
  const { data, error } = useQuery(SilencesDocument, {}, { refresh: version });
  const ops: Record<string, string> = { EQ: '=', NEQ: '!=', RE: '=~', NRE: '!~' };
  return (
    <>
      {error !== undefined && <p class="error">{error.message}</p>}
      <table class="data" data-testid="silences">
        <thead>
          <tr>
            <th>matchers</th>
            <th>state</th>
            <th>ends</th>
            <th>by</th>
            <th>comment</th>
            {editable && <th />}
          </tr>
        </thead>
        <tbody>
          {(data?.silences ?? []).map((s) => (
            <tr data-testid="silence">
              <td>{s.matchers.map((m) => `${m.key}${ops[m.op] ?? m.op}"${m.value}"`).join(', ')}</td>
              <td>{s.state}</td>
              <td>{s.endsAt}</td>
              <td>{s.createdBy}</td>
              <td>{s.comment}</td>
              {editable && (
                <td>
                  {s.state !== 'EXPIRED' && (
                    <button
                      type="button"
                      onClick={() =>
                        void graphql(ExpireSilenceDocument, { id: s.id }).then(() => setVersion(version + 1))
                      }
                    >
                      Expire
                    </button>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {editable && (
        <SilenceForm matchers={url.searchParams.get('silence') ?? ''} onSaved={() => setVersion(version + 1)} />
      )}
    </>
  );
}

function Alerts({ editable }: { editable: boolean }) {
  const { data, error } = useQuery(AlertsDocument, {});
  return (
    <>
      {error !== undefined && <p class="error">{error.message}</p>}
      <table class="data" data-testid="alerts">
        <thead>
          <tr>
            <th>state</th>
            <th>rule</th>
            <th>labels</th>
            <th class="num">value</th>
            <th>since</th>
            {editable && <th />}
          </tr>
        </thead>
        <tbody>
          {(data?.alerts ?? []).map((a) => (
            <tr>
              <td>
                <span class={`state state-${a.state.toLowerCase()}`}>{a.state}</span>
              </td>
              <td>{a.rule?.name ?? a.id}</td>
              <td>{a.labels.map((l) => `${l.key}=${l.value}`).join(', ')}</td>
              <td class="num">{a.value ?? '—'}</td>
              <td>{a.since}</td>
              {editable && (
                <td>
                  <button
                    type="button"
                    onClick={() =>
                      setParams({ tab: 'silences', silence: a.labels.map((l) => `${l.key}="${l.value}"`).join(', ') })
                    }
                  >
                    Silence
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function Channels({ editable }: { editable: boolean }) {
  const { data, error } = useQuery(NotificationChannelsDocument, {});
  const [results, setResults] = useState<Record<string, string>>({});
  return (
    <>
      {error !== undefined && <p class="error">{error.message}</p>}
      <table class="data">
        <thead>
          <tr>
            <th>channel</th>
            <th>type</th>
            {editable && <th />}
          </tr>
        </thead>
        <tbody>
          {(data?.notificationChannels ?? []).map((c) => (
            <tr>
              <td>{c.name}</td>
              <td>{c.type}</td>
              {editable && (
                <td>
                  <button
                    type="button"
                    onClick={() =>
                      void graphql(TestChannelDocument, { id: c.id }).then(({ testChannel }) =>
                        setResults({
                          ...results,
                          [c.id]: `${testChannel.ok ? 'sent' : 'failed'}: ${testChannel.message}`,
                        }),
                      )
                    }
                  >
                    Test
                  </button>{' '}
                  {results[c.id]}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function Incidents() {
  const { data, error } = useQuery(IncidentsDocument, {});
  return (
    <>
      {error !== undefined && <p class="error">{error.message}</p>}
      <table class="data">
        <thead>
          <tr>
            <th>state</th>
            <th>services</th>
            <th>root cause</th>
            <th>opened</th>
            <th>closed</th>
          </tr>
        </thead>
        <tbody>
          {(data?.incidents ?? []).map((i) => (
            <tr>
              <td>{i.state}</td>
              <td>{i.services.join(', ')}</td>
              <td>{i.rootCause}</td>
              <td>{i.openedAt}</td>
              <td>{i.closedAt ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function AlertsView({ url, session }: { url: URL; session: Session }) {
  const tab = (url.searchParams.get('tab') ?? 'rules') as (typeof TABS)[number];
  const editable = mayEdit(session);
  return (
    <div class="alerts-view">
      <nav class="tabs" aria-label="Alerting">
        {TABS.map((t) => (
          <button
            type="button"
            aria-pressed={tab === t}
            onClick={() => setParams({ tab: t === 'rules' ? null : t, silence: null })}
          >
            {t[0]!.toUpperCase() + t.slice(1)}
          </button>
        ))}
      </nav>
      {tab === 'alerts' ? (
        <Alerts editable={editable} />
      ) : tab === 'silences' ? (
        <Silences editable={editable} url={url} />
      ) : tab === 'channels' ? (
        <Channels editable={editable} />
      ) : tab === 'incidents' ? (
        <Incidents />
      ) : (
        <Rules editable={editable} />
      )}
    </div>
  );
}
