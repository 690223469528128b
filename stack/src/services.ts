import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A Heimdall service: a workspace under gateway/ or subgraphs/ with an entry point `src/main.ts`. */
export interface Service {
  readonly name: string;
  readonly dir: string;
}

export async function findServices(repoDir: string): Promise<{ subgraphs: Service[]; gateways: Service[] }> {
  const root = JSON.parse(await readFile(join(repoDir, 'package.json'), 'utf8')) as { workspaces: string[] };
  const found = { subgraphs: [] as Service[], gateways: [] as Service[] };
  for (const workspace of root.workspaces) {
    const dir = join(repoDir, workspace);
    if (!existsSync(join(dir, 'src', 'main.ts'))) continue;
    const { name } = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name: string };
    if (workspace.startsWith('subgraphs/')) found.subgraphs.push({ name, dir });
    else if (workspace === 'gateway') found.gateways.push({ name, dir });
  }
  return found;
}
