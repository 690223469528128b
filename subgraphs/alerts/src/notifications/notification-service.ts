/**
 * What the notification fields of the GraphQL API do: channels (validated, secrets sealed), testChannel,
 * silences and maintenance windows, acknowledgements, incidents, the delivery log and the dead letters.
 */
import { heimdallError } from '@heimdall/shared/errors';
import { badUserInputs } from '@heimdall/shared/user-input';
import type { Channel } from './channel.js';
import { type NotificationChannelInput, validateChannelInput } from './channel-input.js';
import { type ChannelStore, channelNotFound } from './channel-store.js';
import { type DeliveryOutcome, deliver } from './deliver.js';
import { buildMessage } from './message.js';
import type { NotificationPipeline } from './pipeline.js';
import type { Delivery, DeliveryOutbox } from './delivery-outbox.js';
import type { GroupStore } from './group-store.js';
import type { IncidentStore } from './incident-store.js';
import type { SilenceStore } from './silences.js';

export interface NotificationServiceDeps {
  readonly channels: ChannelStore;
  readonly pipeline: Pick<NotificationPipeline, 'enqueue'>;
  readonly groups: GroupStore;
  readonly outbox: DeliveryOutbox;
  readonly incidents: IncidentStore;
  readonly silences: SilenceStore;
  readonly deliveryTimeoutMs: number;
  readonly linkUrl: string;
  readonly now?: () => number;
}

export class NotificationService {
  readonly now: () => number;

  constructor(private readonly deps: NotificationServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  get silences(): SilenceStore {
    return this.deps.silences;
  }

  get groups(): GroupStore {
    return this.deps.groups;
  }

  get outbox(): DeliveryOutbox {
    return this.deps.outbox;
  }

  get incidents(): IncidentStore {
    return this.deps.incidents;
  }

  listChannels(): Promise<Channel[]> {
    return this.deps.channels.list();
  }

  async createChannel(input: NotificationChannelInput): Promise<Channel> {
    const checked = validateChannelInput(input);
    if (!checked.ok) throw badUserInputs(checked.errors);
    return this.deps.channels.create(checked.spec);
  }

  async updateChannel(id: string, input: NotificationChannelInput): Promise<Channel> {
    const previous = await this.deps.channels.byId(id);
    if (previous === undefined) throw channelNotFound(id);
    const checked = validateChannelInput(input, previous);
    if (!checked.ok) throw badUserInputs(checked.errors);
    return this.deps.channels.update(id, checked.spec);
  }

  deleteChannel(id: string): Promise<boolean> {
    return this.deps.channels.delete(id);
  }

  /** One attempt with a made-up firing alert, now; not written to the log. */
  async testChannel(id: string): Promise<DeliveryOutcome> {
    const channel = await this.deps.channels.byId(id);
    if (channel === undefined) throw channelNotFound(id);
    const now = new Date(this.now()).toISOString();
    const labels = { alertname: 'HeimdallTestNotification', service: 'heimdall' };
    const message = buildMessage({
      groupKey: `test-${channel.id}`,
      groupLabels: { alertname: labels.alertname },
      alerts: [
        {
          id: 'test',
          status: 'firing',
          severity: 'LOW',
          labels,
          annotations: {
            summary: `A test of the channel "${channel.name}"`,
            description: 'Sent by testChannel; nothing is wrong.',
          },
          value: 1,
          logLines: [],
          startsAt: now,
          endsAt: null,
          link: this.deps.linkUrl,
        },
      ],
      link: this.deps.linkUrl,
      incident: null,
      test: true,
    });
    return deliver(channel, message, {
      idempotencyKey: `test-${channel.id}-${now}`,
      timeoutMs: this.deps.deliveryTimeoutMs,
      now: this.now,
    });
  }

  async retry(id: string): Promise<Delivery> {
    const delivery = await this.deps.outbox.redrive(id, this.now());
    if (delivery === undefined)
      throw heimdallError('NOT_FOUND', { message: `no failed notification with id ${id}`, details: { id } });
    await this.deps.pipeline.enqueue([{ id: delivery.id, redrives: delivery.redrives }]);
    return delivery;
  }
}
