export interface Edge {
  readonly parent: string;
  readonly child: string;
  readonly callCount: number;
  readonly errorCount: number;
}

/** Columns by depth from the callers no one calls (a cycle's members stay where they were first reached). */
export function layoutServices(edges: readonly Edge[]): Map<string, { column: number; row: number }> {
  const names = [...new Set(edges.flatMap((e) => [e.parent, e.child]))].sort();
  const callers = new Map<string, string[]>();
  for (const name of names) callers.set(name, []);
  for (const e of edges) if (e.parent !== e.child) callers.get(e.child)!.push(e.parent);
  const column = new Map<string, number>();
  const depth = (name: string, seen: Set<string>): number => {
    const known = column.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) return 0;
    seen.add(name);
    const value = Math.max(-1, ...callers.get(name)!.map((c) => depth(c, seen))) + 1;
    column.set(name, value);
    return value;
  };
  for (const name of names) depth(name, new Set());
  const rows = new Map<number, number>();
  const placed = new Map<string, { column: number; row: number }>();
  for (const name of names) {
    const c = column.get(name)!;
    const r = rows.get(c) ?? 0;
    rows.set(c, r + 1);
    placed.set(name, { column: c, row: r });
  }
  return placed;
}
