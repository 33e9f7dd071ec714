import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime } from '@aws-sdk/client-apprunner';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_RUNTIME_NAMES,
  DEFAULT_RUNTIME_IMAGES,
  RUNTIMES,
  RUNTIME_IDS,
  checkRuntimeVersion,
  parseRuntimeImageOverrides,
  runtimeImage,
  usesRevisedBuild,
} from './runtimes';

describe('runtime table', () => {
  it('has an entry for every value of the SDK Runtime enum, and nothing else', () => {
    expect([...RUNTIME_IDS].sort()).toEqual(Object.values(Runtime).sort());
    for (const id of RUNTIME_IDS) expect(RUNTIMES[id].runtime).toBe(id);
  });

  it("maps the guide's configuration-file names to the SDK enum", () => {
    expect(CONFIG_RUNTIME_NAMES).toEqual({
      python3: 'PYTHON_3',
      python311: 'PYTHON_311',
      nodejs12: 'NODEJS_12',
      nodejs14: 'NODEJS_14',
      nodejs16: 'NODEJS_16',
      nodejs18: 'NODEJS_18',
      nodejs22: 'NODEJS_22',
      corretto11: 'CORRETTO_11',
      corretto8: 'CORRETTO_8',
      dotnet6: 'DOTNET_6',
      php81: 'PHP_81',
      ruby31: 'RUBY_31',
      go1: 'GO_1',
    });
  });

  it('uses the revised build exactly for Python 3.11, Node.js 18 and Node.js 22 (guide L1478-1494)', () => {
    expect(RUNTIME_IDS.filter(usesRevisedBuild).sort()).toEqual(['NODEJS_18', 'NODEJS_22', 'PYTHON_311']);
  });

  it("records the guide's end-of-support dates; Corretto, Python 3.11 and Node.js 22 have none", () => {
    const eos = Object.fromEntries(
      RUNTIME_IDS.filter((id) => RUNTIMES[id].endOfSupport).map((id) => [id, RUNTIMES[id].endOfSupport!.date]),
    );
    expect(eos).toEqual({
      PYTHON_3: '2025-12-01',
      NODEJS_12: '2025-12-01',
      NODEJS_14: '2025-12-01',
      NODEJS_16: '2025-12-01',
      NODEJS_18: '2025-12-01',
      DOTNET_6: '2025-12-01',
      PHP_81: '2025-12-31',
      RUBY_31: '2025-12-01',
      GO_1: '2025-12-01',
    });
    // The asterisk runtimes get no new language versions; the others name the runtime to move to.
    expect(RUNTIME_IDS.filter((id) => RUNTIMES[id].endOfSupport?.noNewLanguageVersions).sort()).toEqual([
      'DOTNET_6',
      'GO_1',
      'PHP_81',
      'RUBY_31',
    ]);
    expect(RUNTIMES.PYTHON_3.endOfSupport?.moveTo).toBe('PYTHON_311');
    expect(RUNTIMES.NODEJS_16.endOfSupport?.moveTo).toBe('NODEJS_22');
  });

  it('defaults every runtime to the newest release the guide lists, with a pinned image', () => {
    for (const id of RUNTIME_IDS) {
      const info = RUNTIMES[id];
      expect(info.knownVersions[0], id).toBe(info.defaultVersion);
      expect(DEFAULT_RUNTIME_IMAGES[id]).toBe(info.defaultImage);
      // Every known version is on one of the runtime's lines and passes its own syntax.
      for (const v of info.knownVersions) expect(checkRuntimeVersion(id, v), `${id} ${v}`).toEqual({ ok: true, version: v });
    }
    expect(DEFAULT_RUNTIME_IMAGES.PYTHON_311).toBe('public.ecr.aws/docker/library/python:{version}');
    expect(RUNTIMES.DOTNET_6.sdkVersions?.['6.0.9']).toBe('6.0.401');
  });
});

