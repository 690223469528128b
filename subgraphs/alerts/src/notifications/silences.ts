/**
 * Silences (label matchers with a start and an end, a creator and a comment) and maintenance windows (recurring
 * mute intervals in a time zone) in PostgreSQL, with the checks of their GraphQL inputs.
 */
import { heimdallError } from '@heimdall/shared/errors';
import { type FieldError, badUserInput, badUserInputs, instantMs, parseInstant } from '@heimdall/shared/user-input';
import { type LabelMatcher, MATCH_OPS, type MatchOp } from '../rules/alert-rule.js';
import type { PostgresStore, Query } from '../store/index.js';
import { compileMatchers, regexProblem } from './matchers.js';
import type { SilenceRule, WindowRule } from './mute.js';
import { WEEKDAYS, type WeeklyWindow, type Weekday, isTimeZone, parseClock } from './weekly-window.js';

type Maybe<T> = T | null | undefined;

export interface MatcherInput {
  readonly key: string;
  /** Default EQ (the GraphQL default). */
  readonly op?: string;
  readonly value: string;
}

export interface SilenceInput {
  readonly matchers: readonly MatcherInput[];
  readonly startsAt?: Maybe<string>;
  readonly endsAt: string;
  readonly comment: string;
}

export interface MaintenanceWindowInput {
  readonly name: string;
  readonly timeZone: string;
  readonly days: readonly string[];
  readonly start: string;
  readonly end: string;
  readonly matchers?: Maybe<readonly MatcherInput[]>;
}

export interface Silence {
  readonly id: string;
  readonly matchers: readonly LabelMatcher[];
  readonly startsAt: Date;
  readonly endsAt: Date;
  readonly createdBy: string;
  readonly comment: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface MaintenanceWindow {
  readonly id: string;
  readonly name: string;
  readonly window: WeeklyWindow;
  readonly matchers: readonly LabelMatcher[];
  readonly createdBy: string;
  readonly createdAt: Date;
}

export type SilenceState = 'PENDING' | 'ACTIVE' | 'EXPIRED';

export function silenceState(silence: Pick<Silence, 'startsAt' | 'endsAt'>, now: number): SilenceState {
  if (silence.endsAt.getTime() <= now) return 'EXPIRED';
  return silence.startsAt.getTime() > now ? 'PENDING' : 'ACTIVE';
}

const MAX_MATCHERS = 20;
const MAX_COMMENT = 4096;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuid(id: string, what: string): string {
  if (!UUID.test(id)) throw badUserInput('id', `"${id}" is not a ${what} id (a UUID)`);
  return id.toLowerCase();
}

function checkMatchers(errors: FieldError[], field: string, input: readonly MatcherInput[]): LabelMatcher[] {
  if (input.length > MAX_MATCHERS)
    errors.push({ field, message: `has ${input.length} entries; at most ${MAX_MATCHERS}` });
  return input.map((m, i) => {
    const key = m.key.trim();
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(key))
      errors.push({ field: `${field}[${i}].key`, message: `${JSON.stringify(m.key)} is not a label name` });
    const op = (m.op ?? 'EQ') as MatchOp;
    if (!MATCH_OPS.includes(op)) errors.push({ field: `${field}[${i}].op`, message: `one of ${MATCH_OPS.join(', ')}` });
    if (op === 'RE' || op === 'NRE') {
      const problem = regexProblem(m.value);
      if (problem !== undefined)
        errors.push({
          field: `${field}[${i}].value`,
          message: `"${m.value}" is not a regular expression RE2 accepts (${problem})`,
        });
    }
    return { key, op, value: m.value };
  });
}

function time(errors: FieldError[], field: string, text: string): number {
  const at = parseInstant(text);
  if (at.ok) return instantMs(at.value);
  errors.push({ field, message: at.message });
  return Number.NaN;
}

