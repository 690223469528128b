/** The daily digest: a channel's LOW groups due at the digest time, sent as one message. */
import { createHash } from 'node:crypto';
import type { Outgoing } from './delivery-outbox.js';

const DIGEST_ALERTNAME = 'Daily digest';

/** The LOW groups of one channel due at the digest time, as one message. */
export function digestOf(parts: readonly Outgoing[], linkUrl: string): Outgoing {
  const [first] = parts;
  if (first === undefined) throw new Error('a digest of no groups');
  const key = createHash('sha256')
    .update(JSON.stringify(parts.map((p) => p.key).sort()))
    .digest('hex')
    .slice(0, 40);
  return {
    groupKey: `digest:${first.channelId}`,
    channelId: first.channelId,
    channelName: first.channelName,
    groupLabels: { alertname: DIGEST_ALERTNAME },
    alerts: parts.flatMap((p) => p.alerts),
    link: `${linkUrl}/alerts`,
    incident: null,
    key,
  };
}
