/**
 * The trace several end-to-end tests push as OTLP/JSON: `GET /checkout` (the shop, SERVER) calls `charge` (the shop,
 * CLIENT), which calls `POST /pay` (payments, SERVER, in error: "card declined"), 40 ms from `t0` (Unix ms).
 */
export interface CheckoutTrace {
  readonly traceId: string;
  readonly spanIds: { readonly checkout: string; readonly charge: string; readonly pay: string };
  readonly t0: number;
  readonly shop: string;
  readonly payments: string;
}

export const nanos = (ms: number): string => String(BigInt(Math.round(ms)) * 1_000_000n);

export const serviceResource = (service: string) => ({
  attributes: [{ key: 'service.name', value: { stringValue: service } }],
});

export function checkoutTraceBody({ traceId, spanIds, t0, shop, payments }: CheckoutTrace) {
  const span = (
    spanId: string,
    parentSpanId: string,
    name: string,
    kind: number,
    from: number,
    to: number,
    error = false,
  ) => ({
    traceId,
    spanId,
    parentSpanId,
    name,
    kind,
    startTimeUnixNano: nanos(t0 + from),
    endTimeUnixNano: nanos(t0 + to),
    ...(error ? { status: { code: 2, message: 'card declined' } } : {}),
  });
  return {
    resourceSpans: [
      {
        resource: serviceResource(shop),
        scopeSpans: [
          {
            spans: [
              span(spanIds.checkout, '', 'GET /checkout', 2, 0, 40),
              span(spanIds.charge, spanIds.checkout, 'charge', 3, 5, 35),
            ],
          },
        ],
      },
      {
        resource: serviceResource(payments),
        scopeSpans: [{ spans: [span(spanIds.pay, spanIds.charge, 'POST /pay', 2, 8, 30, true)] }],
      },
    ],
  };
}
