import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

/** Golden files: compares `actual` with `<dir>/<file>`; with UPDATE_GOLDEN=1 rewrites the file instead. */
export function expectGolden(dir: string, file: string, actual: string): void {
  const path = join(dir, file);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) throw new Error(`Missing golden file ${path}; run with UPDATE_GOLDEN=1 to create it.`);
  expect(actual, `output differs from ${path} (UPDATE_GOLDEN=1 to accept)`).toBe(readFileSync(path, 'utf8'));
}
