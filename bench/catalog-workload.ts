// A generated catalog workload on disk: books of text pages (each book a chain), prompt, schema, config.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomInteger, seededRandom } from '../src/emulator/seeded-random.js';
import { CATALOG_PAGE_SCHEMA, catalogConfigYaml } from '../test/fixtures/catalog-workload.js';

export interface CatalogWorkloadSize {
  books: number;
  pages: number;
  /** `execution:` keys of wavebatch.yaml, written verbatim. */
  execution: Record<string, number | string>;
  seed: number;
}

const SUBJECTS = ['Latin', 'Greek', 'Mathematics', 'History', 'Philosophy', 'Chemistry', 'Rhetoric'];

/** Writes the workload under `root` (seeded: same pages every run) and returns its config path. */
export async function writeCatalogWorkload(root: string, size: CatalogWorkloadSize): Promise<string> {
  const random = seededRandom(size.seed, 'bench');
  for (let book = 1; book <= size.books; book++) {
    const folder = join(root, 'dataset', 'ST', `school${book}`, '1900');
    await mkdir(folder, { recursive: true });
    for (let page = 1; page <= size.pages; page++) {
      const courses = Array.from({ length: randomInteger(random, 3, 8) }, () => {
        const subject = SUBJECTS[randomInteger(random, 0, SUBJECTS.length - 1)] as string;
        return `${subject} ${randomInteger(random, 100, 499)}: ${subject.toLowerCase()} readings, ${randomInteger(random, 1, 4)} hours a week.`;
      });
      await writeFile(
        join(folder, `page_${String(page).padStart(3, '0')}.txt`),
        `School ${book}, page ${page}.\n${courses.join('\n')}\n`,
      );
    }
  }
  await mkdir(join(root, 'prompts', 'page'), { recursive: true });
  await writeFile(
    join(root, 'prompts', 'page', 'v1.jinja'),
    'List the courses on page {{ record.page }} of {{ record.school }} ({{ record.year }}).\n{% if context %}The previous page ended with: {{ context }}{% endif %}\n',
  );
  await writeFile(join(root, 'schema.json'), JSON.stringify(CATALOG_PAGE_SCHEMA));
  const yaml = catalogConfigYaml('bench', size.execution);
  const configPath = join(root, 'wavebatch.yaml');
  await writeFile(configPath, `${yaml.join('\n')}\n`);
  return configPath;
}
