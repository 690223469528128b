import { useEffect, useState } from 'preact/hooks';
import type { Operation } from './generated/operations.js';
import { graphql } from './graphql.js';

export interface QueryState<T> {
  readonly data: T | undefined;
  readonly error: Error | undefined;
  readonly loading: boolean;
}

/** Runs a query whenever its variables (or `refresh`) change, the previous one aborted; `skip` holds it back. */
export function useQuery<T, V>(
  query: Operation<T, V>,
  variables: V,
  options: { skip?: boolean; refresh?: number } = {},
): QueryState<T> {
  const key = JSON.stringify(variables);
  const [state, setState] = useState<QueryState<T>>({
    data: undefined,
    error: undefined,
    loading: options.skip !== true,
  });
  useEffect(() => {
    if (options.skip === true) return;
    const controller = new AbortController();
    setState((previous) => ({ ...previous, loading: true }));
    graphql(query, variables, controller.signal).then(
      (data) => setState({ data, error: undefined, loading: false }),
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setState({ data: undefined, error: error instanceof Error ? error : new Error(String(error)), loading: false });
      },
    );
    return () => controller.abort();
    // The key stands for the variables: a new object with the same content is the same query.
  }, [query, key, options.skip, options.refresh]);
  return state;
}
