import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';

/** Index definitions shipped in `elasticsearch/` (SPEC §5). */
export const TEMPLATE_FILE = join(import.meta.dirname, '..', '..', '..', 'elasticsearch', 'logs-index-template.json');
export const WRITE_ALIAS = 'logs';
const TEMPLATE_NAME = 'heimdall-logs';
const FIRST_INDEX = 'logs-000001';

/**
 * Installs the index template and, on a new cluster, the first index behind the `logs` write alias.
 * Safe to run at every start and from several instances at once.
 */
export async function ensureLogIndices(es: Client): Promise<void> {
  const template = JSON.parse(await readFile(TEMPLATE_FILE, 'utf8')) as Parameters<Client['indices']['putIndexTemplate']>[0];
  await es.indices.putIndexTemplate({ ...template, name: TEMPLATE_NAME });
  if (await es.indices.existsAlias({ name: WRITE_ALIAS })) return;
  try {
    await es.indices.create({ index: FIRST_INDEX, aliases: { [WRITE_ALIAS]: { is_write_index: true } } });
  } catch (error) {
    // Another instance created it between our check and the create.
    if (!(await es.indices.existsAlias({ name: WRITE_ALIAS }))) throw error;
  }
}
