import { useEffect, useState } from 'preact/hooks';
import { onSignedOut } from './graphql.js';
import { followLink, navigate, useLocation } from './router.js';
import { type Session, clearSession, readSession } from './session.js';
import { toggleTheme } from './theme.js';
import { AlertsView } from './views/alerts.js';
import { LogsView } from './views/logs.js';
import { MetricsView } from './views/metrics.js';
import { ServicePage, ServicesView } from './views/services.js';
import { SignIn } from './views/sign-in.js';
import { TraceSearch, TraceView } from './views/traces.js';

const SECTIONS = [
  ['/logs', 'Logs'],
  ['/traces', 'Traces'],
  ['/services', 'Services'],
  ['/metrics', 'Metrics'],
  ['/alerts', 'Alerts'],
] as const;

function View({ url, session }: { url: URL; session: Session }) {
  const [, section, rest] = url.pathname.match(/^\/([a-z]*)\/?(.*)$/) ?? [];
  const name = decodeURIComponent(rest ?? '');
  switch (section) {
    case 'logs':
      return <LogsView url={url} />;
    case 'traces':
      return name === '' ? <TraceSearch url={url} /> : <TraceView traceId={name} url={url} />;
    case 'services':
      return name === '' ? <ServicesView url={url} /> : <ServicePage name={name} url={url} />;
    case 'metrics':
      return <MetricsView url={url} />;
    case 'alerts':
      return <AlertsView url={url} session={session} />;
    default:
      return (
        <section class="empty">
          <h1>Not found</h1>
          <p>
            Nothing lives at <code>{url.pathname}</code>. <a href="/logs">Go to the logs</a>.
          </p>
        </section>
      );
  }
}

export function App() {
  const url = useLocation();
  const [session, setSession] = useState<Session | null>(readSession);
  const [reason, setReason] = useState<string | null>(null);
  useEffect(
    () =>
      onSignedOut((why) => {
        setSession(null);
        setReason(why);
      }),
    [],
  );
  useEffect(() => {
    if (session !== null && (url.pathname === '/' || url.pathname === '/signin')) navigate('/logs', { replace: true });
  }, [session, url.pathname]);

  if (session === null) {
    return (
      <SignIn
        reason={reason}
        onSignedIn={(next) => {
          setReason(null);
          setSession(next);
        }}
      />
    );
  }
  const section = url.pathname.split('/')[1];
  return (
    <div class="shell" onClick={(event) => followLink(event)}>
      <header class="top">
        <a class="brand" href="/logs">
          Heimdall
        </a>
        <nav aria-label="Sections">
          {SECTIONS.map(([path, label]) => (
            <a href={path} aria-current={`/${section}` === path ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class="who" title={session.roles.join(', ')}>
          {session.subject} · {session.roles.join(', ') || 'no role'}
        </span>
        <button type="button" class="quiet" onClick={() => toggleTheme()} aria-label="Switch light and dark">
          ◐
        </button>
        <button
          type="button"
          class="quiet"
          onClick={() => {
            clearSession();
            setSession(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main>
        <View url={url} session={session} />
      </main>
    </div>
  );
}
