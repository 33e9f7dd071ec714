import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { transformFile } from '@swc/core';

const ROOT = join(__dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'test' || e.name === 'testing' ? [] : sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * The platform's processes compiled to CommonJS once (SWC, as the tests' own transform does: decorators with their
 * metadata, the @apprunner/* paths rewritten), into `outDir` inside the checkout so that node_modules resolves. A
 * suite that starts a process many times (kills and restarts) starts `node <outDir>/apps/<app>/src/main.js` in about
 * a second instead of transforming the sources on every start.
 */
export async function compilePlatform(outDir = join(ROOT, '.tmp', 'compiled-platform')): Promise<string> {
  rmSync(outDir, { recursive: true, force: true });
  const files = [...sources(join(ROOT, 'apps')), ...sources(join(ROOT, 'libs'))];
  const queue = [...files];
  const compileNext = async (): Promise<void> => {
    const file = queue.shift();
    if (!file) return;
    const out = await transformFile(file, {
      swcrc: false,
      configFile: false,
      sourceMaps: false,
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2023',
        keepClassNames: true,
        baseUrl: ROOT,
        paths: { '@apprunner/*': ['./libs/*/src'] },
      },
      module: { type: 'commonjs' },
    });
    const target = join(outDir, relative(ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out.code);
    return compileNext();
  };
  await Promise.all(Array.from({ length: 8 }, compileNext));
  cpSync(join(ROOT, 'libs/api-model/model'), join(outDir, 'libs/api-model/model'), { recursive: true });
  return outDir;
}