export function validateSilenceInput(
  input: SilenceInput,
  now: number,
):
  | { ok: true; matchers: LabelMatcher[]; startsAt: number; endsAt: number; comment: string }
  | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const matchers = checkMatchers(errors, 'matchers', input.matchers);
  if (matchers.length === 0) errors.push({ field: 'matchers', message: 'needs at least one matcher' });
  else if (errors.length === 0 && compileMatchers(matchers)({}))
    errors.push({
      field: 'matchers',
      message: 'match an alert without labels, so they would silence every alert; name a label',
    });
  const startsAt =
    input.startsAt === null || input.startsAt === undefined ? now : time(errors, 'startsAt', input.startsAt);
  const endsAt = time(errors, 'endsAt', input.endsAt);
  if (!Number.isNaN(endsAt) && !Number.isNaN(startsAt) && endsAt <= startsAt)
    errors.push({ field: 'endsAt', message: 'must be after startsAt' });
  if (!Number.isNaN(endsAt) && endsAt <= now) errors.push({ field: 'endsAt', message: 'is in the past' });
  const comment = input.comment.trim();
  if (comment === '') errors.push({ field: 'comment', message: 'is required: say why' });
  if (comment.length > MAX_COMMENT)
    errors.push({ field: 'comment', message: `is longer than ${MAX_COMMENT} characters` });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, matchers, startsAt, endsAt, comment };
}

export function validateWindowInput(
  input: MaintenanceWindowInput,
): { ok: true; name: string; window: WeeklyWindow; matchers: LabelMatcher[] } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const name = input.name.trim();
  if (name === '' || name.length > 200) errors.push({ field: 'name', message: 'is required, at most 200 characters' });
  if (!isTimeZone(input.timeZone))
    errors.push({ field: 'timeZone', message: `"${input.timeZone}" is not an IANA time zone such as Asia/Seoul` });
  const days = [...new Set(input.days.map((day) => WEEKDAYS.indexOf(day as Weekday) + 1))].sort();
  if (days.length === 0 || days.includes(0))
    errors.push({ field: 'days', message: `needs days among ${WEEKDAYS.join(', ')}` });
  const startMinute = parseClock(input.start);
  const endMinute = parseClock(input.end, { end: true });
  if (startMinute === undefined)
    errors.push({ field: 'start', message: `"${input.start}" is not a time such as 02:00` });
  if (endMinute === undefined) errors.push({ field: 'end', message: `"${input.end}" is not a time such as 04:00` });
  if (startMinute !== undefined && startMinute === endMinute)
    errors.push({ field: 'end', message: 'equals start: the window would be empty' });
  const matchers = checkMatchers(errors, 'matchers', input.matchers ?? []);
  if (errors.length > 0 || startMinute === undefined || endMinute === undefined) return { ok: false, errors };
  return { ok: true, name, window: { days, startMinute, endMinute, timeZone: input.timeZone }, matchers };
}

interface SilenceRow {
  id: string;
  matchers: LabelMatcher[];
  starts_at: Date;
  ends_at: Date;
  created_by: string;
  comment: string;
  created_at: Date;
  updated_at: Date;
}

interface WindowRow {
  id: string;
  name: string;
  time_zone: string;
  days: number[];
  start_minute: number;
  end_minute: number;
  matchers: LabelMatcher[];
  created_by: string;
  created_at: Date;
}

