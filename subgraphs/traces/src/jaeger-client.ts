import { HttpStatusError, type ResiliencePolicy, heimdallError } from '@heimdall/shared';

export interface JaegerOperation {
  readonly name: string;
  readonly spanKind: string;
}

/** Jaeger's query API: the only way Heimdall reads traces (SPEC §5). Every call goes through one policy. */
export class JaegerQueryClient {
  constructor(
    private readonly baseUrl: string,
    private readonly policy: ResiliencePolicy,
  ) {}

  async services(): Promise<string[]> {
    return (await this.get<{ data: string[] | null }>('/api/services')).data ?? [];
  }

  async operations(service: string): Promise<JaegerOperation[]> {
    const query = new URLSearchParams({ service });
    const body = await this.get<{ data: { name: string; spanKind: string }[] | null }>(`/api/operations?${query.toString()}`);
    return (body.data ?? []).map((o) => ({ name: o.name, spanKind: o.spanKind }));
  }

  private get<T>(path: string): Promise<T> {
    return this.policy.execute(
      async (signal) => {
        const response = await fetch(`${this.baseUrl}${path}`, { signal });
        if (!response.ok) throw HttpStatusError.fromResponse(response);
        // Jaeger answers unknown paths with a 200 HTML placeholder page: anything but JSON is a fault.
        if (!response.headers.get('content-type')?.includes('application/json')) {
          throw heimdallError('UNAVAILABLE', {
            message: `Jaeger answered ${path} with no JSON; is ${this.baseUrl} a Jaeger query API?`,
            retryAfterSeconds: 30,
            service: 'jaeger',
          });
        }
        return (await response.json()) as T;
      },
      { idempotent: true },
    );
  }
}
