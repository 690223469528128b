import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_DIR, localStack } from '../test-stacks.js';

const local = localStack(process.env);
const es = new Client({ node: local.endpoints.elasticsearchUrl });
const index = `test-nori-${randomUUID().slice(0, 8)}`;

interface IndexTemplate {
  template: { settings: Record<string, unknown>; mappings: Record<string, unknown> };
}

describe('Elasticsearch with the nori analysis plugin', () => {
  beforeAll(async () => {
    await local.require('elasticsearch');
    // The index definition Heimdall ships, so this proves the real template's analyzer and mappings.
    const template = JSON.parse(
      await readFile(join(REPO_DIR, 'elasticsearch', 'logs-index-template.json'), 'utf8'),
    ) as IndexTemplate;
    await es.indices.create({ index, settings: template.template.settings, mappings: template.template.mappings });
  });
  afterAll(async () => {
    await es.indices.delete({ index }, { ignore: [404] });
    await es.close();
  });

  it('splits Korean into nouns and drops particles and endings', async () => {
    const { tokens } = await es.indices.analyze({
      index,
      analyzer: 'korean_analyzer',
      text: '데이터베이스에서 연결이 실패했습니다 connection refused',
    });
    expect(tokens?.map((t) => t.token)).toEqual(['데이터', '베이스', '연결', '실패', 'connection', 'refused']);
  });

  it('finds log messages by the Korean words they contain', async () => {
    await es.bulk({
      index,
      refresh: true,
      operations: [
        { index: {} },
        { message: '데이터베이스에서 응답이 없습니다', service: 'checkout', level: 'ERROR' },
        { index: {} },
        { message: '결제 요청이 실패했습니다', service: 'payments', level: 'WARN' },
        { index: {} },
        { message: 'cache warmed up', service: 'checkout', level: 'INFO' },
      ],
    });
    const search = async (query: string) =>
      (await es.search<{ message: string }>({ index, query: { match: { message: query } } })).hits.hits.map(
        (hit) => hit._source?.message,
      );

    expect(await search('데이터베이스')).toEqual(['데이터베이스에서 응답이 없습니다']);
    expect(await search('실패')).toEqual(['결제 요청이 실패했습니다']);
    expect(await search('Cache')).toEqual(['cache warmed up']);
  });
});