describe('checkRuntimeVersion', () => {
  it.each([
    ['PYTHON_3', '3', '3.8.20'],
    ['PYTHON_3', '3.7', '3.7.16'],
    ['PYTHON_3', '3.7.7', '3.7.7'], // the guide's example: a full version is used as written
    ['PYTHON_311', '3', '3.11.14'],
    ['PYTHON_311', '3.11', '3.11.14'],
    ['NODEJS_22', '22', '22.21.1'],
    ['NODEJS_22', '22.14', '22.14.0'],
    ['NODEJS_22', '22.14.0', '22.14.0'],
    ['NODEJS_22', '22.19', '22.19'], // on the line but newer than the guide's snapshot
    ['CORRETTO_11', '11.0', '11.0.28.6.1'],
    ['CORRETTO_11', '11.0.13', '11.0.13.08.1'],
    ['CORRETTO_11', '11.0.13.08.1', '11.0.13.08.1'],
    ['CORRETTO_8', '8.312.07.1', '8.312.07.1'],
    ['CORRETTO_8', '8', '8.472.08.1'],
    ['DOTNET_6', '6', '6.0.36'],
    ['PHP_81', '8.1.10', '8.1.10'],
    ['RUBY_31', '3.1', '3.1.7'],
    ['GO_1', '1', '1.18.10'],
    ['GO_1', '1.18.7', '1.18.7'],
  ] as const)('%s %s resolves to %s', (runtime, requested, version) => {
    expect(checkRuntimeVersion(runtime, requested)).toEqual({ ok: true, version });
  });

  it.each([
    ['PYTHON_3', '3.9', /outside python3 .*3\.7 or 3\.8/],
    ['PYTHON_3', '3.11', /outside python3/],
    ['PYTHON_311', '3.12', /outside python311/],
    ['NODEJS_22', '18', /outside nodejs22/],
    ['GO_1', '1.21', /outside go1/],
    ['CORRETTO_11', '11', /1 component\(s\); corretto11 expects 2 to 5/],
    ['CORRETTO_8', '11.0', /outside corretto8/],
    ['NODEJS_22', '22.14.0.1', /4 component\(s\); nodejs22 expects 1 to 3/],
    ['NODEJS_22', 'latest', /is not a version: nodejs22 expects major\[\.minor\[\.patch\]\]/],
    ['PYTHON_311', '3.x', /is not a version/],
    ['PYTHON_311', '', /is not a version/],
  ] as const)('%s %s is refused', (runtime, requested, message) => {
    const result = checkRuntimeVersion(runtime, requested);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(message);
  });
});

describe('parseRuntimeImageOverrides', () => {
  it('reads a JSON object of runtime → image, keeping placeholders', () => {
    expect(
      parseRuntimeImageOverrides('{"PYTHON_311": "registry.example.com/python:{version}-slim", "DOTNET_6": "mcr.example.com/sdk:{sdk}"}'),
    ).toEqual({ PYTHON_311: 'registry.example.com/python:{version}-slim', DOTNET_6: 'mcr.example.com/sdk:{sdk}' });
    expect(parseRuntimeImageOverrides('{}')).toEqual({});
  });

  it('names an unknown runtime key, with a hint for configuration-file names', () => {
    expect(() => parseRuntimeImageOverrides('{"PYTHON_39": "x"}')).toThrow(
      /unknown runtime "PYTHON_39"\. Valid runtimes: PYTHON_3, PYTHON_311, .*GO_1\./,
    );
    expect(() => parseRuntimeImageOverrides('{"python311": "x"}')).toThrow(/"python311" \(did you mean PYTHON_311\?\)/);
  });

  it('refuses non-string, empty and whitespace values, and unknown placeholders', () => {
    expect(() => parseRuntimeImageOverrides('{"GO_1": 3}')).toThrow(
      'BUILD_RUNTIME_IMAGES.GO_1 must be a non-empty string (an image reference), got 3.',
    );
    expect(() => parseRuntimeImageOverrides('{"GO_1": null}')).toThrow(/GO_1 must be a non-empty string.*got null/);
    expect(() => parseRuntimeImageOverrides('{"GO_1": ""}')).toThrow(/GO_1 must be a non-empty string/);
    expect(() => parseRuntimeImageOverrides('{"GO_1": "golang 1.18"}')).toThrow(/contains whitespace/);
    expect(() => parseRuntimeImageOverrides('{"GO_1": "golang:{tag}"}')).toThrow(/unknown placeholder \{tag\}.*use \{version\}\)/);
    expect(() => parseRuntimeImageOverrides('{"GO_1": "golang:{sdk}"}')).toThrow(/unknown placeholder \{sdk\}/);
  });

  it('refuses text that is not a JSON object', () => {
    expect(() => parseRuntimeImageOverrides('PYTHON_311=python')).toThrow(/BUILD_RUNTIME_IMAGES is not valid JSON/);
    expect(() => parseRuntimeImageOverrides('["PYTHON_311"]')).toThrow(/must be a JSON object/);
    expect(() => parseRuntimeImageOverrides('null')).toThrow(/must be a JSON object/);
  });
});

