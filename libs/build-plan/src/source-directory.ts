import { APPRUNNER_YAML } from './apprunner-yaml';

export type SourceDirectoryResult = { ok: true; path: string } | { ok: false; error: string };

/**
 * `CodeRepository.SourceDirectory` ("absolute from the repository root", default the root; L1405) as a
 * relative path inside the checkout: `.` for the root, `services/api` for `/services/api/`. Refuses `..`
 * so a service can never build from outside its repository.
 */
export function normalizeSourceDirectory(sourceDirectory: string | undefined): SourceDirectoryResult {
  const raw = sourceDirectory ?? '';
  if (/[\0\r\n\\]/.test(raw)) return { ok: false, error: `SourceDirectory "${raw}" contains a character a repository path cannot have.` };
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return { ok: false, error: `SourceDirectory "${raw}" must stay inside the repository (no ".." segments).` };
  return { ok: true, path: segments.length === 0 ? '.' : segments.join('/') };
}

/** Where apprunner.yaml lives inside the checkout (relative path), for a normalized source directory. */
export function configFilePath(normalizedSourceDirectory: string): string {
  return normalizedSourceDirectory === '.' ? APPRUNNER_YAML : `${normalizedSourceDirectory}/${APPRUNNER_YAML}`;
}
