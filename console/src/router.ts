/**
 * Every view's state in its URL: the path names the view, the query string holds its inputs, so a link opens the
 * same view and back/forward walk through what was done. A few lines on the History API instead of a router
 * dependency.
 */
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set<() => void>();

function changed(): void {
  for (const listener of listeners) listener();
}

addEventListener('popstate', changed);

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = new URL(to, location.href);
  if (url.href === location.href) return;
  if (options.replace === true) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  changed();
}

/** Sets (or with null, removes) query parameters of the current view; by default a new history entry. */
export function setParams(
  updates: Readonly<Record<string, string | readonly string[] | null>>,
  options: { replace?: boolean } = {},
): void {
  const url = new URL(location.href);
  for (const [key, value] of Object.entries(updates)) {
    url.searchParams.delete(key);
    // A list is the parameter repeated (label=a%3D1&label=b%3D2): its values may hold any character.
    for (const item of typeof value === 'string' ? [value] : (value ?? []))
      if (item !== '') url.searchParams.append(key, item);
  }
  navigate(url.pathname + url.search, options);
}

export function useLocation(): URL {
  const [url, setUrl] = useState(() => new URL(location.href));
  useEffect(() => {
    const listener = () => setUrl(new URL(location.href));
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return url;
}

/** An in-app link: a plain anchor (opens in a new tab as usual) that navigates without reloading. */
export function followLink(event: MouseEvent): void {
  const anchor = (event.target as Element | null)?.closest('a');
  if (anchor === null || anchor === undefined || anchor.target === '_blank' || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const url = new URL(anchor.href);
  if (url.origin !== location.origin) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
}