describe('runtimeImage', () => {
  it('uses the default image at the default version, or at the resolved runtime-version lock', () => {
    expect(runtimeImage('PYTHON_311', undefined, {})).toEqual({
      image: 'public.ecr.aws/docker/library/python:3.11.14',
      version: '3.11.14',
    });
    expect(runtimeImage('PYTHON_311', '3.11.7', {})).toEqual({ image: 'public.ecr.aws/docker/library/python:3.11.7', version: '3.11.7' });
    expect(runtimeImage('NODEJS_22', '22.14', {})).toEqual({ image: 'public.ecr.aws/docker/library/node:22.14.0', version: '22.14.0' });
    expect(runtimeImage('CORRETTO_11', undefined, {})).toEqual({
      image: 'public.ecr.aws/docker/library/maven:3.9.11-amazoncorretto-11',
      version: '11.0.28.6.1',
    });
  });

  it('follows an admin override, substituting {version}', () => {
    const overrides = { PYTHON_311: 'registry.example.com/python:{version}-slim' };
    expect(runtimeImage('PYTHON_311', '3.11', overrides)).toEqual({
      image: 'registry.example.com/python:3.11.14-slim',
      version: '3.11.14',
    });
    expect(runtimeImage('PYTHON_311', undefined, overrides)).toEqual({
      image: 'registry.example.com/python:3.11.14-slim',
      version: '3.11.14',
    });
  });

  it('warns when a lock cannot choose the image (no placeholder), but still builds', () => {
    const result = runtimeImage('CORRETTO_11', '11.0.13.08.1', {});
    expect(result).toMatchObject({ image: 'public.ecr.aws/docker/library/maven:3.9.11-amazoncorretto-11', version: '11.0.13.08.1' });
    expect('warning' in result && result.warning).toMatch(
      /runtime-version 11\.0\.13\.08\.1 is accepted, but .* has no \{version\} placeholder/,
    );
    expect(runtimeImage('NODEJS_22', undefined, { NODEJS_22: 'node:22-fixed' })).toEqual({ image: 'node:22-fixed', version: '22.21.1' });
  });

  it('names the valid runtimes for an unknown one', () => {
    expect(runtimeImage('PYTHON_39', undefined, {})).toEqual({
      error:
        'Unknown runtime "PYTHON_39". Valid runtimes: PYTHON_3, PYTHON_311, NODEJS_12, NODEJS_14, NODEJS_16, NODEJS_18, NODEJS_22, CORRETTO_11, CORRETTO_8, DOTNET_6, PHP_81, RUBY_31, GO_1.',
    });
  });

  it("refuses an end-of-support runtime with the guide's advice on where to move", () => {
    const node = runtimeImage('NODEJS_16', undefined, {});
    expect('error' in node && node.error).toBe(
      'Runtime NODEJS_16 (nodejs16, Node.js 16) reached end of support on 2025-12-01 and is no longer supported for new builds. ' +
        'Move to NODEJS_22 (runtime: nodejs22 in apprunner.yaml). Node.js 22 uses the revised App Runner build: only /app reaches the run image, ' +
        'so move anything your build installs elsewhere into pre-run (L1447, L1538-1577).',
    );
    const python = runtimeImage('PYTHON_3', '3.8', {});
    expect('error' in python && python.error).toMatch(/PYTHON_3 .* Move to PYTHON_311 \(runtime: python311/);
    // Node.js 18 already uses the revised build: no build-process warning when moving to 22.
    const node18 = runtimeImage('NODEJS_18', undefined, {});
    expect('error' in node18 && node18.error).toMatch(/Move to NODEJS_22 \(runtime: nodejs22 in apprunner.yaml\)\.$/);
    const php = runtimeImage('PHP_81', undefined, {});
    expect('error' in php && php.error).toMatch(
      /PHP_81 .*end of support on 2025-12-31 .*switch to another supported managed runtime, or build your own container image/,
    );
  });

  it('builds an end-of-support runtime when the admin configured an image for it', () => {
    expect(runtimeImage('NODEJS_16', '16.20', { NODEJS_16: 'registry.example.com/node:{version}' })).toEqual({
      image: 'registry.example.com/node:16.20.2',
      version: '16.20.2',
    });
  });

  it('maps .NET runtime versions to SDK image tags through {sdk}', () => {
    const overrides = { DOTNET_6: 'mcr.microsoft.com/dotnet/sdk:{sdk}' };
    expect(runtimeImage('DOTNET_6', '6.0.9', overrides)).toEqual({ image: 'mcr.microsoft.com/dotnet/sdk:6.0.401', version: '6.0.9' });
    expect(runtimeImage('DOTNET_6', undefined, overrides)).toEqual({ image: 'mcr.microsoft.com/dotnet/sdk:6.0.428', version: '6.0.36' });
    const unknown = runtimeImage('DOTNET_6', '6.0.7', overrides);
    expect('error' in unknown && unknown.error).toMatch(/No \.NET SDK is known for runtime version 6\.0\.7/);
  });

  it('reports a bad lock before anything else about the image', () => {
    expect(runtimeImage('PYTHON_311', '3.12', {})).toEqual({
      error: expect.stringMatching(/runtime-version "3\.12" is outside python311/),
    });
  });
});

describe('docs/runtimes.md', () => {
  const DOC = join(__dirname, '../../../docs/runtimes.md');

  it("lists every runtime with the table's config name, build process, default image, version and status", () => {
    const rows = new Map(
      readFileSync(DOC, 'utf8')
        .split('\n')
        .filter((l) => /^\| `[A-Z0-9_]+` \|/.test(l))
        .map((l) =>
          l
            .split('|')
            .slice(1, -1)
            .map((c) => c.trim()),
        )
        .map((cells) => [cells[0].replace(/`/g, ''), cells] as const),
    );
    expect([...rows.keys()].sort()).toEqual([...RUNTIME_IDS].sort());
    for (const id of RUNTIME_IDS) {
      const info = RUNTIMES[id];
      const [, configName, build, image, version, status] = rows.get(id)!;
      expect(configName, id).toBe(`\`${info.configName}\``);
      expect(build, id).toBe(info.build);
      expect(image, id).toBe(`\`${info.defaultImage}\``);
      expect(version.startsWith(info.defaultVersion), id).toBe(true);
      if (info.endOfSupport) expect(status, id).toContain(`end of support ${info.endOfSupport.date}`);
      else expect(status, id).toMatch(/^supported/);
    }
  });
});
