/** Light and dark: the system's preference until the user picks one, kept in localStorage. */
export type Theme = 'light' | 'dark';

export function storedTheme(): Theme {
  const stored = localStorage.getItem('heimdall.theme');
  if (stored === 'light' || stored === 'dark') return stored;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
}

export function toggleTheme(): Theme {
  const next: Theme = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem('heimdall.theme', next);
  applyTheme(next);
  return next;
}
