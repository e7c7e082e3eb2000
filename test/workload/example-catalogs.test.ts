import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { openSource } from '../../src/workload/index.js';
import { collect } from './source-config.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/catalogs/wavebatch.yaml', import.meta.url));

describe('the bundled examples/catalogs workload', () => {
  it('loads and yields the pages of 4 books, cornell/1899 filtered out by year', async () => {
    const config = await loadConfig(EXAMPLE, {});
    expect(config.execution.poll_interval).toBe(30_000);
    expect(config.model.response_schema).toMatchObject({
      type: 'object',
      required: ['courses', 'carry_over'],
    });
    const records = await collect(openSource(config));
    const chains = [...new Set(records.map((record) => record.chainId))];
    expect(chains).toEqual(['CT/yale/1920', 'MA/harvard/1901', 'MA/mit/1905', 'NY/columbia/1910']);
    expect(records).toHaveLength(3 + 4 + 3 + 5);
    expect(records.some((record) => record.id.startsWith('NY/cornell'))).toBe(false);
    const harvard = records.filter((record) => record.chainId === 'MA/harvard/1901');
    expect(harvard.map((record) => record.position)).toEqual([1, 2, 3, 4]);
    expect(harvard[1]).toMatchObject({
      id: 'MA/harvard/1901/page_002',
      vars: { state: 'MA', school: 'harvard', year: '1901', page: 2 },
    });
  });
});
