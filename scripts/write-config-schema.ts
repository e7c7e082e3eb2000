// Regenerates schema/wavebatch.schema.json from the zod config schema: `npm run schema`.
// test/config/json-schema.test.ts fails when the committed file is not what this writes.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIG_JSON_SCHEMA_PATH, configJsonSchema } from '../src/config/json-schema.js';

const target = fileURLToPath(new URL(`../${CONFIG_JSON_SCHEMA_PATH}`, import.meta.url));
writeFileSync(target, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${CONFIG_JSON_SCHEMA_PATH}\n`);
