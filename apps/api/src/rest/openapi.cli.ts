import { writeFileSync } from 'node:fs';
import { OPENAPI_PATH } from '../docs.controller';
import { buildOpenApi } from './openapi';

// Regenerates the checked-in OpenAPI document (npm run openapi).
writeFileSync(OPENAPI_PATH, JSON.stringify(buildOpenApi(), null, 2) + '\n');
console.log(`wrote ${OPENAPI_PATH}`);