const silenceOf = (row: SilenceRow): Silence => ({
  id: row.id,
  matchers: row.matchers,
  startsAt: row.starts_at,
  endsAt: row.ends_at,
  createdBy: row.created_by,
  comment: row.comment,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const windowOf = (row: WindowRow): MaintenanceWindow => ({
  id: row.id,
  name: row.name,
  window: { days: row.days, startMinute: row.start_minute, endMinute: row.end_minute, timeZone: row.time_zone },
  matchers: row.matchers,
  createdBy: row.created_by,
  createdAt: row.created_at,
});

const notFound = (what: string, id: string) =>
  heimdallError('NOT_FOUND', { message: `no ${what} with id ${id}`, details: { id } });

export class SilenceStore {
  constructor(private readonly postgres: PostgresStore) {}

  async create(input: SilenceInput, actor: string, now: number): Promise<Silence> {
    const checked = validateSilenceInput(input, now);
    if (!checked.ok) throw badUserInputs(checked.errors);
    const [row] = await this.postgres.query<SilenceRow>(
      'INSERT INTO silences (matchers, starts_at, ends_at, created_by, comment) VALUES ($1, $2, $3, $4, $5) RETURNING *',
      [JSON.stringify(checked.matchers), new Date(checked.startsAt), new Date(checked.endsAt), actor, checked.comment],
    );
    return silenceOf(row!);
  }

  async update(id: string, input: SilenceInput, now: number): Promise<Silence> {
    const key = uuid(id, 'silence');
    const checked = validateSilenceInput(input, now);
    if (!checked.ok) throw badUserInputs(checked.errors);
    const [row] = await this.postgres.query<SilenceRow>(
      'UPDATE silences SET matchers = $2, starts_at = $3, ends_at = $4, comment = $5, updated_at = now() WHERE id = $1 AND ends_at > $6 RETURNING *',
      [
        key,
        JSON.stringify(checked.matchers),
        new Date(checked.startsAt),
        new Date(checked.endsAt),
        checked.comment,
        new Date(now),
      ],
    );
    if (row === undefined) throw notFound('silence that has not expired', id);
    return silenceOf(row);
  }

  /** Ends the silence at `now` (one that has not started yet ends before it starts). */
  async expire(id: string, now: number): Promise<Silence> {
    const key = uuid(id, 'silence');
    const [row] = await this.postgres.query<SilenceRow>(
      `UPDATE silences SET ends_at = greatest($2, starts_at + interval '1 millisecond'), starts_at = least(starts_at, $2), updated_at = now()
        WHERE id = $1 RETURNING *`,
      [key, new Date(now)],
      { idempotent: true },
    );
    if (row === undefined) throw notFound('silence', id);
    return silenceOf(row);
  }

  async list(states: readonly SilenceState[] | null, now: number): Promise<Silence[]> {
    const rows = await this.postgres.query<SilenceRow>(
      'SELECT * FROM silences ORDER BY created_at DESC, id LIMIT 1000',
      [],
      { idempotent: true },
    );
    return rows.map(silenceOf).filter((s) => states === null || states.includes(silenceState(s, now)));
  }

  async createWindow(input: MaintenanceWindowInput, actor: string): Promise<MaintenanceWindow> {
    const checked = validateWindowInput(input);
    if (!checked.ok) throw badUserInputs(checked.errors);
    const { window } = checked;
    const [row] = await this.postgres.query<WindowRow>(
      'INSERT INTO maintenance_windows (name, time_zone, days, start_minute, end_minute, matchers, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *',
      [
        checked.name,
        window.timeZone,
        JSON.stringify(window.days),
        window.startMinute,
        window.endMinute,
        JSON.stringify(checked.matchers),
        actor,
      ],
    );
    return windowOf(row!);
  }

  async deleteWindow(id: string): Promise<boolean> {
    return (
      (
        await this.postgres.query(
          'DELETE FROM maintenance_windows WHERE id = $1 RETURNING id',
          [uuid(id, 'maintenance window')],
          { idempotent: true },
        )
      ).length > 0
    );
  }

  async windows(): Promise<MaintenanceWindow[]> {
    return (
      await this.postgres.query<WindowRow>('SELECT * FROM maintenance_windows ORDER BY name, id', [], {
        idempotent: true,
      })
    ).map(windowOf);
  }
}

/** The silences in force at `now` and every maintenance window, read in a flush's transaction. */
export async function mutingRules(
  query: Query,
  now: number,
): Promise<{ silences: SilenceRule[]; windows: WindowRule[] }> {
  const silences = await query<SilenceRow>('SELECT * FROM silences WHERE starts_at <= $1 AND ends_at > $1', [
    new Date(now),
  ]);
  const windows = await query<WindowRow>('SELECT * FROM maintenance_windows');
  return {
    silences: silences.map((s) => ({
      matchers: s.matchers,
      startsAt: s.starts_at.getTime(),
      endsAt: s.ends_at.getTime(),
    })),
    windows: windows.map((w) => ({ matchers: w.matchers, window: windowOf(w).window })),
  };
}
